//! The server's answer to the upgrade: its head, read by the one HTTP head reader
//! ([`crate::http::head`]) and kept raw for display, failures explained in terms of the upgrade
//! (a TLS server behind ws://, frames without a handshake), and, for a refusal, the body up to a
//! bound.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::error::{Error, Result};
use crate::http::{head, Head, HeadError, Headers, Kind, Start};

/// How much of a refusal's body we keep.
pub const MAX_BODY: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Headers,
    /// The head as received (lossy UTF-8), CRLFs included.
    pub text: String,
    /// The head's bytes exactly (see [`crate::http::Head::raw`]).
    pub raw: Vec<u8>,
    pub body: Vec<u8>,
    pub body_truncated: bool,
}

impl Response {
    /// `101 Switching Protocols`, or `101` when the reason phrase is empty (it may be).
    pub fn status_text(&self) -> String {
        match self.reason.trim() {
            "" => self.status.to_string(),
            reason => format!("{} {reason}", self.status),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// Every value of a header that may repeat.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers.all(name)
    }

    fn from_head(h: Head) -> Response {
        let (status, reason) = match h.start {
            Start::Response { status, reason } => (status, reason),
            Start::Request { .. } => (0, String::new()),
        };
        Response {
            status,
            reason,
            headers: h.headers,
            text: h.text,
            raw: h.raw,
            body: Vec::new(),
            body_truncated: false,
        }
    }
}

/// Parse a complete head. `Ok(None)`: more bytes needed.
pub fn parse_head(buf: &[u8]) -> Result<Option<(Response, usize)>> {
    match head::parse(buf, Kind::Response) {
        Ok(found) => Ok(found.map(|(h, len)| (Response::from_head(h), len))),
        Err(e) => Err(explain(e)),
    }
}

/// What a failure to read the head means for the upgrade.
fn explain(e: HeadError) -> Error {
    match e {
        HeadError::Ended { received, reset } => {
            ended(received, if reset { "reset" } else { "closed" })
        }
        HeadError::Io(e) => Error::io("reading the upgrade response", e),
        HeadError::TooLarge => bad(format!(
            "the response head is larger than {} KiB",
            head::MAX_HEAD / 1024
        )),
        HeadError::TooManyHeaders => bad(format!(
            "the response has more than {} headers",
            head::MAX_HEADERS
        )),
        HeadError::Malformed { why, start } => not_http(&start, &why),
    }
}

fn bad(message: String) -> Error {
    Error::Handshake {
        message,
        hint: None,
    }
}

fn not_http(buf: &[u8], why: &str) -> Error {
    let shown: String = String::from_utf8_lossy(&buf[..buf.len().min(32)])
        .chars()
        .map(|c| if c.is_control() { '.' } else { c })
        .collect();
    let hint = match buf.first() {
        Some(0x15 | 0x16) => {
            Some("the server answered in TLS: use wss:// instead of ws://".to_string())
        }
        Some(0x81 | 0x82 | 0x88) => {
            Some("the server sent WebSocket frames without a handshake".to_string())
        }
        _ => None,
    };
    Error::Handshake {
        message: format!(
            "the server's answer is not an HTTP response ({why}); it began with '{shown}'"
        ),
        hint,
    }
}

/// The connection ended (`how`: "closed" or "reset") before a whole head arrived. A reset is the
/// same failure as a close (exit 5, not a runtime error): the server was reached and ended the
/// connection before its answer was whole.
fn ended(received: usize, how: &str) -> Error {
    if received == 0 {
        // What a TLS server does with a plain HTTP request (OpenSSL, among others).
        return Error::Handshake {
            message: format!(
                "the server {how} the connection without answering the upgrade request"
            ),
            hint: Some("if this port serves TLS, connect with wss:// instead of ws://".into()),
        };
    }
    bad(format!(
        "the server {how} the connection in the middle of its response head ({received} bytes received)"
    ))
}

/// Read until a whole head has arrived. Returns the response and the bytes that followed it.
pub async fn read_head<S: AsyncRead + Unpin>(stream: &mut S) -> Result<(Response, Vec<u8>)> {
    let (h, rest) = head::read(stream, Kind::Response).await.map_err(explain)?;
    Ok((Response::from_head(h), rest))
}

/// Read a refusal's body: up to Content-Length (or to the end of the connection), at most
/// MAX_BODY bytes, giving up after `idle` without data so a keep-alive server cannot stall us,
/// and at `deadline` (the upgrade's) so a server trickling bytes cannot either. A body cut
/// short of its Content-Length is marked truncated: what arrived is shown as such.
pub async fn read_body<S: AsyncRead + Unpin>(
    stream: &mut S,
    resp: &mut Response,
    mut already: Vec<u8>,
    idle: Duration,
    deadline: tokio::time::Instant,
) {
    let want = resp
        .header("Content-Length")
        .and_then(|v| v.trim().parse::<usize>().ok());
    let chunked = resp
        .header("Transfer-Encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let limit = want.unwrap_or(usize::MAX).min(MAX_BODY);
    let mut chunk = [0u8; 4096];
    let mut out_of_time = false;
    while already.len() < limit && want != Some(0) {
        if chunked && already.windows(5).any(|w| w == b"0\r\n\r\n") {
            break;
        }
        let until = deadline.min(tokio::time::Instant::now() + idle);
        match tokio::time::timeout_at(until, stream.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => already.extend_from_slice(&chunk[..n]),
            Err(_) if tokio::time::Instant::now() >= deadline => {
                out_of_time = true;
                break;
            }
            _ => break,
        }
    }
    // Bytes past Content-Length are not body; a body shorter than it was cut off.
    resp.body_truncated = out_of_time
        || match want {
            Some(w) => w > MAX_BODY || already.len() < w,
            None => already.len() > MAX_BODY,
        };
    already.truncate(limit);
    resp.body = if chunked { dechunk(&already) } else { already };
}

/// The payload of a chunked body, so the user reads the server's text rather than chunk sizes.
/// What does not parse as chunks (a cut-off or malformed body) is kept as it came.
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    while let Some(eol) = raw.windows(2).position(|w| w == b"\r\n") {
        let size_field = String::from_utf8_lossy(&raw[..eol]);
        let size_hex = size_field.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size_hex, 16) else {
            break;
        };
        if size == 0 {
            return out;
        }
        let data = &raw[eol + 2..];
        if data.len() < size {
            // Cut off by our bound: keep what there is of this chunk.
            out.extend_from_slice(data);
            return out;
        }
        out.extend_from_slice(&data[..size]);
        raw = data[size..].strip_prefix(b"\r\n").unwrap_or(&data[size..]);
    }
    out.extend_from_slice(raw);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_head_and_keeps_what_follows() {
        let raw = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nX-Case: Kept\r\n\r\n\x81\x02hi";
        let (r, len) = parse_head(raw).unwrap().unwrap();
        assert_eq!(r.status, 101);
        assert_eq!(r.header("upgrade"), Some("websocket"));
        assert_eq!(r.headers.iter().nth(1).map(|h| h.0), Some("X-Case"));
        assert_eq!(&raw[len..], b"\x81\x02hi");
    }

