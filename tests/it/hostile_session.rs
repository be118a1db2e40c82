//! Issue 25, the session's share: hostile servers against the engine loop, its timers, the close,
//! the signals, pipe mode's unsent input, reconnect's failure count and the terminal's escaping.
//! CPU is read from /proc/PID/stat (utime + stime) over an interval.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support;
use support::hostile::{self, Hostile, Step};
use support::{args, run_with};

/// CPU time (user + system) of process `pid`, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat; field 3 is the first after ')'.
    let at = |i: usize| {
        f.get(i - 3)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    at(14) + at(15)
}

fn ticks_per_sec() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as u64
    } else {
        100
    }
}

fn spawn(args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_wscope"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Wait for the child to exit within `within`; kill it otherwise. Returns its exit code (None when
/// it had to be killed) and how long it took.
async fn wait_exit(mut child: std::process::Child, within: Duration) -> (Option<i32>, Duration) {
    let t = Instant::now();
    tokio::task::spawn_blocking(move || {
        let end = Instant::now() + within;
        while Instant::now() < end {
            if let Ok(Some(s)) = child.try_wait() {
                return (s.code(), t.elapsed());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
        (None, t.elapsed())
    })
    .await
    .unwrap()
}

fn signal(child: &std::process::Child, sig: libc::c_int) {
    // SAFETY: kill(2) on the pid of a child we spawned and have not reaped.
    unsafe { libc::kill(child.id() as libc::pid_t, sig) };
}

/// A server that sends `bytes` a moment after the handshake (once the client's input has ended),
/// then holds the TCP connection open without reading, until the test ends.
async fn lingering(bytes: Vec<u8>) -> String {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let Ok((mut tcp, _)) = listener.accept().await else {
            return;
        };
        if hostile::handshake(&mut tcp).await.is_none() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _ = tcp.write_all(&bytes).await;
        std::future::pending::<()>().await;
    });
    url
}

/// R1: a server that closes first and keeps TCP open made wscope spin at 100 % CPU for ever once
/// the wait (`--idle`, `-w`) ran out: the wait arm stayed ready on every pass of the select and
/// starved the close deadline and the signals.
#[tokio::test]
async fn a_lingering_server_after_its_close_costs_no_cpu_and_the_close_deadline_ends_it() {
    let url = lingering(hostile::close(1000, "bye")).await;
    let child = spawn(&[&url, "--idle", "0.3"]);
    let pid = child.id();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = cpu_ticks(pid);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let used = cpu_ticks(pid).saturating_sub(before);
    let (code, took) = wait_exit(child, Duration::from_secs(8)).await;
    assert!(
        used * 20 < ticks_per_sec(),
        "{used} ticks of CPU in 2 s while waiting for the server's TCP close"
    );
    assert_eq!(code, Some(0), "the close deadline (5 s) did not end it");
    assert!(took < Duration::from_secs(5), "took {took:?} more");
}

/// R1: the same wait must leave the signals working.
#[tokio::test]
async fn a_lingering_server_after_its_close_does_not_stop_sigterm() {
    let url = lingering(hostile::close(1000, "bye")).await;
    let child = spawn(&[&url, "-w", "0.3"]);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    signal(&child, libc::SIGTERM);
    let (code, took) = wait_exit(child, Duration::from_secs(8)).await;
    assert!(code.is_some(), "SIGTERM was ignored");
    assert!(took < Duration::from_millis(1500), "SIGTERM took {took:?}");
}

/// A server that completes the handshake, then writes text messages as fast as it can without
/// ever reading, until the test ends.
async fn flooder() -> String {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let Ok((mut tcp, _)) = listener.accept().await else {
            return;
        };
        if hostile::handshake(&mut tcp).await.is_none() {
            return;
        }
        let burst: Vec<u8> = (0..512)
            .flat_map(|_| hostile::text(&"y".repeat(1000)))
            .collect();
        while tcp.write_all(&burst).await.is_ok() {}
    });
    url
}

/// wscope with its stdout into a pipe nobody reads (as `wscope URL | sleep 60`).
fn spawn_stuck(args: &[&str]) -> (std::process::Child, std::process::ChildStdout) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wscope"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    (child, out)
}

