//! `wscope URL`: open the connection, show the summary (or the full report with -v), then run the
//! session with input from the REPL on a terminal, or from -x and stdin otherwise.

use std::io::IsTerminal;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;

use crate::config::Connect;
use crate::dial::BoxStream;
use crate::error::{Error, Result};
use crate::event::{Event, Observed, Stats};
use crate::input::{self, StdinMode};
use crate::printer::{json, report, Printer};
use crate::reconnect;
use crate::repl::{self, Repl};
use crate::session::{self, Feed, Input, INPUT_QUEUE};
use crate::target::Target;
use crate::wire::guard::WireFacts;

/// True when stdin is a pipe or a file: data someone meant to send (not a terminal or /dev/null).
fn stdin_has_data() -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::FileTypeExt;
    let Ok(fd) = std::io::stdin().as_fd().try_clone_to_owned() else {
        return false;
    };
    std::fs::File::from(fd)
        .metadata()
        .map(|m| m.file_type().is_fifo() || m.file_type().is_file() || m.file_type().is_socket())
        .unwrap_or(false)
}

pub async fn run(cfg: Connect, shutdown: crate::shutdown::Shutdown) -> Result<()> {
    if cfg.no_coalesce {
        crate::coalesce::disable();
    }
    let (mut printer, mut repl) =
        repl::printer_and_repl(&cfg.output, cfg.interactive, cfg.history, false)?;
    let result = connect(cfg, repl.as_mut(), &mut printer, shutdown).await;
    repl::end(printer, repl, result)
}

async fn connect(
    cfg: Connect,
    repl: Option<&mut Repl>,
    printer: &mut Printer,
    shutdown: crate::shutdown::Shutdown,
) -> Result<()> {
    let mut target = Target::parse(&cfg.url)?;
    crate::lens::adjust_target(&cfg.lens, &mut target);
    let recorder = crate::record::Recorder::open(cfg.output.record.as_ref())?;
    // Open the dump file before dialing: the handshake is the first thing written to it, and an
    // unwritable path is reported before any network traffic.
    if let Some(path) = &cfg.dump.file {
        printer.dump_to_file(path)?;
    }
    // Start reading input now: what is piped in while we connect is queued, never lost.
    let (tx, rx) = mpsc::channel::<Input>(INPUT_QUEUE);
    let stdin_tty = std::io::stdin().is_terminal();
    if cfg.stdin == StdinMode::Ignore && !cfg.interactive && !stdin_tty && stdin_has_data() {
        printer.note("note: stdin is ignored: -x and --script give the messages to send (without them, each stdin line is one message)");
    }
    // The -x lines are each connection's own (see `Feed`): the stdin side only reads stdin.
    input::spawn(
        Vec::new(),
        cfg.stdin,
        cfg.session.max_message_size,
        !cfg.interactive,
        tx.clone(),
    );
    let plan = reconnect::Plan::new(cfg.reconnect, cfg.interactive);
    let mut client = Client {
        lens: cfg.lens.clone(),
        target,
        recorder,
        cancel: cfg.session.script.cancel.clone(),
        cfg,
        tx: Some(tx),
        refused: 0,
    };
    let mut io = reconnect::Io {
        printer,
        feed: Feed::new(rx),
        repl,
        shutdown,
    };
    let ran = reconnect::run(&mut client, &mut io, plan).await;
    let recorded = match client.recorder.as_ref() {
        Some(r) => r.finish().await,
        None => Ok(()),
    };
    // A recording that could not be written out is the cause of what went wrong after it (the
    // session stops reading while the recording is behind): it is the error reported.
    recorded?;
    ran?;
    // A --dump-file that could not be written (reported when it happened) makes the exit 1.
    io.printer.dump_result()?;
    // A refused command in the REPL is the user's typo, shown and forgotten.
    match client.refused {
        0 => Ok(()),
        n => Err(Error::Runtime(format!(
            "{n} command{} failed while running (shown above); the others were sent",
            if n == 1 { "" } else { "s" }
        ))),
    }
}

/// What every connection of one `wscope URL` run shares.
struct Client {
    /// `--lens` and its options; each connection chooses from the handshake (`crate::lens`).
    lens: crate::lens::Config,
    target: Target,
    /// `--record`: every connection's events go to the transcript.
    recorder: Option<crate::record::Recorder>,
    cfg: Connect,
    /// Ours until the first connection opens: then the REPL gets it, or it is dropped so that
    /// the input can end.
    tx: Option<mpsc::Sender<Input>>,
    /// Ctrl-C in the REPL cancels what a script waits for, on whichever connection.
    cancel: crate::script::Cancel,
    /// Commands refused while running, over all connections (pipe mode).
    refused: usize,
}

type Dialed = (crate::handshake::Report, Result<crate::handshake::Upgraded>);

impl reconnect::Client for Client {
    async fn dial(&self) -> Dialed {
        crate::handshake::open(&self.target, &self.cfg.upgrade).await
    }

