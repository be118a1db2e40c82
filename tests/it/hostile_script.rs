//! Issue 25, the script's share: what a hostile server can do through expect scripting. Deeply
//! nested JSON must not overflow the stack (D1), a value the server chose must never become a
//! command (D2) or jq code (D3), a runaway jq filter must give way to its timeout and to signals
//! with bounded memory (D4), and a script or filter the user gave must be refused cleanly when it
//! is endless (D7) or nested too deep to compile (D8).

use crate::support;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::hostile::{self, Hostile, Step};
use support::{args, run, Out};

/// `[{"a":` ... `}]`, `depth` pairs deep: about 8 bytes a level.
fn deep_json(depth: usize) -> String {
    format!("{}1{}", "[{\"a\":".repeat(depth), "}]".repeat(depth))
}

/// A server that sends `messages`, then waits for the client's close (answering it).
async fn sends(messages: &[&str]) -> Hostile {
    let mut steps: Vec<Step> = messages
        .iter()
        .map(|m| Step::Send(hostile::text(m)))
        .collect();
    steps.push(Step::Pause(Duration::from_secs(20)));
    Hostile::start(steps).await
}

fn assert_exit(out: &Out, code: i32) {
    assert_eq!(
        out.code, code,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
}

/// D1: /expect-json on a message 10,000 deep is "did not match", not an abort.
#[tokio::test]
async fn a_deeply_nested_message_is_not_json_for_expect_json() {
    let deep = deep_json(10_000);
    let server = sends(&[&deep, "{\"ok\":true}"]).await;
    let out = run(args(&[
        &server.url,
        "-x",
        "/expect-json --timeout 5 .ok",
        "-x",
        "/expect-json --timeout 1 .a",
    ]))
    .await;
    // The first expectation skips the deep one and matches the next; the second has nothing.
    assert_exit(&out, 7);
    assert!(
        out.stderr.contains("/expect-json .a failed"),
        "{}",
        out.stderr
    );
}

/// D1: /let on a deep message that a regex matched says it is not JSON.
#[tokio::test]
async fn a_deeply_nested_message_is_not_json_for_let() {
    let deep = deep_json(10_000);
    let server = sends(&[&deep]).await;
    let out = run(args(&[
        &server.url,
        "-x",
        "/expect ^\\[",
        "-x",
        "/let v .a",
    ]))
    .await;
    assert_exit(&out, 7);
    assert!(out.stderr.contains("not JSON"), "{}", out.stderr);
}

/// D2: a line that starts with a variable is a message, whatever the value: the server's
/// `/file PATH` is sent back as text, and the file is never read.
#[tokio::test]
async fn a_value_that_looks_like_a_command_is_sent_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "TOP-SECRET-42").unwrap();
    let bait = format!("/file {}", secret.display());
    let server = Hostile::start(vec![
        Step::Send(hostile::text(&bait)),
        Step::Send(hostile::text("/close 4000 bye")),
        Step::Pause(Duration::from_secs(20)),
    ])
    .await;
    let out = run(args(&[
        &server.url,
        "-x",
        "/expect (?<R>.*)",
        "-x",
        "${R}",
        "-x",
        "/expect ^/close(?<C>.*)",
        "-x",
        "${C}x",
        "-w",
        "0.5",
    ]))
    .await;
    let frames = server.frames();
    let texts: Vec<String> = frames
        .iter()
        .filter(|f| f.opcode == 0x1)
        .map(|f| String::from_utf8_lossy(&f.payload).into_owned())
        .collect();
    assert!(
        frames
            .iter()
            .all(|f| !String::from_utf8_lossy(&f.payload).contains("TOP-SECRET")),
        "the secret went out: {texts:?}"
    );
    assert_eq!(texts, vec![bait, " 4000 byex".to_string()]);
    assert_eq!(hostile::close_code(&frames), Some(1000), "{}", out.stderr);
    assert_exit(&out, 0);
}

