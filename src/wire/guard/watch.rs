//! The guard's follower of the incoming frames: a pure state machine fed bytes in any pieces,
//! which validates text as it passes, keeps the close code, refuses reserved bits, drops
//! messages over the limit and counts the pongs the peer's pings ask for. Headers are read by the
//! one header reader ([`crate::wire::header`]).

use std::io;

use super::facts::WireFacts;
use super::utf8::Utf8Check;
use super::verdict::{invalid, status_line, InvalidUtf8, Unexpected, STATUS_LINE_SHOWN};
use crate::wire::header::{Accumulator, Header};

/// Bits of a frame's first byte that only a negotiated extension may set. When
/// permessage-deflate is negotiated, its inflater below this watch takes RSV1 (and clears it):
/// what reaches the watch with any of the three set is a violation either way.
const RESERVED_BITS: u8 = 0x70;

/// Where the incoming byte stream is, frame-wise.
#[derive(Debug, Default)]
pub struct Watch {
    header: Accumulator,
    /// Payload bytes of the current frame still to come.
    remaining: u64,
    mask: Option<[u8; 4]>,
    mask_pos: usize,
    /// The current frame carries text (a text frame, or a continuation of a text message).
    frame_is_text: bool,
    /// A fragmented text message is in progress.
    in_text_message: bool,
    /// The text message's validation, across its fragments.
    text: Utf8Check,
    /// The close reason's validation: its own, since a close may come between two fragments.
    reason: Utf8Check,
    /// What the last failed `feed` found invalid.
    failure: Option<InvalidUtf8>,
    /// The stream stopped making sense (e.g. a length tungstenite will refuse): stop watching.
    pub(super) gave_up: bool,
    /// The current frame is a close frame; its first two payload bytes are the status code.
    frame_is_close: bool,
    close_head: [u8; 2],
    close_head_len: usize,
    /// The status code of the last close frame, as it was on the wire.
    close_code: Option<u16>,
    /// `--max-message-size`: a data message that grows past it is not handed up (see [`Fed`]).
    limit: Option<u64>,
    /// Payload bytes of the data message in progress, as declared by its frames so far.
    message_len: u64,
    /// The data message in progress is over the limit: its frames are dropped.
    skip_message: bool,
    /// The current frame is dropped.
    skip_frame: bool,
    /// Set when a message went over the limit: its declared size so far.
    too_big: Option<u64>,
    /// A message went over the limit, so the session is closing with 1009: from then on only a
    /// close frame is handed up (a ping or a message behind the big one must not be answered or
    /// shown first: to the peer that would read as "accepted").
    over_limit: bool,
    /// Bytes of pongs the pings seen so far ask for (each is answered by the library).
    pub(super) owed: u64,
    /// Bytes of the incomplete header that the library has already (they came with the
    /// handshake's leftover): they are not emitted again, and that frame cannot be dropped.
    header_sent: usize,
    /// A frame header has been read whole: the stream is past its first bytes.
    framed: bool,
    /// What the last failed `feed` found unacceptable, other than text.
    unexpected: Option<Unexpected>,
    /// Stop at the peer's close frame (see [`Watch::until_close`]).
    until_close: bool,
    /// The close frame has been read: nothing after it is a frame.
    closed: bool,
    /// A close frame's header has been read.
    close_seen: bool,
    /// Bytes that came after the close frame (dropped).
    after_close: u64,
}

/// How far [`Watch::feed_with`] got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fed {
    /// Every byte was followed.
    All,
    /// A byte made a text message or a close reason invalid UTF-8 ([`Watch::failure`] says which).
    Invalid,
    /// After this many bytes, a data message went over the limit: its frames are dropped from
    /// here on (the rest of this one, its continuations), so the library never sees it and the
    /// stream stays in step for the close handshake that follows.
    TooBig(usize),
}

impl Watch {
    /// A watch that also drops data messages larger than `limit` bytes.
    pub fn with_limit(limit: usize) -> Watch {
        Watch {
            limit: Some(limit as u64),
            ..Watch::default()
        }
    }

    /// Follow `bytes`; false as soon as a byte makes a text message or a close reason invalid
    /// UTF-8 ([`Watch::failure`] says which).
    pub fn feed(&mut self, bytes: &[u8]) -> bool {
        let mut rest = bytes;
        loop {
            match self.feed_with(rest, &mut |_| {}) {
                Fed::All => return true,
                Fed::Invalid => return false,
                Fed::TooBig(n) => rest = &rest[n..],
            }
        }
    }

