//! `wscope replay FILE [URL]`: connect as the recording did (its URL unless one is given, its
//! subprotocols, Origin and headers) and send the client's messages again, in order, with their
//! types and the recorded gaps (`--speed X`, `--fast`). It is `wscope URL` with the recording as
//! its script ([`plan`]), so output and exit codes are those of pipe mode. The recording is a
//! transcript of `--record` ([`transcript`]) or a browser HAR export ([`har`]); `listen --replay`
//! answers clients with its server side ([`mock`]).

pub mod har;
pub mod load;
pub mod mock;
pub mod plan;
pub mod recording;
pub mod transcript;

use std::fmt::Write as _;

use crate::config::{Connect, Replay};
use crate::error::{Error, Result};
use crate::printer::{Printer, Screen};
use recording::Recording;

pub async fn run(cfg: Replay, shutdown: crate::shutdown::Shutdown) -> Result<()> {
    let mut printer = cfg.output.printer(Screen::Stderr);
    let planned = plan_session(cfg, &mut printer);
    // What the recording said is out before the session's own printer starts.
    drop(printer);
    match planned? {
        Some(connect) => crate::commands::connect::run(connect, shutdown).await,
        None => Ok(()),
    }
}

/// The connection to make: the user's options with what the recording adds; None once `--list`
/// has listed.
fn plan_session(cfg: Replay, printer: &mut Printer) -> Result<Option<Connect>> {
    let rec = load::load(&cfg.file)?;
    for note in &rec.notes {
        printer.note(note);
    }
    if cfg.list {
        printer.document(&listing(&rec));
        return Ok(None);
    }
    let entry = rec.entry(&cfg.file, cfg.entry)?;
    let mut connect = cfg.connect;
    connect.url = match (cfg.url, &entry.url) {
        (Some(u), _) => u,
        (None, Some(u)) => u.clone(),
        (None, None) => {
            return Err(Error::usage_hint(
                format!(
                    "{}: the recording does not say where it connected",
                    cfg.file.display()
                ),
                "give the URL: wscope replay FILE URL",
            ))
        }
    };
    for note in plan::add_recorded(entry, &mut connect.upgrade, cfg.har_cookies)? {
        printer.note(&note);
    }
    let mut lines = plan::client_lines(entry, cfg.speed);
    if lines.is_empty() {
        printer.note("note: the recording holds no message of the client: nothing to send");
        // Still a script, so the session runs as in pipe mode (no REPL).
        lines.push("/sleep 0".into());
    }
    // The recording first, then the user's -x (an /expect on what came back, say).
    lines.append(&mut connect.script);
    connect.script = lines;
    Ok(Some(connect))
}

/// `--list`: one line per WebSocket.
fn listing(rec: &Recording) -> String {
    let mut out = String::new();
    for (i, e) in rec.entries.iter().enumerate() {
        let (sent, received) = e.counts();
        let _ = writeln!(
            out,
            "{i}  {}  {sent} sent, {received} received",
            crate::printer::escape::escape(e.url.as_deref().unwrap_or("(no URL)"))
        );
    }
    out
}
