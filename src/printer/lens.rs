//! How a message looks when a lens decoded it (`crate::lens`): one line in the lens's words,
//! `< [socketio] event "chat" ["hi"]` (duties dimmed), `-v` adding the raw payload; a message
//! the lens could not decode is shown raw with `(not a socketio packet: WHY)`. In pipe mode the
//! same line goes to stdout without the arrow.

use std::fmt::Write as _;

use colored::Colorize;

use super::{escape, hexdump, Printer, Screen};
use crate::deflate::Wire;
use crate::event::DataKind;
use crate::lens::View;

/// Raw payload shown after a lens line with -v, at most this many bytes of it.
const RAW_SHOWN: usize = 1024;

impl Printer {
    /// A data message with its lens view; `arrow` is `<` or `>` (pipe mode: received only).
    pub(super) fn lens_line(
        &mut self,
        arrow: colored::ColoredString,
        kind: DataKind,
        data: &[u8],
        wire: Wire,
        view: &View,
    ) {
        if matches!(self.screen, Screen::Stderr) && arrow.trim() == "<" {
            return self.lens_stdout(kind, data, view);
        }
        self.prefix();
        let _ = write!(self.line, "{arrow} ");
        match &view.decoded {
            Ok(d) => {
                let mut s = String::new();
                escape::escape_into(&mut s, &d.summary);
                let tag = format!("[{}]", view.lens);
                if d.duty {
                    let _ = write!(self.line, "{}", format!("{tag} {s}").dimmed());
                } else {
                    let _ = write!(self.line, "{} {s}", tag.cyan());
                }
                if self.style.verbose {
                    let _ = write!(self.line, "\n    {} ", "raw".dimmed());
                    raw_into(&mut self.line, kind, data);
                }
            }
            Err(why) => {
                self.message_body(kind, data, wire);
                let note = format!("(not a {} packet: {why})", view.lens);
                let mut s = String::new();
                escape::escape_into(&mut s, &note);
                let _ = write!(self.line, "  {}", s.yellow());
            }
        }
        self.emit_human();
    }

    /// Pipe mode: `[socketio] event "chat" ["hi"]` on stdout, the raw payload under it with -v.
    fn lens_stdout(&mut self, kind: DataKind, data: &[u8], view: &View) {
        if self.style.timestamps {
            let t = format!("{} ", super::style::clock());
            self.write_out(t.as_bytes());
        }
        if !self.tag.is_empty() {
            let tag = std::mem::take(&mut self.tag);
            self.write_out(tag.as_bytes());
            self.tag = tag;
        }
        let mut line = format!("[{}] ", view.lens);
        match &view.decoded {
            Ok(d) => {
                line.push_str(&d.summary);
                if self.style.verbose {
                    line.push_str("\n    raw ");
                    raw_into(&mut line, kind, data);
                }
            }
            Err(why) => {
                raw_into(&mut line, kind, data);
                let _ = write!(line, " (not a {} packet: {why})", view.lens);
            }
        }
        line.push('\n');
        self.write_data(line.as_bytes());
    }
}

/// The payload as text (lossy) or hex, cut at [`RAW_SHOWN`] bytes.
fn raw_into(out: &mut String, kind: DataKind, data: &[u8]) {
    let shown = &data[..data.len().min(RAW_SHOWN)];
    match (kind, std::str::from_utf8(shown)) {
        (DataKind::Text, Ok(t)) => escape::escape_into(out, t),
        _ => out.push_str(&hexdump::hex_plain(shown)),
    }
    if shown.len() < data.len() {
        let _ = write!(out, "… ({} bytes)", data.len());
    }
}
