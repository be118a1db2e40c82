//! `probe --sarif FILE`: the findings as SARIF 2.1.0 (OASIS), the format code-scanning dashboards
//! read. One run of the tool `wscope`; every check that ran is a rule (its id and title); every
//! failed or warned check is a result (`error` or `warning`) whose message is the evidence and
//! the `wscope` command that reproduces it (`--only ID` added to the user's command, credentials
//! redacted by `config`). The location is the URL probed. A probe that could not run at all is
//! an invocation that did not succeed, with the error as its notification.

use serde_json::{json, Value};

use crate::probe_checks::{Outcome, Status};

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The SARIF document for a probe of `url` with these outcomes; `error` when it stopped.
pub fn document(url: &str, outcomes: &[Outcome], command: &str, error: Option<&str>) -> Value {
    let rules: Vec<Value> = outcomes
        .iter()
        .map(|o| {
            json!({
                "id": o.id.id(),
                "name": o.id.id(),
                "shortDescription": { "text": o.id.title() },
                "defaultConfiguration": { "level": "error" },
            })
        })
        .collect();
    let results: Vec<Value> = outcomes
        .iter()
        .enumerate()
        .filter_map(|(i, o)| {
            let level = match o.status {
                Status::Fail => "error",
                Status::Warn => "warning",
                _ => return None,
            };
            let reproduce = format!("{command} --only {}", o.id.id());
            Some(json!({
                "ruleId": o.id.id(),
                "ruleIndex": i,
                "level": level,
                "message": { "text": format!("{}: {}. Reproduce: {reproduce}", o.id.id(), o.detail) },
                "locations": [{ "physicalLocation": { "artifactLocation": { "uri": url } } }],
                "properties": { "status": o.status.word(), "command": reproduce },
            }))
        })
        .collect();
    let mut invocation = json!({
        "executionSuccessful": error.is_none() || !outcomes.is_empty(),
        "commandLine": command,
    });
    if let Some(e) = error {
        invocation["toolExecutionNotifications"] = json!([{
            "level": "error",
            "message": { "text": e },
        }]);
    }
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "wscope",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "invocations": [invocation],
            "results": results,
        }],
    })
}

/// Write the document to `path` off the runtime thread; an error names the file and the flag.
pub async fn write(path: &std::path::Path, doc: &Value) -> crate::error::Result<()> {
    let text = serde_json::to_string_pretty(doc).unwrap_or_default() + "\n";
    let owned = path.to_path_buf();
    let written = tokio::task::spawn_blocking(move || std::fs::write(owned, text)).await;
    let failed = |e: String| {
        crate::error::Error::Runtime(format!(
            "cannot write the SARIF report to {} (--sarif): {e}",
            crate::printer::escape::escape(&path.display().to_string())
        ))
    };
    match written {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(failed(e.to_string())),
        Err(e) => Err(failed(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe_checks::CheckId;

    #[test]
    fn failed_and_warned_checks_are_results_with_their_command() {
        let o = vec![
            Outcome::new(CheckId::Ping, Status::Pass, "pong"),
            Outcome::new(CheckId::Utf8, Status::Fail, "let it through"),
            Outcome::new(CheckId::OriginForeign, Status::Warn, "accepted"),
        ];
        let d = document("ws://h/", &o, "wscope probe ws://h/", None);
        assert_eq!(d["version"], "2.1.0");
        assert_eq!(d["$schema"], SCHEMA);
        let run = &d["runs"][0];
        assert_eq!(run["tool"]["driver"]["rules"].as_array().unwrap().len(), 3);
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 2);
        assert_eq!(results[0]["ruleId"], "utf8");
        assert_eq!(results[0]["ruleIndex"], 1);
        assert_eq!(results[0]["level"], "error");
        assert_eq!(results[1]["level"], "warning");
        let text = results[0]["message"]["text"].as_str().unwrap();
        assert!(
            text.contains("let it through") && text.contains("wscope probe ws://h/ --only utf8")
        );
    }
}
