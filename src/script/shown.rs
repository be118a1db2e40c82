//! How a failed expectation shows what came: messages cut to their start, line breaks made
//! visible (the printer escapes the rest), close codes named.

use tokio_tungstenite::tungstenite::Message;

use super::SHOWN_CHARS;

pub(super) fn close_words(code: Option<u16>) -> String {
    match code {
        Some(c) => format!(" with {c} ({})", crate::wire::close::name(c)),
        None => " without a code".into(),
    }
}

/// The start of a recent message, as much as a report shows, and its size. A copy, not `m`
/// itself: a received message shares the library's read buffer, and one kept for the whole stream
/// pins it, after which tungstenite reads the socket a message at a time (docs/BENCHMARKS.md,
/// "B1 regression"). The buffer is reused from message to message.
#[derive(Debug, Default)]
pub(super) struct Recent {
    text: bool,
    head: Vec<u8>,
    len: usize,
}

impl Recent {
    pub(super) fn keep_head_of(&mut self, m: &Message) {
        self.head.clear();
        self.len = m.len();
        self.text = false;
        match m {
            Message::Binary(b) => self
                .head
                .extend_from_slice(&b[..b.len().min(SHOWN_CHARS / 2)]),
            Message::Text(t) => {
                let t = t.as_str();
                // One character more than is shown, so that `shown_text` marks the cut. A text
                // of no more bytes than that has no more characters: kept whole, not walked.
                let cut = if t.len() <= SHOWN_CHARS + 1 {
                    t.len()
                } else {
                    t.char_indices()
                        .nth(SHOWN_CHARS + 1)
                        .map_or(t.len(), |(i, _)| i)
                };
                self.head.extend_from_slice(&t.as_bytes()[..cut]);
                self.text = true;
            }
            _ => {}
        }
    }

    /// As a report shows it.
    pub(super) fn shown(&self) -> String {
        if self.text {
            return shown_text(&String::from_utf8_lossy(&self.head), self.len);
        }
        let hex = crate::wire::hexdump::hex_plain(&self.head);
        let more = if self.len > SHOWN_CHARS / 2 {
            "..."
        } else {
            ""
        };
        format!("binary {hex}{more} ({} bytes)", self.len)
    }
}

/// The start of a text of `len` bytes (`t` may be only its start).
pub(super) fn shown_text(t: &str, len: usize) -> String {
    let mut out = String::new();
    for (i, c) in t.chars().enumerate() {
        if i == SHOWN_CHARS {
            out.push_str(&format!("... ({len} bytes)"));
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out
}
