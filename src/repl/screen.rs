//! The REPL's screen: every line the printer emits passes through here on its way above the prompt.
//! Two threads keep typing responsive under a flood. The collector drains the printer's channel into
//! a bounded queue at memory speed; the painter takes everything queued and hands it to rustyline's
//! external printer in one call (each call clears and redraws the prompt, so one call per batch, not
//! per line). When the terminal is slower than the server, the oldest queued lines are dropped and a
//! "lines skipped" note takes their place: the newest output (the close, an error) is what matters.

use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use rustyline::ExternalPrinter;

/// At most this many lines wait for the terminal; a screenful is 50, so this is plenty.
const MAX_LINES: usize = 1000;
/// At most this many bytes wait for the terminal, and no single entry is longer.
const MAX_BYTES: usize = 1 << 20;

/// Lines waiting for the terminal, oldest first, bounded in count and bytes.
#[derive(Debug, Default)]
pub struct Pending {
    lines: VecDeque<String>,
    bytes: usize,
    skipped: u64,
}

impl Pending {
    /// Queue one entry (it may hold several lines), dropping the oldest entries past the bounds.
    pub fn push(&mut self, mut line: String) {
        if line.len() > MAX_BYTES {
            // Leave room for the note, so the entry alone fits the budget.
            let mut cut = MAX_BYTES - 64;
            while !line.is_char_boundary(cut) {
                cut -= 1;
            }
            let more = line.len() - cut;
            line.truncate(cut);
            line.push_str(&format!("\n… {more} more bytes not shown\n"));
        }
        self.bytes += line.len();
        self.lines.push_back(line);
        // The newest entry always stays.
        while self.lines.len() > 1 && (self.lines.len() > MAX_LINES || self.bytes > MAX_BYTES) {
            match self.lines.pop_front() {
                Some(old) => {
                    self.bytes -= old.len();
                    self.skipped += 1;
                }
                None => break,
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty() && self.skipped == 0
    }

    /// Everything queued as one string (each entry ending in a newline), or None if nothing is.
    pub fn take_batch(&mut self) -> Option<String> {
        if self.is_empty() {
            return None;
        }
        let mut batch = String::with_capacity(self.bytes + 64);
        if self.skipped > 0 {
            let s = if self.skipped == 1 { "" } else { "s" };
            batch.push_str(&format!(
                "… {} line{s} skipped: output came faster than the terminal could show it\n",
                self.skipped
            ));
        }
        for line in self.lines.drain(..) {
            batch.push_str(&line);
            if !batch.ends_with('\n') {
                batch.push('\n');
            }
        }
        self.bytes = 0;
        self.skipped = 0;
        Some(batch)
    }
}

#[derive(Default)]
struct State {
    pending: Pending,
    /// The printer's channel is closed: nothing more will come.
    closed: bool,
    /// `finish` has taken over the terminal: the painter must not print any more.
    stop: bool,
    /// The barrier (an empty line, which the printer never sends) has arrived: everything sent
    /// before it is in `pending` or already painted.
    barrier: bool,
    /// The painter is inside a print call.
    painting: bool,
}

/// The queue shared by the collector, the painter, the REPL thread (for its own errors) and `finish`.
#[derive(Clone, Default)]
pub struct Shared(Arc<(Mutex<State>, Condvar)>);

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means another thread panicked mid-push; the queue is still usable.
        self.0 .0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queue a line for the screen (used by the REPL thread for its own messages).
    pub fn push(&self, line: String) {
        self.lock().pending.push(line);
        self.0 .1.notify_all();
    }
}

/// The two screen threads.
pub struct Screen {
    shared: Shared,
    collector: Option<JoinHandle<()>>,
    painter_done: Receiver<()>,
}

impl Screen {
    pub fn start(
        rx: Receiver<String>,
        mut printer: impl ExternalPrinter + Send + 'static,
    ) -> Screen {
        let shared = Shared::default();
        let s = shared.clone();
        let collector = std::thread::Builder::new()
            .name("repl-collect".into())
            .spawn(move || {
                for line in rx {
                    if line.is_empty() {
                        s.lock().barrier = true;
                        s.0 .1.notify_all();
                    } else {
                        s.push(line);
                    }
                }
                s.lock().closed = true;
                s.0 .1.notify_all();
            })
            .ok();
        let s = shared.clone();
        let (done_tx, painter_done) = std::sync::mpsc::channel();
        let _ = std::thread::Builder::new()
            .name("repl-paint".into())
            .spawn(move || {
                loop {
                    let batch = {
                        let mut st = s.lock();
                        while st.pending.is_empty() && !st.closed && !st.stop {
                            st = s.0 .1.wait(st).unwrap_or_else(|p| p.into_inner());
                        }
                        if st.stop {
                            break;
                        }
                        match st.pending.take_batch() {
                            Some(b) => {
                                st.painting = true;
                                b
                            }
                            None => break, // closed and drained
                        }
                    };
                    // The lock is released while printing: the collector keeps draining meanwhile.
                    let printed = printer.print(batch);
                    s.lock().painting = false;
                    s.0 .1.notify_all();
                    if printed.is_err() {
                        break;
                    }
                }
                let _ = done_tx.send(());
            });
        Screen {
            shared,
            collector,
            painter_done,
        }
    }

