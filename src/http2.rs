//! HTTP/2 frames as they cross the wire, read beneath the `h2` crate: the one reader of the
//! 9-byte frame header (RFC 9113 §4.1) in wscope. The `h2` crate parses frames itself but shows
//! none of them (no hook, no frame type outside its codec), so what `inspect` and `--dump-h2`
//! show — the server's first SETTINGS, a GOAWAY or RST_STREAM with its error code, each frame's
//! type, flags, stream and length — is read here from a copy of the bytes, following frame
//! boundaries. Hand-written because it is small (a 9-byte header and three tiny payloads) and a
//! frame-parsing crate would be a second HTTP/2 implementation beside h2's. Bounded: only the
//! payloads of SETTINGS, GOAWAY and RST_STREAM are kept, each cut to [`KEPT`] bytes.

/// Bytes of a kept payload: 64 settings, or a GOAWAY's ids, code and some debug data.
pub const KEPT: usize = 6 * 64;

/// A frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    pub len: u32,
    pub kind: u8,
    pub flags: u8,
    pub stream: u32,
}

impl FrameHeader {
    pub fn parse(b: &[u8; 9]) -> FrameHeader {
        FrameHeader {
            len: u32::from_be_bytes([0, b[0], b[1], b[2]]),
            kind: b[3],
            flags: b[4],
            stream: u32::from_be_bytes([b[5], b[6], b[7], b[8]]) & 0x7fff_ffff,
        }
    }

    pub fn kind_name(&self) -> String {
        const NAMES: [&str; 10] = [
            "DATA",
            "HEADERS",
            "PRIORITY",
            "RST_STREAM",
            "SETTINGS",
            "PUSH_PROMISE",
            "PING",
            "GOAWAY",
            "WINDOW_UPDATE",
            "CONTINUATION",
        ];
        NAMES
            .get(usize::from(self.kind))
            .map_or_else(|| format!("0x{:02x}", self.kind), |n| n.to_string())
    }

    /// The flags set, by name for this frame type.
    pub fn flag_names(&self) -> Vec<&'static str> {
        let named: &[(u8, &str)] = match self.kind {
            0 => &[(0x1, "END_STREAM"), (0x8, "PADDED")],
            1 => &[
                (0x1, "END_STREAM"),
                (0x4, "END_HEADERS"),
                (0x8, "PADDED"),
                (0x20, "PRIORITY"),
            ],
            4 | 6 => &[(0x1, "ACK")],
            9 => &[(0x4, "END_HEADERS")],
            _ => &[],
        };
        named
            .iter()
            .filter(|(bit, _)| self.flags & bit != 0)
            .map(|(_, n)| *n)
            .collect()
    }

    /// One line: `HEADERS stream 1, 42 bytes [END_HEADERS]`.
    pub fn describe(&self) -> String {
        let flags = self.flag_names();
        let flags = match flags.is_empty() {
            true => String::new(),
            false => format!(" [{}]", flags.join(", ")),
        };
        format!(
            "{} stream {}, {} bytes{flags}",
            self.kind_name(),
            self.stream,
            self.len
        )
    }
}

/// An error code's name (RFC 9113 §7).
pub fn error_name(code: u32) -> String {
    const NAMES: [&str; 14] = [
        "NO_ERROR",
        "PROTOCOL_ERROR",
        "INTERNAL_ERROR",
        "FLOW_CONTROL_ERROR",
        "SETTINGS_TIMEOUT",
        "STREAM_CLOSED",
        "FRAME_SIZE_ERROR",
        "REFUSED_STREAM",
        "CANCEL",
        "COMPRESSION_ERROR",
        "CONNECT_ERROR",
        "ENHANCE_YOUR_CALM",
        "INADEQUATE_SECURITY",
        "HTTP_1_1_REQUIRED",
    ];
    usize::try_from(code)
        .ok()
        .and_then(|i| NAMES.get(i))
        .map_or_else(|| format!("0x{code:x}"), |n| n.to_string())
}

/// A frame read whole: its header and (for SETTINGS, GOAWAY, RST_STREAM) its first bytes.
#[derive(Debug, Clone)]
pub struct Frame {
    pub header: FrameHeader,
    pub payload: Vec<u8>,
}

