//! The one reader and the one writer of RFC 6455 frame headers (§5.2), as tungstenite's
//! `FrameHeader::parse` serves its codec. [`parse`] is pure: the bytes at the start of a frame in,
//! either how many bytes the header needs ([`Parsed::Need`]) or the [`Header`]. [`Accumulator`]
//! gathers a header that arrives in pieces, for the layers that follow a stream byte by byte (the
//! dump's decoder, the guard, the inflater). [`Header::encode`] writes one, for `/frame`, `/raw`
//! and the inflater's plain frames. Nothing here judges the protocol: reserved bits and opcodes,
//! absurd lengths and non-minimal forms are read and written as they are.

/// Which of the three payload-length encodings carries the length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
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

    /// Bytes of the extended length field.
    pub fn extra_bytes(self) -> usize {
        match self {
            LengthForm::Seven => 0,
            LengthForm::Sixteen => 2,
            LengthForm::SixtyFour => 8,
        }
    }

    /// The form the second byte's low 7 bits announce.
    pub fn from_marker(len7: u8) -> Self {
        match len7 {
            126 => LengthForm::Sixteen,
            127 => LengthForm::SixtyFour,
            _ => LengthForm::Seven,
        }
    }

    /// The shortest form that holds `len`.
    pub fn minimal(len: u64) -> Self {
        match len {
            0..=125 => LengthForm::Seven,
            126..=0xFFFF => LengthForm::Sixteen,
            _ => LengthForm::SixtyFour,
        }
    }
}

/// RSV1, RSV2, RSV3 as bits of the first byte.
pub const RSV1: u8 = 0x40;
pub const RSV_BITS: u8 = 0x70;

/// One frame header, field by field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub fin: bool,
    /// The reserved bits as they sit in the first byte (0x40 RSV1, 0x20 RSV2, 0x10 RSV3).
    pub rsv: u8,
    /// The 4-bit opcode.
    pub opcode: u8,
    pub mask: Option<[u8; 4]>,
    /// The payload length declared.
    pub len: u64,
    /// How the length was (or is to be) written.
    pub form: LengthForm,
}

/// What [`parse`] made of the bytes at the start of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// The header is this many bytes in all (as far as the bytes given tell: 2 until the
    /// second byte is in); more are needed.
    Need(usize),
    /// The whole header, and its size in bytes.
    Header(Header, usize),
}

/// The size of the header that begins with `bytes`, as far as they tell (2 until the second byte
/// shows the length form and the mask bit).
pub fn size(bytes: &[u8]) -> usize {
    match bytes.get(1) {
        None => 2,
        Some(b1) => {
            let mask = if b1 & 0x80 != 0 { 4 } else { 0 };
            2 + LengthForm::from_marker(b1 & 0x7f).extra_bytes() + mask
        }
    }
}

/// Read the header at the start of `bytes` (which may hold more than the header).
pub fn parse(bytes: &[u8]) -> Parsed {
    let want = size(bytes);
    if bytes.len() < want {
        return Parsed::Need(want);
    }
    let (b0, b1) = (bytes[0], bytes[1]);
    let form = LengthForm::from_marker(b1 & 0x7f);
    let ext = &bytes[2..2 + form.extra_bytes()];
    let len = match form {
        LengthForm::Seven => u64::from(b1 & 0x7f),
        _ => ext.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)),
    };
    let mask = (b1 & 0x80 != 0).then(|| {
        let k = &bytes[want - 4..want];
        [k[0], k[1], k[2], k[3]]
    });
    Parsed::Header(
        Header {
            fin: b0 & 0x80 != 0,
            rsv: b0 & RSV_BITS,
            opcode: b0 & 0x0f,
            mask,
            len,
            form,
        },
        want,
    )
}

impl Header {
    /// A header for `len` payload bytes in the shortest length form.
    pub fn new(fin: bool, rsv: u8, opcode: u8, mask: Option<[u8; 4]>, len: u64) -> Header {
        Header {
            fin,
            rsv: rsv & RSV_BITS,
            opcode: opcode & 0x0f,
            mask,
            len,
            form: LengthForm::minimal(len),
        }
    }

    pub fn rsv1(&self) -> bool {
        self.rsv & RSV1 != 0
    }

    /// Control frames are those with the opcode's high bit set (§5.5).
    pub fn is_control(&self) -> bool {
        self.opcode & 0x08 != 0
    }

    /// A longer length form than the length needs (e.g. 16-bit for 5 bytes).
    pub fn non_minimal(&self) -> bool {
        self.form > LengthForm::minimal(self.len)
    }

