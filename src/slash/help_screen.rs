//! The `/help` screen: the command table from `help` laid out for the terminal's width (usage,
//! summary and example in aligned columns, wrapped when a row does not fit), then the rules that
//! are not commands and the close-code names.

use std::fmt::Write as _;

use super::help::{CommandHelp, COMMANDS};
use crate::wire::close::NAMES as CLOSE_CODE_NAMES;

/// The `/help` text: an aligned table of usage, summary and example, then the
/// rules that are not commands. Listen-only commands appear when `listen`.
pub fn help_text(listen: bool) -> String {
    help_text_for(listen, None)
}

/// [`help_text`] for a screen `width` columns wide: a row that does not fit puts its example on
/// a line of its own under the summary, and long lines wrap at word boundaries.
pub fn help_text_for(listen: bool, width: Option<usize>) -> String {
    let rows = rows(listen);
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
        } else {
            push_wrapped_row(&mut out, usage, c, usage_width, width);
        }
    }
    out.push('\n');
    push_rules(&mut out, listen, width);
    push_close_names(&mut out, width);
    out
}

/// The commands shown for this side (listen or client), each with its usage (`/name args`).
fn rows(listen: bool) -> Vec<(String, &'static CommandHelp)> {
    COMMANDS
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
        .collect()
}

/// A row too wide for one line: the summary (wrapped) beside the usage, the example under the
/// summary; on a screen too narrow for that, the usage alone and the rest indented under it.
fn push_wrapped_row(
    out: &mut String,
    usage: &str,
    c: &CommandHelp,
    usage_width: usize,
    width: usize,
) {
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

/// The rules that are not commands, each wrapped to `width` with its continuation indented.
fn push_rules(out: &mut String, listen: bool, width: usize) {
    let mut rules = vec![
        "A line not starting with / is sent as a text message, exactly as typed.",
        "Start a line with // to send text beginning with / (//x sends /x).",
    ];
    if !listen {
        rules.push("${NAME} in a line is replaced by a variable, ${env:VAR} by the environment; $${ is ${.");
        rules.push("An /expect holds the lines after it until it is met (Ctrl-C stops waiting).");
    }
    rules.push("Close codes: 1000-1003, 1007-1014, 3000-4999, or a name:");
    for rule in rules {
        for (i, l) in wrap_words(rule, width.saturating_sub(2)).iter().enumerate() {
            let _ = writeln!(out, "{}{l}", if i > 0 { "  " } else { "" });
        }
    }
}

/// The close-code names, comma-separated and indented. Wrapped by hand so the list stays
/// readable in an 80-column terminal.
fn push_close_names(out: &mut String, width: usize) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
