//! Incremental UTF-8 validation for text that arrives in pieces (a text message's fragments, a
//! close reason): the first byte that cannot be part of valid text fails it, at once, and its
//! offset within the text is kept for the log line and the close reason.

/// Incremental UTF-8 validation: fails on the first byte that cannot be part of valid text.
#[derive(Debug, Default)]
pub(super) struct Utf8Check {
    /// The start of a character split across chunks.
    carry: [u8; 4],
    carry_len: usize,
    /// Bytes of the text before the carry: all valid.
    seen: u64,
    /// Where (0-based, within the text) the character that failed began.
    bad_at: Option<u64>,
}

impl Utf8Check {
    pub(super) fn validate(&mut self, mut data: &[u8]) -> bool {
        // Finish a character begun in an earlier chunk, byte by byte, so a bad continuation byte
        // is caught as soon as it arrives.
        while self.carry_len > 0 && !data.is_empty() {
            self.carry[self.carry_len] = data[0];
            self.carry_len += 1;
            data = &data[1..];
            match std::str::from_utf8(&self.carry[..self.carry_len]) {
                Ok(_) => {
                    self.seen += self.carry_len as u64;
                    self.carry_len = 0;
                }
                Err(e) if e.error_len().is_some() => return self.fail(0),
                Err(_) if self.carry_len == 4 => return self.fail(0),
                Err(_) => {}
            }
        }
        match std::str::from_utf8(data) {
            Ok(_) => {
                self.seen += data.len() as u64;
                true
            }
            Err(e) if e.error_len().is_some() => self.fail(e.valid_up_to()),
            Err(e) => {
                let tail = &data[e.valid_up_to()..];
                self.seen += e.valid_up_to() as u64;
                self.carry[..tail.len()].copy_from_slice(tail);
                self.carry_len = tail.len();
                true
            }
        }
    }

    /// The text is invalid from `valid` bytes past what was seen: remember where.
    fn fail(&mut self, valid: usize) -> bool {
        self.bad_at = Some(self.seen + valid as u64);
        false
    }

    /// No character left half-way.
    pub(super) fn complete(&self) -> bool {
        self.carry_len == 0
    }

    /// Where the first invalid byte was (0-based, within the text), after a failed validate or
    /// an incomplete end.
    pub(super) fn bad_at(&self) -> Option<u64> {
        self.bad_at.or((self.carry_len > 0).then_some(self.seen))
    }
}

#[cfg(test)]
mod tests {
    use super::Utf8Check;

    #[test]
    fn the_offset_of_the_first_invalid_byte_is_kept_across_chunks() {
        let mut c = Utf8Check::default();
        assert!(c.validate(b"hello "));
        assert!(c.validate(b"w\xc3"));
        assert!(!c.validate(b"("));
        assert_eq!(c.bad_at(), Some(7));
        let mut c = Utf8Check::default();
        assert!(c.validate("é".as_bytes()));
        assert!(!c.validate(b"abc\x9bd"));
        assert_eq!(c.bad_at(), Some(5));
    }
}