impl Frame {
    /// A SETTINGS frame's entries: (id, value).
    pub fn settings(&self) -> Vec<(u16, u32)> {
        self.payload
            .chunks_exact(6)
            .map(|c| {
                (
                    u16::from_be_bytes([c[0], c[1]]),
                    u32::from_be_bytes([c[2], c[3], c[4], c[5]]),
                )
            })
            .collect()
    }

    /// A GOAWAY's or RST_STREAM's error code.
    pub fn error_code(&self) -> Option<u32> {
        let at = match self.header.kind {
            7 => 4,
            3 => 0,
            _ => return None,
        };
        let b: [u8; 4] = self.payload.get(at..at + 4)?.try_into().ok()?;
        Some(u32::from_be_bytes(b))
    }
}

/// Follows frame boundaries in one direction of a connection. `skip` bytes come first (the
/// client's 24-byte preface).
#[derive(Debug, Default)]
pub struct Reader {
    skip: usize,
    head: Vec<u8>,
    current: Option<Frame>,
    left: u32,
}

impl Reader {
    pub fn after(skip: usize) -> Reader {
        Reader {
            skip,
            ..Reader::default()
        }
    }

    /// Feed bytes; each frame is handed to `out` once whole (headers of long frames too: their
    /// payload is skipped, not kept).
    pub fn feed(&mut self, mut data: &[u8], out: &mut impl FnMut(Frame)) {
        while !data.is_empty() {
            if self.skip > 0 {
                let n = self.skip.min(data.len());
                self.skip -= n;
                data = &data[n..];
                continue;
            }
            let Some(frame) = self.current.as_mut() else {
                let need = 9 - self.head.len();
                let n = need.min(data.len());
                self.head.extend_from_slice(&data[..n]);
                data = &data[n..];
                if let Ok(h) = <[u8; 9]>::try_from(self.head.as_slice()) {
                    let header = FrameHeader::parse(&h);
                    self.head.clear();
                    self.left = header.len;
                    self.current = Some(Frame {
                        header,
                        payload: Vec::new(),
                    });
                    self.finish_if_done(out);
                }
                continue;
            };
            let n = (self.left as usize).min(data.len());
            if matches!(frame.header.kind, 3 | 4 | 7) {
                let room = KEPT.saturating_sub(frame.payload.len()).min(n);
                frame.payload.extend_from_slice(&data[..room]);
            }
            self.left -= n as u32;
            data = &data[n..];
            self.finish_if_done(out);
        }
    }

    fn finish_if_done(&mut self, out: &mut impl FnMut(Frame)) {
        if self.left == 0 {
            if let Some(f) = self.current.take() {
                out(f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_followed_across_any_split() {
        let mut bytes = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
        // SETTINGS with ENABLE_CONNECT_PROTOCOL = 1.
        bytes.extend([0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 1]);
        // DATA on stream 1, 3 bytes, END_STREAM.
        bytes.extend([0, 0, 3, 0, 1, 0, 0, 0, 1, b'a', b'b', b'c']);
        // GOAWAY, last stream 1, ENHANCE_YOUR_CALM.
        bytes.extend([0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 11]);
        for step in [1, 2, 5, 9, 100] {
            let mut r = Reader::after(24);
            let mut got = Vec::new();
            for chunk in bytes.chunks(step) {
                r.feed(chunk, &mut |f| got.push(f));
            }
            assert_eq!(got.len(), 3, "step {step}");
            assert_eq!(got[0].settings(), vec![(8, 1)]);
            assert_eq!(
                got[1].header.describe(),
                "DATA stream 1, 3 bytes [END_STREAM]"
            );
            assert_eq!(
                got[2].error_code().map(error_name).as_deref(),
                Some("ENHANCE_YOUR_CALM")
            );
        }
    }

    #[test]
    fn a_huge_frame_keeps_no_more_than_its_bound() {
        let mut r = Reader::default();
        let mut got = Vec::new();
        r.feed(&[0xff, 0xff, 0xff, 4, 0, 0, 0, 0, 0], &mut |f| got.push(f));
        for _ in 0..200 {
            r.feed(&[0u8; 65536], &mut |f| got.push(f));
        }
        let frame = r.current.as_ref().expect("still inside the frame");
        assert_eq!(frame.payload.len(), KEPT);
        assert!(got.is_empty());
    }
}
