//! The line-oriented command language shared by scripted sends (`-x MSG`),
//! the interactive REPL and the `listen` server's REPL: it turns one line of
//! user input into a [`Command`], refuses anything that would put an illegal
//! frame on the wire (with an error naming the rule and a usage hint), and
//! supplies the `/help` table and Tab completion. It is pure: no I/O happens
//! here, so `/file` only yields the path and reading it is the caller's job.

use std::fmt::Write as _;
use std::path::PathBuf;

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{DecodeError, Engine as _};

/// What one line of input asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// An empty line: the REPL ignores it rather than sending an empty message.
    Nothing,
    Text(String),
    Binary(Vec<u8>),
    /// Send a file's contents: as text if it is valid UTF-8, unless `force_binary`.
    File {
        path: PathBuf,
        force_binary: bool,
    },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close {
        code: u16,
        reason: String,
    },
    Dump(bool),
    Verbose(bool),
    Status,
    Help,
    Quit,
    /// `listen` only: send `command` (a message, ping, pong or close) to one client.
    To {
        client: u64,
        command: Box<Command>,
    },
    /// `listen` only.
    Clients,
    /// `listen` only.
    Kick {
        client: u64,
        code: u16,
        reason: String,
    },
}

impl Command {
    /// True for commands that only make sense in the `listen` server's REPL;
    /// [`parse`] accepts them everywhere so the client REPL can refuse them
    /// with its own wording.
    pub fn listen_only(&self) -> bool {
        matches!(
            self,
            Command::To { .. } | Command::Clients | Command::Kick { .. }
        )
    }

    fn name(&self) -> &'static str {
        match self {
            Command::Nothing => "",
            Command::Text(_) => "text",
            Command::Binary(_) => "binary",
            Command::File { .. } => "file",
            Command::Ping(_) => "ping",
            Command::Pong(_) => "pong",
            Command::Close { .. } => "close",
            Command::Dump(_) => "dump",
            Command::Verbose(_) => "verbose",
            Command::Status => "status",
            Command::Help => "help",
            Command::Quit => "quit",
            Command::To { .. } => "to",
            Command::Clients => "clients",
            Command::Kick { .. } => "kick",
        }
    }
}

/// Why a line was refused. Each message names the rule that was broken;
/// [`CommandError::hint`] adds what to type instead.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum CommandError {
    #[error("'/' alone is not a command")]
    EmptyCommand,
    #[error("unknown command /{name}")]
    UnknownCommand {
        name: String,
        suggestion: Option<&'static str>,
    },
    #[error("/{command} needs {what}")]
    MissingArgument {
        command: &'static str,
        what: &'static str,
    },
    #[error("/{command} takes no arguments, but got '{given}'")]
    UnexpectedArgument {
        command: &'static str,
        given: String,
    },
    #[error("/{command} takes on or off, not '{given}'")]
    BadSwitch {
        command: &'static str,
        given: String,
    },
    #[error("unknown /file option '{given}'; the only option is --binary")]
    UnknownFileOption { given: String },
    #[error("invalid hex digit {found:?} at position {position} of the hex argument")]
    InvalidHexDigit { found: char, position: usize },
    #[error("hex argument has {count} digits; an odd count cannot form whole bytes")]
    OddHexDigits { count: usize },
    #[error("invalid base64: {problem}")]
    InvalidBase64 { problem: String },
    #[error("{frame} payload is {len} bytes; control frames carry at most 125 (RFC 6455 §5.5)")]
    ControlPayloadTooLong { frame: &'static str, len: usize },
    #[error("close code '{given}' is neither a number from 1000 to 4999 nor a close code name")]
    BadCloseCode { given: String },
    #[error("{}", close_code_refusal(*code))]
    CloseCodeRefused { code: u16 },
    #[error("close reason is {len} bytes; at most {MAX_CLOSE_REASON} fit in a close frame")]
    CloseReasonTooLong { len: usize },
    #[error("client ID '{given}' is not a number")]
    BadClientId { given: String },
    #[error("/to cannot be nested: the message after /to ID already goes to one client")]
    NestedTo,
    #[error("/to carries a message to one client, but /{command} is not a message")]
    NotAMessage { command: &'static str },
}

const CLOSE_USAGE: &str = "usage: /close [CODE [REASON]], CODE 1000-1003, 1007-1014 or 3000-4999";

impl CommandError {
    /// What the user could type instead, for display under the error.
    pub fn hint(&self) -> Option<String> {
        let hint = match self {
            CommandError::EmptyCommand => {
                "type /help for the list of commands, or start the line with // to send text beginning with /".to_owned()
            }
            CommandError::UnknownCommand {
                suggestion: Some(s),
                ..
            } => format!("did you mean /{s}? type /help for the list of commands"),
            CommandError::UnknownCommand { .. } => "type /help for the list of commands".to_owned(),
            CommandError::MissingArgument { command, .. }
            | CommandError::UnexpectedArgument { command, .. }
            | CommandError::BadSwitch { command, .. } => usage(command),
            CommandError::UnknownFileOption { .. } => usage("file"),
            CommandError::InvalidHexDigit { .. } | CommandError::OddHexDigits { .. } => {
                "usage: /binary HEX, two digits per byte, spaces and 0x prefixes allowed, e.g. /binary 48 65 0x6c 6c6f".to_owned()
            }
            CommandError::InvalidBase64 { .. } => {
                "usage: /base64 B64, standard alphabet (A-Z a-z 0-9 + /), padding optional, e.g. /base64 SGVsbG8".to_owned()
            }
            CommandError::ControlPayloadTooLong { .. } => {
                "send larger payloads as a /text or /binary message".to_owned()
            }
            CommandError::BadCloseCode { .. } => {
                let names: Vec<&str> = CLOSE_CODE_NAMES.iter().map(|(n, _)| *n).collect();
                format!("{CLOSE_USAGE}, or a name: {}", names.join(", "))
            }
            CommandError::CloseCodeRefused { .. } => CLOSE_USAGE.to_owned(),
            CommandError::CloseReasonTooLong { .. } => {
                "shorten the reason; it is sent as UTF-8, so non-ASCII characters take 2-4 bytes each".to_owned()
            }
            CommandError::BadClientId { .. } => {
                "client IDs are the numbers shown by /clients, e.g. /to 3 hello".to_owned()
            }
            CommandError::NestedTo | CommandError::NotAMessage { .. } => format!(
                "{}; MSG is text or one of /text, /binary, /base64, /file, /ping, /pong, /close",
                usage("to")
            ),
        };
        Some(hint)
    }
}

/// One row of the `/help` table; `name` has no leading `/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandHelp {
    pub name: &'static str,
    pub args: &'static str,
    pub summary: &'static str,
    pub example: &'static str,
    pub listen_only: bool,
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
    }
}

