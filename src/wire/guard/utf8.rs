//! Incremental UTF-8 validation for text that arrives in pieces (a text message's fragments, a
//! close reason): the first byte that cannot be part of valid text fails it, at once.

/// Incremental UTF-8 validation: fails on the first byte that cannot be part of valid text.
#[derive(Debug, Default)]
pub(super) struct Utf8Check {
    /// The start of a character split across chunks.
    carry: [u8; 4],
    carry_len: usize,
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
    pub(super) fn complete(&self) -> bool {
        self.carry_len == 0
    }
}
