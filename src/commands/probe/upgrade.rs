//! The checks that are a handshake and nothing more: which Origins the server lets in (the
//! cross-site WebSocket hijacking question), how it answers an old protocol version, whether it
//! selects a subprotocol nobody offered, how it negotiates permessage-deflate, and what its TLS
//! certificate says.

use super::Probe;
use crate::handshake::checks::Outcome as HandshakeOutcome;
use crate::handshake::Report;
use crate::printer::escape::escape;
use crate::probe_checks::{CheckId, Outcome, Status};

/// An Origin that no page of any real server sends: `.invalid` can never resolve (RFC 6761).
pub const FOREIGN_ORIGIN: &str = "https://probe.wscope.invalid";

/// What an Origin allow-list looks like, said in every origin-* warning.
const FIX: &str =
    "fix: check Origin against an allow-list of your own pages' origins and refuse the rest with 403";

pub async fn origin(p: &Probe, id: CheckId) -> Outcome {
    let mut conn = p.conn.clone();
    // A -H Origin would be sent on top of ours.
    conn.headers.remove("Origin");
    conn.origin = match id {
        CheckId::OriginForeign => Some(FOREIGN_ORIGIN.to_string()),
        CheckId::OriginNull => Some("null".to_string()),
        _ => None,
    };
    let (report, error) = p.handshake(id, &conn).await;
    let status = report.response.as_ref().map(|r| r.status);
    match (id, error.is_none(), status) {
        (_, _, None) => unreachable_server(id, error),
        (CheckId::OriginForeign, true, _) => Outcome::new(
            id,
            Status::Warn,
            format!(
                "accepted Origin {FOREIGN_ORIGIN}: any web page can open this WebSocket with its \
                 visitors' cookies (cross-site WebSocket hijacking); {FIX}"
            ),
        ),
        (CheckId::OriginNull, true, _) => Outcome::new(
            id,
            Status::Warn,
            format!(
                "accepted Origin null, which sandboxed iframes and file: pages send: any such page \
                 can open this WebSocket with its visitors' cookies; {FIX} (null is not one)"
            ),
        ),
        (_, true, _) => Outcome::new(
            id,
            Status::Pass,
            "accepted without Origin: browsers always send one, so this is no hijacking risk",
        ),
        (CheckId::OriginMissing, false, Some(s)) => Outcome::new(
            id,
            Status::Pass,
            format!("refused without Origin ({s}): non-browser clients must send one (-o)"),
        ),
        (_, false, Some(s)) => Outcome::new(id, Status::Pass, format!("refused with {s}")),
    }
}

pub async fn version(p: &Probe) -> Outcome {
    let id = CheckId::Version;
    let mut conn = p.conn.clone();
    conn.protocol_version = 8;
    let (report, error) = p.handshake(id, &conn).await;
    let Some(resp) = report.response.as_ref() else {
        return unreachable_server(id, error);
    };
    let accepted = error.is_none();
    if accepted {
        return Outcome::new(
            id,
            Status::Warn,
            "accepted version 8 (the hybi-08 draft); RFC 6455 §4.4 wants 426 + Sec-WebSocket-Version: 13",
        );
    }
    let versions = resp
        .headers
        .get("Sec-WebSocket-Version")
        .map(str::to_string);
    let names_13 = versions
        .as_deref()
        .is_some_and(|v| crate::http::list(v).any(|x| x == "13"));
    let s = resp.status;
    match (s, names_13) {
        (426, true) => Outcome::new(id, Status::Pass, "refused with 426, Sec-WebSocket-Version: 13"),
        (_, true) => Outcome::new(
            id,
            Status::Pass,
            format!("refused with {s} and Sec-WebSocket-Version: {} (426 is the usual status)", escape(versions.as_deref().unwrap_or(""))),
        ),
        _ => Outcome::new(
            id,
            Status::Warn,
            format!(
                "refused with {s} but without a Sec-WebSocket-Version header naming 13: a client cannot learn what to speak (RFC 6455 §4.4)"
            ),
        ),
    }
}

pub async fn subprotocol(p: &Probe) -> Outcome {
    let id = CheckId::Subprotocol;
    let mut conn = p.conn.clone();
    conn.subprotocols.clear();
    conn.require_subprotocol = false;
    let (report, error) = p.handshake(id, &conn).await;
    let Some(resp) = report.response.as_ref() else {
        return unreachable_server(id, error);
    };
    let accepted = error.is_none();
    let selected = resp
        .headers
        .get("Sec-WebSocket-Protocol")
        .map(str::to_string);
    match (selected, upgraded(&report, resp.status)) {
        (Some(sel), true) => Outcome::new(
            id,
            Status::Fail,
            format!(
                "selected '{}' though none was offered: RFC 6455 §4.1 says a client must fail such a connection",
                escape(&sel)
            ),
        ),
        (_, true) if accepted => Outcome::new(id, Status::Pass, "none offered, none selected"),
        (_, true) => Outcome::new(id, Status::Fail, failed_check(&report)),
        (_, false) => Outcome::new(
            id,
            Status::Pass,
            format!(
                "refused without a subprotocol ({}): it requires one",
                resp.status
            ),
        ),
    }
}

