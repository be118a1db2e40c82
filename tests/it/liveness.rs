//! Limits and liveness (SPEC.md "Limits and liveness", issue 15): floods meet backpressure or a
//! close, every wait has a deadline, and `--once`/`--count` count exactly. Each test names the
//! defect it reproduces; the memory ones read the real process's RSS.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use crate::support;
use support::hostile::{self, Hostile, Step};
use support::{args, run_with};

/// Resident memory of process `pid`, in MiB.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// A server that completes the handshake, then writes `frame` over and over for `secs` without
/// ever reading.
async fn flooder(frame: Vec<u8>, secs: u64) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let Ok((mut tcp, _)) = listener.accept().await else {
            return;
        };
        if hostile::handshake(&mut tcp).await.is_none() {
            return;
        }
        let burst: Vec<u8> = frame
            .iter()
            .copied()
            .cycle()
            .take(frame.len() * 512)
            .collect();
        let end = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < end {
            if tcp.write_all(&burst).await.is_err() {
                return;
            }
        }
        // Hold the socket open, still not reading, until the test is over.
        std::future::pending::<()>().await;
    });
    url
}

/// Issue 15 item 2: a peer that floods pings and never reads grew our memory without limit
/// (4.8 GB in 25 s): each ping's pong piled up in tungstenite's write buffer.
#[tokio::test]
async fn a_ping_flood_from_a_server_that_never_reads_meets_backpressure() {
    let url = flooder(hostile::frame(0x89, &[b'p'; 125]), 8).await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_wscope"))
        .args([&url, "-w", "inf"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Once the kernel buffers are full, memory must stop growing.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let settled = rss_mib(child.id());
    let mut peak: f64 = 0.0;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        peak = peak.max(rss_mib(child.id()));
    }
    // Signals still work while both directions are stuck.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let t = Instant::now();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(
        peak - settled < 8.0,
        "RSS grew from {settled:.0} to {peak:.0} MiB under a ping flood"
    );
    assert!(
        t.elapsed() < Duration::from_secs(8),
        "exit took {:?}",
        t.elapsed()
    );
    assert!(status.code().is_some(), "{status:?}");
}

/// Issue 15 item 7: a server that sends close 1000 and keeps TCP open kept wscope for ever.
#[tokio::test]
async fn a_server_that_closes_but_keeps_tcp_open_is_left_after_the_close_deadline() {
    let server = Hostile::stalled_after(hostile::close(1000, "bye")).await;
    let t = Instant::now();
    let out = run_with(args(&[&server.url, "-w", "inf"]), None).await;
    assert!(
        t.elapsed() < Duration::from_secs(8),
        "took {:?}\n{}",
        t.elapsed(),
        out.stderr
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
}

/// Issue 15 item 7: with --ping-timeout, a ping went out after the server's close, then exit 6.
#[tokio::test]
async fn no_ping_goes_out_after_the_servers_close() {
    let server = Hostile::start(vec![
        Step::Send(hostile::close(1000, "")),
        Step::Pause(Duration::from_millis(1500)),
        Step::Drop,
    ])
    .await;
    let out = run_with(
        args(&[
            &server.url,
            "-w",
            "inf",
            "--ping-interval",
            "0.2",
            "--ping-timeout",
            "0.5",
        ]),
        None,
    )
    .await;
    let frames = server.finish().await;
    assert!(
        !frames.iter().any(|f| f.opcode == 0x9),
        "a ping was sent after the close: {frames:?}"
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
}

/// Issue 15 item 10: a reply and the server's close 1000 in one read ended in "connection lost,
/// not clean", exit 6.
#[tokio::test]
async fn once_with_the_reply_and_the_close_in_one_read_is_clean() {
    for _ in 0..5 {
        let mut bytes = hostile::text("reply");
        bytes.extend(hostile::close(1000, ""));
        let server = Hostile::start(vec![Step::Send(bytes)]).await;
        let out = run_with(args(&[&server.url, "--once", "-w", "inf"]), None).await;
        assert_eq!(
            (out.code, out.stdout.as_str()),
            (0, "reply\n"),
            "{}",
            out.stderr
        );
    }
}

fn burst(n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|i| hostile::text(&format!("m{i}")))
        .collect()
}

/// Issue 15 item 10: 10 messages in one read were all printed for --once and --count 3.
#[tokio::test]
async fn once_and_count_print_exactly_that_many_however_many_arrive_at_once() {
    let server = Hostile::start(vec![
        Step::Send(burst(10)),
        Step::Pause(Duration::from_secs(2)),
    ])
    .await;
    let out = run_with(args(&[&server.url, "--once", "-w", "inf"]), None).await;
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "m0\n"),
        "{}",
        out.stderr
    );

    let server = Hostile::start(vec![
        Step::Send(burst(10)),
        Step::Pause(Duration::from_secs(2)),
    ])
    .await;
    let out = run_with(args(&[&server.url, "--count", "3", "-w", "inf"]), None).await;
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "m0\nm1\nm2\n"),
        "{}",
        out.stderr
    );
}

