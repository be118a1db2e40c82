//! Every byte the user sees is written here. The session emits events; this module turns them into
//! lines for a pipe (data on stdout, diagnostics on stderr), for the REPL (above the prompt), or JSON
//! objects for jq. stdout is buffered and flushed when the session is idle, not once per message.

mod dump;
pub mod escape;
mod expect;
pub mod json;
mod lens;
pub mod listen;
mod message;
mod output;
mod proxy;
mod reconnect;
pub mod report;
pub mod style;

pub(crate) use dump::restrict_to_owner;

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::time::Instant;

use colored::Colorize;

use crate::error::Error;
use crate::event::{Event, EventSink, Origin, Stats};
use crate::wire::close;
use crate::wire::frame::Direction;
use crate::wire::hexdump;
use escape::Shown;

/// How output should look; fixed at start-up except `verbose` (/verbose on|off).
#[derive(Debug, Clone, Default)]
pub struct Style {
    pub format: Format,
    pub timestamps: bool,
    pub pretty: bool,
    pub show_ping_pong: bool,
    /// --binary: binary messages are written raw to stdout.
    pub binary_raw: bool,
    pub verbose: bool,
    /// Show what we send (REPL, listen).
    pub show_sent: bool,
}

/// What the output is made of: lines for a person, or one JSON object per event (`--json`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Human,
    Json,
}

impl Format {
    /// From the `--json` flag.
    pub fn json_if(json: bool) -> Format {
        if json {
            Format::Json
        } else {
            Format::Human
        }
    }
}

impl Style {
    pub fn json(&self) -> bool {
        self.format == Format::Json
    }
}

/// Where human-readable lines go.
pub enum Screen {
    /// stderr, a line at a time.
    Stderr,
    /// Above the REPL prompt: lines are handed to the thread that owns rustyline's external printer.
    Prompt(std::sync::mpsc::Sender<String>),
}

pub struct Printer {
    /// stdout and stderr, written off the runtime thread.
    out: output::Output,
    screen: Screen,
    style: Style,
    started: Instant,
    /// Scratch buffer reused for every line, so printing allocates nothing per message.
    line: String,
    /// Tag for listen mode: "[3] ".
    tag: String,
    /// Listen mode: the client the next events belong to (a `client` field in JSON).
    client: Option<u64>,
    /// --dump-file; None means the dump shares the human screen.
    dump_file: Option<BufWriter<std::fs::File>>,
    /// Where the dump goes, for messages; `dump_failed` once writing it failed.
    dump_path: std::path::PathBuf,
    dump_failed: bool,
    /// Scratch buffer for one frame of the dump, reused so the dump does not reallocate per frame.
    dump_text: String,
    /// The dump is on (a frame or the handshake was dumped): lens views go under the frames.
    dumping: bool,
    dump_pending: std::collections::VecDeque<String>,
    /// stdout is a terminal: received data written there is escaped (decided once, at start-up).
    stdout_tty: bool,
}

impl Printer {
    pub fn new(style: Style, screen: Screen) -> Printer {
        Printer {
            out: output::Output::new(),
            screen,
            style,
            started: Instant::now(),
            line: String::with_capacity(256),
            tag: String::new(),
            client: None,
            dump_file: None,
            dump_path: std::path::PathBuf::new(),
            dump_failed: false,
            dump_text: String::new(),
            dumping: false,
            dump_pending: Default::default(),
            stdout_tty: io::stdout().is_terminal(),
        }
    }

    pub fn style(&self) -> &Style {
        &self.style
    }

    /// Restart the clock that JSON `t` fields count from (at the moment the connection opened).
    pub fn mark_open(&mut self) {
        self.started = Instant::now();
    }

    fn prefix(&mut self) {
        self.line.clear();
        if self.style.timestamps {
            let _ = write!(self.line, "{} ", style::clock().dimmed());
        }
        self.line.push_str(&self.tag);
    }

