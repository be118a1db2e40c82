//! `wscope proxy [ADDR:]PORT URL`: an inspecting relay. Each client that connects gets its own
//! connection to URL and both run on the session engine, joined both ways by queues bounded in
//! bytes; everything either side says is shown once, tagged with the client's id and its
//! direction (`[3] c>` from the client, `[3] <s` from the server). The pieces: [`forward`] has
//! the rules of the two handshakes, [`pair`] runs one client and its upstream, [`relay`] joins
//! them, [`hub`] keeps the registry and runs the REPL's commands, [`message`] is what a pair
//! tells the hub. Ctrl-C, SIGTERM or `/quit` close both hops of every pair with 1001 and exit 0.

mod forward;
mod hub;
mod message;
mod pair;
mod relay;

use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant};

use crate::commands::listen::limits;
use crate::config::Proxy;
use crate::error::{Error, Result};
use crate::event::EventSink;
use crate::input::{self, StdinMode};
use crate::printer::Printer;
use crate::repl::{self, Repl};
use crate::session::{Input, INPUT_QUEUE};
use crate::shutdown::Shutdown;
use hub::{Flow, Hub};
use message::FromPair;
use pair::Shared;

/// How long the pairs get to answer our 1001 before the proxy exits anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);
/// Events handled per pass of the loop when several are queued.
const HUB_BURST: usize = 256;
/// How often an idle proxy looks whether its stdout broke.
const STDOUT_LOOK: Duration = Duration::from_millis(200);

pub async fn run(cfg: Proxy, shutdown: Shutdown) -> Result<()> {
    let (mut printer, mut repl) =
        repl::printer_and_repl(&cfg.output, cfg.interactive, cfg.history, true)?;
    let result = start(cfg, repl.as_mut(), &mut printer, shutdown).await;
    repl::end(printer, repl, result)
}

async fn start(
    cfg: Proxy,
    repl: Option<&mut Repl>,
    printer: &mut Printer,
    shutdown: Shutdown,
) -> Result<()> {
    let upstream = crate::target::Target::parse(&cfg.url)?;
    if let Some(r) = &cfg.output.record {
        check_record_dir(&r.path)?;
    }
    let tls = match &cfg.tls {
        Some((cert, key)) => Some(crate::commands::listen::tls::Acceptor::from_files(
            cert, key, false,
        )?),
        None => None,
    };
    let addr = cfg.addr;
    let listener = TcpListener::bind(addr).await.map_err(|e| {
        Error::io(
            format!("cannot listen on {addr} (choose another [ADDR:]PORT)"),
            e,
        )
    })?;
    let local = listener
        .local_addr()
        .map_err(|e| Error::io("cannot read the bound address", e))?;
    let scheme = if tls.is_some() { "wss" } else { "ws" };
    printer.proxying(&format!("{scheme}://{local}/"), upstream.url.as_str());
    if let Some(room) = limits::raise_open_files() {
        printer.note(&room);
    }
    let shared = Arc::new(Shared {
        upstream,
        fixed_path: cfg.fixed_path,
        upgrade: cfg.upgrade,
        policy: cfg.policy,
        tls,
        session: cfg.session,
        dump_limit: cfg.dump_limit,
        dump: Arc::new(AtomicBool::new(cfg.dump)),
        connected: AtomicUsize::new(0),
        record: cfg.output.record.clone(),
        map_client: cfg.map_client,
        map_server: cfg.map_server,
        json: cfg.output.style.json(),
    });
    let (tx, rx) = mpsc::channel::<Input>(INPUT_QUEUE);
    let max_line = shared.session.max_message_size;
    match repl {
        Some(repl) => repl.start(tx),
        None if cfg.reads_stdin => input::spawn(Vec::new(), StdinMode::Lines, max_line, true, tx),
        None => {}
    }
    serve(listener, shared, cfg.verbose, rx, printer, shutdown).await
}

/// `--record FILE` becomes one file per client beside FILE: its directory must be there.
fn check_record_dir(path: &std::path::Path) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    if dir.is_dir() {
        return Ok(());
    }
    Err(Error::usage_hint(
        format!(
            "cannot write the --record files beside '{}': '{}' is not a directory",
            path.display(),
            dir.display()
        ),
        "choose a writable path with --record FILE (each client gets FILE's name with its id)",
    ))
}

/// The proxy loop's own state, beside the hub.
struct Serving {
    next_id: u64,
    input_open: bool,
    stopping: Option<Instant>,
    failures: limits::AcceptFailures,
    paused: Option<Instant>,
    signal_at: Option<Instant>,
}

impl Serving {
    fn deadline(&self) -> Option<Instant> {
        self.stopping.map(|t| {
            let grace = t + SHUTDOWN_GRACE;
            self.signal_at.map_or(grace, |s| {
                grace.min(s + crate::shutdown::CLOSE_AFTER_SIGNAL)
            })
        })
    }
}

