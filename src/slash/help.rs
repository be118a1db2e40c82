//! The help side of the command language: the table of commands that `/help` prints and Tab
//! completion offers, and the "did you mean" suggestion for a mistyped command. The `/help`
//! screen is rendered in `help_screen`, completion lives in `complete`.

/// One row of the `/help` table; `name` has no leading `/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandHelp {
    pub name: &'static str,
    pub args: &'static str,
    pub summary: &'static str,
    pub example: &'static str,
    pub listen_only: bool,
    /// A script command (`wscope URL` only: -x, --script and its REPL).
    pub client_only: bool,
}

const fn cmd(
    name: &'static str,
    args: &'static str,
    summary: &'static str,
    example: &'static str,
) -> CommandHelp {
    CommandHelp {
        name,
        args,
        summary,
        example,
        listen_only: false,
        client_only: false,
    }
}

/// A command of `listen` only.
const fn listen_cmd(
    name: &'static str,
    args: &'static str,
    summary: &'static str,
    example: &'static str,
) -> CommandHelp {
    let mut c = cmd(name, args, summary, example);
    c.listen_only = true;
    c
}

/// A script command: `wscope URL` only (-x, --script and its REPL).
const fn script_cmd(
    name: &'static str,
    args: &'static str,
    summary: &'static str,
    example: &'static str,
) -> CommandHelp {
    let mut c = cmd(name, args, summary, example);
    c.client_only = true;
    c
}

/// Every command, in `/help` order. `/exit` is an alias of `/quit` and is
/// listed only in `/quit`'s summary, but parsing and completion know it.
pub const COMMANDS: &[CommandHelp] = &[
    cmd(
        "text",
        "[MSG]",
        "send MSG as text, verbatim",
        "/text /not-a-command",
    ),
    cmd(
        "binary",
        "HEX",
        "send hex bytes as binary",
        "/binary 48 65 6c 6c 6f",
    ),
    cmd(
        "base64",
        "B64",
        "send base64 bytes as binary",
        "/base64 SGVsbG8=",
    ),
    cmd(
        "file",
        "[--binary] PATH",
        "send a file (binary if not UTF-8)",
        "/file --binary frame.bin",
    ),
    cmd(
        "ping",
        "[PAYLOAD]",
        "send a ping (at most 125 bytes)",
        "/ping are-you-there",
    ),
    cmd(
        "pong",
        "[PAYLOAD]",
        "send an unsolicited pong",
        "/pong keepalive",
    ),
    cmd(
        "close",
        "[CODE [REASON]]",
        "close the connection (default 1000)",
        "/close away brb",
    ),
    script_cmd(
        "raw",
        "HEX",
        "write bytes to the socket as they are",
        "/raw 89 00",
    ),
    script_cmd(
        "frame",
        "[OPTIONS] PAYLOAD",
        "send one hand-built frame",
        "/frame --opcode ping --fin 0 hi",
    ),
    cmd("dump", "on|off", "show raw frames", "/dump on"),
    cmd(
        "verbose",
        "on|off",
        "show each message's type and sizes, pings and handshakes",
        "/verbose on",
    ),
    cmd(
        "status",
        "",
        "show connection state and counters",
        "/status",
    ),
    script_cmd(
        "expect",
        "[--timeout SECS] REGEX",
        "wait for a message matching REGEX; (?<name>...) sets ${name}",
        "/expect token=(?<token>\\w+)",
    ),
    script_cmd(
        "expect-json",
        "[--timeout SECS] FILTER",
        "wait for a JSON message the jq FILTER finds true",
        "/expect-json .id == 7",
    ),
    script_cmd(
        "let",
        "NAME FILTER",
        "set ${NAME} from the last matched message (jq)",
        "/let user .result.name",
    ),
    script_cmd(
        "expect-close",
        "[CODE]",
        "wait for the server's close (with CODE)",
        "/expect-close 4000",
    ),
    script_cmd(
        "sleep",
        "SECS",
        "wait SECS before the next line",
        "/sleep 0.5",
    ),
    cmd("help", "", "show this table", "/help"),
    cmd("quit", "", "disconnect and exit (alias /exit)", "/quit"),
    listen_cmd(
        "to",
        "ID MSG",
        "send text or a command to client ID",
        "/to 3 /ping hi",
    ),
    listen_cmd("clients", "", "list connected clients", "/clients"),
    listen_cmd(
        "kick",
        "ID [CODE [REASON]]",
        "close client ID's connection",
        "/kick 3 policy spam",
    ),
    listen_cmd(
        "to-server",
        "ID MSG",
        "proxy: send text or a command to client ID's server",
        "/to-server 3 {\"op\":\"ping\"}",
    ),
    listen_cmd(
        "to-client",
        "ID MSG",
        "proxy: send text or a command to client ID",
        "/to-client 3 /ping hi",
    ),
];

/// Alternative spellings: (alias, command it stands for).
pub(super) const ALIASES: &[(&str, &str)] = &[("exit", "quit")];

pub(super) fn usage(name: &str) -> String {
    match COMMANDS.iter().find(|c| c.name == name) {
        Some(c) if c.args.is_empty() => format!("usage: /{}", c.name),
        Some(c) => format!("usage: /{} {}, e.g. {}", c.name, c.args, c.example),
        None => match ALIASES.iter().find(|(alias, _)| *alias == name) {
            Some((_, target)) => usage(target),
            None => "type /help for the list of commands".to_owned(),
        },
    }
}

/// All spellings the parser accepts as a command name.
pub(super) fn command_names() -> impl Iterator<Item = &'static str> {
    COMMANDS
        .iter()
        .map(|c| c.name)
        .chain(ALIASES.iter().map(|(alias, _)| *alias))
}

/// The known command nearest to `name` by edit distance, if it is close
/// enough to be a plausible typo rather than a random guess.
pub(super) fn closest_command(name: &str) -> Option<&'static str> {
    let lower = name.to_lowercase();
    let (best, distance) = command_names()
        // A prefix of a command is an abbreviation, not a typo: it wins.
        .map(|c| {
            (
                c,
                if c.starts_with(&lower) {
                    0
                } else {
                    edit_distance(&lower, c)
                },
            )
        })
        .min_by_key(|(_, d)| *d)?;
    let limit = (lower.chars().count() / 2).max(2);
    (distance <= limit).then_some(best)
}

/// Edit distance over characters where swapping two neighbours costs one
/// edit (optimal string alignment), since transposed letters are the
/// commonest typo.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for (i, row) in d.chunks_exact_mut(width).enumerate() {
        if let Some(first) = row.first_mut() {
            *first = i;
        }
    }
    for (j, cell) in d.iter_mut().take(width).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slash::parse;

    #[test]
    fn edit_distance_counts_a_swap_as_one() {
        assert_eq!(edit_distance("", "ab"), 2);
        assert_eq!(edit_distance("ab", ""), 2);
        assert_eq!(edit_distance("ab", "ba"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn every_listed_command_parses() {
        for c in COMMANDS {
            if c.client_only {
                // Script commands are the script's: script/parse.rs checks their examples.
                continue;
            }
            let parsed = parse(c.example);
            assert!(parsed.is_ok(), "{}: {parsed:?}", c.example);
            assert_eq!(
                parsed.map(|p| p.listen_only()),
                Ok(c.listen_only),
                "{}",
                c.name
            );
        }
    }
}
