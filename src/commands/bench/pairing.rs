//! Which reply answers which request: the messages in flight on one connection, with their send
//! times, and the three rules of the SPEC. By default the reply equal to what was sent (an echo
//! server); `--match FILTER` pairs JSON messages whose jq key is the same; `--any-reply` takes
//! the next message. The queue is bounded: past its share of [`IN_FLIGHT_BUDGET`] (at most
//! [`MAX_IN_FLIGHT`]), the oldest request is given up on and counted as missing.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_tungstenite::tungstenite::Message;

use super::payload::body;
use crate::script::matcher::{Jq, JqOutcome};

/// Requests awaiting a reply per connection, at most.
pub const MAX_IN_FLIGHT: usize = 4096;
/// Requests awaiting a reply in the whole process, at most (~64 bytes each, plus a `-x` payload):
/// each connection gets an equal share, so 10,000 connections cannot hold gigabytes of them.
pub const IN_FLIGHT_BUDGET: usize = 1 << 20;
/// The smallest share of a connection.
const MIN_IN_FLIGHT: usize = 16;

/// A connection's share of the budget when there are `connections`.
pub fn share(connections: u32) -> usize {
    (IN_FLIGHT_BUDGET / connections.max(1) as usize).clamp(MIN_IN_FLIGHT, MAX_IN_FLIGHT)
}

/// How replies are paired with requests.
#[derive(Debug, Clone)]
pub enum Pairing {
    Echo,
    Match(Arc<Jq>),
    Any,
}

/// What a pairing rule needs to find a request again, and when it was sent (or, in open loop,
/// when it was meant to be sent).
struct Pending {
    at: Instant,
    /// The message as sent (a reference count on its bytes), for echo equality.
    sent: Option<Message>,
    /// The jq key of the request, for `--match`.
    key: Option<String>,
}

/// What became of a received message.
#[derive(Debug, PartialEq, Eq)]
pub enum Paired {
    /// It answered the request sent at this instant.
    Answer(Instant),
    /// It answers nothing in flight.
    Unpaired,
}

pub struct InFlight {
    queue: VecDeque<Pending>,
    pairing: Pairing,
    cap: usize,
}

