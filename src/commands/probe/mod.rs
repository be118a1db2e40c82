//! `wscope probe URL`: a battery of checks of a server. A first connection with the user's options
//! proves the server can be reached and upgraded at all (else exit 3, 4 or 5 as for connect);
//! then every selected check runs at once, each on its own short connection with the same
//! options (headers, subprotocols, TLS, proxy), changed only where the check needs it (another
//! Origin, version 8). The report lists them in a fixed order; exit 7 when one failed.
//! It talks only to the URL given. A server that refuses the first upgrade with 403 (its Origin
//! policy) still gets the origin checks; the rest are n/a with the hint to pass `-o`. A server
//! that stops accepting connections during the probe is reported once, not once per check.
//! `--json` writes one document on stdout whatever happens, with the error inside it.
//!
//! [`check`] names the checks and verdicts; [`upgrade`] holds the handshake-only ones,
//! [`frames`] the ones on an open connection, [`limit`] `max-message`; [`wire`] is a check's
//! connection and [`report`] turns the outcomes into text or JSON.

pub use crate::probe_checks as check;
mod fingerprint;
mod frames;
mod limit;
mod report;
mod upgrade;
mod wire;

use std::cell::RefCell;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use futures_util::FutureExt;

pub use check::CheckId;
use check::{Outcome, Status};

use crate::config;
use crate::error::{Error, Result};
use crate::handshake::{self, Report};
use crate::printer::{Printer, Screen};
use crate::target::Target;

/// What every check shares: where to go and how.
pub struct Probe {
    target: Target,
    conn: handshake::Options,
    /// `--probe-max`.
    max: usize,
    /// Every connection a check tried, in time: who stopped answering, and after whom.
    contacts: RefCell<Vec<Contact>>,
}

/// A check's attempt to connect.
struct Contact {
    id: CheckId,
    at: Instant,
    /// No HTTP answer came: refused, reset or dropped before the server said anything.
    unanswered: bool,
}

pub async fn run(cfg: config::Probe) -> Result<()> {
    let mut printer = cfg.output.printer(Screen::Stderr);
    let json = cfg.output.style.json();
    let (url, mut text) = (cfg.target.url.to_string(), cfg.output.clone());
    let mut doc = None;
    let result = probe(cfg, &mut printer, &mut doc).await;
    if json {
        // One document on stdout whatever the outcome: the error goes inside it, and to stderr
        // as text (the edge's JSON error would be a second document: config says so).
        let mut v = doc.unwrap_or_else(|| serde_json::json!({ "url": url, "checks": [] }));
        if let Err(e) = &result {
            v["error"] = e.to_string().into();
        }
        printer.write_json(&v);
        crate::event::EventSink::flush(&mut printer);
        if let Err(e) = &result {
            text.style.format = crate::printer::Format::Human;
            let mut text = text.printer(Screen::Stderr);
            text.error(e);
            crate::event::EventSink::flush(&mut text);
        }
        return result;
    }
    crate::event::EventSink::flush(&mut printer);
    result
}

/// A refusal of the first upgrade that is the server's Origin policy: the probe goes on.
fn refused_by_origin(first: &Report) -> bool {
    first.response.as_ref().is_some_and(|r| r.status == 403)
}

/// What the checks that need an upgraded connection say when the server refused ours.
const NEEDS_AN_ORIGIN: &str = "not run: the server refused our upgrade with 403 (its Origin \
    policy); pass -o with an Origin it accepts to run this check";

