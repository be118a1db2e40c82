//! The layers below tungstenite as a user meets them: an empty message under permessage-deflate,
//! a peer that writes junk after its close frame (R2), `inspect` closing through the same stack
//! as connect (deflate, guard, tap: `--dump`), and `/dump on` mid-session with compression.

use crate::deflate::{listen, peer, HELLO, HELLO_AGAIN};
use crate::support::hostile::{self, frame, Hostile, Step};
use crate::support::{self, args, run_with};

/// What an HTTP server writes when it treats the connection as HTTP again (Werkzeug under
/// flask-sock does, after its close frame): its first byte reads as RSV1 + a close opcode.
const JUNK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 0\r\n\r\n";

/// The `received` events of `--json` output: (data, compressed).
fn received(stdout: &str) -> Vec<(String, bool)> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["event"] == "received")
        .map(|v| {
            (
                v["data"].as_str().unwrap_or("<binary>").to_string(),
                v["compressed"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

/// Issue 26 item 1: after any message, an empty one went out as an RSV1 frame with no payload,
/// which no inflater can read (it must be `00`, RFC 7692 §7.2.3.6); both ends are wscope here, so
/// both roles' senders and receivers are on the path.
#[tokio::test]
async fn an_empty_message_between_others_survives_deflate_in_both_roles() {
    let (mut child, addr) = listen(&["--echo"]);
    let url = format!("ws://{addr}/");
    let out = run_with(args(&[&url, "--json"]), Some(b"a\n\nb\n".to_vec())).await;
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let got = received(&out.stdout);
    assert_eq!(
        got,
        [
            ("a".to_string(), true),
            (String::new(), true),
            ("b".to_string(), true)
        ],
        "{}",
        out.stdout
    );
}

/// Issue 25 R2: messages, a close frame, then an HTTP response. Everything before the close is
/// shown, the close is clean, and nothing after it is parsed as frames.
#[tokio::test]
async fn junk_after_the_peer_s_close_frame_is_never_parsed() {
    let mut bytes = hostile::text("one");
    bytes.extend(hostile::text("two"));
    bytes.extend(hostile::close(1000, "bye"));
    bytes.extend_from_slice(JUNK);
    let server = Hostile::start(vec![Step::Send(bytes)]).await;
    let out = run_with(args(&[&server.url, "-w", "inf"]), Some(Vec::new())).await;
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    assert_eq!(out.stdout, "one\ntwo\n");
    assert!(out.stderr.contains("code 1000"), "{}", out.stderr);
    assert_eq!(hostile::close_code(&server.finish().await), Some(1000));
}

/// R2 with permessage-deflate: the junk's first byte would read as RSV1 on a control frame, and
/// permessage-deflate must not be blamed for what follows the close. With --dump too: the dump
/// decoder stops at the close as well.
#[tokio::test]
async fn junk_after_the_close_does_not_blame_deflate_and_the_dump_stops_there() {
    for dump in [false, true] {
        let mut bytes = frame(0xC1, HELLO);
        bytes.extend(frame(0xC1, HELLO_AGAIN));
        bytes.extend(hostile::close(1000, ""));
        bytes.extend_from_slice(JUNK);
        let (url, _server) = peer(Some("permessage-deflate"), vec![(0, bytes)]).await;
        let mut a = args(&[&url, "-w", "inf"]);
        if dump {
            a.push("--dump".into());
        }
        let out = run_with(a, Some(Vec::new())).await;
        assert_eq!(out.code, 0, "dump {dump}: {}", out.stderr);
        assert_eq!(out.stdout, "Hello\nHello\n", "dump {dump}");
        assert!(!out.stderr.contains("broke"), "{}", out.stderr);
        if dump {
            // The 'H' of the junk would decode as a close frame with RSV1: never shown.
            assert!(!out.stderr.contains("RSV1 close"), "{}", out.stderr);
            assert_eq!(out.stderr.matches("FIN close").count(), 2, "{}", out.stderr);
        }
    }
}

/// Issue 24 item 4: inspect closes through the session's stack, so a server that accepts
/// permessage-deflate and greets with a compressed message is not blamed (it was exit 6,
/// "Reserved bits are non-zero", while `wscope URL` exits 0).
#[tokio::test]
async fn inspect_against_a_compressing_server_exits_0() {
    let (url, _server) = peer(Some("permessage-deflate"), vec![(0, frame(0xC1, HELLO))]).await;
    let out = support::run(args(&["inspect", &url])).await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("all checks passed"), "{}", out.stdout);
    let (url, _server) = peer(Some("permessage-deflate"), vec![(0, frame(0xC1, HELLO))]).await;
    let out = support::run(args(&[&url, "-w", "0"])).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
}

/// Issue 26 item 7: `inspect --dump` shows the frames of its close (and what came before it),
/// `--dump-file` writes them to a file.
#[tokio::test]
async fn inspect_dump_shows_the_frames_of_its_close() {
    let (url, _server) = peer(Some("permessage-deflate"), vec![(0, frame(0xC1, HELLO))]).await;
    let out = support::run(args(&["inspect", &url, "--dump"])).await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    for line in ["<< ", ">> ", "FIN close", "inflated: \"Hello\""] {
        assert!(
            out.stderr.contains(line),
            "missing {line:?} in\n{}",
            out.stderr
        );
    }
    assert_eq!(out.stderr.matches("FIN close").count(), 2, "{}", out.stderr);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dump.txt");
    let (url, _server) = peer(Some("permessage-deflate"), vec![]).await;
    let out = support::run(args(&[
        "inspect",
        &url,
        "--dump-file",
        file.to_str().unwrap(),
    ]))
    .await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let dumped = std::fs::read_to_string(&file).unwrap();
    assert_eq!(dumped.matches("FIN close").count(), 2, "{dumped}");
    assert!(!out.stderr.contains("FIN close"), "{}", out.stderr);
}

/// Issue 26 item 6: the dump's inflater follows the messages while the dump is off, so a message
/// whose window an earlier one filled is shown inflated once `/dump on` comes.
#[tokio::test]
async fn dump_on_mid_session_shows_compressed_messages_inflated() {
    let script = vec![(0, frame(0xC1, HELLO)), (1, frame(0xC1, HELLO_AGAIN))];
    let (url, _server) = peer(Some("permessage-deflate"), script).await;
    let out = support::run(args(&[
        &url, "-x", "/dump on", "-x", "sent", "--count", "2",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("inflated 5 bytes from 5 (100%)"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("inflated: \"Hello\""), "{}", out.stderr);
    assert!(!out.stderr.contains("not shown"), "{}", out.stderr);
}

/// R2 when everything comes in the same read as the 101: the bytes behind the response head go
/// to the library first, so they too must stop at the close frame, whatever follows it (here a
/// header declaring 2^63 bytes, which the library would refuse as too big).
#[tokio::test]
async fn junk_after_a_close_that_came_with_the_101_is_never_parsed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    for junk in [
        JUNK.to_vec(),
        vec![0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3],
    ] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/", listener.local_addr().unwrap());
        let sent = junk.clone();
        let server = tokio::spawn(async move {
            let (mut tcp, _) = listener.accept().await.unwrap();
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = tcp.read(&mut buf).await.unwrap();
                assert!(n > 0);
                head.extend_from_slice(&buf[..n]);
            }
            let text = String::from_utf8_lossy(&head).to_string();
            let key = text
                .lines()
                .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
                .unwrap()
                .trim()
                .to_string();
            let accept =
                tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
            let mut all = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
            )
            .into_bytes();
            all.extend(hostile::text("one"));
            all.extend(hostile::close(1000, ""));
            all.extend_from_slice(&sent);
            tcp.write_all(&all).await.unwrap();
            // Drain until the client goes.
            while matches!(tcp.read(&mut buf).await, Ok(n) if n > 0) {}
        });
        let out = run_with(args(&[&url, "-w", "inf", "--no-deflate"]), Some(Vec::new())).await;
        let _ = server.await;
        assert_eq!(out.code, 0, "junk {junk:x?}: {}", out.stderr);
        assert_eq!(out.stdout, "one\n");
    }
}