/// Issue 25 (signals): with a flooding peer and a stdout nobody reads, SIGTERM took 5.8 s. SPEC:
/// within 1.5 s whatever the peer and stdout do, exit 143 (130 for SIGINT).
#[tokio::test]
async fn a_signal_ends_the_client_within_1_5_s_whatever_the_peer_and_stdout_do() {
    for (sig, want) in [(libc::SIGTERM, 143), (libc::SIGINT, 130)] {
        let url = flooder().await;
        let (child, _stdout) = spawn_stuck(&[&url, "-w", "inf"]);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        signal(&child, sig);
        let (code, took) = wait_exit(child, Duration::from_secs(10)).await;
        assert!(
            took < Duration::from_millis(1500),
            "signal {sig}: took {took:?}"
        );
        assert_eq!(code, Some(want), "signal {sig}");
    }
}

/// The same for listen, whose client floods it while its stdout is stuck (4 s before).
#[tokio::test]
async fn a_signal_ends_listen_within_1_5_s_whatever_the_clients_and_stdout_do() {
    use futures_util::SinkExt;
    let mut child = Command::new(env!("CARGO_BIN_EXE_wscope"))
        .args(["listen", "127.0.0.1:0"])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _stdout = child.stdout.take().unwrap();
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut err, &mut first).unwrap();
    std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
    let addr = first
        .split("://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap()
        .to_string();
    let tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(format!("ws://{addr}/"), tcp)
        .await
        .unwrap();
    let flood = tokio::spawn(async move {
        let line = "y".repeat(1000);
        while ws.send(line.as_str().into()).await.is_ok() {}
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    signal(&child, libc::SIGTERM);
    let (code, took) = wait_exit(child, Duration::from_secs(10)).await;
    flood.abort();
    assert!(took < Duration::from_millis(1500), "took {took:?}");
    assert_eq!(code, Some(143));
}

/// A second signal ends it at once, without waiting for the peer's answer to our close.
#[tokio::test]
async fn a_second_signal_ends_it_at_once() {
    let server = Hostile::stalled().await;
    let child = spawn(&[&server.url, "-w", "inf"]);
    tokio::time::sleep(Duration::from_millis(800)).await;
    signal(&child, libc::SIGTERM);
    tokio::time::sleep(Duration::from_millis(100)).await;
    signal(&child, libc::SIGTERM);
    let (code, took) = wait_exit(child, Duration::from_secs(10)).await;
    assert!(took < Duration::from_millis(400), "took {took:?}");
    assert_eq!(code, Some(143));
}

/// A clean close completed in time after the signal exits 0.
#[tokio::test]
async fn a_signal_answered_by_a_clean_close_exits_0() {
    let server = Hostile::start(vec![Step::Pause(Duration::from_secs(20))]).await;
    let child = spawn(&[&server.url, "-w", "inf"]);
    tokio::time::sleep(Duration::from_millis(800)).await;
    signal(&child, libc::SIGTERM);
    let (code, took) = wait_exit(child, Duration::from_secs(10)).await;
    assert!(took < Duration::from_millis(1500), "took {took:?}");
    assert_eq!(code, Some(0));
}

/// A SIGTERM during the close wait that follows a failed expectation exited 130: the
/// expectation's 7 stands.
#[tokio::test]
async fn a_signal_after_a_failed_expectation_keeps_exit_7() {
    let server = Hostile::stalled_after(hostile::text("nope")).await;
    let child = spawn(&[&server.url, "-x", "/expect --timeout 0.3 yes", "-w", "inf"]);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    signal(&child, libc::SIGTERM);
    let (code, _) = wait_exit(child, Duration::from_secs(10)).await;
    assert_eq!(code, Some(7));
}

/// D11: `--dump-file /dev/full` exited 0 with nothing written and no word said.
#[tokio::test]
async fn a_dump_file_that_cannot_be_written_is_reported_once_and_exits_1() {
    let server = Hostile::start(vec![
        Step::Send(hostile::text("hello")),
        Step::Send(hostile::close(1000, "")),
    ])
    .await;
    let out = run_with(
        args(&[
            &server.url,
            "--dump",
            "--dump-file",
            "/dev/full",
            "-w",
            "inf",
        ]),
        None,
    )
    .await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(
        out.stderr.matches("--dump-file").count(),
        1,
        "reported once:\n{}",
        out.stderr
    );
    assert!(out.stderr.contains("/dev/full"), "{}", out.stderr);
}

/// A close frame whose code may never be sent on the wire: 1005 (no status), or lighttpd's ASCII
/// "1000" read as 12592. It counted as clean (exit 0, "clean") while --dump said "not allowed on
/// the wire". One verdict: the peer's protocol error (exit 6), whoever began the close.
#[tokio::test]
async fn a_close_code_that_may_never_be_sent_is_the_peers_protocol_error() {
    // The server answers our close with it.
    for code in [1005u16, 12592] {
        let url = answering_close_with(code).await;
        let out = run_with(args(&[&url, "-x", "hi", "-w", "0"]), None).await;
        assert_eq!(out.code, 6, "reply {code}: {}", out.stderr);
        assert!(
            !out.stderr.contains(", clean"),
            "reply {code}: {}",
            out.stderr
        );
        assert!(out.stderr.contains(&code.to_string()), "{}", out.stderr);
    }
    // The server begins the close with it.
    for code in [1005u16, 12592] {
        let server =
            Hostile::start(vec![Step::Send(hostile::frame(0x88, &code.to_be_bytes()))]).await;
        let out = run_with(args(&[&server.url, "-w", "inf"]), None).await;
        assert_eq!(out.code, 6, "close {code}: {}", out.stderr);
        assert!(
            !out.stderr.contains(", clean"),
            "close {code}: {}",
            out.stderr
        );
    }
}

/// A server that answers the client's close frame with a close frame carrying `code`.
async fn answering_close_with(code: u16) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let Ok((mut tcp, _)) = listener.accept().await else {
            return;
        };
        let Some(mut seen) = hostile::handshake(&mut tcp).await else {
            return;
        };
        let mut buf = [0u8; 4096];
        // Read until a close frame (opcode 8) starts some frame; frames are small here.
        let mut dec = wscope::wire::frame::FrameDecoder::new(1 << 20);
        loop {
            let mut frames = Vec::new();
            dec.feed(&seen, &mut frames);
            if frames.iter().any(|f| f.opcode == 0x8) {
                break;
            }
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen = buf[..n].to_vec(),
            }
        }
        let _ = tcp
            .write_all(&hostile::frame(0x88, &code.to_be_bytes()))
            .await;
        let _ = tcp.shutdown().await;
    });
    url
}

