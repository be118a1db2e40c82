//! Expect scripting (SPEC.md "Expect scripting"): the state of a running script. The session
//! hands it each script line, each data message and the peer's close; it answers whether input
//! may flow (an expectation or a `/sleep` holds the queue), when its one deadline is, and what
//! failed. Messages that arrive while nothing waits are kept (bounded) for the next expectation,
//! so a fast reply is never missed. Parsing and the check before connecting are in [`parse`],
//! substitution in [`vars`], regex and jq in [`matcher`].

pub mod matcher;
pub mod parse;
pub mod vars;

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::Message;

use crate::error::{secs, Error};
use crate::event::{Event, EventSink};
use matcher::{Jq, JqOutcome};
use parse::Step;
use vars::{verbatim, Vars};

/// Messages kept for the next expectation while nothing waits: at most this many...
const KEEP_MESSAGES: usize = 1024;
/// ...and this many bytes (the oldest go first).
const KEEP_BYTES: usize = 4 << 20;
/// Messages shown when an expectation fails.
const RECENT: usize = 3;
/// Characters of each of them shown.
const SHOWN_CHARS: usize = 100;

#[derive(Debug, Clone)]
pub struct Options {
    /// `--expect-timeout`.
    pub default_timeout: Duration,
    /// Keep what arrives while nothing waits (a script with expectations, or the REPL).
    pub keep: bool,
    /// A failed expectation ends the connection (exit 7); in the REPL it is shown and forgotten.
    pub fatal: bool,
    pub cancel: Cancel,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            default_timeout: Duration::from_secs(10),
            keep: false,
            fatal: true,
            cancel: Cancel::default(),
        }
    }
}

/// Lets the REPL cancel a waiting expectation (Ctrl-C) without going through the held queue.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<CancelState>);

#[derive(Debug, Default)]
struct CancelState {
    waiting: AtomicBool,
    fired: AtomicBool,
    notify: Notify,
}

impl Cancel {
    /// True while an expectation or a `/sleep` holds the queue.
    pub fn waiting(&self) -> bool {
        self.0.waiting.load(Ordering::Relaxed)
    }

    pub fn fire(&self) {
        self.0.fired.store(true, Ordering::Relaxed);
        self.0.notify.notify_one();
    }

    /// Forget a wait whose connection ended under it (`--reconnect`: the next one starts afresh).
    pub fn reset(&self) {
        self.set_waiting(false);
    }

    fn set_waiting(&self, on: bool) {
        self.0.fired.store(false, Ordering::Relaxed);
        self.0.waiting.store(on, Ordering::Relaxed);
    }

    fn take(&self) -> bool {
        self.0.fired.swap(false, Ordering::Relaxed)
    }
}

/// How an expectation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Matched,
    Timeout,
    /// The connection ended (or the peer closed) first.
    Closed,
    /// Ctrl-C in the REPL.
    Cancelled,
}

/// One expectation's end, for the printer.
#[derive(Debug, Clone)]
pub struct Report {
    /// The command as written, variables in.
    pub pattern: String,
    pub result: Outcome,
    pub waited: Duration,
    /// Every variable set so far.
    pub vars: Vars,
}

/// What the session does with a line after the script has seen it.
#[derive(Debug)]
pub enum Run {
    /// Not a script command: this line (variables in) goes to the command language.
    Command(String),
    /// Taken by the script (it may now hold the queue).
    Done,
    /// A mistake in a line typed at the REPL: shown, and the connection goes on.
    Refused {
        message: String,
        hint: Option<String>,
    },
    /// The script cannot go on.
    Failed(Error),
}

enum Want {
    Regex(regex::Regex),
    Json(Jq),
    Close(Option<u16>),
}

struct Pending {
    want: Want,
    /// The command, variables in, as shown in reports.
    shown: String,
    since: Instant,
    deadline: Instant,
    /// Messages that did not match while it waited.
    skipped: u64,
}

enum Hold {
    Nothing,
    Expect(Pending),
    Sleep(Instant),
}

