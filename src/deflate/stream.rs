//! The inflating layer of the stream stack, under the guard and the library and above the tap:
//! socket -> tap (the dump sees the compressed wire) -> [`Inflate`] -> guard (UTF-8 and
//! `--max-message-size` judge the inflated bytes) -> tungstenite (which has no deflate).
//!
//! It follows the incoming frames. A message whose first frame has RSV1 set is inflated frame by
//! frame (the `00 00 ff ff` tail put back after its last) and handed up as plain frames: RSV1
//! cleared, the new length, masked with a zero key where the peer masked (tungstenite as a server
//! insists on masked frames, as a client refuses them). Inflation stops at the limit: the message
//! is dropped and the session told (close 1009), so a bomb costs at most the limit. RSV1 on a
//! control frame or a continuation, RSV2 or RSV3, or data that does not inflate fail the
//! connection (1002). Every other byte passes as it came. Writes pass untouched: what we send is
//! compressed by the session ([`super::Link::outgoing`]), where its wire size is known.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::codec::{InflateError, Inflater};
use super::{Link, Wire};
use crate::wire::guard::{TooBig, Unexpected, WireFacts};
use crate::wire::header::{Accumulator, Header, RSV1};

/// Bytes read from below in one go.
const CHUNK: usize = 16 * 1024;

/// What is being done with the current frame's payload.
#[derive(Debug, PartialEq, Eq)]
enum Payload {
    /// Handed up as it came.
    Pass,
    /// Inflated into `frame_out`, handed up when the frame ends.
    Inflate,
    /// Dropped (a message over the limit, or after one).
    Drop,
}

/// The data message in progress.
#[derive(Debug, Default)]
struct Message {
    compressed: bool,
    /// Payload bytes on the wire so far.
    wire: u64,
    /// Payload bytes handed up so far (inflated, for a compressed message).
    size: u64,
    dropped: bool,
}

pub struct Inflate<S> {
    inner: S,
    inflater: Inflater,
    limit: usize,
    wire: WireFacts,
    link: Link,
    /// Bytes that came behind the handshake: read before the socket.
    leftover: Vec<u8>,
    /// Bytes for the layer above, from `out_at` on.
    out: Vec<u8>,
    out_at: usize,
    header: Accumulator,
    remaining: u64,
    mask: Option<[u8; 4]>,
    mask_pos: usize,
    fin: bool,
    opcode: u8,
    payload: Payload,
    frame_out: Vec<u8>,
    message: Option<Message>,
    /// A message went over the limit: the window is lost, later compressed messages are dropped
    /// while the close handshake runs.
    broken: bool,
    /// After an error (raised once), or a length nobody will read: pass everything.
    gave_up: bool,
    /// The peer's close frame went by: what follows is no frame and is passed unparsed (the
    /// guard above drops it).
    closed: bool,
}

impl<S> Inflate<S> {
    /// `leftover`: bytes that came behind the 101, which are frames like the rest; the layers
    /// above get none (they are read through this one). `fresh`: the peer resets its context
    /// after every message (`*_no_context_takeover`).
    pub fn new(
        inner: S,
        leftover: Vec<u8>,
        fresh: bool,
        limit: usize,
        wire: WireFacts,
        link: Link,
    ) -> Self {
        Inflate {
            inner,
            inflater: Inflater::new(fresh),
            limit,
            wire,
            link,
            leftover,
            out: Vec::new(),
            out_at: 0,
            header: Accumulator::default(),
            remaining: 0,
            mask: None,
            mask_pos: 0,
            fin: false,
            opcode: 0,
            payload: Payload::Pass,
            frame_out: Vec::new(),
            message: None,
            broken: false,
            gave_up: false,
            closed: false,
        }
    }

    /// Follow `data`, appending to `out` what the layer above may see.
    fn process(&mut self, mut data: &[u8]) -> Result<(), Unexpected> {
        while !data.is_empty() {
            if self.gave_up || (self.closed && self.remaining == 0) {
                self.out.extend_from_slice(data);
                return Ok(());
            }
            if self.remaining == 0 {
                let (n, done) = self.header.push(data);
                data = &data[n..];
                if let Some(h) = done {
                    self.start_frame(&h)?;
                }
                continue;
            }
            let take = usize::try_from(self.remaining)
                .unwrap_or(usize::MAX)
                .min(data.len());
            let (chunk, rest) = data.split_at(take);
            data = rest;
            self.remaining -= take as u64;
            self.payload_bytes(chunk)?;
            if self.remaining == 0 {
                self.end_frame()?;
            }
        }
        Ok(())
    }

