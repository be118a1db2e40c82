//! The rules of the proxy's two handshakes, as pure functions (SPEC "proxy"): the upstream
//! request from the client's (its path and query appended to URL's unless `--fixed-path`; its
//! headers forwarded but for the hop-by-hop and per-hop WebSocket ones; `-H` adds or replaces,
//! `-o` replaces the Origin), and what the client is told when the upstream refuses or cannot be
//! reached (its status, headers and body; 502 or 504 when there was no answer).

use crate::handshake::accept::ClientRequest;
use crate::handshake::{Options, ResponseView};
use crate::http::Headers;
use crate::target::Target;

/// Request headers that belong to one hop and are never forwarded: HTTP/1.1's hop-by-hop ones
/// (RFC 9110 7.6.1), Host (the upstream's own), and the WebSocket ones each hop negotiates
/// (key, version, extensions) or that wscope sets from the offer (the subprotocols).
const PER_HOP: &[&str] = &[
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "proxy-authenticate",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
    "sec-websocket-accept",
    "sec-websocket-protocol",
    "origin",
];

/// The upstream target for a client that asked for `path` (its request target).
pub fn upstream_target(base: &Target, path: &str, fixed: bool) -> Target {
    let mut t = base.clone();
    if fixed || t.unix_socket.is_some() {
        return t;
    }
    let (cpath, cquery) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    // Only an origin-form path is appended ("/chat"); an absolute URL or `*` is not a path.
    let cpath = if cpath.starts_with('/') { cpath } else { "/" };
    let joined = format!("{}{}", base.url.path().trim_end_matches('/'), cpath);
    t.url.set_path(&joined);
    let query = match (base.url.query(), cquery) {
        (Some(a), Some(b)) if !a.is_empty() && !b.is_empty() => Some(format!("{a}&{b}")),
        (Some(a), _) if !a.is_empty() => Some(a.to_string()),
        (_, Some(b)) if !b.is_empty() => Some(b.to_string()),
        _ => None,
    };
    t.url.set_query(query.as_deref());
    t.resource = match t.url.query() {
        Some(q) => format!("{}?{q}", t.url.path()),
        None => t.url.path().to_string(),
    };
    t
}

/// The upstream hop's options for this client: the client's end-to-end headers, then `-H` (which
/// replaces a forwarded header of the same name), the client's subprotocols then `-s`'s, and
/// `-o` or else the client's Origin.
pub fn upstream_options(base: &Options, req: &ClientRequest) -> Options {
    let mut o = base.clone();
    // Named in the client's Connection header: hop-by-hop too (RFC 9110 7.6.1).
    let named = req.items("Connection");
    let mut headers = Headers::new();
    for (n, v) in req.headers.iter() {
        let lower = n.to_ascii_lowercase();
        if PER_HOP.contains(&lower.as_str()) || named.iter().any(|c| c.eq_ignore_ascii_case(n)) {
            continue;
        }
        if base.headers.contains(n) {
            continue;
        }
        headers.push(n, v);
    }
    for (n, v) in base.headers.iter() {
        headers.push(n, v);
    }
    o.headers = headers;
    let mut subprotocols = req.offered_protocols();
    for p in &base.subprotocols {
        if !subprotocols.contains(p) {
            subprotocols.push(p.clone());
        }
    }
    o.subprotocols = subprotocols;
    o.origin = base
        .origin
        .clone()
        .or_else(|| req.header("Origin").map(String::from));
    o
}

/// Response headers of a refusal that describe the upstream's connection, not the answer.
const REFUSAL_DROPPED: &[&str] = &[
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "upgrade",
];

/// The upstream's refusal, for the client: its status, reason, headers and body (the body as
/// wscope read it, within its limit), the connection closed after it.
pub fn refusal(r: &ResponseView) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {} {}\r\n", r.status, clean(&r.reason));
    for (n, v) in r.headers.iter() {
        if REFUSAL_DROPPED.iter().any(|d| n.eq_ignore_ascii_case(d)) {
            continue;
        }
        out.push_str(&format!("{n}: {}\r\n", clean(v)));
    }
    let body = r.body.as_deref().unwrap_or("");
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    bytes
}