/// A message's lens view as JSON text (None without a lens, or when it did not decode).
pub type Seen = Option<std::sync::Arc<str>>;

pub struct Script {
    opts: Options,
    vars: Vars,
    /// What arrived while nothing waited, for the next expectation.
    /// Each with its lens view as JSON text, when a lens is on.
    kept: VecDeque<(Message, Seen)>,
    kept_bytes: usize,
    /// The last few messages, for a failure's report: the start of each (see [`head_of`]) and
    /// its size.
    recent: VecDeque<(Message, usize)>,
    received: u64,
    /// The text of the message the last expectation matched, for `/let`.
    last_match: Option<String>,
    hold: Hold,
    /// The peer's close code, once it closed.
    peer_close: Option<Option<u16>>,
    /// An `/expect-close` was met: the connection's end is what was asked for.
    close_met: bool,
}

impl Script {
    pub fn new(opts: &Options) -> Script {
        Script {
            opts: opts.clone(),
            vars: Vars::new(),
            kept: VecDeque::new(),
            kept_bytes: 0,
            recent: VecDeque::new(),
            received: 0,
            last_match: None,
            hold: Hold::Nothing,
            peer_close: None,
            close_met: false,
        }
    }

    /// False while an expectation or a `/sleep` holds the input queue.
    pub fn ready(&self) -> bool {
        matches!(self.hold, Hold::Nothing)
    }

    pub fn fatal(&self) -> bool {
        self.opts.fatal
    }

    /// When the current hold runs out.
    pub fn deadline(&self) -> Option<Instant> {
        match &self.hold {
            Hold::Nothing => None,
            Hold::Expect(p) => Some(p.deadline),
            Hold::Sleep(until) => Some(*until),
        }
    }

    /// Resolves when the hold's deadline passes or the REPL cancels it; never while nothing holds.
    pub async fn wake(&self) {
        match self.deadline() {
            None => std::future::pending().await,
            Some(d) => {
                tokio::select! {
                    () = tokio::time::sleep_until(d.into()) => {}
                    () = self.opts.cancel.0.notify.notified() => {}
                }
            }
        }
    }

    /// After [`Script::wake`]: a `/sleep` is over, or an expectation timed out (the error) or
    /// was cancelled.
    pub fn on_wake(&mut self, sink: &mut dyn EventSink) -> Option<Error> {
        let cancelled = self.opts.cancel.take();
        let now = Instant::now();
        if !cancelled && self.deadline().is_some_and(|d| now < d) {
            return None;
        }
        let hold = std::mem::replace(&mut self.hold, Hold::Nothing);
        self.opts.cancel.set_waiting(false);
        let Hold::Expect(p) = hold else {
            return None;
        };
        if cancelled {
            self.report(&p, Outcome::Cancelled, sink);
            return None;
        }
        self.report(&p, Outcome::Timeout, sink);
        let why = format!("no matching message within {}", secs(p.since.elapsed()));
        Some(self.failure(
            &p,
            &why,
            Some("give it longer with --timeout SECS on the line, or --expect-timeout SECS"),
        ))
    }