/// Issue 15 item 10: when the count is never reached the exit was 0 (SPEC: 7).
#[tokio::test]
async fn a_count_never_reached_exits_7_saying_how_many_came() {
    let mut bytes = burst(2);
    bytes.extend(hostile::close(1000, ""));
    let server = Hostile::start(vec![Step::Send(bytes)]).await;
    let out = run_with(args(&[&server.url, "--count", "3", "-w", "inf"]), None).await;
    assert_eq!(out.code, 7, "{}", out.stderr);
    assert_eq!(out.stdout, "m0\nm1\n");
    assert!(
        out.stderr.contains("expected 3") && out.stderr.contains("got 2"),
        "{}",
        out.stderr
    );

    let server = Hostile::start(vec![Step::Send(hostile::close(1000, ""))]).await;
    let out = run_with(args(&[&server.url, "--once", "-w", "inf"]), None).await;
    assert_eq!(out.code, 7, "{}", out.stderr);
}

/// Issue 15 item 16: after a ping timeout the summary and JSON said code 1000 though 1001 "ping
/// timeout" was sent; it fired ~0.5 s late and then waited 5 s more for a dead peer.
#[tokio::test]
async fn a_ping_timeout_reports_1001_and_does_not_linger() {
    let server = Hostile::stalled().await;
    let t = Instant::now();
    let out = run_with(
        args(&[
            &server.url,
            "-w",
            "inf",
            "--json",
            "--ping-interval",
            "0.5",
            "--ping-timeout",
            "1",
        ]),
        None,
    )
    .await;
    let took = t.elapsed();
    assert_eq!(out.code, 6, "{}", out.stderr);
    let closed = out
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["event"] == "closed")
        .unwrap_or_else(|| panic!("no closed event in {}", out.stdout));
    assert_eq!(closed["code"], 1001, "{closed}");
    // The first ping goes at 0.5 s, its timeout runs out at 1.5 s; a dead peer gets little more.
    assert!(took < Duration::from_millis(3500), "took {took:?}");
}

/// Spawn wscope with stdout into a pipe that nobody reads (as `wscope URL | sleep 60`).
fn spawn_with_stuck_stdout(
    args: &[&str],
    stderr: Stdio,
) -> (std::process::Child, std::process::ChildStdout) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wscope"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    (child, out)
}