/// The answer when the upstream gave none: 504 after a timeout, 502 otherwise, with why.
pub fn no_answer(timed_out: bool, why: &str) -> Vec<u8> {
    let (status, reason) = match timed_out {
        true => (504, "Gateway Timeout"),
        false => (502, "Bad Gateway"),
    };
    let body = format!("wscope proxy: the server did not accept the WebSocket: {why}\n");
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// No CR or LF of the upstream's may start a header of its own in what we write.
fn clean(s: &str) -> String {
    s.chars().filter(|c| *c != '\r' && *c != '\n').collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(text: &str) -> ClientRequest {
        let mut req = ClientRequest::default();
        for line in text.lines() {
            if let Some((n, v)) = line.split_once(": ") {
                req.headers.push(n, v);
            }
        }
        req
    }

    #[test]
    fn the_clients_path_and_query_are_appended() {
        let base = Target::parse("ws://up.test:9000/api?k=1").unwrap();
        let t = upstream_target(&base, "/chat?room=2", false);
        assert_eq!(t.resource, "/api/chat?k=1&room=2");
        assert_eq!(upstream_target(&base, "/chat", true).resource, "/api?k=1");
        let root = Target::parse("ws://up.test:9000").unwrap();
        assert_eq!(upstream_target(&root, "/x?y", false).resource, "/x?y");
    }

    #[test]
    fn end_to_end_headers_go_per_hop_ones_stay() {
        let req = request(
            "Host: proxy\nConnection: Upgrade, X-Hop\nX-Hop: 1\nUpgrade: websocket\n\
             Sec-WebSocket-Key: abc\nSec-WebSocket-Version: 13\n\
             Sec-WebSocket-Extensions: permessage-deflate\nSec-WebSocket-Protocol: a, b\n\
             Cookie: s=1\nAuthorization: Bearer t\nUser-Agent: app/1\nOrigin: http://app\n\
             X-Trace: 7",
        );
        let mut base = Options {
            headers: Headers::new(),
            subprotocols: vec!["c".into()],
            require_subprotocol: false,
            origin: None,
            auth: None,
            protocol_version: 13,
            connect_timeout: std::time::Duration::from_secs(1),
            follow_redirects: false,
            max_redirects: 0,
            proxy: crate::dial::ProxyChoice::new(None, true).unwrap(),
            tls: crate::dial::TlsSettings::default(),
            deflate: None,
            http2: crate::handshake::Http2::Off,
            h2_slot: None,
            dump_h2: false,
        };
        base.headers.push("X-Trace", "8");
        let o = upstream_options(&base, &req);
        let names: Vec<&str> = o.headers.iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            ["Cookie", "Authorization", "User-Agent", "X-Trace"],
            "{names:?}"
        );
        assert_eq!(o.headers.get("X-Trace"), Some("8"));
        assert_eq!(o.subprotocols, ["a", "b", "c"]);
        assert_eq!(o.origin.as_deref(), Some("http://app"));
        base.origin = Some("http://mine".into());
        assert_eq!(
            upstream_options(&base, &req).origin.as_deref(),
            Some("http://mine")
        );
    }

    #[test]
    fn a_refusal_keeps_status_headers_and_body() {
        let mut headers = Headers::new();
        headers.push("Transfer-Encoding", "chunked");
        headers.push("X-Why", "no\r\nInjected: 1");
        let r = ResponseView {
            status: 403,
            reason: "Forbidden".into(),
            headers,
            head: String::new(),
            head_raw: Vec::new(),
            body: Some("go away".into()),
            body_truncated: false,
        };
        let text = String::from_utf8(refusal(&r)).unwrap();
        assert!(text.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{text}");
        assert!(text.contains("X-Why: noInjected: 1\r\n"), "{text}");
        assert!(!text.contains("chunked"), "{text}");
        assert!(text.ends_with("Content-Length: 7\r\nConnection: close\r\n\r\ngo away"));
    }
}
