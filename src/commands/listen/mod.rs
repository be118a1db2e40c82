//! `wscope listen [ADDR:]PORT`: a WebSocket server for testing. Any number of clients, each tagged
//! with an id; what they send is printed (and echoed with --echo); input lines are broadcast, and
//! `/to`, `/kick`, `/clients` act on single clients. The pieces: [`accept`] decides each handshake,
//! [`client`] runs one connection, [`hub`] keeps the registry and runs commands, [`tls`] is wss.
//! Ctrl-C, SIGTERM or `/quit` close every client with 1001 "going away" and exit 0.

pub mod accept;
pub mod client;
pub mod hub;
mod queue;
mod tls;

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::signal::unix::SignalKind;
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant};

use crate::cli::ListenArgs;
use crate::error::{Error, Result};
use crate::event::EventSink;
use crate::input::{self, StdinMode};
use crate::printer::{style, Printer};
use crate::repl::{self, Repl};
use crate::session::{signal_stream, Input, INPUT_QUEUE};
use client::{FromClient, Shared};
use hub::{Flow, Hub};

/// How long clients get to answer our 1001 before the server exits anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// `8080` or `127.0.0.1:8080` or `[::1]:8080`; a bare port listens on loopback only.
pub fn parse_addr(s: &str) -> Result<SocketAddr> {
    if let Ok(port) = s.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    s.parse().map_err(|_| {
        // `::1:8080`: an IPv6 address takes brackets before its port.
        let hint = match s.rsplit_once(':') {
            Some((ip, port)) if ip.parse::<std::net::Ipv6Addr>().is_ok() => {
                format!("an IPv6 address takes brackets: `wscope listen [{ip}]:{port}`")
            }
            _ => "e.g. `wscope listen 8080` or `wscope listen 0.0.0.0:8080`".into(),
        };
        Error::usage_hint(format!("'{s}' is not a port or ADDR:PORT"), hint)
    })
}

pub async fn run(args: &ListenArgs) -> Result<()> {
    // A REPL when we own a terminal (not as a background job); lines from a pipe otherwise.
    let interactive = std::io::stdin().is_terminal()
        && std::io::stdout().is_terminal()
        && !args.output.json
        && reads_stdin();
    // In the REPL the screen is stdout (rustyline draws there); otherwise diagnostics go to stderr.
    style::init_color(args.output.color(), interactive);
    let style = crate::config::listen_style(&args.output);
    let (mut printer, mut repl) =
        repl::printer_and_repl(style, interactive, !args.no_history, true)?;
    let result = start(args, repl.as_mut(), &mut printer).await;
    repl::end(printer, repl, result)
}

async fn start(args: &ListenArgs, repl: Option<&mut Repl>, printer: &mut Printer) -> Result<()> {
    let addr = parse_addr(&args.addr)?;
    let policy = crate::config::listen_policy(args)?;
    let mut recorder = crate::record::Recorder::open(&args.output)?;
    let (replay, notes) = match &args.replay {
        Some(path) => {
            let (answers, notes) = crate::commands::replay::mock::Answers::load(path)?;
            (Some(Arc::new(answers)), notes)
        }
        None => (None, Vec::new()),
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(tls::Acceptor::from_files(cert, key)?),
        _ => None,
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
    printer.listening(&url, args.echo);
    // After the first line, which scripts read the bound address from.
    for note in notes {
        printer.note(&note);
    }
    if let Some(r) = recorder.as_mut() {
        r.server_session(&url);
    }
    let shared = Arc::new(Shared {
        policy,
        tls,
        echo: args.echo,
        max_message_size: args.max_message_size,
        dump_limit: args.dump_limit,
        dump: Arc::new(AtomicBool::new(args.dump)),
        connected: AtomicUsize::new(0),
        record: recorder.clone(),
        replay,
        lens: crate::config::listen_lens(args)?,
    });
    let (tx, rx) = mpsc::channel::<Input>(INPUT_QUEUE);
    match repl {
        Some(repl) => repl.start(tx),
        None if reads_stdin() => input::spawn(
            Vec::new(),
            StdinMode::Lines,
            args.max_message_size,
            true,
            tx,
        ),
        None => {}
    }
    serve(listener, shared, args.verbose, rx, printer).await?;
    match recorder {
        Some(r) => r.finish().await,
        None => Ok(()),
    }
}

/// Stdin is ours unless we are a background job on a terminal (`wscope listen 8080 &`), where
/// reading would stop the process with SIGTTIN.
fn reads_stdin() -> bool {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return true;
    }
    // SAFETY: plain queries about our own process group and the terminal on fd 0.
    unsafe { libc::tcgetpgrp(0) == libc::getpgrp() }
}

/// Accept clients and run input until stopped. Takes its listener and input so tests can bind
/// port 0 and feed lines in-process. The input ending does not stop the server.
pub async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    verbose: bool,
    mut input: mpsc::Receiver<Input>,
    printer: &mut Printer,
) -> Result<()> {
    let (tx, mut rx) = queue::hub_queue();
    let mut hub = Hub::default();
    hub.verbose = verbose;
    let mut next_id: u64 = 0;
    let mut input_open = true;
    let mut stopping: Option<Instant> = None;
    let mut sigterm = signal_stream(SignalKind::terminate());
    let mut sigint = signal_stream(SignalKind::interrupt());
    loop {
        let deadline = stopping.map(|t| t + SHUTDOWN_GRACE);
        tokio::select! {
            accepted = listener.accept(), if stopping.is_none() => match accepted {
                Ok((tcp, peer)) => {
                    next_id += 1;
                    tokio::spawn(client::run(next_id, tcp, peer, shared.clone(), tx.clone()));
                }
                Err(e) => {
                    // Out of file descriptors and the like: say so, and do not spin.
                    printer.warn(&format!("accepting a connection failed: {e}"));
                    printer.flush();
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            // While the output is backed up, client events wait in their bounded queue (and the
            // clients' sessions stop reading): nothing here blocks on stdout.
            Some(msg) = rx.recv(), if !printer.backlogged() => {
                // What the clients have already reported, in one go, then one flush: a write per
                // burst of events, not per event.
                on_client(msg, &mut hub, stopping.is_some(), printer);
                for _ in 0..HUB_BURST {
                    if printer.backlogged() {
                        break;
                    }
                    match rx.try_recv() {
                        Some(msg) => on_client(msg, &mut hub, stopping.is_some(), printer),
                        None => break,
                    }
                }
                printer.flush();
            }
            _ = tokio::time::sleep(Duration::from_millis(10)), if printer.stalled() || printer.backlogged() => printer.flush(),
            item = input.recv(), if input_open && stopping.is_none() => match item {
                Some(Input::Line(l) | Input::Typed(l) | Input::Text(l, _)) => {
                    if hub.execute(&l, &shared, printer) == Flow::Quit {
                        stopping = Some(begin_stop(&hub, printer));
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
                    input_open = false;
                }
                Some(Input::End) | None => input_open = false,
                // Made only by connect's --reconnect, for its next connection.
                Some(Input::Resend(_)) => {}
            },
            _ = sigint.recv(), if stopping.is_none() => {
                crate::session::mark_signalled();
                stopping = Some(begin_stop(&hub, printer));
            }
            _ = sigterm.recv(), if stopping.is_none() => {
                crate::session::mark_signalled();
                stopping = Some(begin_stop(&hub, printer));
            }
            _ = sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => break,
        }
        if stopping.is_some() && hub.is_empty() {
            break;
        }
    }
    printer.flush();
    Ok(())
}

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