    fn start_frame(&mut self, h: &Header) -> Result<(), Unexpected> {
        self.fin = h.fin;
        self.opcode = h.opcode;
        self.mask = h.mask;
        self.mask_pos = 0;
        self.remaining = h.len;
        self.closed = h.opcode == 0x8;
        if h.rsv & !RSV1 != 0 {
            return Err(Unexpected::Deflate(
                "a frame with RSV2 or RSV3 set (only RSV1, for compression, was negotiated)".into(),
            ));
        }
        self.payload = self.judge_rsv1(h)?;
        // Reserved opcodes and stray continuations pass: tungstenite names those.
        if h.len > i64::MAX as u64 {
            // Nobody reads such a frame: the library refuses its length.
            self.gave_up = true;
            self.out.extend_from_slice(self.header.bytes());
            return Ok(());
        }
        if let Some(m) = self.message.as_mut().filter(|_| !h.is_control()) {
            m.wire = m.wire.saturating_add(h.len);
            if !m.compressed {
                m.size = m.size.saturating_add(h.len);
            }
        }
        if self.payload == Payload::Pass {
            self.out.extend_from_slice(self.header.bytes());
        }
        if h.len == 0 {
            self.end_frame()?;
        }
        Ok(())
    }

    /// What to do with the payload of the frame `h` begins, as RSV1 and the message say; Err for
    /// RSV1 where it may not be.
    fn judge_rsv1(&mut self, h: &Header) -> Result<Payload, Unexpected> {
        let fail = |what: &str| Err(Unexpected::Deflate(what.to_string()));
        let rsv1 = h.rsv1();
        if h.is_control() {
            if rsv1 {
                return fail("RSV1 on a control frame (control frames are never compressed)");
            }
            return Ok(Payload::Pass);
        }
        if h.opcode == 0x0 {
            if rsv1 {
                return fail(
                    "RSV1 on a continuation frame (only a message's first frame carries it)",
                );
            }
            return Ok(match &self.message {
                Some(m) if m.dropped => Payload::Drop,
                Some(m) if m.compressed => Payload::Inflate,
                _ => Payload::Pass,
            });
        }
        if !matches!(h.opcode, 0x1 | 0x2) {
            return Ok(Payload::Pass);
        }
        let dropped = rsv1 && self.broken;
        self.message = Some(Message {
            compressed: rsv1,
            dropped,
            ..Message::default()
        });
        Ok(match (rsv1, dropped) {
            (_, true) => Payload::Drop,
            (true, false) => Payload::Inflate,
            (false, false) => Payload::Pass,
        })
    }

