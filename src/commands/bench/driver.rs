//! One connection of the load, on connect's code from end to end: dialled and upgraded by
//! `handshake::open` (wss, proxies, `--http2`), stacked by `session::stack` (deflate, the guard),
//! then run by the session engine (`session::run_connection`, with the lens of `--lens`), whose
//! events go to bench's [`BenchSink`] instead of the printer. Beside the session runs the
//! connection's clock: the open loop's schedule (messages leave on time, each round trip counts
//! from when its message was due, so a stalled server cannot hide its stall: wrk2's correction of
//! coordinated omission), the reply timeout, the end of `-d`, and a signal. A closed loop is
//! driven by the replies themselves (see `sink`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::time::{sleep_until, timeout, Instant as TokioInstant};

use super::options::Bench;
use super::sink::{BenchSink, Conn, Load, QUEUE};
use super::stats::{lock, Shared};
use crate::event::{Closer, Stats};
use crate::handshake;
use crate::session::{self, Input, Role};

/// How long the session may take to close once its input ended: the engine's close deadline
/// (5 s) and its writer's grace (1 s), and a second to spare. Past it the connection is dropped.
const CLOSE_WAIT: Duration = Duration::from_secs(7);
/// The WebSocket library's read buffer per connection (connect's is 16 KiB): allocated whole for
/// each connection, it was half of bench's memory per connection (docs/BENCHMARKS.md, B8).
const READ_BUFFER: usize = 4 * 1024;
/// How often the clock looks at a connection with nothing in flight (a reply timeout is never
/// later than this past due).
const IDLE_LOOK: Duration = Duration::from_secs(1);

/// What every connection shares.
pub struct Ctx {
    pub cfg: Arc<Bench>,
    pub shared: Arc<Shared>,
    /// `-d`: when sending stops (None with `-n`).
    pub stop_at: Option<Instant>,
    /// Becomes true on Ctrl-C or SIGTERM: every connection stops sending and closes.
    pub stop: tokio::sync::watch::Receiver<bool>,
    /// `--h2-connections K`: the K shared HTTP/2 connections (empty without it).
    pub h2_slots: Vec<Arc<crate::dial::h2mux::H2Slot>>,
}

/// Open connection number `id` (from 1), run its load, close it.
pub async fn connection(id: u32, ctx: Arc<Ctx>) {
    let cfg = &ctx.cfg;
    let mut stop = ctx.stop.clone();
    let shared_h2;
    let options = match ctx
        .h2_slots
        .get((id as usize - 1) % ctx.h2_slots.len().max(1))
    {
        Some(slot) => {
            shared_h2 = handshake::Options {
                h2_slot: Some(slot.clone()),
                ..cfg.handshake.clone()
            };
            &shared_h2
        }
        None => &cfg.handshake,
    };
    let (report, upgraded) = tokio::select! {
        opened = handshake::open(&cfg.target, options) => opened,
        () = stopped(&mut stop) => return,
    };
    let up = match upgraded {
        Ok(up) => up,
        Err(e) => return ctx.shared.failed(e),
    };
    if report.http2.is_some() {
        ctx.shared.h2_websockets.fetch_add(1, Ordering::Relaxed);
    }
    let t = &report.timings;
    ctx.shared
        .opened(t.dial.tcp.or(t.total), t.upgrade.or(t.total));
    let link = report
        .verdict
        .as_ref()
        .and_then(|v| v.deflate)
        .map(|agreed| crate::deflate::Link::new(agreed, Role::Client));
    let stacked = session::stack_sized(
        up.stream,
        up.leftover,
        Role::Client,
        link.as_ref(),
        cfg.max_message_size,
        None,
        READ_BUFFER,
    )
    .await;
    let opts = session::Options {
        wire: Some(stacked.wire),
        deflate: link,
        raw: Some(stacked.raw),
        lens: crate::lens::for_connection(&cfg.lens, &cfg.target, &report),
        ..cfg.session.clone()
    };
    let stats = Stats::new(report.url.clone(), None, Vec::new());
    ctx.shared.open.fetch_add(1, Ordering::Relaxed);
    run(id, &ctx, stacked.ws, opts, stats, &mut stop).await;
    ctx.shared.open.fetch_sub(1, Ordering::Relaxed);
}

/// How the load on a connection ended, as the clock saw it.
enum Clock {
    /// The end of input is queued: the session closes.
    Ended,
    /// The session stopped taking what we queue: the server does not read.
    Stuck,
}