const fn listen_cmd(
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
        listen_only: true,
    }
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
    cmd("dump", "on|off", "show raw frames", "/dump on"),
    cmd(
        "verbose",
        "on|off",
        "show control frames and events",
        "/verbose off",
    ),
    cmd(
        "status",
        "",
        "show connection state and counters",
        "/status",
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

/// Close codes by name, accepted wherever a close code is, and offered by
/// Tab completion. Only codes that may be sent are named.
pub const CLOSE_CODE_NAMES: &[(&str, u16)] = &[
    ("normal", 1000),
    ("away", 1001),
    ("protocol", 1002),
    ("unsupported", 1003),
    ("invalid", 1007),
    ("policy", 1008),
    ("too-big", 1009),
    ("extension", 1010),
    ("internal", 1011),
    ("restart", 1012),
    ("try-again", 1013),
    ("bad-gateway", 1014),
];

/// Control frames carry at most 125 payload bytes (RFC 6455 §5.5).
const MAX_CONTROL_PAYLOAD: usize = 125;
/// The close payload's first two bytes are the code, leaving 123 for the reason.
const MAX_CLOSE_REASON: usize = MAX_CONTROL_PAYLOAD - 2;

/// Accepts the codes an endpoint may put in a close frame. 1014 is allowed on
/// purpose: IANA registered it ("bad gateway") after RFC 6455, even though
/// some libraries (tungstenite's `is_allowed`) still refuse it.
pub fn check_close_code(code: u16) -> Result<(), CommandError> {
    match code {
        1000..=1003 | 1007..=1014 | 3000..=4999 => Ok(()),
        _ => Err(CommandError::CloseCodeRefused { code }),
    }
}

/// Refuses reasons that would not fit in a close frame next to the code.
pub fn check_close_reason(reason: &str) -> Result<(), CommandError> {
    if reason.len() > MAX_CLOSE_REASON {
        return Err(CommandError::CloseReasonTooLong { len: reason.len() });
    }
    Ok(())
}

fn close_code_refusal(code: u16) -> String {
    let never_sent = |what: &str| {
        format!(
            "close code {code} ({what}) is reserved: it must never be sent on the wire (RFC 6455 §7.4.1)"
        )
    };
    match code {
        0..=999 => format!("close code {code} is not allowed: codes 0-999 are unused (RFC 6455 §7.4.2)"),
        1004 => "close code 1004 is reserved: its meaning is undefined, so it must not be sent (RFC 6455 §7.4.1)".to_owned(),
        1005 => never_sent("no status received"),
        1006 => never_sent("abnormal closure"),
        1015 => never_sent("TLS handshake failure"),
        1016..=2999 => format!(
            "close code {code} is unassigned: 1000-2999 are reserved for the WebSocket protocol and its extensions (RFC 6455 §7.4.2)"
        ),
        5000.. => format!(
            "close code {code} is out of range: the highest usable code is 4999 (RFC 6455 §7.4.2)"
        ),
        _ => format!("close code {code} is allowed"),
    }
}

/// Parses one line with REPL semantics: an empty line is [`Command::Nothing`].
/// Callers that must send something even for empty input (`-x ''`) should map
/// `Nothing` to `Text(String::new())`, which is what `/text` with no argument
/// gives too. Only a completely empty line is `Nothing`: whitespace is text.
pub fn parse(line: &str) -> Result<Command, CommandError> {
    if line.is_empty() {
        return Ok(Command::Nothing);
    }
    let Some(rest) = line.strip_prefix('/') else {
        return Ok(Command::Text(line.to_owned()));
    };
    if rest.starts_with('/') {
        return Ok(Command::Text(rest.to_owned()));
    }
    let (name, raw_arg) = split_word(rest);
    let arg = raw_arg.trim();
    match name {
        "" => Err(CommandError::EmptyCommand),
        // The argument is everything after the one separating space, so
        // leading and trailing whitespace can be sent deliberately.
        "text" => Ok(Command::Text(raw_arg.to_owned())),
        "binary" => parse_hex(arg).map(Command::Binary),
        "base64" => parse_base64(arg).map(Command::Binary),
        "file" => parse_file(arg),
        "ping" => control_payload("ping", arg).map(Command::Ping),
        "pong" => control_payload("pong", arg).map(Command::Pong),
        "close" => {
            let (code, reason) = parse_close_args(arg)?;
            Ok(Command::Close { code, reason })
        }
        "dump" => parse_switch("dump", arg).map(Command::Dump),
        "verbose" => parse_switch("verbose", arg).map(Command::Verbose),
        "status" => no_args("status", arg, Command::Status),
        // Arguments are ignored because the table already shows everything,
        // and "/help close" deserves help rather than an error.
        "help" => Ok(Command::Help),
        "quit" => no_args("quit", arg, Command::Quit),
        "exit" => no_args("exit", arg, Command::Quit),
        "to" => parse_to(raw_arg),
        "clients" => no_args("clients", arg, Command::Clients),
        "kick" => parse_kick(arg),
        _ => Err(CommandError::UnknownCommand {
            name: name.to_owned(),
            suggestion: closest_command(name),
        }),
    }
}

/// Splits off the first whitespace-delimited word; the remainder starts after
/// exactly one whitespace character.
fn split_word(s: &str) -> (&str, &str) {
    match s.char_indices().find(|(_, c)| c.is_whitespace()) {
        Some((i, c)) => (&s[..i], &s[i + c.len_utf8()..]),
        None => (s, ""),
    }
}

fn no_args(command: &'static str, arg: &str, cmd: Command) -> Result<Command, CommandError> {
    if arg.is_empty() {
        Ok(cmd)
    } else {
        Err(CommandError::UnexpectedArgument {
            command,
            given: arg.to_owned(),
        })
    }
}

fn parse_switch(command: &'static str, arg: &str) -> Result<bool, CommandError> {
    match arg {
        "on" => Ok(true),
        "off" => Ok(false),
        "" => Err(CommandError::MissingArgument {
            command,
            what: "on or off",
        }),
        _ => Err(CommandError::BadSwitch {
            command,
            given: arg.to_owned(),
        }),
    }
}

/// Hex digits two per byte; whitespace anywhere is ignored and each
/// whitespace-separated group may start with `0x`, so dumps from most tools
/// paste straight in. Positions in errors are 1-based characters of `arg`.
fn parse_hex(arg: &str) -> Result<Vec<u8>, CommandError> {
    let mut nibbles = Vec::with_capacity(arg.len());
    let mut group_start = true;
    let mut chars = arg.chars().enumerate().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_whitespace() {
            group_start = true;
            continue;
        }
        if group_start && c == '0' && matches!(chars.peek(), Some((_, 'x' | 'X'))) {
            chars.next();
            group_start = false;
            continue;
        }
        group_start = false;
        match c.to_digit(16) {
            // to_digit(16) is below 16, so the cast cannot truncate.
            Some(d) => nibbles.push(d as u8),
            None => {
                return Err(CommandError::InvalidHexDigit {
                    found: c,
                    position: i + 1,
                })
            }
        }
    }
    if nibbles.len() % 2 != 0 {
        return Err(CommandError::OddHexDigits {
            count: nibbles.len(),
        });
    }
    Ok(nibbles.chunks_exact(2).map(|p| p[0] << 4 | p[1]).collect())
}

