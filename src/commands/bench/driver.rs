//! One connection of the load: dialled and upgraded by the same code as `connect`
//! (`handshake::open`), stacked by `session::stack` (so deflate, the guard and the rest of the
//! stack apply), then driven here: a closed loop (the next message leaves when the last one was
//! answered) or an open loop (messages leave on schedule, `--rate`; each round trip counts from
//! when its message was due, so a stalled server cannot hide its stall: wrk2's correction of
//! coordinated omission). Nothing is printed: round trips go to the [`Recorder`], outcomes to
//! [`Shared`].
//!
//! Why not the session engine: its input is an owned `Input` through a channel, its writes a
//! second channel to a writer task, and each pass of its loop polls a dozen arms (timers, signals,
//! the script): per message that is two channel hops, a task wake-up and an allocation, and the
//! send time it could report is not when the write reached the socket.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::time::{sleep_until, timeout, Instant as TokioInstant};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

use super::options::Bench;
use super::pairing::{InFlight, Paired};
use super::payload::{body, Generator};
use super::stats::{Recorder, Shared};
use crate::dial::BoxStream;
use crate::handshake;
use crate::session::{self, Role};

type Ws = WebSocketStream<BoxStream>;

/// How long our close frame may wait for the server's.
const CLOSE_WAIT: Duration = Duration::from_secs(5);
/// Messages read in one go when they are already there, all stamped with one reading of the clock.
const READ_BURST: usize = 64;
/// Messages sent in one go in open loop before reads get a turn.
const SEND_BURST: usize = 256;

/// What every connection shares.
pub struct Ctx {
    pub cfg: Arc<Bench>,
    pub shared: Arc<Shared>,
    /// `-d`: when sending stops (None with `-n`).
    pub stop_at: Option<Instant>,
    /// Becomes true on Ctrl-C or SIGTERM: every connection stops sending and closes.
    pub stop: tokio::sync::watch::Receiver<bool>,
}

/// How the load on a connection ended.
enum End {
    /// Every message sent, every reply in or given up on.
    Done,
    /// The server closed first.
    ClosedByServer(Option<u16>),
    /// The connection broke, or a send never finished.
    Broken(String),
    /// A signal stopped the run: close now, what is in flight is neither answered nor missing.
    Stopped,
}

/// Open connection number `id` (from 1), run its load, close it.
pub async fn connection(id: u32, ctx: Arc<Ctx>) {
    let cfg = &ctx.cfg;
    let mut stop = ctx.stop.clone();
    let (report, upgraded) = tokio::select! {
        opened = handshake::open(&cfg.target, &cfg.handshake) => opened,
        () = stopped(&mut stop) => return,
    };
    let up = match upgraded {
        Ok(up) => up,
        Err(e) => return ctx.shared.failed(e),
    };
    let t = &report.timings;
    ctx.shared
        .opened(t.dial.tcp.or(t.total), t.upgrade.or(t.total));
    let link = report
        .verdict
        .as_ref()
        .and_then(|v| v.deflate)
        .map(|agreed| crate::deflate::Link::new(agreed, Role::Client));
    let stacked = session::stack(
        up.stream,
        up.leftover,
        Role::Client,
        link.as_ref(),
        cfg.max_message_size,
        None,
    )
    .await;
    let mut ws = stacked.ws;
    ctx.shared
        .open
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut load = Load::new(id, &ctx);
    let end = load.run(&mut ws, &mut stop).await;
    let now = Instant::now();
    let in_flight = load.inflight.abandon();
    if !matches!(end, End::Stopped) {
        load.rec.tally.missing += in_flight;
    }
    load.rec.flush(now, &ctx.shared);
    match end {
        End::Done | End::Stopped => close(&mut ws, &ctx.shared).await,
        End::ClosedByServer(code) => ctx.shared.closed_early(match code {
            Some(c) => format!("the server closed the connection early with {c}"),
            None => "the server closed the connection early without a code".to_string(),
        }),
        End::Broken(why) => ctx.shared.closed_early(why),
    }
    ctx.shared
        .open
        .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
}

/// Send our close and wait for the server's, within [`CLOSE_WAIT`].
async fn close(ws: &mut Ws, shared: &Shared) {
    let closing = async {
        ws.close(None).await?;
        while let Some(m) = ws.next().await {
            m?;
        }
        Ok::<(), WsError>(())
    };
    match timeout(CLOSE_WAIT, closing).await {
        Ok(Ok(())) | Ok(Err(WsError::ConnectionClosed)) => {}
        Ok(Err(e)) => shared.error(format!("closing: {e}")),
        Err(_) => shared.error("closing: the server did not answer our close within 5 s".into()),
    }
}

/// One connection's load: what to send, what is in flight, what was measured.
struct Load<'a> {
    ctx: &'a Ctx,
    gen: Generator,
    inflight: InFlight,
    rec: Recorder,
    /// Messages sent so far (the last one's `${seq}`).
    seq: u64,
    sending: bool,
    /// Open loop: the time between two messages, and when the next one is due.
    interval: Option<Duration>,
    next_due: Instant,
}

