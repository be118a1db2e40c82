//! Hand-built frames: what `/frame` sends and what `wscope probe` puts on the wire to see how a
//! server reacts. Pure code: the fields of one frame in, its bytes out. Nothing here checks the
//! protocol (a crafted frame may break every rule of RFC 6455 §5.2 on purpose); the one thing it
//! guarantees is that the bytes say exactly what the fields say.

use super::header::{Header, LengthForm};

/// How the payload is masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mask {
    /// A fresh random key, drawn when the frame is encoded (a client's frames, RFC 6455 §5.3).
    Random,
    /// No mask bit, no key: the payload goes as it is.
    None,
    /// This key.
    Key([u8; 4]),
}

/// One frame, field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crafted {
    pub fin: bool,
    pub rsv1: bool,
    pub rsv2: bool,
    pub rsv3: bool,
    /// The 4-bit opcode; only its low 4 bits are written.
    pub opcode: u8,
    pub mask: Mask,
    /// The length to declare, when it is not the payload's.
    pub len: Option<u64>,
    pub payload: Vec<u8>,
}

pub const CONTINUATION: u8 = 0x0;
pub const TEXT: u8 = 0x1;
pub const BINARY: u8 = 0x2;
pub const CLOSE: u8 = 0x8;
pub const PING: u8 = 0x9;
pub const PONG: u8 = 0xA;

impl Crafted {
    /// A final, masked frame of this opcode that declares its true length.
    pub fn new(opcode: u8, payload: impl Into<Vec<u8>>) -> Crafted {
        Crafted {
            fin: true,
            rsv1: false,
            rsv2: false,
            rsv3: false,
            opcode,
            mask: Mask::Random,
            len: None,
            payload: payload.into(),
        }
    }

    /// A close frame with this code and reason.
    pub fn close(code: u16, reason: &str) -> Crafted {
        let mut payload = code.to_be_bytes().to_vec();
        payload.extend_from_slice(reason.as_bytes());
        Crafted::new(CLOSE, payload)
    }

    /// The frame's bytes; a random mask key is drawn now.
    pub fn encode(&self) -> Vec<u8> {
        let key = match self.mask {
            Mask::Random => Some(random_key()),
            Mask::None => None,
            Mask::Key(k) => Some(k),
        };
        self.encode_with(key)
    }

    /// The frame's bytes, masked with `key` (none: unmasked).
    pub fn encode_with(&self, key: Option<[u8; 4]>) -> Vec<u8> {
        self.encode_form(key, LengthForm::Seven)
    }

    /// The frame's bytes with its length written in `form` or a longer one when that cannot
    /// hold it: a non-minimal encoding (RFC 6455 §5.2 forbids it: what `probe` tries).
    pub fn encode_in(&self, form: LengthForm) -> Vec<u8> {
        self.encode_form(Some(random_key()), form)
    }

    fn encode_form(&self, key: Option<[u8; 4]>, form: LengthForm) -> Vec<u8> {
        let len = self.len.unwrap_or(self.payload.len() as u64);
        let mut out = Vec::with_capacity(14 + self.payload.len());
        let bit = |on: bool, b: u8| if on { b } else { 0 };
        let rsv = bit(self.rsv1, 0x40) | bit(self.rsv2, 0x20) | bit(self.rsv3, 0x10);
        // The shortest length form that holds `len` (RFC 6455 §5.2) unless a longer one is
        // asked for; the key after it.
        let header = Header::new(self.fin, rsv, self.opcode, key, len);
        Header {
            form: header.form.max(form),
            ..header
        }
        .encode(&mut out);
        match key {
            // XOR with zeros changes nothing: skip the byte-by-byte pass (big probe messages).
            Some(k) if k == [0; 4] => out.extend_from_slice(&self.payload),
            Some(k) => {
                out.extend(
                    self.payload
                        .iter()
                        .zip(k.iter().cycle())
                        .map(|(b, m)| b ^ m),
                );
            }
            None => out.extend_from_slice(&self.payload),
        }
        out
    }
}

/// Four bytes from the operating system's random source (a masking key must be unpredictable,
/// RFC 6455 §10.3). Should that source fail, a key from the hasher's random seed still differs
/// per frame.
pub fn random_key() -> [u8; 4] {
    let mut k = [0u8; 4];
    if getrandom::fill(&mut k).is_err() {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(std::process::id().into());
        k.copy_from_slice(&h.finish().to_be_bytes()[..4]);
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::frame::FrameDecoder;

    fn decode(bytes: &[u8]) -> crate::wire::frame::Frame {
        let mut d = FrameDecoder::new(1024);
        let mut out = Vec::new();
        d.feed(bytes, &mut out);
        out.pop().or_else(|| d.finish()).expect("a frame")
    }

    #[test]
    fn a_masked_text_frame_decodes_to_its_fields() {
        let f = Crafted::new(TEXT, "hi").encode_with(Some([1, 2, 3, 4]));
        assert_eq!(f, [0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2]);
        let d = decode(&f);
        assert_eq!(
            (d.fin, d.opcode, d.payload.as_slice()),
            (true, 1, &b"hi"[..])
        );
        assert_eq!(d.mask, Some([1, 2, 3, 4]));
    }

    #[test]
    fn every_bit_and_a_false_length_are_written_as_asked() {
        let c = Crafted {
            fin: false,
            rsv1: true,
            rsv2: true,
            rsv3: true,
            opcode: 0x3,
            mask: Mask::None,
            len: Some(300),
            payload: b"abc".to_vec(),
        };
        assert_eq!(c.encode(), [0x73, 126, 0x01, 0x2C, b'a', b'b', b'c']);
        let big = Crafted {
            len: Some(1 << 40),
            ..Crafted::new(BINARY, vec![])
        };
        let b = big.encode_with(None);
        assert_eq!(b[1], 127);
        assert_eq!(&b[2..10], &(1u64 << 40).to_be_bytes());
    }

    #[test]
    fn random_keys_differ() {
        let keys: std::collections::HashSet<[u8; 4]> = (0..16).map(|_| random_key()).collect();
        assert!(keys.len() > 1);
    }

    #[test]
    fn a_close_frame_carries_code_then_reason() {
        let f = Crafted::close(1000, "bye").encode_with(None);
        assert_eq!(f, [0x88, 5, 0x03, 0xE8, b'b', b'y', b'e']);
    }
}
