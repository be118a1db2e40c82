//! The script's jq side: an `/expect-json` or a `/let` hands its filter and a message to a
//! [`Job`] on a thread of its own and holds the queue until the answer comes back (the session
//! awaits it in [`Script::wake`]), its deadline passes, or the REPL cancels it. Messages that arrive
//! meanwhile wait (bounded) and are judged in order. At the end of a connection what is still
//! running is awaited briefly ([`Script::settle`]), since nothing else can happen then.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::worker::{Ended, Job};
use super::*;
use crate::shutdown::Shutdown;

/// At the end of a connection, how long a filter still running is waited for, at most, over all
/// the times it is (the peer's close, then the end).
const SETTLE: Duration = Duration::from_millis(500);

/// A filter running on one message.
pub(super) struct Running {
    job: Job,
    text: Arc<str>,
    /// What is left of [`SETTLE`] for it.
    settle_left: Duration,
}

impl Running {
    pub(super) fn start(jq: &Arc<Jq>, text: Arc<str>) -> Running {
        Running {
            job: Job::start(jq.clone(), text.clone()),
            text,
            settle_left: SETTLE,
        }
    }

    /// Words for a report when a filter was still running at the end: why it had not answered.
    pub(super) fn unfinished(&self) -> String {
        if self.job.spent() {
            format!(
                "; the jq filter went past its memory budget ({} MiB) on a message and was stopped",
                super::worker::budget_for(self.text.len()) >> 20
            )
        } else {
            "; the jq filter was still running on a message".into()
        }
    }

    pub(super) async fn ended(&self) {
        self.job.ended().await;
    }
}

impl Script {
    /// While an `/expect-json` waits and no filter runs: start it on the next message kept.
    pub(super) fn pump(&mut self) {
        while self.running.is_none() {
            let Hold::Expect(Pending {
                want: Want::Json(jq),
                ..
            }) = &self.hold
            else {
                return;
            };
            let Some((m, seen)) = self.kept.pop_front() else {
                return;
            };
            self.kept_bytes = self.kept_bytes.saturating_sub(kept_len(&m, &seen));
            // With a lens on, the filter sees the lens's JSON view of the message.
            let text = match seen {
                Some(view) => Some(view),
                None => message_text(&m).map(|t| Arc::from(t.as_ref())),
            };
            if let Some(text) = text {
                let jq = jq.clone();
                self.running = Some(Running::start(&jq, text));
            }
        }
    }

    /// `/let NAME FILTER`: run the filter on the message the last expectation matched.
    pub(super) fn start_let(&mut self, name: String, jq: Jq, code: String) -> Run {
        let Some(text) = self.last_match.clone() else {
            return Run::Failed(let_error(
                &name,
                &code,
                "no message has matched an expectation yet",
            ));
        };
        let now = Instant::now();
        self.running = Some(Running::start(&Arc::new(jq), text));
        self.hold = Hold::Let {
            name,
            code,
            deadline: now + self.opts.default_timeout,
        };
        self.opts.cancel.set_waiting(true);
        Run::Done
    }

    /// Take the answers of filters that have ended (and start the next): an expectation may be
    /// met, a `/let` done or failed.
    pub(super) fn collect(&mut self, sink: &mut dyn EventSink) -> Option<Error> {
        loop {
            let ended = self.running.as_ref()?.job.poll()?;
            let running = self.running.take()?;
            if let Some(e) = self.judge(running.text, ended, sink) {
                return Some(e);
            }
            self.pump();
        }
    }

    fn judge(&mut self, text: Arc<str>, ended: Ended, sink: &mut dyn EventSink) -> Option<Error> {
        match std::mem::replace(&mut self.hold, Hold::Nothing) {
            Hold::Expect(mut p) => {
                if matches!(&ended, Ended::Answer(JqOutcome::Value { truthy: true, .. })) {
                    self.last_match = Some(text);
                    self.opts.cancel.set_waiting(false);
                    self.report(&p, Outcome::Matched, sink);
                    if !self.opts.keep {
                        self.kept.clear();
                        self.kept_bytes = 0;
                    }
                } else {
                    p.skipped += 1;
                    self.hold = Hold::Expect(p);
                }
                None
            }
            Hold::Let { name, code, .. } => {
                self.opts.cancel.set_waiting(false);
                let why = match ended {
                    Ended::Answer(JqOutcome::Value { text, .. }) => {
                        self.vars.insert(name, text);
                        return None;
                    }
                    Ended::Answer(JqOutcome::NotJson) => format!(
                        "the last matched message is not JSON (or nests deeper than {} levels): {}",
                        matcher::MAX_JSON_DEPTH,
                        shown_text(&text, text.len())
                    ),
                    Ended::Answer(JqOutcome::Nothing) => format!(
                        "the filter gave no value for {}",
                        shown_text(&text, text.len())
                    ),
                    Ended::Lost => "the jq filter failed".into(),
                };
                Some(let_error(&name, &code, &why))
            }
            other => {
                self.hold = other;
                None
            }
        }
    }

    /// The end of a connection: judge what the filters still running say, so what came before
    /// the end is judged. Awaited, never blocking the runtime thread: each filter gets what is
    /// left of [`SETTLE`], cut to the expectation's deadline and the signal budget, and a signal
    /// (`stop`) ends the wait at once. An error when a `/let` failed.
    pub async fn settle(&mut self, sink: &mut dyn EventSink, stop: &mut Shutdown) -> Option<Error> {
        loop {
            if let Some(e) = self.collect(sink) {
                return Some(e);
            }
            let deadline = self.deadline();
            let running = self.running.as_mut()?;
            let now = Instant::now();
            let until = now + running.settle_left;
            let limit = crate::shutdown::cut(deadline.map_or(until, |d| d.min(until)));
            if now >= limit {
                return None;
            }
            let ended = tokio::select! {
                () = running.job.ended() => true,
                () = tokio::time::sleep_until(limit.into()) => false,
                () = stop.recv() => false,
            };
            running.settle_left = running.settle_left.saturating_sub(now.elapsed());
            if !ended {
                return None;
            }
        }
    }

    /// A `/let` ran out of time (or was cancelled, `why`).
    pub(super) fn let_gave_up(&mut self, name: &str, code: &str, why: &str) -> Error {
        let unfinished = self
            .running
            .take()
            .map(|r| r.unfinished())
            .unwrap_or_default();
        let_error(name, code, &format!("{why}{unfinished}"))
    }
}

fn let_error(name: &str, code: &str, why: &str) -> Error {
    Error::Expectation {
        message: format!("/let {name} {code}: {why}"),
        hint: Some("/let reads the message the last /expect or /expect-json matched".into()),
    }
}
