//! Incremental, panic-free decoder for raw RFC 6455 frames as they appear on
//! the wire. It powers `--dump`: bytes are fed in whatever pieces the socket
//! produced, and every byte ends up attributed to some [`Frame`] (header,
//! kept payload or elided count), including malformed or truncated ones, so
//! the dump never hides anything. Memory stays bounded by `limit` per frame
//! no matter what length the peer declares.

/// Unmask `piece` into the start of `out` (at least as long), with `key` from `*pos` on (a
/// payload's position modulo 4), and move `*pos` past it: for payloads that arrive in pieces.
pub(crate) fn unmask_into<'a>(
    piece: &[u8],
    key: [u8; 4],
    pos: &mut usize,
    out: &'a mut [u8],
) -> &'a [u8] {
    for (i, b) in piece.iter().enumerate() {
        out[i] = b ^ key[(*pos + i) % 4];
    }
    *pos = (*pos + piece.len()) % 4;
    &out[..piece.len()]
}

/// Which way a frame travelled, from our point of view.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Written to the socket by us.
    Outgoing,
    /// Read from the socket.
    Incoming,
}

pub use super::header::LengthForm;
use super::header::{Accumulator, Header};

/// One frame as seen on the wire, possibly malformed or truncated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub fin: bool,
    pub rsv1: bool,
    pub rsv2: bool,
    pub rsv3: bool,
    /// Raw 4-bit opcode; reserved values are kept rather than rejected.
    pub opcode: u8,
    pub mask: Option<[u8; 4]>,
    /// Length as declared on the wire, which may exceed what was received.
    pub payload_len: u64,
    pub length_form: LengthForm,
    /// A longer length form than needed was used (e.g. 16-bit for 5 bytes).
    pub non_minimal_length: bool,
    /// Raw header bytes (2..=14, fewer only for a header cut off by EOF).
    pub header: Vec<u8>,
    /// First `<= limit` payload bytes exactly as on the wire (still masked).
    pub raw_payload: Vec<u8>,
    /// `raw_payload` unmasked.
    pub payload: Vec<u8>,
    /// Payload bytes received but not kept. For a complete frame this is
    /// `payload_len - kept`; for an incomplete one only the bytes that
    /// actually arrived count, so `raw_payload.len() + elided` is always the
    /// number of payload bytes seen.
    pub elided: u64,
    /// False when the stream ended (or the decoder was flushed) mid-frame.
    pub complete: bool,
    /// A frame of a permessage-deflate message: what it inflates to (when the decoder was told
    /// compression was negotiated, see [`FrameDecoder::inflate`]).
    pub inflated: Option<crate::deflate::mirror::Inflated>,
}

impl Frame {
    /// Roughly the bytes this frame holds, for byte-bounded queues.
    pub fn cost(&self) -> usize {
        std::mem::size_of::<Frame>()
            + self.header.capacity()
            + self.raw_payload.capacity()
            + self.payload.capacity()
    }
}

/// Decoded body of a close frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseInfo {
    /// Status code exactly as sent, even values that must never be sent.
    pub code: Option<u16>,
    pub reason: String,
    pub problem: Option<&'static str>,
}