impl InFlight {
    /// At most `cap` requests in flight.
    pub fn new(pairing: Pairing, cap: usize) -> InFlight {
        InFlight {
            queue: VecDeque::new(),
            pairing,
            cap: cap.max(1),
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Remember a request sent (or due) at `at`. Returns true when the oldest one had to be
    /// given up on to make room (it counts as missing).
    pub fn push(&mut self, at: Instant, m: &Message) -> bool {
        let (sent, key) = match &self.pairing {
            Pairing::Echo => (Some(m.clone()), None),
            Pairing::Match(jq) => (None, body(m).and_then(|b| key(jq, b))),
            Pairing::Any => (None, None),
        };
        let evicted = self.queue.len() >= self.cap && self.queue.pop_front().is_some();
        self.queue.push_back(Pending { at, sent, key });
        evicted
    }

    /// Pair a received data message with the request it answers, and forget that request.
    pub fn pair(&mut self, reply: &[u8]) -> Paired {
        let index = match &self.pairing {
            Pairing::Any => (!self.queue.is_empty()).then_some(0),
            Pairing::Echo => self
                .queue
                .iter()
                .position(|p| p.sent.as_ref().and_then(body) == Some(reply)),
            Pairing::Match(jq) => match key(jq, reply) {
                Some(k) => self
                    .queue
                    .iter()
                    .position(|p| p.key.as_deref() == Some(k.as_str())),
                None => None,
            },
        };
        match index.and_then(|i| self.queue.remove(i)) {
            Some(p) => Paired::Answer(p.at),
            None => Paired::Unpaired,
        }
    }

    /// When the oldest request stops being worth waiting for.
    /// The request sent last left at `at` (closed loop: when the session sent it, not when it
    /// was queued).
    pub fn restamp_newest(&mut self, at: Instant) {
        if let Some(p) = self.queue.back_mut() {
            p.at = at;
        }
    }

    pub fn next_expiry(&self, timeout: Duration) -> Option<Instant> {
        self.queue.front().map(|p| p.at + timeout)
    }

    /// Give up on the requests older than `timeout`; returns how many.
    pub fn expire(&mut self, now: Instant, timeout: Duration) -> u64 {
        let mut n = 0;
        while self
            .queue
            .front()
            .is_some_and(|p| now.saturating_duration_since(p.at) >= timeout)
        {
            self.queue.pop_front();
            n += 1;
        }
        n
    }

    /// Give up on everything still in flight (the connection ended); returns how many.
    pub fn abandon(&mut self) -> u64 {
        let n = self.queue.len() as u64;
        self.queue.clear();
        n
    }
}

/// The `--match` key of a data message: the filter's first output on it, when it is JSON.
pub fn key(jq: &Jq, data: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(data).ok()?;
    match jq.run(text) {
        JqOutcome::Value { text, .. } => Some(text),
        JqOutcome::NotJson | JqOutcome::Nothing => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Message {
        Message::Text(s.into())
    }

    #[test]
    fn echo_pairs_the_equal_message_even_out_of_order() {
        let t0 = Instant::now();
        let t1 = t0 + Duration::from_millis(1);
        let mut f = InFlight::new(Pairing::Echo, 64);
        f.push(t0, &text("a"));
        f.push(t1, &text("b"));
        assert_eq!(f.pair("b".as_bytes()), Paired::Answer(t1));
        assert_eq!(f.pair("zzz".as_bytes()), Paired::Unpaired);
        assert_eq!(f.pair("a".as_bytes()), Paired::Answer(t0));
        assert_eq!(
            f.pair("a".as_bytes()),
            Paired::Unpaired,
            "each request answered once"
        );
    }

    #[test]
    fn match_pairs_by_the_jq_key_whatever_the_body() {
        let jq = Arc::new(Jq::compile(".id").unwrap());
        let t0 = Instant::now();
        let t1 = t0 + Duration::from_millis(1);
        let mut f = InFlight::new(Pairing::Match(jq), 64);
        f.push(t0, &text(r#"{"id":1,"q":"x"}"#));
        f.push(t1, &text(r#"{"id":2,"q":"y"}"#));
        assert_eq!(
            f.pair(r#"{"id":2,"result":true}"#.as_bytes()),
            Paired::Answer(t1)
        );
        assert_eq!(f.pair("not json".as_bytes()), Paired::Unpaired);
        assert_eq!(f.pair(r#"{"other":1}"#.as_bytes()), Paired::Unpaired);
        assert_eq!(f.pair(r#"{"id":1}"#.as_bytes()), Paired::Answer(t0));
    }

    #[test]
    fn any_reply_takes_the_oldest_and_expiry_counts_the_rest() {
        let t0 = Instant::now();
        let mut f = InFlight::new(Pairing::Any, 64);
        assert_eq!(f.pair("x".as_bytes()), Paired::Unpaired);
        f.push(t0, &text("a"));
        f.push(t0 + Duration::from_secs(2), &text("b"));
        f.push(t0 + Duration::from_secs(3), &text("c"));
        assert_eq!(f.pair("whatever".as_bytes()), Paired::Answer(t0));
        assert_eq!(
            f.expire(t0 + Duration::from_secs(7), Duration::from_secs(5)),
            1
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f.abandon(), 1);
    }

    #[test]
    fn the_queue_is_bounded() {
        let t0 = Instant::now();
        let mut f = InFlight::new(Pairing::Any, share(1));
        let evicted = (0..MAX_IN_FLIGHT + 3)
            .filter(|_| f.push(t0, &text("a")))
            .count();
        assert_eq!((evicted, f.len()), (3, MAX_IN_FLIGHT));
        assert_eq!(share(10_000), IN_FLIGHT_BUDGET / 10_000);
        assert_eq!(share(1_000_000), MIN_IN_FLIGHT);
    }
}
