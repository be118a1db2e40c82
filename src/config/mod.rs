//! The checked configuration: what the command line asked for, validated once and turned into the
//! types the engine takes (ripgrep's low-level args -> high-level args). This module tree is the
//! only reader of `crate::cli` (besides `lib.rs` and the completions command): [`Config::from_cli`]
//! gives one value per command, and each command is `run(cfg)` on it. `dial`, `handshake`,
//! `session` and the commands know nothing of clap.
//!
//! [`upgrade`] turns the connection flags into `handshake::Options` (and listen's accept policy),
//! [`session`] builds the session's options and checks the script, [`output`] decides how the
//! output looks and builds the printer.

mod bench;
mod lens;
pub mod output;
mod proxy;
pub mod session;
mod upgrade;

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::cli::{Cli, ConnectArgs, InspectArgs, ListenArgs, ProbeArgs, ReplayArgs, Subcommand};
use crate::cli::{LiveArgs, OutputArgs, SessionArgs};
use crate::dial::TlsSettings;
use crate::error::{Error, Result};
use crate::handshake::accept::Policy;
use crate::input::StdinMode;
use crate::printer::Style;
use crate::probe_checks::CheckId;
use crate::target::Target;

pub use output::Output;
pub use upgrade::{add_recorded, handshake};

/// What the command line asked for, checked. The output is there even when the rest was refused,
/// so that the error is shown as asked (`--json`).
pub struct Config {
    pub output: Output,
    pub command: Result<Command>,
}

/// One checked value per command.
pub enum Command {
    Connect(Box<Connect>),
    Inspect(Inspect),
    Probe(Probe),
    Listen(Box<Listen>),
    Replay(Box<Replay>),
    Proxy(Box<Proxy>),
    Bench(Box<crate::commands::bench::options::Mode>, Output),
    Completions(clap_complete::Shell),
}

/// `wscope URL` (and the connection `replay` makes).
pub struct Connect {
    pub url: String,
    pub upgrade: crate::handshake::Options,
    /// `--lens` and its options; each connection chooses from its handshake (`crate::lens`).
    pub lens: crate::lens::Config,
    /// The session's options, but for what each connection adds (see [`session`]).
    pub session: crate::session::Options,
    /// `-x` then `--script`, checked.
    pub script: Vec<String>,
    /// The REPL runs (a terminal on both ends, no `--json`, no script without the REPL).
    pub interactive: bool,
    pub stdin: StdinMode,
    pub dump: Dump,
    pub reconnect: Option<crate::reconnect::Max>,
    pub verbose: bool,
    /// REPL history (`--no-history` turns it off).
    pub history: bool,
    /// `--no-coalesce`.
    pub no_coalesce: bool,
    pub output: Output,
}

/// `--dump`, `--dump-limit`, `--dump-file`.
pub struct Dump {
    /// On from the start (`--dump` or `--dump-file`).
    pub on: bool,
    pub limit: usize,
    pub file: Option<PathBuf>,
}

/// `wscope inspect URL`.
pub struct Inspect {
    pub target: Target,
    pub upgrade: crate::handshake::Options,
    pub max_message_size: usize,
    /// `--dump`/`--dump-file`: the frames of inspect's close.
    pub dump: Dump,
    pub output: Output,
}

/// `wscope probe URL`.
pub struct Probe {
    pub target: Target,
    pub upgrade: crate::handshake::Options,
    /// `--only` (all when empty) and `--skip`.
    pub only: Vec<CheckId>,
    pub skip: Vec<CheckId>,
    /// `--probe-max`.
    pub max: usize,
    /// `--probe-rate`, `--probe-idle`, `--probe-conns`: the manners of the limit searches.
    pub rate: f64,
    pub idle: Option<std::time::Duration>,
    pub conns: u32,
    /// `--fingerprint` (or `--only fingerprint`): run the fingerprint check.
    pub fingerprint: bool,
    /// `--sarif FILE`, and the command that reproduces a check (`--only ID` is added to it).
    pub sarif: Option<PathBuf>,
    pub command: String,
    pub output: Output,
}

/// `wscope listen [ADDR:]PORT`.
pub struct Listen {
    pub addr: SocketAddr,
    pub policy: Policy,
    /// `--tls-cert` and `--tls-key` (clap makes them go together).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// `--http2`: RFC 8441 streams beside HTTP/1.1.
    pub http2: bool,
    pub echo: bool,
    pub max_message_size: usize,
    /// Every client's session options, but for what each connection adds.
    pub session: crate::session::Options,
    pub verbose: bool,
    pub dump: bool,
    pub dump_limit: usize,
    pub history: bool,
    /// `--replay FILE`: a mock server.
    pub replay: Option<PathBuf>,
    pub interactive: bool,
    /// Stdin is ours (not a background job's terminal).
    pub reads_stdin: bool,
    pub output: Output,
}