    /// Send `self.line` to the human screen. The last line of defence of terminal safety: peer text
    /// was escaped where it entered the line; whatever a caller forgot is escaped here, keeping
    /// only our own colour (see [`escape`]).
    fn emit_human(&mut self) {
        if !self.line.ends_with('\n') {
            self.line.push('\n');
        }
        if let Cow::Owned(safe) = escape::escape_line(&self.line, colour_on()) {
            self.line = safe;
        }
        match &self.screen {
            // One queue for both streams keeps them in order on a shared terminal.
            Screen::Stderr => self.out.write(output::Stream::Stderr, self.line.as_bytes()),
            Screen::Prompt(tx) => {
                let _ = tx.send(std::mem::take(&mut self.line));
            }
        }
    }

    /// A diagnostic line (note, warning) outside the event stream.
    pub fn note(&mut self, text: &str) {
        if self.style.json() {
            let v = json::notice(self.started, text);
            self.write_json(&v);
            return;
        }
        self.prefix();
        self.line.push_str(text);
        self.emit_human();
    }

    /// A warning; `text` holds no colour of ours, so all of it is escaped.
    pub fn warn(&mut self, text: &str) {
        let t = format!("{} {}", "warning:".yellow().bold(), Shown(text));
        self.note(&t);
    }

    /// Text for humans that is the product itself (inspect's report, /help): stdout in pipe mode.
    /// A report, not received data: escaped like every diagnostic, even on a pipe.
    pub fn document(&mut self, text: &str) {
        let text = escape::escape_line(text, colour_on());
        match &self.screen {
            Screen::Stderr => self.write_out(text.as_bytes()),
            Screen::Prompt(tx) => {
                let _ = tx.send(text.to_string());
            }
        }
    }

    pub fn write_json(&mut self, v: &serde_json::Value) {
        let tagged;
        let v = match (self.client, v) {
            (Some(id), serde_json::Value::Object(m)) if !m.contains_key("client") => {
                let mut m = m.clone();
                m.insert("client".into(), id.into());
                tagged = serde_json::Value::Object(m);
                &tagged
            }
            _ => v,
        };
        let mut buf = serde_json::to_vec(v).unwrap_or_default();
        buf.push(b'\n');
        if self.stdout_tty {
            // serde_json escapes C0 but not C1 or bidi controls: on a terminal write those as
            // `\u` escapes too (the same JSON value).
            buf = escape::json_controls(buf);
        }
        self.write_out(&buf);
    }

    fn write_out(&mut self, bytes: &[u8]) {
        self.out.write(output::Stream::Stdout, bytes);
    }

    /// Received data for stdout: byte for byte to a pipe or file, escaped on a terminal.
    fn write_data(&mut self, data: &[u8]) {
        if self.stdout_tty {
            let shown = escape::escape_bytes(data);
            self.write_out(shown.as_bytes());
        } else {
            self.write_out(data);
        }
    }

    /// A fatal error, with its hint: stderr, plus a JSON event in --json mode.
    pub fn error(&mut self, e: &Error) {
        if self.style.json() {
            let v = json::error(self.started, &e.to_string(), e.hint().as_deref());
            self.write_json(&v);
        }
        self.flush();
        // Error messages and hints quote the peer (a close reason, a header): no colour of ours is
        // in them, so they are escaped whole before ours is put around them.
        let mut msg = format!(
            "{} {}",
            "error:".red().bold(),
            escape::ShownLines(&e.to_string())
        );
        if let Some(h) = e.hint() {
            let _ = write!(msg, "\n  {} {}", "hint:".yellow(), Shown(&h));
        }
        msg.push('\n');
        match &self.screen {
            Screen::Stderr => self.out.write(output::Stream::Stderr, msg.as_bytes()),
            Screen::Prompt(tx) => {
                let _ = tx.send(msg);
            }
        }
    }

    /// Whether a sent message is echoed: in the REPL every one but the line just typed (the
    /// prompt line shows it as sent); in `listen` its own sends, on stderr on a pipe (not
    /// `--echo`'s, which would double every line).
    fn shows_sent(&self, origin: Origin) -> bool {
        match origin {
            Origin::Typed => false,
            Origin::Hub => true,
            Origin::Echo => self.client.is_none() && self.style.show_sent,
            Origin::User => self.style.show_sent,
        }
    }

