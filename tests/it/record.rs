//! `--record FILE`: the transcript the real binary writes, read back as a user would (jq-style,
//! line by line): its `session` line and redaction, every event with its full payload, the file's
//! mode, `listen` recording each client with its id, a write error reported once, and a session
//! killed mid-way that still left what happened in the file. Then the transcript replayed.

use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::time::Duration;

use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use crate::listen::Server as Listen;
use crate::support::{self, args, servers};

fn lines(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn events<'a>(all: &'a [Value], name: &str) -> Vec<&'a Value> {
    all.iter().filter(|v| v["event"] == name).collect()
}

fn header<'a>(session: &'a Value, name: &str) -> Option<&'a str> {
    session["headers"]
        .as_array()?
        .iter()
        .find(|h| {
            h["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
        .and_then(|h| h["value"].as_str())
}

#[tokio::test]
async fn the_transcript_has_a_session_line_then_every_event_in_full() {
    let server = servers::start(servers::Options {
        protocols: vec!["chat".into()],
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.jsonl");
    let big = "x".repeat(100_000);
    let out = support::run(args(&[
        &format!("ws://{}/room", server.addr),
        "-s",
        "chat",
        "-H",
        "Authorization: Bearer s3cret",
        "-H",
        "Cookie: sid=42",
        "-H",
        "X-Trace: t-1",
        "-x",
        "hello",
        "-x",
        "/binary 00 ff",
        "-x",
        &big,
        "--record",
        &file.display().to_string(),
        "--idle",
        "0.3",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the transcript is the owner's only");
    let all = lines(&file);
    let session = &all[0];
    assert_eq!(session["event"], "session");
    assert_eq!(session["role"], "client");
    assert_eq!(session["url"], format!("ws://{}/room", server.addr));
    assert_eq!(session["subprotocol"], "chat");
    assert_eq!(session["subprotocols"], serde_json::json!(["chat"]));
    assert!(session["extensions"].is_array());
    // Credentials are redacted; other headers are kept as sent.
    assert_eq!(header(session, "Authorization"), Some("[redacted]"));
    assert_eq!(header(session, "Cookie"), Some("[redacted]"));
    assert_eq!(header(session, "X-Trace"), Some("t-1"));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains("s3cret") && !text.contains("sid=42"));
    // Every message both ways, with its type and its whole payload.
    let sent = events(&all, "sent");
    let received = events(&all, "received");
    assert_eq!(sent.len(), 3);
    assert_eq!(received.len(), 3);
    assert_eq!(sent[0]["data"], "hello");
    assert_eq!(sent[1]["type"], "binary");
    assert_eq!(sent[1]["hex"], "00ff");
    assert_eq!(received[2]["data"].as_str().map(str::len), Some(100_000));
    assert_eq!(events(&all, "closed").len(), 1);
    // The --json schema: every line has its event and times.
    assert!(all
        .iter()
        .all(|v| v["t"].is_number() && v["time"].is_number()));
}

#[tokio::test]
async fn record_secrets_keeps_the_credentials_and_replay_sends_them_again() {
    let server = servers::start(servers::Options::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.jsonl").display().to_string();
    let out = support::run(args(&[
        &format!("ws://{}/", server.addr),
        "-H",
        "Authorization: Bearer s3cret",
        "-o",
        "http://app.test",
        "-x",
        "hi",
        "--record",
        &file,
        "--record-secrets",
        "--idle",
        "0.2",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        header(&lines(file.as_ref())[0], "Authorization"),
        Some("Bearer s3cret")
    );

    // Replayed elsewhere: the same headers and messages, not the old Host or key.
    let again = servers::start(servers::Options::default()).await;
    let url = format!("ws://{}/", again.addr);
    let out = support::run(args(&["replay", &file, &url, "--idle", "0.2"])).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let conn = again.single();
    assert_eq!(
        conn.header_exact("Authorization").as_deref(),
        Some("Bearer s3cret")
    );
    assert_eq!(
        conn.header_exact("Origin").as_deref(),
        Some("http://app.test")
    );
    assert_eq!(
        conn.header_exact("Host"),
        Some(again.addr.to_string()),
        "{}",
        conn.raw_head
    );
    assert_eq!(conn.messages.first(), Some(&Message::text("hi")));
}

#[tokio::test]
async fn listen_records_every_client_with_its_id() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("srv.jsonl");
    let mut server = Listen::start(&["--echo", "--record", &file.display().to_string()]);
    for (i, msg) in ["from one", "from two"].iter().enumerate() {
        let out = support::run(args(&[
            &server.url(&format!("/c{i}")),
            "-H",
            "Cookie: k=v",
            "-x",
            msg,
            "--idle",
            "0.2",
        ]))
        .await;
        assert_eq!(out.code, 0, "{}", out.stderr);
    }
    server.wait_for("stderr", "[2] disconnected").await;
    server.signal(libc::SIGTERM);
    assert!(server.exit_status().success());
    let all = lines(&file);
    assert_eq!(all[0]["event"], "session");
    assert_eq!(all[0]["role"], "server");
    let handshakes = events(&all, "handshake");
    assert_eq!(handshakes.len(), 2);
    assert_eq!(handshakes[0]["client"], 1);
    assert_eq!(handshakes[1]["path"], "/c1");
    assert_eq!(header(handshakes[0], "Cookie"), Some("[redacted]"));
    let received: Vec<(u64, &str)> = events(&all, "received")
        .iter()
        .map(|v| (v["client"].as_u64().unwrap(), v["data"].as_str().unwrap()))
        .collect();
    assert_eq!(received, [(1, "from one"), (2, "from two")]);
    // Every event of a client's session carries its id.
    assert!(all[1..].iter().all(|v| v["client"].is_u64()), "{all:?}");

    // A listen transcript replays per client: entry 1 is client 2, with its path.
    let path = file.display().to_string();
    let out = support::run(args(&["replay", &path, "--list"])).await;
    assert_eq!(
        out.stdout,
        format!(
            "0  {}  1 sent, 1 received\n1  {}  1 sent, 1 received\n",
            server.url("/c0"),
            server.url("/c1")
        )
    );
    let again = servers::start(servers::Options::default()).await;
    let url = format!("ws://{}/", again.addr);
    let out = support::run(args(&[
        "replay", &path, &url, "--entry", "1", "--idle", "0.2",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        again.single().messages.first(),
        Some(&Message::text("from two"))
    );
}

#[tokio::test]
async fn a_write_error_is_reported_once_and_the_session_goes_on() {
    let server = servers::start(servers::Options::default()).await;
    let out = support::run(args(&[
        &format!("ws://{}/", server.addr),
        "-x",
        "still sent",
        "--record",
        "/dev/full",
        "--idle",
        "0.2",
    ]))
    .await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(
        out.stderr
            .matches("cannot write the --record file '/dev/full'")
            .count(),
        1,
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--record FILE"), "{}", out.stderr);
    assert_eq!(out.stdout, "still sent\n");
    assert_eq!(
        server.single().messages.first(),
        Some(&Message::text("still sent"))
    );
}

#[tokio::test]
async fn an_unwritable_record_path_is_a_usage_error_before_dialing() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = dead.local_addr().unwrap();
    drop(dead);
    let out = support::run(args(&[
        &format!("ws://{addr}/"),
        "--record",
        "/nonexistent/dir/t.jsonl",
    ]))
    .await;
    // 2, not 3: nothing was dialed.
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("--record file '/nonexistent/dir/t.jsonl'"),
        "{}",
        out.stderr
    );
    let out = support::run(args(&["ws://h/", "--record-secrets"])).await;
    assert_eq!(
        out.code, 2,
        "--record-secrets needs --record: {}",
        out.stderr
    );
}

#[tokio::test]
async fn a_killed_session_leaves_what_happened_in_the_file() {
    let server = servers::start(servers::Options::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.jsonl");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("wscope"))
        .args([
            &format!("ws://{}/", server.addr),
            "-x",
            "before the crash",
            "-w",
            "inf",
            "--record",
            &file.display().to_string(),
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let echoed = loop {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        if text.contains("\"received\"") || std::time::Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(echoed.contains("\"received\""), "{echoed}");
    let all = lines(&file);
    assert_eq!(all[0]["event"], "session");
    assert_eq!(events(&all, "received")[0]["data"], "before the crash");
}

#[tokio::test]
async fn a_record_fifo_nobody_reads_never_hangs_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let c = std::ffi::CString::new(fifo.display().to_string()).unwrap();
    // SAFETY: mkfifo on a path in our own temporary directory.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let fifo_arg = fifo.display().to_string();
    // No reader: refused at once (a usage error), not a wait.
    let server = servers::start(servers::Options::default()).await;
    let url = format!("ws://{}/", server.addr);
    let out = support::run(args(&[&url, "-x", "x", "--record", &fifo_arg])).await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--record file"), "{}", out.stderr);
    // A reader that never reads: the pipe fills, the recording falls behind, and the session
    // still ends on its deadlines (and the process exits) instead of waiting for ever.
    let _reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)
        .unwrap();
    let mut lines = "y".repeat(1 << 20);
    lines.push('\n');
    let stdin = lines.repeat(8).into_bytes();
    let a = args(&[&url, "--record", &fifo_arg, "--idle", "0.3"]);
    let started = std::time::Instant::now();
    let out = support::run_with(a, Some(stdin)).await;
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    // The recording could not be completed: said, with exit 1.
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains(&format!("the --record file '{fifo_arg}' is incomplete")),
        "{}",
        out.stderr
    );
    assert_eq!(server.connections().len(), 1);
}