impl Frame {
    /// Human name of the opcode; reserved values say so and keep their value.
    pub fn opcode_name(&self) -> &'static str {
        match self.opcode & 0x0f {
            0x0 => "continuation",
            0x1 => "text",
            0x2 => "binary",
            0x3 => "reserved-non-control(0x3)",
            0x4 => "reserved-non-control(0x4)",
            0x5 => "reserved-non-control(0x5)",
            0x6 => "reserved-non-control(0x6)",
            0x7 => "reserved-non-control(0x7)",
            0x8 => "close",
            0x9 => "ping",
            0xa => "pong",
            0xb => "reserved-control(0xb)",
            0xc => "reserved-control(0xc)",
            0xd => "reserved-control(0xd)",
            0xe => "reserved-control(0xe)",
            _ => "reserved-control(0xf)",
        }
    }

    /// Control frames are those with the opcode's high bit set (RFC 6455 5.5).
    pub fn is_control(&self) -> bool {
        self.opcode & 0x08 != 0
    }

    /// False only for a frame cut off by EOF inside its header, whose length
    /// and mask fields may then be missing.
    pub fn header_complete(&self) -> bool {
        self.header.len() >= super::header::size(&self.header)
    }

    /// Number of payload bytes that actually arrived.
    pub fn received_payload(&self) -> u64 {
        self.raw_payload.len() as u64 + self.elided
    }

    /// Protocol violations visible in this frame alone (plus truncation and
    /// close-body problems, so a renderer needs only this list).
    pub fn problems(&self) -> Vec<&'static str> {
        let mut problems = Vec::new();
        if let Some(p) = reserved_opcode_problem(self.opcode) {
            problems.push(p);
        }
        // RSV bits are legal only with a negotiated extension; the decoder
        // cannot see the handshake, so the wording leaves that door open.
        if self.rsv1 && self.inflated.is_none() {
            problems.push("RSV1 set (needs a negotiated extension)");
        }
        if self.rsv2 {
            problems.push("RSV2 set (needs a negotiated extension)");
        }
        if self.rsv3 {
            problems.push("RSV3 set (needs a negotiated extension)");
        }
        if self.is_control() && self.payload_len > 125 {
            problems.push("control frame payload > 125 bytes");
        }
        if self.is_control() && !self.fin {
            problems.push("fragmented control frame (FIN=0)");
        }
        if self.non_minimal_length {
            problems.push("non-minimal payload length encoding");
        }
        if self.length_form == LengthForm::SixtyFour && self.payload_len >> 63 != 0 {
            problems.push("64-bit length with most significant bit set");
        }
        if let Some(p) = self.close_info().and_then(|c| c.problem) {
            problems.push(p);
        }
        if !self.complete {
            problems.push("truncated: stream ended mid-frame");
        }
        problems
    }

    /// Code and reason of a close frame, decoded from the raw bytes so that
    /// codes a library would reject (1005, 1006, ...) are still shown.
    pub fn close_info(&self) -> Option<CloseInfo> {
        if self.opcode != 0x8 {
            return None;
        }
        if self.payload_len == 1 {
            return Some(CloseInfo {
                code: None,
                reason: String::new(),
                problem: Some("close body of 1 byte (a status code needs 2)"),
            });
        }
        let (code, rest) = match self.payload.as_slice() {
            [hi, lo, rest @ ..] => (Some(u16::from_be_bytes([*hi, *lo])), rest),
            _ => (None, &[][..]),
        };
        let code_problem = code.and_then(|c| {
            (!crate::wire::close::may_be_sent(c)).then_some("close code not allowed on the wire")
        });
        let utf8_problem = match std::str::from_utf8(rest) {
            Ok(_) => None,
            // A cut by --dump-limit can split a character; only bytes that
            // are wrong in themselves count as invalid.
            Err(e) if e.error_len().is_none() && self.elided > 0 => None,
            Err(_) => Some("close reason is not valid UTF-8"),
        };
        Some(CloseInfo {
            code,
            reason: String::from_utf8_lossy(rest).into_owned(),
            problem: code_problem.or(utf8_problem),
        })
    }
}

fn reserved_opcode_problem(opcode: u8) -> Option<&'static str> {
    Some(match opcode & 0x0f {
        0x3 => "reserved opcode 0x3",
        0x4 => "reserved opcode 0x4",
        0x5 => "reserved opcode 0x5",
        0x6 => "reserved opcode 0x6",
        0x7 => "reserved opcode 0x7",
        0xb => "reserved opcode 0xb",
        0xc => "reserved opcode 0xc",
        0xd => "reserved opcode 0xd",
        0xe => "reserved opcode 0xe",
        0xf => "reserved opcode 0xf",
        _ => return None,
    })
}

impl Frame {
    /// A frame whose header `h` (of bytes `raw`) is complete and whose payload is to come.
    fn from_header(h: &Header, raw: &[u8]) -> Frame {
        Frame {
            fin: h.fin,
            rsv1: h.rsv & 0x40 != 0,
            rsv2: h.rsv & 0x20 != 0,
            rsv3: h.rsv & 0x10 != 0,
            opcode: h.opcode,
            mask: h.mask,
            payload_len: h.len,
            length_form: h.form,
            non_minimal_length: h.non_minimal(),
            header: raw.to_vec(),
            raw_payload: Vec::new(),
            payload: Vec::new(),
            elided: 0,
            complete: false,
            inflated: None,
        }
    }

