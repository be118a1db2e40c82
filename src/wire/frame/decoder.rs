//! The streaming decoder behind `--dump`: socket bytes in any pieces, [`Frame`]s out. Headers are
//! read by the one header reader ([`crate::wire::header`]); payloads are kept up to a limit, the
//! rest counted, so memory stays bounded whatever length the peer declares.

use super::{unmask_into, Frame};
use crate::wire::header::{Accumulator, Header};

/// The payload of a frame the dump does not keep (it is off), followed for its length and, for a
/// compressed message, fed to the dump's inflater so its window stays whole.
#[derive(Debug, Default)]
struct Skipping {
    left: u64,
    mask: Option<[u8; 4]>,
    /// Payload bytes passed so far (the mask's position).
    at: u64,
    fin: bool,
    shown: Option<crate::deflate::mirror::Inflated>,
}

/// Streaming decoder: feed it socket bytes in any chunking, get frames out.
#[derive(Debug)]
pub struct FrameDecoder {
    limit: usize,
    /// Header bytes of the frame being started.
    header: Accumulator,
    /// Frame whose header is complete and whose payload is still arriving.
    current: Option<Frame>,
    /// The frame followed by [`FrameDecoder::skip`], whose payload is still arriving.
    skipping: Skipping,
    /// permessage-deflate was negotiated: compressed frames are shown inflated too.
    mirror: Option<crate::deflate::mirror::Mirror>,
    /// Stop at a close frame (see [`FrameDecoder::until_close`]).
    until_close: bool,
    /// A close frame's header was read: after its payload, nothing more is parsed.
    closed: bool,
}

impl FrameDecoder {
    /// `limit` is the number of payload bytes kept per frame.
    pub fn new(limit: usize) -> Self {
        FrameDecoder {
            limit,
            header: Accumulator::default(),
            current: None,
            skipping: Skipping::default(),
            mirror: None,
            until_close: false,
            closed: false,
        }
    }

    /// From now on, show what the frames of compressed messages inflate to.
    pub fn inflate(&mut self, mirror: crate::deflate::mirror::Mirror) {
        self.mirror = Some(mirror);
    }

    /// Parse nothing after a close frame: nothing that follows it is a frame of this connection
    /// (RFC 6455 §5.5.1), so it is neither shown nor inflated (an HTTP server may write a response
    /// there). The tap's decoders do; a decoder of arbitrary bytes (tests, fuzzing) does not.
    pub fn until_close(mut self) -> Self {
        self.until_close = true;
        self
    }

    /// A header is complete: what follows is its payload (and after a close, nothing).
    fn started(&mut self, h: &Header) -> Option<crate::deflate::mirror::Inflated> {
        self.closed |= self.until_close && h.opcode == 0x8;
        self.mirror
            .as_mut()
            .and_then(|m| m.start(h.opcode, h.rsv1()))
    }

    /// Follows frame boundaries through `bytes` without keeping anything: what a tap does while
    /// its dump is off, with no allocation per frame. A frame in progress is dropped, and so is one
    /// whose header is complete here when [`FrameDecoder::feed`] takes over (a header cut off here
    /// is finished there, and its frame shown). The payloads of compressed messages still go
    /// through the dump's inflater, so the window of a later message is whole when the dump is on.
    pub fn skip(&mut self, bytes: &[u8]) {
        if let Some(frame) = self.current.take() {
            self.skipping = Skipping {
                left: frame.payload_len - frame.received_payload(),
                mask: frame.mask,
                at: frame.received_payload(),
                fin: frame.fin,
                shown: frame.inflated,
            };
        }
        let mut rest = bytes;
        while !rest.is_empty() {
            rest = self.pass_skipped(rest);
            if rest.is_empty() || self.closed {
                break;
            }
            let (n, done) = self.header.push(rest);
            rest = &rest[n..];
            if let Some(h) = done {
                let shown = self.started(&h);
                self.skipping = Skipping {
                    left: h.len,
                    mask: h.mask,
                    at: 0,
                    fin: h.fin,
                    shown,
                };
                self.pass_skipped(&[]);
            }
        }
    }

