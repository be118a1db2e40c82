//! Expect scripting (SPEC.md "Expect scripting"): the state of a running script. The session
//! hands it each script line, each data message and the peer's close; it answers whether input
//! may flow (an expectation or a `/sleep` holds the queue), when its one deadline is, and what
//! failed. Messages that arrive while nothing waits are kept (bounded) for the next expectation,
//! so a fast reply is never missed. Parsing and the check before connecting are in [`parse`],
//! substitution in [`vars`], regex and jq in [`matcher`]; jq runs off the runtime thread
//! ([`worker`], [`evaluate`]).

pub mod budget;
mod cancel;
mod evaluate;
mod file;
pub mod matcher;
pub mod parse;
mod shown;
pub mod vars;
pub mod worker;

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_tungstenite::tungstenite::Message;

use crate::error::{secs, Error};
use crate::event::{Event, EventSink};
pub use crate::event::{Outcome, Report};
pub use cancel::Cancel;
pub use file::{read_script, MAX_SCRIPT_BYTES};
use matcher::{Jq, JqOutcome};
use parse::Step;
use shown::{close_words, shown_text, Recent};
use vars::Vars;

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

/// What the session does with a line after the script has seen it.
#[derive(Debug)]
pub enum Run {
    /// Not a script command: what the line asks for, read as written with its values in as data.
    Command(crate::slash::Command),
    /// A command of a lens (`/emit ...`, `crate::lens`), its name as written and its argument
    /// with the values in.
    Lens { name: String, arg: String },
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
    Json(Arc<Jq>),
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
    /// `/let NAME FILTER`, its filter running.
    Let {
        name: String,
        code: String,
        deadline: Instant,
    },
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
    /// The last few messages, for a failure's report: the start of each (see [`Recent`]) and
    /// its size.
    recent: VecDeque<Recent>,
    received: u64,
    /// The text of the message the last expectation matched, for `/let`.
    last_match: Option<Arc<str>>,
    hold: Hold,
    /// The jq filter running for the hold (see [`evaluate`]).
    running: Option<evaluate::Running>,
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
            running: None,
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
            Hold::Let { deadline, .. } => Some(*deadline),
        }
    }

    /// Resolves when the hold's deadline passes, its jq filter answers, or the REPL cancels it;
    /// never while nothing holds.
    pub async fn wake(&self) {
        let Some(d) = self.deadline() else {
            return std::future::pending().await;
        };
        let answered = async {
            match &self.running {
                Some(r) => r.ended().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = tokio::time::sleep_until(d.into()) => {}
            () = self.opts.cancel.notified() => {}
            () = answered => {}
        }
    }

    /// After [`Script::wake`]: a `/sleep` is over, or an expectation timed out (the error) or
    /// was cancelled.
    pub fn on_wake(&mut self, sink: &mut dyn EventSink) -> Option<Error> {
        let cancelled = self.opts.cancel.take();
        if let Some(e) = self.collect(sink) {
            return Some(e);
        }
        let now = Instant::now();
        if !cancelled && self.deadline().is_none_or(|d| now < d) {
            return None;
        }
        let hold = std::mem::replace(&mut self.hold, Hold::Nothing);
        self.opts.cancel.set_waiting(false);
        let p = match hold {
            Hold::Expect(p) => p,
            Hold::Let { name, code, .. } => {
                let why = if cancelled {
                    "cancelled".to_string()
                } else {
                    format!("no value within {}", secs(self.opts.default_timeout))
                };
                return Some(self.let_gave_up(&name, &code, &why));
            }
            Hold::Nothing | Hold::Sleep(_) => return None,
        };
        // Whatever still runs for it is given up on.
        let unfinished = self
            .running
            .take()
            .map(|r| r.unfinished())
            .unwrap_or_default();
        if cancelled {
            self.report(&p, Outcome::Cancelled, sink);
            return None;
        }
        self.report(&p, Outcome::Timeout, sink);
        let why = format!(
            "no matching message within {}{unfinished}",
            secs(p.since.elapsed())
        );
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
            Step::Line(t) => match parse::lens_command(&t, &self.vars) {
                Some(Ok((name, arg))) => Run::Lens { name, arg },
                Some(Err(e)) => refused(&e),
                None => match parse::command(&t, &self.vars) {
                    Ok(c) => Run::Command(c),
                    Err(e) => refused(&e),
                },
            },
            Step::Expect { timeout, pattern } => {
                let quoted = pattern.render(&self.vars, &vars::regex_literal);
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
                        Want::Json(Arc::new(jq)),
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
                Ok((jq, code)) => self.start_let(name, jq, code),
                Err(e) => refused(&e),
            },
        }
    }

    fn jq(
        &self,
        command: &'static str,
        filter: &vars::Template,
    ) -> Result<(Jq, String), parse::StepError> {
        let code = filter.render(&self.vars, &vars::jq_string)?;
        Ok((parse::compile_jq(command, &code)?, code))
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
        if let Want::Json(_) = p.want {
            // The kept messages are judged in order off the runtime thread (see `evaluate`).
            self.hold = Hold::Expect(p);
            self.opts.cancel.set_waiting(true);
            self.pump();
            return;
        }
        while let Some((m, seen)) = self.kept.pop_front() {
            self.kept_bytes = self.kept_bytes.saturating_sub(kept_len(&m, &seen));
            if self.try_match(&mut p, &m, seen, sink) {
                return;
            }
        }
        self.kept_bytes = 0;
        self.hold = Hold::Expect(p);
        self.opts.cancel.set_waiting(true);
    }

    /// True (and the expectation is over) when `m` meets it. With a lens on, `seen` is its JSON
    /// view: `/let` reads it after a match, while `/expect` matches the raw text.
    fn try_match(
        &mut self,
        p: &mut Pending,
        m: &Message,
        seen: Seen,
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
            // Judged off the runtime thread (see `evaluate`).
            Want::Json(_) | Want::Close(_) => false,
        };
        if !met {
            p.skipped += 1;
            return false;
        }
        // With a lens on, `/let` reads its view of the message.
        self.last_match = Some(seen.unwrap_or_else(|| Arc::from(text.as_ref())));
        self.report(p, Outcome::Matched, sink);
        true
    }

    /// A data message arrived (after it was shown).
    /// Whether [`Script::on_data`] can use a lens's JSON view of the next message (an expectation
    /// waits, or messages are kept for one): otherwise it is not worth rendering.
    pub fn wants_view(&self) -> bool {
        self.opts.keep || matches!(self.hold, Hold::Expect(_))
    }

    pub fn on_data(&mut self, m: &Message, seen: Seen, sink: &mut dyn EventSink) {
        self.received += 1;
        // The oldest entry's buffer is reused: no allocation per message.
        let mut entry = match self.recent.len() {
            RECENT => self.recent.pop_front().unwrap_or_default(),
            _ => Recent::default(),
        };
        entry.keep_head_of(m);
        self.recent.push_back(entry);
        match std::mem::replace(&mut self.hold, Hold::Nothing) {
            Hold::Expect(p) if matches!(p.want, Want::Json(_)) => {
                self.hold = Hold::Expect(p);
                self.keep(m, seen);
                self.pump();
            }
            Hold::Expect(mut p) => {
                if self.try_match(&mut p, m, seen, sink) {
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
        self.kept_bytes += kept_len(m, &seen);
        self.kept.push_back((m.clone(), seen));
        while self.kept.len() > KEEP_MESSAGES || self.kept_bytes > KEEP_BYTES {
            match self.kept.pop_front() {
                Some((old, seen)) => {
                    self.kept_bytes = self.kept_bytes.saturating_sub(kept_len(&old, &seen))
                }
                None => break,
            }
        }
    }

    /// The peer's close frame arrived (what came before it was judged first: [`Script::settle`]).
    /// An error when a waiting expectation can no longer be met.
    pub fn on_close(&mut self, code: Option<u16>, sink: &mut dyn EventSink) -> Option<Error> {
        self.peer_close = Some(code);
        if matches!(&self.hold, Hold::Expect(p) if matches!(p.want, Want::Close(_))) {
            return self.close_failure(sink);
        }
        let p = match std::mem::replace(&mut self.hold, Hold::Nothing) {
            Hold::Expect(p) => p,
            Hold::Let { name, code, .. } => {
                return Some(self.let_gave_up(&name, &code, "the peer closed first"))
            }
            Hold::Nothing | Hold::Sleep(_) => return None,
        };
        self.opts.cancel.set_waiting(false);
        let unfinished = self
            .running
            .take()
            .map(|r| r.unfinished())
            .unwrap_or_default();
        self.report(&p, Outcome::Closed, sink);
        let why = format!(
            "the peer closed the connection{} first{unfinished}",
            close_words(code)
        );
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

    /// The connection is over (and [`Script::settle`] judged what came): an expectation still
    /// waiting has failed.
    pub fn at_end(&mut self, sink: &mut dyn EventSink) -> Option<Error> {
        let p = match std::mem::replace(&mut self.hold, Hold::Nothing) {
            Hold::Expect(p) => p,
            Hold::Let { name, code, .. } => {
                return Some(self.let_gave_up(&name, &code, "the connection ended first"))
            }
            Hold::Nothing | Hold::Sleep(_) => return None,
        };
        self.opts.cancel.set_waiting(false);
        let unfinished = self
            .running
            .take()
            .map(|r| r.unfinished())
            .unwrap_or_default();
        self.report(&p, Outcome::Closed, sink);
        let why = format!("the connection ended first{unfinished}");
        Some(self.failure(&p, &why, None))
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
            for r in &self.recent {
                message.push_str("\n    ");
                message.push_str(&r.shown());
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

/// What a kept message costs: its bytes and its lens view's.
fn kept_len(m: &Message, seen: &Seen) -> usize {
    message_len(m) + seen.as_ref().map_or(0, |s| s.len())
}

#[cfg(test)]
mod tests;
