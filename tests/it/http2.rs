//! WebSockets over HTTP/2 (RFC 8441; SPEC.md "HTTP/2 (RFC 8441)", issue 30): connect and inspect
//! with `--http2` against the in-process h2c server, the fall back to HTTP/1.1 with its reason,
//! and `--http2-only` refusing to fall back (exit 5).

use crate::support;

use support::{args, run_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_over_h2c_sends_and_receives_a_message_on_an_extended_connect_stream() {
    let server = support::h2::start(true).await;
    let out = run_with(
        args(&[&server.url(), "--http2", "-x", "hello", "--once"]),
        None,
    )
    .await;
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    assert_eq!(out.stdout, "hello\n");
    assert!(!out.stderr.contains("falling back"), "{}", out.stderr);
    let seen = server.seen.lock().unwrap().clone();
    assert_eq!(seen.messages, vec!["hello".to_string()]);
    let req = &seen.requests[0];
    let get = |k: &str| req.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get(":method"), Some("CONNECT"));
    assert_eq!(get(":protocol"), Some("websocket"));
    assert_eq!(get(":path"), Some("/chat?room=1"));
    assert_eq!(get(":authority"), Some(server.addr.to_string().as_str()));
    assert_eq!(get("sec-websocket-version"), Some("13"));
    // RFC 8441 §5: no key, no Upgrade/Connection over HTTP/2.
    for gone in ["sec-websocket-key", "upgrade", "connection", "host"] {
        assert_eq!(get(gone), None, "{gone} sent over HTTP/2: {req:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_message_crosses_the_64k_window_both_ways() {
    // Flow control: 300 KiB each way only passes if capacity is released as it is read.
    let server = support::h2::start(true).await;
    let big = "x".repeat(300 * 1024);
    let input = format!("{big}\n").into_bytes();
    let out = run_with(args(&[&server.url(), "--http2", "--once"]), Some(input)).await;
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    assert_eq!(out.stdout.trim_end().len(), big.len());
    assert_eq!(server.seen.lock().unwrap().messages, vec![big]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_shows_the_http2_report() {
    let server = support::h2::start(true).await;
    let out = run_with(args(&["inspect", &server.url(), "--http2"]), None).await;
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    let all = format!("{}{}", out.stdout, out.stderr);
    for want in [
        "HTTP/2 (RFC 8441 extended CONNECT)",
        "server SETTINGS:",
        "ENABLE_CONNECT_PROTOCOL=1",
        "MAX_CONCURRENT_STREAMS=",
        "INITIAL_WINDOW_SIZE=",
        "> :method: CONNECT",
        "> :protocol: websocket",
        "> :scheme: http",
        "> :path: /chat?room=1",
        "> :authority: 127.0.0.1:",
        "> sec-websocket-version: 13",
        "< :status: 200",
        "RFC 8441 has no key/accept exchange (a 2xx status accepts)",
        "h2 preface",
    ] {
        assert!(all.contains(want), "missing {want:?} in:\n{all}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http11_server_gets_the_fall_back_with_its_reason() {
    let server = support::servers::start(Default::default()).await;
    let url = format!("ws://{}/", server.addr);
    let out = run_with(args(&[&url, "--http2", "-x", "hello", "--once"]), None).await;
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    assert_eq!(out.stdout, "hello\n");
    assert!(
        out.stderr.contains("HTTP/2:") && out.stderr.contains("falling back to HTTP/1.1 Upgrade"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_only_exits_5_naming_the_missing_setting() {
    let server = support::h2::start(false).await;
    let out = run_with(args(&[&server.url(), "--http2-only", "-x", "hello"]), None).await;
    assert_eq!(out.code, 5, "stderr:\n{}", out.stderr);
    assert!(
        out.stderr.contains("SETTINGS_ENABLE_CONNECT_PROTOCOL"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--http2-only"), "{}", out.stderr);
    assert!(server.seen.lock().unwrap().requests.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_only_against_an_http11_server_exits_5() {
    let server = support::servers::start(Default::default()).await;
    let url = format!("ws://{}/", server.addr);
    let out = run_with(args(&[&url, "--http2-only", "-x", "hello"]), None).await;
    assert_eq!(out.code, 5, "stderr:\n{}", out.stderr);
    assert!(out.stderr.contains("HTTP/2"), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wss_negotiates_alpn_h2_and_carries_the_websocket() {
    let pki = support::servers::Pki::new(&["localhost", "127.0.0.1"]);
    let server = support::h2::start_tls(pki.identity()).await;
    let url = format!("wss://{}/tls", server.addr);
    let ca = pki.ca_path.to_str().unwrap().to_string();
    let out = run_with(
        args(&[
            &url,
            "--http2-only",
            "--ca",
            &ca,
            "-v",
            "-x",
            "hello",
            "--once",
        ]),
        None,
    )
    .await;
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    assert_eq!(out.stdout, "hello\n");
    let all = format!("{}{}", out.stdout, out.stderr);
    for want in [
        "ALPN:    h2",
        "> :scheme: https",
        "> :path: /tls",
        "< :status: 200",
    ] {
        assert!(all.contains(want), "missing {want:?} in:\n{all}");
    }
    assert_eq!(
        server.seen.lock().unwrap().messages,
        vec!["hello".to_string()]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_ends_the_stream_after_the_close_does_not_hold_us() {
    // Hypercorn 0.18 answers the close but never sends END_STREAM (TECH-NOTES); this server holds
    // the stream for 20 s. The session's close deadline is 5 s: we must go well before it.
    let server = support::h2::start_never_ending().await;
    let started = std::time::Instant::now();
    let out = run_with(
        args(&[&server.url(), "--http2", "-x", "hello", "--once"]),
        None,
    )
    .await;
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    assert_eq!(out.stdout, "hello\n");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
}

/// `--dump-h2`: the HTTP/2 frames beneath the WebSocket, interleaved with its frames in wire order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dump_h2_shows_the_http2_frames_around_the_websocket_frames() {
    let server = support::h2::start(true).await;
    let url = server.url();
    let argv = [
        &url,
        "--http2-only",
        "--dump",
        "--dump-h2",
        "-x",
        "hello",
        "--once",
    ];
    let out = run_with(args(&argv), None).await;
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    let lines: Vec<&str> = out.stderr.lines().collect();
    let find = |dir: &str, what: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(dir) && l.contains(what))
            .unwrap_or_else(|| panic!("no {dir} {what:?} line in:\n{}", out.stderr))
    };
    find(">>", "h2 SETTINGS stream 0,");
    find("<<", "h2 SETTINGS stream 0,");
    find(">>", "h2 HEADERS stream 1,");
    find("<<", "h2 HEADERS stream 1,");
    // "hello" masked: 2 header bytes, 4 of key, 5 of payload; echoed unmasked: 7.
    let sent_ws = find(">>", "FIN text");
    let sent_data = find(">>", "h2 DATA stream 1, 11 bytes");
    let got_data = find("<<", "h2 DATA stream 1, 7 bytes");
    let got_ws = find("<<", "FIN text");
    assert!(sent_ws < sent_data, "{}", out.stderr);
    assert!(got_data < got_ws, "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dump_h2_in_json_is_one_event_per_http2_frame() {
    let server = support::h2::start(true).await;
    let url = server.url();
    let argv = [
        &url,
        "--http2-only",
        "--json",
        "--dump",
        "--dump-h2",
        "-x",
        "hello",
        "--once",
    ];
    let out = run_with(args(&argv), None).await;
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    let events: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .chain(out.stderr.lines())
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &serde_json::Value| v["event"] == "h2frame")
        .collect();
    assert!(
        events.iter().any(|v| v["dir"] == "outgoing"
            && v["type"] == "DATA"
            && v["stream"] == 1
            && v["len"] == 11),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|v| v["dir"] == "incoming" && v["type"] == "SETTINGS" && v["stream"] == 0),
        "{events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dump_h2_without_http2_or_dump_is_a_usage_error_naming_it() {
    for extra in [&["--dump"][..], &["--http2"][..]] {
        let mut argv = vec!["ws://127.0.0.1:9/", "--dump-h2", "-x", "hi"];
        argv.extend_from_slice(extra);
        let out = run_with(args(&argv), None).await;
        assert_eq!(out.code, 2, "{extra:?} stderr:\n{}", out.stderr);
        assert!(out.stderr.contains("--dump-h2"), "{}", out.stderr);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_refuses_dump_h2_naming_it() {
    let argv = ["bench", "ws://127.0.0.1:9/", "--http2", "--dump-h2"];
    let out = run_with(args(&argv), None).await;
    assert_eq!(out.code, 2, "stderr:\n{}", out.stderr);
    assert!(out.stderr.contains("--dump-h2"), "{}", out.stderr);
}
