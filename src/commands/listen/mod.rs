//! `wscope listen [ADDR:]PORT`: a WebSocket server for testing. Any number of clients, each tagged
//! with an id; what they send is printed (and echoed with --echo); input lines are broadcast, and
//! `/to`, `/kick`, `/clients` act on single clients. The pieces: `handshake::accept` decides each handshake,
//! [`client`] runs one connection, [`hub`] keeps the registry and runs commands, [`tls`] is wss,
//! [`h2`] serves RFC 8441 streams (`--http2`), each a client like an HTTP/1.1 one.
//! Ctrl-C, SIGTERM or `/quit` close every client with 1001 "going away" and exit 0.

pub mod client;
mod h2;
pub mod hub;
pub(crate) mod limits;
mod message;
mod preface;
pub(crate) mod tls;

use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant};

use crate::config::Listen;
use crate::error::{Error, Result};
use crate::event::EventSink;
use crate::input::{self, StdinMode};
use crate::printer::Printer;
use crate::repl::{self, Repl};
use crate::session::{Input, INPUT_QUEUE};
use crate::shutdown::Shutdown;
use client::Shared;
use hub::{Flow, Hub};
use message::FromClient;

/// How long clients get to answer our 1001 before the server exits anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

pub async fn run(cfg: Listen, shutdown: Shutdown) -> Result<()> {
    let (mut printer, mut repl) =
        repl::printer_and_repl(&cfg.output, cfg.interactive, cfg.history, true)?;
    let result = start(cfg, repl.as_mut(), &mut printer, shutdown).await;
    repl::end(printer, repl, result)
}

async fn start(
    cfg: Listen,
    repl: Option<&mut Repl>,
    printer: &mut Printer,
    shutdown: Shutdown,
) -> Result<()> {
    let addr = cfg.addr;
    let mut recorder = crate::record::Recorder::open(cfg.output.record.as_ref())?;
    let (replay, notes) = match &cfg.replay {
        Some(path) => {
            let (answers, notes) = crate::commands::replay::mock::Answers::load(path)?;
            (Some(Arc::new(answers)), notes)
        }
        None => (None, Vec::new()),
    };
    // The recorded session's subprotocol is selected when a client offers it, as the recorded
    // server did (`-s` adds more).
    let mut policy = cfg.policy.clone();
    for p in replay.iter().flat_map(|a| a.subprotocols()) {
        if !policy.subprotocols.contains(p) {
            policy.subprotocols.push(p.clone());
        }
    }
    let tls = match &cfg.tls {
        Some((cert, key)) => Some(tls::Acceptor::from_files(cert, key, cfg.http2)?),
        None => None,
    };
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
    let url = format!("{scheme}://{local}/");
    printer.listening(&url, cfg.echo);
    // After the first line, which scripts read the bound address from.
    for note in notes {
        printer.note(&note);
    }
    if let Some(room) = limits::raise_open_files() {
        printer.note(&room);
    }
    if let Some(r) = recorder.as_mut() {
        r.server_session(&url);
    }
    let shared = Arc::new(Shared {
        policy,
        tls,
        session: cfg.session,
        dump_limit: cfg.dump_limit,
        dump: Arc::new(AtomicBool::new(cfg.dump)),
        connected: AtomicUsize::new(0),
        record: recorder.clone(),
        replay,
        http2: cfg.http2,
        last_id: Default::default(),
    });
    let (tx, rx) = mpsc::channel::<Input>(INPUT_QUEUE);
    match repl {
        Some(repl) => repl.start(tx),
        None if cfg.reads_stdin => {
            input::spawn(Vec::new(), StdinMode::Lines, cfg.max_message_size, true, tx)
        }
        None => {}
    }
    serve(listener, shared, cfg.verbose, rx, printer, shutdown).await?;
    match recorder {
        Some(r) => r.finish().await,
        None => Ok(()),
    }
}

