//! The opening handshake as a user sees it: `inspect` against a recording server (what we send
//! arrives as typed; what we check is shown), and raw-TCP servers that answer exactly the bytes a
//! test needs (a wrong accept key, a refusal with a body, a missing Upgrade, an unoffered
//! subprotocol, silence), each asserting the exit code and the diagnosis.

use crate::support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use support::servers::{self, Options};
use support::{args, run_assert, stderr, stdout};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::Message;

/// A raw-TCP server for one client: reads the request head, then answers with what `respond`
/// makes of it (the key is there to compute accept values) and keeps the socket open for a while.
/// The head it read comes back through the receiver.
async fn raw_server(
    respond: impl FnOnce(&str) -> Vec<u8> + Send + 'static,
) -> (SocketAddr, oneshot::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let head = String::from_utf8_lossy(&head).into_owned();
        let answer = respond(&head);
        let _ = tcp.write_all(&answer).await;
        let _ = tx.send(head);
        // Hold the connection: the client must diagnose from what it got, not from an EOF.
        tokio::time::sleep(Duration::from_secs(20)).await;
    });
    (addr, rx)
}

/// The Sec-WebSocket-Key of a raw request head.
fn key_of(head: &str) -> String {
    head.split("\r\n")
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case("Sec-WebSocket-Key")
                .then(|| v.trim().to_string())
        })
        .expect("the request has a Sec-WebSocket-Key")
}

/// A correct 101 for `head`, plus `extra` header lines.
fn switching(head: &str, extra: &str) -> Vec<u8> {
    let accept = derive_accept_key(key_of(head).as_bytes());
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n{extra}\r\n"
    )
    .into_bytes()
}