    /// Follow `bytes`, handing to `emit` those the library may see: all of them but a frame
    /// header still incomplete (held until it is, and then emitted whole), the frames of a
    /// message over the limit, and (with [`Watch::until_close`]) whatever follows the close.
    pub fn feed_with(&mut self, bytes: &[u8], emit: &mut dyn FnMut(&[u8])) -> Fed {
        let total = bytes.len();
        let mut bytes = bytes;
        while !bytes.is_empty() {
            if self.closed && self.remaining == 0 {
                // RFC 6455 §5.5.1: after the close frame, nothing is a frame; nothing is parsed.
                self.after_close = self.after_close.saturating_add(bytes.len() as u64);
                return Fed::All;
            }
            if self.gave_up {
                emit(bytes);
                return Fed::All;
            }
            if self.remaining > 0 {
                let take = usize::try_from(self.remaining)
                    .unwrap_or(usize::MAX)
                    .min(bytes.len());
                let (chunk, rest) = bytes.split_at(take);
                bytes = rest;
                if let Err(what) = self.payload(chunk, emit) {
                    self.failure = Some(what);
                    return Fed::Invalid;
                }
                continue;
            }
            let (n, done) = self.header.push(bytes);
            bytes = &bytes[n..];
            let Some(h) = done else {
                continue;
            };
            let was_big = self.too_big.is_some();
            if let Some(u) = self.reserved(&h, bytes) {
                self.unexpected = Some(u);
                return Fed::Invalid;
            }
            self.header_read(&h, was_big, emit);
            if !was_big && self.too_big.is_some() {
                return Fed::TooBig(total - bytes.len());
            }
        }
        Fed::All
    }

    /// Stop at the close frame: what follows it is not handed up, nor parsed (a server that
    /// writes an HTTP response after its close must not spoil a clean close). The guard of a
    /// connection does; a watch of arbitrary bytes (the fuzz target's) does not.
    pub fn until_close(mut self) -> Watch {
        self.until_close = true;
        self
    }

    /// Bytes that followed the close frame, which were dropped unparsed.
    pub fn after_close(&self) -> u64 {
        self.after_close
    }

    /// A whole header `h` was read: start its frame and emit the header unless it is dropped.
    fn header_read(&mut self, h: &Header, was_big: bool, emit: &mut dyn FnMut(&[u8])) {
        let mut raw = [0u8; 14];
        let n = self.header.bytes().len();
        raw[..n].copy_from_slice(self.header.bytes());
        let sent = std::mem::take(&mut self.header_sent);
        let was_over = self.over_limit;
        self.start_frame(h);
        if sent > 0 && self.skip_frame {
            // Part of its header is the library's already: it judges this one.
            self.skip_frame = false;
            self.skip_message = false;
            if !was_big {
                self.too_big = None;
                self.over_limit = was_over;
            }
        }
        if !self.skip_frame {
            emit(&raw[sent.min(n)..n]);
        }
    }

    /// Payload bytes of the current frame (no more than it has left): emitted unless the frame
    /// is dropped, and judged. Err: the text they make invalid.
    fn payload(&mut self, chunk: &[u8], emit: &mut dyn FnMut(&[u8])) -> Result<(), InvalidUtf8> {
        self.remaining -= chunk.len() as u64;
        if self.skip_frame {
            return Ok(());
        }
        emit(chunk);
        if self.frame_is_text && !self.check(chunk, false) {
            return Err(InvalidUtf8::TextMessage);
        }
        if self.frame_is_close && !self.close_payload(chunk) {
            return Err(InvalidUtf8::CloseReason);
        }
        // A reason may not end inside a character (a text message may, until its last
        // fragment, and tungstenite checks that end itself).
        if self.remaining == 0 && self.frame_is_close && !self.reason.complete() {
            return Err(InvalidUtf8::CloseReason);
        }
        Ok(())
    }

    /// The declared size of the last message that went over the limit (and the limit), once.
    pub fn take_too_big(&mut self) -> Option<(u64, u64)> {
        Some((self.too_big.take()?, self.limit?))
    }

    /// What the last failed [`Watch::feed`] found invalid.
    pub fn failure(&self) -> Option<InvalidUtf8> {
        self.failure
    }

    /// Where, within that text (0-based), the first invalid byte was.
    pub fn failure_at(&self) -> Option<u64> {
        match self.failure? {
            InvalidUtf8::TextMessage => self.text.bad_at(),
            InvalidUtf8::CloseReason => self.reason.bad_at(),
        }
    }

    /// What the last failed [`Watch::feed`] found unacceptable, when it was not text.
    pub fn unexpected(&self) -> Option<&Unexpected> {
        self.unexpected.as_ref()
    }

    /// The complete header just read sets reserved bits: the violation, told as an HTTP
    /// response when the stream began with one. `rest`: the bytes that followed the header in
    /// this feed (the status line's tail, if so).
    fn reserved(&mut self, h: &Header, rest: &[u8]) -> Option<Unexpected> {
        let first_frame = !self.framed;
        self.framed = true;
        let bits = h.rsv & RESERVED_BITS;
        if bits == 0 {
            return None;
        }
        let mut start = self.header.bytes().to_vec();
        start.extend_from_slice(&rest[..rest.len().min(STATUS_LINE_SHOWN + 2)]);
        let http = start.len() >= 5 && start.starts_with(b"HTTP/")
            || start.len() < 5 && b"HTTP/".starts_with(&start);
        Some(if first_frame && http {
            Unexpected::HttpResponse(status_line(&start))
        } else {
            Unexpected::ReservedBits(bits)
        })
    }

