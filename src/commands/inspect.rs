//! `wscope inspect URL`: the handshake report in full (or one JSON object), then a clean close, and
//! exit 0 only when every check passed and the server answered our close. The close runs on the
//! session engine over the same stack as connect (tap, inflater, guard, tungstenite), so a server
//! that compresses or greets is judged as `wscope URL` judges it, and `--dump` shows the frames.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::mpsc;

use crate::config::{Dump, Inspect};
use crate::error::Result;
use crate::event::{Closer, Ending, Event, EventSink, Stats};
use crate::handshake;
use crate::printer::{report, Format, Printer, Screen, Style};
use crate::session::{self, Input, Role};

pub async fn run(cfg: Inspect) -> Result<()> {
    let mut printer = cfg.output.printer(Screen::Stderr);
    let json = cfg.output.style.json();
    // The dump file is opened before dialing: an unwritable path is said before any traffic.
    let mut dumper = dump_printer(&cfg)?;
    let (report, upgraded) = handshake::open(&cfg.target, &cfg.upgrade).await;
    if !json && report.tls.as_ref().is_some_and(|t| t.insecure) {
        // The same warning as connect: -k must never go unnoticed, even in a passing report.
        printer.warn("TLS certificate verification is off (-k/--insecure): anyone on the path could read or change this connection");
    }
    if let (Some(d), true) = (dumper.as_mut(), cfg.dump.file.is_some()) {
        // The report shows the handshake on the screen; a dump file opens with it.
        d.dump_handshake(&report);
    }
    let (close, outcome) = match upgraded {
        Ok(up) => close_on_the_engine(&report, up, &cfg, dumper.as_mut()).await,
        Err(e) => (None, Err(e)),
    };
    // The dump is written out before the report and any error.
    drop(dumper);
    if json {
        let mut v = serde_json::to_value(&report).unwrap_or_else(|_| json!({}));
        if let Some(obj) = v.as_object_mut() {
            obj.insert("ok".into(), json!(outcome.is_ok()));
            obj.insert("close".into(), json!(close));
            if let Err(e) = &outcome {
                obj.insert(
                    "error".into(),
                    json!({"message": e.to_string(), "hint": e.hint(), "exit_code": e.exit_code()}),
                );
            }
        }
        printer.write_json(&v);
    } else {
        printer.document(&report::full(&report));
        if let Some(c) = &close {
            printer.document(&format!("\n{}\n  {c}\n", colored::Colorize::bold("Close")));
        }
        if outcome.is_ok() {
            printer.document(&format!(
                "\n{}\n",
                colored::Colorize::green("all checks passed")
            ));
        }
    }
    // The error, if any, is reported at the edge (with --json it is in the object above).
    crate::event::EventSink::flush(&mut printer);
    outcome
}

/// The printer of `--dump`/`--dump-file`: its own, human text on stderr or in the file, so the
/// report's one JSON document on stdout stays one.
fn dump_printer(cfg: &Inspect) -> Result<Option<Printer>> {
    let Dump { on, file, .. } = &cfg.dump;
    if !on && file.is_none() {
        return Ok(None);
    }
    let mut output = cfg.output.clone();
    output.style = Style {
        format: Format::Human,
        ..Style::default()
    };
    let mut p = output.printer(Screen::Stderr);
    if let Some(path) = file {
        p.dump_to_file(path)?;
    }
    Ok(Some(p))
}

/// Send 1000 and wait for the server's close, on the session engine over the whole stack.
/// Returns a description of the close and the verdict.
async fn close_on_the_engine(
    report: &handshake::Report,
    up: handshake::Upgraded,
    cfg: &Inspect,
    dump: Option<&mut Printer>,
) -> (Option<String>, Result<()>) {
    let max = cfg.max_message_size;
    let link = report
        .verdict
        .as_ref()
        .and_then(|v| v.deflate)
        .map(|agreed| crate::deflate::Link::new(agreed, Role::Client));
    let tapping = dump.is_some().then(|| session::Tapping {
        limit: cfg.dump.limit,
        enabled: Arc::new(AtomicBool::new(true)),
        h2: None,
    });
    let stacked = session::stack(
        up.stream,
        up.leftover,
        Role::Client,
        link.as_ref(),
        max,
        tapping,
    )
    .await;
    let opts = session::Options {
        role: Role::Client,
        // inspect's close is short and bounded: a signal ends the process as by default.
        shutdown: crate::shutdown::Shutdown::none(),
        count_unsent: false,
        // No input: the close begins at once.
        wait: session::Wait::Secs(Duration::ZERO),
        idle: None,
        script: crate::script::Options::default(),
        once: false,
        count: None,
        close_code: 1000,
        close_reason: String::new(),
        echo: false,
        ping_interval: None,
        ping_timeout: None,
        max_message_size: max,
        dump: None,
        wire: Some(stacked.wire),
        deflate: link,
        raw: Some(stacked.raw),
        lens: None,
    };
    let (tx, rx) = mpsc::channel(1);
    let _ = tx.try_send(Input::End);
    drop(tx);
    let mut feed = session::Feed::new(rx);
    let stats = Stats::new(report.url.clone(), None, Vec::new());
    let mut sink = CloseSink { dump };
    let ended = session::run_connection(
        stacked.ws,
        &mut feed,
        stacked.frames,
        &mut sink,
        opts,
        stats,
        session::Carry::default(),
    )
    .await;
    let shown = describe(ended.ending.as_ref(), &ended.result);
    (Some(shown), ended.result)
}

/// The close as the report's "Close" section says it.
fn describe(ending: Option<&Ending>, result: &Result<()>) -> String {
    let code = |e: &Ending| match e.code {
        Some(c) if e.reason.is_empty() => format!("{c}"),
        Some(c) => format!("{c} {:?}", e.reason),
        None => "an empty close frame".into(),
    };
    match (ending, result) {
        (_, Err(e)) if e.to_string().contains("did not answer our close") => e.to_string(),
        (_, Err(e)) => format!("the server did not answer our close cleanly: {e}"),
        (Some(e), Ok(())) if e.closer == Closer::Peer => {
            format!("the server closed first, with {}", code(e))
        }
        (Some(e), Ok(())) => format!("the server answered our 1000 with {}", code(e)),
        (None, Ok(())) => "nobody reads our output any more".into(),
    }
}

/// The session's events, as inspect wants them: the frames go to the dump (if any); the rest is
/// the report's, told once the close is over.
struct CloseSink<'a> {
    dump: Option<&'a mut Printer>,
}

impl EventSink for CloseSink<'_> {
    fn event(&mut self, ev: Event<'_>) {
        if let (Event::Frame { .. }, Some(d)) = (&ev, self.dump.as_mut()) {
            d.event(ev);
        }
    }
    fn flush(&mut self) {
        if let Some(d) = self.dump.as_mut() {
            d.flush();
        }
    }
    fn dirty(&self) -> bool {
        self.dump.as_ref().is_some_and(|d| d.dirty())
    }
    fn broken(&self) -> bool {
        false
    }
    fn backlogged(&self) -> bool {
        self.dump.as_ref().is_some_and(|d| d.backlogged())
    }
    fn stalled(&self) -> bool {
        self.dump.as_ref().is_some_and(|d| d.stalled())
    }
}
