//! Reading back what `--record` wrote: a `session` line, then the `--json` events. A client's
//! transcript is one WebSocket (`sent` is the client's, `received` the server's); a `listen`
//! transcript holds one per client (by `client` id, in the order they came, each opened by its
//! `handshake` line), where `received` is the client's. Events replay does not need are skipped,
//! so transcripts of later versions with new events still load.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::recording::{bad_line, unhex, Entry, Message, Recording};
use crate::error::Result;
use crate::event::DataKind;

/// The transcript's entries. A last line cut off mid-way (the process was killed while writing
/// it) is left out with a note; any other line that is not JSON is an error.
pub fn parse(path: &Path, text: &str) -> Result<Recording> {
    let mut rec = Recording::default();
    let mut server = false;
    let mut base_url = String::new();
    // listen: client id -> index in `rec.entries`.
    let mut clients: BTreeMap<u64, usize> = BTreeMap::new();
    let mut seen_session = false;
    let lines: Vec<&str> = text.split('\n').collect();
    for (i, line) in lines.iter().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(_) if i + 1 == lines.len() => {
                rec.notes.push(format!(
                    "{} line {n} is cut off (the recording ended while it was written): left out",
                    path.display()
                ));
                break;
            }
            Err(e) => return Err(bad_line(path, n, format!("not valid JSON: {e}"))),
        };
        let event = v.get("event").and_then(Value::as_str).unwrap_or("");
        if !seen_session {
            if event != "session" {
                return Err(bad_line(
                    path,
                    n,
                    "a transcript starts with a `session` line (written by --record)",
                ));
            }
            seen_session = true;
            server = v.get("role").and_then(Value::as_str) == Some("server");
            base_url = str_field(&v, "url").unwrap_or_default();
            if !server {
                rec.entries.push(Entry {
                    url: str_field(&v, "url"),
                    headers: headers(&v),
                    opened_at: Some(0.0),
                    ..Entry::default()
                });
            }
            continue;
        }
        let entry = if server {
            let Some(id) = v.get("client").and_then(Value::as_u64) else {
                continue;
            };
            let next = rec.entries.len();
            let idx = *clients.entry(id).or_insert(next);
            if idx == next {
                rec.entries.push(Entry {
                    url: Some(base_url.clone()),
                    opened_at: Some(num(&v, "t")),
                    ..Entry::default()
                });
            }
            &mut rec.entries[idx]
        } else {
            &mut rec.entries[0]
        };
        match event {
            "handshake" if server => {
                entry.headers = headers(&v);
                if let Some(path) = str_field(&v, "path") {
                    entry.url = Some(join(&base_url, &path));
                }
            }
            // What a client's lens sent by itself (a namespace connect, a pong): the lens of
            // the replay does its duties afresh, so they are not replayed blind.
            "sent" if !server && v["lens"]["duty"] == Value::Bool(true) => {}
            "sent" | "received" => {
                let from_client = (event == "sent") != server;
                entry.messages.push(message(path, n, &v, from_client)?);
            }
            _ => {}
        }
    }
    Ok(rec)
}

fn message(path: &Path, n: usize, v: &Value, from_client: bool) -> Result<Message> {
    let kind = match v.get("type").and_then(Value::as_str) {
        Some("text") => DataKind::Text,
        Some("binary") => DataKind::Binary,
        _ => return Err(bad_line(path, n, "a message without `type` text or binary")),
    };
    let data = match (
        v.get("data").and_then(Value::as_str),
        v.get("hex").and_then(Value::as_str),
    ) {
        (Some(d), _) => d.as_bytes().to_vec(),
        (None, Some(h)) => unhex(h).ok_or_else(|| bad_line(path, n, "`hex` is not hex digits"))?,
        (None, None) => return Err(bad_line(path, n, "a message without `data` or `hex`")),
    };
    Ok(Message {
        from_client,
        kind,
        data,
        at: num(v, "t"),
    })
}

fn str_field(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(String::from)
}

fn num(v: &Value, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or(0.0)
}

/// `[{"name", "value"}]` (the transcript's and HAR's shape) as pairs; malformed items are skipped.
pub fn headers(v: &Value) -> Vec<(String, String)> {
    v.get("headers")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|h| Some((str_field(h, "name")?, str_field(h, "value")?)))
                .collect()
        })
        .unwrap_or_default()
}

/// The listen URL `ws://127.0.0.1:8080/` with a client's path.
fn join(base: &str, path: &str) -> String {
    match url::Url::parse(base).and_then(|b| b.join(path)) {
        Ok(u) => u.to_string(),
        Err(_) => base.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Recording> {
        parse(Path::new("t.jsonl"), text)
    }

    #[test]
    fn client_transcript() {
        let rec = load(concat!(
            r#"{"event":"session","role":"client","url":"ws://h/x","headers":[{"name":"Origin","value":"http://o"}]}"#,
            "\n",
            r#"{"event":"sent","t":0.5,"type":"text","data":"hi"}"#,
            "\n",
            r#"{"event":"received","t":0.7,"type":"binary","hex":"00ff"}"#,
            "\n",
            r#"{"event":"ping","t":0.8,"dir":"sent"}"#,
            "\n",
        ))
        .unwrap();
        let e = &rec.entries[0];
        assert_eq!(e.url.as_deref(), Some("ws://h/x"));
        assert_eq!(e.headers, [("Origin".into(), "http://o".into())]);
        assert_eq!(e.counts(), (1, 1));
        assert_eq!(e.messages[1].data, [0, 0xff]);
        assert!(!e.messages[1].from_client);
    }

    #[test]
    fn bad_lines_are_named() {
        let err = load("{\"event\":\"session\"}\nnot json\n{}\n").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.to_string()
                .starts_with("t.jsonl line 2: not valid JSON"),
            "{err}"
        );
        let err = load("{\"event\":\"sent\"}\n").unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
        // A last line cut off by a crash is left out, with a note.
        let rec = load("{\"event\":\"session\"}\n{\"event\":\"sent\",\"ty").unwrap();
        assert_eq!(rec.notes.len(), 1);
    }

    #[test]
    fn listen_transcript_has_one_entry_per_client() {
        let rec = load(concat!(
            r#"{"event":"session","role":"server","url":"ws://127.0.0.1:9/"}"#,
            "\n",
            r#"{"event":"handshake","client":2,"t":0.1,"path":"/a","headers":[]}"#,
            "\n",
            r#"{"event":"received","client":2,"t":0.2,"type":"text","data":"from 2"}"#,
            "\n",
            r#"{"event":"sent","client":3,"t":0.3,"type":"text","data":"to 3"}"#,
            "\n",
        ))
        .unwrap();
        assert_eq!(rec.entries.len(), 2);
        assert_eq!(rec.entries[0].url.as_deref(), Some("ws://127.0.0.1:9/a"));
        assert!(rec.entries[0].messages[0].from_client);
        assert!(!rec.entries[1].messages[0].from_client);
    }
}
