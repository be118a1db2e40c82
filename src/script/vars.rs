//! Variables in script lines: `${NAME}` (set by `/let` or a named regex group), `${env:VAR}` (the
//! environment) and `$${` (a literal `${`). A line is split into a [`Template`] once; rendering it
//! is the only place values are put in, so what a value may contain is decided here.

use std::borrow::Cow;
use std::collections::BTreeMap;

/// The variables a script has set so far, by name.
pub type Vars = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Lit(String),
    Var(String),
    Env(String),
}

/// A line with its variable references found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(Vec<Part>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VarError {
    #[error("'${{' at character {at} has no closing '}}'")]
    Unclosed { at: usize },
    #[error("'${{}}' names no variable")]
    Empty,
    #[error("'{0}' is not a variable name: use letters, digits and _, not starting with a digit")]
    BadName(String),
    #[error("unknown variable ${{{0}}}: no earlier /let or named group (?<{0}>...) sets it")]
    Unknown(String),
    #[error("environment variable {0} is not set (${{env:{0}}})")]
    NoEnv(String),
}

impl VarError {
    pub fn hint(&self) -> &'static str {
        match self {
            VarError::Unknown(_) => "set it first with /let NAME FILTER or /expect '(?<NAME>...)'; write $${ for a literal ${",
            VarError::NoEnv(_) => "export the variable before running wscope",
            _ => "write ${NAME} or ${env:VAR}; $${ is a literal ${",
        }
    }
}

/// True for names a variable may have (and so a named group that sets one).
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Template {
    pub fn parse(s: &str) -> Result<Template, VarError> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut rest = s;
        while let Some(i) = rest.find('$') {
            lit.push_str(&rest[..i]);
            let after = &rest[i..];
            if let Some(tail) = after.strip_prefix("$${") {
                lit.push_str("${");
                rest = tail;
            } else if let Some(tail) = after.strip_prefix("${") {
                let at = s.len() - after.len();
                let at = s[..at].chars().count() + 1;
                let end = tail.find('}').ok_or(VarError::Unclosed { at })?;
                let name = &tail[..end];
                let part = match name.strip_prefix("env:") {
                    Some(var) if !var.is_empty() && !var.contains('=') => Part::Env(var.into()),
                    _ if name.is_empty() => return Err(VarError::Empty),
                    _ if valid_name(name) => Part::Var(name.into()),
                    _ => return Err(VarError::BadName(name.into())),
                };
                if !lit.is_empty() {
                    parts.push(Part::Lit(std::mem::take(&mut lit)));
                }
                parts.push(part);
                rest = &tail[end + 1..];
            } else {
                lit.push('$');
                rest = &after[1..];
            }
        }
        lit.push_str(rest);
        if !lit.is_empty() || parts.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Ok(Template(parts))
    }

    /// The `${NAME}`s it refers to (not the environment ones).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|p| match p {
            Part::Var(n) => Some(n.as_str()),
            _ => None,
        })
    }

    /// True when the line starts with a value (`${NAME}` or `${env:VAR}`): it is then a message,
    /// whatever the value holds.
    pub fn starts_with_value(&self) -> bool {
        matches!(self.0.first(), Some(Part::Var(_) | Part::Env(_)))
    }

    /// For a line that starts with `/` (not `//`): the command name, unless a variable touches
    /// it (`/clo${x}`, `/${cmd}`): a command is chosen by what is written, never by a value.
    pub fn written_command(&self) -> Option<Result<&str, &str>> {
        let Some(Part::Lit(first)) = self.0.first() else {
            return None;
        };
        let rest = first.strip_prefix('/').filter(|r| !r.starts_with('/'))?;
        Some(match rest.find(char::is_whitespace) {
            Some(end) => Ok(&rest[..end]),
            None if self.0.len() == 1 => Ok(rest),
            None => Err(rest),
        })
    }

    /// True when it refers to no `${NAME}` (environment variables are known before connecting).
    pub fn is_fixed(&self) -> bool {
        self.names().next().is_none()
    }

    /// Checks what can be checked before connecting: each `${NAME}` is in `defined`, each
    /// `${env:VAR}` is set.
    pub fn check(&self, defined: &dyn Fn(&str) -> bool) -> Result<(), VarError> {
        for p in &self.0 {
            match p {
                Part::Var(n) if !defined(n) => return Err(VarError::Unknown(n.clone())),
                Part::Env(v) => {
                    env(v)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The text with every reference replaced; `quote` turns a value into what goes in (the
    /// identity for messages, `regex::escape` for a pattern).
    pub fn render(
        &self,
        vars: &Vars,
        quote: &dyn Fn(&str) -> Cow<'_, str>,
    ) -> Result<String, VarError> {
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Part::Lit(s) => out.push_str(s),
                Part::Var(n) => {
                    let v = vars.get(n).ok_or_else(|| VarError::Unknown(n.clone()))?;
                    out.push_str(&quote(v));
                }
                Part::Env(v) => out.push_str(&quote(&env(v)?)),
            }
        }
        Ok(out)
    }

    /// The text with every value in as JSON data, for a lens command's arguments: inside a JSON
    /// string of the written text (`["${x}"]`) a value goes in escaped, anywhere else as a
    /// whole JSON string (`/emit chat ${x}` -> `/emit chat "the value"`). A value can then never
    /// end a string, open an array or add an argument, whatever it holds.
    pub fn render_json(&self, vars: &Vars) -> Result<String, VarError> {
        let mut out = String::new();
        // Inside a JSON string of the written text, and just after a backslash there.
        let (mut in_str, mut esc) = (false, false);
        for p in &self.0 {
            let value = match p {
                Part::Lit(s) => {
                    for c in s.chars() {
                        match (in_str, esc, c) {
                            (true, true, _) => esc = false,
                            (true, false, '\\') => esc = true,
                            (true, false, '"') => in_str = false,
                            (false, _, '"') => in_str = true,
                            _ => {}
                        }
                    }
                    out.push_str(s);
                    continue;
                }
                Part::Var(n) => vars
                    .get(n)
                    .ok_or_else(|| VarError::Unknown(n.clone()))?
                    .clone(),
                Part::Env(v) => env(v)?,
            };
            let quoted = serde_json::Value::String(value).to_string();
            if in_str {
                out.push_str(&quoted[1..quoted.len() - 1]);
            } else {
                out.push_str(&quoted);
            }
        }
        Ok(out)
    }

    /// The text with each `${NAME}` standing in as `placeholder`, for checks before connecting;
    /// an environment variable's value goes in through `quote`, as [`Template::render`] puts it.
    pub fn stand_in(&self, placeholder: &str, quote: &dyn Fn(&str) -> Cow<'_, str>) -> String {
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Part::Lit(s) => out.push_str(s),
                Part::Var(_) => out.push_str(placeholder),
                Part::Env(v) => out.push_str(&quote(&env(v).unwrap_or_default())),
            }
        }
        out
    }
}

