//! The interactive REPL, driven through a pseudo-terminal: the real binary runs with a pty as its
//! stdin, stdout and stderr, the test types keys into the pty's master side and reads the screen
//! from it, while a recording server (in this file, on port 0) says what went over the wire.

use crate::support;

use std::fs::File;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

use support::pty::{self, termios_of};

const TIMEOUT: Duration = Duration::from_secs(15);

// ---------------------------------------------------------------------------------------------
// A recording server.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Rec {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Close(Option<(u16, String)>),
}

#[derive(Clone)]
struct Server {
    addr: SocketAddr,
    recs: Arc<Mutex<Vec<Rec>>>,
}

/// What the server does on its own.
#[derive(Clone, Copy)]
enum Behaviour {
    /// Echo text, record everything, answer the client's close.
    Echo,
    /// Like Echo, but `delay` after receiving the text "close me" it closes with `code`.
    CloseOnRequest { code: u16, delay: Duration },
}

impl Server {
    fn start(behaviour: Behaviour) -> Server {
        let recs = Arc::new(Mutex::new(Vec::new()));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let r = recs.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                loop {
                    let Ok((tcp, _)) = listener.accept().await else {
                        return;
                    };
                    let r = r.clone();
                    tokio::spawn(serve(tcp, r, behaviour));
                }
            });
        });
        let addr = addr_rx.recv().unwrap();
        Server { addr, recs }
    }

    fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }

    fn recs(&self) -> Vec<Rec> {
        self.recs.lock().unwrap().clone()
    }

    /// Wait until the server has recorded `n` events.
    fn wait_for(&self, n: usize, pty: &Pty) -> Vec<Rec> {
        let start = Instant::now();
        loop {
            let recs = self.recs();
            if recs.len() >= n {
                return recs;
            }
            if start.elapsed() > TIMEOUT {
                panic!(
                    "server saw {recs:?}, expected {n} events; screen:\n{}",
                    pty.screen()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

async fn serve(tcp: tokio::net::TcpStream, recs: Arc<Mutex<Vec<Rec>>>, behaviour: Behaviour) {
    let Ok(ws) = tokio_tungstenite::accept_async(tcp).await else {
        return;
    };
    let (mut tx, mut rx) = ws.split();
    let mut close_at: Option<(tokio::time::Instant, u16)> = None;
    loop {
        let deadline = close_at.map(|(t, _)| t);
        tokio::select! {
            msg = rx.next() => {
                let Some(Ok(msg)) = msg else { return };
                let rec = match &msg {
                    Message::Text(t) => Rec::Text(t.to_string()),
                    Message::Binary(b) => Rec::Binary(b.to_vec()),
                    Message::Ping(p) => Rec::Ping(p.to_vec()),
                    Message::Close(f) => Rec::Close(f.as_ref().map(|f| (u16::from(f.code), f.reason.to_string()))),
                    _ => continue,
                };
                recs.lock().unwrap().push(rec);
                match msg {
                    Message::Text(t) => {
                        if let Behaviour::CloseOnRequest { code, delay } = behaviour {
                            if t.as_str() == "close me" {
                                close_at = Some((tokio::time::Instant::now() + delay, code));
                                continue;
                            }
                        }
                        let _ = tx.send(Message::Text(t)).await;
                    }
                    // tungstenite answers pings and echoes the close; flushing sends them.
                    _ => { let _ = tx.flush().await; }
                }
            }
            _ = tokio::time::sleep_until(deadline.unwrap_or_else(|| tokio::time::Instant::now() + TIMEOUT)), if deadline.is_some() => {
                let code = close_at.take().map_or(1000, |(_, c)| c);
                let _ = tx.send(Message::Close(Some(CloseFrame { code: CloseCode::from(code), reason: "server done".into() }))).await;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A pseudo-terminal with the binary on its slave side.

pub(crate) struct Pty {
    master: File,
    screen: Arc<Mutex<Vec<u8>>>,
    child: Child,
    /// The terminal's modes before wscope ran: what it must leave behind.
    initial: libc::termios,
}

impl Pty {
    pub(crate) fn spawn(args: &[&str], data_home: &Path) -> Pty {
        let pty::Spawned {
            master,
            child,
            initial,
        } = pty::spawn(args, data_home);
        let screen = Arc::new(Mutex::new(Vec::new()));
        let mut reader = master.try_clone().unwrap();
        let s = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // Ends with EIO once every slave fd is closed (the program exited).
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                s.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Pty {
            master,
            screen,
            child,
            initial,
        }
    }

    pub(crate) fn raw(&self) -> Vec<u8> {
        self.screen.lock().unwrap().clone()
    }

    /// What the terminal showed, control sequences removed.
    pub(crate) fn screen(&self) -> String {
        strip_ansi(&String::from_utf8_lossy(&self.raw()))
    }

    pub(crate) fn type_keys(&mut self, keys: &str) {
        self.master.write_all(keys.as_bytes()).unwrap();
        self.master.flush().unwrap();
    }

    /// Wait until the screen shows `text` (after control sequences are removed).
    pub(crate) fn wait_screen(&self, text: &str) {
        let start = Instant::now();
        while !self.screen().contains(text) {
            if start.elapsed() > TIMEOUT {
                panic!("screen never showed {text:?}; it shows:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Wait for the program to exit by itself; its exit code.
    pub(crate) fn wait_exit(&mut self) -> i32 {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the reader thread collect the last bytes.
                std::thread::sleep(Duration::from_millis(100));
                return status.code().unwrap_or(-1);
            }
            if start.elapsed() > TIMEOUT {
                let _ = self.child.kill();
                panic!("wscope did not exit; screen:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            match chars.next() {
                Some('[') => {
                    // CSI: parameters, then one final byte in @..~.
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    for c in chars.by_ref() {
                        if c == '\x07' {
                            break;
                        }
                    }
                }
                _ => {}
            }
        } else if c != '\r' {
            out.push(c);
        }
    }
    out
}

/// True when the last "bracketed paste on" the program wrote was followed by an "off".
fn bracketed_paste_off(raw: &[u8]) -> bool {
    let find_last = |needle: &[u8]| raw.windows(needle.len()).rposition(|w| w == needle);
    match (find_last(b"\x1b[?2004h"), find_last(b"\x1b[?2004l")) {
        (None, _) => true,
        (Some(on), Some(off)) => off > on,
        (Some(_), None) => false,
    }
}

/// Time for the REPL to get back into readline after a line was sent.
fn settle() {
    std::thread::sleep(Duration::from_millis(150));
}

// ---------------------------------------------------------------------------------------------

#[test]
fn typed_lines_and_commands_reach_the_server() {
    let server = Server::start(Behaviour::Echo);
    let home = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(&[&server.url(), "--no-history"], home.path());
    pty.wait_screen("> ");

    // Two lines in one write, as a paste delivers them: neither may be lost.
    pty.type_keys("hello\r/binary 00 ff 10\r");
    pty.wait_screen("< hello");
    server.wait_for(2, &pty);
    pty.type_keys("/ping abc\r");
    pty.wait_screen("rtt");
    pty.type_keys("/close 1005\r");
    pty.wait_screen("1005");
    pty.type_keys("more\r");
    pty.wait_screen("< more");
    pty.type_keys("/close 4001 bye\r");
    let code = pty.wait_exit();

    assert_eq!(
        server.recs(),
        vec![
            Rec::Text("hello".into()),
            Rec::Binary(vec![0x00, 0xff, 0x10]),
            Rec::Ping(b"abc".to_vec()),
            Rec::Text("more".into()),
            Rec::Close(Some((4001, "bye".into()))),
        ]
    );
    let screen = pty.screen();
    assert!(
        screen
            .lines()
            .any(|l| l.contains("pong") && l.contains("\"abc\"") && l.contains("rtt")),
        "no pong line with its rtt:\n{screen}"
    );
    assert!(
        screen
            .lines()
            .any(|l| l.contains("error:") && l.contains("1005")),
        "no refusal naming 1005:\n{screen}"
    );
    assert!(screen.contains("close 4001"), "{screen}");
    assert_eq!(code, 0, "screen:\n{screen}");
}

/// `/frame` and `/raw` typed at the prompt (issue 18): a real server reads them as the frames they
/// spell, and the REPL says once that the library does not follow them.
#[test]
fn crafted_frames_typed_at_the_prompt_reach_the_server() {
    let server = Server::start(Behaviour::Echo);
    let home = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(&[&server.url(), "--no-history"], home.path());
    pty.wait_screen("> ");
    pty.type_keys("/frame --opcode ping crafted\r");
    pty.wait_screen("crafted frame");
    pty.type_keys("/raw 81 82 00000000 6869\r");
    pty.wait_screen("< hi");
    pty.type_keys("/close 4002 done\r");
    let code = pty.wait_exit();
    assert_eq!(
        server.recs(),
        vec![
            Rec::Ping(b"crafted".to_vec()),
            Rec::Text("hi".into()),
            Rec::Close(Some((4002, "done".into()))),
        ]
    );
    let screen = pty.screen();
    assert_eq!(
        screen.matches("bypass the WebSocket library").count(),
        1,
        "{screen}"
    );
    assert_eq!(code, 0, "screen:\n{screen}");
}

/// The server closes while the prompt is open with a half-typed line: wscope exits by itself with
/// the spec's code, and leaves the terminal as it found it.
fn server_closes_while_typing(code: u16, expected_exit: i32) {
    let server = Server::start(Behaviour::CloseOnRequest {
        code,
        delay: Duration::from_millis(300),
    });
    let home = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(&[&server.url(), "--no-history"], home.path());
    let before = pty.initial;
    pty.wait_screen("> ");
    // Raw mode is on while readline waits (this is what the restore below must undo).
    assert_eq!(termios_of(&pty.master).c_lflag & libc::ICANON, 0);

    pty.type_keys("close me\r");
    server.wait_for(1, &pty);
    pty.type_keys("half typ");
    let exit = pty.wait_exit();

    let screen = pty.screen();
    assert_eq!(exit, expected_exit, "screen:\n{screen}");
    assert!(
        screen.contains(&format!("close {code}")),
        "the server's close is not shown:\n{screen}"
    );
    let after = termios_of(&pty.master);
    assert_eq!(
        after.c_lflag, before.c_lflag,
        "local modes not restored (raw mode left on)"
    );
    assert_eq!(after.c_iflag, before.c_iflag, "input modes not restored");
    assert_eq!(after.c_oflag, before.c_oflag, "output modes not restored");
    assert!(
        bracketed_paste_off(&pty.raw()),
        "bracketed paste left enabled"
    );
}

#[test]
fn server_close_1000_exits_0_and_restores_the_terminal() {
    server_closes_while_typing(1000, 0);
}

#[test]
fn server_close_4000_exits_6_and_restores_the_terminal() {
    server_closes_while_typing(4000, 6);
}

#[test]
fn history_is_private_and_reloaded_and_ctrl_keys_close_cleanly() {
    let server = Server::start(Behaviour::Echo);
    let home = tempfile::tempdir().unwrap();
    let history = home.path().join("data/wscope/history");

    // Session 1: one line, then Ctrl-D.
    let mut pty = Pty::spawn(&[&server.url()], home.path());
    pty.wait_screen("> ");
    pty.type_keys("remember me\r");
    server.wait_for(1, &pty);
    settle();
    pty.type_keys("\x04");
    assert_eq!(pty.wait_exit(), 0, "Ctrl-D exits 0:\n{}", pty.screen());
    let mode = std::fs::metadata(&history).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "history file mode {mode:o}");
    let saved = std::fs::read_to_string(&history).unwrap();
    assert!(saved.contains("remember me"), "history holds {saved:?}");
    drop(pty);

    // Session 2: Up recalls the line; Ctrl-C clears a half-typed line; Tab completes a command;
    // Ctrl-C on an empty line closes with 1000.
    let mut pty = Pty::spawn(&[&server.url()], home.path());
    pty.wait_screen("> ");
    pty.type_keys("\x1b[A");
    pty.wait_screen("> remember me");
    pty.type_keys("\r");
    server.wait_for(3, &pty);
    // Between two readline calls the terminal is briefly cooked, where Ctrl-C would be a signal:
    // let the next prompt open first, as a human's typing speed does.
    settle();
    pty.type_keys("abc");
    pty.wait_screen("> abc");
    pty.type_keys("\x03xyz\r");
    server.wait_for(4, &pty);
    settle();
    // Tab ends a completed command with a space: `/pi<Tab>tab` is `/ping tab`, not `/pingtab`.
    pty.type_keys("/pi\ttab\r");
    server.wait_for(5, &pty);
    settle();
    pty.type_keys("\x03");
    assert_eq!(pty.wait_exit(), 0, "Ctrl-C exits 0:\n{}", pty.screen());
    assert_eq!(
        server.recs(),
        vec![
            Rec::Text("remember me".into()),
            Rec::Close(Some((1000, String::new()))),
            Rec::Text("remember me".into()),
            Rec::Text("xyz".into()),
            Rec::Ping(b"tab".to_vec()),
            Rec::Close(Some((1000, String::new()))),
        ]
    );
}

/// Peak resident memory of a running process (VmHWM), in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Issue 15 item 6: a big binary message is shown as the start of its hex dump and a count of what
/// is left, without rendering the whole dump first (that took ~4.5 bytes per byte, twice over).
#[test]
fn a_big_binary_message_shows_the_start_of_its_dump_without_rendering_all_of_it() {
    use support::hostile::{self, Hostile, Step};
    const SIZE: usize = 32 << 20;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(Hostile::start(vec![Step::Send(hostile::frame(
        0x82,
        &vec![0xab; SIZE],
    ))]));
    let home = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(&[&server.url, "--no-history"], home.path());
    pty.wait_screen(&format!("binary {SIZE} bytes"));
    pty.wait_screen("more bytes not dumped");
    let peak = peak_rss(pty.child.id());
    eprintln!(
        "peak RSS with a {} MiB binary message: {} MiB",
        SIZE >> 20,
        peak >> 20
    );
    let screen = pty.screen();
    let shown = 64 * 1024;
    assert!(
        screen.contains(&format!("… {} more bytes not dumped", SIZE - shown)),
        "{}",
        &screen[screen.len().saturating_sub(500)..]
    );
    // The last dumped line is at offset 64 KiB - 16; nothing past it.
    assert!(screen.contains(&format!("{:08x}:", shown - 16)));
    assert!(!screen.contains(&format!("{shown:08x}:")));
    // The message itself is 32 MiB and the library holds it while it arrives: well under 3x
    // that, where the whole dump alone was ~150 MB and its indented copy as much again.
    assert!(peak > 0 && peak < 120 << 20, "peak RSS {} MiB", peak >> 20);
    pty.type_keys("\x04");
    assert_eq!(
        pty.wait_exit(),
        0,
        "{}",
        &screen[screen.len().saturating_sub(500)..]
    );
}

/// An /expect typed at the prompt holds the lines typed after it; Ctrl-C stops the wait (the
/// connection stays) and the held lines go out.
#[test]
fn ctrl_c_cancels_a_waiting_expect_and_queued_lines_follow() {
    let server = Server::start(Behaviour::Echo);
    let home = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(&[&server.url(), "--no-history"], home.path());
    pty.wait_screen("> ");
    pty.type_keys("first\r");
    server.wait_for(1, &pty);
    // "first" came back before this expectation began: it still counts.
    pty.type_keys("/expect ^first$\r");
    pty.wait_screen("expect /expect ^first$: matched");
    pty.type_keys("/expect --timeout 30 ^never$\r");
    settle();
    pty.type_keys("queued\r");
    settle();
    assert_eq!(server.recs(), vec![Rec::Text("first".into())], "held");
    pty.type_keys("\x03");
    pty.wait_screen("cancelled");
    server.wait_for(2, &pty);
    pty.wait_screen("< queued");
    pty.type_keys("/quit\r");
    let code = pty.wait_exit();
    assert_eq!(code, 0, "screen:\n{}", pty.screen());
}

/// Issue 20 item 7: what is sent is echoed as `> ...` whatever its source (`-x`, `/file`,
/// `/text`, `/binary`), except a plain typed line, which the prompt line already shows as sent;
/// `/verbose on` adds each message's type and size, `/verbose off` takes them away again.
#[test]
fn sent_messages_are_echoed_whatever_their_source_and_verbose_shows_their_sizes() {
    let server = Server::start(Behaviour::Echo);
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("note.txt");
    std::fs::write(&file, "text from a file").unwrap();
    let mut pty = Pty::spawn(
        &[&server.url(), "--no-history", "-x", "text from -x"],
        home.path(),
    );
    pty.wait_screen("> text from -x");
    pty.wait_screen("< text from -x");
    settle();
    pty.type_keys(&format!("/file {}\r", file.display()));
    pty.wait_screen("> text from a file");
    settle();
    pty.type_keys("/text via text\r");
    pty.wait_screen("> via text");
    settle();
    pty.type_keys("plain typed\r");
    pty.wait_screen("< plain typed");
    settle();
    pty.type_keys("/verbose on\r");
    pty.wait_screen("verbose on");
    settle();
    pty.type_keys("sized\r");
    pty.wait_screen("< sized  (text, 5 bytes)");
    settle();
    pty.type_keys("/verbose off\r");
    pty.wait_screen("verbose off");
    settle();
    pty.type_keys("quiet\r");
    pty.wait_screen("< quiet");
    settle();
    pty.type_keys("/quit\r");
    assert_eq!(pty.wait_exit(), 0, "screen:\n{}", pty.screen());

    assert_eq!(
        server.recs()[..5],
        [
            Rec::Text("text from -x".into()),
            Rec::Text("text from a file".into()),
            Rec::Text("via text".into()),
            Rec::Text("plain typed".into()),
            Rec::Text("sized".into()),
        ]
    );
    let screen = pty.screen();
    let lines: Vec<&str> = screen.lines().map(str::trim_end).collect();
    // The typed line is on the screen once (as typed), not echoed a second time.
    assert_eq!(
        lines.iter().filter(|l| **l == "> plain typed").count(),
        1,
        "{screen}"
    );
    let quiet: Vec<&&str> = lines.iter().filter(|l| l.contains("quiet")).collect();
    assert!(
        !quiet.is_empty() && quiet.iter().all(|l| !l.contains("bytes")),
        "/verbose off still shows sizes: {quiet:?}\n{screen}"
    );
}

/// Issue 25 D1: a message nested 10,000 deep (here echoed back from a file the user sent) made
/// `/expect-json` overflow the stack: the process aborted and left the terminal raw. Now it is
/// skipped as not JSON, the expectation fails in the REPL as any other, and the terminal is whole.
#[test]
fn a_deeply_nested_message_fails_an_expect_json_without_aborting() {
    let server = Server::start(Behaviour::Echo);
    let home = tempfile::tempdir().unwrap();
    let deep = home.path().join("deep.json");
    let depth = 10_000;
    let text = format!("{}1{}", "[{\"a\":".repeat(depth), "}]".repeat(depth));
    std::fs::write(&deep, text).unwrap();
    let mut pty = Pty::spawn(&[&server.url(), "--no-history"], home.path());
    let before = pty.initial;
    pty.wait_screen("> ");
    pty.type_keys(&format!("/file {}\r", deep.display()));
    server.wait_for(1, &pty);
    pty.type_keys("/expect-json --timeout 1 .a\r");
    pty.wait_screen("did not match");
    // The same message matched by a regex: /let reads it, and finds it is not JSON.
    pty.type_keys(&format!("/file {}\r", deep.display()));
    server.wait_for(2, &pty);
    pty.type_keys("/expect ^\\[\r");
    pty.wait_screen(": matched");
    pty.type_keys("/let v .a\r");
    pty.wait_screen("not JSON");
    pty.type_keys("still here\r");
    server.wait_for(3, &pty);
    pty.type_keys("/quit\r");
    let code = pty.wait_exit();
    assert_eq!(code, 0, "screen:\n{}", pty.screen());
    let after = termios_of(&pty.master);
    assert_eq!(
        after.c_lflag, before.c_lflag,
        "terminal left in another mode"
    );
}

/// `/help` wraps to the terminal (the pty is 120 columns; the table was ~130): no line is wider,
/// and every example is still there.
#[test]
fn help_fits_the_terminal_width() {
    let server = Server::start(Behaviour::Echo);
    let home = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(&[&server.url(), "--no-history"], home.path());
    pty.wait_screen("> ");
    pty.type_keys("/help\r");
    pty.wait_screen("Close codes");
    settle();
    let screen = pty.screen();
    let table = &screen[screen.find("Commands:").unwrap()..];
    for line in table.lines() {
        assert!(
            line.chars().count() <= 120,
            "{} columns: {line:?}\n{table}",
            line.chars().count()
        );
    }
    for c in wscope::slash::COMMANDS.iter().filter(|c| !c.listen_only) {
        assert!(table.contains(c.example), "{} missing:\n{table}", c.example);
    }
    pty.type_keys("/quit\r");
    assert_eq!(pty.wait_exit(), 0, "{}", pty.screen());
}