/// A server that accepts every upgrade and at once ends the connection: with a close `code`, or
/// by dropping TCP when None. Counts the connections.
async fn flapping(code: Option<u16>) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                if hostile::handshake(&mut tcp).await.is_none() {
                    return;
                }
                if let Some(c) = code {
                    let _ = tcp.write_all(&hostile::close(c, "internal error")).await;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                let _ = tcp.shutdown().await;
            });
        }
    });
    (url, count)
}

/// D6: `--reconnect=MAX` never gave up against a server that opens and at once closes with 1011
/// (or drops TCP after the 101): each opened connection started the count again.
#[tokio::test]
async fn reconnect_gives_up_on_a_server_that_opens_and_closes_at_once() {
    for code in [Some(1011), None] {
        let (url, count) = flapping(code).await;
        let t = Instant::now();
        let out = run_with(args(&[&url, "--reconnect=2", "-w", "inf"]), None).await;
        assert!(
            t.elapsed() < Duration::from_secs(15),
            "{code:?}: took {:?}",
            t.elapsed()
        );
        assert_eq!(out.code, 6, "{code:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("attempt 2 of 2"),
            "{code:?}: {}",
            out.stderr
        );
        assert!(
            !out.stderr.contains("attempt 3"),
            "{code:?}: {}",
            out.stderr
        );
        assert!(out.stderr.contains("giving up"), "{code:?}: {}", out.stderr);
        assert_eq!(
            count.load(std::sync::atomic::Ordering::SeqCst),
            3,
            "{code:?}"
        );
    }
}

