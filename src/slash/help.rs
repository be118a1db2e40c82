//! The help side of the command language: the table of commands that `/help` prints and Tab
//! completion offers, and the "did you mean" suggestion for a mistyped command.

use std::fmt::Write as _;

use super::split_word;
use crate::wire::close::NAMES as CLOSE_CODE_NAMES;

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
];

/// Alternative spellings: (alias, command it stands for).
const ALIASES: &[(&str, &str)] = &[("exit", "quit")];

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
fn command_names() -> impl Iterator<Item = &'static str> {
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

/// The `/help` text: an aligned table of usage, summary and example, then the
/// rules that are not commands. Listen-only commands appear when `listen`.
pub fn help_text(listen: bool) -> String {
    help_text_for(listen, None)
}

/// [`help_text`] for a screen `width` columns wide: a row that does not fit puts its example on
/// a line of its own under the summary, and long lines wrap at word boundaries.
pub fn help_text_for(listen: bool, width: Option<usize>) -> String {
    let rows: Vec<(String, &CommandHelp)> = COMMANDS
        .iter()
        .filter(|c| {
            if listen {
                !c.client_only
            } else {
                !c.listen_only
            }
        })
        .map(|c| {
            let usage = if c.args.is_empty() {
                format!("/{}", c.name)
            } else {
                format!("/{} {}", c.name, c.args)
            };
            (usage, c)
        })
        .collect();
    let usage_width = rows
        .iter()
        .map(|(u, _)| u.chars().count())
        .max()
        .unwrap_or(0);
    let summary_width = rows
        .iter()
        .map(|(_, c)| c.summary.chars().count())
        .max()
        .unwrap_or(0);
    let width = width.unwrap_or(usize::MAX).max(20);
    let mut out = String::from("Commands:\n");
    for (usage, c) in &rows {
        let line = format!(
            "  {usage:<usage_width$}  {:<summary_width$}  e.g. {}",
            c.summary, c.example
        );
        let line = line.trim_end();
        if line.chars().count() <= width {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        // Too wide: the summary (wrapped) beside the usage, the example under the summary; on a
        // screen too narrow for that, the usage alone and the rest indented under it.
        let beside = 2 + usage_width + 2;
        let indent = if width >= beside + 24 { beside } else { 4 };
        let mut body = wrap_words(c.summary, width.saturating_sub(indent));
        body.push(format!("e.g. {}", c.example));
        if indent == beside {
            let first = body.remove(0);
            let _ = writeln!(out, "  {usage:<usage_width$}  {first}");
        } else {
            let _ = writeln!(out, "  {usage}");
        }
        for l in body {
            let _ = writeln!(out, "{:indent$}{l}", "");
        }
    }
    let mut rules = vec![
        "A line not starting with / is sent as a text message, exactly as typed.",
        "Start a line with // to send text beginning with / (//x sends /x).",
    ];
    if !listen {
        rules.push("${NAME} in a line is replaced by a variable, ${env:VAR} by the environment; $${ is ${.");
        rules.push("An /expect holds the lines after it until it is met (Ctrl-C stops waiting).");
    }
    rules.push("Close codes: 1000-1003, 1007-1014, 3000-4999, or a name:");
    out.push('\n');
    for rule in rules {
        for (i, l) in wrap_words(rule, width.saturating_sub(2)).iter().enumerate() {
            let _ = writeln!(out, "{}{l}", if i > 0 { "  " } else { "" });
        }
    }
    // Wrap by hand so the list stays readable in an 80-column terminal.
    let mut row = String::new();
    let limit = width.min(80).saturating_sub(2);
    for (name, code) in CLOSE_CODE_NAMES {
        let item = format!("{name} ({code})");
        if !row.is_empty() && row.len() + item.len() + 2 > limit {
            let _ = writeln!(out, "  {row}");
            row.clear();
        }
        if !row.is_empty() {
            row.push_str(", ");
        }
        row.push_str(&item);
    }
    let _ = writeln!(out, "  {row}");
    out
}

/// `text` in lines of at most `width` columns, broken between words (a longer word stands alone).
fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let fits = line.chars().count() + 1 + word.chars().count() <= width;
        if !line.is_empty() && !fits {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

/// Tab completion for the text before byte offset `pos`: command names after
/// a leading `/`, close codes after `/close` and `/kick ID`, `on`/`off` after
/// `/dump` and `/verbose`, `--binary` after `/file`, and the inner line of
/// `/to ID`. Returns the byte offset where the completed word starts and the
/// candidates that replace it (command names include their `/`), sorted.
/// Listen-only commands are always offered; filter them with [`COMMANDS`]
/// when not listening.
pub fn complete(line: &str, pos: usize) -> (usize, Vec<String>) {
    // Clamp rather than trust pos: it comes from the line editor, and a
    // mid-character offset must not panic.
    let mut pos = pos.min(line.len());
    while !line.is_char_boundary(pos) {
        pos -= 1;
    }
    let before = line.get(..pos).unwrap_or("");
    complete_in(before, false)
}

fn complete_in(before: &str, nested: bool) -> (usize, Vec<String>) {
    let none = (before.len(), Vec::new());
    let Some(rest) = before.strip_prefix('/') else {
        return none;
    };
    if rest.starts_with('/') {
        return none;
    }
    let Some(name_end) = rest.find(char::is_whitespace) else {
        let mut names: Vec<String> = command_names()
            .filter(|n| n.starts_with(rest))
            .filter(|n| !nested || is_message_command(n))
            .map(|n| format!("/{n}"))
            .collect();
        if names.is_empty() {
            return none;
        }
        names.sort();
        return (0, names);
    };
    let name = &rest[..name_end];
    if nested && !is_message_command(name) {
        return none;
    }
    let word_start = before
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace())
        .map_or(0, |(i, c)| i + c.len_utf8());
    let word = before.get(word_start..).unwrap_or("");
    let args_before = before
        .get(1 + name_end..word_start)
        .unwrap_or("")
        .split_whitespace()
        .count();
    let mut candidates: Vec<String> = match (name, args_before) {
        ("close", 0) | ("kick", 1) => close_code_candidates(word),
        ("dump" | "verbose", 0) => ["off", "on"]
            .iter()
            .filter(|s| s.starts_with(word))
            .map(|s| (*s).to_owned())
            .collect(),
        ("file", 0) if word.starts_with('-') && "--binary".starts_with(word) => {
            vec!["--binary".to_owned()]
        }
        ("to", 1..) if !nested => {
            // Offer completions for the inner line as if it stood alone.
            let after_name = &rest[name_end..];
            let (_, inner) = split_word(after_name.trim_start());
            let inner = inner.trim_start();
            let offset = before.len() - inner.len();
            let (start, candidates) = complete_in(inner, true);
            return (offset + start, candidates);
        }
        _ => Vec::new(),
    };
    if candidates.is_empty() {
        return none;
    }
    candidates.sort();
    (word_start, candidates)
}

fn is_message_command(name: &str) -> bool {
    matches!(
        name,
        "text" | "binary" | "base64" | "file" | "ping" | "pong" | "close"
    )
}

fn close_code_candidates(word: &str) -> Vec<String> {
    if word.starts_with(|c: char| c.is_ascii_digit()) {
        CLOSE_CODE_NAMES
            .iter()
            .map(|(_, code)| code.to_string())
            .filter(|code| code.starts_with(word))
            .collect()
    } else {
        CLOSE_CODE_NAMES
            .iter()
            .filter(|(name, _)| name.starts_with(word))
            .map(|(name, _)| (*name).to_owned())
            .collect()
    }
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

    #[test]
    fn help_lists_commands_aligned() {
        let client = help_text(false);
        let listen = help_text(true);
        for c in COMMANDS {
            let row = format!("  /{} ", c.name);
            assert_eq!(listen.contains(&row), !c.client_only, "{}", c.name);
            assert_eq!(client.contains(&row), !c.listen_only, "{}", c.name);
            let shown = if c.client_only { &client } else { &listen };
            assert!(shown.contains(c.example), "{}", c.example);
        }
        // Summaries start in the same column on every row.
        let columns: Vec<usize> = listen
            .lines()
            .filter(|l| l.starts_with("  /"))
            .filter_map(|l| l.find("e.g. ").map(|b| l[..b].chars().count()))
            .collect();
        assert_eq!(
            columns.len(),
            COMMANDS.iter().filter(|c| !c.client_only).count()
        );
        assert!(columns.windows(2).all(|w| w[0] == w[1]));
        assert!(listen.contains("bad-gateway (1014)"));
        assert!(listen.contains("//x sends /x"));
    }

    #[test]
    fn complete_command_names() {
        let all = complete("/", 1);
        assert_eq!(all.0, 0);
        assert_eq!(all.1.len(), COMMANDS.len() + ALIASES.len());
        assert_eq!(
            complete("/cl", 3),
            (0, vec!["/clients".into(), "/close".into()])
        );
        assert_eq!(
            complete("/e", 2),
            (
                0,
                vec![
                    "/exit".into(),
                    "/expect".into(),
                    "/expect-close".into(),
                    "/expect-json".into()
                ]
            )
        );
        assert_eq!(complete("/p", 2), (0, vec!["/ping".into(), "/pong".into()]));
        // Only the part before the cursor counts.
        assert_eq!(
            complete("/pingxyz", 2),
            (0, vec!["/ping".into(), "/pong".into()])
        );
        assert_eq!(complete("/q", 99), (0, vec!["/quit".into()]));
        assert_eq!(complete("/zz", 3), (3, vec![]));
        assert_eq!(complete("hello", 5), (5, vec![]));
        assert_eq!(complete("//cl", 4), (4, vec![]));
        assert_eq!(complete("", 0), (0, vec![]));
    }

    #[test]
    fn complete_arguments() {
        assert_eq!(complete("/close ", 7).1.len(), CLOSE_CODE_NAMES.len());
        assert_eq!(
            complete("/close t", 8),
            (7, vec!["too-big".into(), "try-again".into()])
        );
        assert_eq!(
            complete("/close 100", 10),
            (
                7,
                vec![
                    "1000".into(),
                    "1001".into(),
                    "1002".into(),
                    "1003".into(),
                    "1007".into(),
                    "1008".into(),
                    "1009".into()
                ]
            )
        );
        assert_eq!(complete("/close 101", 10).1.len(), 5);
        assert_eq!(complete("/close away b", 13), (13, vec![]));
        assert_eq!(
            complete("/kick 3 p", 9),
            (8, vec!["policy".into(), "protocol".into()])
        );
        assert_eq!(complete("/kick 3", 7), (7, vec![]));
        assert_eq!(complete("/dump ", 6), (6, vec!["off".into(), "on".into()]));
        assert_eq!(
            complete("/verbose o", 10),
            (9, vec!["off".into(), "on".into()])
        );
        assert_eq!(complete("/verbose of", 11), (9, vec!["off".into()]));
        assert_eq!(complete("/file --b", 9), (6, vec!["--binary".into()]));
        assert_eq!(complete("/file a", 7), (7, vec![]));
        assert_eq!(complete("/status ", 8), (8, vec![]));
    }

    #[test]
    fn complete_inside_to() {
        assert_eq!(
            complete("/to 3 /p", 8),
            (6, vec!["/ping".into(), "/pong".into()])
        );
        // Only messages make sense inside /to.
        assert_eq!(complete("/to 3 /c", 8), (6, vec!["/close".into()]));
        assert_eq!(complete("/to 3 /close a", 14), (13, vec!["away".into()]));
        assert_eq!(complete("/to  3   /dump ", 15), (15, vec![]));
        assert_eq!(complete("/to 3 /to 4 /p", 14), (14, vec![]));
        assert_eq!(complete("/t", 2), (0, vec!["/text".into(), "/to".into()]));
    }

    #[test]
    fn complete_never_panics_on_odd_positions() {
        // "é" is two bytes; offset 5 falls inside it.
        assert_eq!(complete("/to é", 5), (4, vec![]));
        assert_eq!(
            complete("/clé", 4),
            (0, vec!["/clients".into(), "/close".into()])
        );
        for line in ["/close é", "/to 3 /é", "é/", "/ é"] {
            for pos in 0..=line.len() + 1 {
                let (start, _) = complete(line, pos);
                assert!(start <= line.len());
            }
        }
    }

    #[test]
    fn help_wraps_to_the_width_it_is_given() {
        for listen in [false, true] {
            let wide = help_text(listen);
            assert!(wide.lines().any(|l| l.chars().count() > 100), "{wide}");
            for width in [40, 60, 80, 100] {
                let text = help_text_for(listen, Some(width));
                for line in text.lines() {
                    assert!(line.chars().count() <= width, "{width}: {line:?}\n{text}");
                }
                for c in COMMANDS
                    .iter()
                    .filter(|c| c.listen_only == listen || !(c.listen_only || c.client_only))
                {
                    assert!(
                        text.contains(c.example),
                        "{width}: {} missing\n{text}",
                        c.example
                    );
                }
            }
        }
    }
}
