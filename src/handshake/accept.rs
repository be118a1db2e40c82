//! The server side of the opening handshake: read the client's request head as received, decide
//! whether to accept it (method, Upgrade, version, key, `--origin-allow`, `-s` /
//! `--require-subprotocol`, `--max-clients`) and write the answer ourselves, so the `-v` report shows
//! exactly the bytes that crossed the wire and a refusal can carry a body that says why. Deciding is
//! pure ([`decide`]); only [`read_request`] does I/O.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Serialize;

use tokio::io::AsyncRead;

use crate::http::{head, HeadError, Headers, Kind, Start};
/// The handshake as `-v` shows it: what was received and what we answered.
#[derive(Debug, Clone, Serialize)]
pub struct HandshakeView {
    pub peer: SocketAddr,
    pub tls: bool,
    pub request: String,
    /// `request`'s bytes exactly, for a terminal to escape (empty: show `request`).
    #[serde(skip)]
    pub request_raw: Vec<u8>,
    /// The request's header fields, as read (the same as `request`, without the text to re-read).
    #[serde(skip)]
    pub headers: Headers,
    pub response: String,
    pub offered_subprotocols: Vec<String>,
    pub offered_extensions: Vec<String>,
    pub origin: Option<String>,
    pub subprotocol: Option<String>,
    /// The extension accepted (our Sec-WebSocket-Extensions answer) and what it settled.
    pub extension: Option<String>,
    pub status: u16,
}

/// How long a client may take to send its request (TLS included).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the server accepts, from the command line.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub subprotocols: Vec<String>,
    pub require_subprotocol: bool,
    pub origin_allow: Vec<String>,
    /// `-H`, in the order given; a name that matches one of ours replaces it.
    pub headers: Headers,
    pub max_clients: Option<usize>,
    /// `--no-deflate`: decline permessage-deflate offers.
    pub no_deflate: bool,
}

/// A request head as the client sent it.
#[derive(Debug, Clone, Default)]
pub struct ClientRequest {
    /// The head exactly as received (lossy UTF-8), CRLFs included.
    pub text: String,
    /// The same bytes, exactly (see [`crate::http::Head::raw`]).
    pub raw: Vec<u8>,
    pub method: String,
    pub path: String,
    /// The minor HTTP version: 1 for HTTP/1.1, 0 for HTTP/1.0.
    pub minor_version: u8,
    /// Names as the client spelled them.
    pub headers: Headers,
}

impl ClientRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// Every comma-separated item of every header called `name`.
    pub fn items(&self, name: &str) -> Vec<String> {
        self.headers.items(name)
    }

    pub fn offered_protocols(&self) -> Vec<String> {
        self.items("Sec-WebSocket-Protocol")
    }

    pub fn offered_extensions(&self) -> Vec<String> {
        self.items("Sec-WebSocket-Extensions")
    }
}

/// Read one request head, with the one HTTP head reader. Returns it with the bytes read after it
/// (a client may send frames at once).
pub async fn read_request<S: AsyncRead + Unpin>(
    stream: &mut S,
) -> std::result::Result<(ClientRequest, Vec<u8>), String> {
    let (h, rest) = head::read(stream, Kind::Request)
        .await
        .map_err(|e| match e {
            HeadError::Ended { received: 0, .. } => {
                "the client closed the connection without sending a request".to_string()
            }
            HeadError::Ended { .. } => {
                "the client closed the connection in the middle of its request".to_string()
            }
            HeadError::Io(e) => format!("reading the request failed: {e}"),
            HeadError::TooLarge => format!("the request head is over {} bytes", head::MAX_HEAD),
            HeadError::TooManyHeaders => {
                format!("the request has more than {} headers", head::MAX_HEADERS)
            }
            HeadError::Malformed { why, .. } => format!("not an HTTP request: {why}"),
        })?;
    let (method, path) = match h.start {
        Start::Request { method, path } => (method, path),
        Start::Response { .. } => Default::default(),
    };
    let req = ClientRequest {
        text: h.text,
        raw: h.raw,
        method,
        path,
        minor_version: h.minor_version,
        headers: h.headers,
    };
    Ok((req, rest))
}

