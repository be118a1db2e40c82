//! Wire tap for `--dump`: a transparent `AsyncRead + AsyncWrite` wrapper
//! placed between the (TLS-decrypted) stream and the WebSocket library, so
//! the dump shows exactly the bytes that crossed the socket rather than the
//! library's interpretation of them. Decoded frames go to a queue bounded in
//! bytes: while it is over its bound (a message in a million 1-byte fragments,
//! a printer that cannot keep up) the tap stops reading from the socket until
//! the session has shown what is queued. Recording never fails the I/O it
//! observes.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use tokio::sync::mpsc::error::TryRecvError;

use crate::wire::frame::Direction;
use crate::wire::frame::{Frame, FrameDecoder};

/// A decoded frame (or, with `--dump-h2`, an HTTP/2 frame header) with its direction and time
/// since `start`.
pub type TapEvent = (Direction, Duration, Tapped);

/// What the tap shows: a WebSocket frame, or the header of an HTTP/2 frame on the connection
/// carrying the WebSocket (`--dump-h2`; pushed by [`TapSink::h2_frame`] from beneath h2).
#[derive(Debug)]
pub enum Tapped {
    Ws(Frame),
    H2(crate::http2::FrameHeader),
}

/// What the queue holds of a [`Tapped`]: the WebSocket frame boxed.
#[derive(Debug)]
enum Item {
    Ws(Box<Frame>),
    H2(crate::http2::FrameHeader),
}

impl Item {
    fn open(self) -> Tapped {
        match self {
            Item::Ws(f) => Tapped::Ws(*f),
            Item::H2(h) => Tapped::H2(h),
        }
    }
}

/// Bytes of decoded frames the queue holds before the tap stops reading.
const QUEUE_BYTES: usize = 4 << 20;

/// What the queue holds: a frame boxed, so that the queue's first block (32 slots, allocated with
/// the queue) is small. Every connection of `wscope listen` has a tap, dumping or not.
type Queued = (Direction, Duration, Item);

/// The session's end of the tap's queue.
pub struct TapReceiver(crate::bounded::Rx<Queued>);

impl TapReceiver {
    pub async fn recv(&mut self) -> Option<TapEvent> {
        self.0.recv().await.map(|(d, t, f)| (d, t, f.open()))
    }

    pub fn try_recv(&mut self) -> Result<TapEvent, TryRecvError> {
        self.0.try_recv().map(|(d, t, f)| (d, t, f.open()))
    }
}

/// Shared recording end of the tap: one decoder per direction, so the tap
/// can be cloned into the handshake code (for leftover bytes) and the
/// stream wrapper while both directions stay in sync.
#[derive(Clone)]
pub struct TapSink {
    // One lock per direction: a reader task and a writer task never contend.
    outgoing: Arc<Mutex<FrameDecoder>>,
    incoming: Arc<Mutex<FrameDecoder>>,
    tx: crate::bounded::Tx<Queued>,
    start: Instant,
    enabled: Arc<AtomicBool>,
}

impl TapSink {
    /// `limit` is the per-frame payload budget (`--dump-limit`); `enabled`
    /// is shared with `/dump on|off`.
    pub fn new(limit: usize, start: Instant, enabled: Arc<AtomicBool>) -> (TapSink, TapReceiver) {
        let (tx, rx) = crate::bounded::channel(QUEUE_BYTES);
        let sink = TapSink {
            outgoing: Arc::new(Mutex::new(FrameDecoder::new(limit))),
            incoming: Arc::new(Mutex::new(FrameDecoder::new(limit))),
            tx,
            start,
            enabled,
        };
        (sink, TapReceiver(rx))
    }

    /// Stop decoding each direction at its close frame ([`FrameDecoder::until_close`]): what a
    /// connection's tap does, so bytes a peer writes after its close are never shown as frames.
    pub fn until_close(&self) {
        for dir in [Direction::Incoming, Direction::Outgoing] {
            let mut d = self
                .decoder(dir)
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let taken = std::mem::replace(&mut *d, FrameDecoder::new(0));
            *d = taken.until_close();
        }
    }

    /// The queue is over its bound: a read should wait (`cx` is woken when it drains).
    fn must_wait(&self, cx: &Context<'_>) -> bool {
        self.tx.must_wait(cx)
    }

    fn decoder(&self, dir: Direction) -> &Mutex<FrameDecoder> {
        match dir {
            Direction::Outgoing => &self.outgoing,
            Direction::Incoming => &self.incoming,
        }
    }

    /// Feeds bytes that crossed the socket in `dir`. While disabled the
    /// decoder still follows frame boundaries (keeping nothing), so
    /// re-enabling resumes on a frame boundary instead of misreading payload
    /// bytes as headers.
    pub fn record(&self, dir: Direction, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        // The decoder never panics, but a poisoned lock must not take
        // the connection down with it.
        let mut decoder = self
            .decoder(dir)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !self.enabled.load(Ordering::Relaxed) {
            // Nobody will see these frames: follow their boundaries, keep nothing.
            decoder.skip(bytes);
            return;
        }
        let mut frames = Vec::new();
        decoder.feed(bytes, &mut frames);
        drop(decoder);
        self.send(dir, frames);
    }

