//! The collector: a thread of its own (never the runtime's) that four times a second empties the
//! per-thread shards into the run's totals, redraws the progress line on a terminal (elapsed,
//! connections open, messages/s, p50/p99 so far) and, once a second, writes an interval to the
//! `--hist` log. Stopped, it takes what is left and hands the totals back.

use std::io::{BufWriter, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::Histogram;

use super::hlog;
use super::stats::{histogram, Shared, Tally};

const TICK: Duration = Duration::from_millis(250);
const TICKS_PER_INTERVAL: u32 = 4;

/// What the run measured, all threads together.
pub struct Totals {
    pub rtt: Histogram<u64>,
    pub tally: Tally,
    /// Writing the `--hist` log failed: why.
    pub hist_error: Option<String>,
}

pub struct Collector {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Totals>,
}

impl Collector {
    /// Start collecting; `hist` is the open `--hist` file.
    pub fn start(shared: Arc<Shared>, hist: Option<std::fs::File>) -> Collector {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let progress = std::io::stderr().is_terminal();
        let handle = std::thread::spawn(move || collect(&shared, &flag, progress, hist));
        Collector { stop, handle }
    }

    /// Take what is left and hand back the totals.
    pub fn finish(self) -> Totals {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().unwrap_or_else(|_| Totals {
            rtt: histogram(),
            tally: Tally::default(),
            hist_error: Some("the collector failed".into()),
        })
    }
}

fn collect(
    shared: &Shared,
    stop: &AtomicBool,
    progress: bool,
    hist: Option<std::fs::File>,
) -> Totals {
    let started = Instant::now();
    let mut totals = Totals {
        rtt: histogram(),
        tally: Tally::default(),
        hist_error: None,
    };
    let mut interval = histogram();
    let mut out = hist.map(BufWriter::new);
    let mut ser = V2DeflateSerializer::new();
    let mut log = match out
        .as_mut()
        .map(|o| hlog::begin(o, &mut ser, SystemTime::now()))
    {
        Some(Ok(log)) => Some(log),
        Some(Err(e)) => {
            totals.hist_error = Some(e.to_string());
            None
        }
        None => None,
    };
    let mut recent = [0u64; TICKS_PER_INTERVAL as usize];
    let mut tick = 0u32;
    let mut interval_start = Duration::ZERO;
    loop {
        let done = stop.load(Ordering::Relaxed);
        if !done {
            std::thread::sleep(TICK);
        }
        let before = totals.tally.received;
        drain(shared, &mut totals, &mut interval);
        tick += 1;
        recent[tick as usize % recent.len()] = totals.tally.received - before;
        let now = started.elapsed();
        if done || tick % TICKS_PER_INTERVAL == 0 {
            if let Some(l) = log.as_mut() {
                if let Err(e) = hlog::interval(l, &interval, interval_start, now - interval_start) {
                    totals.hist_error = Some(e.to_string());
                    log = None;
                }
            }
            interval.reset();
            interval_start = now;
        }
        if progress {
            let rate =
                recent.iter().sum::<u64>() as f64 / (TICK.as_secs_f64() * recent.len() as f64);
            redraw(
                now,
                shared.open.load(Ordering::Relaxed),
                rate,
                &totals.rtt,
                done,
            );
        }
        if done {
            break;
        }
    }
    drop(log);
    if let Some(Err(e)) = out.map(|mut o| o.flush()) {
        totals.hist_error = Some(e.to_string());
    }
    totals
}

/// Empty every shard into the totals and the current interval.
fn drain(shared: &Shared, totals: &mut Totals, interval: &mut Histogram<u64>) {
    for mut shard in shared.shards() {
        if !shard.rtt.is_empty() {
            let _ = totals.rtt.add(&shard.rtt);
            let _ = interval.add(&shard.rtt);
            shard.rtt.reset();
        }
        totals.tally.add(&shard.tally);
        shard.tally = Tally::default();
    }
}

/// The progress line, drawn over itself; cleared at the end so the report starts clean.
fn redraw(elapsed: Duration, open: u64, rate: f64, rtt: &Histogram<u64>, done: bool) {
    let mut err = std::io::stderr().lock();
    let _ = if done {
        write!(err, "\r\x1b[2K")
    } else {
        write!(
            err,
            "\r\x1b[2K{:>6.1}s  {open} open  {:.0} msg/s  p50 {}  p99 {}",
            elapsed.as_secs_f64(),
            rate,
            super::report::ms(rtt.value_at_quantile(0.5)),
            super::report::ms(rtt.value_at_quantile(0.99)),
        )
    };
    let _ = err.flush();
}
