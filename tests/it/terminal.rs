//! Terminal safety (SPEC "Terminal safety", issue 15 item 9): what a hostile server sends must not
//! reach a terminal as a control sequence — in the REPL, in pipe mode on a terminal, and in every
//! diagnostic on stderr (terminal or not) — while data piped to a non-terminal stays byte for byte.

use crate::support;

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::hostile::{self, Hostile, Step};
use support::{args, pty, run_with};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const TIMEOUT: Duration = Duration::from_secs(15);

/// The messages of a server that attacks the terminal: set the title, clear the screen, overwrite
/// the line with CR, put `rm -rf ~` into the clipboard (OSC 52), an 8-bit CSI and OSC (C1), a bidi
/// override, and a colour of its own (SGR).
const HOSTILE: [&str; 7] = [
    "\x1b]0;pwned\x07",
    "\x1b[2J",
    "abc\rXY",
    "\x1b]52;c;cm0gLXJmIH4=\x07",
    "\u{9b}31mred \u{9d}0;t\u{9c}",
    "rev \u{202e}txt.exe",
    "\x1b[31msgr",
];

/// How each of [`HOSTILE`] must look on a terminal.
const VISIBLE: [&str; 7] = [
    "\\e]0;pwned\\x07",
    "\\e[2J",
    "abc\\rXY",
    "\\e]52;c;cm0gLXJmIH4=\\x07",
    "\\u{9b}31mred \\u{9d}0;t\\u{9c}",
    "rev \\u{202e}txt.exe",
    "\\e[31msgr",
];

/// Byte sequences of the attack that must never appear on the terminal.
const RAW: [&[u8]; 9] = [
    b"\x1b]0;",
    b"\x1b[2J",
    b"abc\rXY",
    b"\x1b]52",
    "\u{9b}".as_bytes(),
    "\u{9d}".as_bytes(),
    "\u{9c}".as_bytes(),
    "\u{202e}".as_bytes(),
    b"\x1b[31msgr",
];

fn script(close_code: u16, close_reason: &str) -> Vec<Step> {
    let mut s: Vec<Step> = HOSTILE
        .iter()
        .map(|m| Step::Send(hostile::text(m)))
        .collect();
    s.push(Step::Send(hostile::close(close_code, close_reason)));
    s
}

