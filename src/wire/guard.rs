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

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The marker inside the io::Error this wrapper raises: which text was not UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidUtf8 {
    TextMessage,
    CloseReason,
}

impl std::fmt::Display for InvalidUtf8 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            InvalidUtf8::TextMessage => "the server sent a text message that is not valid UTF-8",
            InvalidUtf8::CloseReason => "the server sent a close reason that is not valid UTF-8",
        })
    }
}

impl std::error::Error for InvalidUtf8 {}

/// What was invalid, when `e` is the error raised by [`Guard`].
pub fn invalid_utf8(e: &io::Error) -> Option<InvalidUtf8> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<InvalidUtf8>())
        .copied()
}

/// The marker inside the io::Error this wrapper raises for bytes that are not a frame we may
/// accept at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unexpected {
    /// RSV1-3 (as the bits 0x70 of the first byte) set, and no extension was negotiated.
    ReservedBits(u8),
    /// The stream after the 101 starts with an HTTP response: its status line, made visible.
    HttpResponse(String),
    /// permessage-deflate was negotiated and a frame broke its rules (RSV1 on a control frame
    /// or a continuation, RSV2/RSV3, data that does not inflate): what, in words.
    Deflate(String),
}

impl Unexpected {
    /// What was wrong, naming the side that sent it.
    pub fn describe(&self, peer: &str) -> String {
        match self {
            Unexpected::ReservedBits(bits) => {
                let names: Vec<&str> = [(0x40, "RSV1"), (0x20, "RSV2"), (0x10, "RSV3")]
                    .into_iter()
                    .filter(|(b, _)| bits & b != 0)
                    .map(|(_, n)| n)
                    .collect();
                format!(
                    "the {peer} broke the WebSocket protocol: a frame with reserved bits set ({}) \
                     but no extension was negotiated",
                    names.join(", ")
                )
            }
            Unexpected::HttpResponse(line) => format!(
                "the {peer} sent an HTTP response after the upgrade instead of WebSocket \
                 frames: {line}"
            ),
            Unexpected::Deflate(what) => {
                format!("the {peer} broke permessage-deflate (RFC 7692): {what}")
            }
        }
    }
}

impl std::fmt::Display for Unexpected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe("server"))
    }
}

impl std::error::Error for Unexpected {}

/// What was unacceptable, when `e` is that error raised by [`Guard`].
pub fn unexpected(e: &io::Error) -> Option<Unexpected> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<Unexpected>())
        .cloned()
}

/// Bits of a frame's first byte that only a negotiated extension may set. When
/// permessage-deflate is negotiated, its inflater below this watch takes RSV1 (and clears it):
/// what reaches the watch with any of the three set is a violation either way.
const RESERVED_BITS: u8 = 0x70;

/// How much of an HTTP status line sent after the 101 is shown.
const STATUS_LINE_SHOWN: usize = 200;

/// The status line at the start of `bytes`, up to its CRLF, with control and bidi characters
/// made visible (it is peer text bound for the terminal).
fn status_line(bytes: &[u8]) -> String {
    let end = bytes
        .windows(2)
        .position(|w| w == b"\r\n")
        .unwrap_or(bytes.len());
    let cut = end.min(STATUS_LINE_SHOWN);
    let mut line: String = String::from_utf8_lossy(&bytes[..cut])
        .chars()
        .flat_map(|c| {
            let visible = c.is_control()
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c);
            let shown: Vec<char> = if visible {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            shown
        })
        .collect();
    if cut < end || end == bytes.len() {
        line.push('…');
    }
    line
}

