//! jq off the runtime thread (SPEC.md "Expect scripting"). A filter runs on a thread of its own
//! with a stack deep enough for the nesting a message may have, under a memory budget (see
//! [`budget`](super::budget)); its answer comes back through a channel the session awaits beside
//! its deadline and its signals, so a filter that runs for ever never holds up a timeout or a
//! Ctrl-C. A job given up on (dropped) stops at its next allocation; one that never allocates (a
//! bare count, `last(range(1e12))`) cannot be stopped from outside without risking a lock it
//! holds, so it is moved to the idle scheduling class, where it only takes CPU nobody else wants,
//! until the process ends (a failed expectation in a script ends it at once). Compiling a filter
//! the user wrote also happens on such a thread, joined at once: it is short.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use super::budget::{self, Meter};
use super::matcher::{Jq, JqOutcome, STACK};

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

/// Set, then notified, when the job's thread has answered (or could not start, or failed).
#[derive(Default)]
struct Done {
    flag: AtomicBool,
    notify: Notify,
    /// The thread's id while it runs (0 before), to lower its priority once given up on.
    tid: AtomicI32,
}

/// Sets [`Done`] when the thread's work ends, a panic included.
struct SetOnDrop(Arc<Done>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.set();
    }
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
                // SAFETY: gettid(2) has no preconditions.
                d.tid.store(unsafe { libc::gettid() }, Ordering::Relaxed);
                let _done = SetOnDrop(d);
                let limit = budget_for(text.len());
                let out = budget::metered(&m, limit, || jq.run(&text));
                let _ = tx.send(out);
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

    /// Wait at most `limit` for the answer, blocking (tests only: the session awaits
    /// [`Job::ended`]).
    #[cfg(test)]
    pub fn wait(&self, limit: std::time::Duration) -> Option<Ended> {
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
        let tid = self.done.tid.load(Ordering::Relaxed);
        if tid != 0 && !self.done.flag.load(Ordering::Acquire) {
            // Still running: if it never allocates again, let it have only idle CPU.
            // SAFETY: a plain syscall on a thread of this process with a valid parameter.
            unsafe {
                let param = libc::sched_param { sched_priority: 0 };
                libc::sched_setscheduler(tid, libc::SCHED_IDLE, &param);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scheduling policy of a thread of this process (field 41 of its stat).
    fn policy(tid: i32) -> Option<u32> {
        let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).ok()?;
        let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
        fields.get(38)?.parse().ok()
    }

    #[test]
    fn a_job_answers_and_a_runaway_one_given_up_on_goes_idle() {
        let jq = Arc::new(Jq::compile(".a + 1").unwrap());
        let job = Job::start(jq, Arc::from(r#"{"a":1}"#));
        assert!(matches!(
            job.wait(std::time::Duration::from_secs(10)),
            Some(Ended::Answer(JqOutcome::Value { text, .. })) if text == "2"
        ));

        let jq = Arc::new(Jq::compile("last(range(1e12))").unwrap());
        let job = Job::start(jq, Arc::from("null"));
        assert!(job.wait(std::time::Duration::from_millis(200)).is_none());
        let tid = job.done.tid.load(Ordering::Relaxed);
        assert_ne!(tid, 0);
        drop(job);
        assert_eq!(policy(tid), Some(libc::SCHED_IDLE as u32));
    }
}