/// Values go in as they are.
pub fn verbatim(v: &str) -> Cow<'_, str> {
    Cow::Borrowed(v)
}

/// A value in a regex: its literal text.
pub fn regex_literal(v: &str) -> Cow<'_, str> {
    Cow::Owned(regex::escape(v))
}

/// A value in a jq filter: a string literal (JSON's escapes are jq's), never jq code.
pub fn jq_string(v: &str) -> Cow<'_, str> {
    Cow::Owned(serde_json::Value::from(v).to_string())
}

fn env(var: &str) -> Result<String, VarError> {
    std::env::var(var).map_err(|_| VarError::NoEnv(var.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(list: &[(&str, &str)]) -> Vars {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn substitutes_names_and_keeps_the_rest() {
        let t = Template::parse("token=${tok}; cost $5 and $${literal}").unwrap();
        assert_eq!(t.names().collect::<Vec<_>>(), ["tok"]);
        let s = t.render(&vars(&[("tok", "abc")]), &verbatim).unwrap();
        assert_eq!(s, "token=abc; cost $5 and ${literal}");
    }

    #[test]
    fn regex_quoting_applies_to_values_only() {
        let t = Template::parse("^id=${id}$").unwrap();
        let s = t
            .render(&vars(&[("id", "a.b")]), &|v| Cow::Owned(regex::escape(v)))
            .unwrap();
        assert_eq!(s, r"^id=a\.b$");
    }

    #[test]
    fn environment_variables_are_read() {
        let t = Template::parse("${env:PATH}").unwrap();
        assert!(t.is_fixed());
        assert!(!t.render(&Vars::new(), &verbatim).unwrap().is_empty());
        let t = Template::parse("${env:WSCOPE_SURELY_UNSET_VAR}").unwrap();
        assert_eq!(
            t.check(&|_| true),
            Err(VarError::NoEnv("WSCOPE_SURELY_UNSET_VAR".into()))
        );
    }

    #[test]
    fn bad_references_are_refused() {
        assert_eq!(
            Template::parse("a ${b").unwrap_err(),
            VarError::Unclosed { at: 3 }
        );
        assert_eq!(Template::parse("${}").unwrap_err(), VarError::Empty);
        assert_eq!(
            Template::parse("${1x}").unwrap_err(),
            VarError::BadName("1x".into())
        );
        let t = Template::parse("${who}").unwrap();
        assert_eq!(t.check(&|_| false), Err(VarError::Unknown("who".into())));
        assert_eq!(
            t.render(&Vars::new(), &verbatim),
            Err(VarError::Unknown("who".into()))
        );
        assert_eq!(t.stand_in("x", &verbatim), "x");
    }

    #[test]
    fn multibyte_text_is_safe() {
        let t = Template::parse("é${x}ü$").unwrap();
        assert_eq!(t.render(&vars(&[("x", "→")]), &verbatim).unwrap(), "é→ü$");
        assert_eq!(
            Template::parse("éé${").unwrap_err(),
            VarError::Unclosed { at: 3 }
        );
    }
}
