//! The permessage-deflate codec itself (RFC 7692 §7.2), pure and without I/O: an [`Inflater`]
//! that turns the compressed payload of a message back into its bytes, never producing more than
//! a cap (so a decompression bomb costs at most the cap), and a [`Deflater`] that compresses a
//! whole message the way the RFC wants (sync flush, the `00 00 ff ff` tail stripped). Each keeps
//! one window for the life of the connection unless told to start afresh for every message
//! (`*_no_context_takeover`).

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// What a sync flush ends with; the sender strips it, the receiver puts it back (§7.2.1, §7.2.2).
pub const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The window sizes zlib can compress with (as base-2 logarithms). A negotiated 8 is honoured
/// by not compressing at all: zlib cannot write raw deflate with an 8-bit window.
pub const COMPRESSIBLE_BITS: std::ops::RangeInclusive<u8> = 9..=15;

/// Output is grown by at most this much at a time, so the cap is never overshot by more.
const CHUNK: usize = 32 * 1024;

/// Why inflating stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InflateError {
    /// The message inflates to more than the cap: at least this many bytes.
    TooBig(usize),
    /// The bytes are not a valid deflate stream.
    Corrupt(String),
}

impl std::fmt::Display for InflateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InflateError::TooBig(n) => write!(f, "the message inflates to more than {n} bytes"),
            InflateError::Corrupt(e) => write!(f, "the compressed data is not valid deflate: {e}"),
        }
    }
}

/// Inflates the messages of one direction.
pub struct Inflater {
    d: Decompress,
    /// `*_no_context_takeover` for the peer: every message starts with an empty window.
    fresh_each_message: bool,
    /// The message's deflate stream ended with a final block: the rest of it is ignored, and
    /// the next message starts a new stream.
    ended: bool,
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater")
            .field("fresh_each_message", &self.fresh_each_message)
            .finish_non_exhaustive()
    }
}

impl Inflater {
    /// Inflating with a 15-bit window reads whatever window the peer compressed with.
    pub fn new(fresh_each_message: bool) -> Inflater {
        Inflater {
            d: Decompress::new_with_window_bits(false, 15),
            fresh_each_message,
            ended: false,
        }
    }

    /// Inflate part of a message's compressed payload, appending to `out`, which never grows
    /// past `cap` bytes (its capacity neither: at most `cap + 1`).
    pub fn feed(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        cap: usize,
    ) -> Result<(), InflateError> {
        let mut input = input;
        while !self.ended {
            if out.len() > cap {
                return Err(InflateError::TooBig(cap));
            }
            if out.capacity() == out.len() {
                // Grow geometrically, but never past one byte over the cap (the byte that says
                // "too big").
                let want = out.len().max(CHUNK).min(cap + 1 - out.len());
                out.reserve_exact(want);
            }
            let room = out.capacity() - out.len();
            let (in0, out0) = (self.d.total_in(), self.d.total_out());
            let status = self
                .d
                .decompress_vec(input, out, FlushDecompress::None)
                .map_err(|e| InflateError::Corrupt(e.to_string()))?;
            let used = (self.d.total_in() - in0) as usize;
            let made = (self.d.total_out() - out0) as usize;
            input = &input[used.min(input.len())..];
            match status {
                Status::StreamEnd => self.ended = true,
                // Output space left over and no input left: all there is has come out.
                _ if input.is_empty() && made < room => break,
                Status::BufError if used == 0 && made == 0 => break,
                _ => {}
            }
        }
        if out.len() > cap {
            return Err(InflateError::TooBig(cap));
        }
        Ok(())
    }

    /// The message's last bytes have been fed: put back the tail the sender stripped, and start
    /// afresh if the window is not kept.
    pub fn finish(&mut self, out: &mut Vec<u8>, cap: usize) -> Result<(), InflateError> {
        let res = self.feed(&TAIL, out, cap);
        if self.fresh_each_message || self.ended {
            self.d.reset(false);
            self.ended = false;
        }
        res
    }

    /// Inflate a whole message (for tests and the dump).
    pub fn message(&mut self, payload: &[u8], cap: usize) -> Result<Vec<u8>, InflateError> {
        let mut out = Vec::new();
        self.feed(payload, &mut out, cap)?;
        self.finish(&mut out, cap)?;
        Ok(out)
    }
}

/// Compresses the messages of one direction.
pub struct Deflater {
    c: Compress,
    bits: u8,
    fresh_each_message: bool,
}

impl std::fmt::Debug for Deflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deflater")
            .field("bits", &self.bits)
            .field("fresh_each_message", &self.fresh_each_message)
            .finish_non_exhaustive()
    }
}

/// zlib's default level, as browsers and Node's ws use: what a user debugging compression
/// expects to see on the wire.
fn level() -> Compression {
    Compression::default()
}

impl Deflater {
    /// None for a window zlib cannot compress with (8): such messages go out uncompressed.
    pub fn new(bits: u8, fresh_each_message: bool) -> Option<Deflater> {
        if !COMPRESSIBLE_BITS.contains(&bits) {
            return None;
        }
        Some(Deflater {
            c: Compress::new_with_window_bits(level(), false, bits),
            bits,
            fresh_each_message,
        })
    }

