//! The byte-bounded queues (SPEC "Limits and liveness": every queue is bounded in bytes), in one
//! place. Two shapes, for the two kinds of producer:
//! - [`channel`]: a producer that must never wait (a stream read in `poll_read`, a session's
//!   synchronous event sink) sends at once and is told the queue is [`Tx::full`]; it then stops
//!   producing (stops reading its socket) until the consumer has taken the queue back under its
//!   bound, and [`Tx::must_wait`] wakes it then. At most one item per producer overshoots.
//! - [`Budget`]: a producer that may wait (a task feeding a client's queue) takes a [`Charge`]
//!   for an item's bytes before it queues it; the item carries the charge, and dropping it (when
//!   the consumer is done) gives the bytes back.
//!
//! The tap (`--dump`), listen's hub, listen's per-client queues, `listen --replay` and stdin use
//! them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Waker};

use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// What both ends of a [`channel`] share: the bytes queued and the producers waiting for room
/// (each task once: the tap's reader and, with `--dump-h2`, the reader beneath h2 both wait).
struct Bound {
    limit: usize,
    queued: AtomicUsize,
    waiting: Mutex<Vec<Waker>>,
}

impl Bound {
    fn full(&self) -> bool {
        self.queued.load(Ordering::Acquire) >= self.limit
    }

    fn taken(&self, cost: usize) {
        let before = self.queued.fetch_sub(cost, Ordering::AcqRel);
        if before >= self.limit && before - cost < self.limit {
            let wakers =
                std::mem::take(&mut *self.waiting.lock().unwrap_or_else(PoisonError::into_inner));
            for w in wakers {
                w.wake();
            }
        }
    }
}

/// The producing end of a [`channel`]; clones share the bound.
pub struct Tx<T> {
    tx: UnboundedSender<(T, usize)>,
    bound: Arc<Bound>,
}

impl<T> Clone for Tx<T> {
    fn clone(&self) -> Self {
        Tx {
            tx: self.tx.clone(),
            bound: self.bound.clone(),
        }
    }
}

/// The consuming end of a [`channel`].
pub struct Rx<T> {
    rx: UnboundedReceiver<(T, usize)>,
    bound: Arc<Bound>,
}

/// A queue of items that cost bytes, bounded at `limit` bytes by its producers' restraint.
pub fn channel<T>(limit: usize) -> (Tx<T>, Rx<T>) {
    let (tx, rx) = unbounded_channel();
    let bound = Arc::new(Bound {
        limit,
        queued: AtomicUsize::new(0),
        waiting: Mutex::new(Vec::new()),
    });
    (
        Tx {
            tx,
            bound: bound.clone(),
        },
        Rx { rx, bound },
    )
}

impl<T> Tx<T> {
    /// Queue `item`, which holds `cost` bytes, without waiting. False when the consumer is gone.
    pub fn send(&self, item: T, cost: usize) -> bool {
        // Counted before it is sent, so the consumer can never take off more than was added.
        self.bound.queued.fetch_add(cost, Ordering::AcqRel);
        if self.tx.send((item, cost)).is_err() {
            self.bound.queued.fetch_sub(cost, Ordering::AcqRel);
            return false;
        }
        true
    }

    /// The queue is at its bound: stop producing.
    pub fn full(&self) -> bool {
        self.bound.full()
    }

    /// [`Tx::full`], and if so `cx` is woken once the queue is back under its bound.
    pub fn must_wait(&self, cx: &Context<'_>) -> bool {
        if !self.bound.full() {
            return false;
        }
        let mut waiting = self
            .bound
            .waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !waiting.iter().any(|w| w.will_wake(cx.waker())) {
            waiting.push(cx.waker().clone());
        }
        drop(waiting);
        // It may have drained in between: then do not wait for a wake that already happened.
        self.bound.full()
    }
}

impl<T> Rx<T> {
    pub async fn recv(&mut self) -> Option<T> {
        let (item, cost) = self.rx.recv().await?;
        self.bound.taken(cost);
        Some(item)
    }

    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let (item, cost) = self.rx.try_recv()?;
        self.bound.taken(cost);
        Ok(item)
    }
}

/// An item's share of a [`Budget`], given back when it is dropped (the permit is held for its
/// `Drop`, never read). The default holds none: for what must go whatever the budget says.
#[derive(Debug, Default)]
pub struct Charge(#[allow(dead_code)] Option<OwnedSemaphorePermit>);

impl From<OwnedSemaphorePermit> for Charge {
    fn from(p: OwnedSemaphorePermit) -> Charge {
        Charge(Some(p))
    }
}

/// The bytes a queue whose producers may wait holds at most.
#[derive(Debug, Clone)]
pub struct Budget {
    bytes: Arc<Semaphore>,
    total: usize,
}

impl Budget {
    pub fn new(total: usize) -> Budget {
        Budget {
            bytes: Arc::new(Semaphore::new(total)),
            total,
        }
    }

    /// The charge for `bytes`, waiting while the queue holds too much. An item larger than the
    /// whole budget waits for all of it (and goes alone). None when the budget was closed.
    pub async fn charge(&self, bytes: usize) -> Option<Charge> {
        let want = clamp(bytes, self.total);
        let permit = self.bytes.clone().acquire_many_owned(want).await.ok()?;
        Some(Charge(Some(permit)))
    }

    /// Bytes taken in one piece, for a producer that hands them out in parts (stdin takes a
    /// chunk and splits it line by line). None when the budget was closed.
    pub async fn take(&self, bytes: usize) -> Option<OwnedSemaphorePermit> {
        let want = clamp(bytes, self.total);
        self.bytes.clone().acquire_many_owned(want).await.ok()
    }

    /// [`Budget::charge`] without waiting: None when there is no room now.
    pub fn try_charge(&self, bytes: usize) -> Option<Charge> {
        let want = clamp(bytes, self.total);
        let permit = self.bytes.clone().try_acquire_many_owned(want).ok()?;
        Some(Charge(Some(permit)))
    }
}

fn clamp(bytes: usize, total: usize) -> u32 {
    u32::try_from(bytes.min(total)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_channel_is_full_at_its_bound_and_drains() {
        let (tx, mut rx) = channel::<u8>(10);
        assert!(tx.send(1, 6) && !tx.full());
        assert!(tx.send(2, 6) && tx.full());
        assert_eq!(rx.recv().await, Some(1));
        assert!(!tx.full());
        drop(rx);
        assert!(!tx.send(3, 1));
    }

    /// Counts its wakes.
    struct Count(std::sync::atomic::AtomicUsize);

    impl std::task::Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[tokio::test]
    async fn every_producer_that_waited_is_woken_when_it_drains() {
        let (tx, mut rx) = channel::<u8>(10);
        let other = tx.clone();
        assert!(tx.send(1, 10));
        let (a, b) = (
            Arc::new(Count(AtomicUsize::new(0))),
            Arc::new(Count(AtomicUsize::new(0))),
        );
        let (wa, wb) = (Waker::from(a.clone()), Waker::from(b.clone()));
        assert!(tx.must_wait(&Context::from_waker(&wa)));
        assert!(other.must_wait(&Context::from_waker(&wb)));
        assert!(tx.must_wait(&Context::from_waker(&wa)));
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(a.0.load(Ordering::SeqCst), 1);
        assert_eq!(b.0.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_budget_gives_back_what_a_dropped_charge_held() {
        let b = Budget::new(10);
        let big = b.charge(100).await.expect("all of it");
        assert!(b.try_charge(1).is_none());
        drop(big);
        assert!(b.try_charge(4).is_some());
    }
}
