//! What rustyline asks of us while a line is edited: Tab completion and grey hints from the command
//! table in [`crate::slash`], and Ctrl-C's meaning (clear a half-typed line,
//! quit on an empty one). The client REPL hides the `listen`-only commands.

use std::borrow::Cow;

use colored::Colorize;
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::Hinter;
use rustyline::{
    Cmd, ConditionalEventHandler, Context, Event, EventContext, Movement, RepeatCount, Validator,
};

use crate::slash::{self, COMMANDS};

#[derive(rustyline::Helper, Validator)]
pub struct ReplHelper {
    /// True in `listen`'s REPL, where /to, /clients and /kick exist.
    pub listen: bool,
    /// The commands of the lens in use (`crate::lens`), completed like the others.
    pub lens: &'static [slash::CommandHelp],
}

impl ReplHelper {
    fn hidden(&self, name: &str) -> bool {
        COMMANDS.iter().any(|c| {
            c.name == name
                && if self.listen {
                    c.client_only
                } else {
                    c.listen_only
                }
        })
    }
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    /// A completed command name ends with a space, so what is typed next is its argument
    /// (`/pi<Tab>x` is `/ping x`, never `/pingx`); several candidates share no space, so
    /// rustyline's common prefix stops where they differ.
    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let first = line.split_whitespace().next().unwrap_or("");
        if let Some(name) = first.strip_prefix('/') {
            if line.len() > first.len() && self.hidden(name) {
                return Ok((pos, Vec::new()));
            }
        }
        let (start, mut candidates) = slash::complete(line, pos);
        candidates.retain(|c| !c.strip_prefix('/').is_some_and(|n| self.hidden(n)));
        let mut start = start;
        if let Some(typed) = line.get(..pos).and_then(|l| l.strip_prefix('/')) {
            if !typed.contains(char::is_whitespace) && !typed.starts_with('/') {
                // The commands of the lens in use complete like the others.
                candidates.extend(
                    self.lens
                        .iter()
                        .filter(|c| c.name.starts_with(typed))
                        .map(|c| format!("/{}", c.name)),
                );
                candidates.sort();
                candidates.dedup();
                start = 0;
            }
        }
        let space_follows = line
            .get(pos..)
            .is_some_and(|rest| rest.starts_with(char::is_whitespace));
        let pairs = candidates
            .into_iter()
            .map(|c| Pair {
                replacement: if c.starts_with('/') && !space_follows {
                    format!("{c} ")
                } else {
                    c.clone()
                },
                display: c,
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;

    /// While a command name is typed, the rest of the unique match and its arguments; right after
    /// the name, its arguments.
    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<String> {
        if pos < line.len() {
            return None;
        }
        let rest = line.strip_prefix('/')?;
        if rest.is_empty() || rest.starts_with('/') {
            return None;
        }
        let visible = || COMMANDS.iter().filter(|c| !self.hidden(c.name));
        if let Some(name) = rest.strip_suffix(' ') {
            let c = visible().find(|c| c.name == name)?;
            return (!c.args.is_empty()).then(|| c.args.to_string());
        }
        if rest.contains(char::is_whitespace) {
            return None;
        }
        let mut matches = visible().filter(|c| c.name.starts_with(rest));
        let c = matches.next()?;
        if matches.next().is_some() {
            return None;
        }
        let mut hint = c.name[rest.len()..].to_string();
        if !c.args.is_empty() {
            hint.push(' ');
            hint.push_str(c.args);
        }
        (!hint.is_empty()).then_some(hint)
    }
}

impl Highlighter for ReplHelper {
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        Cow::Owned(hint.dimmed().to_string())
    }

    fn highlight_char(&self, _line: &str, _pos: usize, _kind: CmdKind) -> bool {
        false
    }
}

/// Ctrl-C: on a half-typed line, clear it (the connection stays); on an empty line, let rustyline
/// report an interrupt, which the REPL turns into a clean close.
pub struct CtrlC;

impl ConditionalEventHandler for CtrlC {
    fn handle(
        &self,
        _evt: &Event,
        _n: RepeatCount,
        _positive: bool,
        ctx: &EventContext,
    ) -> Option<Cmd> {
        if ctx.line().is_empty() {
            Some(Cmd::Interrupt)
        } else {
            Some(Cmd::Kill(Movement::WholeBuffer))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustyline::history::DefaultHistory;

    fn with_ctx<T>(f: impl FnOnce(&Context<'_>) -> T) -> T {
        let history = DefaultHistory::new();
        let ctx = Context::new(&history);
        f(&ctx)
    }

    /// What the candidates show, and what each puts on the line.
    fn both(r: (usize, Vec<Pair>)) -> (usize, Vec<String>, Vec<String>) {
        let shown = r.1.iter().map(|p| p.display.clone()).collect();
        let put = r.1.iter().map(|p| p.replacement.clone()).collect();
        (r.0, shown, put)
    }

    #[test]
    fn completion_hides_listen_commands_in_the_client() {
        let client = ReplHelper {
            listen: false,
            lens: &[],
        };
        let listen = ReplHelper {
            listen: true,
            lens: &[],
        };
        with_ctx(|ctx| {
            let lensed = ReplHelper {
                listen: false,
                lens: crate::lens::by_name("socketio").unwrap().commands,
            };
            let (start, c, put) = both(lensed.complete("/e", 2, ctx).unwrap());
            assert_eq!(
                (start, c),
                (
                    0,
                    vec![
                        "/emit".to_string(),
                        "/exit".into(),
                        "/expect".into(),
                        "/expect-close".into(),
                        "/expect-json".into()
                    ]
                )
            );
            assert_eq!(put[0], "/emit ");
            assert!(client.complete("/em", 3, ctx).unwrap().1.is_empty());
            let (start, c, put) = both(client.complete("/cl", 3, ctx).unwrap());
            assert_eq!((start, c), (0, vec!["/close".to_string()]));
            assert_eq!(put, vec!["/close ".to_string()]);
            let (_, c, _) = both(listen.complete("/cl", 3, ctx).unwrap());
            assert_eq!(c, vec!["/clients".to_string(), "/close".to_string()]);
            let (_, c, _) = both(client.complete("/t", 2, ctx).unwrap());
            assert_eq!(c, vec!["/text".to_string()]);
            assert!(client.complete("/to 3 /p", 8, ctx).unwrap().1.is_empty());
            assert_eq!(listen.complete("/to 3 /p", 8, ctx).unwrap().1.len(), 2);
            let (start, c, put) = both(client.complete("/close t", 8, ctx).unwrap());
            assert_eq!(
                (start, c),
                (7, vec!["too-big".to_string(), "try-again".to_string()])
            );
            assert_eq!(put, vec!["too-big".to_string(), "try-again".to_string()]);
            // A space already after the cursor: none added.
            let (_, _, put) = both(client.complete("/pi x", 3, ctx).unwrap());
            assert_eq!(put, vec!["/ping".to_string()]);
        });
    }

    #[test]
    fn hints_finish_the_name_then_show_arguments() {
        let h = ReplHelper {
            listen: false,
            lens: &[],
        };
        with_ctx(|ctx| {
            assert_eq!(
                h.hint("/clo", 4, ctx).as_deref(),
                Some("se [CODE [REASON]]")
            );
            // /cl is unique in the client (no /clients) but not in listen.
            assert_eq!(
                h.hint("/cl", 3, ctx).as_deref(),
                Some("ose [CODE [REASON]]")
            );
            assert_eq!(
                ReplHelper {
                    listen: true,
                    lens: &[]
                }
                .hint("/cl", 3, ctx),
                None
            );
            assert_eq!(h.hint("/p", 2, ctx), None);
            assert_eq!(h.hint("/ping ", 6, ctx).as_deref(), Some("[PAYLOAD]"));
            assert_eq!(h.hint("/status", 7, ctx), None);
            assert_eq!(h.hint("/status ", 8, ctx), None);
            assert_eq!(h.hint("/ping x", 7, ctx), None);
            assert_eq!(h.hint("/clo", 2, ctx), None);
            assert_eq!(h.hint("hello", 5, ctx), None);
            assert_eq!(h.hint("//x", 3, ctx), None);
            assert_eq!(h.hint("/", 1, ctx), None);
        });
    }
}
