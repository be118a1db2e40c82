//! `--reconnect [MAX]`: one run, many connections. The loop here dials, lets the caller run the
//! session on the same engine as ever, and when the connection drops or the server says "come
//! back later" (see [`policy`]) waits ([`backoff`]) and dials again, one line per attempt with
//! its reason. The input survives the connections (`session::Feed`): the `-x`/`--script` lines
//! start again on each one, piped stdin goes on where it was, the REPL stays open. Giving up
//! exits with the last failure's code.

mod backoff;
mod max;
mod policy;
mod wait;

use std::future::Future;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::handshake::{Report, Upgraded};
use crate::printer::Printer;
use crate::repl::Repl;
use crate::session::{Carry, Feed};

pub use max::{parse_max, Max};
pub use policy::Outcome;
use wait::unless_stopped;

/// Attempts in a row when `--reconnect` gives no number and there is no REPL to stop it from.
pub const PIPE_DEFAULT: u32 = 5;

/// A connection that lived less than this (or brought no data message) is a failure too, for
/// the count of attempts in a row (SPEC "Reconnect").
const HEALTHY_AFTER: Duration = Duration::from_secs(2);
/// One attempt line: which attempt of how many, after how long, and why.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub attempt: u32,
    pub max: Option<u32>,
    pub delay: Duration,
    pub reason: String,
}

/// How many attempts are left and how long to wait for the next.
#[derive(Debug)]
pub struct Plan {
    max: Option<u32>,
    /// Attempts since the last connection that opened.
    attempt: u32,
    backoff: backoff::Backoff,
}

impl Plan {
    /// None without `--reconnect`.
    pub fn new(max: Option<Max>, interactive: bool) -> Option<Plan> {
        let max = match max? {
            Max::Default if interactive => None,
            Max::Default => Some(PIPE_DEFAULT),
            Max::Limit(n) => Some(n),
            Max::Unlimited => None,
        };
        Some(Plan {
            max,
            attempt: 0,
            backoff: backoff::Backoff::default(),
        })
    }

    /// A connection opened and lived this long: the outage it ended is over.
    fn opened(&mut self, lived: Duration) {
        self.attempt = 0;
        self.backoff.lived(lived);
    }

    /// The next attempt and its delay, or None once MAX attempts in a row have failed.
    fn next(&mut self, reason: String) -> Option<Attempt> {
        if self.max.is_some_and(|m| self.attempt >= m) {
            return None;
        }
        self.attempt += 1;
        Some(Attempt {
            attempt: self.attempt,
            max: self.max,
            delay: self.backoff.delay(),
            reason,
        })
    }
}

/// What the loop needs besides the client: the printer, the input and the REPL, all of which
/// outlive the connections.
pub struct Io<'a> {
    pub printer: &'a mut Printer,
    pub feed: Feed,
    pub repl: Option<&'a mut Repl>,
    /// Ctrl-C and SIGTERM, for the waits between connections and each session.
    pub shutdown: crate::shutdown::Shutdown,
}

/// `wscope URL` as the loop sees it.
pub trait Client {
    /// Dial and upgrade: the report, whatever happened, and the stream if it worked.
    fn dial(&self) -> impl Future<Output = (Report, Result<Upgraded>)>;
    /// Show the handshake and, if it worked, run the session to its end.
    fn session(
        &mut self,
        dialed: (Report, Result<Upgraded>),
        io: &mut Io<'_>,
        carry: Carry,
    ) -> impl Future<Output = Outcome>;
}

/// Connect and run; with a plan, again and again while the policy says so.
pub async fn run(client: &mut impl Client, io: &mut Io<'_>, plan: Option<Plan>) -> Result<()> {
    let Some(mut plan) = plan else {
        let dialed = client.dial().await;
        return client
            .session(dialed, io, Carry::default())
            .await
            .into_result();
    };
    let mut carry = Carry {
        received: 0,
        keep_unsent: true,
    };
    let mut last: Option<Outcome> = None;
    loop {
        let Some(dialed) = unless_stopped(client.dial(), io, None).await else {
            return stopped(last, io);
        };
        let opened = dialed.1.is_ok();
        let began = Instant::now();
        let received_before = carry.received;
        let outcome = client.session(dialed, io, carry).await;
        // It counts as a connection that worked only once data came and it lived a while: a
        // server that opens and at once closes (1011) or drops must meet the limit.
        let mut worked = false;
        if let Outcome::Ended(e) = &outcome {
            worked = e.received > received_before && began.elapsed() >= HEALTHY_AFTER;
            carry.received = e.received;
        }
        let Some(reason) = policy::again(&outcome) else {
            return outcome.into_result();
        };
        if opened && worked {
            plan.opened(began.elapsed());
        }
        let Some(next) = plan.next(reason) else {
            io.printer.gave_up(plan.attempt);
            return outcome.into_result();
        };
        io.printer.reconnecting(&next);
        let until = Instant::now() + next.delay;
        let waited = unless_stopped(tokio::time::sleep(next.delay), io, Some(until));
        if waited.await.is_none() {
            return stopped(Some(outcome), io);
        }
        last = Some(outcome);
    }
}

/// The user stopped between connections: the last failure is the result.
fn stopped(last: Option<Outcome>, io: &mut Io<'_>) -> Result<()> {
    io.printer.stopped_reconnecting();
    match last {
        Some(o) => o.into_result(),
        None => Err(Error::Runtime(
            "stopped while connecting, before any connection opened".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_defaults_to_no_limit_in_the_repl_and_five_in_a_pipe() {
        assert_eq!(parse_max("4"), Ok(Max::Limit(4)));
        assert!(parse_max("0").unwrap_err().contains("never"));
        assert!(parse_max("x").is_err());
        assert_eq!(Plan::new(Some(Max::Default), true).unwrap().max, None);
        assert_eq!(Plan::new(Some(Max::Default), false).unwrap().max, Some(5));
        assert_eq!(Plan::new(Some(Max::Unlimited), false).unwrap().max, None);
        assert!(Plan::new(None, false).is_none());
    }

    #[test]
    fn attempts_count_in_a_row_and_start_over_once_a_connection_opens() {
        let mut p = Plan::new(Some(Max::Limit(2)), false).unwrap();
        assert_eq!(p.next("a".into()).unwrap().attempt, 1);
        assert_eq!(p.next("b".into()).unwrap().attempt, 2);
        assert!(p.next("c".into()).is_none());
        p.opened(Duration::from_secs(60));
        let again = p.next("d".into()).unwrap();
        assert_eq!((again.attempt, again.max), (1, Some(2)));
        assert!(again.delay <= Duration::from_millis(625));
    }
}