    /// Take one line of input. Script commands are run here; any other line comes back with its
    /// variables in.
    pub fn line(&mut self, line: &str, sink: &mut dyn EventSink) -> Run {
        let step = match parse::parse(line) {
            Ok(s) => s,
            Err(e) => return refused(&e),
        };
        match step {
            Step::Line(t) => match t.render(&self.vars, &verbatim) {
                Ok(l) => Run::Command(l),
                Err(e) => refused(&parse::StepError::Var(e)),
            },
            Step::Expect { timeout, pattern } => {
                let quoted = pattern.render(&self.vars, &|v| Cow::Owned(regex::escape(v)));
                let re = match quoted.map_err(parse::StepError::Var) {
                    Ok(p) => parse::compile_regex(&p),
                    Err(e) => Err(e),
                };
                match re {
                    Ok(re) => {
                        let shown = format!("/expect {}", re.as_str());
                        self.arm(Want::Regex(re), shown, timeout, sink);
                        Run::Done
                    }
                    Err(e) => refused(&e),
                }
            }
            Step::ExpectJson { timeout, filter } => match self.jq("expect-json", &filter) {
                Ok((jq, code)) => {
                    self.arm(
                        Want::Json(jq),
                        format!("/expect-json {code}"),
                        timeout,
                        sink,
                    );
                    Run::Done
                }
                Err(e) => refused(&e),
            },
            Step::ExpectClose { timeout, code } => {
                let shown = match code {
                    Some(c) => format!("/expect-close {c}"),
                    None => "/expect-close".into(),
                };
                self.arm(Want::Close(code), shown, timeout, sink);
                match self.close_failure(sink) {
                    Some(e) => Run::Failed(e),
                    None => Run::Done,
                }
            }
            Step::Sleep(d) => {
                self.hold = Hold::Sleep(Instant::now() + d);
                self.opts.cancel.set_waiting(true);
                Run::Done
            }
            Step::Let { name, filter } => match self.jq("let", &filter) {
                Ok((jq, code)) => match self.let_var(&name, &jq, &code) {
                    Ok(()) => Run::Done,
                    Err(e) => Run::Failed(e),
                },
                Err(e) => refused(&e),
            },
        }
    }

    fn jq(
        &self,
        command: &'static str,
        filter: &vars::Template,
    ) -> Result<(Jq, String), parse::StepError> {
        let code = filter.render(&self.vars, &verbatim)?;
        Ok((parse::compile_jq(command, &code)?, code))
    }

    fn let_var(&mut self, name: &str, jq: &Jq, code: &str) -> Result<(), Error> {
        let fail = |why: String| Error::Expectation {
            message: format!("/let {name} {code}: {why}"),
            hint: Some("/let reads the message the last /expect or /expect-json matched".into()),
        };
        let Some(text) = &self.last_match else {
            return Err(fail("no message has matched an expectation yet".into()));
        };
        match jq.run(text) {
            JqOutcome::Value { text, .. } => {
                self.vars.insert(name.to_string(), text);
                Ok(())
            }
            JqOutcome::NotJson => Err(fail(format!(
                "the last matched message is not JSON: {}",
                shown_text(text, text.len())
            ))),
            JqOutcome::Nothing => Err(fail(format!(
                "the filter gave no value for {}",
                shown_text(text, text.len())
            ))),
        }
    }

    /// Start waiting; what was kept since the last expectation is looked at first.
    fn arm(
        &mut self,
        want: Want,
        shown: String,
        timeout: Option<Duration>,
        sink: &mut dyn EventSink,
    ) {
        let now = Instant::now();
        let mut p = Pending {
            want,
            shown,
            since: now,
            deadline: now + timeout.unwrap_or(self.opts.default_timeout),
            skipped: 0,
        };
        if let Want::Close(_) = p.want {
            if self.peer_close.is_some() {
                // Judged by close_failure, right after.
                self.hold = Hold::Expect(p);
                return;
            }
        }
        while let Some((m, seen)) = self.kept.pop_front() {
            self.kept_bytes = self
                .kept_bytes
                .saturating_sub(message_len(&m) + seen.as_ref().map_or(0, |s| s.len()));
            if self.try_match(&mut p, &m, seen.as_deref(), sink) {
                return;
            }
        }
        self.kept_bytes = 0;
        self.hold = Hold::Expect(p);
        self.opts.cancel.set_waiting(true);
    }

