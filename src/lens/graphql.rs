//! The graphql-ws lens: graphql-transport-ws (npm `graphql-ws`) and the legacy `graphql-ws`
//! subprotocol (subscriptions-transport-ws), told apart by the negotiated subprotocol. Messages are
//! JSON `{type, id, payload}`; `/subscribe` and `/complete` encode them; the duties are
//! `connection_init` (with `--lens-auth` as payload), `connection_ack` within the connect
//! timeout, and a pong for every ping.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::socketio::lens_cmd;
use super::text;
use super::{Config, Decoded, Dir, Entry, Lens, Out, Step};
use crate::event::DataKind;
use crate::slash::CommandHelp;

pub const ENTRY: Entry = Entry {
    name: "graphql-ws",
    commands: COMMANDS,
    make,
};

const COMMANDS: &[CommandHelp] = &[
    lens_cmd(
        "subscribe",
        "ID QUERY [VARIABLES_JSON]",
        "start a GraphQL operation (graphql-ws)",
        "/subscribe 1 subscription { greetings }",
    ),
    lens_cmd(
        "complete",
        "ID",
        "stop a GraphQL operation (graphql-ws)",
        "/complete 1",
    ),
];

fn make(cfg: &Config) -> Box<dyn Lens> {
    Box::new(Graphql {
        legacy: cfg.subprotocol.as_deref() == Some("graphql-ws"),
        active: !cfg.passive,
        auth: cfg.auth.clone(),
        timeout: cfg.timeout,
        ack_by: None,
    })
}

struct Graphql {
    legacy: bool,
    active: bool,
    auth: Option<Value>,
    timeout: Duration,
    /// `connection_init` was sent: the ack is due by then.
    ack_by: Option<Instant>,
}

impl Lens for Graphql {
    fn name(&self) -> &'static str {
        ENTRY.name
    }

    fn decode(&mut self, _dir: Dir, kind: DataKind, data: &[u8]) -> Result<Decoded, String> {
        if kind == DataKind::Binary {
            return Err("a binary message".into());
        }
        let text = std::str::from_utf8(data).map_err(|_| "not UTF-8 text".to_string())?;
        decode(&text::parse_json(text)?)
    }

    fn command(&mut self, name: &str, arg: &str) -> Option<Result<Vec<Out>, String>> {
        match name {
            "subscribe" => Some(self.subscribe(arg)),
            "complete" => Some(self.complete(arg)),
            _ => None,
        }
    }

    fn start(&mut self, now: Instant) -> Step {
        if !self.active {
            return Step::default();
        }
        self.ack_by = Some(now + self.timeout);
        let mut init = json!({"type": "connection_init"});
        if let Some(a) = &self.auth {
            init["payload"] = a.clone();
        }
        Step::send(Out::Text(init.to_string()))
    }

    fn after(&mut self, d: &Decoded, _now: Instant) -> Step {
        if !self.active {
            return Step::default();
        }
        match d.json["type"].as_str() {
            Some("connection_ack") => {
                self.ack_by = None;
                Step::default()
            }
            Some("ping") if !self.legacy => {
                let mut pong = json!({"type": "pong"});
                if let Some(p) = d.json.get("payload") {
                    pong["payload"] = p.clone();
                }
                Step::send(Out::Text(pong.to_string()))
            }
            Some("connection_error") => Step::fail(format!(
                "graphql-ws: the server refused connection_init: {}",
                text::short(&d.json["payload"])
            )),
            _ => Step::default(),
        }
    }

    fn ready(&self) -> bool {
        self.ack_by.is_none()
    }

    fn deadline(&self) -> Option<Instant> {
        self.ack_by
    }

    fn on_deadline(&mut self, now: Instant) -> Step {
        match self.ack_by {
            Some(at) if now >= at => {
                self.ack_by = None;
                Step::fail(format!(
                    "graphql-ws: no connection_ack within {} s of connection_init (--connect-timeout)",
                    self.timeout.as_secs_f64()
                ))
            }
            _ => Step::default(),
        }
    }
}

impl Graphql {
    fn subscribe(&mut self, arg: &str) -> Result<Vec<Out>, String> {
        let (id, rest) = text::first_arg(arg);
        if id.is_empty() || rest.is_empty() {
            return Err(
                "needs an ID and a QUERY, e.g. /subscribe 1 subscription { greetings }".into(),
            );
        }
        let (query, vars) = split_variables(rest)?;
        let mut payload = json!({ "query": query });
        if let Some(v) = vars {
            payload["variables"] = v;
        }
        let kind = if self.legacy { "start" } else { "subscribe" };
        let m = json!({"id": id, "type": kind, "payload": payload});
        Ok(vec![Out::Text(m.to_string())])
    }

    fn complete(&mut self, arg: &str) -> Result<Vec<Out>, String> {
        let (id, rest) = text::first_arg(arg);
        if id.is_empty() || !rest.is_empty() {
            return Err("needs one ID, e.g. /complete 1".into());
        }
        let kind = if self.legacy { "stop" } else { "complete" };
        Ok(vec![Out::Text(json!({"id": id, "type": kind}).to_string())])
    }
}

