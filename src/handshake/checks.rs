//! The checks a debugging user wants on a 101 (RFC 6455 §4.1): status, Upgrade, Connection, the
//! Sec-WebSocket-Accept computation, subprotocol and extension negotiation. Pure functions over the
//! request we sent and the response we read; the hints for a refusal live in `hints`.

use serde::Serialize;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use super::hints::hint_for_status;
use super::request::Request;
use super::response::Response;
use crate::http::list;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    /// Valid, but worth knowing (it does not fail the handshake).
    Warn,
    Fail,
}

/// What a check is about; shown as its kebab-case name (`-v`, `inspect --json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckName {
    Status,
    Protocol,
    Upgrade,
    Connection,
    Accept,
    Subprotocol,
    Extensions,
    Deflate,
    DeflateWarning,
}

impl CheckName {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckName::Status => "status",
            CheckName::Protocol => "protocol",
            CheckName::Upgrade => "upgrade",
            CheckName::Connection => "connection",
            CheckName::Accept => "accept",
            CheckName::Subprotocol => "subprotocol",
            CheckName::Extensions => "extensions",
            CheckName::Deflate => "deflate",
            CheckName::DeflateWarning => "deflate-warning",
        }
    }
}

impl std::fmt::Display for CheckName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: CheckName,
    pub outcome: Outcome,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AcceptCheck {
    pub key: String,
    pub expected: String,
    pub received: Option<String>,
    pub ok: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Negotiation {
    pub offered: Vec<String>,
    pub selected: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub checks: Vec<Check>,
    pub accept: AcceptCheck,
    pub subprotocol: Negotiation,
    pub extensions: Negotiation,
    /// What permessage-deflate settled, when the server accepted it and the answer is valid.
    pub deflate: Option<crate::deflate::Agreed>,
    pub hint: Option<String>,
}

impl Verdict {
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.outcome != Outcome::Fail)
    }

    pub fn first_failure(&self) -> Option<&Check> {
        self.checks.iter().find(|c| c.outcome == Outcome::Fail)
    }
}

pub(super) fn check(name: CheckName, ok: bool, detail: String) -> Check {
    let outcome = if ok { Outcome::Pass } else { Outcome::Fail };
    Check {
        name,
        outcome,
        detail,
    }
}

pub fn evaluate(req: &Request, resp: &Response, require_subprotocol: bool) -> Verdict {
    let accept = accept_check(req, resp);
    let negotiation = |offered: &[String], header: &str| Negotiation {
        offered: offered.to_vec(),
        selected: resp
            .header_all(header)
            .into_iter()
            .flat_map(list)
            .map(String::from)
            .collect(),
    };
    let subprotocol = negotiation(&req.offered_protocols, "Sec-WebSocket-Protocol");
    let extensions = negotiation(&req.offered_extensions, "Sec-WebSocket-Extensions");
    let upgraded = resp.status == 101;
    let mut checks = vec![check(
        CheckName::Status,
        upgraded,
        format!(
            "{}{}",
            resp.status_text(),
            if upgraded {
                ""
            } else {
                " (expected 101 Switching Protocols)"
            }
        ),
    )];
    if !upgraded {
        let hint = hint_for_status(req, resp);
        return Verdict {
            checks,
            accept,
            subprotocol,
            extensions,
            deflate: None,
            hint,
        };
    }
    checks.extend(legacy_check(resp));
    checks.extend(upgrade_checks(resp));
    checks.push(accept.check());
    checks.push(subprotocol_check(&subprotocol, require_subprotocol));
    let ext = extensions_check(&extensions);
    let deflate = match extensions.selected.as_slice() {
        [one] if ext.outcome == Outcome::Pass && crate::deflate::params::is_deflate(one) => {
            checks.push(ext);
            deflate_checks(&extensions.offered, one, &mut checks)
        }
        _ => {
            checks.push(ext);
            None
        }
    };
    let hint = failure_hint(&checks);
    Verdict {
        checks,
        accept,
        subprotocol,
        extensions,
        deflate,
        hint,
    }
}

