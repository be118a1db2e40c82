//! wscope: a command-line WebSocket client and debugger.
//!
//! The data flows one way: [`cli`] (what the user asked, as clap parses it) -> `config` (the same,
//! checked, in the engine's types) -> [`dial`] (TCP / proxy / TLS, with `pem` for the files) ->
//! [`handshake`] (upgrade, checks, timings, over the one HTTP head reader in `http`) -> `session`
//! (the one engine: the event loop of a connection, whatever its role) -> `printer` (every byte
//! the user sees, written off the runtime thread). Input comes from `input` (stdin lines, -x) or
//! `repl` (rustyline); `script` runs the expect language on top of the slash-command language of
//! [`slash`]. `record` writes transcripts, `reconnect` dials again when a connection drops.
//!
//! [`wire`] is everything below the WebSocket library: the frame format and decoder, close codes,
//! hand-built frames, the tap and dump for `--dump`, and the guard that reads ahead of
//! tungstenite. [`deflate`] is permessage-deflate, as a layer of the same stack.
//!
//! [`commands`] holds one module per command (`connect`, `inspect`, `probe`, `replay`, `listen`,
//! `completions`); [`run`] picks one. [`error`] is the one error type and owns the exit codes.
//! Modules are public only where the integration tests or the fuzz targets use them.

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
pub(crate) mod input;
pub mod lens;
pub(crate) mod pem;
pub(crate) mod printer;
pub(crate) mod reconnect;
pub(crate) mod record;
pub(crate) mod repl;
pub(crate) mod script;
pub(crate) mod session;
pub mod slash;
pub mod target;
pub mod wire;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Subcommand};
use error::{exit, Error, Result};

/// Parse the command line, run it, and turn the outcome into an exit code.
pub fn main_entry() -> ExitCode {
    let args = reconnect::join_max(cli::rewrite_wscat_listen(std::env::args_os().collect()));
    if let Err(e) = cli::check_first_word(&args) {
        printer::style::init_color(cli::ColorChoice::Auto, false);
        printer::Printer::new(printer::Style::default(), printer::Screen::Stderr).error(&e);
        return ExitCode::from(e.exit_code());
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
    // Before any thread exists: choosing the trust roots sets an environment variable.
    match &cli.command {
        Some(Subcommand::Inspect(args)) => dial::pin_trust_roots(&config::tls(&args.conn)),
        Some(Subcommand::Probe(args)) => dial::pin_trust_roots(&config::tls(&args.conn)),
        Some(Subcommand::Replay(args)) => dial::pin_trust_roots(&config::tls(&args.conn)),
        None => dial::pin_trust_roots(&config::tls(&cli.conn)),
        Some(_) => {}
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .on_thread_park(coalesce::before_park)
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("wscope: cannot start the async runtime: {e}");
            return ExitCode::from(exit::RUNTIME);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) => ExitCode::from(e.exit_code()),
    }
}

/// Run one command. Errors are reported here, once, by the printer of the command that failed.
pub async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Some(Subcommand::Inspect(args)) => commands::inspect::run(&args).await,
        Some(Subcommand::Probe(args)) => commands::probe::run(&args).await,
        Some(Subcommand::Listen(args)) => commands::listen::run(&args).await,
        Some(Subcommand::Replay(args)) => commands::replay::run(&args).await,
        Some(Subcommand::Completions { shell }) => {
            use std::io::Write;
            let script = commands::completions::render(shell);
            match std::io::stdout().write_all(&script) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(Error::io("writing the completion script to stdout", e))
                }
                _ => Ok(()),
            }
        }
        None => {
            let url = cli
                .url
                .or(cli.connect)
                .ok_or_else(|| Error::usage("a URL is required"))?;
            commands::connect::run(&url, &cli.conn, &cli.live, &cli.session, &cli.output).await
        }
    }
}
