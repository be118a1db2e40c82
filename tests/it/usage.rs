//! Everyday use from the command line: usage errors exit 2 with text naming the problem (before
//! anything is dialed), and `wscope listen --echo` serves several clients at once, echoing each
//! message with its type.

use crate::support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use support::{stderr, wscope};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

/// Run wscope and expect a usage error; returns the first `error:` line and all of stderr.
fn usage_error(args: &[&str]) -> (String, String) {
    let a = wscope().args(args).assert();
    let err = stderr(&a);
    a.code(2);
    let line = err
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| panic!("no error line for {args:?}:\n{err}"))
        .to_string();
    (line, err)
}

/// A port nothing listens on: connecting fails at once, with an error message to colour.
fn closed_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    format!("ws://127.0.0.1:{port}/")
}

#[test]
fn colour_follows_the_flag_and_stays_off_in_a_pipe() {
    let url = closed_port();
    // --color always wins over NO_COLOR (which wscope() sets).
    let always = wscope().args([&url, "--color", "always"]).assert().code(3);
    assert!(stderr(&always).contains("\x1b["), "{:?}", stderr(&always));
    let never = wscope().args([&url, "--color", "never"]).assert().code(3);
    assert!(!stderr(&never).contains('\x1b'), "{:?}", stderr(&never));
    // auto: stderr is a pipe here, so no colour even without NO_COLOR.
    let auto = wscope().arg(&url).env_remove("NO_COLOR").assert().code(3);
    assert!(!stderr(&auto).contains('\x1b'), "{:?}", stderr(&auto));
    assert!(
        stderr(&auto).contains("cannot connect"),
        "{}",
        stderr(&auto)
    );
}

#[test]
fn an_unsupported_scheme_is_named() {
    for cmd in [&["ftp://x"][..], &["inspect", "ftp://x"][..]] {
        let (line, err) = usage_error(cmd);
        assert!(line.contains("scheme 'ftp'"), "{err}");
        assert!(err.contains("ws://"), "the fix is shown: {err}");
    }
}

#[test]
fn a_url_without_host_is_named() {
    let (line, err) = usage_error(&["ws://"]);
    assert!(line.contains("host"), "{err}");
    let (line, err) = usage_error(&["wss:///path"]);
    assert!(line.contains("host"), "{err}");
}

#[test]
fn a_header_without_colon_is_refused_before_dialing() {
    // Port 1 has no listener: had wscope dialed first, this would be a connect failure (exit 3).
    let (line, err) = usage_error(&["ws://127.0.0.1:1/", "-H", "X-Token abc"]);
    assert!(line.contains("'X-Token abc'"), "{err}");
    assert!(line.contains("colon"), "{err}");
    assert!(err.contains("Name: value"), "{err}");
}

/// An error found while checking the command line is reported once, at the edge, in the format
/// the command was asked for: `--json` adds its `error` object, whichever command it is (inspect
/// included, whose own report would hold a later error).
#[test]
fn a_usage_error_is_reported_once_in_the_format_asked_for() {
    for args in [
        &["ws://127.0.0.1:1/", "-H", "bad", "--json"][..],
        &["inspect", "ws://127.0.0.1:1/", "-H", "bad", "--json"][..],
        &["probe", "ws://127.0.0.1:1/", "-H", "bad", "--json"][..],
    ] {
        let a = wscope().args(args).assert();
        let (out, err) = (support::stdout(&a), stderr(&a));
        a.code(2);
        assert_eq!(
            out.matches("\"event\":\"error\"").count(),
            1,
            "{args:?}: {out}"
        );
        assert!(out.contains("has no colon"), "{args:?}: {out}");
        assert_eq!(err.matches("error:").count(), 1, "{args:?}: {err}");
    }
}

#[test]
fn control_bytes_in_headers_and_subprotocols_are_refused_before_dialing() {
    for (flag, value, byte) in [
        ("-H", "X-A: a\u{1}b", "0x01"),
        ("-H", "X-A: a\u{7f}b", "0x7f"),
        ("-H", "X-A: \u{1b}]0;pwned\u{7}", "0x1b"),
        ("-H", "X-A: a\rb", "0x0d"),
        ("-s", "chat\tv1", "0x09"),
        ("-s", "chat\u{1b}", "0x1b"),
        ("-s", "chat/v1", "'/'"),
    ] {
        let (line, err) = usage_error(&["ws://127.0.0.1:1/", flag, value]);
        assert!(line.contains(flag), "{flag} {value:?}: {err}");
        assert!(line.contains(byte), "{flag} {value:?}: {err}");
        assert!(!err.contains('\u{1b}') && !err.contains('\u{1}'), "{err:?}");
    }
    // TAB is part of a header value's syntax: it goes through.
    let a = wscope()
        .args([
            "ws://127.0.0.1:1/",
            "-H",
            "X-A: a\tb",
            "--connect-timeout",
            "1",
        ])
        .assert()
        .code(3);
    drop(a);
}

