//! The session's options from the flags, built here once for connect (and replay) and for
//! listen's clients alike: the engine's `session::Options` with the per-connection parts (the
//! dump switch, what the guard saw, the deflate link, the raw layer) left empty for the command
//! to fill. Also the `-x`/`--script` lines, checked before anything is dialed, and what stdin is.

use std::time::Duration;

use crate::cli::{ConnectArgs, LiveArgs, SessionArgs};
use crate::error::{Error, Result};
use crate::input::StdinMode;
use crate::session::{self, Role, Wait};
use crate::slash::{check_close_code, check_close_reason};

/// The lines to run: the -x ones, then those of --script.
pub struct Script {
    pub lines: Vec<String>,
    /// It has expectations: what arrives before each must be kept for it.
    pub expects: bool,
}

/// connect's session: `interactive` is the REPL, `expects` whether the script waits for anything.
pub fn client(
    session: &SessionArgs,
    live: &LiveArgs,
    conn: &ConnectArgs,
    interactive: bool,
    expects: bool,
) -> session::Options {
    session::Options {
        role: Role::Client,
        // The command's, set for each session (`reconnect::Io`).
        shutdown: crate::shutdown::Shutdown::none(),
        // Pipe mode says what input the peer's close left unsent.
        count_unsent: !interactive,
        wait: session.wait.unwrap_or(Wait::Forever),
        // Silence ends the wait by default, unless -w says how long to wait.
        idle: session
            .idle
            .or_else(|| session.wait.is_none().then_some(Duration::from_secs(2))),
        script: crate::script::Options {
            default_timeout: session.expect_timeout,
            keep: interactive || expects,
            fatal: !interactive,
            cancel: crate::script::Cancel::default(),
        },
        once: session.once,
        count: session.count,
        close_code: session.close_code,
        close_reason: session.close_reason.clone(),
        echo: session.echo,
        ping_interval: live.ping_interval,
        ping_timeout: live.ping_timeout,
        max_message_size: conn.max_message_size,
        dump: None,
        wire: None,
        deflate: None,
        raw: None,
        lens: None,
    }
}

/// A `listen` client's session: the server role, listen's limits, no timers of its own.
pub fn server(echo: bool, max_message_size: usize) -> session::Options {
    session::Options {
        role: Role::Server,
        // listen's hub owns the signals and closes its clients.
        shutdown: crate::shutdown::Shutdown::none(),
        count_unsent: false,
        // A client stays until it or the hub closes it: the hub's input never ends it.
        wait: Wait::Forever,
        idle: None,
        script: crate::script::Options::default(),
        once: false,
        count: None,
        close_code: 1000,
        close_reason: String::new(),
        echo,
        ping_interval: None,
        ping_timeout: None,
        max_message_size,
        dump: None,
        wire: None,
        deflate: None,
        // listen's clients have no raw layer: /raw and /frame are refused there.
        raw: None,
        lens: None,
    }
}

/// What connect reads from stdin: nothing when the REPL or -x/--script give the input or stdin is
/// a terminal, else lines (text or binary) or all of it as one message.
pub fn stdin_mode(
    session: &SessionArgs,
    interactive: bool,
    has_lines: bool,
    tty: bool,
) -> StdinMode {
    if interactive || has_lines || tty {
        StdinMode::Ignore
    } else if session.stdin_whole {
        StdinMode::Whole {
            binary: session.binary,
        }
    } else if session.binary {
        StdinMode::BinaryLines
    } else {
        StdinMode::Lines
    }
}

/// The close we send and `--count`, then the script lines.
pub fn script(session: &SessionArgs) -> Result<Script> {
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

/// `-x` and `--script` commands are parsed before connecting, in order, as they will run: a bad
/// one (a syntax error, a bad regex or jq filter, a variable no earlier line sets) is a usage
/// error naming it, and nothing is sent. (The session parses them again as they run; parsing is
/// pure, so it agrees.)
fn check_scripts(session: &SessionArgs) -> Result<Script> {
    let mut lines = session.execute.clone();
    let mut origins: Vec<String> = session.execute.iter().map(|_| "-x".to_string()).collect();
    if let Some(path) = &session.script {
        let text = crate::script::read_script(path)
            .map_err(|e| Error::usage(format!("--script {}: {e}", path.display())))?;
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
