//! What `--dump` shows of compressed frames: the frame decoder of each direction keeps its own
//! inflater (a mirror of the peer's or of ours, fed the same wire bytes) and attaches to each
//! frame of a compressed message what it inflates to — its size, the ratio, and the first
//! `--dump-limit` bytes. It is the dump's alone, so the connection never waits for it; it stops
//! at `--max-message-size` like the real inflater. While the dump is off the decoder still feeds
//! it (keeping nothing), so a message whose window an earlier one filled shows once it is on.

use super::codec::{InflateError, Inflater};

/// A frame of a compressed message, inflated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inflated {
    /// The first `--dump-limit` inflated bytes of this frame.
    pub kept: Vec<u8>,
    /// Inflated bytes of this frame.
    pub size: u64,
    /// Compressed bytes of this frame (its payload on the wire).
    pub wire: u64,
    /// Why the inflated bytes are not (all) shown.
    pub note: Option<String>,
}

impl Inflated {
    /// `inflated 1080 bytes from 43 (4%)`.
    pub fn summary(&self) -> String {
        let ratio = if self.size > 0 {
            format!(" ({:.0}%)", self.wire as f64 * 100.0 / self.size as f64)
        } else {
            String::new()
        };
        format!("inflated {} bytes from {}{ratio}", self.size, self.wire)
    }
}

#[derive(Debug)]
pub struct Mirror {
    inflater: Inflater,
    fresh: bool,
    /// `--max-message-size`: inflation stops there.
    cap: usize,
    /// `--dump-limit`: inflated bytes kept per frame.
    keep: usize,
    /// A compressed message is in progress.
    compressed: bool,
    /// Inflated bytes of the message so far.
    total: u64,
    /// The window is unknown (inflation failed): nothing is shown until a
    /// message starts afresh.
    lost: Option<String>,
    scratch: Vec<u8>,
}

impl Mirror {
    /// `fresh`: every message of this direction starts with an empty window.
    pub fn new(fresh: bool, cap: usize, keep: usize) -> Mirror {
        Mirror {
            inflater: Inflater::new(fresh),
            fresh,
            cap,
            keep,
            compressed: false,
            total: 0,
            lost: None,
            scratch: Vec::new(),
        }
    }

    /// A frame begins: for a frame of a compressed message, what it will show.
    pub fn start(&mut self, opcode: u8, rsv1: bool) -> Option<Inflated> {
        match opcode {
            0x1 | 0x2 => {
                self.compressed = rsv1;
                self.total = 0;
                if self.fresh {
                    self.inflater = Inflater::new(true);
                    self.lost = None;
                }
            }
            0x0 => {}
            _ => return None,
        }
        self.compressed.then(|| Inflated {
            note: self.lost.clone(),
            ..Inflated::default()
        })
    }

    /// Payload bytes of the frame, unmasked.
    pub fn feed(&mut self, shown: &mut Inflated, bytes: &[u8]) {
        shown.wire += bytes.len() as u64;
        if self.lost.is_none() {
            let budget = self.budget();
            let res = self.inflater.feed(bytes, &mut self.scratch, budget);
            self.take(shown, res);
        }
    }

    /// The frame is complete; `fin`: so is its message.
    pub fn end(&mut self, shown: &mut Inflated, fin: bool) {
        if fin && self.lost.is_none() {
            let budget = self.budget();
            let res = self.inflater.finish(&mut self.scratch, budget);
            self.take(shown, res);
        }
        if fin {
            self.compressed = false;
        }
    }

    fn budget(&self) -> usize {
        usize::try_from(self.total).map_or(0, |t| self.cap.saturating_sub(t))
    }

    fn take(&mut self, shown: &mut Inflated, res: Result<(), InflateError>) {
        let made = self.scratch.len();
        self.total += made as u64;
        shown.size += made as u64;
        let room = self.keep.saturating_sub(shown.kept.len());
        shown
            .kept
            .extend_from_slice(&self.scratch[..room.min(made)]);
        self.scratch.clear();
        if self.scratch.capacity() > 1 << 20 {
            self.scratch = Vec::new();
        }
        if let Err(e) = res {
            let why = match e {
                InflateError::TooBig(_) => {
                    format!(
                        "inflation stopped at --max-message-size ({} bytes)",
                        self.cap
                    )
                }
                e => e.to_string(),
            };
            shown.note = Some(why.clone());
            self.lost = Some(format!("not shown: an earlier message failed ({why})"));
        }
    }
}
