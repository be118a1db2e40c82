//! The upgrade and the accept policy from the flags: headers parsed (one parser, for `-H` on both
//! sides and for the headers a recording adds), subprotocols and the Origin checked, credentials
//! split, the proxy chosen, the TLS settings and the deflate offer decided.

use crate::cli::{ConnectArgs, ListenArgs};
use crate::dial::{ProxyChoice, TlsSettings};
use crate::error::{Error, Result};
use crate::handshake;
use crate::handshake::accept::Policy;
use crate::http::Headers;

/// The upgrade's options from connect's (and inspect's) flags.
pub fn handshake(args: &ConnectArgs) -> Result<handshake::Options> {
    let headers = args
        .headers
        .iter()
        .map(|h| parse_header(h, "-H"))
        .collect::<Result<Headers>>()?;
    for p in &args.subprotocols {
        check_subprotocol(p)?;
    }
    if let Some(origin) = &args.origin {
        check_origin(origin)?;
    }
    let auth = args.auth.as_ref().map(|a| match a.split_once(':') {
        Some((u, p)) => (u.to_string(), p.to_string()),
        None => (a.clone(), String::new()),
    });
    Ok(handshake::Options {
        headers,
        subprotocols: args.subprotocols.clone(),
        require_subprotocol: args.require_subprotocol,
        origin: args.origin.clone(),
        auth,
        protocol_version: args.protocol_version,
        connect_timeout: args.connect_timeout,
        follow_redirects: args.location,
        max_redirects: args.max_redirects,
        proxy: ProxyChoice::new(args.proxy.as_deref(), args.no_proxy)?,
        tls: tls(args),
        deflate: deflate_offer(args),
        http2: match (args.http2, args.http2_only) {
            (_, true) => handshake::Http2::Only,
            (true, false) => handshake::Http2::Prefer,
            (false, false) => handshake::Http2::Off,
        },
        h2_slot: None,
        dump_h2: false,
    })
}

/// What a recording adds to the user's upgrade (`wscope replay`), checked as if given with
/// `-s`, `-o` and `-H`: its subprotocols and Origin where the user gave none, its headers before
/// the user's (which so win).
pub fn add_recorded(
    upgrade: &mut handshake::Options,
    subprotocols: Vec<String>,
    origin: Option<String>,
    headers: &[(String, String)],
) -> Result<()> {
    let mut recorded = headers
        .iter()
        .map(|(n, v)| parse_header(&format!("{n}: {v}"), "-H"))
        .collect::<Result<Headers>>()?;
    if upgrade.subprotocols.is_empty() {
        for p in &subprotocols {
            check_subprotocol(p)?;
        }
        upgrade.subprotocols = subprotocols;
    }
    if upgrade.origin.is_none() {
        if let Some(o) = &origin {
            check_origin(o)?;
        }
        upgrade.origin = origin;
    }
    for (n, v) in upgrade.headers.iter() {
        recorded.push(n, v);
    }
    upgrade.headers = recorded;
    Ok(())
}

/// `-o` goes into the request as it is: no control character.
fn check_origin(origin: &str) -> Result<()> {
    match origin.chars().find(|c| c.is_control()) {
        Some(c) => Err(Error::usage(format!(
            "--origin '{}' contains the control character {}",
            origin.escape_debug(),
            char_code(c)
        ))),
        None => Ok(()),
    }
}

/// The TLS settings (clap makes `--cert` and `--key` go together).
pub fn tls(args: &ConnectArgs) -> TlsSettings {
    TlsSettings {
        ca: args.ca.clone(),
        identity: args.cert.clone().zip(args.key.clone()),
        insecure: args.insecure,
        verbose: args.verbose,
    }
}

/// What `listen` accepts, from its flags.
pub fn listen_policy(args: &ListenArgs) -> Result<Policy> {
    let headers = args
        .headers
        .iter()
        .map(|h| parse_header(h, "-H"))
        .collect::<Result<Headers>>()?;
    Ok(Policy {
        subprotocols: args.subprotocols.clone(),
        require_subprotocol: args.require_subprotocol,
        origin_allow: args.origin_allow.clone(),
        headers,
        max_clients: args.max_clients,
        no_deflate: args.no_deflate,
    })
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
fn deflate_offer(args: &ConnectArgs) -> Option<crate::deflate::Offer> {
    if args.no_deflate {
        return None;
    }
    Some(
        args.deflate
            .clone()
            .unwrap_or_else(crate::deflate::Offer::browser),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::Parser;

    fn conn(extra: &[&str]) -> ConnectArgs {
        let mut v = vec!["wscope", "ws://h/"];
        v.extend_from_slice(extra);
        Cli::try_parse_from(v).unwrap().conn
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
        for (p, why) in [
            ("a\tb", "0x09"),
            ("a b", "0x20"),
            ("a,b", "','"),
            ("a/b", "'/'"),
        ] {
            let e = handshake(&conn(&["-s", p])).unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert!(
                e.to_string().contains(why) && e.to_string().contains("-s"),
                "{e}"
            );
        }
        assert!(handshake(&conn(&["-s", "mqtt.v3.1_x~"])).is_ok());
    }

    #[test]
    fn origin_and_proxy_are_checked_before_anything_is_sent() {
        let e = handshake(&conn(&["-o", "http://a\u{1b}[31m"])).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("0x1b"), "{e}");
        let e = handshake(&conn(&["--proxy", "ftp://p"])).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let o = handshake(&conn(&["--auth", "u", "--no-proxy"])).unwrap();
        assert_eq!(o.auth, Some(("u".to_string(), String::new())));
        assert_eq!(o.proxy, ProxyChoice::Off);
    }
}
