//! The script commands (`/expect`, `/expect-json`, `/let`, `/expect-close`, `/sleep`) as data, and
//! the check of a whole script before connecting: every line parses, every pattern and filter
//! compiles, and every `${NAME}` is set by an earlier line. Pure: nothing here waits or sends.

use std::collections::BTreeSet;
use std::time::Duration;

use super::matcher::{self, Jq};
use super::vars::{jq_string, regex_literal, valid_name, verbatim, Template, VarError, Vars};
use crate::slash;

/// One line of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `/expect [--timeout SECS] REGEX`
    Expect {
        timeout: Option<Duration>,
        pattern: Template,
    },
    /// `/expect-json [--timeout SECS] FILTER`
    ExpectJson {
        timeout: Option<Duration>,
        filter: Template,
    },
    /// `/let NAME FILTER`
    Let { name: String, filter: Template },
    /// `/expect-close [--timeout SECS] [CODE]`
    ExpectClose {
        timeout: Option<Duration>,
        code: Option<u16>,
    },
    /// `/sleep SECS`
    Sleep(Duration),
    /// Anything else: a message or a command of the command language, once its variables are in.
    Line(Template),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error("{0}")]
    Var(#[from] VarError),
    #[error("/{command} needs {what}")]
    Missing {
        command: &'static str,
        what: &'static str,
    },
    #[error("/{command}: {problem}")]
    Bad {
        command: &'static str,
        problem: String,
    },
    #[error("/{command}: invalid regex: {problem}")]
    Regex {
        command: &'static str,
        problem: String,
    },
    #[error("/{command}: invalid jq filter: {problem}")]
    Jq {
        command: &'static str,
        problem: String,
    },
    #[error("{0}")]
    Command(slash::CommandError),
    #[error("a variable cannot be part of a command's name (/{written}${{...}}): a value never chooses a command")]
    NameFromValue { written: String },
}

impl StepError {
    pub fn hint(&self) -> Option<String> {
        let usage = |c: &str| {
            crate::slash::COMMANDS
                .iter()
                .find(|h| h.name == c)
                .map(|h| format!("usage: /{} {}, e.g. {}", h.name, h.args, h.example))
        };
        match self {
            StepError::Var(v) => Some(v.hint().into()),
            StepError::Missing { command, .. } | StepError::Bad { command, .. } => usage(command),
            StepError::Regex { .. } => Some(
                "Rust regex syntax (https://docs.rs/regex); named groups (?<name>...) set variables"
                    .into(),
            ),
            StepError::Jq { .. } => Some("jq syntax, e.g. '.type == \"ack\" and .id == 7'".into()),
            StepError::Command(e) => e.hint(),
            StepError::NameFromValue { .. } => Some(
                "write the command out, then a space and its arguments (/text ${NAME}); a line that starts with ${NAME} is sent as a message".into(),
            ),
        }
    }
}

/// Parse one line. Lines that are not script commands come back as [`Step::Line`], to go to the
/// command language once their variables are in (see [`check`] for what is checked before).
pub fn parse(line: &str) -> Result<Step, StepError> {
    let (name, arg) = match line.strip_prefix('/') {
        Some(rest) if !rest.starts_with('/') => slash::split_word(rest),
        _ => ("", ""),
    };
    match name {
        "expect" => {
            let (timeout, pattern) = timeout_option("expect", arg)?;
            if pattern.is_empty() {
                return Err(StepError::Missing {
                    command: "expect",
                    what: "a REGEX",
                });
            }
            Ok(Step::Expect {
                timeout,
                pattern: Template::parse(pattern)?,
            })
        }
        "expect-json" => {
            let (timeout, filter) = timeout_option("expect-json", arg)?;
            if filter.trim().is_empty() {
                return Err(StepError::Missing {
                    command: "expect-json",
                    what: "a jq FILTER",
                });
            }
            Ok(Step::ExpectJson {
                timeout,
                filter: Template::parse(filter)?,
            })
        }
        "let" => {
            let (var, filter) = slash::split_word(arg.trim_start());
            if var.is_empty() || filter.trim().is_empty() {
                return Err(StepError::Missing {
                    command: "let",
                    what: "a NAME and a jq FILTER",
                });
            }
            if !valid_name(var) {
                return Err(VarError::BadName(var.into()).into());
            }
            Ok(Step::Let {
                name: var.into(),
                filter: Template::parse(filter)?,
            })
        }
        "expect-close" => {
            let (timeout, code) = timeout_option("expect-close", arg)?;
            let code = match code.trim() {
                "" => None,
                word => Some(slash::parse_close_code(word).map_err(StepError::Command)?),
            };
            Ok(Step::ExpectClose { timeout, code })
        }
        "sleep" => match arg.trim() {
            "" => Err(StepError::Missing {
                command: "sleep",
                what: "SECS",
            }),
            secs => crate::units::parse_secs(secs)
                .map(Step::Sleep)
                .map_err(|problem| StepError::Bad {
                    command: "sleep",
                    problem,
                }),
        },
        _ => Ok(Step::Line(Template::parse(line)?)),
    }
}

