//! What a lens made of one message ([`View`]): its one-line summary and its JSON view, carried on
//! the `sent`/`received` events to the printer, `--json`, `--record` and the script. A leaf: it
//! uses nothing else of the crate, so `event` can carry it.

use serde_json::Value;

/// What a lens made of one message.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    pub lens: &'static str,
    /// The decoded message, or why it is not one of the lens's packets.
    pub decoded: Result<Decoded, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// One line in the lens's words (`event "chat" ["hi"]`).
    pub summary: String,
    /// The structured view (`{"type":"event","name":"chat","args":["hi"]}`).
    pub json: Value,
    /// Protocol housekeeping (pings, acks of the handshake): shown dimmed.
    pub duty: bool,
}

impl Decoded {
    pub fn new(summary: impl Into<String>, json: Value) -> Decoded {
        Decoded {
            summary: summary.into(),
            json,
            duty: false,
        }
    }
    pub fn duty(mut self) -> Decoded {
        self.duty = true;
        self
    }
}

impl View {
    /// The JSON view as text, for `/expect-json` and `/let`; None when the message did not decode.
    pub fn json_text(&self) -> Option<String> {
        self.decoded.as_ref().ok().map(|d| d.json.to_string())
    }

    /// Protocol housekeeping (see [`Decoded::duty`]).
    pub fn is_duty(&self) -> bool {
        self.decoded.as_ref().is_ok_and(|d| d.duty)
    }

    /// Roughly what it holds in memory, for byte-bounded queues.
    pub fn cost(&self) -> usize {
        match &self.decoded {
            Ok(d) => 64 + d.summary.len() + 2 * json_size(&d.json),
            Err(why) => 64 + why.len(),
        }
    }

    /// The `"lens"` member of a `--json` event.
    pub fn to_json(&self) -> Value {
        match &self.decoded {
            Ok(d) if d.duty => {
                serde_json::json!({"name": self.lens, "summary": d.summary, "view": d.json, "duty": true})
            }
            Ok(d) => serde_json::json!({"name": self.lens, "summary": d.summary, "view": d.json}),
            Err(why) => serde_json::json!({"name": self.lens, "error": why}),
        }
    }
}

/// About how many bytes `v` takes as JSON text, counted without writing it (this runs on every
/// message a lens decodes: serialising the view again to size it doubled the lens's cost).
fn json_size(v: &Value) -> usize {
    match v {
        Value::Null | Value::Bool(_) => 5,
        Value::Number(_) => 20,
        Value::String(s) => s.len() + 2,
        Value::Array(a) => 2 + a.iter().map(|x| json_size(x) + 1).sum::<usize>(),
        Value::Object(o) => {
            2 + o
                .iter()
                .map(|(k, x)| k.len() + 4 + json_size(x))
                .sum::<usize>()
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_size_estimate_is_at_least_the_text() {
        let v = serde_json::json!({"a": [1, "xyz", null, {"b": true}], "long": "é".repeat(50)});
        assert!(super::json_size(&v) >= v.to_string().len());
    }
}