fn accept_check(req: &Request, resp: &Response) -> AcceptCheck {
    let expected = derive_accept_key(req.key.as_bytes());
    let received = resp
        .header("Sec-WebSocket-Accept")
        .map(|v| v.trim().to_string());
    AcceptCheck {
        key: req.key.clone(),
        ok: received.as_deref() == Some(expected.as_str()),
        expected,
        received,
    }
}

impl AcceptCheck {
    fn check(&self) -> Check {
        check(
            CheckName::Accept,
            self.ok,
            match &self.received {
                Some(r) if self.ok => format!("{r} = base64(SHA-1(key + RFC 6455 GUID))"),
                Some(r) => format!(
                    "Sec-WebSocket-Accept: received {r}, expected {} (for key {})",
                    self.expected, self.key
                ),
                None => format!(
                    "no Sec-WebSocket-Accept header (expected {})",
                    self.expected
                ),
            },
        )
    }
}

/// A hixie-75/76 answer.
fn legacy_check(resp: &Response) -> Option<Check> {
    let legacy = [
        "Sec-WebSocket-Origin",
        "WebSocket-Origin",
        "Sec-WebSocket-Location",
        "WebSocket-Location",
    ]
    .into_iter()
    .find(|h| resp.header(h).is_some())?;
    Some(check(
        CheckName::Protocol,
        false,
        format!("the server answered with a legacy draft handshake (hixie-75/76, header {legacy}): not supported"),
    ))
}

/// `Upgrade: websocket` and `Connection: Upgrade`.
fn upgrade_checks(resp: &Response) -> [Check; 2] {
    let upgrade = resp.header("Upgrade");
    let connection = resp.header_all("Connection");
    [
        check(
            CheckName::Upgrade,
            upgrade.is_some_and(|v| v.trim().eq_ignore_ascii_case("websocket")),
            match upgrade {
                Some(v) => format!("Upgrade: {v}"),
                None => "no Upgrade header (expected Upgrade: websocket)".into(),
            },
        ),
        check(
            CheckName::Connection,
            connection
                .iter()
                .flat_map(|v| list(v))
                .any(|t| t.eq_ignore_ascii_case("upgrade")),
            if connection.is_empty() {
                "no Connection header (expected Connection: Upgrade)".into()
            } else {
                format!("Connection: {}", connection.join(", "))
            },
        ),
    ]
}

/// The selected subprotocol against the offered ones (RFC 6455 §4.1: one of them, or none).
pub(super) fn subprotocol_check(sp: &Negotiation, required: bool) -> Check {
    let offered = sp.offered.join(", ");
    let (ok, detail) = match sp.selected.as_slice() {
        [] if required => (
            false,
            format!("none selected; offered {offered} and --require-subprotocol was given"),
        ),
        [] if sp.offered.is_empty() => (true, "none offered, none selected".into()),
        [] => (true, format!("none selected (offered {offered})")),
        [one] if sp.offered.iter().any(|o| o == one) => {
            (true, format!("{one} selected (offered {offered})"))
        }
        [one] if sp.offered.is_empty() => (
            false,
            format!("the server selected '{one}' but none was offered"),
        ),
        [one] => (
            false,
            format!("the server selected '{one}', which was not offered ({offered})"),
        ),
        many => (
            false,
            format!(
                "the server selected several subprotocols ({}); it must select one",
                many.join(", ")
            ),
        ),
    };
    check(CheckName::Subprotocol, ok, detail)
}

