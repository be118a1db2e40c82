//! The upgrade request, written by us so the user's header names keep the case they typed (the
//! `http` crate would lowercase them) and so the report shows exactly the bytes that were sent.
//! Pure code: a target and the options in, the request text out.

use base64::Engine;

use crate::cli::ConnectArgs;
use crate::error::{Error, Result};
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

/// Split `Name: value`, refusing what would corrupt the request.
pub fn parse_header(raw: &str, flag: &str) -> Result<(String, String)> {
    let Some((name, value)) = raw.split_once(':') else {
        return Err(Error::usage_hint(
            format!("header '{raw}' has no colon"),
            format!("write it as {flag} 'Name: value'"),
        ));
    };
    let name = name.trim();
    if name.is_empty() || !name.chars().all(is_token_char) {
        return Err(Error::usage_hint(
            format!(
                "'{}' is not a valid header name (in {flag} '{}')",
                name.escape_debug(),
                raw.escape_debug()
            ),
            "header names are letters, digits and - (no spaces)",
        ));
    }
    let value = value.trim();
    // HTAB belongs to a field value's syntax (RFC 9110 §5.5); every other control would go into
    // the request raw (CR/LF would even start a header of their own).
    if let Some(c) = value.chars().find(|&c| c.is_control() && c != '\t') {
        return Err(Error::usage_hint(
            format!(
                "{flag} '{}': the value of header '{name}' contains the control character {}",
                raw.escape_debug(),
                char_code(c)
            ),
            "header values may not contain control characters (TAB excepted)",
        ));
    }
    Ok((name.to_string(), value.to_string()))
}

/// `0x01`, or `U+009B` beyond ASCII: how a refused character is named.
fn char_code(c: char) -> String {
    if c.is_ascii() {
        format!("0x{:02x}", u32::from(c))
    } else {
        format!("U+{:04X}", u32::from(c))
    }
}

/// RFC 9110 `tchar`: what header names and subprotocol names (RFC 6455 §4.1) are made of.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// A `-s` name must be a token; say which character is not.
fn check_subprotocol(p: &str) -> Result<()> {
    let bad = match p.chars().find(|&c| !is_token_char(c)) {
        None if !p.is_empty() => return Ok(()),
        None => "it is empty".to_string(),
        Some(c) if c.is_control() || c == ' ' => format!("it contains {}", char_code(c)),
        Some(c) => format!("it contains '{c}' ({})", char_code(c)),
    };
    Err(Error::usage_hint(
        format!(
            "-s '{}' is not a valid subprotocol name: {bad}",
            p.escape_debug()
        ),
        "a subprotocol name is a token: letters, digits and !#$%&'*+-.^_`|~ (offer several with -s A -s B)",
    ))
}

/// The permessage-deflate offer of the request: browsers' by default, the user's with
/// `--deflate`, none with `--no-deflate` (a -H Sec-WebSocket-Extensions replaces it anyway).
pub fn deflate_offer(args: &ConnectArgs) -> Option<crate::deflate::Offer> {
    if args.no_deflate {
        return None;
    }
    Some(
        args.deflate
            .clone()
            .unwrap_or_else(crate::deflate::Offer::browser),
    )
}

pub fn build(target: &Target, args: &ConnectArgs, key: String) -> Result<Request> {
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
        for p in &args.subprotocols {
            check_subprotocol(p)?;
        }
        headers.push((
            "Sec-WebSocket-Protocol".into(),
            args.subprotocols.join(", "),
        ));
    }
    if let Some(offer) = deflate_offer(args) {
        headers.push(("Sec-WebSocket-Extensions".into(), offer.header_value()));
    }
    if let Some(origin) = &args.origin {
        if let Some(c) = origin.chars().find(|c| c.is_control()) {
            return Err(Error::usage(format!(
                "--origin '{}' contains the control character {}",
                origin.escape_debug(),
                char_code(c)
            )));
        }
        headers.push(("Origin".into(), origin.clone()));
    }
    let auth = match &args.auth {
        Some(a) => Some(match a.split_once(':') {
            Some((u, p)) => (u.to_string(), p.to_string()),
            None => (a.clone(), String::new()),
        }),
        None => target.auth.clone(),
    };
    if let Some((user, pass)) = auth {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        headers.push(("Authorization".into(), format!("Basic {token}")));
    }
    headers.push((
        "User-Agent".into(),
        concat!("wscope/", env!("CARGO_PKG_VERSION")).into(),
    ));
    for raw in &args.headers {
        let (name, value) = parse_header(raw, "-H")?;
        // A user header replaces ours of the same name, in place, keeping the user's spelling.
        match headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(&name))
        {
            Some(slot) => *slot = (name, value),
            None => headers.push((name, value)),
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
    Ok(Request {
        text,
        key,
        offered_protocols,
        offered_extensions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::Parser;

    fn args(extra: &[&str]) -> ConnectArgs {
        let mut v = vec!["wscope", "ws://h:9/p?q=1"];
        v.extend_from_slice(extra);
        Cli::try_parse_from(v).unwrap().conn
    }

    #[test]
    fn request_line_and_defaults() {
        let t = Target::parse("ws://h:9/p?q=1").unwrap();
        let r = build(&t, &args(&[]), "dGhlIHNhbXBsZSBub25jZQ==".into()).unwrap();
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
        let r = build(&t, &args(&["--no-deflate"]), "k".into()).unwrap();
        assert!(!r.text.contains("Sec-WebSocket-Extensions"));
        let a = args(&["--deflate", "server_no_context_takeover"]);
        let r = build(&t, &a, "k".into()).unwrap();
        assert!(r.text.contains(
            "\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n"
        ));
        let a = args(&["-H", "Sec-WebSocket-Extensions: x-foo"]);
        let r = build(&t, &a, "k".into()).unwrap();
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
        let r = build(&t, &a, "k".into()).unwrap();
        assert!(r.text.contains("\r\nX-Trace-ID: 7\r\n"));
        assert!(r.text.contains("\r\nuser-agent: me\r\n"));
        assert!(!r.text.contains("wscope/"));
        assert!(r.text.contains("Sec-WebSocket-Protocol: a, b\r\n"));
        assert!(r.text.contains("Origin: http://o\r\n"));
        assert!(r.text.contains("Authorization: Basic dTpw\r\n"));
        assert_eq!(r.offered_protocols, ["a", "b"]);
    }

    #[test]
    fn bad_headers_are_usage_errors() {
        let e = parse_header("NoColonHere", "-H").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("has no colon"));
        assert!(parse_header("Bad Name: x", "-H").is_err());
        for (raw, code) in [
            ("A: x\u{1}", "0x01"),
            ("A: \u{1b}[0m", "0x1b"),
            ("A: \u{9b}", "U+009B"),
        ] {
            let e = parse_header(raw, "-H").unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert!(e.to_string().contains(code), "{e}");
            assert!(!e.to_string().chars().any(char::is_control), "{e:?}");
        }
        assert_eq!(parse_header("A: x\ty", "-H").unwrap().1, "x\ty");
    }

    #[test]
    fn subprotocols_must_be_tokens() {
        let t = Target::parse("ws://h/").unwrap();
        for (p, why) in [
            ("a\tb", "0x09"),
            ("a b", "0x20"),
            ("a,b", "','"),
            ("a/b", "'/'"),
        ] {
            let e = build(&t, &args(&["-s", p]), "k".into()).unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert!(
                e.to_string().contains(why) && e.to_string().contains("-s"),
                "{e}"
            );
        }
        assert!(build(&t, &args(&["-s", "mqtt.v3.1_x~"]), "k".into()).is_ok());
    }
}