async fn wait_exit(
    mut child: std::process::Child,
    within: Duration,
) -> Option<std::process::ExitStatus> {
    tokio::task::spawn_blocking(move || {
        let end = Instant::now() + within;
        while Instant::now() < end {
            if let Ok(Some(s)) = child.try_wait() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        None
    })
    .await
    .unwrap()
}

/// Issue 15 item 5: a blocked stdout froze the process: signals ignored, timers stopped.
#[tokio::test]
async fn a_blocked_stdout_stops_neither_timers_nor_signals() {
    let line = "x".repeat(1000);
    let flood: Vec<u8> = (0..4000).flat_map(|_| hostile::text(&line)).collect();
    let server = Hostile::start(vec![Step::Send(flood), Step::Pause(Duration::from_secs(3))]).await;
    let (child, _stdout) = spawn_with_stuck_stdout(
        &[&server.url, "-w", "inf", "--ping-interval", "0.3"],
        Stdio::null(),
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    // Timers ran while stdout was stuck: pings went out.
    let pings = server.frames().iter().filter(|f| f.opcode == 0x9).count();
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let status = wait_exit(child, Duration::from_secs(8)).await;
    assert!(pings >= 3, "only {pings} pings while stdout was blocked");
    assert!(
        status.is_some(),
        "wscope ignored SIGTERM with a blocked stdout"
    );
}

/// Review finding: in pipe mode the session's sink is wrapped (it counts refused commands), and
/// the wrapper did not pass on "output is backlogged", so with stdout blocked the session kept
/// reading a flooding server and the output queue grew without bound.
#[tokio::test]
async fn a_blocked_stdout_in_pipe_mode_stops_reading_a_flooding_server() {
    let url = flooder(hostile::text(&"y".repeat(1000)), 6).await;
    let (mut child, _stdout) = spawn_with_stuck_stdout(&[&url, "-w", "inf"], Stdio::null());
    let pid = child.id();
    let mut peak: f64 = 0.0;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(4) {
        peak = peak.max(rss_mib(pid));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
    let _ = child.wait();
    assert!(
        peak < 60.0,
        "RSS reached {peak:.0} MiB while stdout was blocked and the server flooded"
    );
}

/// Issue 15 item 5, listen: with its stdout blocked, every client froze and new handshakes went
/// unanswered.
#[tokio::test]
async fn listen_with_a_blocked_stdout_still_answers_new_clients() {
    use futures_util::SinkExt;
    let (mut child, _stdout) = spawn_with_stuck_stdout(&["listen", "127.0.0.1:0"], Stdio::piped());
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
    let url = format!("ws://{addr}/");
    let open = |url: String| async move {
        let tcp = tokio::net::TcpStream::connect(&url[5..url.len() - 1]).await?;
        tokio_tungstenite::client_async(url.as_str(), tcp)
            .await
            .map_err(std::io::Error::other)
    };
    let (mut a, _) = open(url.clone()).await.unwrap();
    let line = "y".repeat(1000);
    for _ in 0..5000 {
        if tokio::time::timeout(Duration::from_secs(2), a.send(line.as_str().into()))
            .await
            .is_err()
        {
            break; // backpressure reached us: fine
        }
    }
    let t = Instant::now();
    let second = tokio::time::timeout(Duration::from_secs(3), open(url.clone())).await;
    assert!(
        matches!(second, Ok(Ok(_))),
        "a new client was not answered in {:?}",
        t.elapsed()
    );
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let status = wait_exit(child, Duration::from_secs(8)).await;
    assert!(
        status.is_some(),
        "listen ignored SIGTERM with a blocked stdout"
    );
}

/// Issue 15 item 6: `--dump` of a message sent as 1-byte fragments queued ~230 bytes of dump per
/// frame in an unbounded channel (1.8 GB for an 8 MiB message).
#[tokio::test]
async fn the_dump_of_a_message_in_one_byte_fragments_stays_bounded() {
    // Enough that the old unbounded queue (~230 bytes per frame) would pass 60 MiB by far, few
    // enough that a debug build on a loaded machine dumps them well within the deadline.
    const N: usize = 300_000;
    let mut bytes = Vec::with_capacity(N * 3 + 16);
    bytes.extend(hostile::frame(0x01, b"a"));
    for _ in 1..N - 1 {
        bytes.extend(hostile::frame(0x00, b"a"));
    }
    bytes.extend(hostile::frame(0x80, b"a"));
    let server = Hostile::start(vec![
        Step::Send(bytes),
        Step::Pause(Duration::from_secs(30)),
    ])
    .await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_wscope"))
        .args([
            &server.url,
            "--once",
            "-w",
            "inf",
            "--dump",
            "--dump-file",
            "/dev/null",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut peak: f64 = 0.0;
    let start = Instant::now();
    let status = loop {
        if let Ok(Some(s)) = child.try_wait() {
            break Some(s);
        }
        if start.elapsed() > Duration::from_secs(150) {
            let _ = child.kill();
            break None;
        }
        peak = peak.max(rss_mib(pid));
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        peak < 60.0,
        "RSS reached {peak:.0} MiB dumping {N} fragments"
    );
    assert_eq!(status.and_then(|s| s.code()), Some(0));
}

/// Issue 15 item 4: `/file /dev/zero` read gigabytes (the size check read `metadata().len()`, 0
/// for devices) and `/file FIFO` blocked the runtime thread in open(). /file reads regular files
/// only, up to --max-message-size; the rest still runs and the exit is 1.
#[tokio::test]
async fn file_refuses_devices_and_fifos_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let server = Hostile::start(vec![Step::AwaitFrames(2)]).await;
    let t = Instant::now();
    let out = run_with(
        args(&[
            &server.url,
            "-x",
            "/file /dev/zero",
            "-x",
            &format!("/file {}", fifo.display()),
            "-x",
            "still sent",
            "-w",
            "0.5",
        ]),
        None,
    )
    .await;
    assert!(
        t.elapsed() < Duration::from_secs(8),
        "took {:?}",
        t.elapsed()
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("'/dev/zero' is not a regular file"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("fifo' is not a regular file"),
        "{}",
        out.stderr
    );
    let frames = server.finish().await;
    assert!(
        frames
            .iter()
            .any(|f| f.opcode == 0x1 && f.payload == b"still sent"),
        "{frames:?}"
    );
}

/// Issue 14: a stdin line over the limit was a message on stderr and exit 0; it is an error
/// through the printer, with a non-zero exit, and the lines before it still went out.
#[tokio::test]
async fn a_stdin_line_over_the_limit_is_an_error_not_exit_0() {
    let server = Hostile::start(vec![Step::AwaitFrames(2)]).await;
    let mut input = b"first\n".to_vec();
    input.extend(vec![b'x'; 300]);
    input.extend(b"\nnever\n");
    let out = run_with(
        args(&[&server.url, "--max-message-size", "200", "-w", "0.5"]),
        Some(input),
    )
    .await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("error: stdin line 2 is longer than --max-message-size (200 bytes)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("hint: raise --max-message-size"),
        "{}",
        out.stderr
    );
    let frames = server.finish().await;
    assert!(
        frames
            .iter()
            .any(|f| f.opcode == 0x1 && f.payload == b"first"),
        "{frames:?}"
    );
    assert!(!frames.iter().any(|f| f.payload == b"never"), "{frames:?}");
}