/// Where the incoming byte stream is, frame-wise.
#[derive(Debug, Default)]
pub struct Watch {
    header: [u8; 14],
    header_len: usize,
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
    gave_up: bool,
    /// The current frame is a close frame; its first two payload bytes are the status code.
    frame_is_close: bool,
    close_head: [u8; 2],
    close_head_len: usize,
    /// The status code of the last close frame, as it was on the wire.
    close_code: Option<u16>,
    /// A close frame's header has been read.
    close_seen: bool,
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
    /// Bytes of pongs the pings seen so far ask for (each is answered by the library).
    owed: u64,
    /// Bytes of the incomplete header that the library has already (they came with the
    /// handshake's leftover): they are not emitted again, and that frame cannot be dropped.
    header_sent: usize,
    /// A frame header has been read whole: the stream is past its first bytes.
    framed: bool,
    /// What the last failed `feed` found unacceptable, other than text.
    unexpected: Option<Unexpected>,
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
    /// header still incomplete (held until it is, and then emitted whole) and the frames of a
    /// message over the limit.
    pub fn feed_with(&mut self, bytes: &[u8], emit: &mut dyn FnMut(&[u8])) -> Fed {
        let total = bytes.len();
        let mut bytes = bytes;
        while !bytes.is_empty() {
            if self.gave_up {
                emit(bytes);
                return Fed::All;
            }
            if self.remaining == 0 && !self.header_done() {
                let want = self.header_want();
                let take = (want - self.header_len).min(bytes.len());
                self.header[self.header_len..self.header_len + take]
                    .copy_from_slice(&bytes[..take]);
                self.header_len += take;
                bytes = &bytes[take..];
                if self.header_len == self.header_want() {
                    let was_big = self.too_big.is_some();
                    let header = self.header;
                    let header_len = self.header_len;
                    let sent = std::mem::take(&mut self.header_sent);
                    if let Some(u) = self.reserved(bytes) {
                        self.unexpected = Some(u);
                        return Fed::Invalid;
                    }
                    self.start_frame();
                    if sent > 0 && self.skip_frame {
                        // Part of its header is the library's already: it judges this one.
                        self.skip_frame = false;
                        self.skip_message = false;
                        if !was_big {
                            self.too_big = None;
                        }
                    }
                    if !self.skip_frame {
                        emit(&header[sent..header_len]);
                    }
                    if !was_big && self.too_big.is_some() {
                        return Fed::TooBig(total - bytes.len());
                    }
                }
                continue;
            }
            let take = usize::try_from(self.remaining)
                .unwrap_or(usize::MAX)
                .min(bytes.len());
            let (chunk, rest) = bytes.split_at(take);
            bytes = rest;
            self.remaining -= take as u64;
            if self.skip_frame {
                if self.remaining == 0 {
                    self.end_frame();
                }
                continue;
            }
            emit(chunk);
            if self.frame_is_text && !self.check(chunk, false) {
                self.failure = Some(InvalidUtf8::TextMessage);
                return Fed::Invalid;
            }
            if self.frame_is_close && !self.close_payload(chunk) {
                self.failure = Some(InvalidUtf8::CloseReason);
                return Fed::Invalid;
            }
            if self.remaining == 0 {
                // A reason may not end inside a character (a text message may, until its last
                // fragment, and tungstenite checks that end itself).
                if self.frame_is_close && !self.reason.complete() {
                    self.failure = Some(InvalidUtf8::CloseReason);
                    return Fed::Invalid;
                }
                self.end_frame();
            }
        }
        Fed::All
    }

    /// The declared size of the last message that went over the limit (and the limit), once.
    pub fn take_too_big(&mut self) -> Option<(u64, u64)> {
        Some((self.too_big.take()?, self.limit?))
    }

    /// What the last failed [`Watch::feed`] found invalid.
    pub fn failure(&self) -> Option<InvalidUtf8> {
        self.failure
    }

    /// What the last failed [`Watch::feed`] found unacceptable, when it was not text.
    pub fn unexpected(&self) -> Option<&Unexpected> {
        self.unexpected.as_ref()
    }

    /// The complete header just read sets reserved bits: the violation, told as an HTTP
    /// response when the stream began with one. `rest`: the bytes that followed the header in
    /// this feed (the status line's tail, if so).
    fn reserved(&mut self, rest: &[u8]) -> Option<Unexpected> {
        let first_frame = !self.framed;
        self.framed = true;
        let bits = self.header[0] & RESERVED_BITS;
        if bits == 0 {
            return None;
        }
        let mut start = self.header[..self.header_len].to_vec();
        start.extend_from_slice(&rest[..rest.len().min(STATUS_LINE_SHOWN + 2)]);
        let http = start.len() >= 5 && start.starts_with(b"HTTP/")
            || start.len() < 5 && b"HTTP/".starts_with(&start);
        Some(if first_frame && http {
            Unexpected::HttpResponse(status_line(&start))
        } else {
            Unexpected::ReservedBits(bits)
        })
    }