/// The answer to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Accept {
        /// The 101 head, exactly as it will be written.
        response: String,
        subprotocol: Option<String>,
        /// permessage-deflate, when a client's offer was accepted.
        deflate: Option<crate::deflate::Agreed>,
    },
    Refuse {
        status: u16,
        /// Why, in a sentence: the body of the response and what the server prints.
        reason: String,
        /// The whole response, body included.
        response: String,
    },
}

/// Decide how to answer `req`. `clients` is how many clients are connected now.
pub fn decide(req: &ClientRequest, policy: &Policy, clients: usize) -> Decision {
    let checked = upgrade_request(req).and_then(|key| Ok((key, admit(req, policy, clients)?)));
    let (key, subprotocol) = match checked {
        Ok(ok) => ok,
        Err(Refusal {
            status,
            reason,
            extra,
        }) => {
            let response = refusal(status, &reason, extra, &policy.headers);
            return Decision::Refuse {
                status,
                reason,
                response,
            };
        }
    };
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    let mut ours: Vec<(String, String)> = vec![
        ("Upgrade".into(), "websocket".into()),
        ("Connection".into(), "Upgrade".into()),
        ("Sec-WebSocket-Accept".into(), accept),
    ];
    if let Some(p) = &subprotocol {
        ours.push(("Sec-WebSocket-Protocol".into(), p.clone()));
    }
    let deflate = match policy.no_deflate {
        true => None,
        false => crate::deflate::params::accept(&req.offered_extensions()),
    };
    let deflate = deflate.map(|(answer, agreed)| {
        ours.push(("Sec-WebSocket-Extensions".into(), answer));
        agreed
    });
    let response = response_head("HTTP/1.1 101 Switching Protocols", ours, &policy.headers);
    Decision::Accept {
        response,
        subprotocol,
        deflate,
    }
}

/// The checks HTTP/1.1 and HTTP/2 (`accept_h2`) share: `--origin-allow`, the subprotocol,
/// `--max-clients`. Returns the subprotocol chosen.
pub(super) fn admit(
    req: &ClientRequest,
    policy: &Policy,
    clients: usize,
) -> Result<Option<String>, Refusal> {
    allowed_origin(req, policy)?;
    let chosen = subprotocol(req, policy)?;
    capacity(policy, clients)?;
    Ok(chosen)
}

/// Why a request is refused: the status, the sentence, and headers that say what would do.
pub(super) struct Refusal {
    pub(super) status: u16,
    pub(super) reason: String,
    pub(super) extra: &'static [(&'static str, &'static str)],
}

fn refuse<T>(status: u16, reason: impl Into<String>) -> Result<T, Refusal> {
    refuse_with(status, reason, &[])
}

pub(super) fn refuse_with<T>(
    status: u16,
    reason: impl Into<String>,
    extra: &'static [(&'static str, &'static str)],
) -> Result<T, Refusal> {
    Err(Refusal {
        status,
        reason: reason.into(),
        extra,
    })
}