    fn payload_bytes(&mut self, chunk: &[u8]) -> Result<(), Unexpected> {
        match self.payload {
            Payload::Pass => self.out.extend_from_slice(chunk),
            Payload::Drop => {}
            Payload::Inflate => {
                let mut buf = [0u8; 4096];
                for piece in chunk.chunks(buf.len()) {
                    let data = match self.mask {
                        Some(key) => crate::wire::frame::unmask_into(
                            piece,
                            key,
                            &mut self.mask_pos,
                            &mut buf,
                        ),
                        None => piece,
                    };
                    let cap = self.cap();
                    let res = self.inflater.feed(data, &mut self.frame_out, cap);
                    if !self.inflated(res)? {
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// What the current frame may still inflate to: the limit, less what the message has had.
    fn cap(&self) -> usize {
        let had = self.message.as_ref().map_or(0, |m| m.size);
        usize::try_from(had).map_or(0, |h| self.limit.saturating_sub(h))
    }

    /// Judge an inflation step: Ok(false) when the message went over the limit (and is dropped).
    fn inflated(&mut self, res: Result<(), InflateError>) -> Result<bool, Unexpected> {
        match res {
            Ok(()) => Ok(true),
            Err(InflateError::Corrupt(e)) => Err(Unexpected::Deflate(format!(
                "a compressed message does not inflate ({e})"
            ))),
            Err(InflateError::TooBig(_)) => {
                let size =
                    self.message.as_ref().map_or(0, |m| m.size) + self.frame_out.len() as u64;
                self.wire.set_too_big(TooBig {
                    size,
                    limit: self.limit as u64,
                });
                self.frame_out = Vec::new();
                self.payload = Payload::Drop;
                self.broken = true;
                if let Some(m) = self.message.as_mut() {
                    m.dropped = true;
                }
                Ok(false)
            }
        }
    }

    fn end_frame(&mut self) -> Result<(), Unexpected> {
        if self.payload == Payload::Inflate && self.fin {
            let cap = self.cap();
            let res = self.inflater.finish(&mut self.frame_out, cap);
            self.inflated(res)?;
        }
        if self.payload == Payload::Inflate {
            self.emit_inflated();
        }
        let data = self.opcode & 0x08 == 0 && self.opcode <= 0x2;
        if data && self.fin {
            if let Some(m) = self.message.take() {
                if !m.dropped && m.size <= self.limit as u64 {
                    self.link.received_message(Wire {
                        compressed: m.compressed,
                        size: m.wire,
                    });
                }
            }
        }
        self.payload = Payload::Pass;
        Ok(())
    }

    /// The inflated frame, as a plain one: RSV1 cleared, its new length, a zero mask if masked
    /// (a zero key: the payload reads the same masked or not).
    fn emit_inflated(&mut self) {
        let body = std::mem::take(&mut self.frame_out);
        let mask = self.mask.map(|_| [0u8; 4]);
        Header::new(self.fin, 0, self.opcode, mask, body.len() as u64).encode(&mut self.out);
        self.out.extend_from_slice(&body);
        if let Some(m) = self.message.as_mut() {
            m.size = m.size.saturating_add(body.len() as u64);
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Inflate<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.out_at < this.out.len() {
                let n = (this.out.len() - this.out_at).min(buf.remaining());
                buf.put_slice(&this.out[this.out_at..this.out_at + n]);
                this.out_at += n;
                if this.out_at == this.out.len() {
                    this.out.clear();
                    this.out_at = 0;
                    if this.out.capacity() > 4 * CHUNK {
                        this.out.shrink_to(CHUNK);
                    }
                }
                return Poll::Ready(Ok(()));
            }
            let res = if !this.leftover.is_empty() {
                let leftover = std::mem::take(&mut this.leftover);
                this.process(&leftover)
            } else {
                let mut scratch = [0u8; CHUNK];
                let want = buf.remaining().clamp(1, CHUNK);
                let mut rb = ReadBuf::new(&mut scratch[..want]);
                match Pin::new(&mut this.inner).poll_read(cx, &mut rb) {
                    Poll::Ready(Ok(())) => {}
                    other => return other,
                }
                if rb.filled().is_empty() {
                    return Poll::Ready(Ok(()));
                }
                let n = rb.filled().len();
                this.process(&scratch[..n])
            };
            if let Err(u) = res {
                // Raised once; after that the bytes pass as they are while the close runs.
                this.gave_up = true;
                return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, u)));
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Inflate<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deflate::{Agreed, Link};
    use crate::wire::role::Role;
    use tokio::io::AsyncReadExt;

    const HELLO: &[u8] = &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];

    fn agreed() -> Agreed {
        Agreed {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        }
    }

    fn frame(b0: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![b0, payload.len() as u8];
        f.extend_from_slice(payload);
        f
    }

    /// Read everything through the layer, `step` bytes at a time at most.
    async fn through(wire: &[u8], leftover: usize, step: usize, limit: usize) -> (Vec<u8>, Link) {
        let link = Link::new(agreed(), Role::Client);
        let (left, rest) = wire.split_at(leftover);
        let mut s = Inflate::new(
            rest,
            left.to_vec(),
            false,
            limit,
            WireFacts::default(),
            link.clone(),
        );
        let mut out = Vec::new();
        let mut buf = vec![0u8; step];
        loop {
            let n = s.read(&mut buf).await.unwrap();
            if n == 0 {
                return (out, link);
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    #[tokio::test]
    async fn any_split_hands_up_the_same_plain_frames() {
        let mut wire = frame(0xC1, HELLO);
        wire.extend(frame(0x41, &[0xf2, 0x00]));
        wire.extend(frame(0x89, b"p"));
        wire.extend(frame(0x80, &[0x11, 0x00, 0x00]));
        wire.extend(frame(0x82, b"raw"));
        let mut want = frame(0x81, b"Hello");
        // Each fragment hands up what its bytes inflate to: "H" already, then the rest.
        want.extend(frame(0x01, b"H"));
        want.extend(frame(0x89, b"p"));
        want.extend(frame(0x80, b"ello"));
        want.extend(frame(0x82, b"raw"));
        for leftover in [0, 1, 5, wire.len()] {
            for step in [1, 2, 3, 7, 4096] {
                let (out, link) = through(&wire, leftover, step, 1 << 20).await;
                assert_eq!(out, want, "leftover {leftover}, step {step}");
                let seen: Vec<Wire> = (0..3).map(|_| link.received(0)).collect();
                assert_eq!(
                    seen,
                    [
                        Wire {
                            compressed: true,
                            size: 7
                        },
                        Wire {
                            compressed: true,
                            size: 5
                        },
                        Wire {
                            compressed: false,
                            size: 3
                        },
                    ]
                );
            }
        }
    }

    #[tokio::test]
    async fn over_the_limit_the_message_is_dropped_and_the_stream_goes_on() {
        let mut wire = frame(0xC1, HELLO);
        wire.extend(frame(0x88, &[0x03, 0xe8]));
        let (out, _) = through(&wire, 0, 4096, 4).await;
        assert_eq!(out, frame(0x88, &[0x03, 0xe8]));
    }
}