    /// A header cut off by the end of the stream: the fields its bytes hold, neutral defaults for
    /// the rest (no mask, length 0).
    fn cut_off(raw: &[u8]) -> Frame {
        let b0 = raw.first().copied().unwrap_or(0);
        let form = LengthForm::from_marker(raw.get(1).copied().unwrap_or(0) & 0x7f);
        // The length, when its bytes are all in: the header without its mask key, read as one.
        let unmasked = [raw.get(1).copied().unwrap_or(0) & 0x7f];
        let len_bytes = raw.get(2..2 + form.extra_bytes());
        let len = match len_bytes {
            Some(ext) => {
                let mut head = vec![b0, unmasked[0]];
                head.extend_from_slice(ext);
                match super::header::parse(&head) {
                    super::header::Parsed::Header(h, _) => h.len,
                    super::header::Parsed::Need(_) => 0,
                }
            }
            None => 0,
        };
        let mut h = Header::new(b0 & 0x80 != 0, b0, b0, None, len);
        h.form = form;
        let mut f = Frame::from_header(&h, raw);
        f.non_minimal_length = len_bytes.is_some() && h.non_minimal();
        f
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Encodes a frame; `form` forces a length encoding (None = minimal).
    fn encode(b0: u8, mask: Option<[u8; 4]>, payload: &[u8], form: Option<LengthForm>) -> Vec<u8> {
        let len = payload.len() as u64;
        let form = form.unwrap_or(match len {
            0..=125 => LengthForm::Seven,
            126..=0xffff => LengthForm::Sixteen,
            _ => LengthForm::SixtyFour,
        });
        let mbit = if mask.is_some() { 0x80 } else { 0 };
        let mut v = vec![b0];
        match form {
            LengthForm::Seven => v.push(mbit | len as u8),
            LengthForm::Sixteen => {
                v.push(mbit | 126);
                v.extend_from_slice(&(len as u16).to_be_bytes());
            }
            LengthForm::SixtyFour => {
                v.push(mbit | 127);
                v.extend_from_slice(&len.to_be_bytes());
            }
        }
        match mask {
            Some(k) => {
                v.extend_from_slice(&k);
                v.extend(payload.iter().zip(k.iter().cycle()).map(|(b, k)| b ^ k));
            }
            None => v.extend_from_slice(payload),
        }
        v
    }

    fn decode(limit: usize, bytes: &[u8]) -> Vec<Frame> {
        let mut d = FrameDecoder::new(limit);
        let mut out = Vec::new();
        d.feed(bytes, &mut out);
        out.extend(d.finish());
        out
    }

    fn one(limit: usize, bytes: &[u8]) -> Frame {
        let mut frames = decode(limit, bytes);
        assert_eq!(frames.len(), 1, "{frames:?}");
        frames.remove(0)
    }

    const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

    #[test]
    fn masked_hello_matches_rfc_example() {
        let bytes = encode(0x81, Some(KEY), b"Hello", None);
        assert_eq!(
            bytes,
            [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
        );
        let f = one(256, &bytes);
        assert!(f.fin && f.complete && !f.is_control());
        assert_eq!(f.opcode_name(), "text");
        assert_eq!(f.mask, Some(KEY));
        assert_eq!(f.payload, b"Hello");
        assert_eq!(f.raw_payload, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
        assert_eq!(f.header.len(), 6);
        assert!(f.problems().is_empty());
    }

    #[test]
    fn length_forms_at_boundaries() {
        for (len, form, header) in [
            (0usize, LengthForm::Seven, 2),
            (125, LengthForm::Seven, 2),
            (126, LengthForm::Sixteen, 4),
            (65535, LengthForm::Sixteen, 4),
            (65536, LengthForm::SixtyFour, 10),
        ] {
            let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let f = one(100, &encode(0x82, None, &payload, None));
            assert_eq!(
                (f.payload_len, f.length_form, f.header.len()),
                (len as u64, form, header)
            );
            assert_eq!(f.payload, payload[..len.min(100)]);
            assert_eq!(f.elided, len.saturating_sub(100) as u64);
            assert!(f.complete && !f.non_minimal_length && f.problems().is_empty());
        }
        assert_eq!(LengthForm::Sixteen.bits(), 16);
    }

    #[test]
    fn non_minimal_lengths_are_flagged() {
        let f = one(
            256,
            &encode(0x81, None, b"hello", Some(LengthForm::Sixteen)),
        );
        assert_eq!((f.length_form, f.payload_len), (LengthForm::Sixteen, 5));
        assert!(f.non_minimal_length);
        assert_eq!(f.problems(), ["non-minimal payload length encoding"]);
        let f = one(
            256,
            &encode(0x82, None, &[0; 300], Some(LengthForm::SixtyFour)),
        );
        assert!(f.non_minimal_length && f.complete);
        let f = one(
            256,
            &encode(0x82, Some(KEY), &[0; 126], Some(LengthForm::Sixteen)),
        );
        assert!(!f.non_minimal_length);
        assert_eq!(f.payload, [0; 126]);
    }

    #[test]
    fn unmasking_continues_across_split_reads_and_the_limit() {
        let payload: Vec<u8> = (0..50).collect();
        let bytes = encode(0x82, Some(KEY), &payload, None);
        let mut d = FrameDecoder::new(10);
        let mut out = Vec::new();
        for chunk in bytes.chunks(3) {
            d.feed(chunk, &mut out);
        }
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].payload, payload[..10]);
        assert_eq!(out[0].raw_payload, bytes[6..16]);
        assert_eq!(out[0].elided, 40);
    }

    #[test]
    fn fragmented_text_message() {
        let mut bytes = encode(0x01, None, b"hel", None);
        bytes.extend(encode(0x80, None, b"lo", None));
        let frames = decode(256, &bytes);
        assert_eq!(frames.len(), 2);
        assert!(!frames[0].fin && frames[1].fin);
        assert_eq!(frames[1].opcode_name(), "continuation");
        assert!(frames.iter().all(|f| f.problems().is_empty()));
    }

    #[test]
    fn split_at_every_boundary_and_many_frames_per_read() {
        let mut bytes = encode(0x81, Some(KEY), b"Hello", None);
        bytes.extend(encode(0x89, None, b"", None));
        bytes.extend(encode(0x82, None, &[7; 200], None));
        bytes.extend(encode(0x88, None, &[0x03, 0xe8], None));
        let whole = decode(64, &bytes);
        assert_eq!(whole.len(), 4);
        for i in 0..=bytes.len() {
            for j in i..=bytes.len() {
                let mut d = FrameDecoder::new(64);
                let mut out = Vec::new();
                d.feed(&bytes[..i], &mut out);
                d.feed(&bytes[i..j], &mut out);
                d.feed(&bytes[j..], &mut out);
                assert!(d.finish().is_none());
                assert_eq!(out, whole, "split at {i},{j}");
            }
        }
    }

    #[test]
    fn reserved_opcodes() {
        let f = one(256, &[0x83, 0x00]);
        assert_eq!(f.opcode_name(), "reserved-non-control(0x3)");
        assert_eq!(f.problems(), ["reserved opcode 0x3"]);
        let f = one(256, &[0x8f, 0x00]);
        assert_eq!(f.opcode_name(), "reserved-control(0xf)");
        assert!(f.is_control());
        assert_eq!(f.problems(), ["reserved opcode 0xf"]);
    }

    #[test]
    fn rsv_bits_are_reported() {
        let f = one(256, &[0xc1 | 0x30, 0x00]);
        assert!(f.rsv1 && f.rsv2 && f.rsv3);
        assert_eq!(f.problems().len(), 3);
    }

    #[test]
    fn big_and_fragmented_control_frames() {
        let f = one(256, &encode(0x89, None, &[1; 126], None));
        assert_eq!(f.problems(), ["control frame payload > 125 bytes"]);
        let f = one(256, &encode(0x0a, None, b"x", None));
        assert_eq!(f.problems(), ["fragmented control frame (FIN=0)"]);
    }

    #[test]
    fn absurd_length_is_skipped_without_allocating() {
        let mut d = FrameDecoder::new(16);
        let mut out = Vec::new();
        d.feed(&[0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0], &mut out);
        for _ in 0..100 {
            d.feed(&[0xaa; 4096], &mut out);
        }
        assert!(out.is_empty());
        let f = d.finish().unwrap();
        assert_eq!(f.payload_len, 1 << 63);
        assert!(f.raw_payload.capacity() < 1024 && f.payload.capacity() < 1024);
        assert_eq!((f.raw_payload.len(), f.elided), (16, 100 * 4096 - 16));
        assert_eq!(
            f.problems(),
            [
                "64-bit length with most significant bit set",
                "truncated: stream ended mid-frame"
            ]
        );
    }

    #[test]
    fn close_frames() {
        let f = one(256, &encode(0x88, None, b"\x03\xe8bye", None));
        let c = f.close_info().unwrap();
        assert_eq!(
            (c.code, c.reason.as_str(), c.problem),
            (Some(1000), "bye", None)
        );
        assert!(f.problems().is_empty());

        let f = one(256, &encode(0x88, Some(KEY), &1005u16.to_be_bytes(), None));
        let c = f.close_info().unwrap();
        assert_eq!(c.code, Some(1005));
        assert_eq!(crate::wire::close::name(1005), "no status received");
        assert_eq!(f.problems(), ["close code not allowed on the wire"]);

        let f = one(256, &encode(0x88, None, &[0x03], None));
        assert_eq!(f.close_info().unwrap().code, None);
        assert_eq!(
            f.problems(),
            ["close body of 1 byte (a status code needs 2)"]
        );

        let f = one(256, &encode(0x88, None, b"\x03\xe8\xff", None));
        assert_eq!(f.close_info().unwrap().reason, "\u{fffd}");
        assert_eq!(f.problems(), ["close reason is not valid UTF-8"]);

        let f = one(256, &[0x88, 0x00]);
        let c = f.close_info().unwrap();
        assert_eq!((c.code, c.problem), (None, None));
        assert!(one(256, &[0x81, 0x00]).close_info().is_none());
    }

    #[test]
    fn truncated_header_and_payload() {
        let f = one(256, &[0x81, 0xfe, 0x01]);
        assert!(!f.complete && !f.header_complete() && f.mask.is_none());
        assert_eq!((f.header.len(), f.payload_len), (3, 0));
        let f = one(256, &[0x81, 0x05, b'h', b'e']);
        assert!(!f.complete && f.header_complete());
        assert_eq!((f.payload_len, f.payload.as_slice()), (5, &b"he"[..]));
        assert!(decode(256, &[]).is_empty());
    }

    /// Header bytes, kept payload and elided counts add up to the input.
    fn accounted(frames: &[Frame]) -> u64 {
        frames
            .iter()
            .map(|f| f.header.len() as u64 + f.raw_payload.len() as u64 + f.elided)
            .sum()
    }

    #[test]
    fn a_frame_in_progress_when_the_dump_goes_off_is_dropped_whole() {
        let a = encode(0x81, None, b"first frame", None);
        let b = encode(0x81, None, b"second", None);
        let mut d = FrameDecoder::new(1000);
        let mut out = Vec::new();
        d.feed(&a[..5], &mut out);
        d.skip(&a[5..]);
        d.feed(&b, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].payload, b"second");
        assert!(out[0].complete);
    }