/// RFC 6455 §4.2.1: an HTTP/1.1 (or later) GET with Host, Upgrade, Connection, version 13 and a
/// key. Returns the key.
fn upgrade_request(req: &ClientRequest) -> Result<&str, Refusal> {
    if req.method != "GET" {
        let why = format!(
            "method {} is not allowed: a WebSocket upgrade is a GET",
            req.method
        );
        return refuse_with(405, why, &[("Allow", "GET")]);
    }
    if req.minor_version < 1 {
        return refuse(
            505,
            "the request is HTTP/1.0: a WebSocket upgrade needs HTTP/1.1 (RFC 6455 4.2.1)",
        );
    }
    if req.header("Host").is_none_or(|h| h.trim().is_empty()) {
        return refuse(400, "the request has no Host header (RFC 6455 4.2.1)");
    }
    // Two of a field that names one thing: which one a proxy in front of us used is anyone's guess.
    for name in ["Host", "Sec-WebSocket-Key"] {
        if req.headers.all(name).len() > 1 {
            return refuse(400, format!("the request has more than one {name} header"));
        }
    }
    let upgrade = req.items("Upgrade");
    if !upgrade.iter().any(|u| u.eq_ignore_ascii_case("websocket")) {
        return refuse_with(
            426,
            "this is a WebSocket endpoint (wscope listen): the request has no 'Upgrade: websocket'",
            &[("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13")],
        );
    }
    let connection = req.items("Connection");
    if !connection.iter().any(|c| c.eq_ignore_ascii_case("upgrade")) {
        return refuse(400, "the Connection header does not contain 'Upgrade'");
    }
    match req.header("Sec-WebSocket-Version").map(str::trim) {
        Some("13") => {}
        other => {
            let got = other.map_or("no Sec-WebSocket-Version".to_string(), |v| {
                format!("Sec-WebSocket-Version '{v}'")
            });
            return refuse_with(
                426,
                format!("{got}: this server speaks version 13 (RFC 6455)"),
                &[("Sec-WebSocket-Version", "13")],
            );
        }
    }
    let Some(key) = req.header("Sec-WebSocket-Key").map(str::trim) else {
        return refuse(400, "the request has no Sec-WebSocket-Key");
    };
    if !key_is_valid(key) {
        return refuse(
            400,
            format!("Sec-WebSocket-Key '{key}' is not the base64 of 16 bytes"),
        );
    }
    Ok(key)
}

/// `--origin-allow`: with an allow-list, an Origin on it is required.
fn allowed_origin(req: &ClientRequest, policy: &Policy) -> Result<(), Refusal> {
    if policy.origin_allow.is_empty() {
        return Ok(());
    }
    match req.header("Origin") {
        None => refuse(
            403,
            "the request has no Origin header, and --origin-allow requires one",
        ),
        Some(o) if !policy.origin_allow.iter().any(|p| origin_matches(p, o)) => refuse(
            403,
            format!(
                "Origin '{o}' is not allowed (--origin-allow {})",
                policy.origin_allow.join(", ")
            ),
        ),
        Some(_) => Ok(()),
    }
}

/// The subprotocol to select; refused when `--require-subprotocol` finds none in common.
fn subprotocol(req: &ClientRequest, policy: &Policy) -> Result<Option<String>, Refusal> {
    let offered = req.offered_protocols();
    let chosen = choose_subprotocol(&offered, &policy.subprotocols);
    if chosen.is_none() && policy.require_subprotocol {
        let why = if offered.is_empty() {
            "the client offered no subprotocol".to_string()
        } else {
            format!("the client offered {}", offered.join(", "))
        };
        return refuse(
            400,
            format!(
                "{why}, but this server requires one of: {}",
                policy.subprotocols.join(", ")
            ),
        );
    }
    Ok(chosen)
}

/// `--max-clients`.
fn capacity(policy: &Policy, clients: usize) -> Result<(), Refusal> {
    match policy.max_clients {
        Some(max) if clients >= max => refuse_with(
            503,
            format!("the server is full: {clients} of --max-clients {max} connected"),
            &[("Retry-After", "1")],
        ),
        _ => Ok(()),
    }
}

/// The first subprotocol the client offers that we accept (the client's order wins, RFC 6455 §4.2.2).
pub fn choose_subprotocol(offered: &[String], ours: &[String]) -> Option<String> {
    offered.iter().find(|o| ours.contains(o)).cloned()
}

