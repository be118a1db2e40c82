//! Events as JSON objects, one per line, for jq. Every object has `event`, `t` (seconds since the
//! connection opened) and `time` (Unix seconds). Binary data is hex; text is a string.

use std::time::Instant;

use serde_json::{json, Map, Value};

use crate::deflate::Wire;
use crate::event::{DataKind, Event};
use crate::wire::close;
use crate::wire::hexdump::hex_plain;

pub(crate) fn base(started: Instant, event: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("event".into(), event.into());
    m.insert("t".into(), seconds(started.elapsed()));
    m.insert("time".into(), json!(super::style::unix_time()));
    m
}

/// Seconds to the microsecond, always as a plain decimal: serde_json writes an f64 under 1e-5 in
/// exponent form (`1e-6`), which tools reading `t` as a decimal trip over, so those few µs are 0.
fn seconds(d: std::time::Duration) -> Value {
    let t = (d.as_secs_f64() * 1e6).round() / 1e6;
    json!(if t < 1e-5 { 0.0 } else { t })
}

fn data(m: &mut Map<String, Value>, kind: DataKind, bytes: &[u8], wire: Wire) {
    m.insert("type".into(), json!(kind));
    m.insert("size".into(), json!(bytes.len()));
    m.insert("compressed".into(), json!(wire.compressed));
    m.insert("wire_size".into(), json!(wire.size));
    match (kind, std::str::from_utf8(bytes)) {
        (DataKind::Text, Ok(s)) => m.insert("data".into(), s.into()),
        _ => m.insert("hex".into(), hex_plain(bytes).into()),
    };
}

fn control(m: &mut Map<String, Value>, dir: &str, payload: &[u8]) {
    m.insert("dir".into(), dir.into());
    m.insert("data".into(), String::from_utf8_lossy(payload).into());
    m.insert("hex".into(), hex_plain(payload).into());
}

fn close(m: &mut Map<String, Value>, dir: &str, code: Option<u16>, reason: &str) {
    m.insert("dir".into(), dir.into());
    m.insert("code".into(), json!(code));
    m.insert("name".into(), json!(code.map(close::name)));
    m.insert("reason".into(), reason.into());
}

pub fn event(started: Instant, ev: &Event<'_>) -> Option<Value> {
    let v = match ev {
        Event::Sent {
            kind,
            data: d,
            wire,
            lens,
            ..
        } => {
            let mut m = base(started, "sent");
            data(&mut m, *kind, d, *wire);
            if let Some(v) = lens {
                m.insert("lens".into(), v.to_json());
            }
            m
        }
        Event::Received {
            kind,
            data: d,
            wire,
            lens,
        } => {
            let mut m = base(started, "received");
            data(&mut m, *kind, d, *wire);
            if let Some(v) = lens {
                m.insert("lens".into(), v.to_json());
            }
            m
        }
        Event::PingSent(p) => {
            let mut m = base(started, "ping");
            control(&mut m, "sent", p);
            m
        }
        Event::PingReceived(p) => {
            let mut m = base(started, "ping");
            control(&mut m, "received", p);
            m
        }
        Event::PongSent(p) => {
            let mut m = base(started, "pong");
            control(&mut m, "sent", p);
            m
        }
        Event::PongReceived { payload, rtt } => {
            let mut m = base(started, "pong");
            control(&mut m, "received", payload);
            m.insert("rtt_ms".into(), json!(rtt.map(|d| d.as_secs_f64() * 1e3)));
            m
        }
        Event::CloseSent { code, reason } => {
            let mut m = base(started, "close");
            close(&mut m, "sent", Some(*code), reason);
            m
        }
        Event::CloseReceived { code, reason } => {
            let mut m = base(started, "close");
            close(&mut m, "received", *code, reason);
            m
        }
        Event::Refused { message, hint } | Event::Failed { message, hint } => {
            return Some(error(started, message, *hint))
        }
        Event::Notice(text) => return Some(notice(started, text)),
        Event::Expect(r) => return Some(super::expect::json(started, r)),
        Event::Status(s) => {
            let mut m = base(started, "status");
            if let Ok(Value::Object(o)) = serde_json::to_value(s) {
                m.extend(o);
            }
            m.insert("uptime_s".into(), json!(s.opened.elapsed().as_secs_f64()));
            m.insert(
                "last_rtt_ms".into(),
                json!(s.last_rtt.map(|d| d.as_secs_f64() * 1e3)),
            );
            m
        }
        Event::Help | Event::Verbose(_) | Event::Frame { .. } => return None,
        Event::Closed(e) => {
            let mut m = base(started, "closed");
            if let Ok(Value::Object(o)) = serde_json::to_value(e) {
                m.extend(o);
            }
            m
        }
    };
    Some(Value::Object(v))
}

/// The pong the WebSocket library sends by itself for a received ping.
pub fn auto_pong(started: Instant, payload: &[u8]) -> Value {
    let mut m = base(started, "pong");
    control(&mut m, "sent", payload);
    m.insert("auto".into(), true.into());
    Value::Object(m)
}

pub fn error(started: Instant, message: &str, hint: Option<&str>) -> Value {
    let mut m = base(started, "error");
    m.insert("message".into(), message.into());
    m.insert("hint".into(), json!(hint));
    Value::Object(m)
}

pub fn notice(started: Instant, text: &str) -> Value {
    let mut m = base(started, "notice");
    m.insert("message".into(), text.into());
    Value::Object(m)
}

/// The connection opened: URL, negotiation, time to open.
pub fn open(started: Instant, r: &crate::handshake::Report) -> Value {
    let mut m = base(started, "open");
    m.insert("url".into(), r.url.clone().into());
    m.insert("subprotocol".into(), json!(r.subprotocol()));
    m.insert("extensions".into(), json!(r.extensions()));
    m.insert(
        "deflate".into(),
        json!(r.verdict.as_ref().and_then(|v| v.deflate)),
    );
    m.insert(
        "ms".into(),
        json!(r.timings.total.map(|d| d.as_secs_f64() * 1e3)),
    );
    m.insert("redirects".into(), json!(r.redirects));
    m.insert("proxy".into(), json!(r.proxy.as_ref().map(|p| &p.url)));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn seconds_are_plain_decimals() {
        for (d, shown) in [
            (Duration::from_nanos(1_000), "0.0"),
            (Duration::from_nanos(9_400), "0.0"),
            (Duration::from_micros(10), "0.00001"),
            (Duration::from_micros(1_234_567), "1.234567"),
        ] {
            assert_eq!(seconds(d).to_string(), shown);
        }
    }
}
