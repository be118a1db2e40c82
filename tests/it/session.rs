//! The session as a user and a server see it: pipe mode and -x scripting against a recording echo
//! server, and every way a server can end or break a connection, against hostile raw-TCP servers
//! (SPEC.md "Pipe mode and scripting" and "Exit codes"; issue 3).

use crate::support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

use support::hostile::{self, Hostile, Step};
use support::{args, run_with, Out};

/// What the recording server got from the client.
#[derive(Debug, Clone, PartialEq)]
enum Got {
    Text(String),
    Binary(Vec<u8>),
    Close(Option<u16>),
}

/// A tokio-tungstenite server for one client that records what it receives. It pushes `push`
/// first, then echoes data messages unless `echo` is false; with `slow` it sleeps 1 ms every 100
/// messages so the client has to wait for it.
struct Recorder {
    url: String,
    got: Arc<Mutex<Vec<Got>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Recorder {
    async fn start(push: Vec<Message>, echo: bool, slow: bool) -> Recorder {
        Self::spawn(push, echo, slow, Duration::ZERO).await
    }

    /// An echo server that waits `delay` before reading the upgrade request.
    async fn slow_handshake(delay: Duration) -> Recorder {
        Self::spawn(Vec::new(), true, false, delay).await
    }

    async fn spawn(push: Vec<Message>, echo: bool, slow: bool, delay: Duration) -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/", listener.local_addr().unwrap());
        let got = Arc::new(Mutex::new(Vec::new()));
        let rec = got.clone();
        let task = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            tokio::time::sleep(delay).await;
            let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
            for m in push {
                ws.send(m).await.unwrap();
            }
            let mut n = 0u64;
            while let Some(Ok(m)) = ws.next().await {
                let g = match &m {
                    Message::Text(t) => Got::Text(t.to_string()),
                    Message::Binary(b) => Got::Binary(b.to_vec()),
                    Message::Close(f) => Got::Close(f.as_ref().map(|f| u16::from(f.code))),
                    _ => continue,
                };
                rec.lock().unwrap().push(g);
                n += 1;
                if slow && n % 100 == 0 {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                if echo && (m.is_text() || m.is_binary()) && ws.send(m).await.is_err() {
                    break;
                }
            }
        });
        Recorder { url, got, task }
    }

    async fn echo() -> Recorder {
        Self::start(Vec::new(), true, false).await
    }

    /// Everything received, once the client has gone.
    async fn finish(self) -> Vec<Got> {
        let _ = tokio::time::timeout(Duration::from_secs(10), self.task).await;
        self.got.lock().unwrap().clone()
    }
}

fn no_panic(out: &Out) {
    assert!(
        !out.stderr.contains("panicked"),
        "wscope panicked:\n{}",
        out.stderr
    );
}

fn lines(n: usize) -> (Vec<String>, Vec<u8>) {
    let lines: Vec<String> = (0..n).map(|i| format!("line {i} of {n}")).collect();
    let mut input = lines.join("\n").into_bytes();
    input.push(b'\n');
    (lines, input)
}

