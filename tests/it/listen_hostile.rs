//! `wscope listen` against clients that break the rules, and in the places a server runs out of
//! room: raw requests and frames written byte for byte, a stdout that breaks, a low open-file
//! limit, a TLS 1.3-only client, a recording's subprotocol (issues 25 and 26).

use crate::listen::Server;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

use futures_util::SinkExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::support::hostile::masked_frame;

fn addr(s: &Server) -> SocketAddr {
    s.url("")
        .trim_start_matches("ws://")
        .parse()
        .expect("an address")
}

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

fn request(extra: &str) -> String {
    format!(
        "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}

/// Everything the server sends until it closes the connection (bounded in time).
async fn read_all(tcp: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut got)).await;
    got
}

/// Open a raw upgraded connection; returns the stream with the 101 read.
async fn upgraded(s: &Server) -> TcpStream {
    let mut tcp = TcpStream::connect(addr(s)).await.unwrap();
    tcp.write_all(request("").as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(tcp.read(&mut b).await.unwrap(), 1, "the 101 ended early");
        head.push(b[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "{head:?}");
    tcp
}

/// The server frames in `bytes`, as (opcode, payload); a close's payload keeps its code.
fn frames(mut bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while bytes.len() >= 2 {
        let op = bytes[0] & 0x0f;
        let (len, at) = match bytes[1] & 0x7f {
            126 => (u16::from_be_bytes([bytes[2], bytes[3]]) as usize, 4),
            127 => panic!("no test frame is that big"),
            n => (n as usize, 2),
        };
        out.push((op, bytes[at..at + len].to_vec()));
        bytes = &bytes[at + len..];
    }
    out
}

fn close_of(frames: &[(u8, Vec<u8>)]) -> (u16, String) {
    let (_, p) = frames
        .iter()
        .find(|(op, _)| *op == 8)
        .unwrap_or_else(|| panic!("no close frame in {frames:?}"));
    (
        u16::from_be_bytes([p[0], p[1]]),
        String::from_utf8_lossy(&p[2..]).into_owned(),
    )
}

/// Issue 25: a request with two Host or two Sec-WebSocket-Key headers was accepted.
#[tokio::test]
async fn two_hosts_or_two_keys_are_refused_with_400() {
    let s = Server::start(&[]);
    for extra in [
        "Host: evil.example\r\n",
        "Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==\r\n",
    ] {
        let mut tcp = TcpStream::connect(addr(&s)).await.unwrap();
        tcp.write_all(request(extra).as_bytes()).await.unwrap();
        let got = String::from_utf8_lossy(&read_all(&mut tcp).await).into_owned();
        assert!(got.starts_with("HTTP/1.1 400"), "{extra:?}: {got}");
        assert!(got.contains("more than one"), "{got}");
    }
}

/// Issue 26 item 10: the close reason was "protocol error" whatever the log said.
#[tokio::test]
async fn the_close_reason_names_the_cause() {
    let s = Server::start(&["--max-message-size", "16"]);
    let mut bad_utf8 = b"ab".to_vec();
    bad_utf8.extend_from_slice(&[0xff, 0xfe]);
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        // Unmasked: a client must mask every frame.
        (
            [0x81, 2, b'h', b'i'].to_vec(),
            1002,
            "protocol error: Received an unmasked frame from client",
        ),
        (
            masked_frame(0x81, &bad_utf8, [1, 2, 3, 4]),
            1007,
            "invalid UTF-8 at byte 2",
        ),
        // The offset counts from the message's start, across fragments.
        (
            [
                masked_frame(0x01, "héllo ".as_bytes(), [1, 2, 3, 4]),
                masked_frame(0x80, b"wo\xc3(", [5, 6, 7, 8]),
            ]
            .concat(),
            1007,
            "invalid UTF-8 at byte 9",
        ),
        (
            masked_frame(0x82, &[7; 40], [1, 2, 3, 4]),
            1009,
            "message too big: a message of 40 bytes, over the limit of 16",
        ),
    ];
    for (bytes, code, reason) in cases {
        let mut tcp = upgraded(&s).await;
        tcp.write_all(&bytes).await.unwrap();
        let got = frames(&read_all(&mut tcp).await);
        assert_eq!(close_of(&got), (code, reason.to_string()));
    }
}

/// Issue 26 item 11: a message and the close behind it in one read: the echo was dropped.
#[tokio::test]
async fn echo_answers_a_message_that_came_with_the_close() {
    let s = Server::start(&["--echo"]);
    for n in [1, 3] {
        let mut tcp = upgraded(&s).await;
        let mut burst = Vec::new();
        for i in 0..n {
            burst.extend(masked_frame(
                0x81,
                format!("hi{i}").as_bytes(),
                [9, 8, 7, 6],
            ));
        }
        let mut close = 4000u16.to_be_bytes().to_vec();
        close.extend_from_slice(b"done");
        burst.extend(masked_frame(0x88, &close, [1, 2, 3, 4]));
        tcp.write_all(&burst).await.unwrap();
        let got = frames(&read_all(&mut tcp).await);
        let texts: Vec<String> = got
            .iter()
            .filter(|(op, _)| *op == 1)
            .map(|(_, p)| String::from_utf8_lossy(p).into_owned())
            .collect();
        let want: Vec<String> = (0..n).map(|i| format!("hi{i}")).collect();
        assert_eq!(texts, want, "{got:?}");
        assert_eq!(close_of(&got).0, 4000);
    }
}

/// Issue 26 item 9: `--tls-cert` spoke TLS 1.2 only.
#[test]
fn a_tls_1_3_only_client_connects() {
    let dir = tempfile::tempdir().unwrap();
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    let s = Server::start(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode, SslVersion};
    let mut b = SslConnector::builder(SslMethod::tls_client()).unwrap();
    b.set_min_proto_version(Some(SslVersion::TLS1_3)).unwrap();
    b.set_max_proto_version(Some(SslVersion::TLS1_3)).unwrap();
    b.set_verify(SslVerifyMode::NONE);
    let tcp = std::net::TcpStream::connect(addr(&s)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut tls = b
        .build()
        .connect("localhost", tcp)
        .expect("a TLS 1.3 handshake");
    assert_eq!(tls.ssl().version_str(), "TLSv1.3");
    tls.write_all(request("").as_bytes()).unwrap();
    let mut head = [0u8; 12];
    tls.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 101");
}

/// Issue 26 item 15: `listen --replay` did not select the recording's subprotocol.
#[tokio::test]
async fn replay_selects_the_recorded_subprotocol() {
    let har = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/chromium.har");
    let s = Server::start(&["--replay", har.to_str().unwrap()]);
    let mut req = s.url("/").into_client_request().unwrap();
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", "chat.v2".parse().unwrap());
    let tcp = TcpStream::connect(addr(&s)).await.unwrap();
    let (mut ws, resp) = tokio_tungstenite::client_async(req, tcp)
        .await
        .expect("the recorded subprotocol is accepted");
    assert_eq!(
        resp.headers()
            .get("Sec-WebSocket-Protocol")
            .map(|v| v.to_str().unwrap()),
        Some("chat.v2")
    );
    let _ = ws.send(Message::Close(None)).await;
}

/// Issue 25 D10: `wscope listen PORT | head -1` kept running after its stdout broke.
#[tokio::test]
async fn a_broken_stdout_ends_listen_quietly_with_0() {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("wscope"))
        .args(["listen", "127.0.0.1:0"])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let url = first_url(&mut err);
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let tcp = TcpStream::connect(url.trim_start_matches("ws://").trim_end_matches('/'))
        .await
        .unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(url.as_str(), tcp)
        .await
        .unwrap();
    ws.send(Message::text("first")).await.unwrap();
    // `head -1`: one line, then the reader goes away.
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    assert!(line.contains("first"), "{line}");
    for i in 0..5 {
        let _ = ws.send(Message::text(format!("more {i}"))).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = wait_exit(&mut child, Duration::from_secs(5));
    let mut rest = String::new();
    let _ = err.read_to_string(&mut rest);
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{rest}");
    assert!(!rest.contains("error"), "{rest}");
}

fn first_url(err: &mut impl BufRead) -> String {
    let mut first = String::new();
    err.read_line(&mut first).unwrap();
    let at = first.find("ws://").expect("the address line");
    first[at..].split_whitespace().next().unwrap().to_string()
}

fn wait_exit(
    child: &mut std::process::Child,
    within: Duration,
) -> Option<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + within;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// listen under `ulimit` (`sh -c 'ulimit ...; exec wscope listen ...'`), its stderr gathered.
fn under_ulimit(
    ulimit: &str,
) -> (
    std::process::Child,
    String,
    std::sync::mpsc::Receiver<String>,
) {
    let bin = assert_cmd::cargo::cargo_bin("wscope");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("{ulimit}; exec \"$0\" listen 127.0.0.1:0"))
        .arg(bin)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let url = first_url(&mut err);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in err.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, url, rx)
}

