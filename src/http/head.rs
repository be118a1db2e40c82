//! Reading one HTTP/1.x head (a request or a response) from a stream: bounded in size
//! ([`MAX_HEAD`] bytes, [`MAX_HEADERS`] fields, the bounds tungstenite uses), parsed with httparse,
//! and kept as received for display. The bytes that arrived behind the head (the first WebSocket
//! frames, most often) are handed back. The caller bounds it in time and turns a [`HeadError`]
//! into what failed in its own terms (the server's upgrade answer, a client's request, a proxy).

use tokio::io::{AsyncRead, AsyncReadExt};

use super::Headers;

/// The largest head accepted, in bytes.
pub const MAX_HEAD: usize = 64 * 1024;
/// The most header fields accepted in one head.
pub const MAX_HEADERS: usize = 124;

/// Which kind of head to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Request,
    Response,
}

/// The start line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    Request { method: String, path: String },
    Response { status: u16, reason: String },
}

#[derive(Debug, Clone)]
pub struct Head {
    pub start: Start,
    /// The minor HTTP version: 1 for HTTP/1.1, 0 for HTTP/1.0.
    pub minor_version: u8,
    pub headers: Headers,
    /// The head as received (lossy UTF-8), CRLFs included.
    pub text: String,
    /// The same bytes, exactly: a printer escapes what is not UTF-8 (`\x9b`) instead of the
    /// U+FFFD that `text` holds.
    pub raw: Vec<u8>,
}

impl Head {
    /// A response's status code (0 for a request).
    pub fn status(&self) -> u16 {
        match self.start {
            Start::Response { status, .. } => status,
            Start::Request { .. } => 0,
        }
    }
}

#[derive(Debug)]
pub enum HeadError {
    /// The peer closed (or reset) the connection after `received` bytes, before the head ended.
    Ended { received: usize, reset: bool },
    /// Reading failed otherwise.
    Io(std::io::Error),
    /// No end of head within [`MAX_HEAD`] bytes.
    TooLarge,
    /// More than [`MAX_HEADERS`] fields.
    TooManyHeaders,
    /// Not HTTP: httparse's reason, and the first bytes received.
    Malformed { why: String, start: Vec<u8> },
}

/// Parse a complete head at the start of `buf`. `Ok(None)`: more bytes are needed.
pub fn parse(buf: &[u8], kind: Kind) -> Result<Option<(Head, usize)>, HeadError> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let parsed = match kind {
        Kind::Request => {
            let mut req = httparse::Request::new(&mut fields);
            req.parse(buf).map(|status| match status {
                httparse::Status::Partial => httparse::Status::Partial,
                httparse::Status::Complete(len) => {
                    let start = Start::Request {
                        method: req.method.unwrap_or_default().to_string(),
                        path: req.path.unwrap_or_default().to_string(),
                    };
                    httparse::Status::Complete((
                        start,
                        req.version.unwrap_or(0),
                        collect(req.headers),
                        len,
                    ))
                }
            })
        }
        Kind::Response => {
            let mut resp = httparse::Response::new(&mut fields);
            resp.parse(buf).map(|status| match status {
                httparse::Status::Partial => httparse::Status::Partial,
                httparse::Status::Complete(len) => {
                    let start = Start::Response {
                        // httparse leaves the code unset only on Partial.
                        status: resp.code.unwrap_or(0),
                        reason: resp.reason.unwrap_or("").to_string(),
                    };
                    httparse::Status::Complete((
                        start,
                        resp.version.unwrap_or(0),
                        collect(resp.headers),
                        len,
                    ))
                }
            })
        }
    };
    match parsed {
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => Err(HeadError::TooLarge),
        Ok(httparse::Status::Partial) => Ok(None),
        Ok(httparse::Status::Complete((_, _, _, len))) if len > MAX_HEAD => {
            Err(HeadError::TooLarge)
        }
        Ok(httparse::Status::Complete((start, minor_version, headers, len))) => Ok(Some((
            Head {
                start,
                minor_version,
                headers,
                text: String::from_utf8_lossy(&buf[..len]).into_owned(),
                raw: buf[..len].to_vec(),
            },
            len,
        ))),
        Err(httparse::Error::TooManyHeaders) => Err(HeadError::TooManyHeaders),
        Err(e) => Err(HeadError::Malformed {
            why: e.to_string(),
            start: buf[..buf.len().min(32)].to_vec(),
        }),
    }
}

fn collect(fields: &[httparse::Header<'_>]) -> Headers {
    fields
        .iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect()
}

fn is_reset(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset};
    matches!(e.kind(), ConnectionReset | ConnectionAborted | BrokenPipe)
}

/// Read until a whole head has arrived. Returns it and the bytes that followed it.
pub async fn read<S: AsyncRead + Unpin>(
    stream: &mut S,
    kind: Kind,
) -> Result<(Head, Vec<u8>), HeadError> {
    read_counted(stream, kind, &mut 0).await
}

