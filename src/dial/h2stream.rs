//! One HTTP/2 stream (an RFC 8441 extended CONNECT) as a byte stream: the `h2` crate's
//! `SendStream`/`RecvStream` pair behind `AsyncRead + AsyncWrite`, so the WebSocket stack (tap,
//! guard, deflate, tungstenite) runs on it exactly as on TCP or TLS.
//!
//! Flow control is the point: receive capacity is released only as the reader takes bytes out
//! (a slow reader holds the window shut: backpressure, not buffering; at most one DATA frame is
//! held here), and a write waits for send capacity before it hands bytes to h2.
//! Shutting down, or a close frame having passed each way, ends our side (END_STREAM); we never
//! wait for the server's (Hypercorn never sends it after the close exchange).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes};
use h2::{RecvStream, SendStream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub struct H2Stream {
    send: SendStream<Bytes>,
    recv: RecvStream,
    /// The rest of the last DATA frame, not yet read (its capacity not yet released).
    pending: Bytes,
    ended: bool,
    /// WebSocket frame boundaries each way, to see the close exchange (see [`Frames`]).
    out: Frames,
    inc: Frames,
    /// Says why the connection failed when the frames beneath h2 showed it (a GOAWAY's code).
    why: Option<Why>,
    /// Since when a write has waited for send capacity (a window the peer keeps shut).
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

/// How long a write waits for the peer to open its flow-control window before it fails: a peer
/// that grants no room for this long is not reading (every wait has a deadline).
pub const WINDOW_STALL: std::time::Duration = std::time::Duration::from_secs(10);

/// What [`H2Stream::explained_by`] asks when the stream fails.
pub type Why = Box<dyn Fn() -> Option<String> + Send + Sync>;

/// Follows WebSocket frame headers in one direction of the stream (lengths only, payloads are
/// skipped) and notes when a close frame has passed whole. Once a close has gone each way the
/// WebSocket is over: the stream then reads as ended, as a TCP peer closing would, since a
/// server need not end an RFC 8441 stream (Hypercorn never does).
#[derive(Default)]
struct Frames {
    head: Vec<u8>,
    left: u64,
    in_close: bool,
    closed: bool,
}

impl Frames {
    fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() && !self.closed {
            if self.left > 0 {
                let n = (self.left.min(data.len() as u64)) as usize;
                self.left -= n as u64;
                data = &data[n..];
            } else {
                self.head.push(data[0]);
                data = &data[1..];
                if let Some((len, opcode)) = parse_head(&self.head) {
                    self.head.clear();
                    self.left = len;
                    self.in_close = opcode == 8;
                }
            }
            if self.in_close && self.left == 0 && self.head.is_empty() {
                self.closed = true;
            }
        }
    }
}

/// A whole frame header: (payload length, opcode); None while more header bytes are needed.
fn parse_head(h: &[u8]) -> Option<(u64, u8)> {
    let (b0, b1) = (*h.first()?, *h.get(1)?);
    let mask = if b1 & 0x80 != 0 { 4 } else { 0 };
    let (ext, len) = match b1 & 0x7f {
        126 => (2, u64::from(u16::from_be_bytes([*h.get(2)?, *h.get(3)?]))),
        127 => {
            let b: [u8; 8] = h.get(2..10)?.try_into().ok()?;
            (8, u64::from_be_bytes(b))
        }
        n => (0, u64::from(n)),
    };
    (h.len() == 2 + ext + mask).then_some((len, b0 & 0x0f))
}

impl H2Stream {
    pub fn new(send: SendStream<Bytes>, recv: RecvStream) -> H2Stream {
        H2Stream {
            send,
            recv,
            pending: Bytes::new(),
            ended: false,
            out: Frames::default(),
            inc: Frames::default(),
            why: None,
            stalled: None,
        }
    }

    /// When the stream fails, `why` may say why in words (the server's GOAWAY, seen beneath h2),
    /// and that is the error's text.
    pub fn explained_by(mut self, why: Why) -> H2Stream {
        self.why = Some(why);
        self
    }

    fn error(&self, e: h2::Error) -> io::Error {
        let said = self.why.as_ref().and_then(|w| w());
        let e = h2_error(e);
        match said {
            Some(words) => io::Error::new(io::ErrorKind::ConnectionReset, format!("{words}: {e}")),
            None => e,
        }
    }
}

impl H2Stream {
    /// Wait until the peer ends its side (END_STREAM) or the stream fails, discarding (and
    /// releasing the window of) whatever it still sends. The caller bounds the wait.
    pub async fn peer_ended(&mut self) {
        std::future::poll_fn(|cx| loop {
            match ready!(self.recv.poll_data(cx)) {
                Some(Ok(data)) => {
                    let _ = self.recv.flow_control().release_capacity(data.len());
                }
                _ => return Poll::Ready(()),
            }
        })
        .await
    }
}

fn h2_error(e: h2::Error) -> io::Error {
    if e.is_io() {
        if let Some(io) = e.into_io() {
            return io;
        }
        return io::Error::other("HTTP/2 connection failed");
    }
    let what = match e.reason().map(|r| crate::http2::error_name(r.into())) {
        Some(r) if e.is_remote() && e.is_go_away() => format!("the peer sent GOAWAY ({r})"),
        Some(r) if e.is_remote() => format!("the peer reset the HTTP/2 stream ({r})"),
        _ => format!("HTTP/2: {e}"),
    };
    io::Error::new(io::ErrorKind::ConnectionReset, what)
}

impl AsyncRead for H2Stream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.pending.is_empty() && this.out.closed && this.inc.closed {
            // The close exchange is done: end our side, do not wait for the peer's END_STREAM.
            if !this.ended {
                this.ended = true;
                let _ = this.send.send_data(Bytes::new(), true);
            }
            return Poll::Ready(Ok(()));
        }
        while this.pending.is_empty() {
            match ready!(this.recv.poll_data(cx)) {
                Some(Ok(data)) => this.pending = data,
                Some(Err(e)) => return Poll::Ready(Err(this.error(e))),
                None => return Poll::Ready(Ok(())),
            }
        }
        let n = this.pending.len().min(buf.remaining());
        buf.put_slice(&this.pending[..n]);
        this.inc.feed(&this.pending[..n]);
        this.pending.advance(n);
        // Only what the reader took opens the window again.
        let _ = this.recv.flow_control().release_capacity(n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for H2Stream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let this = &mut *self;
        if this.ended {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        loop {
            let have = this.send.capacity();
            if have > 0 {
                this.stalled = None;
                let n = have.min(buf.len());
                this.out.feed(&buf[..n]);
                if let Err(e) = this
                    .send
                    .send_data(Bytes::copy_from_slice(&buf[..n]), false)
                {
                    return Poll::Ready(Err(this.error(e)));
                }
                return Poll::Ready(Ok(n));
            }
            this.send.reserve_capacity(buf.len());
            let capacity = this.send.poll_capacity(cx);
            if capacity.is_pending() {
                let stall = this
                    .stalled
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(WINDOW_STALL)));
                ready!(stall.as_mut().poll(cx));
                let what = format!(
                    "the peer kept the HTTP/2 flow-control window shut for {} s (no WINDOW_UPDATE): it is not reading",
                    WINDOW_STALL.as_secs()
                );
                return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, what)));
            }
            match ready!(capacity) {
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Poll::Ready(Err(this.error(e))),
                None => return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // The connection task writes what send_data queued (within the granted capacity).
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.ended {
            self.ended = true;
            let _ = self.send.send_data(Bytes::new(), true);
        }
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::Frames;

    #[test]
    fn a_close_is_seen_only_once_whole_and_after_other_frames() {
        let mut f = Frames::default();
        // A 300-byte masked text frame (16-bit length) whose payload holds a close's opcode byte.
        let mut text = vec![0x81, 0xfe, 0x01, 0x2c, 1, 2, 3, 4];
        text.extend(std::iter::repeat_n(0x88u8, 300));
        f.feed(&text);
        assert!(!f.closed);
        // A masked close with code 1000, in pieces.
        let close = [0x88, 0x82, 9, 9, 9, 9, 0x03, 0xe8];
        f.feed(&close[..3]);
        f.feed(&close[3..7]);
        assert!(!f.closed, "the close is not whole yet");
        f.feed(&close[7..]);
        assert!(f.closed);
        // An unmasked empty close (the server's form).
        let mut g = Frames::default();
        g.feed(&[0x88, 0x00]);
        assert!(g.closed);
    }
}