/// `wscope proxy [ADDR:]PORT URL` (see [`proxy`]).
pub struct Proxy {
    pub addr: SocketAddr,
    /// The upstream, checked; each client's path and query are appended unless `fixed_path`.
    pub url: String,
    pub fixed_path: bool,
    /// The upstream hop's upgrade: every connection flag of connect.
    pub upgrade: crate::handshake::Options,
    /// The client hop's accept policy (the subprotocol is the upstream's, set per client).
    pub policy: Policy,
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Both hops' session options (the client hop's role; the upstream hop takes the client's).
    pub session: crate::session::Options,
    pub verbose: bool,
    pub dump: bool,
    pub dump_limit: usize,
    pub map_client: Option<std::sync::Arc<crate::script::matcher::Jq>>,
    pub map_server: Option<std::sync::Arc<crate::script::matcher::Jq>>,
    pub history: bool,
    pub interactive: bool,
    pub reads_stdin: bool,
    pub output: Output,
}

/// `wscope replay FILE [URL]`: the connection to make, before the recording adds to it.
pub struct Replay {
    pub file: PathBuf,
    pub url: Option<String>,
    pub entry: Option<usize>,
    pub list: bool,
    /// Gaps divided by this; None with `--fast`.
    pub speed: Option<f64>,
    pub har_cookies: bool,
    /// The user's options; `url` is empty until the recording says where.
    pub connect: Connect,
    /// Replay's own notes and `--list` (the session then prints as connect does).
    pub output: Output,
}

impl Config {
    /// Check the command line and turn it into the command to run.
    pub fn from_cli(cli: Cli) -> Config {
        match cli.command {
            None => {
                let Cli {
                    url,
                    connect,
                    conn,
                    live,
                    session,
                    output,
                    ..
                } = cli;
                let (out, c) = connect_cfg(url.or(connect), &conn, &live, &session, &output, false);
                Config {
                    output: out,
                    command: c.map(|c| Command::Connect(Box::new(c))),
                }
            }
            Some(Subcommand::Inspect(a)) => Config::one(inspect(&a)),
            Some(Subcommand::Probe(a)) => Config::one(probe(&a)),
            Some(Subcommand::Listen(a)) => {
                let (out, l) = listen(&a);
                Config {
                    output: out,
                    command: l.map(|l| Command::Listen(Box::new(l))),
                }
            }
            Some(Subcommand::Replay(a)) => {
                let (out, r) = replay(&a);
                Config {
                    output: out,
                    command: r.map(|r| Command::Replay(Box::new(r))),
                }
            }
            Some(Subcommand::Proxy(a)) => {
                let (out, p) = proxy::proxy(&a);
                Config {
                    output: out,
                    command: p.map(|p| Command::Proxy(Box::new(p))),
                }
            }
            Some(Subcommand::Bench(a)) => Config::one(bench::bench(&a)),
            Some(Subcommand::Completions { shell }) => Config {
                output: Output::plain(),
                command: Ok(Command::Completions(shell)),
            },
        }
    }

    fn one(made: (Output, Result<Command>)) -> Config {
        Config {
            output: made.0,
            command: made.1,
        }
    }
}

impl Command {
    /// The TLS settings to pin the trust roots for, before any thread exists.
    pub fn tls(&self) -> Option<&TlsSettings> {
        match self {
            Command::Connect(c) => Some(&c.upgrade.tls),
            Command::Inspect(i) => Some(&i.upgrade.tls),
            Command::Probe(p) => Some(&p.upgrade.tls),
            Command::Replay(r) => Some(&r.connect.upgrade.tls),
            Command::Proxy(p) => Some(&p.upgrade.tls),
            Command::Bench(b, _) => match &**b {
                crate::commands::bench::options::Mode::Run(b) => Some(&b.handshake.tls),
                crate::commands::bench::options::Mode::Merge { .. } => None,
            },
            Command::Listen(_) | Command::Completions(_) => None,
        }
    }

    /// The worker threads of the runtime: bench alone uses every core (`--threads`); the rest of
    /// wscope is one thread (None).
    pub fn worker_threads(&self) -> Option<usize> {
        match self {
            Command::Bench(b, _) => match &**b {
                crate::commands::bench::options::Mode::Run(b) => Some(b.threads),
                crate::commands::bench::options::Mode::Merge { .. } => None,
            },
            _ => None,
        }
    }
}