/// `[--timeout SECS] REST`, `--timeout=SECS` too; `--` ends the options.
fn timeout_option<'a>(
    command: &'static str,
    arg: &'a str,
) -> Result<(Option<Duration>, &'a str), StepError> {
    let (first, rest) = slash::split_word(arg);
    let (secs, rest) = match first.strip_prefix("--timeout") {
        Some("") => {
            let (secs, rest) = slash::split_word(rest.trim_start());
            (secs, rest)
        }
        Some(v) if v.starts_with('=') => (&v[1..], rest),
        _ if first == "--" => return Ok((None, rest)),
        _ => return Ok((None, arg)),
    };
    if secs.is_empty() {
        return Err(StepError::Missing {
            command,
            what: "SECS after --timeout",
        });
    }
    let d = crate::units::parse_secs(secs).map_err(|p| StepError::Bad {
        command,
        problem: format!("--timeout {p}"),
    })?;
    Ok((Some(d), rest))
}

/// What a [`Step::Line`] does once its variables are in. The line is read as written first: one
/// that starts with a value is a message whatever the value holds, and a command's name is never
/// made of a value; values only fill the message or the arguments of the command written.
pub fn command(t: &Template, vars: &Vars) -> Result<slash::Command, StepError> {
    written_head(t)?;
    let line = t.render(vars, &verbatim)?;
    if t.starts_with_value() {
        return Ok(if line.is_empty() {
            slash::Command::Nothing
        } else {
            slash::Command::Text(line)
        });
    }
    slash::parse(&line).map_err(StepError::Command)
}

/// The name of a lens command (`/emit ...`) as written: a value never makes a line one.
fn lens_name(t: &Template) -> Option<&str> {
    match t.written_command() {
        Some(Ok(name)) if crate::lens::is_lens_command(name) => Some(name),
        _ => None,
    }
}

/// A [`Step::Line`] that is a lens command, read as written before its variables go in: its
/// name and its argument with the values in as JSON strings ([`Template::render_json`]): data,
/// never syntax of the argument (None: not a lens command).
pub fn lens_command(t: &Template, vars: &Vars) -> Option<Result<(String, String), StepError>> {
    let name = lens_name(t)?.to_string();
    Some(t.render_json(vars).map_err(StepError::from).map(|line| {
        // The name is written out, so the rendered line starts with it.
        let arg = line
            .strip_prefix('/')
            .and_then(|r| r.strip_prefix(name.as_str()))
            .unwrap_or_default()
            .trim_start()
            .to_string();
        (name, arg)
    }))
}

/// Refuses a line whose command name a variable touches.
fn written_head(t: &Template) -> Result<(), StepError> {
    match t.written_command() {
        Some(Err(written)) => Err(StepError::NameFromValue {
            written: written.into(),
        }),
        _ => Ok(()),
    }
}

/// A regex with each `${NAME}` in as a literal: checking it with a stand-in is exact, since any
/// escaped literal is a valid atom.
pub fn compile_regex(pattern: &str) -> Result<regex::Regex, StepError> {
    matcher::regex(pattern).map_err(|problem| StepError::Regex {
        command: "expect",
        problem,
    })
}