async fn probe(
    cfg: config::Probe,
    printer: &mut Printer,
    doc: &mut Option<serde_json::Value>,
) -> Result<()> {
    let json = cfg.output.style.json();
    let started = Instant::now();
    let p = Probe {
        target: cfg.target,
        conn: cfg.upgrade,
        max: cfg.max,
        contacts: RefCell::default(),
    };
    // Can it be reached and upgraded at all? Its report also holds the TLS facts.
    let (first, upgraded) = match wire::open(&p.target, &p.conn).await {
        Ok((report, w)) => (report, Some(w)),
        Err((report, _)) if refused_by_origin(&report) => (report, None),
        Err((_, e)) => return Err(e),
    };
    if first.tls.as_ref().is_some_and(|t| t.insecure) && !json {
        printer
            .warn("TLS certificate verification is off (-k/--insecure): the tls check reports it");
    }
    let open = upgraded.is_some();
    match upgraded {
        Some(w) => w.leave().await,
        None if !json => printer.note(
            "the server refused the upgrade with 403 (its Origin policy): the origin and tls \
             checks run, the others need -o with an Origin it accepts",
        ),
        None => {}
    }
    let selected = select(&cfg.only, &cfg.skip, cfg.fingerprint);
    let (p, first) = (&p, &first);
    let outcomes = join_all(selected.iter().map(|&id| async move {
        match id {
            CheckId::OriginForeign
            | CheckId::OriginNull
            | CheckId::OriginMissing
            | CheckId::Tls => p.run_check(id, first).await,
            _ if !open => Outcome::new(id, Status::NotApplicable, NEEDS_AN_ORIGIN),
            _ => p.run_check(id, first).await,
        }
    }))
    .await;
    let (outcomes, stopped) = match p.lost_any() && p.gone().await {
        true => p.stopped(outcomes),
        false => (outcomes, None),
    };
    let elapsed = started.elapsed();
    if json {
        *doc = Some(report::json(&first.url, &outcomes, elapsed));
    } else {
        printer.document(&report::human(&first.url, &outcomes, elapsed));
    }
    verdict(&outcomes, stopped)
}

/// The exit: the server stopping (said once), then the failed checks.
fn verdict(outcomes: &[Outcome], stopped: Option<String>) -> Result<()> {
    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.status == Status::Fail)
        .map(|o| o.id.id())
        .collect();
    let failures = (!failed.is_empty()).then(|| {
        format!(
            "{} probe check{} failed: {}",
            failed.len(),
            if failed.len() == 1 { "" } else { "s" },
            failed.join(", ")
        )
    });
    let message = match (stopped, failures) {
        (None, None) => return Ok(()),
        (Some(s), Some(f)) => format!("{s}; {f}"),
        (Some(m), None) | (None, Some(m)) => m,
    };
    Err(Error::Expectation {
        message,
        hint: Some(
            "each failed line above says what the server did and what RFC 6455 wants".into(),
        ),
    })
}

/// The checks to run, in report order: `--only` (all when empty) less `--skip`; the
/// fingerprint only when asked.
fn select(only: &[CheckId], skip: &[CheckId], fingerprint: bool) -> Vec<CheckId> {
    CheckId::ALL
        .into_iter()
        .filter(|&id| id != CheckId::Fingerprint || fingerprint)
        .filter(|id| only.is_empty() || only.contains(id))
        .filter(|id| !skip.contains(id))
        .collect()
}

impl Probe {
    /// One check, bounded in time whatever the server does.
    async fn run_check(&self, id: CheckId, first: &Report) -> Outcome {
        let limit = self.conn.connect_timeout
            + match id {
                CheckId::MaxMessage => Duration::from_secs(60),
                CheckId::Fingerprint => fingerprint::LIMIT,
                _ => frames::REACT + Duration::from_secs(1),
            };
        let check = async {
            match id {
                CheckId::OriginForeign | CheckId::OriginNull | CheckId::OriginMissing => {
                    upgrade::origin(self, id).await
                }
                CheckId::Version => upgrade::version(self).await,
                CheckId::Subprotocol => upgrade::subprotocol(self).await,
                CheckId::Deflate => upgrade::deflate(self).await,
                CheckId::Ping => frames::ping(self).await,
                CheckId::Close => frames::close(self).await,
                CheckId::MaxMessage => limit::max_message(self).await,
                CheckId::Tls => upgrade::tls(id, first, &self.target.host),
                CheckId::Fingerprint => fingerprint::check(self).await,
                _ => frames::violation(self, id).await,
            }
        }
        .boxed_local();
        match tokio::time::timeout(limit, check).await {
            Ok(o) => o,
            Err(_) => Outcome::new(
                id,
                Status::Fail,
                format!("no verdict within {}", crate::error::secs(limit)),
            ),
        }
    }