    #[test]
    fn partial_then_garbage() {
        assert!(parse_head(b"HTTP/1.1 101 Swi").unwrap().is_none());
        let e = parse_head(b"\x16\x03\x01\x00\x10garbage").unwrap_err();
        assert_eq!(e.exit_code(), 5);
        assert!(e.hint().unwrap().contains("wss://"));
    }

    #[test]
    fn chunked_bodies_are_shown_without_chunk_sizes() {
        assert_eq!(
            dechunk(b"10\r\nupgrade required\r\n7;x=y\r\n please\r\n0\r\n\r\n"),
            b"upgrade required please"
        );
        assert_eq!(dechunk(b"5\r\nab"), b"ab");
        assert_eq!(dechunk(b"not chunked"), b"not chunked");
    }

    #[tokio::test]
    async fn body_up_to_content_length() {
        let (r, _) = parse_head(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\n")
            .unwrap()
            .unwrap();
        let mut r = r;
        let mut rest: &[u8] = b"o go away";
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        read_body(
            &mut rest,
            &mut r,
            b"n".to_vec(),
            Duration::from_millis(100),
            deadline,
        )
        .await;
        assert_eq!(r.body, b"no go");
        assert!(!r.body_truncated);
    }

    const HEADS: &[&[u8]] = &[
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
        b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\n",
        b"HTTP/1.0 302 Found\r\nLocation: wss://example.com/\r\n\r\n",
        b"HTTP/1.1 426 Upgrade Required\nSec-WebSocket-Version: 13, 8\n\n",
    ];

    /// What parse_head promises for any input: a head no longer than the input, keeping its
    /// bytes as text; or "more needed"; or an error with a message.
    fn check_parse(buf: &[u8]) -> std::result::Result<(), proptest::test_runner::TestCaseError> {
        match parse_head(buf) {
            Ok(Some((r, len))) => {
                proptest::prop_assert!(len <= buf.len());
                proptest::prop_assert_eq!(r.text, String::from_utf8_lossy(&buf[..len]));
            }
            Ok(None) => {}
            Err(e) => proptest::prop_assert!(!e.to_string().is_empty()),
        }
        Ok(())
    }

    proptest::proptest! {
        #[test]
        fn parse_head_never_panics_on_arbitrary_bytes(
            buf in proptest::collection::vec(proptest::num::u8::ANY, 0..1024),
        ) {
            check_parse(&buf)?;
        }

        #[test]
        fn parse_head_never_panics_on_mutated_heads(
            which in 0..HEADS.len(),
            edits in proptest::collection::vec((proptest::num::usize::ANY, proptest::num::u8::ANY, 0u8..3), 0..6),
            cut in proptest::num::usize::ANY,
        ) {
            let mut buf = HEADS[which].to_vec();
            for (at, byte, how) in edits {
                let at = at % (buf.len() + 1);
                match how {
                    0 if at < buf.len() => buf[at] = byte,
                    1 => buf.insert(at, byte),
                    _ if at < buf.len() => {
                        buf.remove(at);
                    }
                    _ => buf.push(byte),
                }
            }
            buf.truncate(cut % (buf.len() + 1));
            check_parse(&buf)?;
        }

        #[test]
        fn whatever_follows_a_head_is_handed_back(
            which in 0..HEADS.len(),
            rest in proptest::collection::vec(proptest::num::u8::ANY, 0..64),
        ) {
            let head = HEADS[which];
            let buf = [head, &rest].concat();
            let (_, len) = parse_head(&buf).unwrap().unwrap();
            proptest::prop_assert_eq!(len, head.len());
        }
    }
}