/// Accept clients and run input until stopped. Takes its listener and input so tests can bind
/// port 0 and feed lines in-process. The input ending does not stop the server.
pub async fn serve(
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
        input_open: true,
        stopping: None,
        failures: limits::AcceptFailures::default(),
        paused: None,
        signal_at: None,
    };
    // Nothing wakes us when stdout breaks while all is quiet: look now and then.
    let mut look = tokio::time::interval(STDOUT_LOOK);
    look.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if st.stopping.is_none() && printer.broken() {
            // Nobody reads our output any more (`wscope listen 8080 | head -1`): close every
            // client and leave quietly, with 0, as connect does.
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
            // While the output is backed up, client events wait in their bounded queue (and the
            // clients' sessions stop reading): nothing here blocks on stdout.
            Some(msg) = rx.recv(), if !printer.backlogged() => {
                on_client_burst(msg, &mut rx, &mut hub, st.stopping.is_some(), printer);
            }
            _ = tokio::time::sleep(Duration::from_millis(10)), if printer.stalled() || printer.backlogged() => printer.flush(),
            item = input.recv(), if st.input_open && st.stopping.is_none() => {
                on_input(item, &mut st, &mut hub, &shared, printer);
            }
            // A signal also cuts short a stop already under way (a typed /quit).
            () = shutdown.recv() => {
                if st.stopping.is_none() {
                    st.stopping = Some(begin_stop(&hub, printer));
                }
                st.stopping.get_or_insert_with(Instant::now);
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

/// The accept loop's own state, beside the hub.
struct Serving {
    input_open: bool,
    stopping: Option<Instant>,
    failures: limits::AcceptFailures,
    /// After a failed accept (out of descriptors, say), accepting pauses: the loop must not spin.
    paused: Option<Instant>,
    /// After a signal the clients get [`crate::shutdown::CLOSE_AFTER_SIGNAL`] to answer.
    signal_at: Option<Instant>,
}

impl Serving {
    /// When a stop under way gives up waiting for the clients' closes.
    fn deadline(&self) -> Option<Instant> {
        self.stopping.map(|t| {
            let grace = t + SHUTDOWN_GRACE;
            self.signal_at.map_or(grace, |s| {
                grace.min(s + crate::shutdown::CLOSE_AFTER_SIGNAL)
            })
        })
    }
}

/// A new client gets its own task; a failed accept is said once per burst and pauses accepting.
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
            tokio::spawn(serve_connection(
                shared.next_id(),
                tcp,
                peer,
                shared.clone(),
                tx.clone(),
            ));
        }
        Err(e) => {
            // Out of file descriptors and the like: say so once per burst, do not spin.
            if let Some(line) = st.failures.failed(&e) {
                printer.warn(&line);
                printer.flush();
            }
            st.paused = Some(Instant::now() + limits::ACCEPT_PAUSE);
        }
    }
}

/// What the clients have already reported, in one go, then one flush: a write per burst of
/// events, not per event.
fn on_client_burst(
    first: FromClient,
    rx: &mut crate::bounded::Rx<FromClient>,
    hub: &mut Hub,
    stopping: bool,
    printer: &mut Printer,
) {
    on_client(first, hub, stopping, printer);
    for _ in 0..HUB_BURST {
        if printer.backlogged() {
            break;
        }
        match rx.try_recv() {
            Ok(msg) => on_client(msg, hub, stopping, printer),
            Err(_) => break,
        }
    }
    printer.flush();
}

/// A line, message or command from the server's own input (stdin or the REPL).
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
        Some(Input::Binary(b, _)) => hub.broadcast(crate::slash::Command::Binary(b), printer),
        Some(Input::Command(cmd, _)) => hub.broadcast(cmd, printer),
        Some(Input::Notice(text)) => {
            printer.note(&text);
            printer.flush();
        }
        // The server keeps serving; its own input is what failed.
        Some(Input::Failed(e)) => {
            printer.error(&e);
            printer.flush();
            st.input_open = false;
        }
        Some(Input::End) | None => st.input_open = false,
        // Made only by connect's --reconnect (for its next connection) and by bench.
        Some(Input::Resend(_) | Input::Data(_)) => {}
    }
}

/// How often an idle server looks whether its stdout broke.
const STDOUT_LOOK: Duration = Duration::from_millis(200);

/// Events handled per pass of the loop when several are queued.
const HUB_BURST: usize = 256;

/// One report from a client task.
fn on_client(msg: FromClient, hub: &mut Hub, stopping: bool, printer: &mut Printer) {
    match msg {
        FromClient::Joined {
            id,
            info,
            tx,
            budget,
        } => {
            printer.joined(id, &info);
            hub.join(id, info, tx, budget);
            if stopping {
                hub.close_all();
            }
        }
        FromClient::Event(id, ev) => {
            hub.count(id, &ev);
            printer.client_event(id, &ev, hub.verbose);
        }
        FromClient::Left(id) => hub.leave(id),
    }
}

fn begin_stop(hub: &Hub, printer: &mut Printer) -> Instant {
    if !hub.is_empty() {
        printer.note("shutting down: closing every client with 1001 (going away)");
        printer.flush();
    }
    hub.close_all();
    Instant::now()
}

/// Serve one connection from accept to disconnect: its handshake, then its session over HTTP/1.1,
/// or its streams' sessions over HTTP/2 (`--http2`).
async fn serve_connection(
    id: u64,
    tcp: tokio::net::TcpStream,
    peer: std::net::SocketAddr,
    shared: Arc<Shared>,
    hub: message::HubTx,
) {
    let report = |ev: crate::event::ClientEvent| message::tell(&hub, FromClient::Event(id, ev));
    let _ = tcp.set_nodelay(true);
    match client::open(tcp, peer, &shared, &report).await {
        Some(client::Handshaken::Http1(opened)) => client::session(id, opened, &shared, &hub).await,
        Some(client::Handshaken::Http2(stream)) => {
            h2::serve(id, stream, peer, shared.clone(), hub.clone()).await
        }
        None => {}
    }
}
