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
//! [`check`] names the checks and verdicts (one table); by family: [`requests`] the
//! hand-written requests, [`upgrade`] the handshake-only ones, [`origin`] the Origin matrix and
//! cookie-only, [`negotiate`] subprotocols and extensions, [`frames`] and [`violations`] the ones
//! on an open connection, [`bomb`] the compression bomb, [`limit`] and [`limits`] the sizes,
//! waits and connections; [`wire`] is a check's connection, [`report`] turns the outcomes into
//! text or JSON and [`sarif`] into SARIF.

pub use crate::probe_checks as check;
mod bomb;
mod fingerprint;
mod frames;
mod limit;
mod limits;
mod negotiate;
mod origin;
mod report;
mod requests;
mod sarif;
mod upgrade;
mod violations;
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

/// How long a server gets to react to one frame.
pub const REACT: Duration = Duration::from_secs(2);

/// What every check shares: where to go and how.
pub struct Probe {
    target: Target,
    conn: handshake::Options,
    /// `--probe-max`.
    max: usize,
    /// `--probe-rate`, `--probe-idle`, `--probe-conns`.
    rate: f64,
    idle: Option<Duration>,
    conns: u32,
    /// `--fingerprint` (or `--only fingerprint`).
    fingerprint: bool,
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
    let (sarif_path, command) = (cfg.sarif.clone(), cfg.command.clone());
    let mut doc = None;
    let mut outcomes = Vec::new();
    let mut result = probe(cfg, &mut printer, &mut doc, &mut outcomes).await;
    if let Some(path) = sarif_path {
        let error = result.as_ref().err().map(|e| e.to_string());
        let sarif = sarif::document(&url, &outcomes, &command, error.as_deref());
        if let Err(e) = sarif::write(&path, &sarif).await {
            // The findings' own verdict stays the exit code; a file we could not write is
            // said, and fails the run only when nothing else did.
            if result.is_ok() {
                result = Err(e);
            } else {
                printer.error(&e);
            }
        }
    }
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
    found: &mut Vec<Outcome>,
) -> Result<()> {
    let json = cfg.output.style.json();
    let started = Instant::now();
    let p = Probe {
        target: cfg.target,
        conn: cfg.upgrade,
        max: cfg.max,
        rate: cfg.rate,
        idle: cfg.idle,
        conns: cfg.conns,
        fingerprint: cfg.fingerprint,
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
    let selected = select(&cfg.only, &cfg.skip, |id| p.turned_on(id));
    let (p, first) = (&p, &first);
    let one = |id: CheckId| async move {
        match open || upgrade::without_upgrade(id) {
            true => p.run_check(id, first).await,
            false => Outcome::new(id, Status::NotApplicable, NEEDS_AN_ORIGIN),
        }
    };
    // `connections` fills the server's slots: it runs alone, after the others.
    let (alone, together): (Vec<CheckId>, Vec<CheckId>) =
        selected.iter().partition(|&&id| id == CheckId::Connections);
    let mut outcomes = join_all(together.into_iter().map(one)).await;
    for id in alone {
        outcomes.push(one(id).await);
    }
    outcomes.sort_by_key(|o| selected.iter().position(|&s| s == o.id));
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
    let v = verdict(&outcomes, stopped);
    *found = outcomes;
    v
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

/// The checks to run, in report order: `--only` (every default one, and the expensive ones
/// their flag turned on, when empty) less `--skip`.
fn select(only: &[CheckId], skip: &[CheckId], on: impl Fn(CheckId) -> bool) -> Vec<CheckId> {
    CheckId::ALL
        .iter()
        .copied()
        .filter(|&id| match only.is_empty() {
            true => id.cost() == check::Cost::Default || on(id),
            false => only.contains(&id),
        })
        .filter(|id| !skip.contains(id))
        .collect()
}

impl Probe {
    /// An expensive check its own flag asks for without `--only`.
    fn turned_on(&self, id: CheckId) -> bool {
        match id {
            CheckId::Idle | CheckId::ServerPing => self.idle.is_some(),
            CheckId::Connections => self.conns > 0,
            CheckId::Fingerprint => self.fingerprint,
            _ => false,
        }
    }

    /// One check, bounded in time whatever the server does.
    async fn run_check(&self, id: CheckId, first: &Report) -> Outcome {
        let waits = match id {
            CheckId::Idle | CheckId::ServerPing => self.idle.unwrap_or_default(),
            CheckId::Connections => Duration::from_secs_f64(f64::from(self.conns) / self.rate),
            _ => Duration::ZERO,
        };
        let limit = self.conn.connect_timeout + id.budget() + waits;
        let check = async {
            use CheckId as C;
            match id {
                C::OriginForeign | C::OriginNull | C::OriginMissing => {
                    upgrade::origin(self, id).await
                }
                C::OriginVariants => origin::variants_check(self).await,
                C::CookieOnly => origin::cookie_only(self).await,
                C::HostMissing
                | C::Http10
                | C::KeyMissing
                | C::KeyMalformed
                | C::KeyDuplicate
                | C::HeadersLarge
                | C::HeadersMany => requests::check(self, id).await,
                C::Version => upgrade::version(self).await,
                C::Subprotocol => upgrade::subprotocol(self).await,
                C::Deflate => upgrade::deflate(self).await,
                C::SubprotocolChoice => negotiate::subprotocol_choice(self).await,
                C::Extensions => negotiate::extensions(self).await,
                C::DeflateParams => negotiate::deflate_params(self).await,
                C::DeflateBomb => bomb::bomb(self).await,
                C::Ping => frames::ping(self).await,
                C::Close => frames::close(self).await,
                C::MaxMessage => limit::max_message(self).await,
                C::MaxFrame => limits::max_frame(self).await,
                C::Idle => limits::idle(self).await,
                C::ServerPing => limits::server_ping(self).await,
                C::Connections => limits::connections(self).await,
                C::Tls => upgrade::tls(id, first, &self.target.host),
                C::Fingerprint => fingerprint::check(self).await,
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
        self.note_contact(id, failed.is_some_and(|(r, _)| r.response.is_none()));
    }

    /// A check's connection, and whether it got no HTTP answer at all.
    fn note_contact(&self, id: CheckId, unanswered: bool) {
        self.contacts.borrow_mut().push(Contact {
            id,
            at: Instant::now(),
            unanswered,
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
