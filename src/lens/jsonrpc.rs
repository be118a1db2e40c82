//! The JSON-RPC 2.0 lens: requests, notifications, results, errors and batches decoded; `/call`
//! assigns ids and each reply is paired with its request, with the latency; `/notify` sends a
//! notification. Requests the user types raw are paired too (any sent request with an id).

use std::collections::HashMap;
use std::time::Instant;

use serde_json::{json, Value};

use super::socketio::lens_cmd;
use super::text;
use super::{Config, Decoded, Dir, Entry, Lens, Out};
use crate::event::DataKind;
use crate::slash::CommandHelp;

pub const ENTRY: Entry = Entry {
    name: "jsonrpc",
    commands: COMMANDS,
    make,
};

const COMMANDS: &[CommandHelp] = &[
    lens_cmd(
        "call",
        "METHOD [PARAMS_JSON]",
        "a JSON-RPC request (id assigned, reply paired)",
        "/call add [1,2]",
    ),
    lens_cmd(
        "notify",
        "METHOD [PARAMS_JSON]",
        "a JSON-RPC notification (no id, no reply)",
        "/notify log {\"level\":\"info\"}",
    ),
];

/// Requests awaiting their reply that we remember.
const MAX_PENDING: usize = 4096;
/// Members of a batch shown in the summary.
const BATCH_SHOWN: usize = 4;

fn make(_cfg: &Config) -> Box<dyn Lens> {
    Box::new(JsonRpc {
        next_id: 1,
        pending: HashMap::new(),
    })
}

struct JsonRpc {
    next_id: u64,
    /// Sent requests by their id (as compact JSON), with when they left and their method.
    pending: HashMap<String, (Instant, String)>,
}

impl Lens for JsonRpc {
    fn name(&self) -> &'static str {
        ENTRY.name
    }

    fn decode(&mut self, dir: Dir, kind: DataKind, data: &[u8]) -> Result<Decoded, String> {
        if kind == DataKind::Binary {
            return Err("a binary message".into());
        }
        let text = std::str::from_utf8(data).map_err(|_| "not UTF-8 text".to_string())?;
        let v = text::parse_json(text)?;
        match v {
            Value::Array(items) => {
                if items.is_empty() {
                    return Err("an empty batch".into());
                }
                let mut parts = Vec::new();
                let mut views = Vec::new();
                for item in items {
                    let d = self.one(dir, item)?;
                    parts.push(d.summary);
                    views.push(d.json);
                }
                let n = parts.len();
                let mut s = format!("batch of {n}: ");
                s.push_str(&parts[..n.min(BATCH_SHOWN)].join("; "));
                if n > BATCH_SHOWN {
                    s.push_str(&format!("; … {} more", n - BATCH_SHOWN));
                }
                Ok(Decoded::new(s, json!({"type": "batch", "items": views})))
            }
            v => self.one(dir, v),
        }
    }

    fn command(&mut self, name: &str, arg: &str) -> Option<Result<Vec<Out>, String>> {
        let notify = match name {
            "call" => false,
            "notify" => true,
            _ => return None,
        };
        Some(self.request(arg, notify))
    }
}

impl JsonRpc {
    fn request(&mut self, arg: &str, notify: bool) -> Result<Vec<Out>, String> {
        let (method, params) = text::first_arg(arg);
        if method.is_empty() {
            return Err("needs a METHOD, e.g. /call add [1,2]".into());
        }
        let mut req = json!({"jsonrpc": "2.0", "method": method});
        if let Some(p) = text::json_arg(params, "PARAMS_JSON")? {
            if !p.is_array() && !p.is_object() {
                return Err("PARAMS_JSON must be an array or an object (JSON-RPC 2.0 §4.2)".into());
            }
            req["params"] = p;
        }
        if !notify {
            req["id"] = json!(self.next_id);
            self.next_id += 1;
        }
        Ok(vec![Out::Text(req.to_string())])
    }

