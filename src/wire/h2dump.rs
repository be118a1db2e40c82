//! `--dump-h2`: the HTTP/2 frame headers crossing the connection that carries the WebSocket,
//! read beneath the `h2` crate (by [`crate::http2::Reader`], from a copy of the bytes each way)
//! and handed to the WebSocket's tap, so they reach the dump through its one bounded queue, in
//! the order they cross the wire. The handshake's frames come before the tap exists: at most
//! [`EARLY`] of them are kept until it does (a handshake with more shows its first ones).

use std::sync::{Arc, Mutex, PoisonError};
use std::task::Context;
use std::time::Instant;

use crate::http2::{FrameHeader, Reader};
use crate::wire::frame::Direction;
use crate::wire::tap::TapSink;

/// Frame headers kept before the tap exists (the preface, SETTINGS, the CONNECT exchange).
pub const EARLY: usize = 256;

/// The shared end: the sniffer beneath h2 feeds it, the tap is attached to it once stacked.
#[derive(Clone)]
pub struct H2Dump(Arc<Mutex<State>>);

struct State {
    out: Reader,
    inc: Reader,
    early: Vec<(Direction, Instant, FrameHeader)>,
    tap: Option<TapSink>,
}

impl Default for H2Dump {
    fn default() -> H2Dump {
        H2Dump(Arc::new(Mutex::new(State {
            // Our side starts with the 24-byte client preface, which is no frame.
            out: Reader::after(24),
            inc: Reader::default(),
            early: Vec::new(),
            tap: None,
        })))
    }
}

impl H2Dump {
    /// Bytes that crossed the connection in `dir`: each whole frame's header goes to the tap.
    pub fn feed(&self, dir: Direction, bytes: &[u8]) {
        let mut guard = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let s = &mut *guard;
        let reader = match dir {
            Direction::Outgoing => &mut s.out,
            Direction::Incoming => &mut s.inc,
        };
        let now = Instant::now();
        let (tap, early) = (&s.tap, &mut s.early);
        reader.feed(bytes, &mut |f| match tap {
            Some(t) => t.h2_frame(dir, now, f.header),
            None if early.len() < EARLY => early.push((dir, now, f.header)),
            None => {}
        });
    }

    /// The WebSocket's tap exists: the frames kept so far go to it first, then each as it comes.
    pub fn attach(&self, tap: TapSink) {
        let mut s = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        for (dir, at, header) in s.early.drain(..) {
            tap.h2_frame(dir, at, header);
        }
        s.tap = Some(tap);
    }

    /// The tap's queue is over its bound: the reader beneath h2 should wait (`cx` is woken when
    /// it drains), as the tap's own reads do.
    pub fn paused(&self, cx: &Context<'_>) -> bool {
        let s = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        s.tap.as_ref().is_some_and(|t| t.paused(cx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn early_frames_reach_the_tap_first_then_each_as_it_crosses() {
        let dump = H2Dump::default();
        let mut out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
        out.extend([0, 0, 0, 4, 0, 0, 0, 0, 0]);
        dump.feed(Direction::Outgoing, &out);
        dump.feed(Direction::Incoming, &[0, 0, 0, 4, 1, 0, 0, 0, 0]);
        let (sink, mut rx) = TapSink::new(64, Instant::now(), Arc::new(AtomicBool::new(true)));
        dump.attach(sink);
        dump.feed(Direction::Incoming, &[0, 0, 2, 0, 1, 0, 0, 0]);
        dump.feed(Direction::Incoming, &[1, b'h', b'i']);
        let mut got = Vec::new();
        while let Ok((dir, _, crate::wire::tap::Tapped::H2(h))) = rx.try_recv() {
            got.push((dir, h.describe()));
        }
        assert_eq!(
            got,
            [
                (
                    Direction::Outgoing,
                    "SETTINGS stream 0, 0 bytes".to_string()
                ),
                (
                    Direction::Incoming,
                    "SETTINGS stream 0, 0 bytes [ACK]".into()
                ),
                (
                    Direction::Incoming,
                    "DATA stream 1, 2 bytes [END_STREAM]".into()
                ),
            ]
        );
    }
}
