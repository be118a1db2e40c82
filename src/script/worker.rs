//! jq off the runtime thread (SPEC.md "Expect scripting"). A filter runs on a thread of its own
//! with a stack deep enough for the nesting a message may have, under a memory budget (see
//! [`budget`](super::budget)); its answer comes back through a channel the session awaits beside
//! its deadline and its signals, so a filter that runs for ever never holds up a timeout or a
//! Ctrl-C. A job given up on (dropped) stops at its next allocation; one that never allocates
//! spins until the process ends, which a failed expectation brings about. Compiling a filter
//! the user wrote also happens on such a thread, joined at once: it is short.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use super::budget::{self, Meter};
use super::matcher::{Jq, JqOutcome};

/// Stack of a jq thread: jaq recurses over a value's nesting (parsing, running, printing and
/// dropping it), and a filter may build values far deeper than a message may be (its memory
/// budget bounds that depth). Only what is used is ever touched.
const STACK: usize = 512 << 20;

/// A filter's memory: this much...
const BUDGET_BASE: usize = 64 << 20;
/// ...plus this many times the message's size (its JSON as jq values).
const BUDGET_PER_BYTE: usize = 16;

/// The budget for a message of `len` bytes.
pub fn budget_for(len: usize) -> usize {
    BUDGET_BASE.saturating_add(len.saturating_mul(BUDGET_PER_BYTE))
}

/// One filter running on one message.
pub struct Job {
    /// In a mutex only to be `Sync` (the session's futures borrow the script across awaits).
    rx: Mutex<mpsc::Receiver<JqOutcome>>,
    done: Arc<Done>,
    meter: Arc<Meter>,
}

/// Set, then notified, when the job's thread has answered (or could not start).
#[derive(Default)]
struct Done {
    flag: AtomicBool,
    notify: Notify,
}

impl Done {
    fn set(&self) {
        self.flag.store(true, Ordering::Release);
        self.notify.notify_one();
    }
}

/// How a job ended, when it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    Answer(JqOutcome),
    /// Its thread is gone without an answer (it could not start, or jaq panicked).
    Lost,
}

impl Job {
    /// Start `jq` on `text` on a thread of its own.
    pub fn start(jq: Arc<Jq>, text: Arc<str>) -> Job {
        let (tx, rx) = mpsc::channel();
        let done = Arc::new(Done::default());
        let meter = Arc::new(Meter::default());
        let (d, m) = (done.clone(), meter.clone());
        let spawned = std::thread::Builder::new()
            .name("wscope-jq".into())
            .stack_size(STACK)
            .spawn(move || {
                let limit = budget_for(text.len());
                let out = budget::metered(&m, limit, || jq.run(&text));
                let _ = tx.send(out);
                d.set();
            });
        if spawned.is_err() {
            // The sender is gone with the closure: `poll` says Lost.
            done.set();
        }
        Job {
            rx: Mutex::new(rx),
            done,
            meter,
        }
    }

    /// The answer, if the job has ended.
    pub fn poll(&self) -> Option<Ended> {
        let rx = self.rx.lock().unwrap_or_else(|p| p.into_inner());
        match rx.try_recv() {
            Ok(out) => Some(Ended::Answer(out)),
            Err(mpsc::TryRecvError::Empty) => None,
            Err(mpsc::TryRecvError::Disconnected) => Some(Ended::Lost),
        }
    }

    /// Resolves when the job has ended (then [`Job::poll`]).
    pub async fn ended(&self) {
        while !self.done.flag.load(Ordering::Acquire) {
            self.done.notify.notified().await;
        }
    }

    /// Wait at most `limit` for the answer, blocking: for the end of a connection only, where
    /// what is left is judged at once.
    pub fn wait(&self, limit: Duration) -> Option<Ended> {
        let rx = self.rx.lock().unwrap_or_else(|p| p.into_inner());
        match rx.recv_timeout(limit) {
            Ok(out) => Some(Ended::Answer(out)),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => Some(Ended::Lost),
        }
    }

    /// True when the filter stopped because it went past its memory budget.
    pub fn spent(&self) -> bool {
        self.meter.spent()
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        self.meter.abandon();
    }
}

/// Compile `code` on a thread with a deep stack (jaq's parser and compiler recurse over the
/// filter's nesting).
pub fn compile(code: &str) -> Result<Jq, String> {
    let code = code.to_string();
    std::thread::Builder::new()
        .name("wscope-jq".into())
        .stack_size(STACK)
        .spawn(move || Jq::compile_here(&code))
        .map_err(|e| format!("cannot start a thread to compile it: {e}"))?
        .join()
        .unwrap_or_else(|_| Err("the jq compiler failed on it".into()))
}
