//! A recording as replay sees it, whatever file it came from: one or more WebSockets ([`Entry`]),
//! each with the request headers it was opened with and its data messages in order, each marked
//! with its direction and time. The data model only: `load` reads the files, `transcript` and `har`
//! parse them; a broken file is a usage error naming the file and the line (or entry) at fault.

use std::path::Path;

use crate::error::{Error, Result};
use crate::event::DataKind;

/// One data message of a recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Sent by the client (else by the server).
    pub from_client: bool,
    pub kind: DataKind,
    pub data: Vec<u8>,
    /// Seconds, on the recording's own clock (only differences count).
    pub at: f64,
}

/// One WebSocket of a recording.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    /// Where it connected, when the recording says.
    pub url: Option<String>,
    /// The request headers as recorded (credentials may be redacted).
    pub headers: Vec<(String, String)>,
    /// From a HAR file: only its Origin, subprotocols (and cookies on request) are replayed.
    pub har: bool,
    pub messages: Vec<Message>,
    /// When the connection opened on the messages' clock (the first gap counts from here).
    pub opened_at: Option<f64>,
}

impl Entry {
    /// Messages sent by the client and by the server.
    pub fn counts(&self) -> (usize, usize) {
        let sent = self.messages.iter().filter(|m| m.from_client).count();
        (sent, self.messages.len() - sent)
    }

    /// The recorded subprotocols offered (Sec-WebSocket-Protocol, comma-separated, repeatable).
    pub fn subprotocols(&self) -> Vec<String> {
        self.header_values("sec-websocket-protocol")
            .flat_map(|v| v.split(','))
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect()
    }

    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What a file held: its WebSockets and what the reader should be told about it.
#[derive(Debug, Default)]
pub struct Recording {
    pub entries: Vec<Entry>,
    pub notes: Vec<String>,
}

impl Recording {
    /// Entry `n` (0 when None), or a usage error that says how many there are.
    pub fn entry(&self, path: &Path, n: Option<usize>) -> Result<&Entry> {
        let i = n.unwrap_or(0);
        self.entries.get(i).ok_or_else(|| {
            Error::usage_hint(
                format!(
                    "{}: --entry {i} is out of range: it holds {} WebSocket{} (0 to {})",
                    path.display(),
                    self.entries.len(),
                    if self.entries.len() == 1 { "" } else { "s" },
                    self.entries.len().saturating_sub(1)
                ),
                "--list shows the WebSockets of a recording with their numbers",
            )
        })
    }
}

/// `at FILE line N: ...` as a usage error.
pub fn bad_line(path: &Path, line: usize, what: impl std::fmt::Display) -> Error {
    Error::usage_hint(
        format!("{} line {line}: {what}", path.display()),
        "the file should be a transcript written by --record (JSON Lines) or a HAR export",
    )
}

/// Hex digits (as the transcript writes binary payloads) back to bytes.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    crate::wire::hexdump::decode(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let bytes = [0u8, 1, 0xab, 0xff];
        assert_eq!(
            unhex(&crate::wire::hexdump::hex_plain(&bytes)).unwrap(),
            bytes
        );
        assert_eq!(unhex("0"), None);
        assert_eq!(unhex("zz"), None);
    }
}
