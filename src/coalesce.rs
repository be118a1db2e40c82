//! Read coalescing, the software form of a network card's interrupt moderation. When messages are
//! streaming in, the next read is held back until [`NAP`] after the socket was last drained: while
//! the session is busy it does not read, and when the runtime is about to go idle it sleeps out the
//! rest instead of waiting in `epoll_wait`, where every small message from the peer would wake it.
//! Then it reads everything that arrived meanwhile in one go. A lone message is never delayed: the
//! hold only follows a burst of several messages, and lasts one nap. See docs/BENCHMARKS.md (B1)
//! for what it saves, on both sides of the socket. Only a client holds its reads: a server's peers
//! pace themselves on its answers, and its nap would stall every client (docs/BENCHMARKS.md, B5).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The longest a message in a stream waits before we read it: far below what a person can see
/// (a screen refreshes every 16 ms), long enough for a fast peer's messages to arrive in batches.
/// 1 ms was not always enough: a stream of small messages then sometimes kept our TCP receive
/// window open, and every one of the peer's writes went through the whole loopback path instead
/// of queueing behind the window (docs/BENCHMARKS.md).
pub const NAP: Duration = Duration::from_millis(2);

/// Messages read in one burst before the stream counts as streaming.
pub const STREAMING: usize = 4;

/// When reads may resume, and whether holding them is allowed at all.
pub struct Coalescer {
    until: Mutex<Option<Instant>>,
    enabled: AtomicBool,
}

impl Coalescer {
    pub const fn new() -> Coalescer {
        Coalescer {
            until: Mutex::new(None),
            enabled: AtomicBool::new(true),
        }
    }

    pub fn disable(&self) {
        self.enabled.store(false, Ordering::Relaxed);
    }

    /// A read burst ended with the socket drained after `messages` messages: if that looks like
    /// a stream, hold reads until the returned time (the caller gates its reads on it).
    pub fn after_burst(&self, messages: usize, now: Instant) -> Option<Instant> {
        if messages < STREAMING || !self.enabled.load(Ordering::Relaxed) {
            return None;
        }
        let until = now + NAP;
        *self.until.lock().unwrap_or_else(|e| e.into_inner()) = Some(until);
        Some(until)
    }

    /// How long to sleep before going idle: what is left of the hold, if any. Good for one nap.
    pub fn take_nap(&self, now: Instant) -> Option<Duration> {
        let until = self
            .until
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()?;
        let left = until.saturating_duration_since(now);
        (!left.is_zero()).then_some(left)
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
pub fn after_burst(messages: usize) -> Option<Instant> {
    RUNTIME.after_burst(messages, Instant::now())
}

/// The runtime's park hook: runs just before the runtime thread goes idle. It blocks the thread,
/// which is the point: nothing can wake us early, and every wake-up costs the peer as much as us.
/// Timers, signals and input are late by at most [`NAP`].
pub fn before_park() {
    if let Some(left) = RUNTIME.take_nap(Instant::now()) {
        std::thread::sleep(left);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_holds_reads_for_one_nap_and_a_lone_message_for_none() {
        let c = Coalescer::new();
        let t0 = Instant::now();
        assert_eq!(c.after_burst(1, t0), None);
        assert_eq!(c.after_burst(STREAMING - 1, t0), None);
        assert_eq!(c.take_nap(t0), None, "a few messages are read at once");
        assert_eq!(c.after_burst(STREAMING, t0), Some(t0 + NAP));
        assert_eq!(c.take_nap(t0), Some(NAP));
        assert_eq!(c.take_nap(t0), None, "one nap per burst, not forever");
    }

    #[test]
    fn the_nap_is_what_is_left_of_the_hold() {
        let c = Coalescer::new();
        let t0 = Instant::now();
        c.after_burst(64, t0);
        assert_eq!(c.take_nap(t0 + NAP / 4), Some(NAP - NAP / 4));
        c.after_burst(64, t0);
        assert_eq!(c.take_nap(t0 + NAP), None, "busy past the hold: no nap");
        c.after_burst(64, t0);
        c.after_burst(64, t0 + NAP / 2);
        assert_eq!(
            c.take_nap(t0 + NAP / 2),
            Some(NAP),
            "the latest burst counts"
        );
    }

    #[test]
    fn disabled_never_holds() {
        let c = Coalescer::new();
        c.disable();
        assert_eq!(c.after_burst(1000, Instant::now()), None);
        assert_eq!(c.take_nap(Instant::now()), None);
    }
}
