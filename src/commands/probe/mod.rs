//! `wscope probe URL`: a battery of checks of a server. A first connection with the user's options
//! proves the server can be reached and upgraded at all (else exit 3, 4 or 5 as for connect);
//! then every selected check runs at once, each on its own short connection with the same
//! options (headers, subprotocols, TLS, proxy), changed only where the check needs it (another
//! Origin, version 8). The report lists them in a fixed order; exit 7 when one failed.
//! It talks only to the URL given.
//!
//! [`check`] names the checks and verdicts; [`upgrade`] holds the handshake-only ones,
//! [`frames`] the ones on an open connection, [`limit`] `max-message`; [`wire`] is a check's
//! connection and [`report`] turns the outcomes into text or JSON.

pub use crate::probe_checks as check;
mod frames;
mod limit;
mod report;
mod upgrade;
mod wire;

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
}

pub async fn run(cfg: config::Probe) -> Result<()> {
    let mut printer = cfg.output.printer(Screen::Stderr);
    let result = probe(cfg, &mut printer).await;
    crate::event::EventSink::flush(&mut printer);
    result
}

async fn probe(cfg: config::Probe, printer: &mut Printer) -> Result<()> {
    let json = cfg.output.style.json();
    let started = Instant::now();
    let p = Probe {
        target: cfg.target,
        conn: cfg.upgrade,
        max: cfg.max,
    };
    // Can it be reached and upgraded at all? Its report also holds the TLS facts.
    let (first, upgraded) = wire::open(&p.target, &p.conn).await.map_err(|(_, e)| e)?;
    if first.tls.as_ref().is_some_and(|t| t.insecure) && !json {
        printer
            .warn("TLS certificate verification is off (-k/--insecure): the tls check reports it");
    }
    upgraded.leave().await;
    let selected = select(&cfg.only, &cfg.skip);
    let outcomes = join_all(selected.iter().map(|&id| p.run_check(id, &first))).await;
    let elapsed = started.elapsed();
    if json {
        printer.write_json(&report::json(&first.url, &outcomes, elapsed));
    } else {
        printer.document(&report::human(&first.url, &outcomes, elapsed));
    }
    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.status == Status::Fail)
        .map(|o| o.id.id())
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    Err(Error::Expectation {
        message: format!(
            "{} probe check{} failed: {}",
            failed.len(),
            if failed.len() == 1 { "" } else { "s" },
            failed.join(", ")
        ),
        hint: Some(
            "each failed line above says what the server did and what RFC 6455 wants".into(),
        ),
    })
}

/// The checks to run, in report order: `--only` (all when empty) less `--skip`.
fn select(only: &[CheckId], skip: &[CheckId]) -> Vec<CheckId> {
    CheckId::ALL
        .into_iter()
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
    async fn handshake(&self, conn: &handshake::Options) -> (Report, Option<Error>) {
        match wire::open(&self.target, conn).await {
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
        wire::open(&self.target, &conn)
            .await
            .map(|(_, w)| w)
            .map_err(|(_, e)| {
                Outcome::new(
                    id,
                    Status::Fail,
                    format!(
                        "could not connect: {}",
                        crate::printer::escape::escape(&e.to_string())
                    ),
                )
            })
    }
}