/// The value shown on a `  name   value` row of the report.
fn row<'a>(report: &'a str, name: &str) -> &'a str {
    report
        .lines()
        .find_map(|l| l.trim_start().strip_prefix(name).map(str::trim))
        .unwrap_or_else(|| panic!("no '{name}' row in:\n{report}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_sends_headers_origin_and_subprotocols_and_verifies_accept() {
    let server = servers::start(Options {
        protocols: vec!["b".into()],
    })
    .await;
    let url = format!("ws://{}/chat?room=1", server.addr);
    let a = run_assert(args(&[
        "inspect",
        &url,
        "-H",
        "X-Custom-CASE: Hello There",
        "-o",
        "https://origin.test",
        "-s",
        "a",
        "-s",
        "b",
    ]))
    .await;
    let out = stdout(&a);
    a.success();

    let seen = server.single();
    assert!(
        seen.raw_head.starts_with("GET /chat?room=1 HTTP/1.1\r\n"),
        "{}",
        seen.raw_head
    );
    assert_eq!(
        seen.header_exact("X-Custom-CASE").as_deref(),
        Some("Hello There"),
        "the header must arrive with the case typed: {}",
        seen.raw_head
    );
    assert_eq!(
        seen.header_exact("Origin").as_deref(),
        Some("https://origin.test")
    );
    assert_eq!(
        seen.header_exact("Sec-WebSocket-Protocol").as_deref(),
        Some("a, b")
    );
    assert_eq!(seen.selected.as_deref(), Some("b"));
    assert!(
        matches!(seen.messages.last(), Some(Message::Close(Some(f))) if u16::from(f.code) == 1000),
        "inspect must close with 1000: {:?}",
        seen.messages
    );

    // The report: the request as sent, the selection, and the accept computation.
    assert!(out.contains("> X-Custom-CASE: Hello There"), "{out}");
    assert!(out.contains("< HTTP/1.1 101 Switching Protocols"), "{out}");
    assert!(out.contains("b selected (offered a, b)"), "{out}");
    for said_once in ["subprotocol", "extensions"] {
        let rows = out
            .lines()
            .filter(|l| l.split_whitespace().any(|w| w == said_once))
            .count();
        assert_eq!(rows, 1, "{said_once} is reported once: {out}");
    }
    let key = row(&out, "key sent");
    assert_eq!(key, key_of(&seen.raw_head));
    let expected = derive_accept_key(key.as_bytes());
    assert_eq!(row(&out, "expected"), expected);
    assert_eq!(row(&out, "received"), expected);
    assert!(
        out.lines()
            .any(|l| l.contains("✓ accept") && l.contains(&expected)),
        "{out}"
    );
    assert!(out.contains("all checks passed"), "{out}");
    assert!(out.contains("answered our 1000"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_json_is_one_object_with_checks_timings_and_accept() {
    let server = servers::start(Options {
        protocols: vec!["chat".into()],
    })
    .await;
    let url = format!("ws://{}/", server.addr);
    let a = run_assert(args(&["inspect", &url, "--json", "-s", "chat"])).await;
    let out = stdout(&a);
    a.success();
    let v: serde_json::Value = serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("inspect --json is not one JSON object ({e}):\n{out}"));
    let checks = v["checks"].as_array().expect("checks array");
    let names: Vec<&str> = checks.iter().filter_map(|c| c["name"].as_str()).collect();
    for n in ["status", "upgrade", "connection", "accept", "subprotocol"] {
        assert!(names.contains(&n), "check {n} missing: {names:?}");
    }
    assert!(checks.iter().all(|c| c["outcome"] == "pass"), "{v}");
    let key = v["accept"]["key"].as_str().expect("accept.key");
    assert_eq!(key, key_of(&server.single().raw_head));
    let expected = derive_accept_key(key.as_bytes());
    assert_eq!(v["accept"]["expected"], expected.as_str());
    assert_eq!(v["accept"]["received"], expected.as_str());
    assert_eq!(v["accept"]["ok"], true);
    assert_eq!(v["subprotocol"]["selected"], serde_json::json!(["chat"]));
    for t in ["tcp", "upgrade", "total"] {
        assert!(
            v["timings"][t].as_f64().is_some_and(|ms| ms >= 0.0),
            "timings.{t}: {v}"
        );
    }
    assert_eq!(v["ok"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_accept_is_rejected_showing_expected_and_received() {
    let (addr, head) = raw_server(|_| {
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: d3JvbmcgYWNjZXB0IGtleSE=\r\n\r\n".to_vec()
    })
    .await;
    let a = run_assert(args(&[&format!("ws://{addr}/")])).await;
    let err = stderr(&a);
    a.code(5);
    let expected = derive_accept_key(key_of(&head.await.unwrap()).as_bytes());
    let diagnosis = err
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| panic!("no error line:\n{err}"));
    assert!(diagnosis.contains("Sec-WebSocket-Accept"), "{err}");
    assert!(diagnosis.contains("d3JvbmcgYWNjZXB0IGtleSE="), "{err}");
    assert!(diagnosis.contains(&expected), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_with_a_body_shows_status_headers_body_and_a_hint() {
    let body = "origin not allowed here\n";
    let (addr, _) = raw_server(move |_| {
        format!(
            "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nX-Reason: policy\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    })
    .await;
    let a = run_assert(args(&[&format!("ws://{addr}/")])).await;
    let err = stderr(&a);
    a.code(5);
    assert!(err.contains("< HTTP/1.1 403 Forbidden"), "{err}");
    assert!(err.contains("< X-Reason: policy"), "{err}");
    assert!(err.contains("origin not allowed here"), "{err}");
    let hint = err
        .lines()
        .find(|l| l.contains("hint:"))
        .unwrap_or_else(|| panic!("no hint:\n{err}"));
    assert!(hint.contains("credentials"), "{err}");
    assert!(hint.contains("--origin"), "{err}");
    assert_eq!(
        err.matches("hint:").count(),
        1,
        "the hint is said once:\n{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_refusal_body_is_truncated_for_display() {
    let body: String = (0..2000).map(|i| format!("line {i}\n")).collect();
    let len = body.len();
    let (addr, _) = raw_server(move |_| {
        format!("HTTP/1.1 500 Internal Server Error\r\nContent-Length: {len}\r\n\r\n{body}")
            .into_bytes()
    })
    .await;
    let a = run_assert(args(&["inspect", &format!("ws://{addr}/")])).await;
    let out = stdout(&a);
    a.code(5);
    assert!(out.contains("< line 0"), "{out}");
    assert!(
        !out.contains("line 1999"),
        "the body must be truncated:\n{out}"
    );
    assert!(out.contains("truncated"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_without_upgrade_header_is_rejected() {
    let (addr, _) = raw_server(|head| {
        let accept = derive_accept_key(key_of(head).as_bytes());
        format!("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n").into_bytes()
    })
    .await;
    let a = run_assert(args(&[&format!("ws://{addr}/")])).await;
    let err = stderr(&a);
    a.code(5);
    let diagnosis = err.lines().find(|l| l.starts_with("error:")).unwrap_or("");
    assert!(diagnosis.contains("Upgrade"), "{err}");
    assert!(err.contains("✗ upgrade"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subprotocol_never_offered_is_rejected_and_named() {
    let (addr, _) =
        raw_server(|head| switching(head, "Sec-WebSocket-Protocol: superchat\r\n")).await;
    let a = run_assert(args(&[&format!("ws://{addr}/"), "-s", "chat"])).await;
    let err = stderr(&a);
    a.code(5);
    let diagnosis = err.lines().find(|l| l.starts_with("error:")).unwrap_or("");
    assert!(diagnosis.contains("superchat"), "{err}");
    assert!(diagnosis.contains("not offered"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_server_times_out_with_exit_3() {
    let (addr, _) = raw_server(|_| Vec::new()).await;
    let started = Instant::now();
    let a = run_assert(args(&[&format!("ws://{addr}/"), "--connect-timeout", "1"])).await;
    let took = started.elapsed();
    let err = stderr(&a);
    a.code(3);
    assert!(
        took < Duration::from_secs(5),
        "took {took:?} with --connect-timeout 1"
    );
    assert!(err.contains("timed out"), "{err}");
    assert!(err.contains("--connect-timeout"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_port_cannot_connect_with_exit_3() {
    // A port that was free a moment ago: bound, then released.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let a = run_assert(args(&[&format!("ws://{addr}/")])).await;
    let err = stderr(&a);
    a.code(3);
    assert!(err.contains("cannot connect"), "{err}");
    assert!(err.contains(&addr.to_string()), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_refusal_gets_the_hint_of_its_status() {
    // (response, what the hint must say, a line the report must show)
    let cases: [(&str, &[&str], &str); 7] = [
        (
            "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 8, 7\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nupgrade required\r\n0\r\n\r\n",
            &["8, 7", "--protocol-version 8"],
            "< upgrade required",
        ),
        (
            "HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n",
            &["/elsewhere", "-L"],
            "< Location: /elsewhere",
        ),
        (
            "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nno route\n",
            &["path"],
            "< no route",
        ),
        (
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n<html></html>",
            &["not a WebSocket"],
            "< <html></html>",
        ),
        (
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\"\r\nContent-Length: 0\r\n\r\n",
            &["--auth"],
            "< WWW-Authenticate: Basic realm=\"x\"",
        ),
        (
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\nContent-Length: 0\r\n\r\n",
            &["-H 'Authorization: Bearer"],
            "< WWW-Authenticate: Bearer",
        ),
        // nginx in front without the upgrade headers: the backend never saw an upgrade.
        (
            "HTTP/1.1 426 Upgrade Required\r\nContent-Length: 16\r\n\r\nupgrade required",
            &["Upgrade/Connection", "proxy_set_header Connection \"upgrade\";"],
            "< upgrade required",
        ),
    ];
    for (response, hint_says, shown) in cases {
        let (addr, _) = raw_server(move |_| response.as_bytes().to_vec()).await;
        let a = run_assert(args(&["inspect", &format!("ws://{addr}/")])).await;
        let (out, err) = (stdout(&a), stderr(&a));
        a.code(5);
        let status = response.lines().next().unwrap();
        assert!(out.contains(&format!("< {status}")), "{out}");
        assert!(out.contains(shown), "'{shown}' not shown:\n{out}");
        let hint = err
            .lines()
            .find(|l| l.contains("hint:"))
            .unwrap_or_else(|| panic!("no hint for {status}:\n{err}"));
        for s in hint_says {
            assert!(hint.contains(s), "hint for {status} lacks '{s}': {hint}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_from_the_url_and_http_scheme_are_handled_with_a_note() {
    let server = servers::start(Options::default()).await;
    let url = format!("http://al%40ice:s3cr%3At@{}/", server.addr);
    let a = run_assert(args(&["inspect", &url, "-H", "user-agent: probe/1"])).await;
    let out = stdout(&a);
    a.success();
    assert!(out.contains("http:// URL mapped to ws://"), "{out}");
    let seen = server.single();
    // base64("al@ice:s3cr:t")
    assert_eq!(
        seen.header_exact("Authorization").as_deref(),
        Some("Basic YWxAaWNlOnMzY3I6dA=="),
        "{}",
        seen.raw_head
    );
    // A user header replaces ours of the same name, with the user's spelling, only once.
    let agents: Vec<_> = seen
        .headers()
        .into_iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("user-agent"))
        .collect();
    assert_eq!(agents, [("user-agent".to_string(), "probe/1".to_string())]);
    assert!(
        !out.contains("s3cr"),
        "the password must not be shown:\n{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_prints_a_one_line_summary_with_the_subprotocol() {
    let server = servers::start(Options {
        protocols: vec!["v2.chat".into()],
    })
    .await;
    let url = format!("ws://{}/", server.addr);
    let a = run_assert(args(&[
        &url, "-s", "v1.chat", "-s", "v2.chat", "-x", "ping me", "-w", "1",
    ]))
    .await;
    let (out, err) = (stdout(&a), stderr(&a));
    a.success();
    assert_eq!(out, "ping me\n", "{err}");
    let summary = err
        .lines()
        .find(|l| l.contains("connected to"))
        .unwrap_or_else(|| panic!("no summary:\n{err}"));
    assert!(summary.contains(&url), "{summary}");
    assert!(summary.contains("v2.chat"), "{summary}");
    assert!(summary.contains(" ms"), "the time is shown: {summary}");
    // Without -v the request itself is not shown.
    assert!(!err.contains("> GET"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_sent_right_behind_the_101_are_not_lost() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = tcp.read(&mut buf).await.unwrap();
            assert!(n > 0);
            head.extend_from_slice(&buf[..n]);
        }
        // The 101 and a first text frame "early" in one write.
        let mut answer = switching(&String::from_utf8_lossy(&head), "");
        answer.extend_from_slice(b"\x81\x05early");
        tcp.write_all(&answer).await.unwrap();
        // Wait for the client's close (any bytes), then answer it with 1000 and hang up.
        let _ = tcp.read(&mut buf).await;
        let _ = tcp.write_all(b"\x88\x02\x03\xe8").await;
    });
    let a = run_assert(args(&[&format!("ws://{addr}/"), "-w", "1"])).await;
    let (out, err) = (stdout(&a), stderr(&a));
    a.success();
    assert_eq!(out, "early\n", "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_server_on_a_ws_url_gets_a_hint_to_use_wss() {
    let (addr, _) = raw_server(|_| b"\x15\x03\x01\x00\x02\x02\x46".to_vec()).await;
    let a = run_assert(args(&[&format!("ws://{addr}/")])).await;
    let err = stderr(&a);
    a.code(5);
    assert!(err.contains("not an HTTP response"), "{err}");
    assert!(err.contains("wss://"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_or_oversized_answers_are_diagnosed_not_hung_on() {
    let huge_head = {
        let mut h = b"HTTP/1.1 101 Switching Protocols\r\n".to_vec();
        // Few headers, one of them huge, and no end of head.
        h.extend_from_slice(b"X-Filler: ");
        h.resize(h.len() + 70 * 1024, b'a');
        h
    };
    let many_headers = {
        let mut h = b"HTTP/1.1 101 Switching Protocols\r\n".to_vec();
        for i in 0..200 {
            h.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
        }
        h.extend_from_slice(b"\r\n");
        h
    };
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (huge_head, "larger than 64 KiB"),
        (many_headers, "more than 124 headers"),
        (b"SSH-2.0-OpenSSH_9.6\r\n\r\n".to_vec(), "not an HTTP response"),
        (
            b"HTTP/1.1 101 WebSocket Protocol Handshake\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\nSec-WebSocket-Origin: http://x\r\nSec-WebSocket-Location: ws://x/\r\n\r\n".to_vec(),
            "legacy draft",
        ),
    ];
    for (answer, says) in cases {
        let (addr, _) = raw_server(move |_| answer).await;
        let started = Instant::now();
        let a = run_assert(args(&[&format!("ws://{addr}/")])).await;
        let err = stderr(&a);
        a.code(5);
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "'{says}' took {:?}",
            started.elapsed()
        );
        let diagnosis = err.lines().find(|l| l.starts_with("error:")).unwrap_or("");
        assert!(diagnosis.contains(says), "expected '{says}':\n{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_hanging_up_without_an_answer_is_rejected() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 4096];
        let _ = tcp.read(&mut buf).await;
        // Dropped here: EOF without a single byte of answer.
    });
    let a = run_assert(args(&[&format!("ws://{addr}/")])).await;
    let err = stderr(&a);
    a.code(5);
    assert!(
        err.contains("closed the connection without answering"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_version_is_sent_and_a_426_lists_the_wanted_versions() {
    let (addr, head) = raw_server(|_| {
        b"HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n"
            .to_vec()
    })
    .await;
    let a = run_assert(args(&[
        "inspect",
        &format!("ws://{addr}/"),
        "--protocol-version",
        "8",
    ]))
    .await;
    let (out, err) = (stdout(&a), stderr(&a));
    a.code(5);
    let head = head.await.unwrap();
    assert!(head.contains("\r\nSec-WebSocket-Version: 8\r\n"), "{head}");
    assert!(out.contains("< Sec-WebSocket-Version: 13"), "{out}");
    // The hint is said once, under the error, not again in the report.
    assert!(
        err.contains("hint: ") && err.contains("--protocol-version 13"),
        "{err}"
    );
    assert!(!out.contains("hint:"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_reports_a_server_that_never_answers_our_close() {
    let (addr, _) = raw_server(|head| switching(head, "")).await;
    let a = run_assert(args(&["inspect", &format!("ws://{addr}/")])).await;
    let (out, err) = (stdout(&a), stderr(&a));
    a.code(6);
    // The handshake itself passed; only the close failed, and the report says so.
    assert!(out.contains("✓ accept"), "{out}");
    assert!(out.contains("did not answer our close"), "{out}");
    assert!(!out.contains("all checks passed"), "{out}");
    assert!(err.contains("close"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_json_of_a_refusal_is_one_object_with_the_error() {
    let (addr, _) =
        raw_server(|_| b"HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\n\r\nno way".to_vec()).await;
    let a = run_assert(args(&["inspect", "--json", &format!("ws://{addr}/")])).await;
    let out = stdout(&a);
    a.code(5);
    let v: serde_json::Value = serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("not one JSON object ({e}):\n{out}"));
    assert_eq!(v["ok"], false);
    assert_eq!(v["response"]["status"], 403);
    assert_eq!(v["response"]["body"], "no way");
    assert_eq!(v["error"]["exit_code"], 5);
    assert!(
        v["hint"].as_str().is_some_and(|h| h.contains("--origin")),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_name_is_resolved_and_its_dns_time_shown() {
    let server = servers::start(Options::default()).await;
    let url = format!("ws://localhost:{}/", server.addr.port());
    let a = run_assert(args(&["inspect", &url])).await;
    let out = stdout(&a);
    a.success();
    assert!(
        out.lines()
            .any(|l| l.trim_start().starts_with("dns") && l.contains("ms")),
        "{out}"
    );
    assert!(out.contains("> Host: localhost:"), "{out}");
}

/// A server that answers with the first bytes of a 101 head, then ends the connection: with a
/// FIN (`reset` false) or a TCP RST (`reset` true, linger 0).
async fn cut_head_server(reset: bool) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let _ = tcp.write_all(b"HTTP/1.1 101 Switching").await;
        // Let the client read those bytes before the connection goes.
        tokio::time::sleep(Duration::from_millis(300)).await;
        if reset {
            let _ = tcp.set_zero_linger();
        }
        drop(tcp);
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_or_a_close_inside_the_response_head_are_the_same_failure() {
    for reset in [false, true] {
        let addr = cut_head_server(reset).await;
        let a = run_assert(args(&[&format!("ws://{addr}/")])).await;
        let err = stderr(&a);
        a.code(5);
        let diagnosis = err.lines().find(|l| l.starts_with("error:")).unwrap_or("");
        assert!(
            diagnosis.contains("in the middle of its response head"),
            "reset={reset}: {err}"
        );
        assert!(
            diagnosis.contains("22 bytes received"),
            "reset={reset}: {err}"
        );
    }
}

/// A raw server for one client: reads the request head, waits `delay`, writes `head`, then
/// trickles `body` one byte every `gap` (a slow or hostile server), then holds the socket.
async fn slow_server(delay: Duration, head: String, body: Vec<u8>, gap: Duration) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut req = Vec::new();
        let mut buf = [0u8; 4096];
        while !req.windows(4).any(|w| w == b"\r\n\r\n") {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => req.extend_from_slice(&buf[..n]),
            }
        }
        tokio::time::sleep(delay).await;
        if tcp.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        for b in body {
            tokio::time::sleep(gap).await;
            if tcp.write_all(&[b]).await.is_err() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_secs(30)).await;
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_refusal_body_is_cut_at_the_connect_timeout_and_shown() {
    let body = b"forbidden: "
        .iter()
        .chain([b'x'; 989].iter())
        .copied()
        .collect();
    let head = "HTTP/1.1 403 Forbidden\r\nContent-Length: 1000\r\n\r\n".to_string();
    let addr = slow_server(Duration::ZERO, head, body, Duration::from_millis(50)).await;
    let started = Instant::now();
    let a = run_assert(args(&[&format!("ws://{addr}/"), "--connect-timeout", "2"])).await;
    let took = started.elapsed();
    let err = stderr(&a);
    a.code(5);
    assert!(
        took < Duration::from_secs(4),
        "took {took:?} with --connect-timeout 2"
    );
    assert!(err.contains("< HTTP/1.1 403 Forbidden"), "{err}");
    assert!(
        err.contains("< forbidden: x"),
        "what arrived is shown: {err}"
    );
    assert!(err.contains("(body truncated)"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connect_timeout_covers_all_redirect_hops_together() {
    // Each hop takes 1.2 s to answer: either alone fits in 2 s, both together do not.
    let refusal = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n".to_string();
    let second = slow_server(Duration::from_millis(1200), refusal, vec![], Duration::ZERO).await;
    let redirect =
        format!("HTTP/1.1 302 Found\r\nLocation: ws://{second}/\r\nContent-Length: 0\r\n\r\n");
    let first = slow_server(
        Duration::from_millis(1200),
        redirect,
        vec![],
        Duration::ZERO,
    )
    .await;
    let started = Instant::now();
    let a = run_assert(args(&[
        &format!("ws://{first}/"),
        "-L",
        "--connect-timeout",
        "2",
    ]))
    .await;
    let took = started.elapsed();
    let err = stderr(&a);
    a.code(3);
    assert!(took < Duration::from_millis(2300), "took {took:?}: {err}");
    assert!(err.contains("timed out after 2 s"), "{err}");
}

/// An empty reason phrase (`HTTP/1.1 101 `) is shown as `101`, with no trailing space, in the
/// report and in --json.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_reason_phrase_leaves_no_trailing_space() {
    for json in [false, true] {
        let (addr, _) = raw_server(|head| {
            let accept = derive_accept_key(key_of(head).as_bytes());
            format!("HTTP/1.1 101 \r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n").into_bytes()
        })
        .await;
        let url = format!("ws://{addr}/");
        let mut a = vec!["inspect", url.as_str(), "--no-deflate"];
        if json {
            a.push("--json");
        }
        let out = run_assert(args(&a)).await;
        let text = stdout(&out);
        if json {
            let v: serde_json::Value = serde_json::from_str(text.trim()).expect(&text);
            assert_eq!(v["checks"][0]["detail"], "101", "{text}");
        } else {
            let line = text.lines().find(|l| l.contains("status")).unwrap_or("");
            assert!(line.ends_with("101"), "{line:?}\n{text}");
        }
    }
}

/// A 400 whose status line names the Origin gets the -o hint, not the -H/-s one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_naming_the_origin_hints_at_dash_o() {
    let (addr, _) = raw_server(|_| {
        b"HTTP/1.1 400 Cross origin websockets not allowed\r\nContent-Length: 0\r\n\r\n".to_vec()
    })
    .await;
    let out = run_assert(args(&["inspect", &format!("ws://{addr}/")])).await;
    let err = format!("{}{}", stdout(&out), stderr(&out));
    out.code(5);
    let hint = err.lines().find(|l| l.contains("hint:")).unwrap_or("");
    assert!(hint.contains("-o/--origin"), "{err}");
}
