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

/// Which of the three RFC 6455 payload-length encodings carried the length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LengthForm {
    /// Length in the 7 bits of the second header byte (0..=125).
    Seven,
    /// Marker 126 followed by a 16-bit big-endian length.
    Sixteen,
    /// Marker 127 followed by a 64-bit big-endian length.
    SixtyFour,
}

impl LengthForm {
    /// Width of the length field, as shown to users ("16-bit").
    pub fn bits(self) -> u8 {
        match self {
            LengthForm::Seven => 7,
            LengthForm::Sixteen => 16,
            LengthForm::SixtyFour => 64,
        }
    }

    fn extra_bytes(self) -> usize {
        match self {
            LengthForm::Seven => 0,
            LengthForm::Sixteen => 2,
            LengthForm::SixtyFour => 8,
        }
    }

    fn from_marker(len7: u8) -> Self {
        match len7 {
            126 => LengthForm::Sixteen,
            127 => LengthForm::SixtyFour,
            _ => LengthForm::Seven,
        }
    }
}

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
        self.header.len() >= header_size(&self.header)
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

/// Total header size implied by the bytes seen so far (2 until the second
/// byte reveals the length form and mask bit).
fn header_size(header: &[u8]) -> usize {
    match header.get(1) {
        None => 2,
        Some(b) => {
            let mask = if b & 0x80 != 0 { 4 } else { 0 };
            2 + LengthForm::from_marker(b & 0x7f).extra_bytes() + mask
        }
    }
}

/// The payload length a (possibly incomplete) header declares; 0 while its
/// extended length bytes are missing.
fn declared_len(header: &[u8]) -> u64 {
    let b1 = header.get(1).copied().unwrap_or(0);
    let form = LengthForm::from_marker(b1 & 0x7f);
    match (form, header.get(2..2 + form.extra_bytes())) {
        (LengthForm::Seven, _) => u64::from(b1 & 0x7f),
        (_, Some(bytes)) => bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)),
        (_, None) => 0,
    }
}

/// Builds a frame from (possibly incomplete) header bytes; fields whose
/// bytes are missing keep neutral defaults.
fn parse_header(header: &[u8]) -> Frame {
    let b0 = header.first().copied().unwrap_or(0);
    let b1 = header.get(1).copied().unwrap_or(0);
    let form = LengthForm::from_marker(b1 & 0x7f);
    let ext_end = 2 + form.extra_bytes();
    let ext = header.get(2..ext_end);
    let payload_len = declared_len(header);
    let non_minimal_length = ext.is_some()
        && match form {
            LengthForm::Seven => false,
            LengthForm::Sixteen => payload_len < 126,
            LengthForm::SixtyFour => payload_len <= 0xffff,
        };
    let mask = if b1 & 0x80 != 0 {
        header
            .get(ext_end..ext_end + 4)
            .and_then(|k| <[u8; 4]>::try_from(k).ok())
    } else {
        None
    };
    Frame {
        fin: b0 & 0x80 != 0,
        rsv1: b0 & 0x40 != 0,
        rsv2: b0 & 0x20 != 0,
        rsv3: b0 & 0x10 != 0,
        opcode: b0 & 0x0f,
        mask,
        payload_len,
        length_form: form,
        non_minimal_length,
        header: header.to_vec(),
        raw_payload: Vec::new(),
        payload: Vec::new(),
        elided: 0,
        complete: false,
        inflated: None,
    }
}

/// Streaming decoder: feed it socket bytes in any chunking, get frames out.
#[derive(Debug)]
pub struct FrameDecoder {
    limit: usize,
    /// Header bytes of the frame being started (at most 14).
    header: Vec<u8>,
    /// Frame whose header is complete and whose payload is still arriving.
    current: Option<Frame>,
    /// Payload bytes still to pass of a frame followed by [`FrameDecoder::skip`].
    skipping: u64,
    /// permessage-deflate was negotiated: compressed frames are shown inflated too.
    mirror: Option<crate::deflate::mirror::Mirror>,
}

impl FrameDecoder {
    /// `limit` is the number of payload bytes kept per frame.
    pub fn new(limit: usize) -> Self {
        FrameDecoder {
            limit,
            header: Vec::with_capacity(14),
            current: None,
            skipping: 0,
            mirror: None,
        }
    }

    /// From now on, show what the frames of compressed messages inflate to.
    pub fn inflate(&mut self, mirror: crate::deflate::mirror::Mirror) {
        self.mirror = Some(mirror);
    }

    /// Follows frame boundaries through `bytes` without keeping anything: what a tap does while
    /// its dump is off, with no allocation per frame. A frame in progress is dropped, and so is one
    /// whose header is complete here when [`FrameDecoder::feed`] takes over (a header cut off here
    /// is finished there, and its frame shown).
    pub fn skip(&mut self, bytes: &[u8]) {
        if let Some(m) = self.mirror.as_mut() {
            m.missed();
        }
        if let Some(frame) = self.current.take() {
            self.skipping = frame.payload_len - frame.received_payload();
        }
        let mut rest = bytes;
        while !rest.is_empty() {
            rest = self.pass_skipped(rest);
            let Some((&b, tail)) = rest.split_first() else {
                break;
            };
            rest = tail;
            self.header.push(b);
            if self.header.len() >= header_size(&self.header) {
                self.skipping = declared_len(&self.header);
                self.header.clear();
            }
        }
    }

    /// Passes over what is left of a skipped frame's payload; returns the rest.
    fn pass_skipped<'a>(&mut self, bytes: &'a [u8]) -> &'a [u8] {
        let n = usize::try_from(self.skipping).map_or(bytes.len(), |s| s.min(bytes.len()));
        self.skipping -= n as u64;
        &bytes[n..]
    }

    /// Decodes `bytes`, appending every frame they complete to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<Frame>) {
        let mut rest = self.pass_skipped(bytes);
        while !rest.is_empty() {
            if self.current.is_some() {
                rest = self.take_payload(rest, out);
                continue;
            }
            // Header bytes one at a time: at most 14, and the size is only
            // known once the second byte has arrived.
            let Some((&b, tail)) = rest.split_first() else {
                break;
            };
            rest = tail;
            self.header.push(b);
            if self.header.len() >= header_size(&self.header) {
                let mut frame = parse_header(&self.header);
                self.header.clear();
                if let Some(m) = self.mirror.as_mut().filter(|_| frame.header_complete()) {
                    frame.inflated = m.start(frame.opcode, frame.rsv1);
                }
                if frame.payload_len == 0 {
                    frame.complete = true;
                    if let (Some(m), Some(shown)) = (self.mirror.as_mut(), frame.inflated.as_mut())
                    {
                        m.end(shown, frame.fin);
                    }
                    out.push(frame);
                } else {
                    self.current = Some(frame);
                }
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
            match frame.mask {
                Some(key) => {
                    let plain: Vec<u8> = chunk
                        .iter()
                        .zip(key.iter().cycle().skip((at % 4) as usize))
                        .map(|(b, k)| b ^ k)
                        .collect();
                    m.feed(shown, &plain);
                }
                None => m.feed(shown, chunk),
            }
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
        self.skipping = 0;
        if let Some(frame) = self.current.take() {
            return Some(frame);
        }
        if self.header.is_empty() {
            return None;
        }
        let frame = parse_header(&self.header);
        self.header.clear();
        Some(frame)
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
