//! `wscope URL`: open the connection, show the summary (or the full report with -v), then run the
//! session with input from the REPL on a terminal, or from -x and stdin otherwise.

use std::io::IsTerminal;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;

use crate::cli::{ConnectArgs, LiveArgs, OutputArgs, SessionArgs};
use crate::dial::BoxStream;
use crate::error::{Error, Result};
use crate::event::{Event, Observed, Stats};
use crate::input::{self, StdinMode};
use crate::printer::{json, report, style, Printer};
use crate::reconnect;
use crate::repl::{self, Repl};
use crate::session::{self, Feed, Input, INPUT_QUEUE};
use crate::slash::{check_close_code, check_close_reason};
use crate::target::Target;
use crate::wire::guard::WireFacts;

fn validate(session: &SessionArgs) -> Result<Script> {
    check_close_code(session.close_code).map_err(|e| {
        Error::usage_hint(
            format!("--close-code {}: {e}", session.close_code),
            "use 1000-1003, 1007-1014 or 3000-4999",
        )
    })?;
    check_close_reason(&session.close_reason)
        .map_err(|e| Error::usage(format!("--close-reason: {e}")))?;
    if session.count == Some(0) {
        return Err(Error::usage("--count must be at least 1"));
    }
    check_scripts(session)
}

/// The lines to run: the -x ones, then those of --script, each with where it came from.
struct Script {
    lines: Vec<String>,
    /// It has expectations: what arrives before each must be kept for it.
    expects: bool,
}

/// `-x` and `--script` commands are parsed before connecting, in order, as they will run: a bad
/// one (a syntax error, a bad regex or jq filter, a variable no earlier line sets) is a usage
/// error naming it, and nothing is sent. (The session parses them again as they run; parsing is
/// pure, so it agrees.)
fn check_scripts(session: &SessionArgs) -> Result<Script> {
    let mut lines = session.execute.clone();
    let mut origins: Vec<String> = session.execute.iter().map(|_| "-x".to_string()).collect();
    if let Some(path) = &session.script {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::usage(format!("--script {}: cannot read it: {e}", path.display()))
        })?;
        for (i, line) in text.lines().enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            lines.push(line.to_string());
            origins.push(format!("{}:{}", path.display(), i + 1));
        }
    }
    let summary =
        crate::script::parse::check(lines.iter().map(String::as_str)).map_err(|(i, e)| {
            let shown = lines
                .get(i)
                .map(|l| l.escape_debug().to_string())
                .unwrap_or_default();
            let origin = origins.get(i).map_or("-x", String::as_str);
            Error::Usage {
                message: format!("{origin} '{shown}': {e}"),
                hint: e.hint(),
            }
        })?;
    Ok(Script {
        lines,
        expects: summary.expects,
    })
}

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

pub async fn run(
    url: &str,
    conn: &ConnectArgs,
    live: &LiveArgs,
    session: &SessionArgs,
    output: &OutputArgs,
) -> Result<()> {
    if conn.no_coalesce {
        crate::coalesce::disable();
    }
    let stdin_tty = std::io::stdin().is_terminal();
    let interactive = stdin_tty
        && std::io::stdout().is_terminal()
        && !output.json
        && ((session.execute.is_empty() && session.script.is_none()) || !session.no_repl);
    // In the REPL the screen is stdout (rustyline draws there); otherwise diagnostics go to stderr.
    style::init_color(output.color(), interactive);
    let style = crate::config::connect_style(output, session, conn, interactive);
    let (mut printer, mut repl) =
        repl::printer_and_repl(style, interactive, !session.no_history, false)?;
    let result = connect(
        url,
        conn,
        live,
        session,
        output,
        repl.as_mut(),
        &mut printer,
    )
    .await;
    repl::end(printer, repl, result)
}

