//! The line-oriented command language shared by scripted sends (`-x MSG`),
//! the interactive REPL and the `listen` server's REPL: it turns one line of
//! user input into a [`Command`], refuses anything that would put an illegal
//! frame on the wire (with an error naming the rule and a usage hint), and
//! supplies the `/help` table and Tab completion. It is pure: no I/O happens
//! here, so `/file` only yields the path and reading it is the caller's job.

use std::path::PathBuf;

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{DecodeError, Engine as _};

mod complete;
mod craft;
mod help;
mod help_screen;

use crate::wire::close;
pub use complete::complete;
use help::{closest_command, usage};
pub use help::{CommandHelp, COMMANDS};
pub use help_screen::{help_text, help_text_for};

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
    /// `/raw HEX`: bytes for the socket as they are, behind everything queued before them.
    Raw(Vec<u8>),
    /// `/frame ...`: one hand-built frame, encoded (and masked) when it is sent.
    Frame(crate::wire::craft::Crafted),
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
    /// `proxy` only: send `command` to the server of client ID, as if the client had.
    ToServer {
        client: u64,
        command: Box<Command>,
    },
    /// `proxy` only: send `command` to client ID, as if its server had.
    ToClient {
        client: u64,
        command: Box<Command>,
    },
}

impl Command {
    /// True for commands that only make sense in the `listen` server's REPL;
    /// [`parse`] accepts them everywhere so the client REPL can refuse them
    /// with its own wording.
    pub fn listen_only(&self) -> bool {
        matches!(
            self,
            Command::To { .. }
                | Command::Clients
                | Command::Kick { .. }
                | Command::ToServer { .. }
                | Command::ToClient { .. }
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
            Command::Raw(_) => "raw",
            Command::Frame(_) => "frame",
            Command::Close { .. } => "close",
            Command::Dump(_) => "dump",
            Command::Verbose(_) => "verbose",
            Command::Status => "status",
            Command::Help => "help",
            Command::Quit => "quit",
            Command::To { .. } => "to",
            Command::Clients => "clients",
            Command::Kick { .. } => "kick",
            Command::ToServer { .. } => "to-server",
            Command::ToClient { .. } => "to-client",
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
    #[error("/frame: {problem}")]
    FrameOption { problem: String },
    #[error("invalid base64: {problem}")]
    InvalidBase64 { problem: String },
    #[error("{frame} payload is {len} bytes; control frames carry at most 125 (RFC 6455 §5.5)")]
    ControlPayloadTooLong { frame: &'static str, len: usize },
    #[error("close code '{given}' is neither a number from 1000 to 4999 nor a close code name")]
    BadCloseCode { given: String },
    #[error("{}", close::refusal(*code))]
    CloseCodeRefused { code: u16 },
    #[error(
        "close reason is {len} bytes; at most {} fit in a close frame",
        close::MAX_REASON
    )]
    CloseReasonTooLong { len: usize },
    #[error("client ID '{given}' is not a number")]
    BadClientId { given: String },
    #[error("/to cannot be nested: the message after /to ID already goes to one client")]
    NestedTo,
    #[error("/to carries a message to one client, but /{command} is not a message")]
    NotAMessage { command: &'static str },
    /// `/expect` and the other script commands, where no script runs (`listen`).
    #[error(
        "/{command} is a script command: it works in `wscope URL` (-x, --script and its REPL)"
    )]
    ScriptOnly { command: String },
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
            CommandError::FrameOption { .. } => format!(
                "{}; options: --fin 0|1 --rsv1 --rsv2 --rsv3 --opcode N|NAME --no-mask|--mask HEX --len N --hex",
                usage("frame")
            ),
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
                let names: Vec<&str> = close::NAMES.iter().map(|(n, _)| *n).collect();
                format!("{CLOSE_USAGE}, or a name: {}", names.join(", "))
            }
            CommandError::CloseCodeRefused { .. } => CLOSE_USAGE.to_owned(),
            CommandError::CloseReasonTooLong { .. } => {
                "shorten the reason; it is sent as UTF-8, so non-ASCII characters take 2-4 bytes each".to_owned()
            }
            CommandError::BadClientId { .. } => {
                "client IDs are the numbers shown by /clients, e.g. /to 3 hello".to_owned()
            }
            CommandError::ScriptOnly { .. } => "send with a plain message or /text, /binary, /file".to_owned(),
            CommandError::NestedTo | CommandError::NotAMessage { .. } => format!(
                "{}; MSG is text or one of /text, /binary, /base64, /file, /ping, /pong, /close",
                usage("to")
            ),
        };
        Some(hint)
    }
}

