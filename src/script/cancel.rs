//! The REPL's Ctrl-C into a waiting expectation or `/sleep`: a handle shared with the script that
//! says whether something waits, and wakes it to give up, without going through the held queue.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

/// Lets the REPL cancel a waiting expectation (Ctrl-C) without going through the held queue.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<CancelState>);

#[derive(Debug, Default)]
struct CancelState {
    waiting: AtomicBool,
    fired: AtomicBool,
    notify: Notify,
}

impl Cancel {
    /// True while an expectation or a `/sleep` holds the queue.
    pub fn waiting(&self) -> bool {
        self.0.waiting.load(Ordering::Relaxed)
    }

    pub fn fire(&self) {
        self.0.fired.store(true, Ordering::Relaxed);
        self.0.notify.notify_one();
    }

    /// Forget a wait whose connection ended under it (`--reconnect`: the next one starts afresh).
    pub fn reset(&self) {
        self.set_waiting(false);
    }

    pub(super) fn set_waiting(&self, on: bool) {
        self.0.fired.store(false, Ordering::Relaxed);
        self.0.waiting.store(on, Ordering::Relaxed);
    }

    pub(super) fn take(&self) -> bool {
        self.0.fired.swap(false, Ordering::Relaxed)
    }

    /// Wakes when the cancel fires.
    pub(super) fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.0.notify.notified()
    }
}