/// The session and the clock, side by side, then the connection's outcome.
async fn run(
    id: u32,
    ctx: &Arc<Ctx>,
    ws: tokio_tungstenite::WebSocketStream<crate::dial::BoxStream>,
    opts: session::Options,
    stats: Stats,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) {
    let (tx, rx) = mpsc::channel(QUEUE);
    let conn = Arc::new(Conn {
        load: Mutex::new(Load::new(
            id,
            &ctx.cfg,
            ctx.stop_at,
            opts.lens.as_ref().map(|c| c.entry.name),
        )),
        input: tx,
        shared: ctx.shared.clone(),
    });
    let stuck = Arc::new(AtomicBool::new(false));
    let mut sink = BenchSink {
        conn: conn.clone(),
        stuck: stuck.clone(),
    };
    // The closed loop's first message (held by the session while a lens shakes hands).
    conn.step(Instant::now());
    let mut feed = session::Feed::new(rx);
    let session = session::run_connection(
        ws,
        &mut feed,
        None,
        &mut sink,
        opts,
        stats,
        session::Carry::default(),
    );
    tokio::pin!(session);
    let ended = tokio::select! {
        ended = &mut session => Some(ended),
        clock = tick(&conn, ctx, &stuck, stop) => match clock {
            Clock::Ended => timeout(CLOSE_WAIT, &mut session).await.ok(),
            Clock::Stuck => None,
        },
    };
    let now = Instant::now();
    let mut load = lock(&conn.load);
    let in_flight = load.inflight.abandon();
    if !load.stopped {
        load.rec.tally.missing += in_flight;
    }
    load.rec.flush(now, &ctx.shared);
    ctx.shared.lens(load.lens);
    let done = load.ended;
    drop(load);
    outcome(ended, done, stuck.load(Ordering::Relaxed), ctx);
}

/// Count how the connection ended: closed by us once the load was done, or early (by the server,
/// or broken), or cut off.
fn outcome(ended: Option<session::Ended>, done: bool, stuck: bool, ctx: &Ctx) {
    let shared = &ctx.shared;
    let Some(ended) = ended else {
        return shared.closed_early(if stuck || !done {
            stalled(ctx.cfg.reply_timeout)
        } else {
            "closing: the server did not answer our close within 5 s".into()
        });
    };
    match (&ended.ending, done) {
        (Some(e), false) if e.closer == Closer::Peer => shared.closed_early(match e.code {
            Some(c) => format!("the server closed the connection early with {c}"),
            None => "the server closed the connection early without a code".to_string(),
        }),
        (_, false) => shared.closed_early(match ended.result {
            Err(e) => format!("the connection broke: {e}"),
            Ok(()) => "the connection ended without a close frame".into(),
        }),
        (_, true) => {
            if let Err(e) = ended.result {
                shared.error(format!("closing: {e}"));
            }
        }
    }
}

/// The connection's clock: the open loop's schedule, reply timeouts, `-d` and a signal. Returns
/// once the end of input is queued, or when the session stopped taking input.
async fn tick(
    conn: &Conn,
    ctx: &Ctx,
    stuck: &AtomicBool,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) -> Clock {
    let wait = ctx.cfg.reply_timeout;
    loop {
        if stuck.load(Ordering::Relaxed) {
            return Clock::Stuck;
        }
        let now = Instant::now();
        let wake = {
            let load = lock(&conn.load);
            if load.ended {
                return Clock::Ended;
            }
            let expiry = load.inflight.next_expiry(wait);
            let mut at = expiry.unwrap_or(now + IDLE_LOOK).min(now + IDLE_LOOK);
            if load.sending {
                if load.interval.is_some() {
                    at = at.min(load.next_due);
                }
                if let Some(s) = ctx.stop_at {
                    at = at.min(s);
                }
            }
            at
        };
        tokio::select! {
            biased;
            () = stopped(stop) => {
                let mut load = lock(&conn.load);
                load.stopped = true;
                load.sending = false;
                load.inflight.abandon();
            }
            () = sleep_until(TokioInstant::from_std(wake)) => {}
        }
        let now = Instant::now();
        {
            let mut load = lock(&conn.load);
            load.rec.tally.missing += load.inflight.expire(now, wait);
            load.all_sent(now);
        }
        if !send_due(conn, now, wait).await {
            return Clock::Stuck;
        }
        if !conn.step(now) {
            return Clock::Stuck;
        }
    }
}

/// Open loop: queue every message that is due, each timed from when it was due. False when the
/// session took none for `wait` (`--reply-timeout`).
async fn send_due(conn: &Conn, now: Instant, wait: Duration) -> bool {
    loop {
        let m = {
            let mut load = lock(&conn.load);
            let Some(interval) = load.interval else {
                return true;
            };
            if !load.sending || load.next_due > now || load.all_sent(now) {
                return true;
            }
            let due = load.next_due;
            load.next_due += interval;
            load.next(due, &conn.shared)
        };
        if !matches!(
            timeout(wait, conn.input.send(Input::Data(m))).await,
            Ok(Ok(()))
        ) {
            return false;
        }
    }
}

/// Resolves once a signal stopped the run (never, should the sender be gone).
async fn stopped(stop: &mut tokio::sync::watch::Receiver<bool>) {
    if stop.wait_for(|stopped| *stopped).await.is_err() {
        std::future::pending::<()>().await;
    }
}

fn stalled(wait: Duration) -> String {
    format!(
        "the server stopped reading: a send did not finish within {} (--reply-timeout)",
        crate::error::secs(wait)
    )
}