fn inspect(a: &InspectArgs) -> (Output, Result<Command>) {
    let mut output = output::oneshot(a.json, a.color(), true);
    // --json: the one object holds the error.
    output.error_in_report = a.json;
    let checked = Target::parse(&a.url).and_then(|t| Ok((t, handshake(&a.conn)?)));
    let cmd = checked.map(|(target, upgrade)| {
        Command::Inspect(Inspect {
            target,
            upgrade,
            max_message_size: a.conn.max_message_size,
            dump: Dump {
                on: a.dump || a.dump_file.is_some(),
                limit: a.dump_limit,
                file: a.dump_file.clone(),
            },
            output: output.clone(),
        })
    });
    (output, cmd)
}

fn probe(a: &ProbeArgs) -> (Output, Result<Command>) {
    let mut output = output::oneshot(a.json, a.color(), true);
    // --json: the one document holds the error (and probe says it on stderr as text).
    output.error_in_report = a.json;
    let checked = Target::parse(&a.url).and_then(|t| Ok((t, handshake(&a.conn)?)));
    let cmd = checked.and_then(|(target, mut upgrade)| {
        if let Some(c) = &a.cookie {
            let (name, value) = upgrade::parse_header(&format!("Cookie: {c}"), "--cookie")?;
            upgrade.headers.remove(&name);
            upgrade.headers.push(name, value);
        }
        Ok(Command::Probe(Probe {
            target,
            upgrade,
            only: a.only.clone(),
            skip: a.skip.clone(),
            max: a.probe_max,
            rate: a.probe_rate,
            idle: a.probe_idle,
            conns: a.probe_conns,
            fingerprint: a.fingerprint || a.only.contains(&CheckId::Fingerprint),
            sarif: a.sarif.clone(),
            command: probe_command(&a.url),
            output: output.clone(),
        }))
    });
    (output, cmd)
}

/// The command line that reproduces this probe, for `--sarif`: the user's arguments less the
/// ones that choose checks or outputs, with credential values (Cookie, Authorization, --auth,
/// --cookie) replaced by `REDACTED` so a dashboard upload leaks none.
fn probe_command(url: &str) -> String {
    // args_os: an argument that is not UTF-8 is shown lossily, never a panic.
    let argv: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut out = vec!["wscope".to_string()];
    let mut it = argv.iter().peekable();
    let dropped = ["--only", "--skip", "--sarif", "--json", "--color"];
    let secret = ["--auth", "--cookie"];
    while let Some(a) = it.next() {
        let name = a.split('=').next().unwrap_or_default();
        if dropped.contains(&name) || name == "--no-color" {
            if !a.contains('=') && !matches!(name, "--json" | "--no-color") {
                it.next();
            }
            continue;
        }
        if secret.contains(&name) {
            out.push(format!("{name}=REDACTED"));
            if !a.contains('=') {
                it.next();
            }
            continue;
        }
        let credential = |v: &str| {
            let n = v.split(':').next().unwrap_or_default().trim();
            ["cookie", "authorization", "proxy-authorization"]
                .iter()
                .any(|c| n.eq_ignore_ascii_case(c))
        };
        match (name, it.peek()) {
            ("-H" | "--header", Some(v)) if credential(v) => {
                let n = v.split(':').next().unwrap_or_default().to_string();
                out.push(a.clone());
                out.push(format!("{n}: REDACTED"));
                it.next();
            }
            _ => out.push(a.clone()),
        }
    }
    if out.len() == 1 {
        out.extend(["probe".to_string(), url.to_string()]);
    }
    out.iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One argument as a POSIX shell reads it back.
fn shell_quote(a: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c);
    match !a.is_empty() && a.chars().all(plain) {
        true => a.to_string(),
        false => format!("'{}'", a.replace('\'', "'\\''")),
    }
}

/// connect's configuration; `replaying`: the recording gives the script, never the REPL.
/// With -x or --script on a terminal the REPL follows, unless the user said how the session ends:
/// --no-repl, or wscat's `-w`, or `--once`/`--count`/`--idle` (SPEC "Pipe mode and scripting").
fn ends_after_input(session: &SessionArgs) -> bool {
    session.no_repl
        || session.wait.is_some()
        || session.once
        || session.count.is_some()
        || session.idle.is_some()
}

