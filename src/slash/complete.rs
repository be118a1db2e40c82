//! Tab completion for the command language: command names after a leading `/`, the arguments
//! some commands take (close codes, on/off, --binary), and the inner line of `/to ID`. Pure
//! functions over the text before the cursor.

use super::help::command_names;
use super::split_word;
use crate::wire::close::NAMES as CLOSE_CODE_NAMES;

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
    use crate::slash::help::{ALIASES, COMMANDS};

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
        assert_eq!(
            complete("/t", 2),
            (
                0,
                vec![
                    "/text".into(),
                    "/to".into(),
                    "/to-client".into(),
                    "/to-server".into()
                ]
            )
        );
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
