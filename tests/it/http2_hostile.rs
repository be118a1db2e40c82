//! Hostile RFC 8441 servers (issue 30 item 5; `support::h2_hostile`): each misbehaviour is said in
//! words with its exit code, within a deadline, in bounded memory.

use std::time::{Duration, Instant};

use crate::support::h2_hostile::{self, Mode};
use crate::support::{self, args, run_with};

fn url(addr: std::net::SocketAddr) -> String {
    format!("ws://{addr}/h")
}

/// Run wscope `--http2-only` against `addr` with `extra` flags: its output and how long it took.
async fn against(addr: std::net::SocketAddr, extra: &[&str]) -> (support::Out, Duration) {
    let mut a = args(&[&url(addr), "--http2-only", "--connect-timeout", "2"]);
    a.extend(args(extra));
    let t = Instant::now();
    let out = run_with(a, None).await;
    (out, t.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connect_shows_status_and_body_like_an_http11_refusal() {
    for status in [429, 503] {
        let addr = h2_hostile::start(Mode::Refuse(status)).await;
        let (out, took) = against(addr, &["-x", "hello"]).await;
        assert_eq!(out.code, 5, "stderr:\n{}", out.stderr);
        let err = &out.stderr;
        for want in [
            format!("< :status: {status}"),
            "< (body)".to_string(),
            // The server's escape sequence is shown, not obeyed.
            "< tenant \\e[31mquota\\e[0m exceeded: try again later".to_string(),
            format!("the server refused the HTTP/2 WebSocket: {status}"),
        ] {
            assert!(err.contains(&want), "missing {want:?} in:\n{err}");
        }
        assert!(!err.contains('\x1b'), "{err:?}");
        assert!(took < Duration::from_secs(5), "{took:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rst_stream_mid_message_and_goaway_are_said_in_words_with_exit_6() {
    let cases = [
        (
            Mode::ResetMidMessage,
            "the peer reset the HTTP/2 stream (INTERNAL_ERROR)",
        ),
        (Mode::GoAway, "the server sent GOAWAY (ENHANCE_YOUR_CALM)"),
    ];
    for (mode, words) in cases {
        let addr = h2_hostile::start(mode).await;
        let (out, took) = against(addr, &["-w", "30"]).await;
        assert_eq!(out.code, 6, "{mode:?} stderr:\n{}", out.stderr);
        assert!(
            out.stderr.contains(words),
            "{mode:?}: missing {words:?} in:\n{}",
            out.stderr
        );
        assert!(took < Duration::from_secs(5), "{mode:?} {took:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_that_never_opens_fails_the_write_at_its_deadline() {
    let addr = h2_hostile::start(Mode::WindowNeverOpens).await;
    let (out, took) = against(addr, &["-x", "hello", "-w", "30"]).await;
    assert_eq!(out.code, 6, "stderr:\n{}", out.stderr);
    assert!(
        out.stderr
            .contains("kept the HTTP/2 flow-control window shut for 10 s"),
        "{}",
        out.stderr
    );
    assert!(took < Duration::from_secs(20), "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_that_never_arrive_time_out_with_exit_3() {
    let addr = h2_hostile::silent().await;
    let (out, took) = against(addr, &["-x", "hello"]).await;
    assert_eq!(out.code, 3, "stderr:\n{}", out.stderr);
    assert!(
        out.stderr
            .contains("the server's HTTP/2 SETTINGS timed out after 2 s"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--connect-timeout"), "{}", out.stderr);
    assert!(took < Duration::from_secs(6), "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_headers_block_that_never_ends_is_cut_off_early() {
    let (addr, written) = h2_hostile::huge_headers().await;
    let (out, took) = against(addr, &["-x", "hello"]).await;
    assert_eq!(out.code, 5, "stderr:\n{}", out.stderr);
    assert!(out.stderr.contains("HTTP/2 CONNECT"), "{}", out.stderr);
    assert!(took < Duration::from_secs(5), "{took:?}");
    // Cut off long before the 64 MiB the server meant to send.
    let sent = written.load(std::sync::atomic::Ordering::Relaxed);
    assert!(sent < 16 << 20, "{sent} bytes taken");
}