    /// permessage-deflate was negotiated: show what `dir`'s compressed frames inflate to.
    pub fn inflate(&self, dir: Direction, mirror: crate::deflate::mirror::Mirror) {
        self.decoder(dir)
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .inflate(mirror);
    }

    /// Emits the frame cut off in `dir` by the end of the stream, if any.
    /// `Tap` calls this itself on read EOF and on shutdown.
    pub fn finish(&self, dir: Direction) {
        let partial = self
            .decoder(dir)
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .finish();
        self.send(dir, partial.into_iter().collect());
    }

    fn send(&self, dir: Direction, frames: Vec<Frame>) {
        if frames.is_empty() || !self.enabled.load(Ordering::Relaxed) {
            return;
        }
        let elapsed = self.start.elapsed();
        for frame in frames {
            let cost = frame.cost();
            // A dropped receiver just means nobody is printing any more.
            self.tx
                .send((dir, elapsed, Item::Ws(Box::new(frame))), cost);
        }
    }

    /// An HTTP/2 frame header that crossed the connection in `dir` at `at` (`--dump-h2`); one
    /// seen before the tap existed (the handshake's) is shown at time 0.
    pub fn h2_frame(&self, dir: Direction, at: Instant, header: crate::http2::FrameHeader) {
        if self.enabled.load(Ordering::Relaxed) {
            let elapsed = at.saturating_duration_since(self.start);
            self.tx.send((dir, elapsed, Item::H2(header)), 16);
        }
    }

    /// The queue is over its bound: whoever feeds it should wait (`cx` is woken when it drains).
    pub fn paused(&self, cx: &Context<'_>) -> bool {
        self.tx.must_wait(cx)
    }
}

