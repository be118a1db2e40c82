//! One check's short connection: the upgrade through the usual handshake (so every connection
//! option applies), then crafted frames out and the server's frames in, read with the dump's
//! frame decoder so a close code is seen exactly as sent. Every read has a deadline.

use std::collections::VecDeque;

use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::time::{timeout_at, Instant};

use crate::dial::BoxStream;
use crate::handshake::{self, Report};
use crate::printer::escape::escape;
use crate::target::Target;
use crate::wire::close::name as close_code_name;
use crate::wire::craft::{self, Crafted};
use crate::wire::frame::{Frame, FrameDecoder};

/// Payload bytes of a frame kept: a control frame's all; a big message's are dropped as read.
const KEEP: usize = 256;
const CHUNK: usize = 64 * 1024;

/// What came from the server next.
pub enum Seen {
    Frame(Frame),
    /// The connection ended (or was reset) without a close frame.
    Dropped,
    Timeout,
}

pub struct Wire {
    pub reader: Reader,
    pub wr: WriteHalf<BoxStream>,
}

/// The reading half: frames as the decoder completes them.
pub struct Reader {
    rd: ReadHalf<BoxStream>,
    decoder: FrameDecoder,
    frames: VecDeque<Frame>,
    buf: Vec<u8>,
}

/// Upgrade with these options; Err is the report (for the status a refusal had) and the error.
pub async fn open(
    target: &Target,
    conn: &handshake::Options,
) -> Result<(Report, Wire), (Report, crate::error::Error)> {
    let (report, upgraded) = handshake::open(target, conn).await;
    match upgraded {
        Ok(up) => {
            let (rd, wr) = tokio::io::split(up.stream);
            let mut reader = Reader {
                rd,
                decoder: FrameDecoder::new(KEEP),
                frames: VecDeque::new(),
                buf: vec![0; CHUNK],
            };
            reader.take(&up.leftover);
            Ok((report, Wire { reader, wr }))
        }
        Err(e) => Err((report, e)),
    }
}

/// Write bytes; false when the server has gone.
pub async fn write(wr: &mut WriteHalf<BoxStream>, bytes: &[u8]) -> bool {
    wr.write_all(bytes).await.is_ok() && wr.flush().await.is_ok()
}

impl Reader {
    fn take(&mut self, bytes: &[u8]) {
        let mut out = Vec::new();
        self.decoder.feed(bytes, &mut out);
        self.frames.extend(out);
    }

    /// The next frame from the server, by `deadline`.
    pub async fn next(&mut self, deadline: Instant) -> Seen {
        loop {
            if let Some(f) = self.frames.pop_front() {
                return Seen::Frame(f);
            }
            match timeout_at(deadline, self.rd.read(&mut self.buf)).await {
                Err(_) => return Seen::Timeout,
                Ok(Ok(0)) | Ok(Err(_)) => {
                    return match self.decoder.finish() {
                        Some(f) => Seen::Frame(f),
                        None => Seen::Dropped,
                    }
                }
                Ok(Ok(n)) => {
                    let mut out = Vec::new();
                    self.decoder.feed(&self.buf[..n], &mut out);
                    self.frames.extend(out);
                }
            }
        }
    }

    /// Wait for the pong to a ping carrying `token` (or the start of it: see [`answers`]),
    /// skipping data frames (an echo) and pongs to other pings. A close, a drop or the deadline
    /// come first otherwise.
    pub async fn pong(&mut self, token: &[u8], deadline: Instant) -> Answer {
        loop {
            match self.next(deadline).await {
                Seen::Frame(f) if f.opcode == craft::PONG && answers(&f.payload, token) => {
                    return Answer::Pong
                }
                Seen::Frame(f) if f.opcode == craft::CLOSE => return Answer::Closed(Close::of(&f)),
                Seen::Frame(_) => continue,
                Seen::Dropped => return Answer::Dropped,
                Seen::Timeout => return Answer::Timeout,
            }
        }
    }

    /// Wait for the pong that echoes `token` whole, and say what came back instead when none
    /// does: after a pong that does not echo it, the others get [`LATE_PONGS`], not the whole wait.
    pub async fn pongs(&mut self, token: &[u8], mut deadline: Instant) -> (Answer, Vec<Vec<u8>>) {
        let mut others = Vec::new();
        loop {
            match self.next(deadline).await {
                Seen::Frame(f) if f.opcode == craft::PONG && f.payload == token => {
                    return (Answer::Pong, others)
                }
                Seen::Frame(f) if f.opcode == craft::PONG => {
                    deadline = deadline.min(Instant::now() + LATE_PONGS);
                    others.push(f.payload);
                }
                Seen::Frame(f) if f.opcode == craft::CLOSE => {
                    return (Answer::Closed(Close::of(&f)), others)
                }
                Seen::Frame(_) => continue,
                Seen::Dropped => return (Answer::Dropped, others),
                Seen::Timeout => return (Answer::Timeout, others),
            }
        }
    }

