//! wscope: a command-line WebSocket client and debugger.
//!
//! The data flows one way: [`cli`] (what the user asked, as clap parses it, after the argv
//! rewrites of `cli::argv`; numbers with units are read by `units`) -> `config` (the same,
//! checked, one value per command in the engine's types; the only reader of `cli`) -> the command
//! (`run(cfg)`) -> [`dial`] (TCP / proxy / TLS, with `pem` for the files) -> [`handshake`]
//! (upgrade, checks, timings, the server half for listen, over the one HTTP head reader in
//! `http`; [`http2`] reads HTTP/2 frame headers beneath the h2 crate for `--http2`) -> `session` (the one engine: the event loop of a connection, whatever its role) ->
//! `printer` (every byte the user sees, written off the runtime thread; built by
//! `config::Output::printer`). Input comes from `input` (stdin lines, -x) or `repl` (rustyline);
//! `script` runs the expect language on top of the slash-command language of [`slash`]. `record`
//! writes transcripts, `reconnect` dials again when a connection drops. docs/ARCHITECTURE.md has
//! the layers and who owns which rule.
//!
//! [`wire`] is everything below the WebSocket library: the frame format and decoder, close codes,
//! hand-built frames, the tap and dump for `--dump`, the guard that reads ahead of tungstenite,
//! and the [`wire::role`] every layer asks which end it is. [`deflate`] is permessage-deflate, as
//! a layer of the same stack.
//!
//! `event` is the vocabulary the engine and the printer share (an expectation's report, listen's
//! client events); [`probe_checks`] names probe's checks for `cli`, `config` and the command.
//! [`commands`] holds one module per command (`connect`, `inspect`, `probe`, `replay`, `listen`,
//! `bench`, `completions`); `run` picks one, and `main_entry` reports its error, once. [`error`] is the one
//! error type and owns the exit codes.
//! Modules are public only where the integration tests or the fuzz targets use them.

pub(crate) mod bounded;
pub mod cli;
pub(crate) mod coalesce;
pub mod commands;
pub(crate) mod config;
pub mod deflate;
pub mod dial;
pub mod error;
pub(crate) mod event;
pub mod handshake;
pub(crate) mod http;
pub mod http2;
pub(crate) mod input;
pub mod lens;
pub(crate) mod pem;
pub(crate) mod printer;
pub mod probe_checks;
pub(crate) mod reconnect;
pub(crate) mod record;
pub(crate) mod repl;
pub mod script;
pub(crate) mod session;
pub(crate) mod shutdown;
pub mod slash;
pub mod target;
pub(crate) mod units;
pub mod wire;
pub(crate) mod writer;

/// The `--json` events and their fields (the table wscope-json(7) is rendered from).
pub use printer::json::EVENTS as JSON_EVENTS;

use std::process::ExitCode;

use clap::Parser;

use cli::Cli;
use config::{Command, Config, Output};
use error::{exit, Error, Result};

/// Parse the command line, check it, run the command, and report its error once, here.
pub fn main_entry() -> ExitCode {
    let args = cli::argv::rewrite(std::env::args_os().collect());
    if let Err(e) = cli::argv::check_first_word(&args) {
        return report(&Output::plain(), e, false);
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    let Config { output, command } = Config::from_cli(cli);
    let command = match command {
        Ok(c) => c,
        // Nothing has run: the error is not in any report yet.
        Err(e) => return report(&output, e, false),
    };
    // Before any thread exists: choosing the trust roots sets an environment variable.
    if let Some(tls) = command.tls() {
        dial::pin_trust_roots(tls);
    }
    let runtime = match command.worker_threads() {
        // bench alone uses every core; the rest of wscope is one thread.
        Some(threads) => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build(),
        None => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .on_thread_park(coalesce::before_park)
            .build(),
    };
    let runtime = match runtime {
        Ok(r) => r,
        Err(e) => {
            let e = Error::Runtime(format!("cannot start the async runtime: {e}"));
            return report(&output, e, false);
        }
    };
    let result = runtime.block_on(run(command));
    if shutdown::signalled().is_some() {
        // Within the signal's budget: tasks and blocking threads still running (a client
        // flooding listen, a read of stdin) are left to the process's end, not waited for.
        runtime.shutdown_background();
    }
    match result {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) => report(&output, e, output.error_in_report),
    }
}

/// The one place an error is shown, in the command's output format, unless `shown`: the command's
/// own report holds it (`inspect --json`). Its exit code is the process's.
fn report(output: &Output, e: Error, shown: bool) -> ExitCode {
    if !shown {
        let mut printer = output.printer(printer::Screen::Stderr);
        printer.error(&e);
        event::EventSink::flush(&mut printer);
    }
    ExitCode::from(e.exit_code())
}

/// Run one command on its checked configuration. Ctrl-C and SIGTERM are installed here, once,
/// for the commands that stop gracefully.
pub(crate) async fn run(command: Command) -> Result<()> {
    match command {
        Command::Connect(cfg) => commands::connect::run(*cfg, stop_on_signals()).await,
        Command::Inspect(cfg) => commands::inspect::run(cfg).await,
        Command::Probe(cfg) => commands::probe::run(cfg).await,
        Command::Listen(cfg) => commands::listen::run(*cfg, stop_on_signals()).await,
        Command::Replay(cfg) => commands::replay::run(*cfg, stop_on_signals()).await,
        Command::Bench(mode, output) => {
            commands::bench::run(*mode, output, stop_on_signals()).await
        }
        Command::Completions(shell) => {
            use std::io::Write;
            let script = commands::completions::render(shell);
            match std::io::stdout().write_all(&script) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(Error::io("writing the completion script to stdout", e))
                }
                _ => Ok(()),
            }
        }
    }
}

/// Ctrl-C and SIGTERM, installed once for a command that stops gracefully: the first begins the
/// close, a second ends the process at once, here and nowhere below.
fn stop_on_signals() -> shutdown::Shutdown {
    shutdown::Shutdown::install(|sig| std::process::exit(i32::from(sig.exit_code())))
}