    /// True (and the expectation is over) when `m` meets it.
    /// With a lens on, `seen` is its JSON view: `/expect-json` and `/let` see it, `/expect` still
    /// matches the raw text.
    fn try_match(
        &mut self,
        p: &mut Pending,
        m: &Message,
        seen: Option<&str>,
        sink: &mut dyn EventSink,
    ) -> bool {
        let text = match message_text(m) {
            Some(t) => t,
            None => return false,
        };
        let met = match &p.want {
            Want::Regex(re) => match re.captures(&text) {
                Some(caps) => {
                    for name in parse::group_names(re) {
                        let v = caps.name(name).map_or("", |c| c.as_str());
                        self.vars.insert(name.to_string(), v.to_string());
                    }
                    true
                }
                None => false,
            },
            Want::Json(jq) => matches!(
                jq.run(seen.unwrap_or(&text)),
                JqOutcome::Value { truthy: true, .. }
            ),
            Want::Close(_) => false,
        };
        if !met {
            p.skipped += 1;
            return false;
        }
        self.last_match = Some(match seen {
            Some(s) => s.to_string(),
            None => text.into_owned(),
        });
        self.report(p, Outcome::Matched, sink);
        true
    }

    /// A data message arrived (after it was shown).
    pub fn on_data(&mut self, m: &Message, seen: Seen, sink: &mut dyn EventSink) {
        self.received += 1;
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back((head_of(m), m.len()));
        match std::mem::replace(&mut self.hold, Hold::Nothing) {
            Hold::Expect(mut p) => {
                if self.try_match(&mut p, m, seen.as_deref(), sink) {
                    self.opts.cancel.set_waiting(false);
                } else {
                    self.hold = Hold::Expect(p);
                }
            }
            other => {
                self.hold = other;
                if self.opts.keep {
                    self.keep(m, seen);
                }
            }
        }
    }

    fn keep(&mut self, m: &Message, seen: Seen) {
        // Messages share the received buffer: keeping one costs no copy.
        self.kept_bytes += message_len(m) + seen.as_ref().map_or(0, |s| s.len());
        self.kept.push_back((m.clone(), seen));
        while self.kept.len() > KEEP_MESSAGES || self.kept_bytes > KEEP_BYTES {
            match self.kept.pop_front() {
                Some((old, seen)) => {
                    self.kept_bytes = self
                        .kept_bytes
                        .saturating_sub(message_len(&old) + seen.as_ref().map_or(0, |s| s.len()))
                }
                None => break,
            }
        }
    }

    /// The peer's close frame arrived. An error when a waiting expectation can no longer be met.
    pub fn on_close(&mut self, code: Option<u16>, sink: &mut dyn EventSink) -> Option<Error> {
        self.peer_close = Some(code);
        if matches!(&self.hold, Hold::Expect(p) if matches!(p.want, Want::Close(_))) {
            return self.close_failure(sink);
        }
        let Hold::Expect(p) = std::mem::replace(&mut self.hold, Hold::Nothing) else {
            return None;
        };
        self.opts.cancel.set_waiting(false);
        self.report(&p, Outcome::Closed, sink);
        let why = format!("the peer closed the connection{} first", close_words(code));
        Some(self.failure(&p, &why, None))
    }

    /// Judge a waiting `/expect-close` against the close that came (if one did).
    fn close_failure(&mut self, sink: &mut dyn EventSink) -> Option<Error> {
        let got = self.peer_close?;
        let want = match &self.hold {
            Hold::Expect(Pending {
                want: Want::Close(w),
                ..
            }) => *w,
            _ => return None,
        };
        let Hold::Expect(p) = std::mem::replace(&mut self.hold, Hold::Nothing) else {
            return None;
        };
        self.opts.cancel.set_waiting(false);
        if want.is_some_and(|w| got != Some(w)) {
            self.report(&p, Outcome::Closed, sink);
            let why = format!("the peer closed{} instead", close_words(got));
            return Some(self.failure(&p, &why, None));
        }
        self.close_met = true;
        self.report(&p, Outcome::Matched, sink);
        None
    }

    /// The connection is over: an expectation still waiting has failed.
    pub fn at_end(&mut self, sink: &mut dyn EventSink) -> Option<Error> {
        let Hold::Expect(p) = std::mem::replace(&mut self.hold, Hold::Nothing) else {
            return None;
        };
        self.opts.cancel.set_waiting(false);
        self.report(&p, Outcome::Closed, sink);
        Some(self.failure(&p, "the connection ended first", None))
    }

