//! bench's end of the session engine: the [`EventSink`] a load connection's session emits to,
//! instead of the printer. A data message received is paired with the request it answers and its
//! round trip goes to the [`Recorder`]; in a closed loop the reply also queues the next message.
//! Nothing here formats text or allocates per message: the events lend their bytes, the messages
//! queued are the payload's shared buffer (or the template's one allocation), and the counters
//! are plain integers handed to the thread's shard in batches.
//!
//! The state of one connection's load ([`Load`]) is shared, behind an uncontended mutex, by the
//! sink (replies) and the connection's clock in `driver` (the open loop's schedule, the reply
//! timeout, `-d`, a signal).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use super::options::Bench;
use super::pairing::{InFlight, Paired};
use super::payload::{body, Generator};
use super::stats::{lock, LensTally, Recorder, Shared};
use crate::event::{Event, EventSink};
use crate::session::Input;

/// Messages one connection may have queued for its session: the open loop's burst; the closed
/// loop needs two (the next message and the end of input).
pub const QUEUE: usize = 64;

/// One connection's load: what to send, what is in flight, what was measured.
pub struct Load {
    gen: Generator,
    pub inflight: InFlight,
    pub rec: Recorder,
    /// Messages queued so far (the last one's `${seq}`).
    seq: u64,
    pub sending: bool,
    /// The end of input was queued: the session closes once it has sent what came before.
    pub ended: bool,
    /// A signal stopped the run: what is in flight is neither answered nor missing.
    pub stopped: bool,
    /// Closed loop: the message queued last, whose send time is taken when the session sends it.
    unstamped: Option<Message>,
    /// Open loop: the time between two messages, and when the next one is due.
    pub interval: Option<Duration>,
    pub next_due: Instant,
    messages: Option<u64>,
    stop_at: Option<Instant>,
    /// Received messages a lens decoded, could not decode, and those that were its own duties.
    pub lens: LensTally,
}

impl Load {
    pub fn new(id: u32, cfg: &Bench, stop_at: Option<Instant>, lens: Option<&'static str>) -> Load {
        let now = Instant::now();
        Load {
            gen: Generator::new(&cfg.payload, id),
            inflight: InFlight::new(cfg.pairing.clone(), super::pairing::share(cfg.connections)),
            rec: Recorder::new(now),
            seq: 0,
            sending: true,
            ended: false,
            stopped: false,
            unstamped: None,
            interval: cfg.rate.map(|r| Duration::from_secs_f64(1.0 / r)),
            next_due: now,
            messages: cfg.messages,
            stop_at,
            lens: LensTally {
                name: lens,
                ..LensTally::default()
            },
        }
    }

    /// Whether the load asked for is all sent (and sending stops if so).
    pub fn all_sent(&mut self, now: Instant) -> bool {
        if self.messages.is_some_and(|n| self.seq >= n) || self.stop_at.is_some_and(|t| now >= t) {
            self.sending = false;
        }
        !self.sending
    }

    /// The next message, counted as sent at `at` and put in flight.
    pub fn next(&mut self, at: Instant, shared: &Shared) -> Message {
        self.seq += 1;
        let m = self.gen.message(self.seq);
        self.rec.tally.sent += 1;
        self.rec.tally.sent_bytes += body(&m).map_or(0, |b| b.len()) as u64;
        if self.inflight.push(at, &m) {
            self.rec.tally.missing += 1;
        }
        self.rec.tick(at, shared);
        if self.interval.is_none() {
            self.unstamped = Some(m.clone());
        }
        m
    }

    /// What the closed loop queues now: the next message while sending and nothing is in
    /// flight, the end of input once all is sent and answered (or given up on); None otherwise.
    pub fn closed_loop_step(&mut self, now: Instant, shared: &Shared) -> Option<Input> {
        if self.ended || !self.inflight.is_empty() {
            return None;
        }
        if !self.all_sent(now) {
            if self.interval.is_some() {
                return None;
            }
            return Some(Input::Data(self.next(now, shared)));
        }
        self.ended = true;
        Some(Input::End)
    }

    /// The session sent a data message at `now`: in a closed loop, the one queued last starts
    /// its round trip here, not when it was queued (a lens's handshake may hold it back).
    fn on_sent(&mut self, data: &[u8], now: Instant) {
        if self.unstamped.as_ref().and_then(body) == Some(data) {
            self.unstamped = None;
            self.inflight.restamp_newest(now);
        }
    }

    /// A data message from the server, read at `now`.
    fn on_received(&mut self, data: &[u8], now: Instant, shared: &Shared) {
        self.rec.tally.received += 1;
        self.rec.tally.received_bytes += data.len() as u64;
        match self.inflight.pair(data) {
            Paired::Answer(at) => self.rec.rtt(now.saturating_duration_since(at), now, shared),
            Paired::Unpaired => self.rec.tally.unpaired += 1,
        }
    }
}

/// One connection's load, as its sink and its clock both see it.
pub struct Conn {
    pub load: Mutex<Load>,
    pub input: mpsc::Sender<Input>,
    pub shared: Arc<Shared>,
}

impl Conn {
    /// Queue what the closed loop calls for now. False when the session's queue is full: the
    /// session is stuck on a server that does not read.
    pub fn step(&self, now: Instant) -> bool {
        let next = lock(&self.load).closed_loop_step(now, &self.shared);
        match next {
            Some(i) => self.input.try_send(i).is_ok(),
            None => true,
        }
    }
}

/// The session's events, into counters and histograms.
pub struct BenchSink {
    pub conn: Arc<Conn>,
    /// The session's queue refused a message: the clock ends the connection.
    pub stuck: Arc<std::sync::atomic::AtomicBool>,
}

impl EventSink for BenchSink {
    fn event(&mut self, ev: Event<'_>) {
        match ev {
            Event::Received { data, lens, .. } => {
                let now = Instant::now();
                let next = {
                    let mut load = lock(&self.conn.load);
                    if let Some(view) = lens {
                        match &view.decoded {
                            Ok(d) if d.duty => {
                                load.lens.duties += 1;
                                return;
                            }
                            Ok(_) => load.lens.decoded += 1,
                            Err(_) => load.lens.undecoded += 1,
                        }
                    }
                    load.on_received(data, now, &self.conn.shared);
                    load.closed_loop_step(now, &self.conn.shared)
                };
                if next.is_some_and(|i| self.conn.input.try_send(i).is_err()) {
                    self.stuck.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            }
            Event::Sent { data, .. } => lock(&self.conn.load).on_sent(data, Instant::now()),
            _ => {}
        }
    }
    fn flush(&mut self) {}
    fn dirty(&self) -> bool {
        false
    }
    fn broken(&self) -> bool {
        false
    }
}