    fn json_event(&mut self, ev: Event<'_>) {
        if let Some(v) = json::event(self.started, &ev) {
            self.write_json(&v);
        }
        match ev {
            // The library answers every ping itself: the pong is part of the record too.
            Event::PingReceived(p) => {
                let v = json::auto_pong(self.started, p);
                self.write_json(&v);
            }
            Event::Help => {
                self.document(&crate::slash::help_text_for(false, style::screen_width()))
            }
            Event::Verbose(on) => self.style.verbose = on,
            _ => {}
        }
    }

    fn human_event(&mut self, ev: Event<'_>) {
        let pings = self.style.show_ping_pong
            || self.style.verbose
            || matches!(self.screen, Screen::Prompt(_));
        match ev {
            Event::Received {
                kind,
                data,
                wire,
                lens: Some(view),
            } => self.lens_line("<".green().bold(), kind, data, wire, view),
            Event::Received {
                kind, data, wire, ..
            } => self.data_line(kind, data, wire),
            Event::Sent {
                kind,
                data,
                wire,
                origin,
                lens: Some(view),
            } if self.shows_sent(origin) => {
                self.lens_line(">".blue().bold(), kind, data, wire, view)
            }
            Event::Sent {
                kind,
                data,
                wire,
                origin,
                ..
            } => {
                if self.shows_sent(origin) {
                    self.prefix();
                    let _ = write!(self.line, "{} ", ">".blue().bold());
                    self.message_body(kind, data, wire);
                    self.emit_human();
                }
            }
            Event::PingSent(p) if pings => self.control(Direction::Outgoing, "ping", p, ""),
            Event::PongSent(p) if pings => self.control(Direction::Outgoing, "pong", p, ""),
            Event::PingReceived(p) if pings => {
                self.control(Direction::Incoming, "ping", p, " (pong sent)")
            }
            Event::PongReceived { payload, rtt } if pings => {
                let extra = match rtt {
                    Some(d) => format!(" rtt {:.2} ms", d.as_secs_f64() * 1e3),
                    None => " (unsolicited)".into(),
                };
                self.control(Direction::Incoming, "pong", payload, &extra);
            }
            Event::PingSent(_)
            | Event::PongSent(_)
            | Event::PingReceived(_)
            | Event::PongReceived { .. } => {}
            Event::CloseSent { code, reason } => self.control(
                Direction::Outgoing,
                "close",
                &[],
                &close_text(Some(code), reason),
            ),
            Event::CloseReceived { code, reason } => {
                self.control(Direction::Incoming, "close", &[], &close_text(code, reason))
            }
            Event::Refused { message, hint } | Event::Failed { message, hint } => {
                self.error_line(message, hint)
            }
            Event::Notice(text) => self.note(text),
            Event::Unsent(u) => self.warn(&u.describe("server")),
            Event::Expect(r) if self.style.show_sent || self.style.verbose => {
                self.note(&expect::line(r))
            }
            Event::Expect(_) => {}
            Event::Status(s) => self.status(s),
            Event::Help => self.help(),
            Event::Verbose(on) => {
                self.style.verbose = on;
                self.note(if on { "verbose on" } else { "verbose off" });
            }
            Event::Frame { .. } | Event::H2Frame { .. } => {}
            Event::Closed(e) => self.closed_line(e),
        }
    }

    fn error_line(&mut self, message: &str, hint: Option<&str>) {
        self.prefix();
        let _ = write!(self.line, "{} {}", "error:".red().bold(), Shown(message));
        if let Some(h) = hint {
            let _ = write!(self.line, "\n  {} {}", "hint:".yellow(), Shown(h));
        }
        self.emit_human();
    }

    fn help(&mut self) {
        let h = crate::slash::help_text_for(false, style::screen_width());
        match &self.screen {
            Screen::Stderr => {
                self.line.clear();
                self.line.push_str(&h);
                self.emit_human();
            }
            Screen::Prompt(_) => self.document(&h),
        }
    }

