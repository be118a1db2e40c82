//! `wscope bench URL`: load and latency. Connections are opened (all at once or at `--ramp` per
//! second) on a multi-threaded runtime of their own, each driven by `driver` (dial, upgrade,
//! stack and session engine shared with `connect`; the engine's events go to bench's `sink`, not
//! the printer); round trips go to per-thread HDR histograms (`stats`) that the
//! `progress` collector gathers off the runtime, also into the `--hist` interval log (`hlog`).
//! At the end `report` prints the numbers and this module gives the verdict: exit 0 when every
//! connection opened and every message was answered, 7 when replies or connections were missing,
//! the class of the failure (3/4/5) when no connection could be opened. `--merge` adds up logs.

pub mod driver;
pub mod hlog;
pub mod options;
pub mod pairing;
pub mod payload;
pub mod progress;
pub mod report;
pub mod sink;
pub mod stats;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;
use tokio::time::{sleep_until, Instant as TokioInstant};

use crate::config::Output;
use crate::error::{Error, Result};
use crate::printer::{Printer, Screen};
use options::{Bench, Mode};
use stats::{lock, Shared};

/// File descriptors wscope needs beside one per connection.
const SPARE_FDS: u64 = 64;

pub async fn run(mode: Mode, output: Output, shutdown: crate::shutdown::Shutdown) -> Result<()> {
    // bench's report is its own (`--json`: one object on stdout); errors are reported at the edge.
    let mut printer = output.printer(Screen::Stderr);
    let outcome = match mode {
        Mode::Run(cfg) => bench(*cfg, &mut printer, shutdown).await,
        Mode::Merge { files, json } => merge(&files, json, &mut printer),
    };
    crate::event::EventSink::flush(&mut printer);
    outcome
}

async fn bench(
    cfg: Bench,
    printer: &mut Printer,
    shutdown: crate::shutdown::Shutdown,
) -> Result<()> {
    check_fd_limit(cfg.connections, printer);
    let hist =
        match &cfg.hist {
            Some(path) => Some(std::fs::File::create(path).map_err(|e| {
                Error::io(format!("creating the --hist file {}", path.display()), e)
            })?),
            None => None,
        };
    let shared = Arc::new(Shared::new(cfg.threads));
    let collector = progress::Collector::start(shared.clone(), hist);
    let started = Instant::now();
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let h2_slots = (0..cfg.h2_connections.unwrap_or(0))
        .map(|_| Arc::default())
        .collect();
    let ctx = Arc::new(driver::Ctx {
        h2_slots,
        stop_at: cfg.messages.is_none().then(|| started + cfg.duration),
        cfg: Arc::new(cfg),
        shared: shared.clone(),
        stop,
    });
    let interrupted = drive(&ctx, started, &stop_tx, shutdown).await;
    let elapsed = started.elapsed();
    let totals = tokio::task::spawn_blocking(move || collector.finish())
        .await
        .map_err(|e| Error::Runtime(format!("the collector failed: {e}")))?;
    let mut outcomes = std::mem::take(&mut *lock(&shared.outcomes));
    let connect = lock(&shared.connect).clone();
    let upgrade = lock(&shared.upgrade).clone();
    let cfg = &ctx.cfg;
    let mut summary = report::summary(
        cfg,
        &report::Measured {
            outcomes: &outcomes,
            connect: &connect,
            upgrade: &upgrade,
            rtt: &totals.rtt,
            tally: totals.tally,
            elapsed,
        },
    );
    summary.http2 = http2(&ctx);
    if cfg.json {
        printer.write_json(&serde_json::to_value(&summary).unwrap_or_default());
    } else {
        printer.document(&report::text(&summary));
    }
    if interrupted {
        printer.note("interrupted: the report covers what was measured until then");
    }
    if let Some(why) = totals.hist_error {
        return Err(Error::Runtime(format!(
            "writing the --hist log failed: {why}"
        )));
    }
    verdict(&summary, outcomes.first_failure.take())
}

