//! Read coalescing, the software form of a network card's interrupt moderation. When messages are
//! streaming in, the session asks for a short nap, taken at the one moment the runtime is about
//! to go idle: instead of sleeping in `epoll_wait` and being woken by every small echo, the thread
//! sleeps for at most [`NAP`] and then reads everything that arrived meanwhile in one go. A lone
//! message is never delayed: the nap is only asked for after a burst of several messages, and
//! lasts one park. See docs/BENCHMARKS.md (B1) for what it saves, on both sides of the socket.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The longest a message in a stream waits before we read it: far below what a person can see
/// (a screen refreshes every 16 ms), long enough for a fast peer's messages to arrive in batches.
/// 1 ms was not always enough: a stream of small messages then sometimes kept our TCP receive
/// window open, and every one of the peer's writes went through the whole loopback path instead
/// of queueing behind the window (docs/BENCHMARKS.md).
pub const NAP: Duration = Duration::from_millis(2);

/// Messages read in one burst before the stream counts as streaming.
pub const STREAMING: usize = 4;

/// Whether a nap is asked for, and whether naps are allowed at all.
pub struct Coalescer {
    asked: AtomicBool,
    enabled: AtomicBool,
}

impl Coalescer {
    pub const fn new() -> Coalescer {
        Coalescer {
            asked: AtomicBool::new(false),
            enabled: AtomicBool::new(true),
        }
    }

    pub fn disable(&self) {
        self.enabled.store(false, Ordering::Relaxed);
    }

    /// A read burst ended with the socket drained after `messages` messages: if that looks like
    /// a stream, nap before the next wait.
    pub fn after_burst(&self, messages: usize) {
        if messages >= STREAMING && self.enabled.load(Ordering::Relaxed) {
            self.asked.store(true, Ordering::Relaxed);
        }
    }

    /// Whether to nap now; asking is good for one nap.
    pub fn take_nap(&self) -> bool {
        self.asked.swap(false, Ordering::Relaxed)
    }
}

impl Default for Coalescer {
    fn default() -> Self {
        Self::new()
    }
}

/// The process's one runtime thread.
static RUNTIME: Coalescer = Coalescer::new();

/// `--no-coalesce`: read every message the moment it arrives.
pub fn disable() {
    RUNTIME.disable();
}

/// See [`Coalescer::after_burst`].
pub fn after_burst(messages: usize) {
    RUNTIME.after_burst(messages);
}

/// The runtime's park hook: runs just before the runtime thread goes idle. It blocks the thread,
/// which is the point: nothing can wake us early, and every wake-up costs the peer as much as us.
/// Timers, signals and input are late by at most [`NAP`].
pub fn before_park() {
    if RUNTIME.take_nap() {
        std::thread::sleep(NAP);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_asks_for_one_nap_and_a_lone_message_for_none() {
        let c = Coalescer::new();
        c.after_burst(1);
        c.after_burst(STREAMING - 1);
        assert!(!c.take_nap(), "a few messages are read at once");
        c.after_burst(STREAMING);
        assert!(c.take_nap());
        assert!(!c.take_nap(), "one nap per burst, not forever");
        c.after_burst(64);
        c.after_burst(64);
        assert!(c.take_nap());
        assert!(!c.take_nap(), "two bursts before a park still make one nap");
    }

    #[test]
    fn disabled_never_naps() {
        let c = Coalescer::new();
        c.disable();
        c.after_burst(1000);
        assert!(!c.take_nap());
    }
}