    fn start_frame(&mut self, h: &Header) {
        let (opcode, fin, len) = (h.opcode, h.fin, h.len);
        if len > i64::MAX as u64 {
            self.gave_up = true;
            return;
        }
        self.mask = h.mask;
        self.mask_pos = 0;
        self.remaining = len;
        self.skip_frame = false;
        if matches!(opcode, 0x0..=0x2) {
            self.follow_message(opcode, fin, len);
        }
        if self.over_limit && opcode != 0x8 {
            self.skip_frame = true;
        }
        if opcode == 0x9 && !self.skip_frame {
            // The pong repeats the payload, behind a header of at most 6 bytes (masked).
            self.owed = self.owed.saturating_add(len + 6);
        }
        self.frame_is_close = opcode == 0x8;
        if self.frame_is_close {
            self.close_seen = true;
            // A close frame without a body has no status code (1005 is what that means).
            self.close_code = None;
            self.close_head_len = 0;
            self.reason = Utf8Check::default();
            self.closed = self.until_close;
        }
        self.frame_is_text = match opcode {
            0x1 => {
                self.text = Utf8Check::default();
                self.in_text_message = !fin;
                true
            }
            0x0 => {
                let text = self.in_text_message;
                if fin {
                    self.in_text_message = false;
                }
                text
            }
            0x2 => {
                self.in_text_message = false;
                false
            }
            _ => false,
        } && !self.skip_frame;
    }

    /// A data frame of `len` bytes: the message's size so far, judged against the limit.
    fn follow_message(&mut self, opcode: u8, fin: bool, len: u64) {
        if opcode != 0x0 {
            self.message_len = 0;
            self.skip_message = false;
        }
        self.message_len = self.message_len.saturating_add(len);
        if let Some(limit) = self.limit {
            if !self.skip_message && self.message_len > limit {
                self.skip_message = true;
                self.over_limit = true;
                self.too_big = Some(self.message_len);
            }
        }
        self.skip_frame = self.skip_message;
        if fin {
            self.skip_message = false;
            self.message_len = 0;
        }
    }

    /// Bytes of a header begun in what the library has already (the handshake's leftover):
    /// they are not handed up again, and that frame is the library's to judge.
    pub(super) fn hand_over_partial_header(&mut self) {
        self.header_sent = if self.remaining == 0 && self.header.partial() {
            self.header.bytes().len()
        } else {
            0
        };
    }

    /// A close frame's payload: the status code (two bytes), then the reason, which must be UTF-8.
    fn close_payload(&mut self, mut chunk: &[u8]) -> bool {
        while self.close_head_len < 2 && !chunk.is_empty() {
            let key = self.mask.map_or(0, |k| k[self.mask_pos]);
            self.mask_pos = (self.mask_pos + 1) % 4;
            self.close_head[self.close_head_len] = chunk[0] ^ key;
            self.close_head_len += 1;
            chunk = &chunk[1..];
            if self.close_head_len == 2 {
                self.close_code = Some(u16::from_be_bytes(self.close_head));
            }
        }
        chunk.is_empty() || self.check(chunk, true)
    }

    /// A close frame's header has been read.
    pub fn close_seen(&self) -> bool {
        self.close_seen
    }

    /// The status code of the last close frame seen, exactly as it was on the wire.
    pub fn close_code(&self) -> Option<u16> {
        self.close_code
    }

    /// Unmask and check text bytes, for the message or (`reason`) the close reason.
    fn check(&mut self, chunk: &[u8], reason: bool) -> bool {
        let mut buf = [0u8; 512];
        for piece in chunk.chunks(buf.len()) {
            let data = match self.mask {
                Some(key) => {
                    crate::wire::frame::unmask_into(piece, key, &mut self.mask_pos, &mut buf)
                }
                None => piece,
            };
            let check = if reason {
                &mut self.reason
            } else {
                &mut self.text
            };
            if !check.validate(data) {
                return false;
            }
        }
        true
    }
}

impl Watch {
    /// After a failed feed: record what failed in `wire` and make the error to raise.
    pub(super) fn raise(&self, wire: &WireFacts) -> io::Error {
        if let Some(u) = self.unexpected() {
            let _ = wire.unexpected.set(u.clone());
            return io::Error::new(io::ErrorKind::InvalidData, u.clone());
        }
        let what = self.failure().unwrap_or(InvalidUtf8::TextMessage);
        wire.set_invalid_utf8(Some(what));
        wire.set_invalid_at(self.failure_at());
        invalid(what)
    }
}