/// [`read`], counting the parses in `parses`. A head is parsed once its blank line has arrived
/// (and once on the first read, so a peer that speaks something else is told at once): a head
/// trickled a byte at a time costs one scan of each new byte, not a parse of all of it per read.
async fn read_counted<S: AsyncRead + Unpin>(
    stream: &mut S,
    kind: Kind,
    parses: &mut usize,
) -> Result<(Head, Vec<u8>), HeadError> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    // Where the search for the blank line resumes.
    let mut scanned = 0;
    loop {
        let n = match stream.read(&mut chunk).await {
            Ok(n) => n,
            Err(e) if is_reset(&e) => {
                return Err(HeadError::Ended {
                    received: buf.len(),
                    reset: true,
                })
            }
            Err(e) => return Err(HeadError::Io(e)),
        };
        if n == 0 {
            return Err(HeadError::Ended {
                received: buf.len(),
                reset: false,
            });
        }
        let first = buf.is_empty();
        buf.extend_from_slice(&chunk[..n]);
        let ended = blank_line(&buf, scanned);
        scanned = buf.len();
        if !first && !ended {
            if buf.len() > MAX_HEAD {
                return Err(HeadError::TooLarge);
            }
            continue;
        }
        *parses += 1;
        if let Some((head, len)) = parse(&buf, kind)? {
            return Ok((head, buf.split_off(len)));
        }
    }
}

/// Whether `buf` holds the end of a head (a line feed, an optional CR, a line feed: httparse takes
/// bare LFs too) that ends at or after `from`.
fn blank_line(buf: &[u8], from: usize) -> bool {
    let start = from.saturating_sub(2);
    buf[start..].windows(2).any(|w| w == b"\n\n")
        || buf[from.saturating_sub(3)..]
            .windows(3)
            .any(|w| w == b"\n\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_and_a_response() {
        let (h, len) = parse(b"GET /x HTTP/1.0\r\nHost: a\r\n\r\nrest", Kind::Request)
            .unwrap()
            .unwrap();
        assert_eq!(len, 28);
        assert_eq!(h.minor_version, 0);
        assert_eq!(h.headers.get("host"), Some("a"));
        assert!(matches!(h.start, Start::Request { ref path, .. } if path == "/x"));
        let (h, _) = parse(b"HTTP/1.1 426 Nope\r\n\r\n", Kind::Response)
            .unwrap()
            .unwrap();
        assert_eq!(h.status(), 426);
    }

    #[test]
    fn limits() {
        let mut big = b"HTTP/1.1 200 OK\r\n".to_vec();
        big.extend(std::iter::repeat_n(b'a', MAX_HEAD));
        assert!(matches!(
            parse(&big, Kind::Response),
            Err(HeadError::TooLarge)
        ));
        let many: String = (0..=MAX_HEADERS).map(|i| format!("X-{i}: v\r\n")).collect();
        let head = format!("HTTP/1.1 200 OK\r\n{many}\r\n");
        assert!(matches!(
            parse(head.as_bytes(), Kind::Response),
            Err(HeadError::TooManyHeaders)
        ));
        assert!(matches!(
            parse(b"\x16\x03\x01garbage\r\n\r\n", Kind::Response),
            Err(HeadError::Malformed { .. })
        ));
    }

    #[tokio::test]
    async fn what_follows_the_head_is_handed_back() {
        let mut input: &[u8] = b"HTTP/1.1 101 S\r\nUpgrade: websocket\r\n\r\n\x81\x00";
        let (h, rest) = read(&mut input, Kind::Response).await.unwrap();
        assert_eq!(h.status(), 101);
        assert_eq!(rest, b"\x81\x00");
        let mut cut: &[u8] = b"HTTP/1.1 101";
        assert!(matches!(
            read(&mut cut, Kind::Response).await,
            Err(HeadError::Ended {
                received: 12,
                reset: false
            })
        ));
    }

    /// Hands out one byte per read, as a peer that trickles its head one segment at a time.
    struct Trickle(Vec<u8>, usize);

    impl AsyncRead for Trickle {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            out: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            let at = self.1;
            if let Some(b) = self.0.get(at) {
                out.put_slice(&[*b]);
                self.1 += 1;
            }
            std::task::Poll::Ready(Ok(()))
        }
    }

    /// Issue 25: a head trickled a byte per read was parsed from its start after every read.
    #[tokio::test]
    async fn a_trickled_head_is_parsed_once_its_blank_line_is_in() {
        for ending in ["\r\n\r\n", "\n\n", "\r\n\n"] {
            let pad = "\r\nX-Pad: 0123456789".repeat(100);
            let head = format!("GET / HTTP/1.1\r\nHost: a{pad}{ending}");
            let mut slow = Trickle(format!("{head}rest").into_bytes(), 0);
            let mut parses = 0;
            let (h, _) = read_counted(&mut slow, Kind::Request, &mut parses)
                .await
                .unwrap();
            assert_eq!(h.headers.get("host"), Some("a"));
            assert!(parses <= 2, "{parses} parses of a {}-byte head", head.len());
        }
        // Not HTTP at all: said after the first byte, not after 64 KiB.
        let mut tls = Trickle(b"\x16\x03\x01\x02\x00".to_vec(), 0);
        assert!(matches!(
            read_counted(&mut tls, Kind::Request, &mut 0).await,
            Err(HeadError::Malformed { .. })
        ));
        // No blank line ever: too large, without a parse per byte.
        let mut endless = Trickle(
            [b"GET / HTTP/1.1\r\nX: ".as_slice(), &[b'a'; MAX_HEAD + 10]].concat(),
            0,
        );
        let mut parses = 0;
        assert!(matches!(
            read_counted(&mut endless, Kind::Request, &mut parses).await,
            Err(HeadError::TooLarge)
        ));
        assert_eq!(parses, 1);
    }
}