    /// The session's verdict on how the connection ended, unless an `/expect-close` asked for
    /// exactly that end.
    pub fn judged(&self, verdict: crate::error::Result<()>) -> crate::error::Result<()> {
        if self.close_met {
            Ok(())
        } else {
            verdict
        }
    }

    fn report(&self, p: &Pending, result: Outcome, sink: &mut dyn EventSink) {
        let r = Report {
            pattern: p.shown.clone(),
            result,
            waited: p.since.elapsed(),
            vars: self.vars.clone(),
        };
        sink.event(Event::Expect(&r));
    }

    fn failure(&self, p: &Pending, why: &str, hint: Option<&str>) -> Error {
        let mut message = format!("{} failed: {why}", p.shown);
        if p.skipped > 0 {
            let s = if p.skipped == 1 { "" } else { "s" };
            message.push_str(&format!(" ({} message{s} did not match)", p.skipped));
        }
        if self.recent.is_empty() {
            message.push_str("; no message was received");
        } else {
            message.push_str(&format!(
                "\n  last {} of {} received:",
                self.recent.len(),
                self.received
            ));
            for (m, len) in &self.recent {
                message.push_str("\n    ");
                message.push_str(&shown_message(m, *len));
            }
        }
        Error::Expectation {
            message,
            hint: hint.map(String::from),
        }
    }
}

fn refused(e: &parse::StepError) -> Run {
    Run::Refused {
        message: e.to_string(),
        hint: e.hint(),
    }
}

/// What patterns see of a message: its text, or a binary message's hex form.
fn message_text(m: &Message) -> Option<Cow<'_, str>> {
    match m {
        Message::Text(t) => Some(Cow::Borrowed(t.as_str())),
        Message::Binary(b) => Some(Cow::Owned(crate::wire::hexdump::hex_plain(b))),
        _ => None,
    }
}

fn message_len(m: &Message) -> usize {
    m.len()
}

fn close_words(code: Option<u16>) -> String {
    match code {
        Some(c) => format!(" with {c} ({})", crate::wire::close::name(c)),
        None => " without a code".into(),
    }
}

/// A message on one line, elided: line breaks made visible (the printer escapes the rest).
/// A copy of as much of `m` as a report shows. Not `m` itself: a received message shares the
/// library's read buffer, and one kept for the whole stream pins it, after which tungstenite reads
/// the socket a message at a time (docs/BENCHMARKS.md, "B1 regression").
fn head_of(m: &Message) -> Message {
    match m {
        Message::Binary(b) => Message::binary(b[..b.len().min(SHOWN_CHARS / 2)].to_vec()),
        Message::Text(t) => {
            let t = t.as_str();
            // One character more than is shown, so that `shown_text` marks the cut.
            let cut = t
                .char_indices()
                .nth(SHOWN_CHARS + 1)
                .map_or(t.len(), |(i, _)| i);
            Message::text(t[..cut].to_string())
        }
        other => other.clone(),
    }
}

/// `m` as a report shows it (`m` may be the start of a message of `len` bytes, see [`head_of`]).
fn shown_message(m: &Message, len: usize) -> String {
    match m {
        Message::Binary(b) => {
            let hex = crate::wire::hexdump::hex_plain(&b[..b.len().min(SHOWN_CHARS / 2)]);
            let more = if len > SHOWN_CHARS / 2 { "..." } else { "" };
            format!("binary {hex}{more} ({len} bytes)")
        }
        Message::Text(t) => shown_text(t.as_str(), len),
        _ => String::new(),
    }
}

/// The start of a text of `len` bytes (`t` may be only its start).
fn shown_text(t: &str, len: usize) -> String {
    let mut out = String::new();
    for (i, c) in t.chars().enumerate() {
        if i == SHOWN_CHARS {
            out.push_str(&format!("... ({len} bytes)"));
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
