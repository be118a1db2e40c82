//! Browser HAR exports, in the shape Chromium's DevTools writes ("Save all as HAR"): each
//! WebSocket is an entry of `log.entries` with `_resourceType: "websocket"` and its frames in
//! `_webSocketMessages` (`type` send or receive, `time` in Unix seconds, `opcode` 1 text or 2
//! binary, binary `data` in base64). Other frames (opcodes of control frames) are skipped.

use std::path::Path;

use base64::Engine as _;
use serde_json::Value;

use super::recording::{Entry, Message, Recording};
use super::transcript::headers;
use crate::error::{Error, Result};
use crate::event::DataKind;

pub fn parse(path: &Path, text: &str) -> Result<Recording> {
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        Error::usage_hint(
            format!(
                "{} line {}: not valid JSON: {e}",
                path.display(),
                e.line().max(1)
            ),
            "the file should be a transcript written by --record (JSON Lines) or a HAR export",
        )
    })?;
    let Some(entries) = doc.pointer("/log/entries").and_then(Value::as_array) else {
        return Err(Error::usage_hint(
            format!(
                "{}: neither a wscope transcript (its first line is no --record event) nor a HAR file (no log.entries)",
                path.display()
            ),
            "replay reads what --record wrote, or a HAR export of the browser's DevTools",
        ));
    };
    let mut rec = Recording::default();
    for e in entries.iter().filter(|e| is_websocket(e)) {
        let index = rec.entries.len();
        rec.entries.push(entry(path, index, e)?);
    }
    Ok(rec)
}

fn is_websocket(e: &Value) -> bool {
    e.get("_resourceType").and_then(Value::as_str) == Some("websocket")
        || e.get("_webSocketMessages").is_some()
}

fn entry(path: &Path, index: usize, e: &Value) -> Result<Entry> {
    let request = e.get("request").cloned().unwrap_or(Value::Null);
    let mut messages = Vec::new();
    let frames = e.get("_webSocketMessages").and_then(Value::as_array);
    for (i, m) in frames.into_iter().flatten().enumerate() {
        let bad = |what: &str| {
            Error::usage_hint(
                format!(
                    "{}: WebSocket entry {index}, message {i}: {what}",
                    path.display()
                ),
                "each of _webSocketMessages has type send or receive, time, opcode and data",
            )
        };
        let from_client = match m.get("type").and_then(Value::as_str) {
            Some("send") => true,
            Some("receive") => false,
            _ => return Err(bad("`type` is neither send nor receive")),
        };
        let data = m.get("data").and_then(Value::as_str).unwrap_or("");
        let (kind, data) = match m.get("opcode").and_then(Value::as_u64) {
            Some(1) => (DataKind::Text, data.as_bytes().to_vec()),
            Some(2) => (
                DataKind::Binary,
                base64::engine::general_purpose::STANDARD
                    .decode(data.trim())
                    .map_err(|err| bad(&format!("binary data is not base64: {err}")))?,
            ),
            _ => continue,
        };
        let at = m.get("time").and_then(Value::as_f64).unwrap_or(0.0);
        messages.push(Message {
            from_client,
            kind,
            data,
            at,
        });
    }
    Ok(Entry {
        url: request.get("url").and_then(Value::as_str).map(String::from),
        headers: headers(&request),
        har: true,
        opened_at: messages.first().map(|m| m.at),
        messages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_entries_and_their_frames() {
        let har = r#"{"log":{"entries":[
            {"_resourceType":"document","request":{"url":"https://h/"}},
            {"_resourceType":"websocket","request":{"url":"wss://h/ws","headers":[{"name":"Origin","value":"https://h"}]},
             "_webSocketMessages":[
               {"type":"send","time":100.0,"opcode":1,"data":"hi"},
               {"type":"receive","time":100.25,"opcode":2,"data":"AAE="},
               {"type":"receive","time":100.5,"opcode":9,"data":""}]}]}}"#;
        let rec = parse(Path::new("x.har"), har).unwrap();
        assert_eq!(rec.entries.len(), 1);
        let e = &rec.entries[0];
        assert_eq!(e.url.as_deref(), Some("wss://h/ws"));
        assert_eq!(e.messages.len(), 2);
        assert_eq!(e.messages[1].data, [0, 1]);
        assert_eq!(e.messages[1].kind, DataKind::Binary);
        let bad = har.replace("AAE=", "%%%");
        let err = parse(Path::new("x.har"), &bad).unwrap_err().to_string();
        assert!(
            err.contains("entry 0, message 1") && err.contains("base64"),
            "{err}"
        );
        let err = parse(Path::new("x.har"), "{\n\"log\": [}").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().starts_with("x.har line 2:"), "{err}");
    }
}
