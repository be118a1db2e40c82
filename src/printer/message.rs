//! How a data message reads: on a pipe the bytes themselves on stdout (text, raw binary or a hex
//! line), on the human screen a `<` line with text escaped (or pretty JSON) and binary as a bounded
//! hex+ASCII dump, with its sizes on the wire when verbose.

use std::fmt::Write as _;

use colored::Colorize;

use super::{escape, style, Printer, Screen};
use crate::deflate::Wire;
use crate::event::DataKind;
use crate::wire::hexdump;

/// A binary message in the REPL is dumped up to this many bytes; the rest is counted.
const MAX_SHOWN_BINARY: usize = 64 * 1024;

impl Printer {
    pub(super) fn data_line(&mut self, kind: DataKind, data: &[u8], wire: Wire) {
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
    pub(super) fn message_body(&mut self, kind: DataKind, data: &[u8], wire: Wire) {
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