/// Issue 25 D12: the soft open-file limit is raised to the hard one, and the line says so.
#[test]
fn the_soft_open_file_limit_is_raised() {
    let (mut child, _, lines) = under_ulimit("ulimit -S -n 64");
    let line = lines.recv_timeout(Duration::from_secs(10)).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.contains("open-file limit raised from 64"), "{line}");
}

/// Issue 25 D12: at the limit, "accepting failed" was logged 10 times a second; once per burst.
#[tokio::test]
async fn at_the_open_file_limit_failures_are_logged_once_per_burst() {
    let (mut child, url, lines) = under_ulimit("ulimit -n 64");
    let a = url
        .trim_start_matches("ws://")
        .trim_end_matches('/')
        .to_string();
    let mut held = Vec::new();
    for _ in 0..100 {
        let mut tcp = TcpStream::connect(&a).await.unwrap();
        let _ = tcp.write_all(request("").as_bytes()).await;
        held.push(tcp);
    }
    // Ten pauses' worth at the limit.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let _ = child.kill();
    let _ = child.wait();
    let got: Vec<String> = lines.try_iter().collect();
    let room = got.iter().find(|l| l.contains("open-file limit 64"));
    assert!(
        room.is_some_and(|l| l.contains("room for about")),
        "{got:#?}"
    );
    let failed = got
        .iter()
        .filter(|l| l.contains("accepting a connection failed"))
        .count();
    assert_eq!(failed, 1, "{got:#?}");
    drop(held);
}