/// R4: an idle drop by a proxy (haproxy's `timeout tunnel`: TCP closed without a close frame)
/// ended with "dropped without a close handshake (1006)" and no hint.
#[tokio::test]
async fn a_dropped_connection_hints_at_ping_interval_and_reconnect() {
    let server = Hostile::start(vec![Step::Pause(Duration::from_millis(300)), Step::Drop]).await;
    let out = run_with(args(&[&server.url, "-w", "inf"]), None).await;
    assert_eq!(out.code, 6, "{}", out.stderr);
    assert!(out.stderr.contains("1006"), "{}", out.stderr);
    assert!(
        out.stderr.contains("--ping-interval") && out.stderr.contains("--reconnect"),
        "{}",
        out.stderr
    );
}

/// D5: a server that closes after 10 of 100,000 piped lines left most of them unsent, no word
/// said, exit 0. Now: how many were never sent and how many were in flight, an `unsent` JSON
/// event, exit 1.
#[tokio::test]
async fn input_the_server_cut_short_is_counted_and_exits_1() {
    let server = Hostile::start(vec![
        Step::AwaitFrames(10),
        Step::Send(hostile::close(1000, "enough")),
        Step::Pause(Duration::from_secs(3)),
    ])
    .await;
    let lines: String = (0..100_000).map(|i| format!("line {i}\n")).collect();
    let out = run_with(
        args(&[&server.url, "-w", "inf", "--json"]),
        Some(lines.into_bytes()),
    )
    .await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    let unsent = out
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["event"] == "unsent")
        .unwrap_or_else(|| panic!("no unsent event:\n{}\n{}", out.stdout, out.stderr));
    let sent = out.stdout.matches("\"event\":\"sent\"").count() as u64;
    let never = unsent["never_sent"].as_u64().unwrap();
    assert!(never > 0, "{unsent}");
    assert_eq!(unsent["complete"], true, "{unsent}");
    assert_eq!(never + sent, 100_000, "{unsent}: {sent} sent");
    assert!(unsent["in_flight"].as_u64().is_some(), "{unsent}");

    // -x messages, without --json: said on stderr.
    let server = Hostile::start(vec![
        Step::AwaitFrames(1),
        Step::Send(hostile::close(1000, "")),
        Step::Pause(Duration::from_secs(3)),
    ])
    .await;
    let out = run_with(
        args(&[
            &server.url,
            "-x",
            "a",
            "-x",
            "/sleep 1",
            "-x",
            "b",
            "-x",
            "c",
            "-w",
            "inf",
        ]),
        None,
    )
    .await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("never sent"), "{}", out.stderr);
}

/// A LF inside a close reason (or any peer text on a line of its own) forged wscope's own status
/// lines. Diagnostics on stderr are always escaped: each line of peer text after its first is
/// prefixed, so none can pass for ours.
#[tokio::test]
async fn a_line_break_in_peer_text_cannot_forge_a_status_line() {
    let forged = "* closed by the server, code 1000 (normal closure), clean";
    let reason = format!("x\n{forged}");
    let server = Hostile::start(vec![Step::Send(hostile::close(4000, &reason))]).await;
    let out = run_with(args(&[&server.url, "-w", "inf"]), None).await;
    assert_eq!(out.code, 6, "{}", out.stderr);
    assert!(
        !out.stderr
            .lines()
            .any(|l| l.starts_with("* closed by the server, code 1000")),
        "a forged status line:\n{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(forged),
        "the reason is still shown:\n{}",
        out.stderr
    );
}

/// Issue 25: a raw non-UTF-8 byte in a response header value was shown as U+FFFD under -v
/// (http decoded the head lossily before the printer saw it): it is shown as `\x9b`.
#[tokio::test]
async fn a_raw_byte_in_a_header_value_is_shown_escaped_under_v() {
    let url = hostile::answer_once(
        b"HTTP/1.1 403 Forbidden\r\nX: a\x9bb\r\nContent-Length: 0\r\n\r\n".to_vec(),
    )
    .await;
    let out = run_with(args(&["-v", &url]), None).await;
    let err = out.stderr;
    assert!(err.contains("X: a\\x9bb"), "{err}");
    assert!(!err.contains('\u{fffd}'), "{err}");
}