#[test]
fn zero_intervals_and_tiny_limits_are_usage_errors_naming_the_range() {
    for (flag, value, range) in [
        ("--ping-interval", "0", "0.1"),
        ("--ping-interval", "0.001", "0.1"),
        ("--ping-timeout", "0", "0.1"),
        ("--connect-timeout", "0", "0.1"),
        ("--max-message-size", "100", "125"),
        ("--max-message-size", "0", "125"),
    ] {
        let (line, err) = usage_error(&["ws://127.0.0.1:1/", flag, value]);
        assert!(line.contains(flag), "{flag} {value}: {err}");
        assert!(line.contains(range), "{flag} {value}: {err}");
    }
}

#[test]
fn inspect_refuses_the_options_it_would_ignore() {
    // --dump, --dump-file and --dump-limit show the frames of inspect's close (SPEC).
    for extra in [&["--ping-interval", "1"][..], &["--ping-timeout", "1"][..]] {
        let mut cmd = vec!["inspect", "ws://127.0.0.1:1/"];
        cmd.extend_from_slice(extra);
        let (line, err) = usage_error(&cmd);
        assert!(line.contains(extra[0]), "{extra:?}: {err}");
    }
}

#[test]
fn an_unreadable_ca_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let missing = missing.to_str().unwrap();
    let (line, err) = usage_error(&["wss://127.0.0.1:1/", "--ca", missing]);
    assert!(line.contains("--ca"), "{err}");
    assert!(line.contains(missing), "{err}");

    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "this is not a certificate\n").unwrap();
    let garbage = garbage.to_str().unwrap();
    let (line, err) = usage_error(&["inspect", "wss://127.0.0.1:1/", "--ca", garbage]);
    assert!(line.contains("--ca"), "{err}");
    assert!(line.contains(garbage), "{err}");
}

/// A `wscope listen` process, killed when the test ends however it ends.
struct Listener {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Listener {
    /// Start `wscope listen 127.0.0.1:0 ARGS` and return it with the address it printed.
    fn start(args: &[&str]) -> (Listener, String) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wscope"))
            .arg("listen")
            .arg("127.0.0.1:0")
            .args(args)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Data may go to stdout and notes to stderr: the test reads both, as a user would.
        let (tx, lines) = mpsc::channel();
        let out: Box<dyn std::io::Read + Send> = Box::new(child.stdout.take().unwrap());
        let err: Box<dyn std::io::Read + Send> = Box::new(child.stderr.take().unwrap());
        for pipe in [err, out] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let listener = Listener { child, lines };
        let first = listener
            .lines
            .recv_timeout(Duration::from_secs(20))
            .expect("listen prints its address");
        assert!(first.contains("listening on"), "{first}");
        let addr = first
            .split("ws://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("no ws:// address in '{first}'"))
            .to_string();
        (listener, addr)
    }

    /// Every line printed so far.
    fn printed(&self) -> String {
        let mut all = String::new();
        while let Ok(l) = self.lines.recv_timeout(Duration::from_millis(300)) {
            all.push_str(&l);
            all.push('\n');
        }
        all
    }
}

/// The next message, within 10 s.
async fn next(ws: &mut tokio_tungstenite::WebSocketStream<TcpStream>) -> Message {
    tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .expect("an echo within 10 s")
        .expect("the connection stays open")
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_echo_serves_two_clients_at_once_keeping_message_types() {
    let (listener, addr) = Listener::start(&["--echo"]);
    let open = || async {
        let tcp = TcpStream::connect(&addr).await.unwrap();
        let (ws, _) = tokio_tungstenite::client_async(format!("ws://{addr}/"), tcp)
            .await
            .unwrap();
        ws
    };
    // Both connected before either sends: the server must serve them concurrently.
    let mut one = open().await;
    let mut two = open().await;
    two.send(Message::text("from two")).await.unwrap();
    one.send(Message::text("from one")).await.unwrap();
    one.send(Message::binary(vec![0u8, 1, 0xfe, 0xff]))
        .await
        .unwrap();
    two.send(Message::binary(b"\x00two".to_vec()))
        .await
        .unwrap();

    assert_eq!(next(&mut one).await, Message::text("from one"));
    assert_eq!(
        next(&mut one).await,
        Message::binary(vec![0u8, 1, 0xfe, 0xff])
    );
    assert_eq!(next(&mut two).await, Message::text("from two"));
    assert_eq!(next(&mut two).await, Message::binary(b"\x00two".to_vec()));

    one.close(None).await.unwrap();
    two.close(None).await.unwrap();
    let printed = listener.printed();
    let shown = |text: &str| {
        printed
            .lines()
            .find(|l| l.contains(text))
            .unwrap_or_else(|| panic!("'{text}' not printed:\n{printed}"))
            .replace(text, "")
    };
    // Each message is tagged with its client: the two lines differ by more than their text.
    assert_ne!(shown("from one"), shown("from two"), "{printed}");
}