    proptest! {
        #[test]
        fn chunking_never_changes_the_result(
            bytes in proptest::collection::vec(any::<u8>(), 0..600),
            cuts in proptest::collection::vec(any::<usize>(), 0..8),
            limit in 0usize..300,
        ) {
            let whole = decode(limit, &bytes);
            prop_assert_eq!(accounted(&whole), bytes.len() as u64);
            let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
            cuts.sort_unstable();
            let mut d = FrameDecoder::new(limit);
            let mut out = Vec::new();
            let mut prev = 0;
            for c in cuts.into_iter().chain([bytes.len()]) {
                d.feed(&bytes[prev..c], &mut out);
                prev = c;
            }
            out.extend(d.finish());
            prop_assert_eq!(out, whole);
        }

        /// Skipping a prefix (the dump was off) and then decoding shows exactly the frames whose
        /// header was not complete at the switch, whatever the frames and wherever it falls.
        #[test]
        fn skip_then_feed_shows_the_frames_that_start_after_the_switch(
            payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 1..6),
            masked in any::<bool>(),
            cut in any::<usize>(),
            split in any::<usize>(),
        ) {
            let key = masked.then_some([1, 2, 3, 4]);
            let frames: Vec<Vec<u8>> = payloads.iter().map(|p| encode(0x82, key, p, None)).collect();
            let bytes: Vec<u8> = frames.concat();
            let cut = cut % (bytes.len() + 1);
            let mut header_ends = Vec::new();
            let mut at = 0;
            for (f, p) in frames.iter().zip(&payloads) {
                header_ends.push(at + f.len() - p.len());
                at += f.len();
            }
            let want: Vec<Vec<u8>> = header_ends.iter().zip(&payloads)
                .filter(|(end, _)| **end > cut)
                .map(|(_, p)| p.clone())
                .collect();
            let mut d = FrameDecoder::new(1000);
            // The skipped part in two calls, as a tap gets it.
            let split = split % (cut + 1);
            d.skip(&bytes[..split]);
            d.skip(&bytes[split..cut]);
            let mut out = Vec::new();
            d.feed(&bytes[cut..], &mut out);
            let got: Vec<Vec<u8>> = out.into_iter().map(|f| f.payload).collect();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn encoded_frames_round_trip(
            payload in proptest::collection::vec(any::<u8>(), 0..400),
            b0 in any::<u8>(),
            key in proptest::option::of(any::<[u8; 4]>()),
        ) {
            let f = one(1000, &encode(b0, key, &payload, None));
            prop_assert!(f.complete);
            prop_assert_eq!(&f.payload, &payload);
            prop_assert_eq!(f.mask, key);
            let _ = f.problems();
        }
    }
}