    /// Passes over what is left of a skipped frame's payload (inflating it for the dump when it
    /// is compressed); returns the rest.
    fn pass_skipped<'a>(&mut self, bytes: &'a [u8]) -> &'a [u8] {
        let sk = &mut self.skipping;
        let n = usize::try_from(sk.left).map_or(bytes.len(), |s| s.min(bytes.len()));
        let (chunk, rest) = bytes.split_at(n);
        if let (Some(m), Some(shown)) = (self.mirror.as_mut(), sk.shown.as_mut()) {
            feed_mirror(m, shown, chunk, sk.mask, sk.at);
            if sk.left == n as u64 {
                m.end(shown, sk.fin);
                sk.shown = None;
            }
        }
        sk.left -= n as u64;
        sk.at += n as u64;
        rest
    }

    /// Decodes `bytes`, appending every frame they complete to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<Frame>) {
        let mut rest = self.pass_skipped(bytes);
        while !rest.is_empty() {
            if self.current.is_some() {
                rest = self.take_payload(rest, out);
                continue;
            }
            if self.closed {
                break;
            }
            let (n, done) = self.header.push(rest);
            rest = &rest[n..];
            let Some(h) = done else {
                continue;
            };
            let mut frame = Frame::from_header(&h, self.header.bytes());
            frame.inflated = self.started(&h);
            if frame.payload_len == 0 {
                frame.complete = true;
                if let (Some(m), Some(shown)) = (self.mirror.as_mut(), frame.inflated.as_mut()) {
                    m.end(shown, frame.fin);
                }
                out.push(frame);
            } else {
                self.current = Some(frame);
            }
        }
    }

    /// Consumes payload bytes of the current frame; returns what is left.
    fn take_payload<'a>(&mut self, bytes: &'a [u8], out: &mut Vec<Frame>) -> &'a [u8] {
        let Some(frame) = self.current.as_mut() else {
            return bytes;
        };
        let remaining = frame.payload_len - frame.received_payload();
        let take = usize::try_from(remaining).map_or(bytes.len(), |r| r.min(bytes.len()));
        let (chunk, rest) = bytes.split_at(take);
        if let (Some(m), Some(shown)) = (self.mirror.as_mut(), frame.inflated.as_mut()) {
            let at = frame.raw_payload.len() as u64 + frame.elided;
            feed_mirror(m, shown, chunk, frame.mask, at);
        }
        let room = self.limit.saturating_sub(frame.raw_payload.len());
        let (kept, skipped) = chunk.split_at(room.min(chunk.len()));
        let start = frame.raw_payload.len();
        frame.raw_payload.extend_from_slice(kept);
        match frame.mask {
            Some(key) => frame.payload.extend(
                kept.iter()
                    .zip(key.iter().cycle().skip(start % 4))
                    .map(|(b, k)| b ^ k),
            ),
            None => frame.payload.extend_from_slice(kept),
        }
        frame.elided += skipped.len() as u64;
        if frame.received_payload() == frame.payload_len {
            if let (Some(m), Some(shown)) = (self.mirror.as_mut(), frame.inflated.as_mut()) {
                m.end(shown, frame.fin);
            }
            if let Some(mut done) = self.current.take() {
                done.complete = true;
                out.push(done);
            }
        }
        rest
    }

    /// Flushes a frame cut off by the end of the stream (`complete == false`)
    /// and resets the decoder; `None` when the stream ended between frames.
    pub fn finish(&mut self) -> Option<Frame> {
        self.skipping = Skipping::default();
        if let Some(frame) = self.current.take() {
            return Some(frame);
        }
        if !self.header.partial() {
            return None;
        }
        let frame = Frame::cut_off(self.header.bytes());
        self.header.clear();
        Some(frame)
    }
}

/// Feed payload bytes (masked with `mask` from payload position `at`) to the dump's inflater.
fn feed_mirror(
    m: &mut crate::deflate::mirror::Mirror,
    shown: &mut crate::deflate::mirror::Inflated,
    chunk: &[u8],
    mask: Option<[u8; 4]>,
    at: u64,
) {
    match mask {
        Some(key) => {
            let mut buf = [0u8; 4096];
            let mut pos = (at % 4) as usize;
            for piece in chunk.chunks(buf.len()) {
                let plain = unmask_into(piece, key, &mut pos, &mut buf);
                m.feed(shown, plain);
            }
        }
        None => m.feed(shown, chunk),
    }
}