async fn connect(
    url: &str,
    conn: &ConnectArgs,
    live: &LiveArgs,
    session: &SessionArgs,
    output: &OutputArgs,
    repl: Option<&mut Repl>,
    printer: &mut Printer,
) -> Result<()> {
    let interactive = repl.is_some();
    let stdin_tty = std::io::stdin().is_terminal();
    let mut target = Target::parse(url)?;
    let upgrade = crate::config::handshake(conn)?;
    let lens = crate::config::lens(live, conn)?;
    lens_url(&lens, &mut target);
    let script = validate(session)?;
    for line in &script.lines {
        crate::lens::check_line(&lens, line).map_err(|e| {
            Error::usage_hint(
                format!("'{}': {e}", line.escape_debug()),
                "/help lists the commands of the lens in use; --lens NAME chooses it",
            )
        })?;
    }
    let recorder = crate::record::Recorder::open(output)?;
    // Open the dump file before dialing: the handshake is the first thing written to it, and an
    // unwritable path is reported before any network traffic.
    if let Some(path) = &live.dump_file {
        printer.dump_to_file(path)?;
    }
    // Start reading input now: what is piped in while we connect is queued, never lost.
    let (tx, rx) = mpsc::channel::<Input>(INPUT_QUEUE);
    let stdin_mode = if interactive || !script.lines.is_empty() || stdin_tty {
        StdinMode::Ignore
    } else if session.stdin_whole {
        StdinMode::Whole {
            binary: session.binary,
        }
    } else if session.binary {
        StdinMode::BinaryLines
    } else {
        StdinMode::Lines
    };
    if stdin_mode == StdinMode::Ignore && !interactive && !stdin_tty && stdin_has_data() {
        printer.note("note: stdin is ignored: -x and --script give the messages to send (without them, each stdin line is one message)");
    }
    // The -x lines are each connection's own (see `Feed`): the stdin side only reads stdin.
    input::spawn(
        Vec::new(),
        stdin_mode,
        conn.max_message_size,
        !interactive,
        tx.clone(),
    );
    let mut client = Client {
        lens,
        target,
        upgrade,
        recorder,
        conn,
        live,
        session,
        script,
        interactive,
        tx: Some(tx),
        cancel: crate::script::Cancel::default(),
        refused: 0,
    };
    let mut io = reconnect::Io {
        printer,
        feed: Feed::new(rx),
        repl,
    };
    let plan = reconnect::Plan::new(live.reconnect, interactive);
    let ran = reconnect::run(&mut client, &mut io, plan).await;
    let recorded = match client.recorder.as_ref() {
        Some(r) => r.finish().await,
        None => Ok(()),
    };
    // A recording that could not be written out is the cause of what went wrong after it (the
    // session stops reading while the recording is behind): it is the error reported.
    recorded?;
    ran?;
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
struct Client<'a> {
    /// `--lens` and its options; each connection chooses from the handshake (`crate::lens`).
    lens: crate::lens::Config,
    target: Target,
    /// The upgrade's checked options.
    upgrade: crate::handshake::Options,
    /// `--record`: every connection's events go to the transcript.
    recorder: Option<crate::record::Recorder>,
    conn: &'a ConnectArgs,
    live: &'a LiveArgs,
    session: &'a SessionArgs,
    script: Script,
    interactive: bool,
    /// Ours until the first connection opens: then the REPL gets it, or it is dropped so that
    /// the input can end.
    tx: Option<mpsc::Sender<Input>>,
    /// Ctrl-C in the REPL cancels what a script waits for, on whichever connection.
    cancel: crate::script::Cancel,
    /// Commands refused while running, over all connections (pipe mode).
    refused: usize,
}

type Dialed = (crate::handshake::Report, Result<crate::handshake::Upgraded>);

