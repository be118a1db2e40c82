//! wscope: a command-line WebSocket client and debugger.
//!
//! The data flows one way: [`cli`] (what the user asked) -> [`dial`] (TCP / proxy / TLS) ->
//! [`handshake`] (upgrade, checks, timings) -> [`session`] (the event loop) -> [`printer`] (every byte
//! the user sees). Input comes from [`input`] (stdin lines, -x) or [`repl`] (rustyline). Under the
//! WebSocket library, the [`tap`] feeds the [`frame`] decoder for `--dump`, and the [`inbound`] watch
//! fails invalid UTF-8 at once and keeps the server's real close code. [`connect`], [`inspect`] and
//! [`listen`] are the commands; [`run`] picks one.

pub mod cli;
pub mod coalesce;
pub mod command;
pub mod connect;
pub mod deflate;
pub mod dial;
pub mod dump;
pub mod error;
pub mod event;
pub mod frame;
pub mod handshake;
pub mod hexdump;
pub mod inbound;
pub mod input;
pub mod inspect;
pub mod listen;
pub mod printer;
pub mod repl;
pub mod session;
pub mod tap;
pub mod target;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use cli::{Cli, Command};
use error::{exit, Error, Result};

/// Parse the command line, run it, and turn the outcome into an exit code.
pub fn main_entry() -> ExitCode {
    let args = cli::rewrite_wscat_listen(std::env::args_os().collect());
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
        Some(Command::Listen(args)) => listen::run(&args).await,
        Some(Command::Completions { shell }) => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "wscope", &mut std::io::stdout());
            Ok(())
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