    /// Append the header's bytes to `out`: in its length form, or a longer one when that cannot
    /// hold the length. A parsed header is written back byte for byte.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let fin = if self.fin { 0x80 } else { 0 };
        out.push(fin | (self.rsv & RSV_BITS) | (self.opcode & 0x0f));
        let masked = if self.mask.is_some() { 0x80 } else { 0 };
        match self.form.max(LengthForm::minimal(self.len)) {
            LengthForm::Seven => out.push(masked | self.len as u8),
            LengthForm::Sixteen => {
                out.push(masked | 126);
                out.extend_from_slice(&(self.len as u16).to_be_bytes());
            }
            LengthForm::SixtyFour => {
                out.push(masked | 127);
                out.extend_from_slice(&self.len.to_be_bytes());
            }
        }
        if let Some(k) = self.mask {
            out.extend_from_slice(&k);
        }
    }
}

/// Gathers a header that arrives in pieces: at most 14 bytes, no allocation.
#[derive(Debug, Default, Clone)]
pub struct Accumulator {
    buf: [u8; 14],
    len: usize,
}

impl Accumulator {
    /// Take header bytes from the start of `data`: how many were taken, and the header once it
    /// is whole (its bytes stay readable through [`Accumulator::bytes`] until the next push).
    pub fn push(&mut self, data: &[u8]) -> (usize, Option<Header>) {
        if self.len >= 2 && self.len == size(&self.buf[..self.len]) {
            self.len = 0;
        }
        let mut taken = 0;
        loop {
            match parse(&self.buf[..self.len]) {
                Parsed::Header(h, _) => return (taken, Some(h)),
                Parsed::Need(want) => {
                    let n = (want - self.len).min(data.len() - taken);
                    if n == 0 {
                        return (taken, None);
                    }
                    self.buf[self.len..self.len + n].copy_from_slice(&data[taken..taken + n]);
                    self.len += n;
                    taken += n;
                }
            }
        }
    }

    /// The header bytes gathered so far (the whole header once [`Accumulator::push`] gave it).
    pub fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Some bytes of a header are in, and not all of them.
    pub fn partial(&self) -> bool {
        self.len > 0 && self.len < size(&self.buf[..self.len])
    }

    /// Forget what was gathered.
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc_examples_parse_and_encode_back() {
        // §5.7: a masked "Hello".
        let masked = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d];
        let Parsed::Header(h, n) = parse(&masked) else {
            panic!("incomplete")
        };
        assert_eq!(n, 6);
        assert_eq!(
            h,
            Header::new(true, 0, 1, Some([0x37, 0xfa, 0x21, 0x3d]), 5)
        );
        let mut out = Vec::new();
        h.encode(&mut out);
        assert_eq!(out, masked);
        // 256 bytes in the 16-bit form, 64 KiB in the 64-bit form.
        assert_eq!(parse(&[0x82, 0x7e, 0x01]), Parsed::Need(4));
        assert!(matches!(parse(&[0x82, 0x7e, 0x01, 0x00]), Parsed::Header(h, 4) if h.len == 256));
        let mut big = vec![0x82, 0x7f];
        big.extend_from_slice(&65536u64.to_be_bytes());
        assert!(matches!(parse(&big), Parsed::Header(h, 10) if h.len == 65536 && !h.non_minimal()));
        assert_eq!(parse(&[]), Parsed::Need(2));
        assert_eq!(parse(&[0x81]), Parsed::Need(2));
        assert_eq!(parse(&[0x81, 0x80]), Parsed::Need(6));
    }

    #[test]
    fn a_non_minimal_length_is_kept_and_a_too_short_form_widened() {
        let Parsed::Header(h, _) = parse(&[0x81, 0x7e, 0x00, 0x05]) else {
            panic!()
        };
        assert!(h.non_minimal());
        let mut out = Vec::new();
        h.encode(&mut out);
        assert_eq!(out, [0x81, 0x7e, 0x00, 0x05]);
        let wide = Header {
            form: LengthForm::Seven,
            ..Header::new(true, 0, 2, None, 300)
        };
        out.clear();
        wide.encode(&mut out);
        assert_eq!(out, [0x82, 126, 0x01, 0x2c]);
    }

    proptest! {
        /// Any header, fed in any pieces, gathers to what parse reads of the whole, and encodes
        /// back to its bytes.
        #[test]
        fn pieces_parse_like_the_whole_and_encode_back(
            bytes in proptest::collection::vec(any::<u8>(), 0..20),
            cut in 0usize..20,
        ) {
            let whole = parse(&bytes);
            let mut acc = Accumulator::default();
            let cut = cut.min(bytes.len());
            let (a, first) = acc.push(&bytes[..cut]);
            let got = match first {
                Some(h) => Some(h),
                None => acc.push(&bytes[a..]).1,
            };
            match whole {
                Parsed::Header(h, n) => {
                    prop_assert_eq!(got, Some(h));
                    prop_assert_eq!(acc.bytes(), &bytes[..n]);
                    let mut out = Vec::new();
                    h.encode(&mut out);
                    prop_assert_eq!(&out[..], &bytes[..n]);
                }
                Parsed::Need(_) => prop_assert_eq!(got, None),
            }
        }
    }
}
