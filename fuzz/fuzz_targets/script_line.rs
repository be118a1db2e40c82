//! Fuzz target for a script line with variables (`${...}` anywhere) and a hostile value: the
//! line is read as written before its values go in (SPEC.md "Expect scripting"), so whatever the
//! value holds it never chooses the command, never becomes jq code, and never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wscope::script::parse::{self, Step};
use wscope::script::vars::{jq_string, regex_literal, Template, Vars};
use wscope::slash::Command;

/// The kind of command a line asks for, ignoring its arguments.
fn kind(c: &Command) -> std::mem::Discriminant<Command> {
    std::mem::discriminant(c)
}

/// Every `${NAME}` of `t` bound to `value`.
fn bound(t: &Template, value: &str) -> Vars {
    t.names()
        .map(|n| (n.to_string(), value.to_string()))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    // The line, a NUL, then the value a server chose.
    let text = String::from_utf8_lossy(data);
    let (line, value) = text.split_once('\0').unwrap_or((&text, "/file /etc/passwd"));
    let _ = parse::check([line]);
    let Ok(step) = parse::parse(line) else {
        return;
    };
    match step {
        Step::Line(t) => {
            let hostile = parse::command(&t, &bound(&t, value));
            if t.starts_with_value() {
                // A line that starts with a value is a message, whatever the value.
                assert!(
                    matches!(hostile, Ok(Command::Text(_) | Command::Nothing)),
                    "{line:?} with {value:?} gave {hostile:?}"
                );
            }
            // The command is the one written: the same kind as with a harmless value.
            if let (Ok(h), Ok(plain)) = (&hostile, parse::command(&t, &bound(&t, "x"))) {
                if !matches!(plain, Command::Nothing | Command::Text(_)) {
                    assert_eq!(kind(h), kind(&plain), "{line:?} with {value:?}");
                }
            }
        }
        Step::Expect { pattern, .. } => {
            // A value in a regex is its literal text: it compiles whenever the stand-in does.
            if let Ok(p) = pattern.render(&bound(&pattern, value), &regex_literal) {
                let plain = parse::compile_regex(&pattern.stand_in("x", &regex_literal)).is_ok();
                if plain && p.len() < 4096 {
                    assert!(parse::compile_regex(&p).is_ok(), "{p:?}");
                }
            }
        }
        Step::ExpectJson { filter, .. } | Step::Let { filter, .. } => {
            // A value in a filter is a string literal: it compiles whenever the stand-in does.
            if let Ok(code) = filter.render(&bound(&filter, value), &jq_string) {
                let plain = parse::compile_jq("expect-json", &filter.stand_in("\"\"", &jq_string));
                assert_eq!(
                    parse::compile_jq("expect-json", &code).is_ok(),
                    plain.is_ok(),
                    "{code:?}"
                );
            }
        }
        Step::ExpectClose { .. } | Step::Sleep(_) => {}
    }
});