/// Open the connections and wait for them all. A first Ctrl-C or SIGTERM stops the load and
/// closes every connection; a second one drops them. True when interrupted.
async fn drive(
    ctx: &Arc<driver::Ctx>,
    started: Instant,
    stop: &tokio::sync::watch::Sender<bool>,
    shutdown: crate::shutdown::Shutdown,
) -> bool {
    let mut set = JoinSet::new();
    let n = ctx.cfg.connections;
    let ramp = ctx.cfg.ramp;
    let mut signals = shutdown;
    let mut interrupted = false;
    let finished = {
        let all = async {
            for i in 0..n {
                if let Some(per_sec) = ramp {
                    let at = started + Duration::from_secs_f64(f64::from(i) / per_sec);
                    sleep_until(TokioInstant::from_std(at)).await;
                }
                if *ctx.stop.borrow() {
                    break;
                }
                set.spawn(driver::connection(i + 1, ctx.clone()));
            }
            while set.join_next().await.is_some() {}
        };
        tokio::pin!(all);
        loop {
            tokio::select! {
                () = &mut all => break true,
                () = signals.recv() => {},
            }
            if interrupted {
                break false;
            }
            interrupted = true;
            let _ = stop.send(true);
        }
    };
    if !finished {
        // The second signal: no more waiting for closes.
        set.abort_all();
        while set.join_next().await.is_some() {}
    }
    interrupted
}

/// With `--http2`: the WebSockets that opened as RFC 8441 streams, and the HTTP/2 connections
/// that carried them (one each, unless `--h2-connections` shared them).
fn http2(ctx: &driver::Ctx) -> Option<report::Http2> {
    if ctx.cfg.handshake.http2 == crate::handshake::Http2::Off {
        return None;
    }
    let websockets = ctx
        .shared
        .h2_websockets
        .load(std::sync::atomic::Ordering::Relaxed);
    let connections = if ctx.h2_slots.is_empty() {
        websockets
    } else {
        ctx.h2_slots.iter().map(|s| s.dialed()).sum()
    };
    Some(report::Http2 {
        connections,
        websockets,
    })
}

/// Exit 0 only when every connection opened and every message was answered.
fn verdict(s: &report::Summary, first_failure: Option<Error>) -> Result<()> {
    let c = &s.connections;
    if c.opened == 0 {
        return Err(
            first_failure.unwrap_or_else(|| Error::Runtime("no connection could be opened".into()))
        );
    }
    if s.replies.missing > 0 {
        return Err(Error::Expectation {
            message: format!(
                "{} of {} messages got no reply",
                s.replies.missing, s.replies.expected
            ),
            hint: Some(
                "--reply-timeout SECS waits longer; for a server that does not echo, pair replies with --match FILTER or --any-reply".into(),
            ),
        });
    }
    if c.failed > 0 || c.closed_early > 0 {
        return Err(Error::Expectation {
            message: format!(
                "{} of {} connections could not be opened, {} closed early",
                c.failed, c.requested, c.closed_early
            ),
            hint: Some(
                "the report's Errors section says why; --ramp PER_SEC opens them more gently"
                    .into(),
            ),
        });
    }
    Ok(())
}

/// `--merge`: the combined report of interval logs.
fn merge(files: &[std::path::PathBuf], json: bool, printer: &mut Printer) -> Result<()> {
    let m = hlog::merge(files)?;
    let summary = report::MergeSummary {
        logs: files.len(),
        intervals: m.intervals,
        span_s: (m.span.as_secs_f64() * 1000.0).round() / 1000.0,
        round_trip_ms: report::Percentiles::of(&m.rtt),
    };
    if json {
        printer.write_json(&serde_json::to_value(&summary).unwrap_or_default());
    } else {
        printer.document(&report::merge_text(&summary));
    }
    Ok(())
}

/// Raise the soft limit on open files to the hard one, and say so when even that is short.
fn check_fd_limit(connections: u32, printer: &mut Printer) {
    let need = u64::from(connections) + SPARE_FDS;
    let Some(limit) = raise_nofile() else {
        return;
    };
    if limit < need {
        printer.warn(&format!(
            "the open-file limit is {limit} (its hard limit): {connections} connections need about {need}; \
             the rest will fail to open (raise the hard limit: `ulimit -Hn` as root, LimitNOFILE= in systemd)"
        ));
    }
}

/// The soft RLIMIT_NOFILE after raising it to the hard limit (None when it cannot be read).
#[allow(clippy::unnecessary_cast)] // rlim_t is not u64 on every target
fn raise_nofile() -> Option<u64> {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) != 0 {
            return None;
        }
        if r.rlim_cur < r.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: r.rlim_max,
                rlim_max: r.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return Some(raised.rlim_cur as u64);
            }
        }
    }
    Some(r.rlim_cur as u64)
}