impl<'a> Load<'a> {
    fn new(id: u32, ctx: &'a Ctx) -> Load<'a> {
        let now = Instant::now();
        Load {
            ctx,
            gen: Generator::new(&ctx.cfg.payload, id),
            inflight: InFlight::new(
                ctx.cfg.pairing.clone(),
                super::pairing::share(ctx.cfg.connections),
            ),
            rec: Recorder::new(now),
            seq: 0,
            sending: true,
            interval: ctx.cfg.rate.map(|r| Duration::from_secs_f64(1.0 / r)),
            next_due: now,
        }
    }

    /// Whether the load asked for is all sent.
    fn all_sent(&self, now: Instant) -> bool {
        self.ctx.cfg.messages.is_some_and(|n| self.seq >= n)
            || self.ctx.stop_at.is_some_and(|t| now >= t)
    }

    async fn run(&mut self, ws: &mut Ws, stop: &mut tokio::sync::watch::Receiver<bool>) -> End {
        let timeout_after = self.ctx.cfg.reply_timeout;
        loop {
            let now = Instant::now();
            if self.sending && self.all_sent(now) {
                self.sending = false;
            }
            if !self.sending && self.inflight.is_empty() {
                return End::Done;
            }
            if self.sending && self.interval.is_none() && self.inflight.is_empty() {
                if let Err(why) = self.send_closed_loop(ws).await {
                    return End::Broken(why);
                }
                continue;
            }
            let expiry = self.inflight.next_expiry(timeout_after);
            let stop_at = self.ctx.stop_at.filter(|_| self.sending);
            tokio::select! {
                biased;
                () = stopped(stop) => return End::Stopped,
                m = ws.next() => {
                    if let Some(end) = self.on_readable(m, ws) {
                        return end;
                    }
                }
                _ = sleep_until(TokioInstant::from_std(self.next_due)), if self.sending && self.interval.is_some() => {
                    if let Err(why) = self.send_due(ws).await {
                        return End::Broken(why);
                    }
                }
                _ = sleep_until(TokioInstant::from_std(expiry.unwrap_or(now))), if expiry.is_some() => {
                    self.rec.tally.missing += self.inflight.expire(Instant::now(), timeout_after);
                }
                _ = sleep_until(TokioInstant::from_std(stop_at.unwrap_or(now))), if stop_at.is_some() => {
                    self.sending = false;
                }
            }
        }
    }

    /// The socket was readable: take this message and those already behind it (up to
    /// [`READ_BURST`]), all stamped with one reading of the clock.
    fn on_readable(&mut self, first: Option<Result<Message, WsError>>, ws: &mut Ws) -> Option<End> {
        let now = Instant::now();
        let mut next = Some(first);
        let mut n = 0;
        while let Some(m) = next.take() {
            match m {
                Some(Ok(m)) => {
                    if let Some(end) = self.on_message(m, now) {
                        return Some(end);
                    }
                }
                Some(Err(e)) => return Some(End::Broken(format!("the connection broke: {e}"))),
                None => {
                    return Some(End::Broken(
                        "the connection ended without a close frame".into(),
                    ))
                }
            }
            n += 1;
            if n < READ_BURST {
                next = ws.next().now_or_never();
            }
        }
        None
    }

    /// A message from the server, read at `now`: a reply, something unpaired, or its close.
    fn on_message(&mut self, m: Message, now: Instant) -> Option<End> {
        let Some(b) = body(&m) else {
            return match m {
                Message::Close(f) => Some(End::ClosedByServer(f.map(|f| u16::from(f.code)))),
                _ => None,
            };
        };
        self.rec.tally.received += 1;
        self.rec.tally.received_bytes += b.len() as u64;
        match self.inflight.pair(&m) {
            Paired::Answer(at) => {
                self.rec
                    .rtt(now.saturating_duration_since(at), now, &self.ctx.shared)
            }
            Paired::Unpaired => self.rec.tally.unpaired += 1,
        }
        None
    }

    /// Closed loop: send the next message now, timed from just before the write.
    async fn send_closed_loop(&mut self, ws: &mut Ws) -> Result<(), String> {
        self.seq += 1;
        let m = self.gen.message(self.seq);
        let now = Instant::now();
        self.count_sent(now, &m);
        self.send(ws, m, true).await
    }

    /// Open loop: send every message that is due, each timed from when it was due.
    async fn send_due(&mut self, ws: &mut Ws) -> Result<(), String> {
        let Some(interval) = self.interval else {
            return Ok(());
        };
        let now = Instant::now();
        // Far behind schedule (a huge --rate, a stalled loop), a burst is cut short so reads get
        // their turn; the rest is due at once on the next pass.
        let mut burst = 0;
        while self.sending && self.next_due <= now && burst < SEND_BURST {
            burst += 1;
            self.seq += 1;
            let m = self.gen.message(self.seq);
            let due = self.next_due;
            self.next_due += interval;
            self.count_sent(due, &m);
            self.send(ws, m, false).await?;
            if self.all_sent(now) {
                self.sending = false;
            }
        }
        self.flush(ws).await
    }

    fn count_sent(&mut self, at: Instant, m: &Message) {
        self.rec.tally.sent += 1;
        self.rec.tally.sent_bytes += body(m).map_or(0, |b| b.len()) as u64;
        if self.inflight.push(at, m) {
            self.rec.tally.missing += 1;
        }
        self.rec.tick(at, &self.ctx.shared);
    }

    /// Hand a message to the socket (`flush`: now; otherwise with the rest of the burst).
    async fn send(&mut self, ws: &mut Ws, m: Message, flush: bool) -> Result<(), String> {
        let wait = self.ctx.cfg.reply_timeout;
        let sent = if flush {
            timeout(wait, ws.send(m)).await
        } else {
            timeout(wait, ws.feed(m)).await
        };
        match sent {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("sending failed: {e}")),
            Err(_) => Err(stalled(wait)),
        }
    }

    async fn flush(&mut self, ws: &mut Ws) -> Result<(), String> {
        let wait = self.ctx.cfg.reply_timeout;
        match timeout(wait, ws.flush()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("sending failed: {e}")),
            Err(_) => Err(stalled(wait)),
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
