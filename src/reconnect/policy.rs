//! Which endings are worth another connection (`--reconnect`), and the reason the attempt line
//! gives. The exit code of an ending is decided elsewhere (`session::ending`, `error`); this only
//! says whether to try again.

use crate::error::{exit, Error};
use crate::event::Closer;
use crate::session::Ended;

/// Close codes from a server that mean "come back later": going away, restart, overload, an
/// internal error (1006 never comes in a frame; a dropped connection is handled apart).
pub const AGAIN_CODES: [u16; 5] = [1001, 1006, 1011, 1012, 1013];

/// HTTP statuses of a refused upgrade that a later attempt may not meet: too many requests, and
/// the gateway or server errors of a service that is restarting.
const AGAIN_STATUSES: [u16; 5] = [429, 500, 502, 503, 504];

/// How one attempt went.
#[derive(Debug)]
pub enum Outcome {
    /// The connection did not open: why, and the upgrade's HTTP status if one came.
    NotOpened(Error, Option<u16>),
    /// It opened, and its session ended.
    Ended(Ended),
}

impl Outcome {
    /// The exit status this attempt gives when it is the last one.
    pub fn into_result(self) -> crate::error::Result<()> {
        match self {
            Outcome::NotOpened(e, _) => Err(e),
            Outcome::Ended(e) => e.result,
        }
    }
}

/// Why to try again, as the attempt line says it; None: this ending is final.
pub fn again(outcome: &Outcome) -> Option<String> {
    match outcome {
        Outcome::NotOpened(e, status) => {
            let retry = e.exit_code() == exit::CONNECT
                || status.is_some_and(|s| AGAIN_STATUSES.contains(&s));
            retry.then(|| e.to_string())
        }
        Outcome::Ended(ended) => ended_again(ended),
    }
}

fn ended_again(ended: &Ended) -> Option<String> {
    let ending = ended.ending.as_ref()?;
    if ended.local {
        return None;
    }
    if ended.dead_peer {
        return Some("the server stopped answering pings (--ping-timeout)".into());
    }
    match (ending.closer, ending.code) {
        (Closer::Peer, Some(code)) if AGAIN_CODES.contains(&code) => {
            let mut why = format!(
                "the server closed with {code} ({})",
                crate::wire::close::name(code)
            );
            if !ending.reason.is_empty() {
                why.push_str(&format!(": {}", ending.reason));
            }
            Some(why)
        }
        (Closer::Nobody, _) => Some(match &ended.result {
            Err(e) => e.to_string(),
            Ok(()) => "the connection was lost".into(),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Ending;

    fn ended(closer: Closer, code: Option<u16>, local: bool, dead_peer: bool) -> Outcome {
        Outcome::Ended(Ended {
            result: Ok(()),
            ending: Some(Ending {
                closer,
                code,
                reason: String::new(),
                clean: closer != Closer::Nobody,
            }),
            received: 0,
            dead_peer,
            local,
        })
    }

    #[test]
    fn the_servers_restart_codes_and_a_lost_connection_try_again() {
        for code in AGAIN_CODES {
            let why = again(&ended(Closer::Peer, Some(code), false, false)).unwrap();
            assert!(why.contains(&code.to_string()), "{why}");
        }
        assert!(again(&ended(Closer::Nobody, None, false, false)).is_some());
        assert!(again(&ended(Closer::Us, Some(1001), false, true))
            .unwrap()
            .contains("--ping-timeout"));
    }

    #[test]
    fn our_close_a_normal_close_a_local_failure_and_other_codes_are_final() {
        assert!(again(&ended(Closer::Us, Some(1000), false, false)).is_none());
        assert!(again(&ended(Closer::Peer, Some(1000), false, false)).is_none());
        assert!(again(&ended(Closer::Peer, Some(1008), false, false)).is_none());
        assert!(again(&ended(Closer::Peer, None, false, false)).is_none());
        assert!(again(&ended(Closer::Nobody, None, true, false)).is_none());
    }

    #[test]
    fn connect_failures_and_unavailable_services_try_again_refusals_do_not() {
        let refused = Error::Connect {
            addr: "127.0.0.1:9".into(),
            source: std::io::ErrorKind::ConnectionRefused.into(),
        };
        assert!(again(&Outcome::NotOpened(refused, None))
            .unwrap()
            .contains("127.0.0.1:9"));
        let rejected = || Error::Handshake {
            message: "the server answered 503".into(),
            hint: None,
        };
        assert!(again(&Outcome::NotOpened(rejected(), Some(503))).is_some());
        assert!(again(&Outcome::NotOpened(rejected(), Some(403))).is_none());
        assert!(again(&Outcome::NotOpened(rejected(), None)).is_none());
        let tls = Error::Tls {
            host: "x".into(),
            message: "bad certificate".into(),
            hint: None,
        };
        assert!(again(&Outcome::NotOpened(tls, None)).is_none());
    }
}