impl reconnect::Client for Client<'_> {
    async fn dial(&self) -> Dialed {
        crate::handshake::open(&self.target, &self.upgrade).await
    }

    async fn session(
        &mut self,
        (report, upgraded): Dialed,
        io: &mut reconnect::Io<'_>,
        carry: session::Carry,
    ) -> reconnect::Outcome {
        let (conn, live) = (self.conn, self.live);
        let printer = &mut *io.printer;
        let dumping = live.dump || live.dump_file.is_some();
        let full_report = conn.verbose || (upgraded.is_err() && report.response.is_some());
        if full_report {
            printer.note(report::full(&report).trim_end());
        }
        // The handshake opens the dump; on the screen the full report already shows it.
        if dumping && (!full_report || live.dump_file.is_some()) {
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
        io.feed.start_script(&self.script.lines);
        // The prompt appears once the summary is on screen; typed lines queue behind the -x ones.
        if let Some(tx) = self.tx.take() {
            if let Some(repl) = io.repl.as_mut() {
                repl.cancel_with(self.cancel.clone());
                repl.set_lens(lens_commands);
                repl.start(tx);
            }
        }
        let mut sink = crate::record::Recorded::new(io.printer, self.recorder.clone());
        let ended = if self.interactive {
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

impl Client<'_> {
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
        let (conn, live) = (self.conn, self.live);
        let interactive = self.interactive;
        let dumping = live.dump || live.dump_file.is_some();
        let link = report
            .verdict
            .as_ref()
            .and_then(|v| v.deflate)
            .map(|agreed| crate::deflate::Link::new(agreed, session::Role::Client));
        let enabled = Arc::new(AtomicBool::new(dumping));
        // `-x '/dump on'` switches the dump on mid-script, so it needs the tap as much as --dump does.
        let scripted_dump = self
            .script
            .lines
            .iter()
            .any(|x| x.trim_start().starts_with("/dump"));
        let tapping = (dumping || interactive || scripted_dump).then(|| session::Tapping {
            limit: live.dump_limit,
            enabled: enabled.clone(),
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
            conn.max_message_size,
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

    /// The session's options for one connection.
    fn options(
        &self,
        dump: Option<Arc<AtomicBool>>,
        wire: WireFacts,
        link: Option<crate::deflate::Link>,
        raw: session::raw::Injector,
    ) -> session::Options {
        let (conn, live, session) = (self.conn, self.live, self.session);
        let interactive = self.interactive;
        session::Options {
            role: session::Role::Client,
            signals: true,
            wait: session.wait.unwrap_or(session::Wait::Forever),
            // Silence ends the wait by default, unless -w says how long to wait.
            idle: session.idle.or_else(|| {
                session
                    .wait
                    .is_none()
                    .then_some(std::time::Duration::from_secs(2))
            }),
            script: crate::script::Options {
                default_timeout: session.expect_timeout,
                keep: interactive || self.script.expects,
                fatal: !interactive,
                cancel: self.cancel.clone(),
            },
            once: session.once,
            count: session.count,
            close_code: session.close_code,
            close_reason: session.close_reason.clone(),
            echo: session.echo,
            ping_interval: live.ping_interval,
            ping_timeout: live.ping_timeout,
            max_message_size: conn.max_message_size,
            dump,
            wire: Some(wire),
            deflate: link,
            raw: Some(raw),
            lens: None,
        }
    }

    /// The lens of a connection that opened: `--lens`, or the one its handshake points to.
    fn choose_lens(&self, report: &crate::handshake::Report) -> Option<crate::lens::Chosen> {
        let url = url::Url::parse(&report.url).ok();
        let resource = url.as_ref().map_or_else(
            || self.target.resource.clone(),
            |u| match u.query() {
                Some(q) => format!("{}?{q}", u.path()),
                None => u.path().to_string(),
            },
        );
        let sub = report.subprotocol();
        let entry = crate::lens::choose(&self.lens, &resource, sub)?;
        Some(crate::lens::Chosen {
            entry,
            config: crate::lens::Config {
                resource,
                subprotocol: sub.map(String::from),
                host: match self.lens.host.as_str() {
                    "" => self.target.host.clone(),
                    h => h.to_string(),
                },
                login: self.lens.login.clone().or_else(|| self.target.auth.clone()),
                ..self.lens.clone()
            },
        })
    }
}

/// A Socket.IO URL gets the Engine.IO query it needs (`EIO=4&transport=websocket`), said in a note.
fn lens_url(lens: &crate::lens::Config, target: &mut Target) {
    if target.unix_socket.is_some() {
        return;
    }
    if let Some(u) = crate::lens::adjust_url(lens, &target.url) {
        target.resource = match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        };
        target.notes.push(format!(
            "socketio lens: asking for {} (the Engine.IO version and transport were missing)",
            target.resource
        ));
        target.url = u;
    }
}