fn connect_cfg(
    url: Option<String>,
    conn: &ConnectArgs,
    live: &LiveArgs,
    session: &SessionArgs,
    out: &OutputArgs,
    replaying: bool,
) -> (Output, Result<Connect>) {
    let stdin_tty = std::io::stdin().is_terminal();
    let scripted = replaying || !session.execute.is_empty() || session.script.is_some();
    let interactive = stdin_tty
        && std::io::stdout().is_terminal()
        && !out.json
        && (!scripted || !(ends_after_input(session) || replaying));
    let style = Style {
        show_ping_pong: out.show_ping_pong,
        binary_raw: session.binary,
        verbose: conn.verbose,
        show_sent: interactive,
        ..Style::default()
    };
    // In the REPL the screen is stdout (rustyline draws there); otherwise diagnostics go to stderr.
    let output = output::streaming(out, style, interactive);
    let checked = (|| {
        let url = match url {
            Some(u) => u,
            None if replaying => String::new(),
            None => return Err(Error::usage("a URL is required")),
        };
        if !replaying {
            // The URL is checked first, as it is read first (connect parses it again to dial).
            crate::target::Target::parse(&url)?;
        }
        let mut upgrade = handshake(conn)?;
        upgrade.dump_h2 = dump_h2(live, &upgrade)?;
        let script = session::script(session)?;
        let lens = lens::lens(live, conn, upgrade.auth.clone())?;
        // A lens command in -x or --script is checked now when --lens names the lens.
        for line in &script.lines {
            crate::lens::check_line(&lens, line).map_err(|e| {
                Error::usage_hint(
                    format!("'{}': {e}", line.escape_debug()),
                    "/help lists the commands of the lens in use; --lens NAME chooses it",
                )
            })?;
        }
        let has_lines = replaying || !script.lines.is_empty();
        Ok(Connect {
            url,
            upgrade,
            lens,
            session: session::client(session, live, conn, interactive, script.expects),
            stdin: session::stdin_mode(session, interactive, has_lines, stdin_tty),
            script: script.lines,
            interactive,
            dump: Dump {
                on: live.dump || live.dump_file.is_some(),
                limit: live.dump_limit,
                file: live.dump_file.clone(),
            },
            reconnect: live.reconnect,
            verbose: conn.verbose,
            history: !session.no_history,
            no_coalesce: conn.no_coalesce,
            output: output.clone(),
        })
    })();
    (output, checked)
}

/// `--dump-h2` shows the HTTP/2 frames beneath a dumped WebSocket: without both, it says nothing.
fn dump_h2(live: &LiveArgs, upgrade: &crate::handshake::Options) -> Result<bool> {
    let dumping = live.dump || live.dump_file.is_some();
    let h2 = upgrade.http2 != crate::handshake::Http2::Off;
    match (live.dump_h2, dumping && h2) {
        (true, false) => Err(Error::usage_hint(
            "--dump-h2 needs --dump and --http2 (or --http2-only)",
            "add --dump --http2, or leave out --dump-h2",
        )),
        (on, _) => Ok(on),
    }
}

fn listen(a: &ListenArgs) -> (Output, Result<Listen>) {
    let reads_stdin = reads_stdin();
    // A REPL when we own a terminal (not as a background job); lines from a pipe otherwise.
    let interactive = std::io::stdin().is_terminal()
        && std::io::stdout().is_terminal()
        && !a.output.json
        && reads_stdin;
    // A test server shows every ping and pong.
    let style = Style {
        show_ping_pong: true,
        ..Style::default()
    };
    let output = output::streaming(&a.output, style, interactive);
    let checked = (|| {
        Ok(Listen {
            addr: parse_addr(&a.addr)?,
            policy: upgrade::listen_policy(a)?,
            tls: a.tls_cert.clone().zip(a.tls_key.clone()),
            http2: a.http2,
            echo: a.echo,
            max_message_size: a.max_message_size,
            session: crate::session::Options {
                lens: lens::listen_lens(a)?,
                ..session::server(a.echo, a.max_message_size)
            },
            verbose: a.verbose,
            dump: a.dump,
            dump_limit: a.dump_limit,
            history: !a.no_history,
            replay: a.replay.clone(),
            interactive,
            reads_stdin,
            output: output.clone(),
        })
    })();
    (output, checked)
}

fn replay(a: &ReplayArgs) -> (Output, Result<Replay>) {
    let (connect_out, connect) = connect_cfg(None, &a.conn, &a.live, &a.session, &a.output, true);
    // Replay's own notes: only the format is the user's.
    let output = output::oneshot(a.output.json, a.output.color(), false);
    let checked = connect.map(|connect| Replay {
        file: a.file.clone(),
        url: a.url.clone(),
        entry: a.entry,
        list: a.list,
        speed: (!a.fast).then_some(a.speed.unwrap_or(1.0)),
        har_cookies: a.har_cookies,
        connect,
        output: output.clone(),
    });
    (connect_out, checked)
}

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

#[cfg(test)]
mod request_tests;
