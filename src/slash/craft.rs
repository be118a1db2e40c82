//! `/raw HEX` and `/frame [OPTIONS] PAYLOAD`: the two commands that put bytes on the wire the
//! WebSocket library would never write. Only their own syntax is checked here (hex digits, option
//! names, numbers that fit their field): breaking the protocol is their point.

use super::{parse_hex, split_word, Command, CommandError};
use crate::wire::craft::{self, Crafted, Mask};

/// `/raw HEX`: the bytes, as the user typed them.
pub(super) fn parse_raw(arg: &str) -> Result<Command, CommandError> {
    if arg.is_empty() {
        return Err(CommandError::MissingArgument {
            command: "raw",
            what: "the bytes to send, in hex",
        });
    }
    parse_hex(arg).map(Command::Raw)
}

/// `/frame`: options first (each `--name` or `--name VALUE`), then the payload, the rest of the
/// line as it is (`--` ends the options, so a payload may start with `--`). Without `--opcode` the
/// frame is text, or binary with `--hex`.
pub(super) fn parse_frame(raw_arg: &str) -> Result<Command, CommandError> {
    let mut frame = Crafted::new(craft::TEXT, Vec::new());
    let mut opcode = None;
    let mut hex = false;
    let mut mask_given = None;
    let mut rest = raw_arg.trim_start();
    loop {
        let (word, after) = split_word(rest);
        if !word.starts_with("--") {
            break;
        }
        rest = after.trim_start();
        if word == "--" {
            break;
        }
        let mut value = |what: &'static str| -> Result<&str, CommandError> {
            let (v, after) = split_word(rest);
            if v.is_empty() {
                return Err(bad(format!("{word} needs {what}")));
            }
            rest = after.trim_start();
            Ok(v)
        };
        match word {
            "--fin" => {
                frame.fin = match value("0 or 1")? {
                    "0" => false,
                    "1" => true,
                    other => return Err(bad(format!("--fin takes 0 or 1, not '{other}'"))),
                }
            }
            "--rsv1" => frame.rsv1 = true,
            "--rsv2" => frame.rsv2 = true,
            "--rsv3" => frame.rsv3 = true,
            "--opcode" => opcode = Some(parse_opcode(value("a number 0-15 or a name")?)?),
            "--no-mask" => mask_given = Some(set_mask(mask_given, "--no-mask", Mask::None)?),
            "--mask" => {
                let key = parse_key(value("a 4-byte key in hex")?)?;
                mask_given = Some(set_mask(mask_given, "--mask", Mask::Key(key))?);
            }
            "--len" => {
                let v = value("a length")?;
                frame.len = Some(v.parse::<u64>().map_err(|_| {
                    bad(format!(
                        "--len takes a number of bytes (0 to 2^64-1), not '{v}'"
                    ))
                })?);
            }
            "--hex" => hex = true,
            other => return Err(bad(format!("unknown option '{other}'"))),
        }
    }
    frame.mask = mask_given.unwrap_or(Mask::Random);
    frame.opcode = opcode.unwrap_or(if hex { craft::BINARY } else { craft::TEXT });
    frame.payload = if hex {
        parse_hex(rest.trim())?
    } else {
        rest.as_bytes().to_vec()
    };
    Ok(Command::Frame(frame))
}

fn bad(problem: String) -> CommandError {
    CommandError::FrameOption { problem }
}

fn set_mask(given: Option<Mask>, flag: &str, mask: Mask) -> Result<Mask, CommandError> {
    match given {
        None => Ok(mask),
        Some(_) => Err(bad(format!(
            "{flag}: --no-mask and --mask KEY are given together (or twice); use one"
        ))),
    }
}

/// Opcode names (RFC 6455 §5.2) or a number 0-15, decimal or 0x hex.
fn parse_opcode(v: &str) -> Result<u8, CommandError> {
    let named = match v.to_ascii_lowercase().as_str() {
        "continuation" | "cont" => Some(craft::CONTINUATION),
        "text" => Some(craft::TEXT),
        "binary" => Some(craft::BINARY),
        "close" => Some(craft::CLOSE),
        "ping" => Some(craft::PING),
        "pong" => Some(craft::PONG),
        _ => None,
    };
    let number = || match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(h) => u8::from_str_radix(h, 16).ok(),
        None => v.parse::<u8>().ok(),
    };
    named.or_else(number).filter(|n| *n <= 0x0F).ok_or_else(|| {
        bad(format!(
            "--opcode takes 0-15 or continuation, text, binary, close, ping, pong; not '{v}'"
        ))
    })
}

fn parse_key(v: &str) -> Result<[u8; 4], CommandError> {
    let bytes = parse_hex(v)?;
    <[u8; 4]>::try_from(bytes.as_slice()).map_err(|_| {
        bad(format!(
            "--mask takes 4 bytes (8 hex digits), but '{v}' is {} bytes",
            bytes.len()
        ))
    })
}