    /// How the connection ended: who closed, the code, clean or not.
    fn closed_line(&mut self, e: &crate::event::Ending) {
        self.prefix();
        let who = match e.closer {
            crate::event::Closer::Us => "closed by us",
            crate::event::Closer::Peer => "closed by the server",
            crate::event::Closer::Nobody => "connection lost",
        };
        let how = if e.clean { "clean" } else { "not clean" };
        let code = match e.code {
            Some(c) => format!(", code {c} ({})", close::name(c)),
            None => String::new(),
        };
        let _ = write!(self.line, "{} {who}{code}, {how}", "*".dimmed());
        self.emit_human();
    }

    fn control(&mut self, dir: Direction, what: &str, payload: &[u8], extra: &str) {
        self.prefix();
        let arrow = match dir {
            Direction::Incoming => "<".green().bold(),
            Direction::Outgoing => ">".blue().bold(),
        };
        let _ = write!(self.line, "{arrow} {}", what.magenta());
        if !payload.is_empty() {
            match std::str::from_utf8(payload) {
                Ok(s) => {
                    let _ = write!(self.line, " \"{}\"", Shown(s));
                }
                Err(_) => {
                    let _ = write!(self.line, " {}", hexdump::hex_compact(payload));
                }
            }
        }
        self.line.push_str(extra);
        self.emit_human();
    }

    fn status(&mut self, s: &Stats) {
        self.prefix();
        let up = s.opened.elapsed();
        let rows = [
            ("state", format!("{:?}", s.state).to_uppercase()),
            ("url", s.url.clone()),
            (
                "subprotocol",
                s.subprotocol.clone().unwrap_or_else(|| "none".into()),
            ),
            (
                "extensions",
                if s.extensions.is_empty() {
                    "none".into()
                } else {
                    s.extensions.join(", ")
                },
            ),
            ("uptime", crate::error::secs(up)),
            ("sent", s.traffic(true)),
            ("received", s.traffic(false)),
            (
                "last ping",
                s.last_rtt
                    .map(|d| format!("{:.1} ms", d.as_secs_f64() * 1e3))
                    .unwrap_or_else(|| "none".into()),
            ),
        ];
        // The url, subprotocol and extensions may come from the server (a redirect, its answer).
        for (k, v) in rows {
            let _ = writeln!(self.line, "  {:<12} {}", k.bold(), Shown(&v));
        }
        self.emit_human();
    }
}

/// Whether `colored` writes colour: then the SGR sequences in a line are ours.
fn colour_on() -> bool {
    colored::control::SHOULD_COLORIZE.should_colorize()
}

fn close_text(code: Option<u16>, reason: &str) -> String {
    let mut s = match code {
        Some(c) => format!(" {c} ({})", close::name(c)),
        None => " (no status code)".into(),
    };
    if !reason.is_empty() {
        let _ = write!(s, " \"{}\"", escape::ShownLines(reason));
    }
    s
}

impl EventSink for Printer {
    fn event(&mut self, ev: Event<'_>) {
        if let Event::Frame { dir, at, frame } = ev {
            self.frame(dir, at, frame);
        } else if let Event::H2Frame { dir, at, header } = ev {
            self.h2_frame(dir, at, header);
        } else if let (Event::Closed(e), Some(_)) = (&ev, self.client) {
            // A listen client's ending reads as its disconnect.
            self.disconnected(e);
        } else if self.style.json() {
            self.json_event(ev);
        } else if self.dumping {
            self.dump_lens(&ev);
            self.human_event(ev);
        } else {
            self.human_event(ev);
        }
    }

    fn flush(&mut self) {
        if let Some(f) = &mut self.dump_file {
            let flushed = f.flush();
            self.dump_written(flushed);
        }
        self.out.hand_on();
    }

    /// Something waits that the output thread has room for.
    fn dirty(&self) -> bool {
        self.out.can_hand_on()
    }

    fn broken(&self) -> bool {
        self.out.broken()
    }

    fn backlogged(&self) -> bool {
        self.out.backlogged()
    }

    fn stalled(&self) -> bool {
        self.out.has_pending() && !self.out.can_hand_on()
    }
}
