//! What an expectation matches with: a Rust `regex` against a message's text (a binary message's
//! hex form), or a jq filter run by jaq on a message that is JSON. Compiling is separate from
//! running, so a bad pattern is refused before connecting. jaq recurses over nesting, so both a
//! filter and a message are measured first ([`filter_depth`], [`json_depth`]: iterative scans)
//! and refused past a bound; running is the [`worker`](super::worker)'s, on a deep stack.

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{data, Compiler, Ctx, Vars as JqVars};
use jaq_json::Val;

/// A message nested deeper than this is not JSON to a filter (SPEC.md "Expect scripting").
pub const MAX_JSON_DEPTH: usize = 512;
/// A filter nested deeper than this (brackets, parentheses, braces, strings) is refused.
pub const MAX_FILTER_DEPTH: usize = 256;

/// A compiled jq filter.
pub struct Jq {
    filter: jaq_core::compile::Filter<jaq_core::Native<data::JustLut<Val>>>,
}

impl std::fmt::Debug for Jq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Jq")
    }
}

/// What a filter gave for one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JqOutcome {
    /// The input is not JSON.
    NotJson,
    /// No output, or an error (a type error on an unexpected shape): no match.
    Nothing,
    /// The first output: truthy (not false or null), and as text (a string bare, other JSON as
    /// compact JSON).
    Value { truthy: bool, text: String },
}

/// The stack of a thread that compiles or runs a filter: jaq recurses over the filter's and the
/// value's nesting; only the part used takes memory.
pub(super) const STACK: usize = 512 << 20;

impl Jq {
    /// Compile `code` (measured first, then compiled on a deep stack).
    pub fn compile(code: &str) -> Result<Jq, String> {
        let depth = filter_depth(code);
        if depth > MAX_FILTER_DEPTH {
            return Err(format!(
                "it is nested {depth} deep; at most {MAX_FILTER_DEPTH} levels of (), [], {{}} and strings are allowed"
            ));
        }
        // Compiled on a thread with a deep stack: jaq's parser and compiler recurse over the
        // filter's nesting.
        let code = code.to_string();
        std::thread::Builder::new()
            .name("wscope-jq-build".into())
            .stack_size(STACK)
            .spawn(move || Jq::compile_here(&code))
            .map_err(|e| format!("cannot start a thread to compile it: {e}"))?
            .join()
            .unwrap_or_else(|_| Err("the jq compiler failed on it".into()))
    }

    /// Compile on this thread: [`Jq::compile`] runs it on one with a deep enough stack.
    pub(super) fn compile_here(code: &str) -> Result<Jq, String> {
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs());
        let loader = Loader::new(defs);
        let arena = Arena::default();
        let modules = loader
            .load(&arena, File { code, path: () })
            .map_err(|errs| load_error(code, errs))?;
        let filter = Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errs| {
                let mut names = Vec::new();
                for (_, list) in errs {
                    for (name, undefined) in list {
                        names.push(format!("{} {name}", undefined.as_str()));
                    }
                }
                format!("undefined {}", names.join(", "))
            })?;
        Ok(Jq { filter })
    }

    /// Run on a message's text, here (the [`worker`](super::worker) runs it on its own thread).
    pub fn run(&self, text: &str) -> JqOutcome {
        if json_depth(text.as_bytes()) > MAX_JSON_DEPTH {
            return JqOutcome::NotJson;
        }
        let Ok(input) = jaq_json::read::parse_single(text.as_bytes()) else {
            return JqOutcome::NotJson;
        };
        let ctx = Ctx::<data::JustLut<Val>>::new(&self.filter.lut, JqVars::new([]));
        let mut out = self.filter.id.run((ctx, input));
        match out.next() {
            Some(Ok(v)) => JqOutcome::Value {
                truthy: jaq_core::ValT::as_bool(&v),
                text: match &v {
                    Val::TStr(b) => String::from_utf8_lossy(b).into_owned(),
                    other => other.to_string(),
                },
            },
            // An error, a `halt`, or no output at all: this message does not match.
            Some(Err(_)) | None => JqOutcome::Nothing,
        }
    }
}