/// Issue 25: a raw non-UTF-8 byte in a client's request header was shown as U+FFFD by
/// `listen -v`: it is shown as `\x9b`.
#[tokio::test]
async fn a_raw_byte_in_a_request_header_is_shown_escaped_under_v() {
    let s = Server::start(&["-v"]);
    let mut tcp = TcpStream::connect(addr(&s)).await.unwrap();
    let mut req = request("").into_bytes();
    req.truncate(req.len() - 2);
    req.extend_from_slice(b"X: a\x9bb\r\n\r\n");
    tcp.write_all(&req).await.unwrap();
    let err = s.wait_for("stderr", "X: a").await;
    let line = err.lines().find(|l| l.contains("X: a")).unwrap_or("");
    assert!(line.contains("X: a\\x9bb"), "{err}");
    assert!(!err.contains('\u{fffd}'), "{err}");
    // Each header keeps its own line.
    assert!(
        err.lines().any(|l| l.ends_with("< Host: localhost")),
        "{err}"
    );
}

/// A message over `--max-message-size` ends the conversation: what the client sends after it
/// (a ping, a text) is not answered or shown before the 1009 close, whichever frame comes next
/// and however the bytes are split. Before, a ping right behind the message got its pong first,
/// and `probe`'s max-frame took that pong for "accepted".
#[tokio::test]
async fn nothing_after_a_message_over_the_limit_is_answered() {
    let s = Server::start(&["--max-message-size", "16", "--echo"]);
    let big = masked_frame(0x82, &[7; 40], [1, 2, 3, 4]);
    let after: [(&str, Vec<u8>); 3] = [
        ("a ping", masked_frame(0x89, b"pp", [5, 6, 7, 8])),
        ("a text", masked_frame(0x81, b"hey", [5, 6, 7, 8])),
        (
            "a text, then a ping",
            [
                masked_frame(0x81, b"hey", [5, 6, 7, 8]),
                masked_frame(0x89, b"pp", [1, 1, 1, 1]),
            ]
            .concat(),
        ),
    ];
    for (what, next) in after {
        for split in [big.len(), 1, big.len() + 1] {
            let mut tcp = upgraded(&s).await;
            let bytes = [big.clone(), next.clone()].concat();
            tcp.write_all(&bytes[..split]).await.unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
            tcp.write_all(&bytes[split..]).await.unwrap();
            let got = until_close(&mut tcp).await;
            assert_eq!(
                got.first().map(|(op, _)| *op),
                Some(8),
                "{what} (split at {split}): the server answered before its close: {got:?}"
            );
            assert_eq!(close_of(&got).0, 1009, "{what}");
        }
    }
}

/// The frames the server sends up to and including its close frame (bounded in time): the
/// close is not answered, so its deadline need not pass.
async fn until_close(tcp: &mut TcpStream) -> Vec<(u8, Vec<u8>)> {
    let mut got = Vec::new();
    let mut b = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let whole = complete_frames(&got);
        if whole.iter().any(|(op, _)| *op == 8) {
            return whole;
        }
        match tokio::time::timeout_at(deadline, tcp.read(&mut b)).await {
            Ok(Ok(n)) if n > 0 => got.extend_from_slice(&b[..n]),
            _ => return whole,
        }
    }
}

/// The whole frames at the start of `bytes` (server frames: unmasked, under 64 KiB).
fn complete_frames(mut bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while bytes.len() >= 2 {
        let (len, at) = match bytes[1] & 0x7f {
            126 if bytes.len() >= 4 => (u16::from_be_bytes([bytes[2], bytes[3]]) as usize, 4),
            126 | 127 => break,
            n => (n as usize, 2),
        };
        if bytes.len() < at + len {
            break;
        }
        out.push((bytes[0] & 0x0f, bytes[at..at + len].to_vec()));
        bytes = &bytes[at + len..];
    }
    out
}
