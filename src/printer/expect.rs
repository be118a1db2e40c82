//! How an expectation's end looks as a line, in the REPL or with -v (its `expect` object in
//! --json is `json::expect`).

use crate::event::{Outcome, Report};

/// `expect /expect ^ok$: matched in 12 ms (token=abc)`
pub(super) fn line(r: &Report) -> String {
    let result = match r.result {
        Outcome::Matched => "matched",
        Outcome::Timeout => "timed out",
        Outcome::Closed => "not met, the connection ended",
        Outcome::Cancelled => "cancelled",
    };
    let mut s = format!(
        "expect {}: {result} after {}",
        r.pattern,
        crate::error::secs(r.waited)
    );
    if r.result == Outcome::Matched && !r.vars.is_empty() {
        let vars: Vec<String> = r.vars.iter().map(|(k, v)| format!("{k}={v}")).collect();
        s.push_str(&format!(" ({})", vars.join(", ")));
    }
    s
}