pub fn compile_jq(command: &'static str, code: &str) -> Result<Jq, StepError> {
    Jq::compile(code).map_err(|problem| StepError::Jq { command, problem })
}

/// The names a regex's named groups set.
pub fn group_names(re: &regex::Regex) -> impl Iterator<Item = &str> {
    re.capture_names().flatten().filter(|n| valid_name(n))
}

/// Stand-ins tried for `${NAME}` when checking a command line before connecting: the line must
/// parse with at least one (an empty value, a number, hex, a word), since the value is unknown.
const STAND_INS: &[&str] = &["", "00", "1000", "x"];

/// What [`check`] learnt about a script.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// It waits for messages: what arrives before each expectation must be kept.
    pub expects: bool,
}

/// Check every line in order, as it will run: the error comes with the index of its line.
pub fn check<'a>(lines: impl IntoIterator<Item = &'a str>) -> Result<Summary, (usize, StepError)> {
    let mut defined: BTreeSet<String> = BTreeSet::new();
    let mut summary = Summary::default();
    for (i, line) in lines.into_iter().enumerate() {
        check_line(line, &mut defined, &mut summary).map_err(|e| (i, e))?;
    }
    Ok(summary)
}

fn check_line(
    line: &str,
    defined: &mut BTreeSet<String>,
    summary: &mut Summary,
) -> Result<(), StepError> {
    if line.is_empty() {
        // `-x ''` sends an empty message.
        return Ok(());
    }
    let step = parse(line)?;
    let known = |n: &str| defined.contains(n);
    match &step {
        Step::Expect { pattern, .. } => {
            pattern.check(&known)?;
            let re = compile_regex(&pattern.stand_in("x", &regex_literal))?;
            let names: Vec<String> = group_names(&re).map(String::from).collect();
            defined.extend(names);
            summary.expects = true;
        }
        Step::ExpectJson { filter, .. } => {
            filter.check(&known)?;
            compile_jq("expect-json", &filter.stand_in("\"\"", &jq_string))?;
            summary.expects = true;
        }
        Step::Let { name, filter } => {
            filter.check(&known)?;
            compile_jq("let", &filter.stand_in("\"\"", &jq_string))?;
            defined.insert(name.clone());
        }
        Step::ExpectClose { .. } => summary.expects = true,
        Step::Sleep(_) => {}
        Step::Line(t) => {
            t.check(&known)?;
            written_head(t)?;
            if t.starts_with_value() {
                // A message, whatever the value.
                return Ok(());
            }
            // A lens command: its lens is known once connected, which checks it then.
            if lens_name(t).is_some() {
                return Ok(());
            }
            let mut first_err = None;
            let stand_ins: &[&str] = if t.is_fixed() { &[""] } else { STAND_INS };
            for s in stand_ins {
                match slash::parse(&t.stand_in(s, &verbatim)) {
                    Ok(c) if c.listen_only() => {
                        return Err(StepError::Bad {
                            command: "to",
                            problem: "/to, /clients and /kick work in `wscope listen` only".into(),
                        })
                    }
                    Ok(_) => return Ok(()),
                    Err(e) => {
                        first_err.get_or_insert(e);
                    }
                }
            }
            if let Some(e) = first_err {
                return Err(StepError::Command(e));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_script_command_parses() {
        for c in crate::slash::COMMANDS.iter().filter(|c| c.client_only) {
            let step = check([c.example]);
            assert!(step.is_ok(), "{}: {step:?}", c.example);
        }
    }

    fn err(lines: &[&str]) -> (usize, String) {
        let (i, e) = check(lines.iter().copied()).unwrap_err();
        (i, e.to_string())
    }

    #[test]
    fn script_commands_parse() {
        assert!(matches!(
            parse("/expect --timeout 2.5 ^ok (?<n>\\d+)$").unwrap(),
            Step::Expect { timeout: Some(t), .. } if t == Duration::from_millis(2500)
        ));
        assert!(matches!(
            parse("/expect --timeout=1 x").unwrap(),
            Step::Expect {
                timeout: Some(_),
                ..
            }
        ));
        assert!(matches!(
            parse("/expect -- --timeout").unwrap(),
            Step::Expect { timeout: None, .. }
        ));
        assert_eq!(
            parse("/expect-close 4000").unwrap(),
            Step::ExpectClose {
                timeout: None,
                code: Some(4000)
            }
        );
        assert_eq!(
            parse("/expect-close normal").unwrap(),
            Step::ExpectClose {
                timeout: None,
                code: Some(1000)
            }
        );
        assert_eq!(
            parse("/sleep 0.5").unwrap(),
            Step::Sleep(Duration::from_millis(500))
        );
        assert!(
            matches!(parse("/let tok .token").unwrap(), Step::Let { name, .. } if name == "tok")
        );
        assert!(matches!(parse("//expect x").unwrap(), Step::Line(_)));
        assert!(matches!(parse("hello ${env:HOME}").unwrap(), Step::Line(_)));
    }

    #[test]
    fn a_whole_script_is_checked_in_order() {
        let ok = check([
            "login secret",
            "/expect token=(?<token>\\w+)",
            "use ${token}",
            "/expect-json .id == 1",
            "/let user .user.name",
            "/text hi ${user} ${token}",
            "/binary ${token}",
            "/close ${user}",
            "/expect ^${user}$",
            "/expect-close",
        ])
        .unwrap();
        assert!(ok.expects);
        assert!(!check(["a", "/ping"]).unwrap().expects);
    }

    #[test]
    fn each_kind_of_mistake_names_its_line() {
        assert_eq!(err(&["ok", "/expect a(b"]).0, 1);
        assert!(err(&["/expect a(b"]).1.contains("invalid regex"));
        assert!(err(&["/expect-json .a =="]).1.contains("invalid jq filter"));
        assert!(err(&["/let x nosuch"]).1.contains("invalid jq filter"));
        assert!(err(&["send ${nope}"])
            .1
            .contains("unknown variable ${nope}"));
        // A variable is known only after the line that sets it.
        assert_eq!(err(&["${tok}", "/expect (?<tok>.)"]).0, 0);
        assert!(err(&["/expect"]).1.contains("needs a REGEX"));
        assert!(err(&["/expect --timeout"]).1.contains("SECS"));
        assert!(err(&["/expect --timeout soon x"])
            .1
            .contains("not a number"));
        assert!(err(&["/sleep"]).1.contains("needs SECS"));
        assert!(err(&["/expect-close 1005"]).1.contains("1005"));
        assert!(err(&["/let 1x .a"]).1.contains("not a variable name"));
        assert!(err(&["/bogus"]).1.contains("unknown command"));
        assert!(err(&["/close 999 ${x}"]).1.contains("unknown variable"));
        assert!(err(&["/expect (?<a>.)", "/close 999 ${a}"])
            .1
            .contains("999"));
        assert!(err(&["/to 1 hi"]).1.contains("listen"));
        assert!(err(&["oops ${"]).1.contains("no closing"));
    }

    #[test]
    fn a_value_never_chooses_a_command() {
        let vars: Vars = [("r", "/file /etc/passwd"), ("c", "4000 bye")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let cmd = |line: &str| match parse(line).unwrap() {
            Step::Line(t) => command(&t, &vars),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            cmd("${r}").unwrap(),
            slash::Command::Text("/file /etc/passwd".into())
        );
        assert_eq!(
            cmd("${r} and more").unwrap(),
            slash::Command::Text("/file /etc/passwd and more".into())
        );
        assert_eq!(
            cmd("/close ${c}").unwrap(),
            slash::Command::Close {
                code: 4000,
                reason: "bye".into()
            }
        );
        assert_eq!(
            cmd("//${r}").unwrap(),
            slash::Command::Text("//file /etc/passwd".into())
        );
        assert!(matches!(cmd("/${r}"), Err(StepError::NameFromValue { .. })));
        assert!(matches!(
            cmd("/clo${c}"),
            Err(StepError::NameFromValue { .. })
        ));
        assert!(err(&["/expect (?<a>.)", "/${a}"])
            .1
            .contains("command's name"));
        assert!(check(["/expect (?<a>.)", "${a}"]).is_ok());
    }
}
