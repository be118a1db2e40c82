//! Watches the incoming frames below the WebSocket library for what it would hide or see too late.
//! It follows the frame headers and (1) validates text payload bytes as they pass, turning the first
//! invalid byte into a read error the session maps to close code 1007 — tungstenite checks a text
//! frame only once the whole frame is in, so a frame sent in slow pieces was caught late (Autobahn
//! 6.4.3/6.4.4: NON-STRICT); (2) keeps the status code of the server's close frame as it was on the
//! wire, because tungstenite rewrites a code that may not be sent (1005, say) to 1002 before we see
//! it; (3) fails a frame with reserved bits set as the protocol error it is (1002), before its
//! payload can be judged as text, and recognises an HTTP response sent after the 101 (its first
//! byte reads as RSV1 + a close opcode) so the user is told what it was. (4) drops a data message over
//! `--max-message-size` before the library sees it, and (5) stops reading a peer's pings while
//! their pongs cannot be written. Apart from those dropped frames it never changes a byte, and it
//! keeps no payload: a few bytes of state per connection.

mod facts;
#[cfg(test)]
mod tests;
mod utf8;
mod verdict;
mod watch;

pub use facts::{TooBig, WireFacts};
pub use verdict::{invalid_utf8, unexpected, InvalidUtf8, Unexpected};
pub use watch::{Fed, Watch};

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub struct Guard<S> {
    inner: S,
    watch: Watch,
    /// What was wrong in the leftover bytes, raised at the first read.
    failed: Option<io::Error>,
    wire: WireFacts,
    /// Bytes for the library that did not fit the caller's buffer.
    pending: Vec<u8>,
    /// The last write to the peer did not go through: it is not reading.
    write_blocked: bool,
    /// `watch.owed` when a write last went through: what is owed since is stuck with us.
    owed_at_write: u64,
    /// A read that waits for the peer to take our replies first.
    reader: Option<std::task::Waker>,
    /// How much of the leftover the library may read: up to the end of a close frame in it.
    leftover_len: usize,
}

/// Bytes of replies to pings (the library answers each) that may wait for a peer that does not
/// read before we stop reading its pings: a ping flood meets backpressure, not our memory.
const MAX_OWED_REPLIES: u64 = 256 * 1024;

impl<S> Guard<S> {
    /// `leftover`: bytes that arrived behind the handshake, which the WebSocket library reads
    /// first. `limit`: `--max-message-size`; a larger message is dropped here, before the
    /// library, and reported through [`WireFacts::too_big`].
    pub fn new(inner: S, leftover: &[u8], wire: WireFacts, limit: usize) -> Self {
        let mut watch = Watch::with_limit(limit).until_close();
        wire.set_invalid_utf8(None);
        let failed = if watch.feed(leftover) {
            None
        } else {
            Some(watch.raise(&wire))
        };
        // The library reads the leftover itself, with its own limits: ours apply from here on,
        // and a header it has begun is not handed to it again.
        let _ = watch.take_too_big();
        watch.hand_over_partial_header();
        wire.set_close_code(watch.close_code());
        wire.set_close_seen(watch.close_seen());
        let after_close = usize::try_from(watch.after_close()).unwrap_or(usize::MAX);
        Guard {
            leftover_len: leftover.len().saturating_sub(after_close),
            inner,
            watch,
            failed,
            wire,
            pending: Vec::new(),
            write_blocked: false,
            owed_at_write: 0,
            reader: None,
        }
    }
}

impl<S> Guard<S> {
    /// How many of the leftover bytes given to [`Guard::new`] the library may read itself: all of
    /// them, or those up to the end of the peer's close frame (what follows it is no frame).
    pub fn leftover_len(&self) -> usize {
        self.leftover_len
    }
}