/// `pattern` against a whole Origin, ASCII case-insensitive; `*` matches any run of characters.
pub fn origin_matches(pattern: &str, origin: &str) -> bool {
    let p = pattern.to_ascii_lowercase();
    let o = origin.trim().to_ascii_lowercase();
    let parts: Vec<&str> = p.split('*').collect();
    let (first, rest) = match parts.split_first() {
        Some(x) => x,
        None => return o.is_empty(),
    };
    let Some(mut tail) = o.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return tail.is_empty();
    };
    for part in middle {
        match tail.find(part) {
            Some(i) => tail = &tail[i + part.len()..],
            None => return false,
        }
    }
    tail.ends_with(last)
}

fn key_is_valid(key: &str) -> bool {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(key)
        .is_ok_and(|k| k.len() == 16)
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        400 => "Bad Request",
        403 => "Forbidden",
        405 => "Method Not Allowed",
        426 => "Upgrade Required",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

/// A status line and headers; `extra` (-H) replaces ours of the same name, then adds the rest.
fn response_head(status_line: &str, ours: Vec<(String, String)>, extra: &Headers) -> String {
    let mut out = format!("{status_line}\r\n");
    for (n, v) in ours.iter().filter(|(n, _)| !extra.contains(n)) {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    for (n, v) in extra.iter() {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out
}

fn refusal(status: u16, reason: &str, extra: &[(&str, &str)], user: &Headers) -> String {
    let body = format!("{reason}\n");
    let mut ours: Vec<(String, String)> = extra
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    ours.push(("Content-Type".into(), "text/plain; charset=utf-8".into()));
    ours.push(("Content-Length".into(), body.len().to_string()));
    ours.push(("Connection".into(), "close".into()));
    let status_line = format!("HTTP/1.1 {status} {}", reason_phrase(status));
    let mut out = response_head(&status_line, ours, user);
    out.push_str(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(extra: &[(&str, &str)]) -> ClientRequest {
        let mut headers: Headers = [
            ("Host", "localhost"),
            ("Upgrade", "websocket"),
            ("Connection", "keep-alive, Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("Sec-WebSocket-Version", "13"),
        ]
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
        for (n, v) in extra {
            headers.push(*n, *v);
        }
        ClientRequest {
            text: String::new(),
            raw: Vec::new(),
            method: "GET".into(),
            path: "/".into(),
            minor_version: 1,
            headers,
        }
    }

    /// Issue 15 item 19: RFC 6455 4.2.1 wants HTTP/1.1 and a Host header; both were accepted.
    #[test]
    fn http_1_0_and_a_missing_host_are_refused() {
        let policy = Policy::default();
        let old = ClientRequest {
            minor_version: 0,
            ..request(&[])
        };
        assert_eq!(status(&decide(&old, &policy, 0)), 505);
        let mut hostless = request(&[]);
        hostless.headers.remove("Host");
        let d = decide(&hostless, &policy, 0);
        assert_eq!(status(&d), 400);
        let Decision::Refuse { reason, .. } = d else {
            unreachable!()
        };
        assert!(reason.contains("no Host header"), "{reason}");
    }

    fn status(d: &Decision) -> u16 {
        match d {
            Decision::Accept { .. } => 101,
            Decision::Refuse { status, .. } => *status,
        }
    }

    #[test]
    fn accepts_with_the_rfc_accept_key_and_user_headers() {
        let policy = Policy {
            headers: [("X-Test".to_string(), "1".to_string())]
                .into_iter()
                .collect(),
            ..Policy::default()
        };
        let Decision::Accept { response, .. } = decide(&request(&[]), &policy, 0) else {
            panic!("refused");
        };
        assert!(response.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
        assert!(response.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
        assert!(response.ends_with("X-Test: 1\r\n\r\n"));
    }

    #[test]
    fn subprotocol_choice_follows_the_client_order() {
        let ours = vec!["b".to_string(), "a".to_string()];
        let offered = vec!["x".to_string(), "a".to_string(), "b".to_string()];
        assert_eq!(choose_subprotocol(&offered, &ours).as_deref(), Some("a"));
        assert_eq!(choose_subprotocol(&[], &ours), None);
        let policy = Policy {
            subprotocols: ours,
            require_subprotocol: true,
            ..Policy::default()
        };
        let d = decide(&request(&[("Sec-WebSocket-Protocol", "x, y")]), &policy, 0);
        assert_eq!(status(&d), 400);
        let Decision::Refuse { response, .. } = d else {
            unreachable!()
        };
        assert!(
            response.ends_with("the client offered x, y, but this server requires one of: b, a\n")
        );
        let d = decide(&request(&[("Sec-WebSocket-Protocol", "x, b")]), &policy, 0);
        assert!(
            matches!(d, Decision::Accept { subprotocol: Some(ref p), ref response, .. } if p == "b" && response.contains("Sec-WebSocket-Protocol: b\r\n"))
        );
    }

    #[test]
    fn deflate_is_accepted_as_chromium_offers_it_unless_declined() {
        let chromium = request(&[(
            "Sec-WebSocket-Extensions",
            "permessage-deflate; client_max_window_bits",
        )]);
        let Decision::Accept {
            response, deflate, ..
        } = decide(&chromium, &Policy::default(), 0)
        else {
            panic!("refused");
        };
        assert!(response.contains("\r\nSec-WebSocket-Extensions: permessage-deflate\r\n"));
        assert_eq!(deflate.map(|d| d.server_max_window_bits), Some(15));
        let declined = Policy {
            no_deflate: true,
            ..Policy::default()
        };
        let Decision::Accept {
            response, deflate, ..
        } = decide(&chromium, &declined, 0)
        else {
            panic!("refused");
        };
        assert!(!response.contains("Sec-WebSocket-Extensions"));
        assert_eq!(deflate, None);
    }

    #[test]
    fn origin_patterns() {
        assert!(origin_matches(
            "https://*.example.com",
            "https://a.b.example.com"
        ));
        assert!(origin_matches(
            "http://localhost:*",
            "http://LOCALHOST:3000"
        ));
        assert!(origin_matches("*", "null"));
        assert!(!origin_matches(
            "https://example.com",
            "https://example.com.evil"
        ));
        assert!(!origin_matches(
            "https://*.example.com",
            "https://example.com"
        ));
        assert!(origin_matches("a*b*c", "aXbYc"));
        assert!(!origin_matches("a*b*c", "aXcYb"));
        let policy = Policy {
            origin_allow: vec!["http://ok.test".into()],
            ..Policy::default()
        };
        assert_eq!(status(&decide(&request(&[]), &policy, 0)), 403);
        let evil = request(&[("Origin", "http://evil.test")]);
        assert_eq!(status(&decide(&evil, &policy, 0)), 403);
        let ok = request(&[("Origin", "http://ok.test")]);
        assert_eq!(status(&decide(&ok, &policy, 0)), 101);
    }

    #[test]
    fn refusals_for_bad_requests_and_capacity() {
        let p = Policy::default();
        let mut r = request(&[]);
        r.method = "POST".into();
        assert_eq!(status(&decide(&r, &p, 0)), 405);
        let mut r = request(&[]);
        r.headers.remove("Upgrade");
        assert_eq!(status(&decide(&r, &p, 0)), 426);
        let mut r = request(&[]);
        r.headers.remove("Sec-WebSocket-Version");
        r.headers.push("Sec-WebSocket-Version", "8");
        assert_eq!(status(&decide(&r, &p, 0)), 426);
        let mut r = request(&[]);
        r.headers.remove("Sec-WebSocket-Key");
        r.headers.push("Sec-WebSocket-Key", "short");
        assert_eq!(status(&decide(&r, &p, 0)), 400);
        let full = Policy {
            max_clients: Some(1),
            ..Policy::default()
        };
        assert_eq!(status(&decide(&request(&[]), &full, 0)), 101);
        let d = decide(&request(&[]), &full, 1);
        assert_eq!(status(&d), 503);
        let Decision::Refuse { response, .. } = d else {
            unreachable!()
        };
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or_default();
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
    }
}