/// Every line piped in comes back, in order, and the server saw each as one text message.
async fn pipe_roundtrip(server: Recorder, extra: &[&str]) {
    let (sent, input) = lines(20_000);
    let mut a = args(&[&server.url]);
    a.extend(args(extra));
    let out = run_with(a, Some(input)).await;
    no_panic(&out);
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    let back: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(back.len(), sent.len(), "stderr:\n{}", out.stderr);
    assert!(
        back.iter().zip(&sent).all(|(a, b)| a == b),
        "replies out of order or changed"
    );
    let got = server.finish().await;
    let texts: Vec<&Got> = got.iter().filter(|g| matches!(g, Got::Text(_))).collect();
    assert_eq!(texts.len(), sent.len());
    assert_eq!(got.last(), Some(&Got::Close(Some(1000))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_thousand_lines_come_back_in_order_with_the_default_wait() {
    pipe_roundtrip(Recorder::echo().await, &[]).await;
}

/// `--no-coalesce` reads every message as it comes: the same output, nothing lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_thousand_lines_come_back_in_order_without_read_coalescing() {
    pipe_roundtrip(Recorder::echo().await, &["--no-coalesce"]).await;
}

/// Lines longer than 64 KiB are handed over without a copy: each still arrives whole, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_lines_come_back_whole_and_in_order() {
    let server = Recorder::echo().await;
    let sent: Vec<String> = (0..4u8)
        .map(|i| {
            char::from(b'a' + i)
                .to_string()
                .repeat(100_000 + usize::from(i))
        })
        .collect();
    let mut input = sent.join("\n").into_bytes();
    input.push(b'\n');
    let out = run_with(args(&[&server.url, "--count", "4"]), Some(input)).await;
    no_panic(&out);
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    assert_eq!(out.stdout.lines().collect::<Vec<_>>(), sent);
    let got = server.finish().await;
    let texts: Vec<&Got> = got.iter().filter(|g| matches!(g, Got::Text(_))).collect();
    assert_eq!(texts.len(), 4);
}

/// A server that pushes a long stream at once: read in coalesced batches, every message is
/// printed, in order, and --count ends it as soon as the last one is in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pushed_stream_of_ten_thousand_messages_is_printed_whole_and_in_order() {
    let (sent, _) = lines(10_000);
    let push = sent.iter().map(|l| Message::text(l.as_str())).collect();
    let server = Recorder::start(push, false, false).await;
    let out = run_with(args(&[&server.url, "--count", "10000"]), None).await;
    no_panic(&out);
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    let back: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(back, sent, "stderr:\n{}", out.stderr);
    assert_eq!(server.finish().await, vec![Got::Close(Some(1000))]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_thousand_lines_through_a_slow_server_with_count() {
    pipe_roundtrip(
        Recorder::start(Vec::new(), true, true).await,
        &["--count", "20000"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_thousand_lines_through_a_slow_server_with_the_default_wait() {
    pipe_roundtrip(Recorder::start(Vec::new(), true, true).await, &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execute_once_prints_the_reply_and_closes_with_1000() {
    let server = Recorder::echo().await;
    let out = run_with(args(&[&server.url, "-x", "hello", "--once"]), None).await;
    no_panic(&out);
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    assert_eq!(out.stdout, "hello\n");
    assert_eq!(
        server.finish().await,
        vec![Got::Text("hello".into()), Got::Close(Some(1000))]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_x_commands_are_usage_errors_and_nothing_is_sent() {
    let long_reason = "r".repeat(124);
    let long_ping = "p".repeat(126);
    let cases: Vec<(String, &[&str])> = vec![
        ("/close 1005".into(), &["1005"]),
        ("/close 999".into(), &["999"]),
        (format!("/close 1000 {long_reason}"), &["123"]),
        ("/binary zz".into(), &["hex"]),
        (format!("/ping {long_ping}"), &["125"]),
        ("/frobnicate".into(), &["frobnicate"]),
        ("/to 1 hi".into(), &["listen"]),
    ];
    // One server for all: it must never see a connection.
    let server = support::servers::start(Default::default()).await;
    let url = format!("ws://{}/", server.addr);
    for (bad, words) in cases {
        let out = run_with(
            args(&[&url, "-x", "before", "-x", &bad, "-x", "after", "--once"]),
            None,
        )
        .await;
        no_panic(&out);
        assert_eq!(out.code, 2, "{bad}: stderr:\n{}", out.stderr);
        let shown: String = bad.chars().take(20).collect();
        assert!(
            out.stderr.contains(&format!("-x '{shown}")),
            "{bad}: the command is named:\n{}",
            out.stderr
        );
        for w in words {
            assert!(
                out.stderr.contains(w),
                "{bad}: stderr should name the rule ({w}):\n{}",
                out.stderr
            );
        }
        assert_eq!(out.stdout, "", "{bad}");
    }
    assert!(
        server.connections().is_empty(),
        "nothing may be sent: {:?}",
        server.connections()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_failing_while_running_is_reported_the_rest_run_and_the_exit_is_1() {
    let server = Recorder::echo().await;
    let out = run_with(
        args(&[
            &server.url,
            "-x",
            "/file /nonexistent",
            "-x",
            "after",
            "--once",
        ]),
        None,
    )
    .await;
    no_panic(&out);
    assert_eq!(out.code, 1, "stderr:\n{}", out.stderr);
    assert!(out.stderr.contains("/nonexistent"), "{}", out.stderr);
    assert_eq!(out.stdout, "after\n");
    assert_eq!(
        server.finish().await,
        vec![Got::Text("after".into()), Got::Close(Some(1000))],
        "the next -x still goes out, then our close"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_with_piped_stdin_says_once_that_stdin_is_ignored() {
    let server = Recorder::echo().await;
    let out = run_with(
        args(&[&server.url, "-x", "hello", "--once"]),
        Some(b"from stdin\nmore\n".to_vec()),
    )
    .await;
    no_panic(&out);
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    assert_eq!(
        out.stderr.matches("stdin is ignored").count(),
        1,
        "{}",
        out.stderr
    );
    assert_eq!(
        server.finish().await,
        vec![Got::Text("hello".into()), Got::Close(Some(1000))]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_closing_1000_after_three_messages_exits_0_with_all_printed() {
    let server = Hostile::start(vec![
        Step::Send(hostile::text("one")),
        Step::Send(hostile::text("two")),
        Step::Send(hostile::text("three")),
        Step::Send(hostile::close(1000, "")),
    ])
    .await;
    let out = run_with(args(&[&server.url, "-w", "inf"]), Some(Vec::new())).await;
    no_panic(&out);
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    assert_eq!(out.stdout, "one\ntwo\nthree\n");
    // We answer the server's close with the same code.
    assert_eq!(hostile::close_code(&server.finish().await), Some(1000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_after_the_servers_close_do_not_spoil_a_clean_ending() {
    // RFC 6455 §5.5.1: nothing after a close frame counts. Autobahn 7.1.2-7.1.6 do this.
    let server = Hostile::start(vec![
        Step::Send(hostile::close(1000, "")),
        Step::Send(hostile::text("too late")),
    ])
    .await;
    let out = run_with(args(&[&server.url, "-w", "inf"]), Some(Vec::new())).await;
    no_panic(&out);
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    assert!(!out.stdout.contains("too late"), "{}", out.stdout);
    assert!(
        out.stderr.contains("closed by the server, code 1000"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_closing_4002_is_reported_with_code_and_reason_and_exits_6() {
    let server = Hostile::start(vec![
        Step::Send(hostile::text("last words")),
        Step::Send(hostile::close(4002, "bye")),
    ])
    .await;
    let out = run_with(args(&[&server.url, "-w", "inf"]), Some(Vec::new())).await;
    no_panic(&out);
    assert_eq!(out.code, 6, "stderr:\n{}", out.stderr);
    assert_eq!(out.stdout, "last words\n");
    assert!(out.stderr.contains("4002"), "stderr:\n{}", out.stderr);
    assert!(out.stderr.contains("bye"), "stderr:\n{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_dropping_tcp_without_a_close_exits_6_as_abnormal() {
    let server = Hostile::start(vec![Step::Send(hostile::text("hi")), Step::Drop]).await;
    let out = run_with(args(&[&server.url, "-w", "inf"]), Some(Vec::new())).await;
    no_panic(&out);
    assert_eq!(out.code, 6, "stderr:\n{}", out.stderr);
    assert_eq!(out.stdout, "hi\n");
    assert!(out.stderr.contains("1006"), "stderr:\n{}", out.stderr);
    assert!(out.stderr.contains("abnormal"), "stderr:\n{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fragmented_message_with_a_ping_inside_is_reassembled_and_the_ping_answered() {
    let server = Hostile::start(vec![
        Step::Send(hostile::frame(0x01, b"hel")),
        Step::Send(hostile::frame(0x89, b"mid-ping")),
        Step::Send(hostile::frame(0x00, b"lo ")),
        Step::Send(hostile::frame(0x80, b"world")),
    ])
    .await;
    let out = run_with(args(&[&server.url, "--once"]), Some(Vec::new())).await;
    no_panic(&out);
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    assert_eq!(out.stdout, "hello world\n");
    let frames = server.finish().await;
    assert!(
        frames
            .iter()
            .any(|f| f.opcode == 0xA && f.payload == b"mid-ping" && f.mask.is_some()),
        "no masked pong with the ping's payload: {frames:?}"
    );
    assert_eq!(hostile::close_code(&frames), Some(1000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_violations_close_with_the_rfc_code_and_exit_6() {
    let mut invalid_utf8 = vec![0x81, 0x04];
    invalid_utf8.extend_from_slice(&[b'a', 0xff, 0xfe, b'b']);
    // (what the server does, its bytes, the code of our close frame, the code the ending line
    // shows, what stderr must say)
    let cases: Vec<(&str, Vec<u8>, u16, u16, &str)> = vec![
        (
            "masked frame",
            hostile::masked_frame(0x81, b"hi", [1, 2, 3, 4]),
            1002,
            1002,
            "masked",
        ),
        (
            "invalid UTF-8",
            invalid_utf8,
            1007,
            1007,
            "a text message that is not valid utf-8",
        ),
        (
            "invalid UTF-8 in a close reason",
            hostile::frame(0x88, &[0x03, 0xe8, b'o', b'k', 0xc3, 0x28]),
            1007,
            1007,
            "a close reason that is not valid utf-8",
        ),
        (
            "RSV1",
            hostile::frame(0xC1, b"hi"),
            1002,
            1002,
            "reserved bits",
        ),
        // Compressed text without a negotiated extension: the reserved bit is the violation,
        // not the bytes' UTF-8 (RFC 7692 §7.2.3 "Hello").
        (
            "RSV1 on compressed text (not UTF-8)",
            hostile::frame(0xC1, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]),
            1002,
            1002,
            "reserved bits",
        ),
        // socket.io without EIO: an HTTP refusal behind the 101. 'H' reads as RSV1 + opcode 8.
        (
            "HTTP after the 101",
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".to_vec(),
            1002,
            1002,
            "an http response after the upgrade instead of websocket frames: http/1.1 400 bad request",
        ),
        (
            "reserved opcode 0x3",
            hostile::frame(0x83, b"hi"),
            1002,
            1002,
            "opcode",
        ),
        // Only the header: the client must refuse the length, not wait for (or allocate) it.
        (
            "2^63 length",
            hostile::header_only(0x82, 1 << 63),
            1009,
            1009,
            "--max-message-size",
        ),
        (
            "126-byte ping",
            hostile::frame(0x89, &[b'p'; 126]),
            1002,
            1002,
            "125",
        ),
        // tungstenite turns it into 1002 (and so does our echo of it), but the user is shown the
        // 1005 that was on the wire.
        (
            "close 1005 on the wire",
            hostile::close(1005, ""),
            1002,
            1005,
            "may never be sent",
        ),
    ];
    // Invalid UTF-8 is caught in two places: in the bytes that came with the handshake response
    // (which tungstenite parses before any read of ours) and in a later read. Try both.
    let cases = cases
        .into_iter()
        .flat_map(|(what, bytes, want, shown, says)| {
            let pauses = if what.contains("UTF-8") || what.contains("HTTP") {
                vec![Duration::ZERO, Duration::from_millis(100)]
            } else {
                vec![Duration::ZERO]
            };
            pauses
                .into_iter()
                .map(move |p| (what, bytes.clone(), want, shown, says, p))
        });
    for (what, bytes, want, shown, says, pause) in cases {
        let server = Hostile::start(vec![Step::Pause(pause), Step::Send(bytes)]).await;
        let out = run_with(args(&[&server.url, "-w", "inf"]), Some(Vec::new())).await;
        no_panic(&out);
        assert_eq!(out.code, 6, "{what}: stderr:\n{}", out.stderr);
        assert!(
            out.stderr.to_lowercase().contains(says),
            "{what}: stderr should say {says:?}:\n{}",
            out.stderr
        );
        // The connection was not lost: we closed it, with the code below.
        assert!(
            out.stderr.contains(&format!("closed by us, code {shown}"))
                || out
                    .stderr
                    .contains(&format!("closed by the server, code {shown}")),
            "{what}: who closed, with which code:\n{}",
            out.stderr
        );
        let frames = server.finish().await;
        assert_eq!(
            hostile::close_code(&frames),
            Some(want),
            "{what}: our close frame; stderr:\n{}",
            out.stderr
        );
    }
}

/// VmRSS of a process in KiB, from /proc.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// A server that stops reading while 200 MB wait on stdin. What this proves: after a few seconds
/// of a writer pushing as fast as the pipe allows, the client is still alive (blocked, not
/// crashed) and its resident memory is far below the input size, i.e. it does not read stdin
/// ahead into an unbounded queue. It does not prove the bound holds forever, only that memory
/// is not growing with the input at pipe speed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_stops_reading_keeps_client_memory_bounded() {
    stalled_server_memory(1024).await;
}

/// Long lines: the input queue is bounded in bytes, not only in lines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_lines_to_a_server_that_stops_reading_keep_client_memory_bounded() {
    stalled_server_memory(64 * 1024).await;
}

/// 200 MB of `line_len`-byte lines into a client whose server stopped reading: its RSS stays small.
async fn stalled_server_memory(line_len: usize) {
    use std::io::Write;
    use std::process::{Command, Stdio};

    let server = Hostile::stalled().await;
    let url = server.url.clone();
    let (alive, rss, fed) = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("wscope"))
            .arg(&url)
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let fed = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counter = fed.clone();
        // 200 MB of lines, written until the child stops taking them.
        std::thread::spawn(move || {
            let mut line = vec![b'x'; line_len - 1];
            line.push(b'\n');
            for _ in 0..200 * 1024 * 1024 / line_len {
                if stdin.write_all(&line).is_err() {
                    return;
                }
                counter.fetch_add(line.len() as u64, std::sync::atomic::Ordering::Relaxed);
            }
        });
        let mut peak = 0;
        for _ in 0..16 {
            std::thread::sleep(Duration::from_millis(250));
            peak = peak.max(rss_kib(child.id()).unwrap_or(0));
        }
        let alive = child.try_wait().unwrap().is_none();
        let _ = child.kill();
        let _ = child.wait();
        (alive, peak, fed.load(std::sync::atomic::Ordering::Relaxed))
    })
    .await
    .unwrap();
    assert!(alive, "the client died while the server was not reading");
    assert!(rss > 0, "could not read the client's VmRSS");
    assert!(
        rss < 100 * 1024,
        "client RSS {rss} KiB with a stalled server ({line_len}-byte lines, fed {fed} bytes)"
    );
    // The stall must actually have happened: far less than 200 MB was taken from the pipe.
    assert!(
        fed < 150 * 1024 * 1024,
        "stdin was drained ({fed} bytes): the server did not stall the client"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_output_is_one_object_per_line_with_sent_received_and_close() {
    let server = Recorder::echo().await;
    let out = run_with(
        args(&[
            &server.url,
            "--json",
            "-x",
            "hello",
            "-x",
            "/binary 01 ff",
            "--count",
            "2",
        ]),
        None,
    )
    .await;
    no_panic(&out);
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    let events: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    for e in &events {
        assert!(e["event"].is_string(), "{e}");
        assert!(e["t"].is_number(), "{e}");
        assert!(e["time"].is_number(), "{e}");
    }
    let of = |name: &str| -> Vec<&serde_json::Value> {
        events.iter().filter(|e| e["event"] == name).collect()
    };
    let sent = of("sent");
    assert_eq!(sent.len(), 2, "{}", out.stdout);
    assert_eq!(sent[0]["type"], "text");
    assert_eq!(sent[0]["data"], "hello");
    assert_eq!(sent[0]["size"], 5);
    assert_eq!(sent[1]["type"], "binary");
    assert_eq!(sent[1]["hex"], "01ff");
    let received = of("received");
    assert_eq!(received.len(), 2, "{}", out.stdout);
    assert_eq!(received[0]["data"], "hello");
    assert_eq!(received[1]["hex"], "01ff");
    assert_eq!(received[1]["size"], 2);
    let closes = of("close");
    assert!(
        closes
            .iter()
            .any(|c| c["dir"] == "sent" && c["code"] == 1000),
        "{}",
        out.stdout
    );
    assert!(
        closes
            .iter()
            .any(|c| c["dir"] == "received" && c["code"] == 1000),
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_mirrors_pushed_messages_with_their_types() {
    let server = Recorder::start(
        vec![
            Message::text("first"),
            Message::binary(vec![0u8, 1, 2, 0xff]),
            Message::text("third"),
        ],
        false,
        false,
    )
    .await;
    let out = run_with(
        args(&[&server.url, "--echo", "--count", "3"]),
        Some(Vec::new()),
    )
    .await;
    no_panic(&out);
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    assert_eq!(
        server.finish().await,
        vec![
            Got::Text("first".into()),
            Got::Binary(vec![0, 1, 2, 0xff]),
            Got::Text("third".into()),
            Got::Close(Some(1000)),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_interval_shows_pong_round_trip_times() {
    let server = Recorder::echo().await;
    let out = run_with(
        args(&[&server.url, "--ping-interval", "0.2", "-P", "-w", "1"]),
        Some(Vec::new()),
    )
    .await;
    no_panic(&out);
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    let pongs: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("pong") && l.contains("ms"))
        .collect();
    assert!(pongs.len() >= 2, "no pong RTT lines:\n{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_timeout_against_a_server_that_never_answers_exits_6() {
    // The hostile server reads (and records) our pings but never answers them.
    let server = Hostile::start(Vec::new()).await;
    let out = run_with(
        args(&[&server.url, "--ping-timeout", "1", "-w", "inf"]),
        Some(Vec::new()),
    )
    .await;
    no_panic(&out);
    assert_eq!(out.code, 6, "stderr:\n{}", out.stderr);
    assert!(
        out.stderr.contains("stopped answering"),
        "stderr:\n{}",
        out.stderr
    );
    let frames = server.finish().await;
    assert!(
        frames.iter().any(|f| f.opcode == 0x9),
        "no ping sent: {frames:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_piped_in_before_the_handshake_completes_are_all_sent() {
    // stdin is complete (EOF included) long before the server answers the upgrade.
    let server = Recorder::slow_handshake(Duration::from_millis(700)).await;
    let (sent, input) = lines(500);
    let out = run_with(args(&[&server.url]), Some(input)).await;
    no_panic(&out);
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    assert_eq!(out.stdout.lines().collect::<Vec<_>>(), sent);
    let got = server.finish().await;
    assert_eq!(got.len(), sent.len() + 1);
    assert_eq!(got[0], Got::Text(sent[0].clone()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_zero_closes_at_once_but_keeps_replies_that_arrive_before_the_close() {
    let server = Recorder::echo().await;
    let (sent, input) = lines(1000);
    let out = run_with(args(&[&server.url, "-w", "0"]), Some(input)).await;
    no_panic(&out);
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    // The echo server answers every message before it sees our close, so all replies come back.
    assert_eq!(out.stdout.lines().collect::<Vec<_>>(), sent);
    assert_eq!(server.finish().await.last(), Some(&Got::Close(Some(1000))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_code_and_reason_flags_are_what_the_server_receives() {
    let server = Hostile::start(Vec::new()).await;
    let out = run_with(
        args(&[
            &server.url,
            "-x",
            "hi",
            "-w",
            "0",
            "--close-code",
            "4001",
            "--close-reason",
            "done here",
        ]),
        None,
    )
    .await;
    no_panic(&out);
    // We started the close handshake, so any code is a clean end.
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    let frames = server.finish().await;
    let close = frames
        .iter()
        .find_map(|f| f.close_info())
        .expect("no close frame");
    assert_eq!(close.code, Some(4001));
    assert_eq!(close.reason, "done here");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_with_1000_and_exits_0() {
    use std::process::{Command, Stdio};

    let server = Hostile::start(vec![Step::Send(hostile::text("ready"))]).await;
    let url = server.url.clone();
    let (code, stdout) = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("wscope"))
            .args([url.as_str(), "-w", "inf"])
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Keep stdin open: only the signal may end this session.
        let _stdin = child.stdin.take();
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 6];
        std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
        let pid = libc::pid_t::try_from(child.id()).unwrap();
        // SAFETY: plain kill(2) on the child we just spawned and have not reaped.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let status = child.wait().unwrap();
        (status.code(), String::from_utf8_lossy(&first).into_owned())
    })
    .await
    .unwrap();
    assert_eq!(stdout, "ready\n");
    assert_eq!(code, Some(0));
    assert_eq!(hostile::close_code(&server.finish().await), Some(1000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_reports_a_bad_server_close_as_close_and_error_events() {
    let server = Hostile::start(vec![Step::Send(hostile::close(4002, "bye"))]).await;
    let out = run_with(
        args(&[&server.url, "--json", "-w", "inf"]),
        Some(Vec::new()),
    )
    .await;
    no_panic(&out);
    assert_eq!(out.code, 6, "stderr:\n{}", out.stderr);
    let events: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        events.iter().any(|e| e["event"] == "close"
            && e["dir"] == "received"
            && e["code"] == 4002
            && e["reason"] == "bye"),
        "{}",
        out.stdout
    );
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "error" && e["message"].as_str().unwrap_or("").contains("4002")),
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_going_away_with_1001_is_a_clean_end() {
    let server = Hostile::start(vec![Step::Send(hostile::close(1001, "restart"))]).await;
    let out = run_with(args(&[&server.url, "-w", "inf"]), Some(Vec::new())).await;
    no_panic(&out);
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    assert!(out.stderr.contains("1001"), "stderr:\n{}", out.stderr);
    assert_eq!(hostile::close_code(&server.finish().await), Some(1001));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stdout_pipe_exits_0_quietly() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};

    // Far more output than the pipe and our buffer hold, so a write must hit the closed pipe.
    let flood: Vec<u8> = (0..100_000).flat_map(|_| hostile::text("flood")).collect();
    let server = Hostile::start(vec![Step::Send(flood)]).await;
    let url = server.url.clone();
    let (code, stderr) = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("wscope"))
            .args([url.as_str(), "-w", "inf"])
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let _stdin = child.stdin.take();
        let mut first = String::new();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut first).unwrap();
        assert_eq!(first, "flood\n");
        // Like `| head -1`: the reader goes away.
        drop(stdout);
        let out = child.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap();
    assert_eq!(code, Some(0), "stderr:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.to_lowercase().contains("broken pipe"), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
}

/// Run wscope against a server that never reads, with stdin flooded so every queue is full.
/// With `sigterm`, signal it after 2 s. Returns its exit status (None: still running after 15 s
/// more, then killed) and stderr.
async fn against_a_stalled_server(
    extra: &[&str],
    sigterm: bool,
) -> (Option<std::process::ExitStatus>, String) {
    against(Hostile::stalled().await, extra, sigterm).await
}

async fn against(
    server: Hostile,
    extra: &[&str],
    sigterm: bool,
) -> (Option<std::process::ExitStatus>, String) {
    use std::io::Write;
    use std::process::{Command, Stdio};

    let mut a = args(&[&server.url]);
    a.extend(args(extra));
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("wscope"))
            .args(&a)
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        std::thread::spawn(move || {
            let mut line = vec![b'x'; 1023];
            line.push(b'\n');
            while stdin.write_all(&line).is_ok() {}
        });
        std::thread::sleep(Duration::from_secs(2));
        if sigterm {
            let pid = libc::pid_t::try_from(child.id()).unwrap();
            // SAFETY: plain kill(2) on the child we spawned and have not reaped.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        let status = loop {
            if let Some(st) = child.try_wait().unwrap() {
                break Some(st);
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        (status, err)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_a_session_stuck_behind_a_server_that_stopped_reading() {
    // Our close frame cannot be written either; the client must still end in bounded time.
    let (status, stderr) = against_a_stalled_server(&[], true).await;
    let status = status.unwrap_or_else(|| panic!("still running 15 s after SIGTERM:\n{stderr}"));
    assert!(!stderr.contains("panicked"), "{stderr}");
    // The server never answered our close: not a clean end, and the signal's code (SPEC "Pipe
    // mode": 130/143 unless a clean close completed in time; this was 6 before issue 25).
    assert_eq!(status.code(), Some(143), "stderr:\n{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_timeout_detects_a_peer_that_stopped_reading_while_input_is_pending() {
    // A dead peer is exactly one whose socket stopped draining: the pings queue up behind the
    // data, yet the timeout must fire.
    let (status, stderr) = against_a_stalled_server(&["--ping-timeout", "1"], false).await;
    let status = status.unwrap_or_else(|| panic!("no ping timeout after 17 s:\n{stderr}"));
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(status.code(), Some(6), "stderr:\n{stderr}");
    assert!(stderr.contains("stopped answering"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_over_max_message_size_close_with_1009() {
    let cases: Vec<(&str, Vec<Step>)> = vec![
        (
            "one big frame",
            vec![Step::Send(hostile::frame(0x81, &[b'a'; 200]))],
        ),
        (
            "small fragments adding up",
            vec![
                Step::Send(hostile::frame(0x01, &[b'a'; 60])),
                Step::Send(hostile::frame(0x00, &[b'b'; 60])),
                Step::Send(hostile::frame(0x80, &[b'c'; 60])),
            ],
        ),
    ];
    for (what, script) in cases {
        let server = Hostile::start(script).await;
        let out = run_with(
            args(&[&server.url, "--max-message-size", "125", "-w", "inf"]),
            Some(Vec::new()),
        )
        .await;
        no_panic(&out);
        assert_eq!(out.code, 6, "{what}: stderr:\n{}", out.stderr);
        assert_eq!(out.stdout, "", "{what}");
        assert!(
            out.stderr.contains("--max-message-size"),
            "{what}: the flag that fixes it:\n{}",
            out.stderr
        );
        assert_eq!(
            hostile::close_code(&server.finish().await),
            Some(1009),
            "{what}: stderr:\n{}",
            out.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_an_echo_session_with_a_server_that_pushes_but_never_reads() {
    // Echoing fills the write queue; the loop must still hear the signal.
    let flood: Vec<u8> = (0..3_000_000).flat_map(|_| hostile::text("push")).collect();
    let server = Hostile::stalled_after(flood).await;
    let (status, stderr) = against(server, &["--echo", "-w", "inf"], true).await;
    let status = status.unwrap_or_else(|| panic!("still running 15 s after SIGTERM:\n{stderr}"));
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Not a clean close: the signal's code (was 6 before issue 25, see above).
    assert_eq!(status.code(), Some(143), "stderr:\n{stderr}");
}
