//! `wscope replay FILE [URL]`: connect as the recording did (its URL unless one is given, its
//! subprotocols, Origin and headers) and send the client's messages again, in order, with their
//! types and the recorded gaps (`--speed X`, `--fast`). It is `wscope URL` with the recording as
//! its script ([`plan`]), so output and exit codes are those of pipe mode. The recording is a
//! transcript of `--record` ([`transcript`]) or a browser HAR export ([`har`]); `listen --replay`
//! answers clients with its server side ([`mock`]).

pub mod har;
pub mod mock;
pub mod plan;
pub mod recording;
pub mod transcript;

use std::fmt::Write as _;

use crate::cli::{ReplayArgs, SessionArgs};
use crate::error::{Error, Result};
use crate::printer::{style, Printer, Screen, Style};
use recording::Recording;

pub async fn run(args: &ReplayArgs, shutdown: crate::shutdown::Shutdown) -> Result<()> {
    style::init_color(args.output.color(), false);
    let mut printer = Printer::new(
        Style {
            format: crate::printer::Format::json_if(args.output.json),
            ..Style::default()
        },
        Screen::Stderr,
    );
    let prepared = prepare(args, &mut printer);
    // What the recording said is out before the session's own printer starts.
    drop(printer);
    let (url, conn, session) = match prepared {
        Ok(Some(p)) => p,
        Ok(None) => return Ok(()),
        Err(e) => return Err(e),
    };
    crate::commands::connect::run(&url, &conn, &args.live, &session, &args.output, shutdown).await
}

/// The URL and options to connect with; None once `--list` has listed. Errors are shown here.
fn prepare(
    args: &ReplayArgs,
    printer: &mut Printer,
) -> Result<Option<(String, crate::cli::ConnectArgs, SessionArgs)>> {
    let outcome = plan_session(args, printer);
    if let Err(e) = &outcome {
        printer.error(e);
    }
    outcome
}

fn plan_session(
    args: &ReplayArgs,
    printer: &mut Printer,
) -> Result<Option<(String, crate::cli::ConnectArgs, SessionArgs)>> {
    let rec = recording::load(&args.file)?;
    for note in &rec.notes {
        printer.note(note);
    }
    if args.list {
        printer.document(&listing(&rec));
        return Ok(None);
    }
    let entry = rec.entry(&args.file, args.entry)?;
    let url = match (&args.url, &entry.url) {
        (Some(u), _) | (None, Some(u)) => u.clone(),
        (None, None) => {
            return Err(Error::usage_hint(
                format!(
                    "{}: the recording does not say where it connected",
                    args.file.display()
                ),
                "give the URL: wscope replay FILE URL",
            ))
        }
    };
    let (conn, notes) = plan::connect_args(entry, &args.conn, args.har_cookies);
    for note in notes {
        printer.note(&note);
    }
    let speed = (!args.fast).then_some(args.speed.unwrap_or(1.0));
    let mut lines = plan::client_lines(entry, speed);
    if lines.is_empty() {
        printer.note("note: the recording holds no message of the client: nothing to send");
        // Still a script, so the session runs as in pipe mode (no REPL).
        lines.push("/sleep 0".into());
    }
    let mut session = args.session.clone();
    // The recording first, then the user's -x (an /expect on what came back, say).
    lines.append(&mut session.execute);
    session.execute = lines;
    session.no_repl = true;
    Ok(Some((url, conn, session)))
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