    /// How many header bytes the frame being read has (known once its first two bytes are in).
    fn header_want(&self) -> usize {
        if self.header_len < 2 {
            return 2;
        }
        let masked = self.header[1] & 0x80 != 0;
        let len_bytes = match self.header[1] & 0x7f {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        2 + len_bytes + if masked { 4 } else { 0 }
    }

    fn header_done(&self) -> bool {
        self.header_len >= 2 && self.header_len == self.header_want()
    }

    fn start_frame(&mut self) {
        let h = &self.header;
        let opcode = h[0] & 0x0f;
        let fin = h[0] & 0x80 != 0;
        let len = match h[1] & 0x7f {
            126 => u64::from(u16::from_be_bytes([h[2], h[3]])),
            127 => u64::from_be_bytes([h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9]]),
            n => u64::from(n),
        };
        if len > i64::MAX as u64 {
            self.gave_up = true;
            return;
        }
        // The masking key is the last four header bytes, when the mask bit is set.
        self.mask = match (h[1] & 0x80 != 0, self.header_len.checked_sub(4)) {
            (true, Some(at)) => Some([h[at], h[at + 1], h[at + 2], h[at + 3]]),
            _ => None,
        };
        self.mask_pos = 0;
        self.remaining = len;
        self.skip_frame = false;
        if matches!(opcode, 0x0..=0x2) {
            if opcode != 0x0 {
                self.message_len = 0;
                self.skip_message = false;
            }
            self.message_len = self.message_len.saturating_add(len);
            if let Some(limit) = self.limit {
                if !self.skip_message && self.message_len > limit {
                    self.skip_message = true;
                    self.too_big = Some(self.message_len);
                }
            }
            self.skip_frame = self.skip_message;
            if fin {
                self.skip_message = false;
                self.message_len = 0;
            }
        }
        if opcode == 0x9 {
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
        if len == 0 {
            self.end_frame();
        }
    }

    fn end_frame(&mut self) {
        self.header_len = 0;
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

/// Incremental UTF-8 validation: fails on the first byte that cannot be part of valid text.
#[derive(Debug, Default)]
struct Utf8Check {
    /// The start of a character split across chunks.
    carry: [u8; 4],
    carry_len: usize,
}

impl Utf8Check {
    fn validate(&mut self, mut data: &[u8]) -> bool {
        // Finish a character begun in an earlier chunk, byte by byte, so a bad continuation byte
        // is caught as soon as it arrives.
        while self.carry_len > 0 && !data.is_empty() {
            self.carry[self.carry_len] = data[0];
            self.carry_len += 1;
            data = &data[1..];
            match std::str::from_utf8(&self.carry[..self.carry_len]) {
                Ok(_) => self.carry_len = 0,
                Err(e) if e.error_len().is_some() => return false,
                Err(_) if self.carry_len == 4 => return false,
                Err(_) => {}
            }
        }
        match std::str::from_utf8(data) {
            Ok(_) => true,
            Err(e) if e.error_len().is_some() => false,
            Err(e) => {
                let tail = &data[e.valid_up_to()..];
                self.carry[..tail.len()].copy_from_slice(tail);
                self.carry_len = tail.len();
                true
            }
        }
    }

    /// No character left half-way.
    fn complete(&self) -> bool {
        self.carry_len == 0
    }
}

/// What the watch saw that tungstenite hides, shared with the session: the status code of the
/// server's last close frame as it was on the wire, and which text was not UTF-8.
#[derive(Debug, Clone, Default)]
pub struct WireFacts {
    close: Arc<AtomicU32>,
    invalid: Arc<AtomicU8>,
    /// A message over the limit was dropped: the session is told through `alarm`, not through
    /// a read error (tokio-tungstenite ends the stream at the first one, and the close handshake
    /// that must follow needs it).
    too_big: Arc<std::sync::Mutex<Option<TooBig>>>,
    alarm: Arc<tokio::sync::Notify>,
    unexpected: Arc<OnceLock<Unexpected>>,
    close_seen: Arc<std::sync::atomic::AtomicBool>,
}

impl WireFacts {
    /// The peer's close frame has arrived (the library may not have read it yet): with --echo,
    /// the session hands every echo to the library before the library reads that close.
    pub fn close_seen(&self) -> bool {
        self.close_seen.load(Ordering::Acquire)
    }

    fn set_close_seen(&self, seen: bool) {
        if seen {
            self.close_seen.store(true, Ordering::Release);
        }
    }

    /// Flags "a code was seen", so that code 0 is not confused with none.
    const SEEN: u32 = 1 << 16;

    pub fn close_code(&self) -> Option<u16> {
        let v = self.close.load(Ordering::Relaxed);
        (v & Self::SEEN != 0).then_some(v as u16)
    }

    fn set_close_code(&self, code: Option<u16>) {
        self.close.store(
            code.map_or(0, |c| Self::SEEN | u32::from(c)),
            Ordering::Relaxed,
        );
    }

    /// Which text was not UTF-8. tungstenite may find it first (in bytes that came with the
    /// handshake response, which it reads before ours), and its error does not say.
    pub fn invalid_utf8(&self) -> Option<InvalidUtf8> {
        match self.invalid.load(Ordering::Relaxed) {
            1 => Some(InvalidUtf8::TextMessage),
            2 => Some(InvalidUtf8::CloseReason),
            _ => None,
        }
    }

    /// Reserved bits, or an HTTP response, where a frame was due. tungstenite finds it first in
    /// bytes that came with the handshake response, and its error only says "reserved bits".
    pub fn unexpected(&self) -> Option<Unexpected> {
        self.unexpected.get().cloned()
    }

    /// Wait until a message over the limit has been dropped, and say which.
    pub async fn too_big(&self) -> TooBig {
        loop {
            if let Some(t) = self.take_too_big() {
                return t;
            }
            self.alarm.notified().await;
        }
    }

    fn take_too_big(&self) -> Option<TooBig> {
        self.too_big
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }

    /// Also told by the inflater below the guard (crate::deflate::stream).
    pub(crate) fn set_too_big(&self, t: TooBig) {
        *self
            .too_big
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(t);
        // A permit is kept when nobody waits yet: the alarm is never lost.
        self.alarm.notify_one();
    }

    fn set_invalid_utf8(&self, what: Option<InvalidUtf8>) {
        let v = match what {
            None => 0,
            Some(InvalidUtf8::TextMessage) => 1,
            Some(InvalidUtf8::CloseReason) => 2,
        };
        self.invalid.store(v, Ordering::Relaxed);
    }
}

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
}

/// Bytes of replies to pings (the library answers each) that may wait for a peer that does not
/// read before we stop reading its pings: a ping flood meets backpressure, not our memory.
const MAX_OWED_REPLIES: u64 = 256 * 1024;

/// A message over `--max-message-size` that [`Guard`] dropped (see [`WireFacts::too_big`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooBig {
    pub size: u64,
    pub limit: u64,
}

impl std::fmt::Display for TooBig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a message of {} bytes, over the limit of {}",
            self.size, self.limit
        )
    }
}

