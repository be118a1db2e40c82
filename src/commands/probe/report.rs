//! The probe's report: one aligned line per check (verdict coloured through the printer's colour
//! setting, so NO_COLOR and pipes stay plain), then a summary; or one JSON object with the same.
//! Details quote the server only through escaped text (see `wire::Close`, `upgrade`).

use std::fmt::Write as _;
use std::time::Duration;

use colored::Colorize;
use serde_json::{json, Value};

use crate::probe_checks::{Outcome, Status};

const STATUSES: [Status; 4] = [
    Status::Pass,
    Status::Warn,
    Status::Fail,
    Status::NotApplicable,
];

fn count(outcomes: &[Outcome], s: Status) -> usize {
    outcomes.iter().filter(|o| o.status == s).count()
}

fn coloured(s: Status) -> String {
    let w = format!("{:<4}", s.word());
    match s {
        Status::Pass => w.green().to_string(),
        Status::Warn => w.yellow().bold().to_string(),
        Status::Fail => w.red().bold().to_string(),
        Status::NotApplicable => w.dimmed().to_string(),
    }
}

pub fn human(url: &str, outcomes: &[Outcome], elapsed: Duration) -> String {
    let mut out = format!("{} {}\n", "probe".bold(), url);
    let width = outcomes.iter().map(|o| o.id.id().len()).max().unwrap_or(0);
    for o in outcomes {
        let _ = writeln!(
            out,
            "  {:<width$}  {}  {}",
            o.id.id(),
            coloured(o.status),
            // One line per check: a line feed in the server's words (a close reason) would
            // start a line that reads as a check of its own.
            o.detail.replace('\n', "\\n")
        );
    }
    let parts: Vec<String> = STATUSES
        .iter()
        .map(|&s| format!("{} {}", count(outcomes, s), s.word()))
        .collect();
    let _ = writeln!(
        out,
        "{} check{}: {} in {}",
        outcomes.len(),
        if outcomes.len() == 1 { "" } else { "s" },
        parts.join(", "),
        crate::error::secs(elapsed)
    );
    out
}

pub fn json(url: &str, outcomes: &[Outcome], elapsed: Duration) -> Value {
    let checks: Vec<Value> = outcomes
        .iter()
        .map(|o| {
            let mut c = json!({
                "id": o.id.id(),
                "status": o.status,
                "title": o.id.title(),
                "detail": o.detail,
            });
            if let Some(data) = &o.data {
                c[o.id.id()] = data.clone();
            }
            c
        })
        .collect();
    let mut summary = serde_json::Map::new();
    for s in STATUSES {
        summary.insert(s.word().into(), count(outcomes, s).into());
    }
    summary.insert("checks".into(), outcomes.len().into());
    summary.insert("ok".into(), (count(outcomes, Status::Fail) == 0).into());
    summary.insert("ms".into(), (elapsed.as_millis() as u64).into());
    json!({ "url": url, "checks": checks, "summary": summary })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe_checks::CheckId;

    #[test]
    fn lines_align_and_the_summary_counts() {
        colored::control::set_override(false);
        let o = vec![
            Outcome::new(CheckId::Ping, Status::Pass, "pong"),
            Outcome::new(CheckId::ControlFragmented, Status::Fail, "let it through"),
        ];
        let text = human("ws://h/", &o, Duration::from_millis(300));
        assert!(
            text.contains("  ping                pass  pong\n"),
            "{text}"
        );
        assert!(
            text.contains("  control-fragmented  fail  let it through\n"),
            "{text}"
        );
        assert!(
            text.ends_with("2 checks: 1 pass, 0 warn, 1 fail, 0 n/a in 300 ms\n"),
            "{text}"
        );
        let v = json("ws://h/", &o, Duration::from_millis(300));
        assert_eq!(v["checks"][1]["id"], "control-fragmented");
        assert_eq!(v["checks"][1]["status"], "fail");
        assert_eq!(v["summary"]["fail"], 1);
        assert_eq!(v["summary"]["ok"], false);
    }
}