    /// One message of a batch or alone.
    fn one(&mut self, dir: Dir, v: Value) -> Result<Decoded, String> {
        let Value::Object(m) = &v else {
            return Err("not a JSON object".into());
        };
        if m.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
            return Err("no \"jsonrpc\": \"2.0\" member".into());
        }
        let id = m.get("id").cloned();
        let id_text = id.as_ref().map(text::short);
        if let Some(method) = m.get("method") {
            let method = method.as_str().ok_or("method is not a string")?;
            let params = m.get("params").cloned().unwrap_or(Value::Null);
            let (kind, s) = match &id_text {
                Some(i) => ("request", format!("call {method} id {i}")),
                None => ("notification", format!("notify {method}")),
            };
            if let (Dir::Sent, Some(i)) = (dir, &id_text) {
                if self.pending.len() >= MAX_PENDING {
                    self.pending.clear();
                }
                self.pending
                    .insert(i.clone(), (Instant::now(), method.to_string()));
            }
            let s = if params.is_null() {
                s
            } else {
                format!("{s} {}", text::short(&params))
            };
            return Ok(Decoded::new(
                s,
                json!({"type": kind, "method": method, "id": id, "params": params}),
            ));
        }
        let (kind, body) = match (m.get("result"), m.get("error")) {
            (Some(r), None) => ("result", r.clone()),
            (None, Some(e)) => ("error", e.clone()),
            _ => return Err("neither a method, nor exactly one of result and error".into()),
        };
        let mut view = json!({"type": kind, "id": id});
        view[kind] = body.clone();
        let mut s = format!(
            "{kind} id {}",
            id_text.clone().unwrap_or_else(|| "null".into())
        );
        if dir == Dir::Received {
            if let Some((at, method)) = id_text.and_then(|i| self.pending.remove(&i)) {
                let ms = at.elapsed().as_secs_f64() * 1e3;
                s.push_str(&format!(" ({ms:.1} ms)"));
                view["latency_ms"] = json!((ms * 1000.0).round() / 1000.0);
                view["method"] = json!(method);
            }
        }
        let shown = match (kind, &body) {
            ("error", e) => format!("{} {}", text::short(&e["code"]), text::short(&e["message"])),
            _ => text::short(&body),
        };
        Ok(Decoded::new(format!("{s} {shown}"), view))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lens() -> JsonRpc {
        JsonRpc {
            next_id: 1,
            pending: HashMap::new(),
        }
    }

    #[test]
    fn call_assigns_ids_and_pairs_the_reply() {
        let mut l = lens();
        let out = l.command("call", "add [1,2]").unwrap().unwrap();
        let Out::Text(t) = &out[0] else { panic!() };
        let v: Value = serde_json::from_str(t).unwrap();
        assert_eq!(v["id"], 1);
        assert_eq!(v["params"], json!([1, 2]));
        l.decode(Dir::Sent, DataKind::Text, t.as_bytes()).unwrap();
        let d = l
            .decode(
                Dir::Received,
                DataKind::Text,
                br#"{"jsonrpc":"2.0","id":1,"result":3}"#,
            )
            .unwrap();
        assert!(d.summary.starts_with("result id 1 ("), "{}", d.summary);
        assert!(d.summary.ends_with("ms) 3"), "{}", d.summary);
        assert_eq!(d.json["method"], "add");
        assert!(d.json["latency_ms"].is_number());
        let n = l.command("call", "x").unwrap().unwrap();
        assert!(matches!(&n[0], Out::Text(t) if t.contains("\"id\":2")));
    }

    #[test]
    fn notify_has_no_id_and_params_must_be_structured() {
        let mut l = lens();
        let out = l.command("notify", "log {\"a\":1}").unwrap().unwrap();
        assert!(matches!(&out[0], Out::Text(t) if !t.contains("\"id\"")));
        assert!(l.command("notify", "log 3").unwrap().is_err());
        assert!(l.command("call", "").unwrap().is_err());
        assert!(l.command("emit", "x").is_none());
    }

    #[test]
    fn batches_errors_and_bad_input() {
        let mut l = lens();
        let d = l
            .decode(
                Dir::Received,
                DataKind::Text,
                br#"[{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"no"}},{"jsonrpc":"2.0","method":"tick"}]"#,
            )
            .unwrap();
        assert_eq!(
            d.summary,
            "batch of 2: error id 1 -32601 \"no\"; notify tick"
        );
        for bad in [
            &b"[]"[..],
            b"{}",
            b"3",
            b"{\"jsonrpc\":\"2.0\"}",
            b"{",
            b"\xff",
        ] {
            assert!(l.decode(Dir::Received, DataKind::Text, bad).is_err());
        }
        let deep = "[".repeat(100_000);
        assert!(l
            .decode(Dir::Received, DataKind::Text, deep.as_bytes())
            .is_err());
    }
}
