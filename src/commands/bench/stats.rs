//! The measurements, shared by every connection without making them wait on each other: one
//! shard per worker thread (round-trip histogram and counters, each behind its own lock), filled
//! by each connection's [`Recorder`] in batches of [`BATCH`] round trips, and emptied by the
//! collector (see `progress`). Connection outcomes (opened, failed by class, closed early, errors
//! by kind) are rare and take one common lock.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

/// Significant digits of every histogram (1 in 1000).
pub const SIGFIG: u8 = 3;
/// The largest value tracked, in microseconds (an hour); larger values are recorded as this.
pub const MAX_MICROS: u64 = 3_600_000_000;
/// Round trips a connection keeps before handing them to its shard.
pub const BATCH: usize = 128;
/// The longest a connection keeps its measurements before handing them on.
const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// Distinct error kinds kept; more are counted under "other".
const MAX_KINDS: usize = 32;

/// An empty histogram of microseconds.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_MICROS, SIGFIG).expect("constant bounds are valid")
}

pub fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Message counters, each way.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub sent: u64,
    pub sent_bytes: u64,
    pub received: u64,
    pub received_bytes: u64,
    pub answered: u64,
    pub missing: u64,
    pub unpaired: u64,
}

impl Tally {
    pub fn add(&mut self, o: &Tally) {
        self.sent += o.sent;
        self.sent_bytes += o.sent_bytes;
        self.received += o.received;
        self.received_bytes += o.received_bytes;
        self.answered += o.answered;
        self.missing += o.missing;
        self.unpaired += o.unpaired;
    }
}

/// One worker thread's share of the measurements since the collector last took them.
pub struct Shard {
    pub rtt: Histogram<u64>,
    pub tally: Tally,
}

/// How the connections fared.
#[derive(Debug, Default)]
pub struct Outcomes {
    pub opened: u64,
    /// Failed to open, by exit code (3 connect, 4 TLS, 5 handshake, other).
    pub failed: BTreeMap<u8, u64>,
    /// Closed (or dropped) by the server before the load was done.
    pub closed_early: u64,
    /// Errors by what they said.
    pub errors: BTreeMap<String, u64>,
    /// The first connection's failure: the verdict when none could be opened.
    pub first_failure: Option<crate::error::Error>,
    /// What the lens made of the replies (`--lens`), all connections together.
    pub lens: LensTally,
}

impl Outcomes {
    pub fn failed_total(&self) -> u64 {
        self.failed.values().sum()
    }

    fn error(&mut self, kind: String) {
        let key = if self.errors.len() < MAX_KINDS || self.errors.contains_key(&kind) {
            kind
        } else {
            "other errors".to_string()
        };
        *self.errors.entry(key).or_default() += 1;
    }
}

/// Everything the connections record into.
pub struct Shared {
    shards: Vec<Mutex<Shard>>,
    next_shard: AtomicUsize,
    /// Connections open now.
    pub open: AtomicU64,
    /// WebSockets that opened as RFC 8441 streams (`--http2`).
    pub h2_websockets: AtomicU64,
    pub connect: Mutex<Histogram<u64>>,
    pub upgrade: Mutex<Histogram<u64>>,
    pub outcomes: Mutex<Outcomes>,
}

thread_local! {
    static SHARD: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

impl Shared {
    pub fn new(threads: usize) -> Shared {
        Shared {
            shards: (0..threads.max(1) + 1)
                .map(|_| {
                    Mutex::new(Shard {
                        rtt: histogram(),
                        tally: Tally::default(),
                    })
                })
                .collect(),
            next_shard: AtomicUsize::new(0),
            open: AtomicU64::new(0),
            h2_websockets: AtomicU64::new(0),
            connect: Mutex::new(histogram()),
            upgrade: Mutex::new(histogram()),
            outcomes: Mutex::new(Outcomes::default()),
        }
    }

    /// The calling thread's shard: each thread gets its own on first use.
    fn my_shard(&self) -> MutexGuard<'_, Shard> {
        let i = SHARD.with(|s| match s.get() {
            Some(i) => i,
            None => {
                let i = self.next_shard.fetch_add(1, Ordering::Relaxed) % self.shards.len();
                s.set(Some(i));
                i
            }
        });
        lock(&self.shards[i])
    }

    /// Every shard, one at a time (for the collector).
    pub fn shards(&self) -> impl Iterator<Item = MutexGuard<'_, Shard>> {
        self.shards.iter().map(lock)
    }

    pub fn opened(&self, connect: Option<Duration>, upgrade: Option<Duration>) {
        if let Some(d) = connect {
            lock(&self.connect).saturating_record(micros(d));
        }
        if let Some(d) = upgrade {
            lock(&self.upgrade).saturating_record(micros(d));
        }
        lock(&self.outcomes).opened += 1;
    }

    pub fn failed(&self, e: crate::error::Error) {
        let mut o = lock(&self.outcomes);
        *o.failed.entry(e.exit_code()).or_default() += 1;
        o.error(e.to_string());
        if o.first_failure.is_none() {
            o.first_failure = Some(e);
        }
    }

    /// The server ended the connection (or it broke) before the load was done.
    pub fn closed_early(&self, why: String) {
        let mut o = lock(&self.outcomes);
        o.closed_early += 1;
        o.error(why);
    }

    pub fn lens(&self, t: LensTally) {
        if t.name.is_none() {
            return;
        }
        let mut o = lock(&self.outcomes);
        let all = &mut o.lens;
        all.name = t.name;
        all.decoded += t.decoded;
        all.undecoded += t.undecoded;
        all.duties += t.duties;
    }

    pub fn error(&self, kind: String) {
        lock(&self.outcomes).error(kind);
    }
}

/// A lock whose holder panicked is still good data (counters and histograms).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One connection's measurements, handed to its thread's shard in batches.
pub struct Recorder {
    rtts: [u64; BATCH],
    len: usize,
    pub tally: Tally,
    last_flush: Instant,
}

impl Recorder {
    pub fn new(now: Instant) -> Recorder {
        Recorder {
            rtts: [0; BATCH],
            len: 0,
            tally: Tally::default(),
            last_flush: now,
        }
    }

    /// A round trip that took `rtt`, learnt at `now`.
    pub fn rtt(&mut self, rtt: Duration, now: Instant, shared: &Shared) {
        self.rtts[self.len] = micros(rtt);
        self.len += 1;
        self.tally.answered += 1;
        if self.len == BATCH || now.saturating_duration_since(self.last_flush) >= FLUSH_EVERY {
            self.flush(now, shared);
        }
    }

    /// Hand on what was recorded since the last flush.
    pub fn flush(&mut self, now: Instant, shared: &Shared) {
        let mut shard = shared.my_shard();
        for &v in &self.rtts[..self.len] {
            shard.rtt.saturating_record(v);
        }
        shard.tally.add(&self.tally);
        drop(shard);
        self.len = 0;
        self.tally = Tally::default();
        self.last_flush = now;
    }
}

impl Recorder {
    /// Hand on the measurements when they have been kept long enough.
    pub fn tick(&mut self, now: Instant, shared: &Shared) {
        if now.saturating_duration_since(self.last_flush) >= FLUSH_EVERY {
            self.flush(now, shared);
        }
    }
}

/// What the lens made of the messages, over all connections.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct LensTally {
    /// The lens (None: no connection had one).
    pub name: Option<&'static str>,
    pub decoded: u64,
    pub undecoded: u64,
    pub duties: u64,
}
