//! What the lenses share: bounded JSON parsing (nesting checked before serde_json sees the text),
//! short renderings of JSON for one-line summaries, and the argument words of lens commands
//! (JSON values, bare words as strings, `--flags`).

use std::borrow::Cow;

use serde_json::Value;

use super::MAX_DEPTH;

/// Longest JSON rendering in a summary; the view keeps it all.
const SUMMARY_JSON: usize = 300;

/// Parse JSON text whose nesting is at most [`MAX_DEPTH`].
pub fn parse_json(text: &str) -> Result<Value, String> {
    check_depth(text.as_bytes())?;
    serde_json::from_str(text).map_err(|e| format!("bad JSON: {e}"))
}

/// Refuse nesting past [`MAX_DEPTH`] without parsing (strings skipped).
pub fn check_depth(bytes: &[u8]) -> Result<(), String> {
    let (mut depth, mut in_str, mut esc) = (0usize, false, false);
    for &b in bytes {
        if in_str {
            match (esc, b) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(format!("nested deeper than {MAX_DEPTH} levels"));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Compact JSON for a summary, cut at a character boundary when long.
pub fn short(v: &Value) -> String {
    cut(&v.to_string(), SUMMARY_JSON)
}

/// `s`, at most `max` bytes of it, with `…` when cut.
pub fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Quote a name for a summary: `"chat"`.
pub fn quoted(s: &str) -> String {
    cut(&Value::String(s.to_string()).to_string(), 120)
}

/// One word of a lens command's arguments.
#[derive(Debug, Clone, PartialEq)]
pub enum Word {
    /// `--name` (its value, if it takes one, is the next word).
    Flag(String),
    Value(Value),
}

/// Split a command's arguments: each a JSON value (`{"n":1}`, `"a b"`, `3`), a `--flag`, or a
/// bare word taken as a string (`hi`). Nesting is bounded like every decode.
pub fn words(arg: &str) -> Result<Vec<Word>, String> {
    let mut out = Vec::new();
    let mut rest = arg.trim_start();
    while !rest.is_empty() {
        if let Some(flag) = rest.strip_prefix("--") {
            let end = flag.find(char::is_whitespace).unwrap_or(flag.len());
            out.push(Word::Flag(flag[..end].to_string()));
            rest = flag[end..].trim_start();
            continue;
        }
        let first = rest.as_bytes()[0];
        if matches!(first, b'{' | b'[' | b'"') || first == b'-' || first.is_ascii_digit() {
            check_depth(rest.as_bytes())?;
            let mut it = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
            match it.next() {
                Some(Ok(v)) => {
                    let used = it.byte_offset();
                    out.push(Word::Value(v));
                    rest = rest[used..].trim_start();
                    continue;
                }
                Some(Err(e)) if matches!(first, b'{' | b'[' | b'"') => {
                    return Err(format!("bad JSON argument: {e}"));
                }
                _ => {}
            }
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = &rest[..end];
        let v = match word {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "null" => Value::Null,
            w => Value::String(w.to_string()),
        };
        out.push(Word::Value(v));
        rest = rest[end..].trim_start();
    }
    Ok(out)
}

/// The first word of `arg` and the rest, trimmed.
pub fn first_word(arg: &str) -> (&str, &str) {
    let arg = arg.trim_start();
    let end = arg.find(char::is_whitespace).unwrap_or(arg.len());
    (&arg[..end], arg[end..].trim_start())
}

/// The first word of a lens command's arguments and the rest: a JSON string (`"a b"`, as a
/// script's variable goes in, `crate::script`) is its content; any other word is as written.
pub fn first_arg(arg: &str) -> (Cow<'_, str>, &str) {
    if let Some((s, rest)) = json_string(arg) {
        return (Cow::Owned(s), rest);
    }
    let (w, rest) = first_word(arg);
    (Cow::Borrowed(w), rest)
}

/// `arg` starting with a JSON string: its content and the rest, trimmed.
pub fn json_string(arg: &str) -> Option<(String, &str)> {
    let arg = arg.trim_start();
    if !arg.starts_with('"') {
        return None;
    }
    let mut it = serde_json::Deserializer::from_str(arg).into_iter::<String>();
    let s = it.next()?.ok()?;
    Some((s, arg[it.byte_offset()..].trim_start()))
}

/// The one JSON value of `arg`, if any (bounded nesting).
pub fn json_arg(arg: &str, what: &str) -> Result<Option<Value>, String> {
    let arg = arg.trim();
    if arg.is_empty() {
        return Ok(None);
    }
    parse_json(arg)
        .map(Some)
        .map_err(|e| format!("{what} is not JSON ({e})"))
}