/// The accepted extensions against the offered ones: only offered ones, at most one.
pub(super) fn extensions_check(ext: &Negotiation) -> Check {
    let name = |e: &str| {
        e.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    };
    let unoffered: Vec<&String> = ext
        .selected
        .iter()
        .filter(|e| !ext.offered.iter().any(|o| name(o) == name(e)))
        .collect();
    let (ok, detail) = if !unoffered.is_empty() {
        (
            false,
            format!(
                "the server accepted extensions that were not offered: {}",
                join(&unoffered)
            ),
        )
    } else if ext.selected.len() > 1 {
        (
            false,
            format!(
                "the server accepted more than one extension ({}): wscope uses at most one",
                ext.selected.join(", ")
            ),
        )
    } else if ext.selected.is_empty() && ext.offered.is_empty() {
        (true, "none offered, none accepted".into())
    } else if ext.selected.is_empty() {
        (
            true,
            format!("none accepted (offered {})", ext.offered.join(", ")),
        )
    } else {
        (true, format!("{} accepted", ext.selected.join(", ")))
    };
    check(CheckName::Extensions, ok, detail)
}

/// The hint of the first failed check.
pub(super) fn failure_hint(checks: &[Check]) -> Option<String> {
    let failed = checks.iter().find(|c| c.outcome == Outcome::Fail)?;
    Some(match failed.name {
        CheckName::Accept => "the server computed Sec-WebSocket-Accept wrongly: it is not a conforming WebSocket server (or a proxy rewrote the key)",
        CheckName::Subprotocol => "offer the subprotocol the server wants with -s NAME",
        CheckName::Upgrade | CheckName::Connection => "a proxy or load balancer may be stripping the Upgrade/Connection headers",
        CheckName::Deflate => "the server's permessage-deflate answer breaks RFC 7692: --no-deflate connects without compression",
        _ => "see the check above",
    }.to_string())
}

/// The `deflate` check (the server's answer against our offer, RFC 7692 §7.1) and its warnings
/// (`deflate-warning`); what was agreed when the answer is valid.
pub(super) fn deflate_checks(
    offered: &[String],
    answer: &str,
    checks: &mut Vec<Check>,
) -> Option<crate::deflate::Agreed> {
    use crate::deflate::params::{is_deflate, Offer};
    let offers: Vec<Offer> = offered
        .iter()
        .filter(|o| is_deflate(o))
        .filter_map(|o| Offer::parse(o).ok())
        .collect();
    let mut verdicts = offers.iter().map(|o| o.check_response(answer));
    let first = verdicts.next();
    let verdict = match first {
        Some(Err(e)) => verdicts.find(Result::is_ok).unwrap_or(Err(e)),
        Some(ok) => ok,
        None => Err("no permessage-deflate offer that wscope can check was made".into()),
    };
    match verdict {
        Ok((agreed, warnings)) => {
            checks.push(check(
                CheckName::Deflate,
                true,
                format!("'{answer}': {}", agreed.describe()),
            ));
            for w in warnings {
                checks.push(Check {
                    name: CheckName::DeflateWarning,
                    outcome: Outcome::Warn,
                    detail: w,
                });
            }
            Some(agreed)
        }
        Err(e) => {
            checks.push(check(CheckName::Deflate, false, format!("'{answer}': {e}")));
            None
        }
    }
}