impl Watch {
    /// After a failed feed: record what failed in `wire` and make the error to raise.
    fn raise(&self, wire: &WireFacts) -> io::Error {
        if let Some(u) = self.unexpected() {
            let _ = wire.unexpected.set(u.clone());
            return io::Error::new(io::ErrorKind::InvalidData, u.clone());
        }
        let what = self.failure().unwrap_or(InvalidUtf8::TextMessage);
        wire.set_invalid_utf8(Some(what));
        invalid(what)
    }
}

impl<S> Guard<S> {
    /// `leftover`: bytes that arrived behind the handshake, which the WebSocket library reads
    /// first. `limit`: `--max-message-size`; a larger message is dropped here, before the
    /// library, and reported through [`WireFacts::too_big`].
    pub fn new(inner: S, leftover: &[u8], wire: WireFacts, limit: usize) -> Self {
        let mut watch = Watch::with_limit(limit);
        wire.set_invalid_utf8(None);
        let failed = if watch.feed(leftover) {
            None
        } else {
            Some(watch.raise(&wire))
        };
        // The library reads the leftover itself, with its own limits: ours apply from here on,
        // and a header it has begun is not handed to it again.
        let _ = watch.take_too_big();
        watch.header_sent = if watch.remaining == 0 && !watch.header_done() {
            watch.header_len
        } else {
            0
        };
        wire.set_close_code(watch.close_code());
        wire.set_close_seen(watch.close_seen);
        Guard {
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

fn invalid(what: InvalidUtf8) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

/// Bytes read below the library in one go, at most.
const CHUNK: usize = 16 * 1024;

impl<S: AsyncRead + Unpin> Guard<S> {
    /// Follow `data`, putting what the library may see into `buf` (the rest into `pending`).
    /// Err: invalid UTF-8, raised at once.
    fn follow(&mut self, data: &[u8], buf: &mut ReadBuf<'_>) -> io::Result<()> {
        let before = buf.filled().len();
        let pending_before = self.pending.len();
        let (watch, pending) = (&mut self.watch, &mut self.pending);
        let mut emit = |bytes: &[u8]| {
            let fit = bytes.len().min(buf.remaining());
            buf.put_slice(&bytes[..fit]);
            pending.extend_from_slice(&bytes[fit..]);
        };
        let mut data = data;
        loop {
            match watch.feed_with(data, &mut emit) {
                Fed::All => break,
                Fed::TooBig(n) => {
                    if let Some((size, limit)) = watch.take_too_big() {
                        self.wire.set_too_big(TooBig { size, limit });
                    }
                    data = &data[n..];
                }
                Fed::Invalid => {
                    self.watch.gave_up = true;
                    let e = self.watch.raise(&self.wire);
                    let earlier =
                        buf.filled().len() > before || self.pending.len() > pending_before;
                    if self.watch.unexpected().is_some() && earlier {
                        // A frame that may not be is refused at its header, which is not handed
                        // up; the whole frames before it are the library's, so a message that
                        // came first is still answered (Autobahn 3.4). Fail at the next read.
                        self.failed = Some(e);
                        break;
                    }
                    // Invalid text: handing its bytes up would let tungstenite act on them.
                    buf.set_filled(before);
                    self.pending.truncate(pending_before);
                    return Err(e);
                }
            }
        }
        self.wire.set_close_code(self.watch.close_code());
        self.wire.set_close_seen(self.watch.close_seen);
        Ok(())
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
        loop {
            // Not zeroed: this runs for every read, and ReadBuf tracks what was filled.
            let mut scratch = [std::mem::MaybeUninit::<u8>::uninit(); CHUNK];
            let want = buf.remaining().clamp(1, CHUNK);
            let mut rb = ReadBuf::uninit(&mut scratch[..want]);
            match Pin::new(&mut this.inner).poll_read(cx, &mut rb) {
                Poll::Ready(Ok(())) => {}
                other => return other,
            }
            let data = rb.filled();
            if data.is_empty() {
                // The end of the stream.
                return Poll::Ready(Ok(()));
            }
            let before = buf.filled().len();
            this.follow(data, buf)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![first];
        match payload.len() {
            n if n < 126 => f.push(n as u8),
            n => {
                f.push(126);
                f.extend_from_slice(&(n as u16).to_be_bytes());
            }
        }
        f.extend_from_slice(payload);
        f
    }

    /// Feed `bytes` one at a time; the index of the byte that failed, if any.
    fn fails_at(bytes: &[u8]) -> Option<usize> {
        let mut w = Watch::default();
        bytes.iter().position(|b| !w.feed(std::slice::from_ref(b)))
    }

    /// What the library is handed when `bytes` arrive one at a time, and whether a message was
    /// dropped as too big.
    fn emitted(limit: usize, bytes: &[u8]) -> (Vec<u8>, bool) {
        let mut w = Watch::with_limit(limit);
        let mut out = Vec::new();
        let mut big = false;
        for b in bytes {
            let mut rest = std::slice::from_ref(b);
            while let Fed::TooBig(n) = w.feed_with(rest, &mut |e| out.extend_from_slice(e)) {
                big |= w.take_too_big().is_some();
                rest = &rest[n..];
            }
        }
        (out, big)
    }

    #[test]
    fn a_message_over_the_limit_is_dropped_and_the_stream_stays_in_step() {
        let mut bytes = frame(0x81, b"ok");
        bytes.extend(frame(0x01, &[b'x'; 300])); // over 200: dropped...
        bytes.extend(frame(0x89, b"p")); // ...but not the ping between its fragments
        bytes.extend(frame(0x80, &[b'y'; 10])); // ...nor is its continuation kept
        bytes.extend(frame(0x88, &[0x03, 0xe8]));
        let (out, big) = emitted(200, &bytes);
        let mut want = frame(0x81, b"ok");
        want.extend(frame(0x89, b"p"));
        want.extend(frame(0x88, &[0x03, 0xe8]));
        assert_eq!(out, want);
        assert!(big);
        // Under the limit, everything passes as it came.
        assert_eq!(emitted(1 << 20, &bytes), (bytes.clone(), false));
    }

    #[test]
    fn valid_text_split_anywhere_passes() {
        let f = frame(0x81, "κόσμε hello €𝄞".as_bytes());
        assert_eq!(fails_at(&f), None);
        let mut w = Watch::default();
        assert!(w.feed(&f));
    }

    #[test]
    fn fails_on_the_first_bad_byte_inside_one_frame() {
        // Autobahn 6.4.4: \xf4\x90 can never start a valid character; fail at the \x90.
        let payload = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80edited";
        let f = frame(0x81, payload);
        assert_eq!(fails_at(&f), Some(2 + 12));
    }

    #[test]
    fn fragments_and_control_frames_between_them() {
        let mut bytes = frame(0x01, b"\xce");
        bytes.extend(frame(0x89, b"\xff\xfe")); // a ping's payload is not text
        bytes.extend(frame(0x80, b"\xba ok"));
        assert_eq!(fails_at(&bytes), None);
        let mut bad = frame(0x01, b"ok");
        bad.extend(frame(0x80, b"\xc0\xaf"));
        assert!(fails_at(&bad).is_some());
    }

    #[test]
    fn binary_and_masked_frames() {
        assert_eq!(fails_at(&frame(0x82, b"\xff\xff")), None);
        let key = [1u8, 2, 3, 4];
        let masked: Vec<u8> = b"\xff"
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ key[i % 4])
            .collect();
        let mut f = vec![0x81, 0x80 | 1];
        f.extend_from_slice(&key);
        f.extend_from_slice(&masked);
        assert!(fails_at(&f).is_some());
    }

    #[test]
    fn keeps_the_close_code_as_it_was_on_the_wire() {
        let mut w = Watch::default();
        // 1005 may never be sent; tungstenite would show it as 1002. Split inside the code.
        let f = frame(0x88, &[0x03, 0xed, b'x']);
        assert!(w.feed(&f[..3]));
        assert_eq!(w.close_code(), None);
        assert!(w.feed(&f[3..]));
        assert_eq!(w.close_code(), Some(1005));
        // A masked close, then a close without a body (no code at all).
        let key = [9u8, 8, 7, 6];
        let mut masked = vec![0x88, 0x80 | 2];
        masked.extend_from_slice(&key);
        masked.extend_from_slice(&[0x13 ^ 9, 0x88 ^ 8]);
        assert!(w.feed(&masked));
        assert_eq!(w.close_code(), Some(0x1388));
        assert!(w.feed(&[0x88, 0x00]));
        assert_eq!(w.close_code(), None);
    }

    #[test]
    fn close_reasons_are_checked_too() {
        let mut ok = vec![0x03, 0xe8];
        ok.extend_from_slice("bye – à bientôt".as_bytes());
        let ok = frame(0x88, &ok);
        assert_eq!(fails_at(&ok), None);
        // The bad byte is the reason's third: header 2 + code 2 + "ok" 2 + 0xc3, then 0x28.
        let bad = frame(0x88, &[0x03, 0xe8, b'o', b'k', 0xc3, 0x28]);
        assert_eq!(fails_at(&bad), Some(7));
        let mut w = Watch::default();
        assert!(!w.feed(&bad));
        assert_eq!(w.failure(), Some(InvalidUtf8::CloseReason));
        // A reason may not stop half-way through a character.
        let cut = frame(0x88, &[0x03, 0xe8, 0xc3]);
        let mut w = Watch::default();
        assert!(!w.feed(&cut));
        assert_eq!(w.failure(), Some(InvalidUtf8::CloseReason));
        // A masked reason is unmasked first (the code's two bytes count for the mask).
        let key = [7u8, 1, 2, 3];
        let plain = [0x03, 0xe8, 0xc3, 0xa9];
        let mut masked = vec![0x88, 0x80 | 4];
        masked.extend_from_slice(&key);
        masked.extend(plain.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        assert_eq!(fails_at(&masked), None);
    }

    #[test]
    fn invalid_text_behind_the_handshake_is_named_before_any_read() {
        let wire = WireFacts::default();
        let _g = Guard::new(
            &b""[..],
            &frame(0x88, &[0x03, 0xe8, 0xff]),
            wire.clone(),
            1 << 20,
        );
        assert_eq!(wire.invalid_utf8(), Some(InvalidUtf8::CloseReason));
        assert_eq!(wire.close_code(), Some(1000));
    }

    #[test]
    fn a_close_between_fragments_keeps_the_text_s_split_character() {
        // "é" split across two fragments with a close in between: neither spoils the other.
        let mut bytes = frame(0x01, b"\xc3");
        bytes.extend(frame(0x88, &[0x03, 0xe8, 0xc3, 0xa9]));
        bytes.extend(frame(0x80, b"\xa9"));
        assert_eq!(fails_at(&bytes), None);
        let mut w = Watch::default();
        assert!(!w.feed(&frame(0x81, b"\xff")));
        assert_eq!(w.failure(), Some(InvalidUtf8::TextMessage));
    }

    #[test]
    fn long_frames_and_absurd_lengths() {
        let text = "é".repeat(1000);
        assert_eq!(fails_at(&frame(0x81, text.as_bytes())), None);
        let mut w = Watch::default();
        assert!(w.feed(&[0x81, 127, 0x80, 0, 0, 0, 0, 0, 0, 0, 0xff]));
    }

    #[tokio::test]
    async fn raises_a_marked_error_before_handing_up_the_bad_bytes() {
        use tokio::io::AsyncReadExt;
        let bytes = frame(0x81, b"ok\xff");
        let mut g = Guard::new(&bytes[..], &[], WireFacts::default(), 1 << 20);
        let mut out = Vec::new();
        let e = g.read_to_end(&mut out).await.unwrap_err();
        assert_eq!(invalid_utf8(&e), Some(InvalidUtf8::TextMessage));
        assert!(out.is_empty());
    }

    /// Autobahn 3.4: a message, then a frame with reserved bits, in one read: the message goes up
    /// first, and the read after it fails.
    #[tokio::test]
    async fn the_frames_before_a_reserved_bit_frame_are_handed_up_first() {
        use tokio::io::AsyncReadExt;
        let mut bytes = frame(0x81, b"hello");
        bytes.extend(frame(0xF1, b"bad"));
        let mut g = Guard::new(&bytes[..], &[], WireFacts::default(), 1 << 20);
        let mut buf = [0u8; 64];
        let n = g.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], &frame(0x81, b"hello")[..]);
        let e = g.read(&mut buf).await.unwrap_err();
        assert!(
            matches!(unexpected(&e), Some(Unexpected::ReservedBits(0x70))),
            "{e}"
        );
    }

    /// A header begun in the bytes that came with the handshake response belongs to the library
    /// already: the rest of it, and no more, is handed up after it.
    #[tokio::test]
    async fn a_header_begun_in_the_leftover_is_not_handed_up_twice() {
        use tokio::io::AsyncReadExt;
        let big = frame(0x81, &[b'a'; 300]);
        let mut rest = big[3..].to_vec();
        rest.extend(frame(0x81, b"one"));
        for limit in [1 << 20, 100] {
            let mut g = Guard::new(&rest[..], &big[..3], WireFacts::default(), limit);
            let mut out = Vec::new();
            g.read_to_end(&mut out).await.unwrap();
            assert_eq!(out, rest, "limit {limit}");
        }
    }

    /// A message over the limit is dropped whole, the stream goes on, and the session is told.
    #[tokio::test]
    async fn a_message_over_the_limit_never_reaches_the_library() {
        use tokio::io::AsyncReadExt;
        let mut bytes = frame(0x82, &[7; 500]);
        bytes.extend(frame(0x81, b"next"));
        let wire = WireFacts::default();
        let mut g = Guard::new(&bytes[..], &[], wire.clone(), 200);
        let mut out = Vec::new();
        g.read_to_end(&mut out).await.unwrap();
        assert_eq!(out, frame(0x81, b"next"));
        let t = wire.too_big().await;
        assert_eq!((t.size, t.limit), (500, 200));
    }

    #[test]
    fn reserved_bits_fail_before_the_payload_is_judged_as_text() {
        // Compressed "Hello" in a text frame with RSV1: the bit is the violation, not UTF-8.
        let mut w = Watch::default();
        assert!(!w.feed(&frame(0xC1, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00])));
        assert_eq!(w.failure(), None);
        assert_eq!(w.unexpected(), Some(&Unexpected::ReservedBits(0x40)));
        let mut w = Watch::default();
        assert!(w.feed(&frame(0x81, b"ok")));
        assert!(!w.feed(&frame(0xA2, b"x")));
        assert!(w.unexpected().unwrap().to_string().contains("RSV2"));
    }

    #[test]
    fn an_http_response_after_the_101_is_named_with_its_status_line() {
        let http = b"HTTP/1.1 400 Bad \x1b[31mRequest\r\nContent-Length: 0\r\n\r\n";
        // The verdict comes with the frame header's two bytes; the line is what came with them
        // (a read that ends inside the line shows it cut, marked so).
        let whole = "HTTP/1.1 400 Bad \\u{1b}[31mRequest";
        for (split, shown) in [(http.len(), whole), (1, whole), (2, "HT…"), (3, "HTT…")] {
            let mut w = Watch::default();
            let ok = w.feed(&http[..split]) && w.feed(&http[split..]);
            assert!(!ok);
            match w.unexpected() {
                Some(Unexpected::HttpResponse(line)) => assert_eq!(line, shown, "split {split}"),
                other => panic!("split {split}: {other:?}"),
            }
        }
        // Later in the stream, the same bytes are only reserved bits.
        let mut w = Watch::default();
        assert!(w.feed(&frame(0x81, b"ok")));
        assert!(!w.feed(http));
        assert!(matches!(w.unexpected(), Some(Unexpected::ReservedBits(_))));
    }

    #[test]
    fn unexpected_bytes_behind_the_handshake_are_known_before_any_read() {
        let wire = WireFacts::default();
        let _g = Guard::new(
            &b""[..],
            b"HTTP/1.1 400 Bad Request\r\n\r\n",
            wire.clone(),
            1 << 20,
        );
        assert_eq!(
            wire.unexpected(),
            Some(Unexpected::HttpResponse("HTTP/1.1 400 Bad Request".into()))
        );
    }

    proptest::proptest! {
        #[test]
        fn any_split_gives_the_verdict_of_the_whole(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300), cut in 0usize..300) {
            let cut = cut.min(bytes.len());
            let mut whole = Watch::default();
            let mut split = Watch::default();
            let a = whole.feed(&bytes);
            let b = split.feed(&bytes[..cut]) && split.feed(&bytes[cut..]);
            proptest::prop_assert_eq!(a, b);
        }
    }
}
