//! What the guard refuses, as the errors it raises: text that is not UTF-8 ([`InvalidUtf8`]),
//! bytes that are no frame we may accept ([`Unexpected`]: reserved bits, an HTTP response after
//! the 101, a broken permessage-deflate rule), and how the session finds them in an io::Error.

use std::io;

/// The marker inside the io::Error this wrapper raises: which text was not UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidUtf8 {
    TextMessage,
    CloseReason,
}

impl std::fmt::Display for InvalidUtf8 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            InvalidUtf8::TextMessage => "the server sent a text message that is not valid UTF-8",
            InvalidUtf8::CloseReason => "the server sent a close reason that is not valid UTF-8",
        })
    }
}

impl std::error::Error for InvalidUtf8 {}

/// What was invalid, when `e` is the error raised by [`Guard`].
pub fn invalid_utf8(e: &io::Error) -> Option<InvalidUtf8> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<InvalidUtf8>())
        .copied()
}

/// The marker inside the io::Error this wrapper raises for bytes that are not a frame we may
/// accept at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unexpected {
    /// RSV1-3 (as the bits 0x70 of the first byte) set, and no extension was negotiated.
    ReservedBits(u8),
    /// The stream after the 101 starts with an HTTP response: its status line, made visible.
    HttpResponse(String),
    /// permessage-deflate was negotiated and a frame broke its rules (RSV1 on a control frame
    /// or a continuation, RSV2/RSV3, data that does not inflate): what, in words.
    Deflate(String),
}

impl Unexpected {
    /// What was wrong, naming the side that sent it.
    pub fn describe(&self, peer: &str) -> String {
        match self {
            Unexpected::ReservedBits(bits) => {
                let names: Vec<&str> = [(0x40, "RSV1"), (0x20, "RSV2"), (0x10, "RSV3")]
                    .into_iter()
                    .filter(|(b, _)| bits & b != 0)
                    .map(|(_, n)| n)
                    .collect();
                format!(
                    "the {peer} broke the WebSocket protocol: a frame with reserved bits set ({}) \
                     but no extension was negotiated",
                    names.join(", ")
                )
            }
            Unexpected::HttpResponse(line) => format!(
                "the {peer} sent an HTTP response after the upgrade instead of WebSocket \
                 frames: {line}"
            ),
            Unexpected::Deflate(what) => {
                format!("the {peer} broke permessage-deflate (RFC 7692): {what}")
            }
        }
    }
}

impl std::fmt::Display for Unexpected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe("server"))
    }
}

impl std::error::Error for Unexpected {}

/// What was unacceptable, when `e` is that error raised by [`Guard`].
pub fn unexpected(e: &io::Error) -> Option<Unexpected> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<Unexpected>())
        .cloned()
}

/// How much of an HTTP status line sent after the 101 is shown.
pub(super) const STATUS_LINE_SHOWN: usize = 200;

/// The status line at the start of `bytes`, up to its CRLF, with control and bidi characters
/// made visible (it is peer text bound for the terminal).
pub(super) fn status_line(bytes: &[u8]) -> String {
    let end = bytes
        .windows(2)
        .position(|w| w == b"\r\n")
        .unwrap_or(bytes.len());
    let cut = end.min(STATUS_LINE_SHOWN);
    let mut line: String = String::from_utf8_lossy(&bytes[..cut])
        .chars()
        .flat_map(|c| {
            let visible = c.is_control()
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c);
            let shown: Vec<char> = if visible {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            shown
        })
        .collect();
    if cut < end || end == bytes.len() {
        line.push('…');
    }
    line
}

pub(super) fn invalid(what: InvalidUtf8) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}