/// Accept clients, show what the pairs report and run the input, until stopped.
async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    verbose: bool,
    mut input: mpsc::Receiver<Input>,
    printer: &mut Printer,
    mut shutdown: Shutdown,
) -> Result<()> {
    let (tx, mut rx) = crate::bounded::channel(message::HUB_QUEUE_BYTES);
    let mut hub = Hub::default();
    hub.verbose = verbose;
    let mut st = Serving {
        next_id: 0,
        input_open: true,
        stopping: None,
        failures: limits::AcceptFailures::default(),
        paused: None,
        signal_at: None,
    };
    let mut look = tokio::time::interval(STDOUT_LOOK);
    look.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if st.stopping.is_none() && printer.broken() {
            hub.close_all();
            st.stopping = Some(Instant::now());
        }
        let deadline = st.deadline();
        tokio::select! {
            accepted = listener.accept(), if st.stopping.is_none() && st.paused.is_none() => {
                on_accept(accepted, &mut st, &shared, &tx, printer);
            }
            _ = sleep_until(st.paused.unwrap_or_else(Instant::now)), if st.paused.is_some() => st.paused = None,
            _ = look.tick(), if st.stopping.is_none() => {}
            Some(msg) = rx.recv(), if !printer.backlogged() => {
                on_burst(msg, &mut rx, &mut hub, (&shared, st.stopping.is_some()), printer);
            }
            _ = tokio::time::sleep(Duration::from_millis(10)), if printer.stalled() || printer.backlogged() => printer.flush(),
            item = input.recv(), if st.input_open && st.stopping.is_none() => {
                on_input(item, &mut st, &mut hub, &shared, printer);
            }
            () = shutdown.recv() => {
                if st.stopping.is_none() {
                    st.stopping = Some(begin_stop(&hub, printer));
                }
                st.signal_at.get_or_insert_with(Instant::now);
            }
            _ = sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                if let Some(sig) = crate::shutdown::signalled() {
                    printer.flush();
                    return Err(Error::Stopped {
                        message: "stopped by a signal before every client answered its close".into(),
                        code: sig.exit_code(),
                    });
                }
                break;
            }
        }
        if st.stopping.is_some() && hub.is_empty() {
            break;
        }
    }
    printer.flush();
    Ok(())
}

fn on_accept(
    accepted: std::io::Result<(tokio::net::TcpStream, std::net::SocketAddr)>,
    st: &mut Serving,
    shared: &Arc<Shared>,
    tx: &message::HubTx,
    printer: &mut Printer,
) {
    match accepted {
        Ok((tcp, peer)) => {
            st.failures.succeeded();
            st.next_id += 1;
            let pair = pair::run(st.next_id, tcp, peer, shared.clone(), tx.clone());
            tokio::spawn(pair);
        }
        Err(e) => {
            if let Some(line) = st.failures.failed(&e) {
                printer.warn(&line);
                printer.flush();
            }
            st.paused = Some(Instant::now() + limits::ACCEPT_PAUSE);
        }
    }
}

/// What the pairs have reported, in one go, then one flush.
fn on_burst(
    first: FromPair,
    rx: &mut crate::bounded::Rx<FromPair>,
    hub: &mut Hub,
    at: (&Shared, bool),
    printer: &mut Printer,
) {
    on_pair(first, hub, at, printer);
    for _ in 0..HUB_BURST {
        if printer.backlogged() {
            break;
        }
        match rx.try_recv() {
            Ok(msg) => on_pair(msg, hub, at, printer),
            Err(_) => break,
        }
    }
    printer.flush();
}

/// One report of a pair; `at`: what every pair shares, and whether the proxy is stopping.
fn on_pair(msg: FromPair, hub: &mut Hub, at: (&Shared, bool), printer: &mut Printer) {
    let (shared, stopping) = at;
    match msg {
        FromPair::Joined {
            id,
            info,
            upstream,
            to_client,
            to_server,
        } => {
            printer.proxy_joined(id, &info, &upstream);
            hub.join(id, info, to_client, to_server);
            if stopping {
                hub.close_all();
            }
        }
        FromPair::Event(id, hop, ev) => {
            hub.count(id, hop, &ev);
            printer.proxy_event(id, hop, &ev, hub.verbose);
        }
        FromPair::Upstream(id, report) => {
            let dump = shared.dump.load(std::sync::atomic::Ordering::Relaxed);
            printer.proxy_upstream(id, &report, hub.verbose, dump);
        }
        FromPair::Note(id, text) => printer.proxy_note(id, &text),
        FromPair::Left(id) => hub.leave(id),
    }
}

fn on_input(
    item: Option<Input>,
    st: &mut Serving,
    hub: &mut Hub,
    shared: &Arc<Shared>,
    printer: &mut Printer,
) {
    match item {
        Some(Input::Line(l) | Input::Typed(l) | Input::Text(l, _)) => {
            if hub.execute(&l, shared, printer) == Flow::Quit {
                st.stopping = Some(begin_stop(hub, printer));
            }
        }
        Some(Input::Notice(text)) => {
            printer.note(&text);
            printer.flush();
        }
        Some(Input::Failed(e)) => {
            printer.error(&e);
            printer.flush();
            st.input_open = false;
        }
        Some(Input::End) | None => st.input_open = false,
        Some(Input::Binary(..) | Input::Command(..) | Input::Resend(_) | Input::Data(_)) => {}
    }
}

fn begin_stop(hub: &Hub, printer: &mut Printer) -> Instant {
    if !hub.is_empty() {
        printer.note("shutting down: closing both sides of every client with 1001 (going away)");
        printer.flush();
    }
    hub.close_all();
    Instant::now()
}
