//! Many WebSockets on one HTTP/2 connection (`bench --http2 --h2-connections K`). An [`H2Slot`]
//! is one such connection: the first WebSocket that uses it dials and speaks the preface as any
//! `--http2` upgrade does (`handshake::h2`), which leaves the connection's request handle here;
//! the WebSockets after it open their extended CONNECT streams on that handle without dialing.
//! Those that arrive while the first is still dialing wait for it (within their own deadline),
//! so K slots make K connections, not one per WebSocket. A connection that fails is forgotten:
//! the next WebSocket on the slot dials again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use h2::client::SendRequest;

/// The receive window of a shared connection: a 64-byte echo on each of 10,000 WebSockets at once
/// fits (the default, 64 KiB, holds a thousand).
pub const SHARED_WINDOW: u32 = 4 << 20;
/// h2's bound on the framing overhead of received DATA frames still buffered (small frames count
/// up to 256 bytes each): room for one small frame on each of 16,384 streams, still bounded.
pub const SHARED_FRAME_BUDGET: usize = 4 << 20;

/// Why the shared connection failed, in words, when the frames beneath h2 showed it (a GOAWAY):
/// what each stream's `H2Stream::explained_by` asks.
pub type Said = Arc<dyn Fn() -> Option<String> + Send + Sync>;

/// One shared HTTP/2 connection, or the place for it.
#[derive(Default)]
pub struct H2Slot {
    send: Mutex<Option<(SendRequest<Bytes>, Said)>>,
    /// Held by the WebSocket that dials, so the others wait for its connection.
    pub dialing: tokio::sync::Mutex<()>,
    /// HTTP/2 connections this slot dialed that spoke RFC 8441.
    dialed: AtomicU64,
    /// WebSocket streams opened on them.
    streams: AtomicU64,
}

impl std::fmt::Debug for H2Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H2Slot")
            .field("dialed", &self.dialed())
            .field("streams", &self.streams())
            .finish()
    }
}

impl H2Slot {
    /// The connection's request handle (and what says why it failed), when one is up.
    pub fn live(&self) -> Option<(SendRequest<Bytes>, Said)> {
        self.send.lock().ok()?.clone()
    }

    /// A new connection spoke the preface and allows extended CONNECT: the next WebSockets use it.
    pub fn keep(&self, send: &SendRequest<Bytes>, said: Said) {
        if let Ok(mut s) = self.send.lock() {
            *s = Some((send.clone(), said));
            self.dialed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The connection failed a stream: the next WebSocket dials a new one.
    pub fn forget(&self) {
        if let Ok(mut s) = self.send.lock() {
            *s = None;
        }
    }

    /// A WebSocket stream opened on this slot's connection.
    pub fn opened(&self) {
        self.streams.fetch_add(1, Ordering::Relaxed);
    }

    pub fn dialed(&self) -> u64 {
        self.dialed.load(Ordering::Relaxed)
    }

    pub fn streams(&self) -> u64 {
        self.streams.load(Ordering::Relaxed)
    }
}
