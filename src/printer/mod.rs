//! Every byte the user sees is written here. The session emits events; this module turns them into
//! lines for a pipe (data on stdout, diagnostics on stderr), for the REPL (above the prompt), or JSON
//! objects for jq. stdout is buffered and flushed when the session is idle, not once per message.

pub mod json;
pub mod listen;
pub mod report;
pub mod style;

use std::fmt::Write as _;
use std::io::{self, BufWriter, Stdout, Write};
use std::time::Instant;

use colored::Colorize;

use crate::error::Error;
use crate::event::{DataKind, Event, EventSink, Stats};
use crate::frame::close_code_name;
use crate::hexdump;

/// How output should look; fixed at start-up except `verbose` (/verbose on|off).
#[derive(Debug, Clone, Default)]
pub struct Style {
    pub json: bool,
    pub timestamps: bool,
    pub pretty: bool,
    pub show_ping_pong: bool,
    /// --binary: binary messages are written raw to stdout.
    pub binary_raw: bool,
    pub verbose: bool,
    /// Show what we send (REPL, listen).
    pub show_sent: bool,
}

/// Where human-readable lines go.
pub enum Screen {
    /// stderr, a line at a time.
    Stderr,
    /// Above the REPL prompt: lines are handed to the thread that owns rustyline's external printer.
    Prompt(std::sync::mpsc::Sender<String>),
}

pub struct Printer {
    out: BufWriter<Stdout>,
    screen: Screen,
    style: Style,
    started: Instant,
    dirty: bool,
    broken: bool,
    /// Scratch buffer reused for every line, so printing allocates nothing per message.
    line: String,
    /// Tag for listen mode: "[3] ".
    tag: String,
    /// Listen mode: the client the next events belong to (a `client` field in JSON).
    client: Option<u64>,
    /// --dump-file; None means the dump shares the human screen.
    dump_file: Option<BufWriter<std::fs::File>>,
    /// Scratch buffer for one frame of the dump, reused so the dump does not reallocate per frame.
    dump_text: String,
}

impl Printer {
    pub fn new(style: Style, screen: Screen) -> Printer {
        Printer {
            out: BufWriter::with_capacity(64 * 1024, io::stdout()),
            screen,
            style,
            started: Instant::now(),
            dirty: false,
            broken: false,
            line: String::with_capacity(256),
            tag: String::new(),
            client: None,
            dump_file: None,
            dump_text: String::new(),
        }
    }

