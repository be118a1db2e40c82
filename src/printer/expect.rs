//! How an expectation's end looks: a line in the REPL (or with -v), an `expect` object in --json.

use std::time::Instant;

use serde_json::{json, Value};

use crate::script::{Outcome, Report};

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

pub(super) fn json(started: Instant, r: &Report) -> Value {
    let mut m = super::json::base(started, "expect");
    m.insert("pattern".into(), r.pattern.clone().into());
    m.insert("result".into(), json!(r.result));
    m.insert(
        "ms".into(),
        json!((r.waited.as_secs_f64() * 1e6).round() / 1e3),
    );
    m.insert("vars".into(), json!(r.vars));
    Value::Object(m)
}