/// How deep JSON text nests (arrays and objects), strings and their escapes skipped. Iterative,
/// for text of any depth; it does not check that the text is JSON.
pub fn json_depth(text: &[u8]) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    let mut bytes = text.iter();
    while let Some(b) = bytes.next() {
        match b {
            b'"' => {
                while let Some(b) = bytes.next() {
                    match b {
                        b'\\' => {
                            bytes.next();
                        }
                        b'"' => break,
                        _ => {}
                    }
                }
            }
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// How deep a jq filter nests: (), [], {}, strings, and `\(...)` inside strings; `#` comments
/// skipped. Iterative, for a filter of any depth.
pub fn filter_depth(code: &str) -> usize {
    // What each open level is: a bracket of code, a string, or an interpolation in a string.
    let mut open: Vec<u8> = Vec::new();
    let mut max = 0;
    let mut bytes = code.bytes();
    while let Some(b) = bytes.next() {
        if open.last() == Some(&b'"') {
            match b {
                // An escape takes the next byte; `\(` opens an interpolation.
                b'\\' if bytes.next() == Some(b'(') => open.push(b'i'),
                b'"' => {
                    open.pop();
                }
                _ => {}
            }
        } else {
            match b {
                b'"' | b'(' | b'[' | b'{' => open.push(b),
                b')' | b']' | b'}' => {
                    open.pop();
                }
                b'#' => {
                    for c in bytes.by_ref() {
                        if c == b'\n' {
                            break;
                        }
                    }
                }
                _ => {}
            }
        }
        max = max.max(open.len());
    }
    max
}

/// jaq's load errors as one line: what it expected, and where.
fn load_error<P>(code: &str, errs: jaq_core::load::Errors<&str, P>) -> String {
    use jaq_core::load::Error;
    let at = |s: &str| {
        // The slice points into `code`: its offset is where the problem is.
        let offset = (s.as_ptr() as usize).saturating_sub(code.as_ptr() as usize);
        let offset = offset.min(code.len());
        let col = code.get(..offset).map_or(offset, |p| p.chars().count()) + 1;
        let near: String = s.chars().take(12).collect();
        if near.is_empty() {
            format!("at the end (character {col})")
        } else {
            format!("at character {col} ('{near}')")
        }
    };
    let mut out = Vec::new();
    for (_, e) in errs {
        match e {
            Error::Io(list) => out.extend(list.into_iter().map(|(_, m)| m)),
            Error::Lex(list) => {
                for (expect, s) in list {
                    let what = match expect {
                        jaq_core::load::lex::Expect::Digit => "a digit",
                        jaq_core::load::lex::Expect::Ident => "an identifier",
                        jaq_core::load::lex::Expect::Delim(d) => match d {
                            "(" => "a closing parenthesis",
                            "[" => "a closing bracket",
                            "{" => "a closing brace",
                            _ => "a closing quote",
                        },
                        jaq_core::load::lex::Expect::Escape => "a string escape",
                        jaq_core::load::lex::Expect::Unicode => "a 4-digit code point",
                        _ => "a token",
                    };
                    out.push(format!("expected {what} {}", at(s)));
                }
            }
            Error::Parse(list) => {
                for (expect, s) in list {
                    out.push(format!("expected {} {}", expect.as_str(), at(s)));
                }
            }
        }
    }
    if out.is_empty() {
        "not a jq filter".into()
    } else {
        out.join("; ")
    }
}

/// A regex, compiled, with its error in one line.
pub fn regex(pattern: &str) -> Result<regex::Regex, String> {
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 22)
        .build()
        .map_err(|e| match e {
            regex::Error::Syntax(s) => {
                // The syntax error is drawn over several lines; its last line says what.
                let last = s.lines().rfind(|l| !l.trim().is_empty()).unwrap_or(&s);
                last.trim_start_matches("error: ").to_string()
            }
            other => other.to_string(),
        })
}

// A session holds its pending expectation across awaits, and `listen` runs sessions on spawned tasks.
// A filter is shared with the thread that runs it.
const _: () = {
    const fn send<T: Send>() {}
    send::<Jq>();
    send::<std::sync::Arc<Jq>>();
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_judge_json_messages() {
        let jq = Jq::compile(r#".type == "ack" and .id == 7"#).unwrap();
        assert_eq!(
            jq.run(r#"{"type":"ack","id":7}"#),
            JqOutcome::Value {
                truthy: true,
                text: "true".into()
            }
        );
        assert!(matches!(
            jq.run(r#"{"type":"ack","id":8}"#),
            JqOutcome::Value { truthy: false, .. }
        ));
        assert_eq!(jq.run("not json"), JqOutcome::NotJson);
        let jq = Jq::compile(".result.token").unwrap();
        assert_eq!(
            jq.run(r#"{"result":{"token":"a b"}}"#),
            JqOutcome::Value {
                truthy: true,
                text: "a b".into()
            }
        );
        let jq = Jq::compile(".a").unwrap();
        assert!(matches!(
            jq.run(r#"{"a":{"b":[1,2]}}"#),
            JqOutcome::Value { text, .. } if text == r#"{"b":[1,2]}"#
        ));
        // A type error is no match, not a failure.
        assert_eq!(jq.run("\"text\""), JqOutcome::Nothing);
        assert_eq!(Jq::compile("empty").unwrap().run("1"), JqOutcome::Nothing);
    }

    #[test]
    fn std_functions_are_there() {
        let jq = Jq::compile(r#".items | map(select(.ok)) | length"#).unwrap();
        assert!(matches!(
            jq.run(r#"{"items":[{"ok":true},{"ok":false}]}"#),
            JqOutcome::Value { text, .. } if text == "1"
        ));
        let jq = Jq::compile(r#".msg | test("^hel")"#).unwrap();
        assert!(matches!(
            jq.run(r#"{"msg":"hello"}"#),
            JqOutcome::Value { truthy: true, .. }
        ));
    }

    #[test]
    fn bad_filters_say_why() {
        let e = Jq::compile(".a ==").unwrap_err();
        assert!(e.contains("expected"), "{e}");
        let e = Jq::compile("nosuchfn(1)").unwrap_err();
        assert!(e.contains("nosuchfn"), "{e}");
        for bad in [
            "(.a",
            "[1",
            "{a:1",
            "\"abc",
            "$",
            "@",
            ".a | | .b",
            "\"\\q\"",
        ] {
            assert!(Jq::compile(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn depth_scans_skip_strings_and_escapes() {
        assert_eq!(json_depth(br#"{"a":[1,{"b":"[[[\"{{"}]}"#), 3);
        assert_eq!(json_depth(b"\"[[[\""), 0);
        assert_eq!(json_depth(&[b'['; 100_000]), 100_000);
        assert_eq!(filter_depth(r#".a | [.b, "(((\"("]"#), 2);
        assert_eq!(filter_depth(r#""a\(.b | "\(.c)")""#), 4);
        assert_eq!(filter_depth("# (((\n.a"), 0);
        let deep = format!("{}.{}", "(".repeat(300), ")".repeat(300));
        assert!(Jq::compile(&deep).unwrap_err().contains("nested 300 deep"));
        let ok = format!("{}.{}", "(".repeat(200), ")".repeat(200));
        assert!(Jq::compile(&ok).is_ok());
    }

    #[test]
    fn regex_errors_are_one_line() {
        let e = regex("a(b").unwrap_err();
        assert!(!e.contains('\n'), "{e}");
        assert!(e.contains("unclosed"), "{e}");
        assert!(regex("(?<name>\\w+)").is_ok());
    }
}
