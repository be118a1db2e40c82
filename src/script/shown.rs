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

/// A message on one line, elided: line breaks made visible (the printer escapes the rest).
/// A copy of as much of `m` as a report shows. Not `m` itself: a received message shares the
/// library's read buffer, and one kept for the whole stream pins it, after which tungstenite reads
/// the socket a message at a time (docs/BENCHMARKS.md, "B1 regression").
pub(super) fn head_of(m: &Message) -> Message {
    match m {
        Message::Binary(b) => Message::binary(b[..b.len().min(SHOWN_CHARS / 2)].to_vec()),
        Message::Text(t) => {
            let t = t.as_str();
            // One character more than is shown, so that `shown_text` marks the cut.
            let cut = t
                .char_indices()
                .nth(SHOWN_CHARS + 1)
                .map_or(t.len(), |(i, _)| i);
            Message::text(t[..cut].to_string())
        }
        other => other.clone(),
    }
}

/// `m` as a report shows it (`m` may be the start of a message of `len` bytes, see [`head_of`]).
pub(super) fn shown_message(m: &Message, len: usize) -> String {
    match m {
        Message::Binary(b) => {
            let hex = crate::wire::hexdump::hex_plain(&b[..b.len().min(SHOWN_CHARS / 2)]);
            let more = if len > SHOWN_CHARS / 2 { "..." } else { "" };
            format!("binary {hex}{more} ({len} bytes)")
        }
        Message::Text(t) => shown_text(t.as_str(), len),
        _ => String::new(),
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
