//! What the guard (and the inflater below it) learnt of the wire, shared with the session:
//! [`WireFacts`] (the peer's close code as it was on the wire, which text was not UTF-8, what was
//! unacceptable, a message dropped as too big) and [`TooBig`].

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};

use super::verdict::{InvalidUtf8, Unexpected};

/// What the watch saw that tungstenite hides, shared with the session: the status code of the
/// server's last close frame as it was on the wire, and which text was not UTF-8.
#[derive(Debug, Clone, Default)]
pub struct WireFacts {
    close: Arc<AtomicU32>,
    invalid: Arc<AtomicU8>,
    /// Where in that text the first invalid byte was, plus one (0: not known).
    invalid_at: Arc<AtomicU64>,
    /// A message over the limit was dropped: the session is told through `alarm`, not through
    /// a read error (tokio-tungstenite ends the stream at the first one, and the close handshake
    /// that must follow needs it).
    too_big: Arc<std::sync::Mutex<Option<TooBig>>>,
    alarm: Arc<tokio::sync::Notify>,
    pub(super) unexpected: Arc<OnceLock<Unexpected>>,
    close_seen: Arc<AtomicBool>,
}

impl WireFacts {
    /// The peer's close frame has arrived (the library may not have read it yet): with --echo,
    /// the session hands every echo to the library before the library reads that close.
    pub fn close_seen(&self) -> bool {
        self.close_seen.load(Ordering::Acquire)
    }

    pub(super) fn set_close_seen(&self, seen: bool) {
        if seen {
            self.close_seen.store(true, Ordering::Release);
        }
    }

    /// Flags "a code was seen", so that code 0 is not confused with none.
    const SEEN: u32 = 1 << 16;

    pub fn close_code(&self) -> Option<u16> {
        let v = self.close.load(Ordering::Relaxed);
        (v & Self::SEEN != 0).then_some(v as u16)
    }

    pub(super) fn set_close_code(&self, code: Option<u16>) {
        self.close.store(
            code.map_or(0, |c| Self::SEEN | u32::from(c)),
            Ordering::Relaxed,
        );
    }

    /// Which text was not UTF-8. tungstenite may find it first (in bytes that came with the
    /// handshake response, which it reads before ours), and its error does not say.
    pub fn invalid_utf8(&self) -> Option<InvalidUtf8> {
        match self.invalid.load(Ordering::Relaxed) {
            1 => Some(InvalidUtf8::TextMessage),
            2 => Some(InvalidUtf8::CloseReason),
            _ => None,
        }
    }

    /// Reserved bits, or an HTTP response, where a frame was due. tungstenite finds it first in
    /// bytes that came with the handshake response, and its error only says "reserved bits".
    pub fn unexpected(&self) -> Option<Unexpected> {
        self.unexpected.get().cloned()
    }

    /// Wait until a message over the limit has been dropped, and say which.
    pub async fn too_big(&self) -> TooBig {
        loop {
            if let Some(t) = self.take_too_big() {
                return t;
            }
            self.alarm.notified().await;
        }
    }

    fn take_too_big(&self) -> Option<TooBig> {
        self.too_big
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }

    /// Also told by the inflater below the guard (crate::deflate::stream).
    pub(crate) fn set_too_big(&self, t: TooBig) {
        *self
            .too_big
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(t);
        // A permit is kept when nobody waits yet: the alarm is never lost.
        self.alarm.notify_one();
    }

    /// Where (0-based, within the text) the first invalid byte was.
    pub fn invalid_at(&self) -> Option<u64> {
        self.invalid_at.load(Ordering::Relaxed).checked_sub(1)
    }

    pub(super) fn set_invalid_at(&self, at: Option<u64>) {
        let v = at.map_or(0, |a| a.saturating_add(1));
        self.invalid_at.store(v, Ordering::Relaxed);
    }

    pub(super) fn set_invalid_utf8(&self, what: Option<InvalidUtf8>) {
        let v = match what {
            None => 0,
            Some(InvalidUtf8::TextMessage) => 1,
            Some(InvalidUtf8::CloseReason) => 2,
        };
        self.invalid.store(v, Ordering::Relaxed);
    }
}

/// A message over `--max-message-size` that [`Guard`] dropped (see [`WireFacts::too_big`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooBig {
    pub size: u64,
    pub limit: u64,
}

impl std::fmt::Display for TooBig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a message of {} bytes, over the limit of {}",
            self.size, self.limit
        )
    }
}