/// Standard-alphabet base64 with optional padding. Whitespace is ignored
/// because pasted base64 is often wrapped. Positions are 1-based characters of `arg`.
fn parse_base64(arg: &str) -> Result<Vec<u8>, CommandError> {
    // Screen characters ourselves so the error can name them by position in
    // what the user typed, not by offset in the whitespace-stripped text.
    let mut compact = String::with_capacity(arg.len());
    let mut positions = Vec::with_capacity(arg.len());
    for (i, c) in arg.chars().enumerate() {
        if c.is_whitespace() {
            continue;
        }
        if !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')) {
            let mut problem = format!(
                "character {c:?} at position {} is not in the base64 alphabet",
                i + 1
            );
            if matches!(c, '-' | '_') {
                problem.push_str(" (that is base64url; use + and / instead of - and _)");
            }
            return Err(CommandError::InvalidBase64 { problem });
        }
        compact.push(c);
        positions.push(i + 1);
    }
    let position = |offset: usize| positions.get(offset).copied().unwrap_or(offset + 1);
    let engine = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    engine.decode(&compact).map_err(|e| {
        let problem = match e {
            DecodeError::InvalidByte(offset, b'=') => format!(
                "padding '=' at position {} is not at the end",
                position(offset)
            ),
            DecodeError::InvalidByte(offset, byte) => format!(
                "character {:?} at position {} is not valid here",
                char::from(byte),
                position(offset)
            ),
            DecodeError::InvalidLength(len) => format!(
                "length {len} is impossible: a last group of one character holds no whole byte, so the text is probably truncated"
            ),
            DecodeError::InvalidLastSymbol(offset, byte) => format!(
                "last character {:?} at position {} has bits left over; the text is probably truncated",
                char::from(byte),
                position(offset)
            ),
            DecodeError::InvalidPadding => "the amount of '=' padding is wrong".to_owned(),
        };
        CommandError::InvalidBase64 { problem }
    })
}

