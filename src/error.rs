//! The one error type of wscope. Every variant says what failed in words a user can act on, maps to
//! the exit code of the spec, and where a flag would fix the problem, its hint names that flag.
//! Nothing else in the crate decides exit codes.

use std::io;
use std::time::Duration;

/// Exit codes of SPEC.md "Exit codes", kept in one place.
pub mod exit {
    pub const OK: u8 = 0;
    pub const RUNTIME: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const CONNECT: u8 = 3;
    pub const TLS: u8 = 4;
    pub const HANDSHAKE: u8 = 5;
    pub const PROTOCOL: u8 = 6;
    pub const EXPECTATION: u8 = 7;

    /// What each code means, for the man page's EXIT STATUS (SPEC.md's wording).
    pub const MEANINGS: &[(u8, &str)] = &[
        (OK, "clean close: a close handshake we started (whatever its code), or the server's 1000/1001; also a closed stdout pipe"),
        (RUNTIME, "another runtime error"),
        (USAGE, "usage error: a bad option, URL, header or -x command (nothing was sent)"),
        (CONNECT, "DNS or TCP connect failure, proxy failure, or a connect timeout"),
        (TLS, "TLS failure"),
        (HANDSHAKE, "handshake rejected: a status other than 101, or a failed check"),
        (PROTOCOL, "protocol error, abnormal close (1006), a server close code other than 1000/1001, or a ping timeout"),
        (EXPECTATION, "an expectation failed: --once/--count not reached, an /expect, or a probe check"),
        (130, "stopped by Ctrl-C (SIGINT) before a clean close completed"),
        (143, "stopped by SIGTERM before a clean close completed"),
    ];
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line is wrong; `hint` names the fix.
    #[error("{message}")]
    Usage {
        message: String,
        hint: Option<String>,
    },

    #[error("cannot resolve host '{host}': {source}")]
    Dns { host: String, source: io::Error },

    #[error("cannot connect to {addr}: {source}")]
    Connect { addr: String, source: io::Error },

    #[error("{what} timed out after {}", secs(*.after))]
    Timeout { what: &'static str, after: Duration },

    /// The proxy hop failed (dial/proxy says what and how to fix it).
    #[error("{message}")]
    Proxy {
        message: String,
        hint: Option<String>,
    },

    #[error("TLS handshake with {host} failed: {message}")]
    Tls {
        host: String,
        message: String,
        hint: Option<String>,
    },

    /// The upgrade was refused or a check failed; the report has already been shown.
    #[error("{message}")]
    Handshake {
        message: String,
        hint: Option<String>,
    },

    /// The peer broke RFC 6455, closed abnormally, or stopped answering pings.
    #[error("{message}")]
    Protocol {
        message: String,
        hint: Option<String>,
    },

    /// What the user said to expect did not happen (`--once`/`--count` not reached, a failed
    /// `/expect`, a failed probe check).
    #[error("{message}")]
    Expectation {
        message: String,
        hint: Option<String>,
    },

    #[error("{context}: {source}")]
    Io { context: String, source: io::Error },

    #[error("{0}")]
    Runtime(String),

    /// Ctrl-C or SIGTERM stopped the run before a clean close completed: exit 128 + the signal.
    #[error("{message}")]
    Stopped { message: String, code: u8 },
}

impl Error {
    pub fn usage(message: impl Into<String>) -> Error {
        Error::Usage {
            message: message.into(),
            hint: None,
        }
    }

    pub fn usage_hint(message: impl Into<String>, hint: impl Into<String>) -> Error {
        Error::Usage {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    pub fn protocol(message: impl Into<String>) -> Error {
        Error::Protocol {
            message: message.into(),
            hint: None,
        }
    }

    pub fn io(context: impl Into<String>, source: io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage { .. } => exit::USAGE,
            Error::Dns { .. }
            | Error::Connect { .. }
            | Error::Timeout { .. }
            | Error::Proxy { .. } => exit::CONNECT,
            Error::Tls { .. } => exit::TLS,
            Error::Handshake { .. } => exit::HANDSHAKE,
            Error::Protocol { .. } => exit::PROTOCOL,
            Error::Expectation { .. } => exit::EXPECTATION,
            Error::Io { .. } | Error::Runtime(_) => exit::RUNTIME,
            Error::Stopped { code, .. } => *code,
        }
    }

    /// What the user can do about it, when there is something to do.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Usage { hint, .. }
            | Error::Tls { hint, .. }
            | Error::Handshake { hint, .. }
            | Error::Protocol { hint, .. }
            | Error::Expectation { hint, .. } => hint.clone(),
            Error::Dns { .. } => Some("check the host name in the URL".into()),
            Error::Connect { source, .. } if source.kind() == io::ErrorKind::ConnectionRefused => {
                Some(
                    "is the server running on that port? (`wscope listen PORT --echo` starts one)"
                        .into(),
                )
            }
            Error::Timeout { .. } => Some("raise the limit with --connect-timeout SECS".into()),
            Error::Proxy { hint, .. } => hint.clone(),
            _ => None,
        }
    }
}

/// "1.5 s", "10 s", "250 ms": durations as a person reads them.
pub fn secs(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_spec() {
        assert_eq!(Error::usage("x").exit_code(), 2);
        let timeout = Error::Timeout {
            what: "connecting",
            after: Duration::from_secs(10),
        };
        assert_eq!(timeout.exit_code(), 3);
        assert_eq!(timeout.to_string(), "connecting timed out after 10 s");
        assert!(timeout.hint().unwrap().contains("--connect-timeout"));
        assert_eq!(Error::protocol("x").exit_code(), 6);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(secs(Duration::from_millis(250)), "250 ms");
        assert_eq!(secs(Duration::from_millis(1500)), "1.5 s");
    }
}