fn join(v: &[&String]) -> String {
    v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::response::parse_head;

    fn req(protocols: &[&str]) -> Request {
        Request {
            text: String::new(),
            key: "dGhlIHNhbXBsZSBub25jZQ==".into(),
            offered_protocols: protocols.iter().map(|s| s.to_string()).collect(),
            offered_extensions: vec![],
            headers: Default::default(),
        }
    }

    fn resp(raw: &str) -> Response {
        parse_head(raw.as_bytes()).unwrap().unwrap().0
    }

    #[test]
    fn rfc_example_passes() {
        let r = resp("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
        let v = evaluate(&req(&[]), &r, false);
        assert!(v.passed(), "{:?}", v.checks);
        assert_eq!(v.accept.expected, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn wrong_accept_fails_and_shows_both() {
        let r = resp("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAA\r\n\r\n");
        let v = evaluate(&req(&[]), &r, false);
        let f = v.first_failure().unwrap();
        assert_eq!(f.name, CheckName::Accept);
        assert!(f
            .detail
            .contains("received AAAA, expected s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    }

    #[test]
    fn subprotocol_rules() {
        let ok = "HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";
        let v = evaluate(
            &req(&["a"]),
            &resp(&format!("{ok}Sec-WebSocket-Protocol: b\r\n\r\n")),
            false,
        );
        assert!(v
            .first_failure()
            .unwrap()
            .detail
            .contains("'b', which was not offered"));
        let v = evaluate(&req(&["a"]), &resp(&format!("{ok}\r\n")), true);
        assert_eq!(v.first_failure().unwrap().name, CheckName::Subprotocol);
        let v = evaluate(
            &req(&["a", "b"]),
            &resp(&format!("{ok}Sec-WebSocket-Protocol: b\r\n\r\n")),
            true,
        );
        assert!(v.passed());
    }

    #[test]
    fn refusals_get_hints() {
        let v = evaluate(
            &req(&[]),
            &resp("HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13, 8\r\n\r\n"),
            false,
        );
        assert!(!v.passed());
        assert!(v.hint.unwrap().contains("--protocol-version 13"));
        let v = evaluate(
            &req(&[]),
            &resp("HTTP/1.1 302 Found\r\nLocation: /x\r\n\r\n"),
            false,
        );
        assert!(v.hint.unwrap().contains("-L"));
        let v = evaluate(&req(&[]), &resp("HTTP/1.1 403 Forbidden\r\n\r\n"), false);
        assert!(v.hint.unwrap().contains("--origin"));
    }

    fn hint_of(raw: &str) -> String {
        let mut r = req(&[]);
        r.text = "GET / HTTP/1.1\r\nSec-WebSocket-Version: 13\r\n\r\n".into();
        evaluate(&r, &resp(raw), false).hint.unwrap_or_default()
    }

    #[test]
    fn a_proxy_dropping_the_upgrade_headers_is_named_with_the_nginx_lines() {
        for raw in [
            "HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n\r\n",
            "HTTP/1.1 505 HTTP Version Not Supported\r\n\r\n",
            "HTTP/1.1 400 Missing Upgrade Header\r\n\r\n",
        ] {
            let hint = hint_of(raw);
            assert!(hint.contains("Upgrade/Connection"), "{raw}: {hint}");
            assert!(
                hint.contains("proxy_set_header Upgrade $http_upgrade;"),
                "{raw}: {hint}"
            );
            assert!(!hint.contains("--protocol-version"), "{raw}: {hint}");
        }
        // A version we did not send is still the version hint.
        let hint = hint_of("HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 8\r\n\r\n");
        assert!(hint.contains("--protocol-version 8"), "{hint}");
        let nginx = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
        let mut r = resp(nginx);
        r.body = b"<center>The plain HTTP request was sent to HTTPS port</center>".to_vec();
        assert!(evaluate(&req(&[]), &r, false)
            .hint
            .unwrap()
            .contains("wss://"));
        // A 400 about something else keeps the generic hint.
        assert!(!hint_of("HTTP/1.1 400 Bad Request\r\n\r\n").contains("nginx"));
    }

    #[test]
    fn a_bearer_challenge_suggests_a_bearer_header_not_basic_auth() {
        let hint =
            hint_of("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"api\"\r\n\r\n");
        assert!(hint.contains("-H 'Authorization: Bearer"), "{hint}");
        assert!(!hint.contains("--auth"), "{hint}");
        let hint =
            hint_of("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\"\r\n\r\n");
        assert!(hint.contains("--auth user:pass"), "{hint}");
    }

    #[test]
    fn missing_upgrade_and_unoffered_extension() {
        let v = evaluate(&req(&[]), &resp("HTTP/1.1 101 X\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"), false);
        let fails: Vec<_> = v
            .checks
            .iter()
            .filter(|c| c.outcome == Outcome::Fail)
            .map(|c| c.name)
            .collect();
        assert_eq!(fails, [CheckName::Upgrade, CheckName::Extensions]);
    }
}