/// True when `s` holds a control the rule forbids (any ESC included: use it where no colour is on).
fn has_control(s: &str) -> bool {
    s.chars().any(|c| {
        matches!(c, '\0'..='\x08' | '\x0b'..='\x1f' | '\x7f' | '\u{80}'..='\u{9f}'
            | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    })
}

fn find(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// A hostile server kept running on its own runtime, for tests that drive a pty synchronously.
fn hostile_on_a_thread(script: Vec<Step>) -> (tokio::runtime::Runtime, String) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(Hostile::start(script));
    let url = server.url.clone();
    // The server task lives on the runtime; the handle is not needed.
    std::mem::forget(server);
    (rt, url)
}

/// Run wscope on a pty until it exits; everything the terminal received, and the exit code.
fn on_a_pty(args: &[&str]) -> (Vec<u8>, i32) {
    let home = tempfile::tempdir().unwrap();
    let pty::Spawned {
        master, mut child, ..
    } = pty::spawn(args, home.path());
    let screen = Arc::new(Mutex::new(Vec::new()));
    let mut reader = master.try_clone().unwrap();
    let s = screen.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            s.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let start = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            std::thread::sleep(Duration::from_millis(100));
            break status.code().unwrap_or(-1);
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "wscope did not exit; the terminal got:\n{}",
                String::from_utf8_lossy(&screen.lock().unwrap())
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    drop(master);
    let raw = screen.lock().unwrap().clone();
    (raw, code)
}

fn assert_safe_terminal(raw: &[u8]) {
    let text = String::from_utf8_lossy(raw);
    for needle in RAW {
        assert!(
            !find(raw, needle),
            "the peer's {:?} reached the terminal raw:\n{text:?}",
            String::from_utf8_lossy(needle)
        );
    }
    for shown in VISIBLE {
        assert!(text.contains(shown), "{shown:?} is not shown:\n{text:?}");
    }
}

#[test]
fn the_repl_shows_a_hostile_servers_text_escaped() {
    let (_rt, url) = hostile_on_a_thread(script(4000, "bye\x1b]0;owned\x07\u{9b}2J"));
    // Colour on, as a user's terminal has it: our colour stays, the peer's must not.
    let (raw, code) = on_a_pty(&[&url, "--no-history", "--color", "always"]);
    let text = String::from_utf8_lossy(&raw);
    assert_eq!(code, 6, "{text:?}");
    assert_safe_terminal(&raw);
    // Our own colour still reaches the terminal (the `<` of a received message is green).
    assert!(
        find(&raw, b"\x1b[1;32m<") || find(&raw, b"\x1b[32;1m<") || find(&raw, b"\x1b[32m"),
        "{text:?}"
    );
    // The close reason, both in the close line and in the final error line.
    assert!(
        text.matches("bye\\e]0;owned\\x07\\u{9b}2J").count() >= 2,
        "the close reason is not shown escaped twice:\n{text:?}"
    );
    assert!(!find(&raw, b"\x1b]0;owned"), "{text:?}");
}

#[test]
fn pipe_mode_on_a_terminal_shows_received_text_escaped() {
    // The server waits for the -x message, so it is sent before the close (else it would be
    // input the server cut short: exit 1, issue 25 D5).
    let mut steps = vec![Step::AwaitFrames(1)];
    steps.extend(script(1000, "done\x1b[2J"));
    let (_rt, url) = hostile_on_a_thread(steps);
    // -x with --no-repl: pipe mode, with stdout (and stderr) a terminal.
    let (raw, code) = on_a_pty(&[&url, "-x", "hello", "--no-repl", "-w", "inf"]);
    let text = String::from_utf8_lossy(&raw);
    assert_eq!(code, 0, "{text:?}");
    assert_safe_terminal(&raw);
    assert!(text.contains("done\\e[2J"), "{text:?}");
    // NO_COLOR: nothing but line ends may be a control on this terminal.
    assert!(!has_control(&text.replace("\r\n", "\n")), "{text:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipe_mode_to_a_pipe_keeps_received_text_byte_for_byte() {
    let server = Hostile::start(script(1000, "done\x1b[2J\u{9b}")).await;
    let out = run_with(args(&[&server.url, "-w", "inf"]), Some(Vec::new())).await;
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    let expected: String = HOSTILE.iter().map(|m| format!("{m}\n")).collect();
    assert_eq!(
        out.stdout, expected,
        "stdout is not the messages byte for byte"
    );
    // Diagnostics are escaped even though stderr is a pipe.
    assert!(out.stderr.contains("done\\e[2J\\u{9b}"), "{:?}", out.stderr);
    assert!(!has_control(&out.stderr), "{:?}", out.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_reason_in_the_final_error_line_is_escaped() {
    let server = Hostile::start(vec![Step::Send(hostile::close(
        4001,
        "\x1b]0;owned\x07\rfake prompt$ \u{202e}",
    ))])
    .await;
    let out = run_with(args(&[&server.url, "-w", "inf"]), Some(Vec::new())).await;
    assert_eq!(out.code, 6, "stderr:\n{}", out.stderr);
    let error = out
        .stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| panic!("no error line:\n{:?}", out.stderr));
    assert!(
        error.contains("\\e]0;owned\\x07\\rfake prompt$ \\u{202e}"),
        "{error:?}"
    );
    assert!(!has_control(&out.stderr), "{:?}", out.stderr);
}

/// A raw server for one client that answers the upgrade with `answer` and holds the socket.
async fn answering(answer: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let Ok((mut tcp, _)) = listener.accept().await else {
            return;
        };
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let _ = tcp.write_all(&answer).await;
        tokio::time::sleep(Duration::from_secs(20)).await;
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_upgrade_shows_status_headers_and_body_escaped() {
    let body = "denied \x1b]0;owned\x07 \x1b[2J\rfake$ \u{202e}\n";
    let answer = format!(
        "HTTP/1.1 403 Forbidden \u{9b}2J\r\nX-Evil: a\u{9d}0;t\u{9c}b\r\nLocation: /x\u{9b}1m\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let url = answering(answer.into_bytes()).await;
    // Without -v: a refusal shows its status line, headers and body anyway.
    let out = run_with(args(&[&url]), Some(Vec::new())).await;
    assert_eq!(out.code, 5, "stderr:\n{}", out.stderr);
    for shown in [
        "403 Forbidden \\u{9b}2J",
        "X-Evil: a\\u{9d}0;t\\u{9c}b",
        "/x\\u{9b}1m",
        "denied \\e]0;owned\\x07 \\e[2J\\rfake$ \\u{202e}",
    ] {
        assert!(
            out.stderr.contains(shown),
            "{shown:?} not in\n{:?}",
            out.stderr
        );
    }
    assert!(!has_control(&out.stderr), "{:?}", out.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_shows_a_refusal_escaped_on_stdout_too() {
    let body = "no \x1b[2J";
    let answer = format!(
        "HTTP/1.1 403 Nope\u{9b}\r\nX-Evil: \u{202e}x\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let url = answering(answer.into_bytes()).await;
    let out = run_with(args(&["inspect", &url]), None).await;
    assert_eq!(out.code, 5, "stderr:\n{}", out.stderr);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains("no \\e[2J"), "{all:?}");
    assert!(all.contains("Nope\\u{9b}"), "{all:?}");
    assert!(!has_control(&all), "{all:?}");
}

/// listen: a client's Origin and close reason reach the operator's stderr escaped (its lines pass
/// the printer's last line of defence), its messages reach a piped stdout byte for byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_shows_a_clients_origin_and_reason_escaped_and_pipes_its_messages_exactly() {
    use futures_util::SinkExt;
    use std::io::BufRead;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::http::HeaderValue;
    use tokio_tungstenite::tungstenite::protocol::{frame::coding::CloseCode, CloseFrame};
    use tokio_tungstenite::tungstenite::Message;

    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wscope"))
        .args(["listen", "127.0.0.1:0", "-v"])
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    err.read_line(&mut first).unwrap();
    let addr = first
        .split("://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or_else(|| panic!("{first:?}"))
        .to_string();
    let mut out = child.stdout.take().unwrap();
    let mut req = format!("ws://{addr}/").into_client_request().unwrap();
    req.headers_mut().insert(
        "Origin",
        HeaderValue::from_bytes("http://e\u{9b}2J\u{202e}".as_bytes()).unwrap(),
    );
    let tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(req, tcp).await.unwrap();
    ws.send(Message::text("\x1b]0;pwned\x07 abc\rXY"))
        .await
        .unwrap();
    ws.send(Message::Close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "bye\x1b[2J\u{9d}".into(),
    })))
    .await
    .unwrap();
    // Let listen print the client's end, then stop it.
    let deadline = Instant::now() + TIMEOUT;
    let (stdout_tx, stdout_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64];
        let mut got = Vec::new();
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
            if got.ends_with(b"\n") {
                break;
            }
        }
        let _ = stdout_tx.send(got);
    });
    let got = stdout_rx.recv_timeout(TIMEOUT).unwrap();
    assert_eq!(
        got, b"[1] \x1b]0;pwned\x07 abc\rXY\n",
        "stdout is not byte for byte"
    );
    // Read stderr on a thread, so a listen that never says "disconnected" fails, not hangs.
    let collected = Arc::new(Mutex::new(String::new()));
    let c = collected.clone();
    std::thread::spawn(move || {
        let mut line = String::new();
        while err.read_line(&mut line).unwrap_or(0) > 0 {
            c.lock().unwrap().push_str(&line);
            line.clear();
        }
    });
    while !collected.lock().unwrap().contains("disconnected") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: a signal to the child we spawned and still own.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let _ = child.wait();
    let stderr = collected.lock().unwrap().clone();
    assert!(stderr.contains("http://e\\u{9b}2J\\u{202e}"), "{stderr:?}");
    assert!(
        stderr.contains("bye\\u{1b}[2J\\u{9d}") || stderr.contains("bye\\e[2J\\u{9d}"),
        "{stderr:?}"
    );
    assert!(!has_control(&stderr), "{stderr:?}");
}

/// wscat's `-x hi -w 1` on a terminal: -w, --once, --count and --idle with -x end the session as
/// in pipe mode instead of opening the REPL (SPEC "Pipe mode and scripting").
#[test]
fn execute_with_an_ending_flag_on_a_terminal_ends_as_in_pipe_mode() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(support::servers::start(Default::default()));
    let url = format!("ws://{}/", server.addr);
    for ending in [
        &["-w", "1"][..],
        &["--once"],
        &["--count", "1"],
        &["--idle", "1"],
    ] {
        let mut a = vec![url.as_str(), "-x", "hi"];
        a.extend_from_slice(ending);
        let start = Instant::now();
        let (raw, code) = on_a_pty(&a);
        let text = String::from_utf8_lossy(&raw);
        assert_eq!(code, 0, "{ending:?}: {text:?}");
        assert!(text.contains("hi"), "{ending:?}: {text:?}");
        // rustyline turns bracketed paste on as it draws its first prompt.
        assert!(
            !text.contains("\x1b[?2004h"),
            "{ending:?} opened the REPL: {text:?}"
        );
        assert!(
            start.elapsed() < Duration::from_secs(8),
            "{ending:?} took {:?}",
            start.elapsed()
        );
    }
    // Without one of them, -x on a terminal is followed by the REPL (wscat's -x alone): not tested
    // here, it is the REPL tests' ground.
    drop(server);
}
