//! Raw RFC 6455 frames as they appear on the wire, and ([`decoder`]) the incremental, panic-free
//! decoder that makes them. It powers `--dump`: bytes are fed in whatever pieces the socket
//! produced, and every byte ends up attributed to some [`Frame`] (header, kept payload or elided
//! count), including malformed or truncated ones, so the dump never hides anything (a connection's
//! tap stops at the close frame: what follows it is no frame). Memory stays bounded by `limit` per
//! frame no matter what length the peer declares.

mod decoder;
#[cfg(test)]
mod tests;

pub use decoder::FrameDecoder;

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

use super::header::Header;
pub use super::header::LengthForm;

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