    /// One message's compressed payload: deflated, sync-flushed, the `00 00 ff ff` tail stripped
    /// (an empty message is the single byte `00`, §7.2.3.6).
    pub fn message(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        let mut input = data;
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(out.len().max(1024));
            }
            let (in0, out0) = (self.c.total_in(), self.c.total_out());
            let room = out.capacity() - out.len();
            let flush = if input.is_empty() {
                FlushCompress::Sync
            } else {
                FlushCompress::None
            };
            // Compressing into a buffer that has room cannot fail; if it ever did, what came
            // out so far is still a valid prefix and the flush below ends it.
            if self.c.compress_vec(input, &mut out, flush).is_err() {
                break;
            }
            let used = (self.c.total_in() - in0) as usize;
            let made = (self.c.total_out() - out0) as usize;
            input = &input[used.min(input.len())..];
            if input.is_empty() && matches!(flush, FlushCompress::Sync) && made < room {
                break;
            }
        }
        if out.ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        }
        if out.is_empty() {
            // Nothing new to flush (an empty message after another: zlib writes nothing at all
            // on a second sync flush). An empty payload is no deflate block and the peer's
            // inflater, given the tail, reads a broken one: an empty message is `00`, an empty
            // stored block once the tail is put back (§7.2.3.6).
            out.push(0x00);
        }
        if self.fresh_each_message {
            if self.bits == 15 {
                self.c.reset();
            } else {
                // A reset may go back to the default window: make a new one of the agreed size.
                self.c = Compress::new_with_window_bits(level(), false, self.bits);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELLO: &[u8] = &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];

    #[test]
    fn rfc7692_vectors_inflate() {
        let mut i = Inflater::new(false);
        assert_eq!(i.message(HELLO, 1 << 20).unwrap(), b"Hello");
        // The same message again, with context takeover: a back-reference into the window.
        assert_eq!(
            i.message(&[0xf2, 0x00, 0x11, 0x00, 0x00], 1 << 20).unwrap(),
            b"Hello"
        );
        let mut i = Inflater::new(true);
        for vector in [
            &[
                0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
            ][..],
            &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00],
            &[
                0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
            ],
            HELLO,
        ] {
            assert_eq!(i.message(vector, 1 << 20).unwrap(), b"Hello", "{vector:x?}");
        }
        assert_eq!(i.message(&[0x00], 1 << 20).unwrap(), b"");
    }

    #[test]
    fn rfc7692_vectors_deflate() {
        let mut d = Deflater::new(15, false).unwrap();
        assert_eq!(d.message(b"Hello"), HELLO);
        assert_eq!(d.message(b"Hello"), [0xf2, 0x00, 0x11, 0x00, 0x00]);
        let mut d = Deflater::new(15, true).unwrap();
        assert_eq!(d.message(b"Hello"), HELLO);
        assert_eq!(d.message(b"Hello"), HELLO);
        assert_eq!(d.message(b""), [0x00]);
    }

    /// After any message, zlib's sync flush of nothing writes nothing: it must still be `00`,
    /// and inflate to nothing without spoiling the next message, in every configuration.
    #[test]
    fn an_empty_message_after_others_is_00_and_inflates_to_nothing() {
        for bits in COMPRESSIBLE_BITS {
            for fresh in [false, true] {
                let mut d = Deflater::new(bits, fresh).unwrap();
                let mut i = Inflater::new(fresh);
                for m in [&b"a"[..], b"", b"", b"b", b"", b"Hello Hello"] {
                    let packed = d.message(m);
                    assert!(!packed.is_empty(), "bits {bits} fresh {fresh}");
                    assert_eq!(i.message(&packed, 1 << 20).unwrap(), m, "bits {bits}");
                }
                d.message(b"a");
                assert_eq!(d.message(b""), [0x00], "bits {bits} fresh {fresh}");
            }
        }
    }

    #[test]
    fn fragments_inflate_like_the_whole() {
        let text = "permessage-deflate ".repeat(500);
        let mut d = Deflater::new(15, false).unwrap();
        let packed = d.message(text.as_bytes());
        assert!(packed.len() < text.len() / 10);
        let mut i = Inflater::new(false);
        let mut out = Vec::new();
        for piece in packed.chunks(7) {
            i.feed(piece, &mut out, 1 << 20).unwrap();
        }
        i.finish(&mut out, 1 << 20).unwrap();
        assert_eq!(out, text.as_bytes());
    }

    #[test]
    fn every_window_size_round_trips_and_8_is_not_compressed() {
        assert!(Deflater::new(8, false).is_none());
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for bits in COMPRESSIBLE_BITS {
            for fresh in [false, true] {
                let mut d = Deflater::new(bits, fresh).unwrap();
                let mut i = Inflater::new(fresh);
                for _ in 0..3 {
                    let packed = d.message(&data);
                    assert_eq!(i.message(&packed, 1 << 20).unwrap(), data, "bits {bits}");
                }
            }
        }
    }

    #[test]
    fn a_bomb_stops_at_the_cap_without_allocating_past_it() {
        let zeros = vec![0u8; 8 << 20];
        let bomb = Deflater::new(15, false).unwrap().message(&zeros);
        assert!(bomb.len() < 16 * 1024, "{}", bomb.len());
        let cap = 1 << 20;
        let mut i = Inflater::new(false);
        let mut out = Vec::new();
        let e = i.feed(&bomb, &mut out, cap).unwrap_err();
        assert_eq!(e, InflateError::TooBig(cap));
        assert!(out.capacity() <= cap + 1, "{}", out.capacity());
    }

    #[test]
    fn garbage_is_corrupt_not_a_panic() {
        let mut i = Inflater::new(false);
        let e = i
            .message(&[0xff, 0xff, 0xff, 0xff, 0x12], 1 << 20)
            .unwrap_err();
        assert!(matches!(e, InflateError::Corrupt(_)), "{e:?}");
    }
}
