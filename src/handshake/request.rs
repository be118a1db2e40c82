//! The upgrade request, written by us so the user's header names keep the case they typed (the
//! `http` crate would lowercase them) and so the report shows exactly the bytes that were sent.
//! Pure code: a target and the options in, the request text out.

use base64::Engine;

use super::Options;
use crate::target::Target;

#[derive(Debug, Clone)]
pub struct Request {
    /// The whole head, CRLFs included, exactly as written to the socket.
    pub text: String,
    /// Our Sec-WebSocket-Key, or the user's when given with -H.
    pub key: String,
    pub offered_protocols: Vec<String>,
    pub offered_extensions: Vec<String>,
}

pub fn build(target: &Target, args: &Options, key: String) -> Request {
    let mut headers: Vec<(String, String)> = vec![
        ("Host".into(), target.host_header.clone()),
        ("Upgrade".into(), "websocket".into()),
        ("Connection".into(), "Upgrade".into()),
        ("Sec-WebSocket-Key".into(), key),
        (
            "Sec-WebSocket-Version".into(),
            args.protocol_version.to_string(),
        ),
    ];
    if !args.subprotocols.is_empty() {
        headers.push((
            "Sec-WebSocket-Protocol".into(),
            args.subprotocols.join(", "),
        ));
    }
    if let Some(offer) = &args.deflate {
        headers.push(("Sec-WebSocket-Extensions".into(), offer.header_value()));
    }
    if let Some(origin) = &args.origin {
        headers.push(("Origin".into(), origin.clone()));
    }
    let auth = args.auth.clone().or_else(|| target.auth.clone());
    if let Some((user, pass)) = auth {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        headers.push(("Authorization".into(), format!("Basic {token}")));
    }
    headers.push((
        "User-Agent".into(),
        concat!("wscope/", env!("CARGO_PKG_VERSION")).into(),
    ));
    for (name, value) in args.headers.iter() {
        // A user header replaces ours of the same name, in place, keeping the user's spelling.
        let field = (name.to_string(), value.to_string());
        match headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(slot) => *slot = field,
            None => headers.push(field),
        }
    }
    let get = |n: &str| {
        headers
            .iter()
            .find(|(h, _)| h.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.as_str())
    };
    let key = get("Sec-WebSocket-Key").unwrap_or_default().to_string();
    let offered_protocols = get("Sec-WebSocket-Protocol")
        .map(|v| crate::http::list(v).map(String::from).collect())
        .unwrap_or_default();
    let offered_extensions = get("Sec-WebSocket-Extensions")
        .map(|v| crate::http::list(v).map(String::from).collect())
        .unwrap_or_default();
    let mut text = format!("GET {} HTTP/1.1\r\n", target.resource);
    for (n, v) in &headers {
        text.push_str(n);
        text.push_str(": ");
        text.push_str(v);
        text.push_str("\r\n");
    }
    text.push_str("\r\n");
    Request {
        text,
        key,
        offered_protocols,
        offered_extensions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::Parser;

    fn args(extra: &[&str]) -> Options {
        let mut v = vec!["wscope", "ws://h:9/p?q=1"];
        v.extend_from_slice(extra);
        crate::config::handshake(&Cli::try_parse_from(v).unwrap().conn).unwrap()
    }

    #[test]
    fn request_line_and_defaults() {
        let t = Target::parse("ws://h:9/p?q=1").unwrap();
        let r = build(&t, &args(&[]), "dGhlIHNhbXBsZSBub25jZQ==".into());
        assert!(r.text.starts_with("GET /p?q=1 HTTP/1.1\r\nHost: h:9\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"));
        assert!(r.text.ends_with("\r\n\r\n"));
        assert_eq!(
            r.offered_extensions,
            ["permessage-deflate; client_max_window_bits"]
        );
    }

    #[test]
    fn deflate_is_offered_as_asked() {
        let t = Target::parse("ws://h/").unwrap();
        let r = build(&t, &args(&["--no-deflate"]), "k".into());
        assert!(!r.text.contains("Sec-WebSocket-Extensions"));
        let a = args(&["--deflate", "server_no_context_takeover"]);
        let r = build(&t, &a, "k".into());
        assert!(r.text.contains(
            "\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n"
        ));
        let a = args(&["-H", "Sec-WebSocket-Extensions: x-foo"]);
        let r = build(&t, &a, "k".into());
        assert_eq!(r.offered_extensions, ["x-foo"]);
        for bad in ["server_max_window_bits=16", "zip"] {
            let mut v = vec!["wscope", "ws://h/", "--deflate", bad];
            v.truncate(4);
            assert!(Cli::try_parse_from(v).is_err(), "{bad}");
        }
        assert!(
            Cli::try_parse_from(["wscope", "ws://h/", "--deflate", "", "--no-deflate"]).is_err()
        );
    }

    #[test]
    fn user_headers_keep_their_case_and_replace_ours() {
        let t = Target::parse("ws://h/").unwrap();
        let a = args(&[
            "-H",
            "X-Trace-ID: 7",
            "-H",
            "user-agent: me",
            "-s",
            "a",
            "-s",
            "b",
            "-o",
            "http://o",
            "--auth",
            "u:p",
        ]);
        let r = build(&t, &a, "k".into());
        assert!(r.text.contains("\r\nX-Trace-ID: 7\r\n"));
        assert!(r.text.contains("\r\nuser-agent: me\r\n"));
        assert!(!r.text.contains("wscope/"));
        assert!(r.text.contains("Sec-WebSocket-Protocol: a, b\r\n"));
        assert!(r.text.contains("Origin: http://o\r\n"));
        assert!(r.text.contains("Authorization: Basic dTpw\r\n"));
        assert_eq!(r.offered_protocols, ["a", "b"]);
    }
}
