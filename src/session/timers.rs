//! The session's timers: the wait after the input ends (`-w`, `--idle`), automatic pings, the
//! close handshake's deadline and the short hold on reads while a stream flows in
//! (`crate::coalesce`). Made once per connection and moved only when their deadline changes:
//! building them on every pass of the loop cost a clock read and a timer registration per message.

use std::pin::Pin;
use std::time::{Duration, Instant};

use tokio::time::{sleep_until, Instant as TokioInstant, Sleep};

use super::far_future;

pub(super) struct Timers {
    pub wait: Pin<Box<Sleep>>,
    pub ping: Pin<Box<Sleep>>,
    pub close: Pin<Box<Sleep>>,
    pub read_hold: Pin<Box<Sleep>>,
    /// Reads wait for `read_hold`.
    pub reads_held: bool,
    /// The deadline `wait` was last set to, while the wait applies.
    pub wait_armed: Option<TokioInstant>,
    pub close_armed: bool,
    /// How often to ping, if at all.
    pub ping_every: Option<Duration>,
}

impl Timers {
    pub fn new(ping_every: Option<Duration>) -> Timers {
        Timers {
            wait: Box::pin(sleep_until(far_future())),
            ping: Box::pin(sleep_until(
                ping_every.map_or_else(far_future, |i| TokioInstant::now() + i),
            )),
            close: Box::pin(sleep_until(far_future())),
            read_hold: Box::pin(sleep_until(far_future())),
            reads_held: false,
            wait_armed: None,
            close_armed: false,
            ping_every,
        }
    }

    /// Before each pass of the loop. The wait deadline moves with every message; its timer is
    /// only re-armed when it first applies and when it fires early ([`Timers::wait_fired`]).
    /// The close handshake has a deadline whoever began it: a peer that sent its close and keeps
    /// TCP open must not keep us for ever.
    pub fn rearm(
        &mut self,
        wait_deadline: Option<TokioInstant>,
        close_begun: Option<Instant>,
        close_wait: Duration,
    ) {
        match (wait_deadline, self.wait_armed) {
            (Some(d), None) => {
                self.wait.as_mut().reset(d);
                self.wait_armed = Some(d);
            }
            (None, Some(_)) => self.wait_armed = None,
            _ => {}
        }
        if let (Some(t), false) = (close_begun, self.close_armed) {
            self.close
                .as_mut()
                .reset(TokioInstant::from_std(t + close_wait));
            self.close_armed = true;
        }
    }

    /// The wait timer fired. True when the wait is over; false when a message came in since it
    /// was set, and it now waits out the new silence. Once over, the timer is moved to the far
    /// future: an elapsed timer is ready on every poll, and an arm that is ready for ever starves
    /// the ones below it in a biased select (the close deadline, issue 25 R1).
    pub fn wait_fired(&mut self, deadline: Option<TokioInstant>) -> bool {
        match deadline {
            Some(d) if d > TokioInstant::now() => {
                self.wait.as_mut().reset(d);
                self.wait_armed = Some(d);
                false
            }
            _ => {
                self.wait.as_mut().reset(far_future());
                true
            }
        }
    }

    /// A burst of `n` messages was just read: hold reads a moment if the stream flows fast.
    pub fn after_burst(&mut self, n: usize) {
        if let Some(until) = crate::coalesce::after_burst(n) {
            self.read_hold.as_mut().reset(TokioInstant::from_std(until));
            self.reads_held = true;
        }
    }
}
