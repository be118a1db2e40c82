//! `wscope replay` and `listen --replay`: the real binary replaying a HAR file shaped like
//! Chromium's export (tests/fixtures/chromium.har) and transcripts, against the recording echo
//! server, hostile raw servers and `wscope listen`; what the server receives (order, types,
//! headers, gaps) and what the user sees (output, exit codes, errors naming the file).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use crate::listen::Server as Listen;
use crate::support::hostile::{self, Hostile, Step};
use crate::support::{self, args, servers};

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

/// A file in a fresh temporary directory (kept alive by the returned guard).
fn temp_file(name: &str, content: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    (dir, path.display().to_string())
}

fn data(messages: &[Message]) -> Vec<Message> {
    messages
        .iter()
        .filter(|m| matches!(m, Message::Text(_) | Message::Binary(_)))
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_har_entry_is_replayed_in_order_with_its_types_origin_and_subprotocols() {
    let server = servers::start(servers::Options::default()).await;
    let url = format!("ws://{}/socket", server.addr);
    let out = support::run(args(&[
        "replay",
        &fixture("chromium.har"),
        &url,
        "--fast",
        "--idle",
        "0.3",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let conn = server.single();
    assert_eq!(
        data(&conn.messages),
        [
            Message::text(r#"{"type":"join","name":"ada"}"#),
            Message::binary(vec![0u8, 1, 2, 255]),
            // `${` in a recorded message is text, not a script variable.
            Message::text("bye ${not a variable}"),
        ]
    );
    assert_eq!(
        conn.header_exact("Origin").as_deref(),
        Some("https://chat.example.test")
    );
    assert_eq!(
        conn.header_exact("Sec-WebSocket-Protocol").as_deref(),
        Some("chat.v2, chat.v1")
    );
    // Only Origin and the subprotocols come from a HAR: not its cookies, browser headers or key.
    let head = conn.raw_head.to_ascii_lowercase();
    assert!(!head.contains("cookie"), "{head}");
    assert!(!head.contains("chrome/131"), "{head}");
    assert!(!head.contains("dghlihnhbxbszsbub25jzq=="), "{head}");
    assert!(!head.contains("host: chat.example.test"), "{head}");
    assert!(
        out.stderr.contains("--har-cookies"),
        "the user is told the cookies were left out: {}",
        out.stderr
    );
    // Output as in pipe mode: the echoes on stdout, binary as hex.
    assert_eq!(
        out.stdout,
        "{\"type\":\"join\",\"name\":\"ada\"}\n000102ff\nbye ${not a variable}\n"
    );
}

#[tokio::test]
async fn har_cookies_are_sent_only_when_asked_and_entry_picks_another_websocket() {
    let server = servers::start(servers::Options::default()).await;
    let url = format!("ws://{}/", server.addr);
    let har = fixture("chromium.har");
    let out = support::run(args(&[
        "replay",
        &har,
        &url,
        "--entry",
        "1",
        "--har-cookies",
        "--fast",
        "--idle",
        "0.3",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    // Entry 1 has no cookie; its one message is sent.
    assert_eq!(data(&server.single().messages), [Message::text("present")]);

    let server = servers::start(servers::Options::default()).await;
    let url = format!("ws://{}/", server.addr);
    let out = support::run(args(&[
        "replay",
        &har,
        &url,
        "--har-cookies",
        "--fast",
        "--idle",
        "0.3",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        server.single().header_exact("Cookie").as_deref(),
        Some("session=c0ffee; theme=dark")
    );
}

#[tokio::test]
async fn list_shows_the_websockets_with_their_message_counts() {
    let out = support::run(args(&["replay", &fixture("chromium.har"), "--list"])).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "0  wss://chat.example.test/socket?room=7  3 sent, 4 received\n\
         1  wss://chat.example.test/presence  1 sent, 1 received\n"
    );
}

#[tokio::test]
async fn recorded_gaps_are_kept_scaled_by_speed_or_dropped_with_fast() {
    // Two client messages 0.8 s apart, the first 0.4 s after the connection opened.
    let (_dir, path) = temp_file(
        "gaps.jsonl",
        concat!(
            r#"{"event":"session","role":"client","url":"ws://127.0.0.1:1/","headers":[]}"#,
            "\n",
            r#"{"event":"sent","t":0.4,"type":"text","data":"one"}"#,
            "\n",
            r#"{"event":"sent","t":1.2,"type":"text","data":"two"}"#,
            "\n",
        ),
    );
    let mut took = Vec::new();
    for extra in [&[][..], &["--speed", "4"][..], &["--fast"][..]] {
        let server = servers::start(servers::Options::default()).await;
        let url = format!("ws://{}/", server.addr);
        let mut a = args(&["replay", &path, &url, "--idle", "0.2"]);
        a.extend(args(extra));
        let started = Instant::now();
        let out = support::run(a).await;
        took.push(started.elapsed());
        assert_eq!(out.code, 0, "{extra:?}: {}", out.stderr);
        assert_eq!(out.stdout, "one\ntwo\n", "{extra:?}");
    }
    // Loosely: 1.2 s of gaps, then 0.3 s, then none (plus start-up and --idle each time).
    assert!(took[0] >= Duration::from_millis(1200), "{took:?}");
    assert!(took[1] >= Duration::from_millis(300), "{took:?}");
    assert!(took[1] < took[0], "{took:?}");
    assert!(took[2] < took[1], "{took:?}");
}

#[tokio::test]
async fn replay_exits_as_pipe_mode_does() {
    // The server closes with 1011 once it has the recorded messages: exit 6, as for `wscope URL`.
    let server = Hostile::start(vec![
        Step::AwaitFrames(2),
        Step::Send(hostile::close(1011, "internal")),
    ])
    .await;
    let out = support::run(args(&[
        "replay",
        &fixture("chromium.har"),
        &server.url,
        "--fast",
    ]))
    .await;
    assert_eq!(out.code, 6, "{}", out.stderr);
    let frames = server.finish().await;
    // On the wire: a text frame, then a binary one, with the recorded payloads.
    assert_eq!(frames[0].opcode, 0x1);
    assert_eq!(frames[0].payload, br#"{"type":"join","name":"ada"}"#);
    assert_eq!(frames[1].opcode, 0x2);
    assert_eq!(frames[1].payload, [0, 1, 2, 255]);

    // The recorded URL is used unless one is given: a closed port is exit 3.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = dead.local_addr().unwrap();
    drop(dead);
    let (_dir, path) = temp_file(
        "dead.jsonl",
        &format!("{{\"event\":\"session\",\"role\":\"client\",\"url\":\"ws://{addr}/\"}}\n"),
    );
    let out = support::run(args(&["replay", &path])).await;
    assert_eq!(out.code, 3, "{}", out.stderr);
}

#[tokio::test]
async fn bad_recordings_are_usage_errors_naming_the_file_and_line() {
    let cases = [
        (
            "bad.jsonl",
            "{\"event\":\"session\",\"role\":\"client\",\"url\":\"ws://h/\"}\n{\"event\":\"sent\"\n{}\n",
            "bad.jsonl line 2: not valid JSON",
        ),
        (
            "nosession.jsonl",
            "{\"event\":\"sent\",\"type\":\"text\",\"data\":\"x\"}\n",
            "nosession.jsonl line 1: a transcript starts with a `session` line",
        ),
        (
            "broken.har",
            "{\n  \"log\": {\n    \"entries\": [,]\n  }\n}\n",
            "broken.har line 3: not valid JSON",
        ),
        (
            "nows.har",
            "{\"log\":{\"entries\":[{\"_resourceType\":\"document\"}]}}",
            "nows.har: the recording holds no WebSocket",
        ),
        (
            "badb64.har",
            "{\"log\":{\"entries\":[{\"_resourceType\":\"websocket\",\"request\":{\"url\":\"ws://h/\"},\
             \"_webSocketMessages\":[{\"type\":\"send\",\"time\":1,\"opcode\":2,\"data\":\"!!\"}]}]}}",
            "badb64.har: WebSocket entry 0, message 0: binary data is not base64",
        ),
    ];
    for (name, content, expected) in cases {
        let (_dir, path) = temp_file(name, content);
        let out = support::run(args(&["replay", &path])).await;
        assert_eq!(out.code, 2, "{name}: {}", out.stderr);
        assert!(out.stderr.contains(expected), "{name}: {}", out.stderr);
    }
    let out = support::run(args(&["replay", &fixture("chromium.har"), "--entry", "2"])).await;
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("--entry 2 is out of range: it holds 2 WebSockets"),
        "{}",
        out.stderr
    );
    let out = support::run(args(&["replay", "/nonexistent/x.har"])).await;
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("'/nonexistent/x.har'"),
        "{}",
        out.stderr
    );
    let out = support::run(args(&["replay", &fixture("chromium.har"), "--speed", "0"])).await;
    assert_eq!(out.code, 2, "{}", out.stderr);
}

/// The next message, within a deadline.
async fn next<S>(ws: &mut tokio_tungstenite::WebSocketStream<S>) -> Message
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .expect("an answer in time")
        .expect("open")
        .expect("no error")
}

#[tokio::test]
async fn listen_replay_answers_each_client_message_with_what_followed_it() {
    let server = Listen::start(&["--replay", &fixture("chromium.har")]);
    let tcp = tokio::net::TcpStream::connect(
        server
            .url("/")
            .trim_start_matches("ws://")
            .trim_end_matches('/'),
    )
    .await
    .unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(server.url("/"), tcp)
        .await
        .expect("handshake");
    // What the server sent before any client message comes right after the handshake...
    assert_eq!(
        next(&mut ws).await,
        Message::text(r#"{"type":"welcome","room":7}"#)
    );
    // ...and nothing more until the client speaks.
    assert!(
        tokio::time::timeout(Duration::from_millis(300), ws.next())
            .await
            .is_err(),
        "the server answered before it was spoken to"
    );
    ws.send(Message::text("anything")).await.unwrap();
    assert_eq!(
        next(&mut ws).await,
        Message::text(r#"{"type":"joined","members":2}"#)
    );
    ws.send(Message::text("more")).await.unwrap();
    assert_eq!(
        next(&mut ws).await,
        Message::binary(vec![0xdeu8, 0xad, 0xbe, 0xef])
    );
    assert_eq!(
        next(&mut ws).await,
        Message::text(r#"{"type":"typing","who":"bob"}"#)
    );
    ws.close(None).await.unwrap();
}

#[tokio::test]
async fn listen_replay_is_a_mock_server_for_a_wscope_client() {
    let server = Listen::start(&["--replay", &fixture("chromium.har")]);
    let out = support::run(args(&[
        &server.url("/"),
        "-x",
        "hello",
        "-x",
        "/sleep 0.2",
        "-x",
        "/binary 01",
        "--idle",
        "0.5",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "{\"type\":\"welcome\",\"room\":7}\n{\"type\":\"joined\",\"members\":2}\ndeadbeef\n{\"type\":\"typing\",\"who\":\"bob\"}\n"
    );
    // A bad file is refused before listening.
    let (_dir, path) = temp_file("bad.jsonl", "{\"event\":\"session\"}\nnope\n{}\n");
    let out = support::run(args(&["listen", "127.0.0.1:0", "--replay", &path])).await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("bad.jsonl line 2"), "{}", out.stderr);
}

/// Review finding: the recording was read with a blocking read on the runtime thread, so a FIFO
/// with no writer hung `replay` (and `listen --replay`) for ever. Only a regular file is read.
#[tokio::test]
async fn a_fifo_as_the_recording_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let c = std::ffi::CString::new(fifo.display().to_string()).unwrap();
    // SAFETY: mkfifo on a path in our own temporary directory.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let fifo_arg = fifo.display().to_string();
    let ran = tokio::time::timeout(
        Duration::from_secs(20),
        support::run(args(&["replay", &fifo_arg, "--fast"])),
    )
    .await;
    let out = ran.expect("replay of a FIFO without a writer hung");
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("not a regular file"), "{}", out.stderr);
    let ran = tokio::time::timeout(
        Duration::from_secs(20),
        support::run(args(&["listen", "127.0.0.1:0", "--replay", &fifo_arg])),
    )
    .await;
    let out = ran.expect("listen --replay of a FIFO without a writer hung");
    assert_eq!(out.code, 2, "{}", out.stderr);
}