/// D3: in a jq filter a value is a string: `0 or true` does not make the expectation pass.
#[tokio::test]
async fn a_value_in_a_jq_filter_is_a_string() {
    for value in ["0 or true", "last(range(1e15))", &"[".repeat(5000)] {
        let server = sends(&[&format!("id={value}"), "{\"n\":5}"]).await;
        let started = Instant::now();
        let out = run(args(&[
            &server.url,
            "-x",
            "/expect ^id=(?<id>.*)$",
            "-x",
            "/expect-json --timeout 1 .n == ${id}",
        ]))
        .await;
        assert_exit(&out, 7);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{value:?} hung"
        );
    }
    // And where the value is what the message holds, it matches.
    let server = sends(&["id=0 or true", "{\"n\":\"0 or true\"}"]).await;
    let out = run(args(&[
        &server.url,
        "-x",
        "/expect ^id=(?<id>.*)$",
        "-x",
        "/expect-json --timeout 2 .n == ${id}",
        "-w",
        "0.2",
    ]))
    .await;
    assert_exit(&out, 0);
}

/// Peak resident memory of a process, from /proc (VmHWM), in MiB.
fn peak_rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

/// wscope spawned directly (for its pid), with the scrubbed environment of `support::wscope`.
fn spawn(list: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_wscope"))
        .args(list)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Past this peak a test has failed already: the child is killed before it eats the machine.
const RSS_CAP_MIB: u64 = 400;

/// Wait for `child` at most `limit`, sampling its peak memory; its exit code (None: still
/// running or past [`RSS_CAP_MIB`], killed) and the peak in MiB.
fn wait_sampling(child: &mut std::process::Child, limit: Duration) -> (Option<i32>, u64) {
    let start = Instant::now();
    let mut peak = 0;
    loop {
        peak = peak.max(peak_rss_mib(child.id()));
        if let Some(status) = child.try_wait().unwrap() {
            return (status.code(), peak);
        }
        if start.elapsed() > limit || peak > RSS_CAP_MIB {
            let _ = child.kill();
            let _ = child.wait();
            return (None, peak);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stderr_of(child: &mut std::process::Child) -> String {
    let mut s = String::new();
    if let Some(e) = child.stderr.as_mut() {
        let _ = e.read_to_string(&mut s);
    }
    s
}

/// D4: a filter that builds a huge array or counts for ever fails at its --timeout (exit 7),
/// within a few seconds, and memory stays bounded.
#[tokio::test]
async fn a_runaway_filter_gives_way_to_its_timeout_with_bounded_memory() {
    for filter in ["[range(1e9)] | length > 0", "last(range(1e12)) > 0"] {
        let server = sends(&["{}"]).await;
        let url = server.url.clone();
        let expect = format!("/expect-json --timeout 1 {filter}");
        let (code, peak, stderr) = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let mut child = spawn(&[&url, "-x", &expect]);
            let (code, peak) = wait_sampling(&mut child, Duration::from_secs(8));
            let stderr = stderr_of(&mut child);
            assert!(started.elapsed() < Duration::from_secs(8));
            (code, peak, stderr)
        })
        .await
        .unwrap();
        assert_eq!(code, Some(7), "{filter}: {stderr}");
        assert!(stderr.contains("failed"), "{filter}: {stderr}");
        assert!(peak < RSS_CAP_MIB, "{filter}: peak RSS {peak} MiB");
    }
}

/// True when process `pid` has a thread running a jq filter.
fn jq_thread_runs(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.flatten().any(|t| {
        std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim() == "wscope-jq")
    })
}

/// Run wscope with `script` against `url`, send SIGTERM 300 ms after its jq filter started, and
/// give its exit code (None: still running 30 s later, killed) and how long it took after the
/// signal.
async fn sigterm_once_a_filter_runs(url: String, script: &'static str) -> (Option<i32>, Duration) {
    tokio::task::spawn_blocking(move || {
        let mut child = spawn(&[&url, "-x", script]);
        // Wait until the filter runs: its thread is there (a loaded machine may take a while).
        let start = Instant::now();
        while !jq_thread_runs(child.id()) && start.elapsed() < Duration::from_secs(15) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(jq_thread_runs(child.id()), "the filter never started");
        std::thread::sleep(Duration::from_millis(300));
        // SAFETY: a plain kill(2) on our own child.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let signalled = Instant::now();
        let (code, _) = wait_sampling(&mut child, Duration::from_secs(30));
        (code, signalled.elapsed())
    })
    .await
    .unwrap()
}

/// D4: SIGTERM during a runaway filter ends wscope promptly.
#[tokio::test]
async fn sigterm_during_a_runaway_filter_exits_promptly() {
    let server = sends(&["{}"]).await;
    let (code, waited) = sigterm_once_a_filter_runs(
        server.url.clone(),
        "/expect-json --timeout 60 last(range(1e12)) > 0",
    )
    .await;
    assert!(waited < Duration::from_secs(3), "took {waited:?}");
    // It ended by itself (not killed by the test). Which code a signal that cuts an expectation
    // short gives (7: not met; 143) is the session's rule, not the filter's.
    assert!(code.is_some(), "still running after SIGTERM");
}

/// D7: --script must be a regular file of bounded size; /dev/zero and a FIFO are refused at once.
#[tokio::test]
async fn an_endless_script_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo on a path we own.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let big = dir.path().join("big");
    std::fs::write(&big, "a\n".repeat(3 << 20)).unwrap();
    for path in ["/dev/zero", fifo.to_str().unwrap(), big.to_str().unwrap()] {
        let started = Instant::now();
        let out = run(args(&["ws://127.0.0.1:9/", "--script", path])).await;
        assert_exit(&out, 2);
        assert!(out.stderr.contains("--script"), "{}", out.stderr);
        assert!(started.elapsed() < Duration::from_secs(5), "{path}");
    }
}