/// Stream wrapper that reports every byte read or written to a [`TapSink`].
pub struct Tap<S> {
    inner: S,
    sink: TapSink,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Tap<S> {
    pub fn new(inner: S, sink: TapSink) -> Self {
        Tap { inner, sink }
    }
}

/// A frame still in progress when the connection is dropped (the library gave up after a
/// protocol error, say a 2^63 length it refused) is exactly what the user needs to see: emit it
/// as truncated rather than losing it with the decoder.
impl<S> Drop for Tap<S> {
    fn drop(&mut self) {
        self.sink.finish(Direction::Incoming);
        self.sink.finish(Direction::Outgoing);
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tap<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let had_room = buf.remaining() > 0;
        let this = &mut *self;
        if this.sink.must_wait(cx) {
            return Poll::Pending;
        }
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = poll {
            match buf.filled().get(before..) {
                Some([]) if had_room => this.sink.finish(Direction::Incoming),
                Some(new) => this.sink.record(Direction::Incoming, new),
                None => {}
            }
        }
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tap<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_write(cx, buf);
        // Only the accepted prefix went out; the rest will be offered again.
        if let Poll::Ready(Ok(n)) = poll {
            if let Some(written) = buf.get(..n) {
                this.sink.record(Direction::Outgoing, written);
            }
        }
        poll
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_shutdown(cx);
        if let Poll::Ready(Ok(())) = poll {
            this.sink.finish(Direction::Outgoing);
        }
        poll
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{duplex, AsyncReadExt, AsyncWriteExt};

    const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
    /// Masked "hello" text frame, as a client sends it.
    const HELLO: [u8; 11] = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x5f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    /// Unmasked close 1000 "bye", as a server sends it.
    const CLOSE: [u8; 7] = [0x88, 0x05, 0x03, 0xe8, b'b', b'y', b'e'];

    fn sink(limit: usize, on: bool) -> (TapSink, TapReceiver, Arc<AtomicBool>) {
        let enabled = Arc::new(AtomicBool::new(on));
        let (sink, rx) = TapSink::new(limit, Instant::now(), enabled.clone());
        (sink, rx, enabled)
    }

    fn drain(rx: &mut TapReceiver) -> Vec<(Direction, Frame)> {
        let mut v = Vec::new();
        while let Ok((dir, _, tapped)) = rx.try_recv() {
            if let Tapped::Ws(frame) = tapped {
                v.push((dir, frame));
            }
        }
        v
    }

    #[tokio::test]
    async fn both_directions_through_a_duplex() {
        let (sink, mut rx, _) = sink(256, true);
        let (ours, mut peer) = duplex(64);
        let mut tap = Tap::new(ours, sink);

        for piece in HELLO.chunks(4) {
            tap.write_all(piece).await.unwrap();
        }
        tap.flush().await.unwrap();
        let mut got = [0u8; HELLO.len()];
        peer.read_exact(&mut got).await.unwrap();
        assert_eq!(got, HELLO);

        // Two frames in one write, then read back in small pieces.
        let mut both = CLOSE.to_vec();
        both.extend_from_slice(&[0x8a, 0x00]);
        peer.write_all(&both).await.unwrap();
        let mut back = [0u8; 9];
        for chunk in back.chunks_mut(2) {
            tap.read_exact(chunk).await.unwrap();
        }
        assert_eq!(back.as_slice(), both);

        let events = drain(&mut rx);
        assert_eq!(events.len(), 3);
        let (dir, hello) = &events[0];
        assert_eq!(
            (*dir, hello.payload.as_slice(), hello.mask),
            (Direction::Outgoing, &b"hello"[..], Some(KEY))
        );
        let (dir, close) = &events[1];
        assert_eq!(*dir, Direction::Incoming);
        assert_eq!(close.close_info().and_then(|c| c.code), Some(1000));
        assert_eq!(events[2].1.opcode_name(), "pong");
    }

    /// Accepts at most three bytes per write, like a congested socket.
    struct Trickle(Vec<u8>);

    impl AsyncWrite for Trickle {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            let n = buf.len().min(3);
            self.0.extend_from_slice(&buf[..n]);
            Poll::Ready(Ok(n))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    impl AsyncRead for Trickle {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn partial_writes_record_only_accepted_bytes() {
        let (sink, mut rx, _) = sink(256, true);
        let mut tap = Tap::new(Trickle(Vec::new()), sink);
        let mut bytes = HELLO.to_vec();
        bytes.extend_from_slice(&HELLO);
        tap.write_all(&bytes).await.unwrap();
        // Ask for 4 bytes but let the inner writer take fewer.
        let n = tap.write(&[0x89, 0x80, 1, 2]).await.unwrap();
        assert_eq!(n, 3);
        assert_eq!(tap.inner.0.len(), 25);
        let events = drain(&mut rx);
        assert_eq!(events.len(), 2);
        assert!(events.iter().all(|(_, f)| f.payload == b"hello"));
        // Shutdown flushes the ping whose mask key never fully went out.
        tap.shutdown().await.unwrap();
        let events = drain(&mut rx);
        assert_eq!(events.len(), 1);
        assert!(!events[0].1.complete && events[0].1.opcode_name() == "ping");
    }

    #[tokio::test]
    async fn disabled_tap_keeps_framing_in_sync() {
        let (sink, mut rx, enabled) = sink(256, false);
        // Leftover bytes from the handshake: a frame and the first byte of another's header.
        sink.record(Direction::Incoming, &CLOSE);
        sink.record(Direction::Incoming, &CLOSE[..1]);
        let (ours, mut peer) = duplex(64);
        let mut tap = Tap::new(ours, sink);
        assert!(drain(&mut rx).is_empty());
        enabled.store(true, Ordering::Relaxed);
        peer.write_all(&CLOSE[1..]).await.unwrap();
        peer.write_all(&[0x82, 0x01, 0xff]).await.unwrap();
        let mut buf = [0u8; CLOSE.len() - 1 + 3];
        tap.read_exact(&mut buf).await.unwrap();
        // The header finished after the switch: that frame is shown whole.
        let events = drain(&mut rx);
        assert_eq!(events.len(), 2);
        assert_eq!(
            events[0].1.close_info().map(|c| c.reason),
            Some("bye".to_string())
        );
        assert_eq!(events[1].1.payload, [0xff]);
    }

    #[tokio::test]
    async fn a_frame_whose_payload_was_flowing_at_the_switch_is_not_shown_but_the_next_is() {
        let (sink, mut rx, enabled) = sink(256, false);
        sink.record(Direction::Incoming, &CLOSE[..3]);
        let (ours, mut peer) = duplex(64);
        let mut tap = Tap::new(ours, sink);
        enabled.store(true, Ordering::Relaxed);
        peer.write_all(&CLOSE[3..]).await.unwrap();
        peer.write_all(&[0x82, 0x01, 0xff]).await.unwrap();
        let mut buf = [0u8; CLOSE.len() - 3 + 3];
        tap.read_exact(&mut buf).await.unwrap();
        let events = drain(&mut rx);
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].1.payload, [0xff]);
    }

    #[tokio::test]
    async fn eof_mid_frame_emits_incomplete_frame() {
        let (sink, mut rx, _) = sink(2, true);
        let (ours, mut peer) = duplex(64);
        let mut tap = Tap::new(ours, sink);
        peer.write_all(&[0x82, 0x7e, 0x01, 0x00, 1, 2, 3, 4])
            .await
            .unwrap();
        drop(peer);
        let mut all = Vec::new();
        tap.read_to_end(&mut all).await.unwrap();
        let events = drain(&mut rx);
        assert_eq!(events.len(), 1);
        let f = &events[0].1;
        assert!(!f.complete);
        assert_eq!(
            (f.payload_len, f.payload.as_slice(), f.elided),
            (256, &[1u8, 2][..], 2)
        );
    }
}