fn parse_file(arg: &str) -> Result<Command, CommandError> {
    let missing = CommandError::MissingArgument {
        command: "file",
        what: "a PATH",
    };
    let (first, rest) = split_word(arg);
    // "--" lets a path that starts with "--" through.
    let (force_binary, path) = match first {
        "--binary" => (true, rest.trim()),
        "--" => (false, rest.trim()),
        _ if first.starts_with("--") => {
            return Err(CommandError::UnknownFileOption {
                given: first.to_owned(),
            })
        }
        _ => (false, arg),
    };
    let (force_binary, path) = match (force_binary, split_word(path)) {
        (true, ("--", rest)) => (true, rest.trim()),
        _ => (force_binary, path),
    };
    if path.is_empty() {
        return Err(missing);
    }
    Ok(Command::File {
        path: PathBuf::from(path),
        force_binary,
    })
}

fn control_payload(frame: &'static str, arg: &str) -> Result<Vec<u8>, CommandError> {
    if arg.len() > MAX_CONTROL_PAYLOAD {
        return Err(CommandError::ControlPayloadTooLong {
            frame,
            len: arg.len(),
        });
    }
    Ok(arg.as_bytes().to_vec())
}

fn parse_close_code(word: &str) -> Result<u16, CommandError> {
    let code = if !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit()) {
        word.parse::<u16>()
            .map_err(|_| CommandError::BadCloseCode {
                given: word.to_owned(),
            })?
    } else {
        CLOSE_CODE_NAMES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(word))
            .map(|(_, code)| *code)
            .ok_or_else(|| CommandError::BadCloseCode {
                given: word.to_owned(),
            })?
    };
    check_close_code(code)?;
    Ok(code)
}

fn parse_close_args(arg: &str) -> Result<(u16, String), CommandError> {
    if arg.is_empty() {
        return Ok((1000, String::new()));
    }
    let (word, reason) = split_word(arg);
    let code = parse_close_code(word)?;
    let reason = reason.trim();
    check_close_reason(reason)?;
    Ok((code, reason.to_owned()))
}

fn parse_client_id(word: &str) -> Result<u64, CommandError> {
    // Client lists may show IDs as "#3", so accept that spelling too.
    let digits = word.strip_prefix('#').unwrap_or(word);
    digits.parse().map_err(|_| CommandError::BadClientId {
        given: word.to_owned(),
    })
}

fn parse_to(raw_arg: &str) -> Result<Command, CommandError> {
    let (id, inner) = split_word(raw_arg.trim_start());
    if id.is_empty() {
        return Err(CommandError::MissingArgument {
            command: "to",
            what: "a client ID and a message",
        });
    }
    let client = parse_client_id(id)?;
    // Leading blanks separate ID from MSG; the rest is a line in its own
    // right, so trailing whitespace of a text message survives.
    let inner = inner.trim_start();
    if inner.is_empty() {
        return Err(CommandError::MissingArgument {
            command: "to",
            what: "a message after the client ID",
        });
    }
    let command = match parse(inner)? {
        Command::To { .. } => return Err(CommandError::NestedTo),
        c @ (Command::Text(_)
        | Command::Binary(_)
        | Command::File { .. }
        | Command::Ping(_)
        | Command::Pong(_)
        | Command::Close { .. }) => c,
        other => {
            return Err(CommandError::NotAMessage {
                command: other.name(),
            })
        }
    };
    Ok(Command::To {
        client,
        command: Box::new(command),
    })
}

