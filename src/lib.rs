//! wscope: a command-line WebSocket client and debugger.
//!
//! The data flows one way: [`cli`] (what the user asked) -> `dial` (TCP / proxy / TLS) ->
//! [`handshake`] (upgrade, checks, timings) -> `session` (the one engine: the event loop of a
//! connection, whatever its role) -> `printer` (every byte the user sees, written off the runtime
//! thread). Input comes from `input` (stdin lines, -x) or `repl` (rustyline); `script` runs the
//! expect language on top of the command language of [`command`].
//!
//! Below the WebSocket library, two stream wrappers see the raw bytes: the `tap` feeds the
//! [`frame`] decoder for `--dump` (rendered by `dump` and `hexdump`), and the [`inbound`] guard
//! fails invalid UTF-8 and reserved bits at once, keeps the peer's real close code, drops messages
//! over `--max-message-size`, and stops reading a peer whose pings we cannot answer.
//!
//! The commands: `connect` (`wscope URL`), `inspect`, [`probe`] (a battery of checks of a
//! server, each on its own short connection), `listen` (a server: each client runs on the
//! same session engine in the server role), `replay` (a recording's messages sent again: `connect`
//! with the recording as its script; `record` writes the recordings) and [`completions`]; [`run`]
//! picks one. [`error`] is
//! the one error type and owns the exit codes. Modules are public only where the integration
//! tests or the fuzz targets use them.

pub mod cli;
pub(crate) mod close;
pub(crate) mod coalesce;
pub mod command;
pub mod completions;
pub(crate) mod config;
pub(crate) mod connect;
pub mod craft;
pub mod deflate;
pub mod dial;
pub(crate) mod dump;
pub mod error;
pub(crate) mod event;
pub mod frame;
pub mod handshake;
pub(crate) mod hexdump;
pub(crate) mod http;
pub mod inbound;
pub(crate) mod input;
pub(crate) mod inspect;
pub(crate) mod listen;
pub(crate) mod pem;
pub(crate) mod printer;
pub mod probe;
pub(crate) mod reconnect;
pub(crate) mod record;
pub(crate) mod repl;
pub(crate) mod replay;
pub(crate) mod script;
pub(crate) mod session;
pub(crate) mod tap;
pub mod target;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};
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
        Some(Command::Inspect(args)) => dial::pin_trust_roots(&config::tls(&args.conn)),
        Some(Command::Probe(args)) => dial::pin_trust_roots(&config::tls(&args.conn)),
        Some(Command::Replay(args)) => dial::pin_trust_roots(&config::tls(&args.conn)),
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
        Some(Command::Inspect(args)) => inspect::run(&args).await,
        Some(Command::Probe(args)) => probe::run(&args).await,
        Some(Command::Listen(args)) => listen::run(&args).await,
        Some(Command::Replay(args)) => replay::run(&args).await,
        Some(Command::Completions { shell }) => {
            use std::io::Write;
            let script = completions::render(shell);
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
            connect::run(&url, &cli.conn, &cli.live, &cli.session, &cli.output).await
        }
    }
}