    /// Send the frame dump to a file instead of the screen.
    pub fn dump_to_file(&mut self, path: &std::path::Path) -> Result<(), Error> {
        use std::os::unix::fs::OpenOptionsExt;
        // The dump holds the request head, Authorization and Cookie included: owner only.
        let f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)
            .and_then(|f| restrict_to_owner(f, path))
            .map_err(|e| {
                Error::usage(format!(
                    "cannot write --dump-file '{}': {e}",
                    path.display()
                ))
            })?;
        self.dump_file = Some(BufWriter::with_capacity(64 * 1024, f));
        Ok(())
    }

    /// The handshake as the first entries of a frame dump: the request and response heads as text.
    pub fn dump_handshake(&mut self, r: &crate::handshake::Report) {
        let mut text = String::new();
        if let Some(req) = &r.request {
            text.push_str(&format!("{} handshake request\n", ">>".blue().bold()));
            for l in req.lines().filter(|l| !l.is_empty()) {
                text.push_str(&format!("    {l}\n"));
            }
        }
        if let Some(resp) = &r.response {
            text.push_str(&format!("{} handshake response\n", "<<".green().bold()));
            for l in resp.head.lines().filter(|l| !l.is_empty()) {
                text.push_str(&format!("    {l}\n"));
            }
        }
        self.write_dump(&text, None);
    }

    fn write_dump(&mut self, text: &str, json: Option<serde_json::Value>) {
        match (&mut self.dump_file, json) {
            (Some(f), Some(v)) => {
                let _ = serde_json::to_writer(&mut *f, &v);
                let _ = f.write_all(b"\n");
            }
            (Some(f), None) => {
                let _ = f.write_all(text.as_bytes());
            }
            (None, Some(v)) => self.write_json(&v),
            (None, None) => {
                self.line.clear();
                self.line.push_str(text);
                self.emit_human();
            }
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

    /// Send `self.line` to the human screen.
    fn emit_human(&mut self) {
        if !self.line.ends_with('\n') {
            self.line.push('\n');
        }
        match &self.screen {
            Screen::Stderr => {
                // Keep stdout and stderr in order on a shared terminal.
                self.flush();
                let _ = io::stderr().lock().write_all(self.line.as_bytes());
            }
            Screen::Prompt(tx) => {
                let _ = tx.send(std::mem::take(&mut self.line));
            }
        }
    }

    /// A diagnostic line (note, warning) outside the event stream.
    pub fn note(&mut self, text: &str) {
        if self.style.json {
            let v = json::notice(self.started, text);
            self.write_json(&v);
            return;
        }
        self.prefix();
        self.line.push_str(text);
        self.emit_human();
    }

    pub fn warn(&mut self, text: &str) {
        let t = format!("{} {text}", "warning:".yellow().bold());
        self.note(&t);
    }

    /// Text for humans that is the product itself (inspect's report, /help): stdout in pipe mode.
    pub fn document(&mut self, text: &str) {
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
        self.write_out(&buf);
    }

    fn write_out(&mut self, bytes: &[u8]) {
        if self.broken {
            return;
        }
        if let Err(e) = self.out.write_all(bytes) {
            self.on_write_error(e);
        }
        self.dirty = true;
    }

    fn on_write_error(&mut self, e: io::Error) {
        // A closed pipe (`| head`) is a normal way for a reader to say "enough".
        if e.kind() == io::ErrorKind::BrokenPipe {
            self.broken = true;
        } else {
            self.broken = true;
            let _ = writeln!(io::stderr(), "wscope: cannot write to stdout: {e}");
        }
    }

    /// A fatal error, with its hint: stderr, plus a JSON event in --json mode.
    pub fn error(&mut self, e: &Error) {
        if self.style.json {
            let v = json::error(self.started, &e.to_string(), e.hint().as_deref());
            self.write_json(&v);
        }
        self.flush();
        let mut msg = format!("{} {e}", "error:".red().bold());
        if let Some(h) = e.hint() {
            let _ = write!(msg, "\n  {} {h}", "hint:".yellow());
        }
        match &self.screen {
            Screen::Stderr => {
                let _ = writeln!(io::stderr().lock(), "{msg}");
            }
            Screen::Prompt(tx) => {
                let _ = tx.send(msg + "\n");
            }
        }
    }

    fn data_line(&mut self, kind: DataKind, data: &[u8]) {
        // Pipe mode: the message itself on stdout, nothing added (but -T).
        if matches!(self.screen, Screen::Stderr) {
            if self.style.timestamps {
                let t = format!("{} ", style::clock());
                self.write_out(t.as_bytes());
            }
            if !self.tag.is_empty() {
                let tag = std::mem::take(&mut self.tag);
                self.write_out(tag.as_bytes());
                self.tag = tag;
            }
            match kind {
                DataKind::Text => {
                    if self.style.pretty {
                        if let Some(p) = pretty_json(data) {
                            self.write_out(p.as_bytes());
                            self.write_out(b"\n");
                            return;
                        }
                    }
                    self.write_out(data);
                    self.write_out(b"\n");
                }
                DataKind::Binary if self.style.binary_raw => self.write_out(data),
                DataKind::Binary => {
                    let mut hex = hexdump::hex_plain(data);
                    hex.push('\n');
                    self.write_out(hex.as_bytes());
                }
            }
            return;
        }
        self.prefix();
        let _ = write!(self.line, "{} ", "<".green().bold());
        self.message_body(kind, data);
        self.emit_human();
    }

    /// A message as the REPL shows it: text as-is (or pretty JSON), binary as a hex+ASCII dump.
    fn message_body(&mut self, kind: DataKind, data: &[u8]) {
        match kind {
            DataKind::Text => {
                let text = String::from_utf8_lossy(data);
                match self.style.pretty.then(|| pretty_json(data)).flatten() {
                    Some(p) => self.line.push_str(&p),
                    None => self.line.push_str(&text),
                }
            }
            DataKind::Binary => {
                let _ = writeln!(self.line, "{} {} bytes", "binary".cyan(), data.len());
                let mut dump = String::new();
                hexdump::xxd(data, &mut dump);
                for l in dump.lines() {
                    let _ = writeln!(self.line, "    {l}");
                }
            }
        }
    }

    fn control(&mut self, arrow: &str, what: &str, payload: &[u8], extra: &str) {
        self.prefix();
        let arrow = if arrow == "<" {
            arrow.green().bold()
        } else {
            arrow.blue().bold()
        };
        let _ = write!(self.line, "{arrow} {}", what.magenta());
        if !payload.is_empty() {
            match std::str::from_utf8(payload) {
                Ok(s) => {
                    let _ = write!(self.line, " {s:?}");
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
            (
                "sent",
                format!("{} messages, {} bytes", s.messages_sent, s.bytes_sent),
            ),
            (
                "received",
                format!(
                    "{} messages, {} bytes",
                    s.messages_received, s.bytes_received
                ),
            ),
            (
                "last ping",
                s.last_rtt
                    .map(|d| format!("{:.1} ms", d.as_secs_f64() * 1e3))
                    .unwrap_or_else(|| "none".into()),
            ),
        ];
        for (k, v) in rows {
            let _ = writeln!(self.line, "  {:<12} {v}", k.bold());
        }
        self.emit_human();
    }
}

/// An existing dump file keeps its mode through `open`: narrow a regular file's to the owner too
/// (not a device or FIFO such as /dev/stderr, which is not ours to change).
fn restrict_to_owner(f: std::fs::File, path: &std::path::Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::PermissionsExt;
    let meta = f.metadata()?;
    if meta.is_file() && meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(f)
}

fn pretty_json(data: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(data).ok()?;
    if !(v.is_object() || v.is_array()) {
        return None;
    }
    serde_json::to_string_pretty(&v).ok()
}

fn close_text(code: Option<u16>, reason: &str) -> String {
    let mut s = match code {
        Some(c) => format!(" {c} ({})", close_code_name(c)),
        None => " (no status code)".into(),
    };
    if !reason.is_empty() {
        let _ = write!(s, " {reason:?}");
    }
    s
}

impl EventSink for Printer {
    fn event(&mut self, ev: Event<'_>) {
        if let Event::Frame { dir, at, frame } = ev {
            if self.style.json {
                self.write_dump("", Some(crate::dump::frame_json(frame, dir, at)));
            } else {
                let mut text = std::mem::take(&mut self.dump_text);
                text.clear();
                crate::dump::render_frame(frame, dir, at, &mut text);
                self.write_dump(&text, None);
                // Keep the scratch unless one huge frame (a big --dump-limit) grew it.
                if text.capacity() <= 64 * 1024 {
                    self.dump_text = text;
                }
            }
            return;
        }
        if self.style.json {
            if let Some(v) = json::event(self.started, &ev) {
                self.write_json(&v);
            }
            match ev {
                Event::Help => self.document(&crate::command::help_text(false)),
                Event::Verbose(on) => self.style.verbose = on,
                _ => {}
            }
            return;
        }
        let pings = self.style.show_ping_pong
            || self.style.verbose
            || matches!(self.screen, Screen::Prompt(_));
        match ev {
            Event::Received { kind, data } => self.data_line(kind, data),
            Event::Sent { kind, data } => {
                if self.style.show_sent
                    && matches!(self.screen, Screen::Prompt(_))
                    && kind == DataKind::Binary
                {
                    self.prefix();
                    let _ = write!(self.line, "{} ", ">".blue().bold());
                    self.message_body(kind, data);
                    self.emit_human();
                }
            }
            Event::PingSent(p) if pings => self.control(">", "ping", p, ""),
            Event::PongSent(p) if pings => self.control(">", "pong", p, ""),
            Event::PingReceived(p) if pings => self.control("<", "ping", p, " (pong sent)"),
            Event::PongReceived { payload, rtt } if pings => {
                let extra = match rtt {
                    Some(d) => format!(" rtt {:.2} ms", d.as_secs_f64() * 1e3),
                    None => " (unsolicited)".into(),
                };
                self.control("<", "pong", payload, &extra);
            }
            Event::PingSent(_)
            | Event::PongSent(_)
            | Event::PingReceived(_)
            | Event::PongReceived { .. } => {}
            Event::CloseSent { code, reason } => {
                self.control(">", "close", &[], &close_text(Some(code), reason))
            }
            Event::CloseReceived { code, reason } => {
                self.control("<", "close", &[], &close_text(code, reason))
            }
            Event::Refused { message, hint } => {
                self.prefix();
                let _ = write!(self.line, "{} {message}", "error:".red().bold());
                if let Some(h) = hint {
                    let _ = write!(self.line, "\n  {} {h}", "hint:".yellow());
                }
                self.emit_human();
            }
            Event::Notice(text) => self.note(text),
            Event::Status(s) => self.status(s),
            Event::Help => {
                let h = crate::command::help_text(false);
                match &self.screen {
                    Screen::Stderr => {
                        self.line.clear();
                        self.line.push_str(&h);
                        self.emit_human();
                    }
                    Screen::Prompt(_) => self.document(&h),
                }
            }
            Event::Verbose(on) => {
                self.style.verbose = on;
                self.note(if on { "verbose on" } else { "verbose off" });
            }
            Event::Frame { .. } => {}
            Event::Closed(e) => {
                self.prefix();
                let who = match e.closer {
                    crate::event::Closer::Us => "closed by us",
                    crate::event::Closer::Server => "closed by the server",
                    crate::event::Closer::Nobody => "connection lost",
                };
                let how = if e.clean { "clean" } else { "not clean" };
                let code = match e.code {
                    Some(c) => format!(", code {c} ({})", close_code_name(c)),
                    None => String::new(),
                };
                let _ = write!(self.line, "{} {who}{code}, {how}", "*".dimmed());
                self.emit_human();
            }
        }
    }

    fn flush(&mut self) {
        if let Some(f) = &mut self.dump_file {
            let _ = f.flush();
        }
        if self.dirty && !self.broken {
            if let Err(e) = self.out.flush() {
                self.on_write_error(e);
            }
        }
        self.dirty = false;
    }

    fn dirty(&self) -> bool {
        self.dirty
    }

    fn broken(&self) -> bool {
        self.broken
    }
}