    /// A handshake and nothing more: its report, and the error when it was not upgraded. An
    /// upgraded connection is closed at once.
    async fn handshake(&self, id: CheckId, conn: &handshake::Options) -> (Report, Option<Error>) {
        let opened = wire::open(&self.target, conn).await;
        self.contact(id, opened.as_ref().err());
        match opened {
            Ok((report, w)) => {
                w.leave().await;
                (report, None)
            }
            Err((report, e)) => (report, Some(e)),
        }
    }

    /// A connection for the frame checks: the user's options without compression, so every
    /// frame goes and comes as it is.
    async fn open_plain(&self, id: CheckId) -> std::result::Result<wire::Wire, Outcome> {
        let mut conn = self.conn.clone();
        conn.deflate = None;
        let opened = wire::open(&self.target, &conn).await;
        self.contact(id, opened.as_ref().err());
        opened
            .map(|(_, w)| w)
            .map_err(|(_, e)| no_connection(id, &e))
    }

    fn contact(&self, id: CheckId, failed: Option<&(Report, Error)>) {
        self.contacts.borrow_mut().push(Contact {
            id,
            at: Instant::now(),
            unanswered: failed.is_some_and(|(r, _)| r.response.is_none()),
        });
    }

    /// Some check's connection got no HTTP answer at all (refused, reset, dropped).
    fn lost_any(&self) -> bool {
        self.contacts.borrow().iter().any(|c| c.unanswered)
    }

    /// The server is not there any more: one more connection, after the checks, gets no answer.
    async fn gone(&self) -> bool {
        match wire::open(&self.target, &self.conn).await {
            Ok((_, w)) => {
                w.leave().await;
                false
            }
            Err((report, e)) => unreached(&e) || report.response.is_none(),
        }
    }

    /// The server stopped accepting connections (see [`Probe::gone`]): the checks that found it
    /// gone are n/a, and the fact is said once (the message), after the last check it answered.
    fn stopped(&self, outcomes: Vec<Outcome>) -> (Vec<Outcome>, Option<String>) {
        let contacts = self.contacts.borrow();
        let Some(first_lost) = contacts.iter().filter(|c| c.unanswered).map(|c| c.at).min() else {
            return (outcomes, None);
        };
        let after = contacts
            .iter()
            .filter(|c| !c.unanswered && c.at <= first_lost)
            .max_by_key(|c| c.at)
            .map_or("the first connection".to_string(), |c| {
                format!("check {}", c.id.id())
            });
        let gone: Vec<CheckId> = contacts
            .iter()
            .filter(|c| c.unanswered)
            .map(|c| c.id)
            .collect();
        let outcomes: Vec<Outcome> = outcomes
            .into_iter()
            .map(|o| match gone.contains(&o.id) {
                true => Outcome::new(
                    o.id,
                    Status::NotApplicable,
                    "not run: the server stopped accepting connections",
                ),
                false => o,
            })
            .collect();
        let n = outcomes.iter().filter(|o| gone.contains(&o.id)).count();
        let message = format!(
            "the server stopped accepting connections after {after} ({n} check{} could not run)",
            if n == 1 { "" } else { "s" }
        );
        (outcomes, Some(message))
    }
}

/// The connection was never made (DNS, TCP), as opposed to made and then refused or dropped.
fn unreached(e: &Error) -> bool {
    matches!(e, Error::Dns { .. } | Error::Connect { .. })
}

/// A check without its connection, in words that say how far it got.
pub fn no_connection(id: CheckId, e: &Error) -> Outcome {
    let text = e.to_string();
    let why = crate::printer::escape::escape(&text);
    let detail = match e {
        _ if unreached(e) => format!("could not connect: {why}"),
        Error::Timeout { .. } => format!("connected, but no answer to the upgrade request: {why}"),
        _ => format!("connected, but the upgrade failed: {why}"),
    };
    Outcome::new(id, Status::Fail, detail)
}