fn parse_kick(arg: &str) -> Result<Command, CommandError> {
    let (id, rest) = split_word(arg);
    if id.is_empty() {
        return Err(CommandError::MissingArgument {
            command: "kick",
            what: "a client ID",
        });
    }
    let client = parse_client_id(id)?;
    let (code, reason) = parse_close_args(rest.trim())?;
    Ok(Command::Kick {
        client,
        code,
        reason,
    })
}

fn usage(name: &str) -> String {
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
fn closest_command(name: &str) -> Option<&'static str> {
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
    let rows: Vec<(String, &CommandHelp)> = COMMANDS
        .iter()
        .filter(|c| listen || !c.listen_only)
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
    let mut out = String::from("Commands:\n");
    for (usage, c) in &rows {
        let line = format!(
            "  {usage:<usage_width$}  {:<summary_width$}  e.g. {}",
            c.summary, c.example
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.push_str("\nA line not starting with / is sent as a text message, exactly as typed.\n");
    out.push_str("Start a line with // to send text beginning with / (//x sends /x).\n");
    out.push_str("Close codes: 1000-1003, 1007-1014, 3000-4999, or a name:\n");
    // Wrap by hand so the list stays readable in an 80-column terminal.
    let mut row = String::new();
    for (name, code) in CLOSE_CODE_NAMES {
        let item = format!("{name} ({code})");
        if !row.is_empty() && row.len() + item.len() + 2 > 78 {
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

    fn err(line: &str) -> CommandError {
        match parse(line) {
            Err(e) => e,
            Ok(c) => panic!("{line:?} parsed as {c:?}"),
        }
    }

    fn close(code: u16, reason: &str) -> Command {
        Command::Close {
            code,
            reason: reason.to_owned(),
        }
    }

    #[test]
    fn plain_lines_are_text_verbatim() {
        assert_eq!(parse(""), Ok(Command::Nothing));
        assert_eq!(parse("hello"), Ok(Command::Text("hello".into())));
        assert_eq!(parse("  padded  "), Ok(Command::Text("  padded  ".into())));
        assert_eq!(parse(" /ping"), Ok(Command::Text(" /ping".into())));
        assert_eq!(parse("{\"a\":1}"), Ok(Command::Text("{\"a\":1}".into())));
    }

    #[test]
    fn double_slash_sends_the_line_minus_one_slash() {
        assert_eq!(parse("//x"), Ok(Command::Text("/x".into())));
        assert_eq!(parse("//text hi"), Ok(Command::Text("/text hi".into())));
        assert_eq!(parse("//"), Ok(Command::Text("/".into())));
        assert_eq!(parse("///"), Ok(Command::Text("//".into())));
    }

    #[test]
    fn text_keeps_everything_after_one_separator() {
        assert_eq!(parse("/text"), Ok(Command::Text(String::new())));
        assert_eq!(parse("/text "), Ok(Command::Text(String::new())));
        assert_eq!(
            parse("/text hi there"),
            Ok(Command::Text("hi there".into()))
        );
        assert_eq!(parse("/text  two "), Ok(Command::Text(" two ".into())));
        assert_eq!(parse("/text /quit"), Ok(Command::Text("/quit".into())));
    }

    #[test]
    fn binary_hex() {
        assert_eq!(
            parse("/binary 00 ff 10"),
            Ok(Command::Binary(vec![0, 255, 16]))
        );
        assert_eq!(
            parse("/binary 00ff10"),
            Ok(Command::Binary(vec![0, 255, 16]))
        );
        assert_eq!(parse("/binary 0 0f f"), Ok(Command::Binary(vec![0, 255])));
        assert_eq!(
            parse("/binary 0x48 0X65 0x6c6c"),
            Ok(Command::Binary(vec![0x48, 0x65, 0x6c, 0x6c]))
        );
        assert_eq!(
            parse("/binary DEADbeef"),
            Ok(Command::Binary(vec![0xde, 0xad, 0xbe, 0xef]))
        );
        assert_eq!(parse("/binary"), Ok(Command::Binary(vec![])));
        assert_eq!(parse("/binary   "), Ok(Command::Binary(vec![])));
    }

    #[test]
    fn binary_refusals_name_the_problem() {
        let e = err("/binary zz");
        assert_eq!(
            e,
            CommandError::InvalidHexDigit {
                found: 'z',
                position: 1
            }
        );
        assert_eq!(
            e.to_string(),
            "invalid hex digit 'z' at position 1 of the hex argument"
        );
        assert!(e.hint().is_some_and(|h| h.contains("/binary HEX")));

        assert_eq!(
            err("/binary 00 1g"),
            CommandError::InvalidHexDigit {
                found: 'g',
                position: 5
            }
        );
        // An "x" is only a prefix right after a leading 0 of a group.
        assert_eq!(
            err("/binary 00x1"),
            CommandError::InvalidHexDigit {
                found: 'x',
                position: 3
            }
        );
        assert_eq!(
            err("/binary é0"),
            CommandError::InvalidHexDigit {
                found: 'é',
                position: 1
            }
        );

        let e = err("/binary abc");
        assert_eq!(e, CommandError::OddHexDigits { count: 3 });
        assert!(e.to_string().contains("3 digits"));
    }

    #[test]
    fn base64_standard_alphabet_padding_optional() {
        assert_eq!(
            parse("/base64 SGVsbG8="),
            Ok(Command::Binary(b"Hello".to_vec()))
        );
        assert_eq!(
            parse("/base64 SGVsbG8"),
            Ok(Command::Binary(b"Hello".to_vec()))
        );
        assert_eq!(
            parse("/base64 SGVs bG8=\t"),
            Ok(Command::Binary(b"Hello".to_vec()))
        );
        assert_eq!(parse("/base64 +/8="), Ok(Command::Binary(vec![0xfb, 0xff])));
        assert_eq!(parse("/base64"), Ok(Command::Binary(vec![])));
    }

    #[test]
    fn base64_refusals_name_the_problem() {
        let e = err("/base64 SGV!bG8=");
        assert_eq!(
            e.to_string(),
            "invalid base64: character '!' at position 4 is not in the base64 alphabet"
        );
        assert!(e.hint().is_some_and(|h| h.contains("standard alphabet")));
        assert!(err("/base64 -_8").to_string().contains("base64url"));
        assert!(err("/base64 SGVsb")
            .to_string()
            .contains("length 5 is impossible"));
        assert!(err("/base64 SG=sbG8")
            .to_string()
            .contains("padding '=' at position 3"));
        // "SGVsbG9" ends in a symbol whose low bits would be thrown away.
        assert!(err("/base64 SGVsbG9").to_string().contains("position 7"));
        // Positions count what was typed, including spaces.
        assert!(err("/base64 SG Vs b")
            .to_string()
            .contains("length 5 is impossible"));
        assert!(err("/base64 SG V= sbG8").to_string().contains("position 5"));
    }

    #[test]
    fn file_path_and_force_binary() {
        let file = |path: &str, force_binary| Command::File {
            path: PathBuf::from(path),
            force_binary,
        };
        assert_eq!(parse("/file a.json"), Ok(file("a.json", false)));
        assert_eq!(
            parse("/file  my file.txt  "),
            Ok(file("my file.txt", false))
        );
        assert_eq!(parse("/file --binary a.bin"), Ok(file("a.bin", true)));
        assert_eq!(parse("/file -- --binary"), Ok(file("--binary", false)));
        assert_eq!(parse("/file --binary -- --x"), Ok(file("--x", true)));
        assert_eq!(parse("/file -x"), Ok(file("-x", false)));
        assert_eq!(
            err("/file"),
            CommandError::MissingArgument {
                command: "file",
                what: "a PATH"
            }
        );
        assert_eq!(
            err("/file --binary"),
            CommandError::MissingArgument {
                command: "file",
                what: "a PATH"
            }
        );
        assert_eq!(
            err("/file --bin x"),
            CommandError::UnknownFileOption {
                given: "--bin".into()
            }
        );
        assert!(err("/file")
            .hint()
            .is_some_and(|h| h.contains("/file [--binary] PATH")));
    }

    #[test]
    fn ping_and_pong_payloads() {
        assert_eq!(parse("/ping"), Ok(Command::Ping(vec![])));
        assert_eq!(
            parse("/ping  hi there "),
            Ok(Command::Ping(b"hi there".to_vec()))
        );
        assert_eq!(parse("/pong x"), Ok(Command::Pong(b"x".to_vec())));

        let max = "a".repeat(125);
        assert_eq!(
            parse(&format!("/ping {max}")),
            Ok(Command::Ping(max.clone().into_bytes()))
        );
        assert_eq!(
            parse(&format!("/pong {max}")),
            Ok(Command::Pong(max.into_bytes()))
        );

        let over = "a".repeat(126);
        let e = err(&format!("/ping {over}"));
        assert_eq!(
            e.to_string(),
            "ping payload is 126 bytes; control frames carry at most 125 (RFC 6455 §5.5)"
        );
        assert!(err(&format!("/pong {over}"))
            .to_string()
            .starts_with("pong payload is 126"));
        // The limit is in bytes: 63 two-byte characters are 126 bytes.
        assert_eq!(
            err(&format!("/ping {}", "é".repeat(63))),
            CommandError::ControlPayloadTooLong {
                frame: "ping",
                len: 126
            }
        );
    }

    #[test]
    fn close_defaults_numbers_and_names() {
        assert_eq!(parse("/close"), Ok(close(1000, "")));
        assert_eq!(parse("/close   "), Ok(close(1000, "")));
        assert_eq!(parse("/close 1001"), Ok(close(1001, "")));
        assert_eq!(
            parse("/close 4000  see you later "),
            Ok(close(4000, "see you later"))
        );
        assert_eq!(parse("/close away brb"), Ok(close(1001, "brb")));
        assert_eq!(parse("/close Too-Big"), Ok(close(1009, "")));
        for (name, code) in CLOSE_CODE_NAMES {
            assert_eq!(
                parse(&format!("/close {name}")),
                Ok(close(*code, "")),
                "{name}"
            );
        }
        assert_eq!(parse("/close 1014"), Ok(close(1014, "")));
        assert_eq!(parse("/close 3000"), Ok(close(3000, "")));
        assert_eq!(parse("/close 4999"), Ok(close(4999, "")));
    }

    #[test]
    fn close_code_refusals_say_why() {
        let cases: &[(u16, &str)] = &[
            (0, "codes 0-999 are unused"),
            (999, "codes 0-999 are unused"),
            (1004, "1004 is reserved"),
            (1005, "close code 1005 (no status received) is reserved: it must never be sent on the wire (RFC 6455 §7.4.1)"),
            (1006, "(abnormal closure) is reserved"),
            (1015, "(TLS handshake failure) is reserved"),
            (1016, "1016 is unassigned"),
            (2999, "2999 is unassigned"),
            (5000, "5000 is out of range"),
            (u16::MAX, "65535 is out of range"),
        ];
        for (code, expected) in cases {
            let e = err(&format!("/close {code}"));
            assert_eq!(e, CommandError::CloseCodeRefused { code: *code });
            assert!(e.to_string().contains(expected), "{code}: {e}");
            assert_eq!(check_close_code(*code), Err(e.clone()));
            assert_eq!(e.hint().as_deref(), Some(CLOSE_USAGE));
        }
        for code in (1000..=1003).chain(1007..=1014).chain(3000..=4999) {
            assert_eq!(check_close_code(code), Ok(()), "{code}");
        }
    }

    #[test]
    fn close_code_that_is_no_code() {
        for given in ["goodbye", "70000", "-1", "1000x"] {
            let e = err(&format!("/close {given}"));
            assert_eq!(
                e,
                CommandError::BadCloseCode {
                    given: given.into()
                }
            );
            assert!(e.hint().is_some_and(|h| h.contains("bad-gateway")));
        }
    }

    #[test]
    fn close_reason_limit_is_123_bytes() {
        let ok = "r".repeat(123);
        assert_eq!(check_close_reason(&ok), Ok(()));
        assert_eq!(parse(&format!("/close 1000 {ok}")), Ok(close(1000, &ok)));
        let over = "r".repeat(124);
        let e = err(&format!("/close normal {over}"));
        assert_eq!(e, CommandError::CloseReasonTooLong { len: 124 });
        assert_eq!(
            e.to_string(),
            "close reason is 124 bytes; at most 123 fit in a close frame"
        );
        assert_eq!(check_close_reason(&over), Err(e));
    }

    #[test]
    fn switches() {
        assert_eq!(parse("/dump on"), Ok(Command::Dump(true)));
        assert_eq!(parse("/dump  off "), Ok(Command::Dump(false)));
        assert_eq!(parse("/verbose on"), Ok(Command::Verbose(true)));
        assert_eq!(parse("/verbose off"), Ok(Command::Verbose(false)));
        assert_eq!(
            err("/dump maybe"),
            CommandError::BadSwitch {
                command: "dump",
                given: "maybe".into()
            }
        );
        assert_eq!(
            err("/verbose"),
            CommandError::MissingArgument {
                command: "verbose",
                what: "on or off"
            }
        );
        assert!(err("/dump")
            .hint()
            .is_some_and(|h| h.contains("/dump on|off")));
    }

    #[test]
    fn argumentless_commands() {
        assert_eq!(parse("/status"), Ok(Command::Status));
        assert_eq!(parse("/status  "), Ok(Command::Status));
        assert_eq!(parse("/help"), Ok(Command::Help));
        assert_eq!(parse("/help close"), Ok(Command::Help));
        assert_eq!(parse("/quit"), Ok(Command::Quit));
        assert_eq!(parse("/exit"), Ok(Command::Quit));
        assert_eq!(parse("/clients"), Ok(Command::Clients));
        assert_eq!(
            err("/quit now"),
            CommandError::UnexpectedArgument {
                command: "quit",
                given: "now".into()
            }
        );
        assert_eq!(err("/exit 1").hint().as_deref(), Some("usage: /quit"));
    }

    #[test]
    fn to_addresses_one_client() {
        let to = |client, command| Command::To {
            client,
            command: Box::new(command),
        };
        assert_eq!(
            parse("/to 3 hello world "),
            Ok(to(3, Command::Text("hello world ".into())))
        );
        assert_eq!(parse("/to  #3   hi"), Ok(to(3, Command::Text("hi".into()))));
        assert_eq!(
            parse("/to 3 /ping x"),
            Ok(to(3, Command::Ping(b"x".to_vec())))
        );
        assert_eq!(
            parse("/to 3 /text"),
            Ok(to(3, Command::Text(String::new())))
        );
        assert_eq!(parse("/to 3 //x"), Ok(to(3, Command::Text("/x".into()))));
        assert_eq!(parse("/to 3 /close away"), Ok(to(3, close(1001, ""))));
        assert_eq!(
            parse("/to 3 /binary 01"),
            Ok(to(3, Command::Binary(vec![1])))
        );
        assert!(parse("/to 3 hi").is_ok_and(|c| c.listen_only()));

        assert_eq!(err("/to 3 /to 4 hi"), CommandError::NestedTo);
        assert_eq!(
            err("/to 3 /status"),
            CommandError::NotAMessage { command: "status" }
        );
        assert_eq!(
            err("/to 3 /kick 4"),
            CommandError::NotAMessage { command: "kick" }
        );
        assert_eq!(
            err("/to 3 /close 1005"),
            CommandError::CloseCodeRefused { code: 1005 }
        );
        assert_eq!(
            err("/to x hi"),
            CommandError::BadClientId { given: "x".into() }
        );
        assert!(matches!(
            err("/to"),
            CommandError::MissingArgument { command: "to", .. }
        ));
        assert!(matches!(
            err("/to 3"),
            CommandError::MissingArgument { command: "to", .. }
        ));
        assert!(matches!(
            err("/to 3   "),
            CommandError::MissingArgument { command: "to", .. }
        ));
        assert!(err("/to 3 /to 4 x")
            .hint()
            .is_some_and(|h| h.contains("usage: /to ID MSG")));
    }

    #[test]
    fn kick_closes_one_client() {
        let kick = |client, code, reason: &str| Command::Kick {
            client,
            code,
            reason: reason.into(),
        };
        assert_eq!(parse("/kick 7"), Ok(kick(7, 1000, "")));
        assert_eq!(
            parse("/kick 7 policy no spam"),
            Ok(kick(7, 1008, "no spam"))
        );
        assert_eq!(parse("/kick 7 4001"), Ok(kick(7, 4001, "")));
        assert_eq!(
            err("/kick 7 1006"),
            CommandError::CloseCodeRefused { code: 1006 }
        );
        assert_eq!(
            err("/kick seven"),
            CommandError::BadClientId {
                given: "seven".into()
            }
        );
        assert!(matches!(
            err("/kick"),
            CommandError::MissingArgument {
                command: "kick",
                ..
            }
        ));
    }

    #[test]
    fn unknown_commands_suggest_the_closest() {
        let e = err("/foo");
        assert!(
            matches!(&e, CommandError::UnknownCommand { name, suggestion: Some(_) } if name == "foo")
        );
        assert_eq!(e.to_string(), "unknown command /foo");
        assert!(e.hint().is_some_and(|h| h.contains("type /help")));

        let suggestion = |line: &str| match err(line) {
            CommandError::UnknownCommand { suggestion, .. } => suggestion,
            other => panic!("{other:?}"),
        };
        assert_eq!(suggestion("/clsoe"), Some("close"));
        assert_eq!(suggestion("/pign"), Some("ping"));
        assert_eq!(suggestion("/bin"), Some("binary"));
        assert_eq!(suggestion("/PING"), Some("ping"));
        assert_eq!(suggestion("/exti"), Some("exit"));
        assert_eq!(suggestion("/textfoo"), Some("text"));
        assert_eq!(suggestion("/zzzzzzzzzzzzzzzzzzzzzz"), None);
        assert_eq!(edit_distance("", "ab"), 2);
        assert_eq!(edit_distance("ab", ""), 2);
        assert_eq!(edit_distance("ab", "ba"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(
            err("/pign").hint().as_deref(),
            Some("did you mean /ping? type /help for the list of commands")
        );
        assert_eq!(
            err("/zzzzzzzzzzzzzzzzzzzzzz").hint().as_deref(),
            Some("type /help for the list of commands")
        );

        assert_eq!(err("/"), CommandError::EmptyCommand);
        assert_eq!(err("/ x"), CommandError::EmptyCommand);
        assert!(err("/").hint().is_some_and(|h| h.contains("//")));
    }

    #[test]
    fn every_listed_command_parses() {
        for c in COMMANDS {
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
            assert!(listen.contains(&row), "{}", c.name);
            assert_eq!(client.contains(&row), !c.listen_only, "{}", c.name);
            assert!(listen.contains(c.example), "{}", c.example);
        }
        // Summaries start in the same column on every row.
        let columns: Vec<usize> = listen
            .lines()
            .filter(|l| l.starts_with("  /"))
            .filter_map(|l| l.find("e.g. ").map(|b| l[..b].chars().count()))
            .collect();
        assert_eq!(columns.len(), COMMANDS.len());
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
        assert_eq!(complete("/e", 2), (0, vec!["/exit".into()]));
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
}