/// Accepts the codes an endpoint may put in a close frame ([`close::may_be_sent`]).
pub fn check_close_code(code: u16) -> Result<(), CommandError> {
    if close::may_be_sent(code) {
        Ok(())
    } else {
        Err(CommandError::CloseCodeRefused { code })
    }
}

/// Refuses reasons that would not fit in a close frame next to the code.
pub fn check_close_reason(reason: &str) -> Result<(), CommandError> {
    if reason.len() > close::MAX_REASON {
        return Err(CommandError::CloseReasonTooLong { len: reason.len() });
    }
    Ok(())
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
        "raw" => craft::parse_raw(arg),
        "frame" => craft::parse_frame(raw_arg),
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
        "to" => parse_to("to", raw_arg).map(|(client, command)| Command::To { client, command }),
        "to-server" => parse_to("to-server", raw_arg)
            .map(|(client, command)| Command::ToServer { client, command }),
        "to-client" => parse_to("to-client", raw_arg)
            .map(|(client, command)| Command::ToClient { client, command }),
        "clients" => no_args("clients", arg, Command::Clients),
        "kick" => parse_kick(arg),
        // The client's script runs these before the command language sees the line.
        "expect" | "expect-json" | "let" | "expect-close" | "sleep" => {
            Err(CommandError::ScriptOnly {
                command: name.to_owned(),
            })
        }
        _ => Err(CommandError::UnknownCommand {
            name: name.to_owned(),
            suggestion: closest_command(name),
        }),
    }
}

/// Splits off the first whitespace-delimited word; the remainder starts after
/// exactly one whitespace character.
pub(crate) fn split_word(s: &str) -> (&str, &str) {
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

/// Hex for `/binary`, `/raw` and `--mask`, read by the crate's one hex decoder. Positions in
/// errors are 1-based characters of `arg`.
fn parse_hex(arg: &str) -> Result<Vec<u8>, CommandError> {
    use crate::wire::hexdump::HexError;
    crate::wire::hexdump::decode(arg).map_err(|e| match e {
        HexError::InvalidDigit { found, position } => {
            CommandError::InvalidHexDigit { found, position }
        }
        HexError::OddDigits { count } => CommandError::OddHexDigits { count },
    })
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
    if arg.len() > close::MAX_CONTROL_PAYLOAD {
        return Err(CommandError::ControlPayloadTooLong {
            frame,
            len: arg.len(),
        });
    }
    Ok(arg.as_bytes().to_vec())
}

pub(crate) fn parse_close_code(word: &str) -> Result<u16, CommandError> {
    let code = if !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit()) {
        word.parse::<u16>()
            .map_err(|_| CommandError::BadCloseCode {
                given: word.to_owned(),
            })?
    } else {
        close::NAMES
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

/// `/to`, `/to-server` and `/to-client` (`name`): a client ID and the message for it.
fn parse_to(name: &'static str, raw_arg: &str) -> Result<(u64, Box<Command>), CommandError> {
    let (id, inner) = split_word(raw_arg.trim_start());
    if id.is_empty() {
        return Err(CommandError::MissingArgument {
            command: name,
            what: "a client ID and a message",
        });
    }
    let client = parse_client_id(id)?;
    // Leading blanks separate ID from MSG; the rest is a line in its own
    // right, so trailing whitespace of a text message survives.
    let inner = inner.trim_start();
    if inner.is_empty() {
        return Err(CommandError::MissingArgument {
            command: name,
            what: "a message after the client ID",
        });
    }
    let command = match parse(inner)? {
        Command::To { .. } | Command::ToServer { .. } | Command::ToClient { .. } => {
            return Err(CommandError::NestedTo)
        }
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
    Ok((client, Box::new(command)))
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

#[cfg(test)]
mod tests;
