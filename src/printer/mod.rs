//! Every byte the user sees is written here. The session emits events; this module turns them into
//! lines for a pipe (data on stdout, diagnostics on stderr), for the REPL (above the prompt), or JSON
//! objects for jq. stdout is buffered and flushed when the session is idle, not once per message.

pub mod escape;
mod expect;
pub mod json;
mod lens;
pub mod listen;
mod output;
mod reconnect;
pub mod report;
pub mod style;

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::time::Instant;

use colored::Colorize;

use crate::deflate::Wire;
use crate::error::Error;
use crate::event::{DataKind, Event, EventSink, Origin, Stats};
use crate::wire::close;
use crate::wire::frame::Direction;
use crate::wire::hexdump;
use escape::Shown;

/// A binary message in the REPL is dumped up to this many bytes; the rest is counted.
const MAX_SHOWN_BINARY: usize = 64 * 1024;

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
            stdout_tty: io::stdout().is_terminal(),
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
        self.dump_path = path.to_path_buf();
        Ok(())
    }

    /// The handshake as the first entries of a frame dump: the request and response heads as text.
    pub fn dump_handshake(&mut self, r: &crate::handshake::Report) {
        let mut text = String::new();
        if let Some(req) = &r.request {
            text.push_str(&format!("{} handshake request\n", ">>".blue().bold()));
            for l in req.lines().filter(|l| !l.is_empty()) {
                text.push_str(&format!("    {}\n", Shown(l)));
            }
        }
        if let Some(resp) = &r.response {
            text.push_str(&format!("{} handshake response\n", "<<".green().bold()));
            for l in resp.head.lines().filter(|l| !l.is_empty()) {
                text.push_str(&format!("    {}\n", Shown(l)));
            }
        }
        self.write_dump(&text, None);
    }

    fn write_dump(&mut self, text: &str, json: Option<serde_json::Value>) {
        let written = match (&mut self.dump_file, json) {
            (Some(f), Some(v)) => serde_json::to_writer(&mut *f, &v)
                .map_err(std::io::Error::from)
                .and_then(|()| f.write_all(b"\n")),
            (Some(f), None) => f.write_all(text.as_bytes()),
            (None, Some(v)) => {
                self.write_json(&v);
                Ok(())
            }
            (None, None) => {
                self.line.clear();
                self.line.push_str(text);
                self.emit_human();
                Ok(())
            }
        };
        self.dump_written(written);
    }

    /// A write to the --dump-file failed: say so once, stop the dump, and remember it for the
    /// exit code ([`Printer::dump_result`]).
    fn dump_written(&mut self, written: std::io::Result<()>) {
        let Err(e) = written else {
            return;
        };
        // Dropping the file without another flush: its buffer is what could not be written.
        if let Some(f) = self.dump_file.take() {
            let _ = f.into_parts();
        }
        let message = format!(
            "cannot write the --dump-file '{}': {e}; the dump stops here",
            self.dump_path.display()
        );
        self.error(&Error::Runtime(message));
        self.dump_failed = true;
    }

    /// Err (exit 1) when the --dump-file could not be written (already reported).
    pub fn dump_result(&self) -> Result<(), Error> {
        if self.dump_failed {
            return Err(Error::Runtime(format!(
                "the dump in '{}' is incomplete (see the error above)",
                self.dump_path.display()
            )));
        }
        Ok(())
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

    fn data_line(&mut self, kind: DataKind, data: &[u8], wire: Wire) {
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
                            self.write_data(p.as_bytes());
                            self.write_out(b"\n");
                            return;
                        }
                    }
                    self.write_data(data);
                    self.write_out(b"\n");
                }
                DataKind::Binary if self.style.binary_raw => self.write_data(data),
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
        self.message_body(kind, data, wire);
        self.emit_human();
    }

    /// A message as the REPL shows it: text as-is (or pretty JSON), binary as a hex+ASCII dump;
    /// with `verbose` (`-v`, `/verbose on`) its type and sizes too, on the wire and unpacked.
    fn message_body(&mut self, kind: DataKind, data: &[u8], wire: Wire) {
        match kind {
            DataKind::Text => {
                match self.style.pretty.then(|| pretty_json(data)).flatten() {
                    Some(p) => escape::escape_into(&mut self.line, &p),
                    // A line break of the peer's never starts a line that looks like ours.
                    None => escape::escape_continued_into(&mut self.line, data),
                }
                if self.style.verbose {
                    let detail = format!("(text, {})", sizes(data.len(), wire));
                    let _ = write!(self.line, "  {}", detail.dimmed());
                }
            }
            DataKind::Binary => {
                let _ = write!(self.line, "{} {} bytes", "binary".cyan(), data.len());
                if self.style.verbose && wire.compressed {
                    let detail = format!("({})", sizes(data.len(), wire));
                    let _ = write!(self.line, " {}", detail.dimmed());
                }
                self.line.push('\n');
                // Render only what is shown: the dump is ~4.5 bytes per byte, and a screen shows
                // a few KiB of it at best.
                let shown = data.len().min(MAX_SHOWN_BINARY);
                self.line.reserve(shown.div_ceil(16) * 76 + 64);
                hexdump::xxd_indented(&[&data[..shown]], "    ", &mut self.line);
                if shown < data.len() {
                    let _ = writeln!(
                        self.line,
                        "    … {} more bytes not dumped",
                        data.len() - shown
                    );
                }
            }
        }
    }

    /// A frame for `--dump`.
    fn frame(
        &mut self,
        dir: Direction,
        at: std::time::Duration,
        frame: &crate::wire::frame::Frame,
    ) {
        if self.style.json() {
            self.write_dump("", Some(crate::wire::dump::frame_json(frame, dir, at)));
            return;
        }
        let mut text = std::mem::take(&mut self.dump_text);
        text.clear();
        crate::wire::dump::render_frame(frame, dir, at, &mut text);
        self.write_dump(&text, None);
        // Keep the scratch unless one huge frame (a big --dump-limit) grew it.
        if text.capacity() <= 64 * 1024 {
            self.dump_text = text;
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
            Event::Frame { .. } => {}
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

/// An existing dump file keeps its mode through `open`: narrow a regular file's to the owner too
/// (not a device or FIFO such as /dev/stderr, which is not ours to change).
pub(crate) fn restrict_to_owner(
    f: std::fs::File,
    path: &std::path::Path,
) -> std::io::Result<std::fs::File> {
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

/// `5 bytes`, or `120 bytes, 31 compressed on the wire` for a compressed message (shown inside
/// parentheses: no second pair).
fn sizes(len: usize, wire: Wire) -> String {
    if wire.compressed {
        format!("{len} bytes, {} compressed on the wire", wire.size)
    } else {
        format!("{len} bytes")
    }
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
        } else if let (Event::Closed(e), Some(_)) = (&ev, self.client) {
            // A listen client's ending reads as its disconnect.
            self.disconnected(e);
        } else if self.style.json() {
            self.json_event(ev);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_need_no_second_parentheses() {
        let wire = Wire {
            compressed: true,
            size: 19,
        };
        let shown = format!("(text, {})", sizes(16, wire));
        assert_eq!(shown, "(text, 16 bytes, 19 compressed on the wire)");
        assert_eq!(shown.matches('(').count(), 1, "{shown}");
    }
}
