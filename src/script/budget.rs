//! A memory budget for the threads that run jq filters (SPEC.md "Expect scripting"). jaq has no
//! step counter and cannot be interrupted, so a filter's thread is metered where every jq value
//! is made: the global allocator. Each allocation on a metered thread is charged to it; past its
//! budget, or once the filter was given up on (its expectation timed out or ended), the thread
//! stops for good inside that allocation: it holds what it had (at most the budget), uses no
//! CPU, and never keeps the process alive. Every other thread pays one thread-local read.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU8, Ordering};

/// The system allocator, charging metered threads.
pub struct Metered;

#[global_allocator]
static ALLOCATOR: Metered = Metered;

thread_local! {
    /// Bytes this thread may hold; 0: not metered.
    static LIMIT: Cell<usize> = const { Cell::new(0) };
    /// Bytes charged so far.
    static USED: Cell<usize> = const { Cell::new(0) };
    /// The state of the job the thread runs (see [`Meter`]): null when not metered.
    static STATE: Cell<*const AtomicU8> = const { Cell::new(std::ptr::null()) };
}

/// Running.
const RUNNING: u8 = 0;
/// Given up on by its owner: stop at the next allocation.
const ABANDONED: u8 = 1;
/// Stopped because it went past its budget.
const SPENT: u8 = 2;

/// A metered job's state, shared by its thread and its owner.
#[derive(Debug, Default)]
pub struct Meter(AtomicU8);

impl Meter {
    /// The owner gives up on the job: its thread stops at its next allocation.
    pub fn abandon(&self) {
        let _ = self
            .0
            .compare_exchange(RUNNING, ABANDONED, Ordering::Relaxed, Ordering::Relaxed);
    }

    /// True when the job stopped because it went past its budget.
    pub fn spent(&self) -> bool {
        self.0.load(Ordering::Relaxed) == SPENT
    }
}

/// Run `f` on this thread with `limit` bytes to allocate (net of what it frees). `meter` must
/// outlive the call (the thread keeps a reference to it while `f` runs).
pub fn metered<T>(meter: &Meter, limit: usize, f: impl FnOnce() -> T) -> T {
    USED.with(|u| u.set(0));
    STATE.with(|s| s.set(&meter.0));
    LIMIT.with(|l| l.set(limit.max(1)));
    let out = f();
    LIMIT.with(|l| l.set(0));
    STATE.with(|s| s.set(std::ptr::null()));
    out
}

/// Charge `n` bytes to a metered thread; a thread past its budget or abandoned stops here.
fn charge(n: usize) {
    let Ok(limit) = LIMIT.try_with(Cell::get) else {
        return;
    };
    if limit == 0 {
        return;
    }
    let used = USED.with(|u| {
        let used = u.get().saturating_add(n);
        u.set(used);
        used
    });
    let state = STATE.with(Cell::get);
    // SAFETY: `metered` set the pointer from a `Meter` that outlives the call it is set for.
    let state = unsafe { state.as_ref() };
    let Some(state) = state else {
        return;
    };
    if used > limit {
        state.store(SPENT, Ordering::Relaxed);
    }
    if state.load(Ordering::Relaxed) != RUNNING {
        stop();
    }
}

fn refund(n: usize) {
    if LIMIT.try_with(Cell::get).unwrap_or(0) != 0 {
        USED.with(|u| u.set(u.get().saturating_sub(n)));
    }
}

/// The thread never runs on. No allocation, no lock: it may be inside any of them.
fn stop() -> ! {
    loop {
        // SAFETY: pause(2) only waits for a signal; a signal handler returns here.
        unsafe {
            libc::pause();
        }
    }
}

// SAFETY: every call goes to the system allocator unchanged; charging touches only
// thread-locals that never allocate.
unsafe impl GlobalAlloc for Metered {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        charge(layout.size());
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        charge(layout.size());
        System.alloc_zeroed(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        refund(layout.size());
        System.dealloc(ptr, layout);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            charge(new_size - layout.size());
        } else {
            refund(layout.size() - new_size);
        }
        System.realloc(ptr, layout, new_size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn a_thread_past_its_budget_stops_and_others_go_on() {
        let meter = Arc::new(Meter::default());
        let m = meter.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let small = metered(&m, 1 << 20, || vec![0u8; 1000].len());
            tx.send(small).unwrap();
            let big = metered(&m, 1 << 20, || {
                let mut v: Vec<Vec<u8>> = Vec::new();
                for _ in 0..100 {
                    v.push(vec![1u8; 100_000]);
                }
                v.len()
            });
            tx.send(big).unwrap();
        });
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)), Ok(1000));
        assert!(rx.recv_timeout(Duration::from_millis(300)).is_err());
        assert!(meter.spent());
        // This thread allocates as it likes.
        assert_eq!(vec![0u8; 4 << 20].len(), 4 << 20);
    }

    #[test]
    fn an_abandoned_job_stops_at_its_next_allocation() {
        let meter = Arc::new(Meter::default());
        let m = meter.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            metered(&m, usize::MAX, || loop {
                let v = vec![0u8; 64];
                std::hint::black_box(v);
            });
            #[allow(unreachable_code)]
            tx.send(()).unwrap();
        });
        std::thread::sleep(Duration::from_millis(50));
        meter.abandon();
        assert!(rx.recv_timeout(Duration::from_millis(300)).is_err());
        assert!(!meter.spent());
    }
}