    async fn session(
        &mut self,
        (report, upgraded): Dialed,
        io: &mut reconnect::Io<'_>,
        carry: session::Carry,
    ) -> reconnect::Outcome {
        let printer = &mut *io.printer;
        let dump = &self.cfg.dump;
        let full_report = self.cfg.verbose || (upgraded.is_err() && report.response.is_some());
        if full_report {
            printer.note(report::full(&report).trim_end());
        }
        // The handshake opens the dump; on the screen the full report already shows it.
        if dump.on && (!full_report || dump.file.is_some()) {
            printer.dump_handshake(&report);
        }
        if let Some(rec) = self.recorder.as_mut() {
            rec.client_session(&report);
            if let Err(e) = &upgraded {
                rec.error(e);
            }
        }
        let up = match upgraded {
            Ok(up) => up,
            Err(e) => {
                let status = report.response.as_ref().map(|r| r.status);
                return reconnect::Outcome::NotOpened(e, status);
            }
        };
        printer.mark_open();
        let lens = self.choose_lens(&report);
        let lens_name = lens.as_ref().map(|c| c.entry.name);
        if printer.style().json() {
            let mut v = json::open(Instant::now(), &report);
            v["lens"] = serde_json::json!(lens_name);
            printer.write_json(&v);
        } else {
            let mut line = report::summary(&report, !full_report);
            if let Some(name) = lens_name {
                line.push_str(&format!(", lens {name}"));
            }
            printer.note(&line);
        }
        if report.tls.as_ref().is_some_and(|t| t.insecure) {
            printer.warn("TLS certificate verification is off (-k/--insecure): anyone on the path could read or change this connection");
        }
        let (ws, dump_rx, mut opts, stats) = self.layers(&report, up).await;
        let lens_commands = lens.as_ref().map_or(&[][..], |c| c.entry.commands);
        opts.lens = lens;
        opts.shutdown = io.shutdown.clone();
        io.feed.start_script(&self.cfg.script);
        // The prompt appears once the summary is on screen; typed lines queue behind the -x ones.
        if let Some(tx) = self.tx.take() {
            if let Some(repl) = io.repl.as_mut() {
                repl.cancel_with(self.cancel.clone());
                repl.set_lens(lens_commands);
                repl.start(tx);
            }
        }
        let mut sink = crate::record::Recorded::new(io.printer, self.recorder.clone());
        let ended = if self.cfg.interactive {
            session::run_connection(ws, &mut io.feed, dump_rx, &mut sink, opts, stats, carry).await
        } else {
            // The commands refused while running (an unreadable `/file`): in pipe mode they make
            // the exit code 1 once the session is over.
            let mut refused = 0;
            let mut tally = Observed {
                inner: &mut sink,
                look: |ev: &Event<'_>| {
                    if matches!(ev, Event::Refused { .. }) {
                        refused += 1;
                    }
                },
            };
            let ended =
                session::run_connection(ws, &mut io.feed, dump_rx, &mut tally, opts, stats, carry)
                    .await;
            self.refused += refused;
            ended
        };
        // An expectation the connection ended under no longer waits.
        self.cancel.reset();
        reconnect::Outcome::Ended(ended)
    }
}

impl Client {
    /// The layers over the upgraded stream (tap, inflater, guard, raw) and the session's options.
    async fn layers(
        &self,
        report: &crate::handshake::Report,
        up: crate::handshake::Upgraded,
    ) -> (
        WebSocketStream<BoxStream>,
        Option<crate::wire::tap::TapReceiver>,
        session::Options,
        Stats,
    ) {
        let dumping = self.cfg.dump.on;
        let link = report
            .verdict
            .as_ref()
            .and_then(|v| v.deflate)
            .map(|agreed| crate::deflate::Link::new(agreed, session::Role::Client));
        let enabled = Arc::new(AtomicBool::new(dumping));
        // `-x '/dump on'` switches the dump on mid-script, so it needs the tap as much as --dump does.
        let scripted_dump = self
            .cfg
            .script
            .iter()
            .any(|x| x.trim_start().starts_with("/dump"));
        let tapping =
            (dumping || self.cfg.interactive || scripted_dump).then(|| session::Tapping {
                limit: self.cfg.dump.limit,
                enabled: enabled.clone(),
                h2: up.h2_dump.clone(),
            });
        let session::Stacked {
            ws,
            frames: dump_rx,
            wire,
            raw,
        } = session::stack(
            up.stream,
            up.leftover,
            session::Role::Client,
            link.as_ref(),
            self.cfg.session.max_message_size,
            tapping,
        )
        .await;
        let dump = dump_rx.as_ref().map(|_| enabled.clone());
        let opts = self.options(dump, wire, link, raw);
        // /status shows what deflate settled next to the extension's header value.
        let mut extensions = report.extensions();
        if let (Some(first), Some(link)) = (extensions.first_mut(), &opts.deflate) {
            first.push_str(&format!(" [{}]", link.agreed.describe()));
        }
        let stats = Stats::new(
            report.url.clone(),
            report.subprotocol().map(String::from),
            extensions,
        );
        (ws, dump_rx, opts, stats)
    }

    /// The session's options for one connection: the configured ones, with this connection's
    /// layers.
    fn options(
        &self,
        dump: Option<Arc<AtomicBool>>,
        wire: WireFacts,
        link: Option<crate::deflate::Link>,
        raw: session::raw::Injector,
    ) -> session::Options {
        session::Options {
            dump,
            wire: Some(wire),
            deflate: link,
            raw: Some(raw),
            lens: None,
            ..self.cfg.session.clone()
        }
    }

    /// The lens of a connection that opened: `--lens`, or the one its handshake points to.
    fn choose_lens(&self, report: &crate::handshake::Report) -> Option<crate::lens::Chosen> {
        crate::lens::for_connection(&self.lens, &self.target, report)
    }
}
