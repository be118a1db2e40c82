//! The frame dump (`--dump`, `--dump-file`): the handshake heads and each frame, written to the
//! screen beside the other lines or to an owner-only file; a failed write to that file stops the dump
//! once, with an error, and makes the exit code 1.

use std::io::{BufWriter, Write};

use colored::Colorize;

use super::escape::Shown;
use super::Printer;
use crate::error::Error;
use crate::wire::frame::Direction;

/// Lens views of sent messages waiting for their frames to be dumped, at most.
const PENDING_VIEWS: usize = 32;

impl Printer {
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
        self.dumping = true;
        self.write_dump(&text, None);
    }

    pub(super) fn write_dump(&mut self, text: &str, json: Option<serde_json::Value>) {
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
    pub(super) fn dump_written(&mut self, written: std::io::Result<()>) {
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

    /// Under the dumped frame(s) of a message a lens decoded: its view, in the lens's words and as
    /// JSON (`--dump` on the screen or in a text --dump-file; a `--json` dump has it on the event).
    pub(super) fn dump_lens(&mut self, ev: &crate::event::Event<'_>) {
        use crate::event::Event;
        if !self.dumping || self.style.json() {
            return;
        }
        let view = match ev {
            Event::Sent { lens: Some(v), .. } | Event::Received { lens: Some(v), .. } => v,
            Event::Closed(_) => {
                while let Some(text) = self.dump_pending.pop_front() {
                    self.write_dump(&text, None);
                }
                return;
            }
            _ => return,
        };
        let mut text = format!("    {} [{}] ", "lens".dimmed(), view.lens);
        match &view.decoded {
            Ok(d) => {
                super::escape::escape_into(&mut text, &d.summary);
                text.push_str(&format!("\n    {} ", "view".dimmed()));
                super::escape::escape_into(&mut text, &crate::lens::short_json(&d.json));
            }
            Err(why) => {
                let mut s = String::new();
                super::escape::escape_into(&mut s, &format!("not a {} packet: {why}", view.lens));
                text.push_str(&s.yellow().to_string());
            }
        }
        text.push('\n');
        // A sent message's frames are dumped after its event: its view waits for them.
        if matches!(ev, Event::Sent { .. }) {
            self.dump_pending.push_back(text);
            if self.dump_pending.len() > PENDING_VIEWS {
                let oldest = self.dump_pending.pop_front().unwrap_or_default();
                self.write_dump(&oldest, None);
            }
        } else {
            self.write_dump(&text, None);
        }
    }

    /// An HTTP/2 frame header for `--dump-h2`: numbers and names only, nothing the peer wrote.
    pub(super) fn h2_frame(
        &mut self,
        dir: Direction,
        at: std::time::Duration,
        header: crate::http2::FrameHeader,
    ) {
        self.dumping = true;
        if self.style.json() {
            let v = serde_json::json!({
                "event": "h2frame",
                "dir": dir,
                "t": (at.as_secs_f64() * 1e6).round() / 1e6,
                "type": header.kind_name(),
                "flags": header.flag_names(),
                "stream": header.stream,
                "len": header.len,
            });
            self.write_dump("", Some(v));
            return;
        }
        let arrow = match dir {
            Direction::Outgoing => ">>".green().bold(),
            Direction::Incoming => "<<".cyan().bold(),
        };
        let text = format!(
            "{arrow} {}.{:03}s  {} {}\n",
            at.as_secs(),
            at.subsec_millis(),
            "h2".dimmed(),
            header.describe()
        );
        self.write_dump(&text, None);
    }

    /// A frame for `--dump`.
    pub(super) fn frame(
        &mut self,
        dir: Direction,
        at: std::time::Duration,
        frame: &crate::wire::frame::Frame,
    ) {
        self.dumping = true;
        if self.style.json() {
            self.write_dump("", Some(crate::wire::dump::frame_json(frame, dir, at)));
            return;
        }
        let mut text = std::mem::take(&mut self.dump_text);
        text.clear();
        crate::wire::dump::render_frame(frame, dir, at, &mut text);
        self.write_dump(&text, None);
        // The last frame of a sent data message: the lens view of that message goes under it.
        if dir == Direction::Outgoing && frame.fin && frame.opcode <= 2 {
            if let Some(view) = self.dump_pending.pop_front() {
                self.write_dump(&view, None);
            }
        }
        // Keep the scratch unless one huge frame (a big --dump-limit) grew it.
        if text.capacity() <= 64 * 1024 {
            self.dump_text = text;
        }
    }
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
