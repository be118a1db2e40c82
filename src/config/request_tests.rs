//! The upgrade request as the command line shapes it: clap, then `config::handshake`, then
//! `handshake::request::build` (moved here from handshake/request.rs so the handshake never reads
//! the command line, not even in a test).

use crate::cli::Cli;
use crate::handshake::request::build;
use crate::handshake::Options;
use crate::target::Target;
use clap::Parser;

fn args(extra: &[&str]) -> Options {
    let mut v = vec!["wscope", "ws://h:9/p?q=1"];
    v.extend_from_slice(extra);
    super::handshake(&Cli::try_parse_from(v).unwrap().conn).unwrap()
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
    assert!(Cli::try_parse_from(["wscope", "ws://h/", "--deflate", "", "--no-deflate"]).is_err());
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