impl<S: AsyncRead + Unpin> Guard<S> {
    /// Follow the bytes just read into `buf` after `before`, in place: what the library may see
    /// stays where it was read, so a stream of whole frames is followed in one pass with no copy.
    /// Only where the watch hands up something else (a header held from an earlier read, a
    /// dropped frame) are the bytes from there on rebuilt, in `tail`, and put back after.
    /// Err: invalid UTF-8, raised at once.
    fn follow(&mut self, before: usize, buf: &mut ReadBuf<'_>) -> io::Result<()> {
        let pending_before = self.pending.len();
        let mut tail = Vec::new();
        let mut kept = 0;
        let verdict = {
            let data = &buf.filled()[before..];
            let mut diverged = false;
            let mut emit = |bytes: &[u8]| {
                if !diverged {
                    // Still the bytes as read: nothing moves while what is handed up is them.
                    let at = data.get(kept..kept + bytes.len());
                    let same = at.is_some_and(|at| {
                        std::ptr::eq(at.as_ptr(), bytes.as_ptr())
                            || (bytes.len() <= 16 && at == bytes)
                    });
                    if same {
                        kept += bytes.len();
                        return;
                    }
                    diverged = true;
                }
                tail.extend_from_slice(bytes);
            };
            self.feed_all(data, &mut emit)
        };
        buf.set_filled(before + kept);
        let fit = tail.len().min(buf.remaining());
        buf.put_slice(&tail[..fit]);
        self.pending.extend_from_slice(&tail[fit..]);
        match verdict {
            Ok(()) => {}
            Err(e) => {
                let earlier = buf.filled().len() > before || self.pending.len() > pending_before;
                if self.watch.unexpected().is_some() && earlier {
                    // A frame that may not be is refused at its header, which is not handed
                    // up; the whole frames before it are the library's, so a message that
                    // came first is still answered (Autobahn 3.4). Fail at the next read.
                    self.failed = Some(e);
                } else {
                    // Invalid text: handing its bytes up would let tungstenite act on them.
                    buf.set_filled(before);
                    self.pending.truncate(pending_before);
                    return Err(e);
                }
            }
        }
        self.wire.set_close_code(self.watch.close_code());
        self.wire.set_close_seen(self.watch.close_seen());
        Ok(())
    }

    /// Feed the watch all of `data`, past any dropped message. Err: what it found invalid.
    fn feed_all(&mut self, data: &[u8], emit: &mut dyn FnMut(&[u8])) -> io::Result<()> {
        let mut data = data;
        loop {
            match self.watch.feed_with(data, emit) {
                Fed::All => return Ok(()),
                Fed::TooBig(n) => {
                    if let Some((size, limit)) = self.watch.take_too_big() {
                        self.wire.set_too_big(TooBig { size, limit });
                    }
                    data = &data[n..];
                }
                Fed::Invalid => {
                    self.watch.gave_up = true;
                    return Err(self.watch.raise(&self.wire));
                }
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Guard<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.write_blocked && this.watch.owed - this.owed_at_write > MAX_OWED_REPLIES {
            // Woken when a write goes through again (see `wrote`).
            this.reader = Some(cx.waker().clone());
            return Poll::Pending;
        }
        if !this.pending.is_empty() {
            let n = this.pending.len().min(buf.remaining());
            buf.put_slice(&this.pending[..n]);
            this.pending.drain(..n);
            return Poll::Ready(Ok(()));
        }
        if let Some(e) = this.failed.take() {
            // Raised once; after that the bytes pass unwatched while the close handshake runs.
            this.watch.gave_up = true;
            return Poll::Ready(Err(e));
        }
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        loop {
            // Read straight into the library's buffer and follow the bytes there.
            let before = buf.filled().len();
            match Pin::new(&mut this.inner).poll_read(cx, buf) {
                Poll::Ready(Ok(())) => {}
                other => return other,
            }
            if buf.filled().len() == before {
                // The end of the stream.
                return Poll::Ready(Ok(()));
            }
            this.follow(before, buf)?;
            if buf.filled().len() > before || !this.pending.is_empty() {
                return Poll::Ready(Ok(()));
            }
            // Everything read was held back (a header still incomplete, a dropped frame): an
            // empty read would mean the end of the stream, so read on.
        }
    }
}

impl<S> Guard<S> {
    /// Follow how writes fare: a blocked write means the peer is not reading.
    fn wrote<T>(&mut self, res: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if res.is_pending() {
            self.write_blocked = true;
        } else {
            self.write_blocked = false;
            self.owed_at_write = self.watch.owed;
            if let Some(w) = self.reader.take() {
                w.wake();
            }
        }
        res
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Guard<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let res = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.wrote(res)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let res = Pin::new(&mut this.inner).poll_flush(cx);
        this.wrote(res)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