/// D8: a filter nested 5,000 deep is a usage error before connecting, not an abort.
#[tokio::test]
async fn a_filter_nested_too_deep_is_a_usage_error() {
    for filter in [
        format!("{}.{}", "(".repeat(5000), ")".repeat(5000)),
        format!("{}1{}", "[".repeat(5000), "]".repeat(5000)),
        format!("{}1{}", "{a:".repeat(5000), "}".repeat(5000)),
        format!("{}1{}", "\"\\(".repeat(5000), ")\"".repeat(5000)),
    ] {
        let out = run(args(&[
            "ws://127.0.0.1:9/",
            "-x",
            &format!("/expect-json {filter}"),
        ]))
        .await;
        assert_exit(&out, 2);
        assert!(out.stderr.contains("expect-json"), "{}", out.stderr);
        assert!(out.stderr.contains("it is nested "), "{}", out.stderr);
    }
    // Deep in another way (5,000 minus signs): compiled on a deep stack, no abort; the
    // connection to the closed port is what fails.
    let minus = format!("/expect-json {}1", "-".repeat(5000));
    let out = run(args(&["ws://127.0.0.1:9/", "-x", &minus])).await;
    assert_exit(&out, 3);
}

/// The end of a connection waits for filters still running without blocking the runtime: a
/// server that sends many messages and its close in one go, while a slow (but bounded) filter
/// judges each, must not hold a signal off. Before, the end waited on the runtime thread for
/// each kept message's filter in turn, and SIGTERM was handled only after all of them.
#[tokio::test]
async fn sigterm_while_filters_judge_what_came_before_a_close_exits_promptly() {
    let mut steps: Vec<Step> = (0..40).map(|_| Step::Send(hostile::text("{}"))).collect();
    steps.push(Step::Send(hostile::close(1000, "bye")));
    steps.push(Step::Pause(Duration::from_secs(20)));
    let server = Hostile::start(steps).await;
    // Each run counts for a while (no allocation: no memory budget involved) and is false.
    let (code, waited) = sigterm_once_a_filter_runs(
        server.url.clone(),
        "/expect-json --timeout 60 (reduce range(30000) as $i (0; . + $i)) < 0",
    )
    .await;
    assert!(code.is_some(), "still running 30 s after SIGTERM");
    assert!(
        waited < Duration::from_secs(2),
        "took {waited:?} after SIGTERM"
    );
}