/// `QUERY [VARIABLES_JSON]`: the query may be a JSON string; variables are a trailing JSON
/// object (a GraphQL query is never one: its keys are not quoted).
fn split_variables(rest: &str) -> Result<(String, Option<Value>), String> {
    let rest = rest.trim();
    if rest.starts_with('"') {
        let mut it = serde_json::Deserializer::from_str(rest).into_iter::<String>();
        if let Some(Ok(q)) = it.next() {
            let tail = &rest[it.byte_offset()..];
            return Ok((q, text::json_arg(tail, "VARIABLES_JSON")?));
        }
    }
    if rest.ends_with('}') {
        for (pos, _) in rest
            .match_indices('{')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
        {
            let (q, v) = rest.split_at(pos);
            if q.trim().is_empty() {
                break;
            }
            if let Ok(Value::Object(o)) = text::parse_json(v) {
                return Ok((q.trim().to_string(), Some(Value::Object(o))));
            }
        }
    }
    Ok((rest.to_string(), None))
}

/// One message of either protocol.
pub fn decode(v: &Value) -> Result<Decoded, String> {
    let Some(t) = v.get("type").and_then(Value::as_str) else {
        return Err("no \"type\" member".into());
    };
    let known = [
        "connection_init",
        "connection_ack",
        "ping",
        "pong",
        "subscribe",
        "next",
        "error",
        "complete",
        "connection_error",
        "ka",
        "start",
        "data",
        "stop",
        "connection_terminate",
    ];
    if !known.contains(&t) {
        return Err(format!("unknown message type {}", text::quoted(t)));
    }
    let mut s = t.to_string();
    if let Some(id) = v.get("id") {
        let id = id
            .as_str()
            .map_or_else(|| text::short(id), |i| text::cut(i, 100));
        s.push_str(&format!(" id {id}"));
    }
    if let Some(p) = v.get("payload").filter(|p| !p.is_null()) {
        s.push(' ');
        s.push_str(&text::short(p));
    }
    let d = Decoded::new(s, v.clone());
    Ok(match t {
        "connection_init" | "connection_ack" | "ping" | "pong" | "ka" => d.duty(),
        _ => d,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lens(sub: &str) -> Graphql {
        let cfg = Config {
            subprotocol: Some(sub.into()),
            auth: Some(json!({"token": "t"})),
            ..Config::default()
        };
        Graphql {
            legacy: cfg.subprotocol.as_deref() == Some("graphql-ws"),
            active: true,
            auth: cfg.auth,
            timeout: Duration::from_millis(50),
            ack_by: None,
        }
    }

    fn text(o: &[Out]) -> Value {
        match &o[0] {
            Out::Text(t) => serde_json::from_str(t).unwrap(),
            Out::Binary(_) => panic!("binary"),
        }
    }

    #[test]
    fn init_ack_ping_and_deadline() {
        let mut l = lens("graphql-transport-ws");
        let now = Instant::now();
        let s = l.start(now);
        assert_eq!(
            text(&s.send),
            json!({"type":"connection_init","payload":{"token":"t"}})
        );
        let ping = decode(&json!({"type":"ping"})).unwrap();
        assert_eq!(text(&l.after(&ping, now).send), json!({"type":"pong"}));
        assert!(l.on_deadline(now).fail.is_none());
        let f = l.on_deadline(now + Duration::from_secs(1)).fail.unwrap();
        assert!(f.contains("no connection_ack"), "{f}");
        let mut l = lens("graphql-transport-ws");
        l.start(now);
        l.after(&decode(&json!({"type":"connection_ack"})).unwrap(), now);
        assert_eq!(l.deadline(), None);
    }

    #[test]
    fn subscribe_and_complete_in_both_dialects() {
        let mut l = lens("graphql-transport-ws");
        let o = l
            .subscribe(r#"1 subscription { greet(n: $n) } {"n":2}"#)
            .unwrap();
        assert_eq!(
            text(&o),
            json!({"id":"1","type":"subscribe","payload":{"query":"subscription { greet(n: $n) }","variables":{"n":2}}})
        );
        let o = l.subscribe("2 { hello }").unwrap();
        assert_eq!(text(&o)["payload"]["query"], "{ hello }");
        let mut old = lens("graphql-ws");
        assert_eq!(text(&old.subscribe("1 { a }").unwrap())["type"], "start");
        assert_eq!(text(&old.complete("1").unwrap())["type"], "stop");
        assert!(l.complete("").is_err());
        assert!(l.subscribe("1").is_err());
    }

    #[test]
    fn decode_names_and_refuses() {
        let d = decode(&json!({"type":"next","id":"1","payload":{"data":{"x":1}}})).unwrap();
        assert_eq!(d.summary, r#"next id 1 {"data":{"x":1}}"#);
        assert!(decode(&json!({"type":"bogus"})).is_err());
        assert!(decode(&json!([1])).is_err());
    }
}