    /// Wait for the server's close frame, skipping everything else.
    pub async fn closed(&mut self, deadline: Instant) -> Answer {
        loop {
            match self.next(deadline).await {
                Seen::Frame(f) if f.opcode == craft::CLOSE => return Answer::Closed(Close::of(&f)),
                Seen::Frame(_) => continue,
                Seen::Dropped => return Answer::Dropped,
                Seen::Timeout => return Answer::Timeout,
            }
        }
    }
}

impl Wire {
    pub async fn send(&mut self, bytes: &[u8]) -> bool {
        write(&mut self.wr, bytes).await
    }

    pub async fn pong(&mut self, token: &[u8], deadline: Instant) -> Answer {
        self.reader.pong(token, deadline).await
    }

    pub async fn closed(&mut self, deadline: Instant) -> Answer {
        self.reader.closed(deadline).await
    }

    /// Leave politely: a close 1000, then the socket is dropped without waiting; a server that
    /// takes no bytes gets a second, not a hold on the probe.
    pub async fn leave(mut self) {
        let bye = async {
            let _ = self.send(&Crafted::close(1000, "").encode()).await;
            let _ = self.wr.shutdown().await;
        };
        let _ = tokio::time::timeout(std::time::Duration::from_secs(1), bye).await;
    }
}

/// How the server answered.
pub enum Answer {
    Pong,
    Closed(Close),
    Dropped,
    Timeout,
}

/// A close frame's code and reason as sent.
pub struct Close {
    pub code: Option<u16>,
    pub reason: String,
}

impl Close {
    pub fn of(f: &Frame) -> Close {
        let info = f.close_info();
        Close {
            code: info.as_ref().and_then(|i| i.code),
            reason: info.map(|i| i.reason).unwrap_or_default(),
        }
    }
}

impl std::fmt::Display for Close {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.code {
            Some(c) => write!(f, "{c} ({})", close_code_name(c))?,
            None => write!(f, "an empty close frame")?,
        }
        if !self.reason.is_empty() {
            // The reason is the server's text: made harmless here, once, for every output.
            write!(f, " \"{}\"", escape(&self.reason))?;
        }
        Ok(())
    }
}

/// How long more pongs may follow one that did not echo the ping.
const LATE_PONGS: std::time::Duration = std::time::Duration::from_millis(300);

/// Whether a pong's payload answers the ping that carried `token`: the payload whole, or the
/// start of it (at least 4 bytes). Some servers cut a pong short (libwebsockets' test servers
/// answer a 26-byte ping with two shorter pongs); the pong still says the ping, and what was
/// sent before it, got through. Only the `ping` check judges the echo itself.
pub fn answers(payload: &[u8], token: &[u8]) -> bool {
    payload == token || (payload.len() >= 4 && token.starts_with(payload))
}

/// What came back instead of an echo, for the evidence: "2 pongs: the first 16 of 26 bytes,
/// the last 10 of 26 bytes".
pub fn describe_pongs(pongs: &[Vec<u8>], token: &[u8]) -> String {
    let each: Vec<String> = pongs
        .iter()
        .map(|p| {
            if token.starts_with(p) {
                format!("the first {} of {} bytes", p.len(), token.len())
            } else if token.ends_with(p) {
                format!("the last {} of {} bytes", p.len(), token.len())
            } else {
                format!("{} bytes not from the ping", p.len())
            }
        })
        .collect();
    format!(
        "{} pong{}: {}",
        pongs.len(),
        if pongs.len() == 1 { "" } else { "s" },
        each.join(", ")
    )
}

/// A short ping payload (8 bytes) for the pings that only ask "did what I sent before get
/// through": short enough that a server that cuts pongs short still echoes it whole.
pub fn short_token() -> Vec<u8> {
    let k = craft::random_key();
    format!("{:02x}{:02x}{:02x}{:02x}", k[0], k[1], k[2], k[3]).into_bytes()
}

/// A fresh ping payload, so a pong cannot be mistaken for another check's.
pub fn token(what: &str) -> Vec<u8> {
    let k = craft::random_key();
    format!(
        "wscope-probe-{what}-{:02x}{:02x}{:02x}{:02x}",
        k[0], k[1], k[2], k[3]
    )
    .into_bytes()
}