pub async fn deflate(p: &Probe) -> Outcome {
    let id = CheckId::Deflate;
    let mut conn = p.conn.clone();
    // The server is what is probed: offer as browsers do even where the user said --no-deflate.
    if conn.deflate.is_none() {
        conn.deflate = Some(crate::deflate::Offer::browser());
    }
    let (report, error) = p.handshake(id, &conn).await;
    let Some(resp) = report.response.as_ref() else {
        return unreachable_server(id, error);
    };
    let accepted = error.is_none();
    let verdict = report.verdict.as_ref();
    let broken = verdict.and_then(|v| {
        v.checks.iter().find(|c| {
            c.name == crate::handshake::checks::CheckName::Deflate
                && c.outcome == HandshakeOutcome::Fail
        })
    });
    if let Some(c) = broken {
        return Outcome::new(
            id,
            Status::Fail,
            format!("bad negotiation: {}", escape(&c.detail)),
        );
    }
    match verdict.and_then(|v| v.deflate) {
        Some(agreed) if accepted => {
            let header = report.extensions().join(", ");
            Outcome::new(
                id,
                Status::Pass,
                format!("accepted: {} [{}]", escape(&header), agreed.describe()),
            )
        }
        _ if upgraded(&report, resp.status) && accepted => Outcome::new(
            id,
            Status::NotApplicable,
            "declined permessage-deflate: messages go uncompressed",
        ),
        _ if upgraded(&report, resp.status) => {
            Outcome::new(id, Status::Fail, failed_check(&report))
        }
        _ => Outcome::new(
            id,
            Status::Warn,
            format!(
                "refused the upgrade ({}) when offered permessage-deflate: RFC 7692 §5 has a server decline an offer, not the connection",
                resp.status
            ),
        ),
    }
}

/// Whether the server said yes to the upgrade: 101 over HTTP/1.1, a 2xx to an RFC 8441 CONNECT
/// (`--http2`), where there is no 101.
fn upgraded(report: &Report, status: u16) -> bool {
    match report.http2 {
        Some(_) => (200..300).contains(&status),
        None => status == 101,
    }
}

/// The TLS facts of the first connection.
pub fn tls(id: CheckId, report: &Report, host: &str) -> Outcome {
    let Some(t) = report.tls.as_ref() else {
        return Outcome::new(id, Status::NotApplicable, "not a wss:// URL: no TLS");
    };
    let version = t.version.clone().unwrap_or_else(|| "TLS".into());
    let mut status = Status::Pass;
    let mut notes = vec![version.clone()];
    if matches!(version.as_str(), "TLSv1" | "TLSv1.0" | "TLSv1.1" | "SSLv3") {
        status = Status::Warn;
        notes.push("an outdated protocol version (RFC 8996)".into());
    }
    match t.not_after_unix {
        Some(end) => {
            let days = (end - crate::printer::style::unix_time() as i64).div_euclid(86_400);
            if days < 0 {
                status = Status::Fail;
                notes.push(format!("the certificate expired {} days ago", -days));
            } else {
                if days < 14 {
                    status = worse(status, Status::Warn);
                }
                notes.push(format!("certificate valid for {days} more days"));
            }
        }
        None => notes.push("the certificate's validity could not be read".into()),
    }
    let covered = t.names.iter().any(|n| name_matches(n, host));
    match (covered, t.insecure) {
        (true, _) => notes.push(format!("names {}", escape(&t.names.join(", ")))),
        (false, true) => {
            status = Status::Fail;
            notes.push(format!(
                "its names ({}) do not cover {host}",
                escape(&t.names.join(", "))
            ));
        }
        // Verified by the TLS library, which also reads the subject's common name.
        (false, false) => notes.push(format!("the certificate is valid for {host}")),
    }
    if t.insecure {
        status = worse(status, Status::Warn);
        notes.push("its chain was not verified (-k)".into());
    }
    Outcome::new(id, status, notes.join(", "))
}

fn worse(a: Status, b: Status) -> Status {
    let rank = |s| match s {
        Status::Fail => 3,
        Status::Warn => 2,
        _ => 1,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

/// A certificate name against the host: exact, or a `*.` wildcard for one label.
fn name_matches(name: &str, host: &str) -> bool {
    let (n, h) = (name.to_ascii_lowercase(), host.to_ascii_lowercase());
    match n.strip_prefix("*.") {
        Some(rest) => h
            .split_once('.')
            .is_some_and(|(label, tail)| !label.is_empty() && tail == rest),
        None => n == h,
    }
}

/// A handshake with no response: say how far it got (the server went away between two checks,
/// or took the connection and never answered).
fn unreachable_server(id: CheckId, error: Option<crate::error::Error>) -> Outcome {
    match error {
        Some(e) => super::no_connection(id, &e),
        None => Outcome::new(
            id,
            Status::Fail,
            "connected, but no response to the upgrade request",
        ),
    }
}

fn failed_check(report: &Report) -> String {
    match report.verdict.as_ref().and_then(|v| v.first_failure()) {
        Some(c) => format!("handshake check '{}' failed: {}", c.name, escape(&c.detail)),
        None => "the handshake failed".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_one_label() {
        assert!(name_matches("*.example.test", "a.example.test"));
        assert!(!name_matches("*.example.test", "a.b.example.test"));
        assert!(!name_matches("*.example.test", "example.test"));
        assert!(name_matches("LOCALHOST", "localhost"));
    }
}