    pub fn shared(&self) -> Shared {
        self.shared.clone()
    }

    /// Wait (at most `limit`) until everything sent before the barrier has been painted, so that
    /// readline's first prompt is drawn below it rather than racing with it.
    pub fn settle(&self, limit: Duration) {
        let deadline = std::time::Instant::now() + limit;
        let mut st = self.shared.lock();
        let settled =
            |st: &State| st.closed || (st.barrier && st.pending.is_empty() && !st.painting);
        while !settled(&st) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return;
            }
            st = match self.shared.0 .1.wait_timeout(st, left) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
    }

    /// Wait until the printer's channel is closed (the caller dropped the printer), stop the painter,
    /// and return what it had not printed yet, for the caller to write once the terminal is restored.
    pub fn stop(mut self) -> Option<String> {
        if let Some(c) = self.collector.take() {
            let _ = c.join();
        }
        {
            let mut st = self.shared.lock();
            st.stop = true;
        }
        self.shared.0 .1.notify_all();
        // The painter may be inside one print call; that call is bounded by rustyline answering it.
        // Never wait forever: a wedged terminal must not keep the process alive.
        match self.painter_done.recv_timeout(Duration::from_secs(1)) {
            Ok(()) | Err(RecvTimeoutError::Disconnected) | Err(RecvTimeoutError::Timeout) => {}
        }
        self.shared.lock().pending.take_batch()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_joins_lines_in_order() {
        let mut p = Pending::default();
        assert_eq!(p.take_batch(), None);
        p.push("a".into());
        p.push("b\n".into());
        p.push("c\nd".into());
        assert_eq!(p.take_batch().as_deref(), Some("a\nb\nc\nd\n"));
        assert_eq!(p.take_batch(), None);
    }

    #[test]
    fn a_flood_keeps_the_newest_lines_and_counts_the_rest() {
        let mut p = Pending::default();
        for i in 0..10_000 {
            p.push(format!("line {i}"));
        }
        assert_eq!(p.lines.len(), MAX_LINES);
        let batch = p.take_batch().unwrap();
        let mut lines = batch.lines();
        assert_eq!(
            lines.next(),
            Some("… 9000 lines skipped: output came faster than the terminal could show it")
        );
        assert_eq!(lines.next(), Some("line 9000"));
        assert_eq!(batch.lines().last(), Some("line 9999"));
        // The count starts again after a batch.
        p.push("x".into());
        assert_eq!(p.take_batch().as_deref(), Some("x\n"));
    }

    #[test]
    fn bytes_are_bounded_too() {
        let mut p = Pending::default();
        let big = "x".repeat(MAX_BYTES / 4);
        for _ in 0..10 {
            p.push(big.clone());
        }
        assert!(p.bytes <= MAX_BYTES);
        assert_eq!(p.skipped, 6);
        // One entry bigger than the whole budget is cut, never dropped whole, and never mid-character.
        let huge = "é".repeat(MAX_BYTES);
        p.push(huge);
        assert_eq!(p.lines.len(), 1);
        assert!(p.bytes <= MAX_BYTES);
        let batch = p.take_batch().unwrap();
        assert!(batch.starts_with("… 10 lines skipped"));
        assert!(batch.ends_with("more bytes not shown\n"));
    }
}
