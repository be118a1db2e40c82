//! Events as JSON objects, one per line, for jq. Every object has `event`, `t` (seconds since the
//! connection opened) and `time` (Unix seconds). Binary data is hex; text is a string.

use std::time::Instant;

use serde_json::{json, Map, Value};

use crate::deflate::Wire;
use crate::event::{DataKind, Event};
use crate::wire::close;
use crate::wire::hexdump::hex_plain;

/// An expectation's end as an `expect` object.
fn expect(started: Instant, r: &crate::event::Report) -> Value {
    let mut m = base(started, "expect");
    m.insert("pattern".into(), r.pattern.clone().into());
    m.insert("result".into(), json!(r.result));
    m.insert(
        "ms".into(),
        json!((r.waited.as_secs_f64() * 1e6).round() / 1e3),
    );
    m.insert("vars".into(), json!(r.vars));
    Value::Object(m)
}
/// Every `--json` event of a connection (connect, inspect's close, replay) and its fields besides
/// `event`, `t` and `time`: (events, when, fields). The man page wscope-json(7) is rendered from
/// it, and a test runs sessions and checks every field they print is listed here.
/// One row of [`EVENTS`]: the event names (comma-separated), when it is printed, and each field
/// with its meaning.
pub type EventDoc = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

pub const EVENTS: &[EventDoc] = &[
    (
        "open",
        "the upgrade succeeded",
        &[
            ("url", "the URL connected to"),
            (
                "upgraded",
                "proxy: false when the server refused (its answer is in the other fields)",
            ),
            (
                "subprotocol",
                "the subprotocol the server selected, or null",
            ),
            ("extensions", "the extensions the server accepted"),
            (
                "deflate",
                "what permessage-deflate settled (window bits, context takeover each way), or null",
            ),
            ("ms", "time from the start to the 101, in milliseconds"),
            ("redirects", "the redirect hops followed with -L"),
            ("proxy", "the proxy URL used, or null"),
            ("lens", "the lens in use (--lens), or null"),
        ],
    ),
    (
        "sent, received",
        "a data message",
        &[
            ("type", "text or binary"),
            ("size", "the message's size in bytes"),
            ("data", "the text (a text message)"),
            (
                "hex",
                "the bytes in hex (a binary message, or text that is not UTF-8)",
            ),
            (
                "compressed",
                "true when it crossed the wire compressed (permessage-deflate)",
            ),
            ("wire_size", "payload bytes on the wire"),
            (
                "lens",
                "with a lens on: its name, and its one-line summary and JSON view of the message (or why it did not decode); duty is true for the lens's own housekeeping (a handshake, a pong), which replay leaves to the lens",
            ),
        ],
    ),
    (
        "ping, pong",
        "a control frame",
        &[
            ("dir", "sent or received"),
            ("data", "the payload as text (lossy)"),
            ("hex", "the payload in hex"),
            (
                "rtt_ms",
                "pong only: the round-trip time of the ping it answers, or null",
            ),
            (
                "auto",
                "pong only: true for the pong the library sent by itself for a received ping",
            ),
        ],
    ),
    (
        "close",
        "a close frame",
        &[
            ("dir", "sent or received"),
            (
                "code",
                "the close code, or null (a close frame without one)",
            ),
            ("name", "the code's name (normal closure, going away, ...)"),
            ("reason", "the close reason"),
        ],
    ),
    (
        "closed",
        "the connection ended",
        &[
            ("closer", "us, server or nobody"),
            ("code", "the close code, or null"),
            ("reason", "the close reason"),
            ("clean", "true when the close handshake completed"),
        ],
    ),
    (
        "status",
        "/status",
        &[
            ("state", "CONNECTING, OPEN, CLOSING or CLOSED"),
            ("url", "the URL"),
            ("subprotocol", "the subprotocol, or null"),
            ("extensions", "the accepted extensions"),
            ("uptime_s", "seconds since the connection opened"),
            ("messages_sent", "data messages sent"),
            ("messages_received", "data messages received"),
            ("bytes_sent", "payload bytes sent, before compression"),
            (
                "bytes_received",
                "payload bytes received, after decompression",
            ),
            ("wire_bytes_sent", "payload bytes sent on the wire"),
            ("wire_bytes_received", "payload bytes received on the wire"),
            ("last_rtt_ms", "the last ping's round-trip time, or null"),
        ],
    ),
    (
        "expect",
        "an /expect, /expect-json or /expect-close ended",
        &[
            ("pattern", "what was expected"),
            ("result", "matched, timeout, closed or cancelled"),
            ("ms", "how long it waited, in milliseconds"),
            ("vars", "every variable set so far"),
        ],
    ),
    (
        "error, notice",
        "a diagnostic",
        &[
            ("message", "what happened"),
            ("hint", "error only: how to fix it, or null"),
        ],
    ),
    (
        "unsent",
        "the peer ended the connection while input still waited (pipe mode)",
        &[
            ("never_sent", "lines or messages never sent"),
            (
                "in_flight",
                "messages written but not answered when the connection ended",
            ),
            (
                "complete",
                "false when the input was still open and the count is a lower bound",
            ),
        ],
    ),
    (
        "h2frame",
        "--dump-h2: an HTTP/2 frame crossed the connection carrying the WebSocket",
        &[
            ("dir", "outgoing (we wrote it) or incoming (the server's)"),
            ("t", "seconds since the WebSocket opened (0 for the handshake's frames)"),
            ("type", "the frame type's name (DATA, HEADERS, SETTINGS...), or its number in hex"),
            ("flags", "the flags set, by name"),
            ("stream", "the stream id (0: the connection)"),
            ("len", "the payload length in bytes"),
        ],
    ),
    (
        "reconnect",
        "--reconnect dials again",
        &[
            ("attempt", "the attempt's number"),
            ("max", "the most attempts in a row, or null (no limit)"),
            ("delay_s", "seconds until the attempt"),
            ("reason", "why the connection ended"),
        ],
    ),
    (
        "listening",
        "wscope listen is ready",
        &[
            ("url", "the URL clients connect to"),
            ("echo", "true with --echo"),
            ("upstream", "proxy: the URL each client is relayed to"),
        ],
    ),
    (
        "connected",
        "listen: a client upgraded",
        &[
            ("peer", "the client's address and port"),
            ("path", "the request's path"),
            ("subprotocol", "the subprotocol selected, or null"),
            ("origin", "the request's Origin, or null"),
            ("upstream", "proxy: the URL its server hop opened"),
        ],
    ),
    (
        "handshake",
        "listen -v: a client's upgrade request and our answer",
        &[
            ("peer", "the client's address and port"),
            ("tls", "true over TLS (--tls-cert)"),
            ("request", "the request head, as read"),
            ("response", "our response head"),
            ("offered_subprotocols", "the subprotocols the client offered"),
            ("offered_extensions", "the extensions the client offered"),
            ("origin", "the request's Origin, or null"),
            ("subprotocol", "the subprotocol selected, or null"),
            ("extension", "the extension accepted and what it settled, or null"),
            ("status", "our response's status code"),
        ],
    ),
    (
        "refused",
        "listen: a request was answered with an HTTP error",
        &[
            ("peer", "the client's address and port"),
            ("status", "the status code sent"),
            ("reason", "why"),
        ],
    ),
    (
        "handshake_failed",
        "listen: a client's handshake failed (TLS, a timeout, a dropped connection)",
        &[
            ("peer", "the client's address and port"),
            ("message", "what failed"),
        ],
    ),
    (
        "disconnected",
        "listen: a client's connection ended",
        &[
            ("closer", "client, server or nobody (the connection was lost)"),
            ("code", "the close code, or null"),
            ("reason", "the close reason"),
            ("clean", "whether the close handshake completed"),
        ],
    ),
    (
        "clients",
        "listen: /clients",
        &[(
            "clients",
            "one object per connected client: id, peer, path, subprotocol, uptime_s, received and sent (bytes)",
        )],
    ),
];

pub(crate) fn base(started: Instant, event: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("event".into(), event.into());
    m.insert("t".into(), seconds(started.elapsed()));
    m.insert("time".into(), json!(micros(super::style::unix_time())));
    m
}

/// A number of seconds (or milliseconds) rounded to the microsecond: the f64 product of a
/// duration otherwise shows float noise (`27.386428000000002`) that no clock measured.
pub(crate) fn micros(secs: f64) -> f64 {
    (secs * 1e6).round() / 1e6
}

/// A duration in milliseconds, to the microsecond.
pub(crate) fn ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// Seconds to the microsecond, always as a plain decimal: serde_json writes an f64 under 1e-5 in
/// exponent form (`1e-6`), which tools reading `t` as a decimal trip over, so those few µs are 0.
fn seconds(d: std::time::Duration) -> Value {
    let t = micros(d.as_secs_f64());
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

/// A data message, sent or received, with what the lens made of it.
fn message(
    started: Instant,
    name: &str,
    kind: DataKind,
    d: &[u8],
    wire: Wire,
    lens: Option<&crate::lens::View>,
) -> Map<String, Value> {
    let mut m = base(started, name);
    data(&mut m, kind, d, wire);
    if let Some(v) = lens {
        m.insert("lens".into(), v.to_json());
    }
    m
}

/// What the session ended with and did not send.
fn unsent(started: Instant, u: &crate::event::Unsent) -> Map<String, Value> {
    let mut m = base(started, "unsent");
    m.insert("never_sent".into(), json!(u.never_sent));
    m.insert("in_flight".into(), json!(u.in_flight));
    m.insert("complete".into(), json!(u.complete));
    m
}

/// The `/status` answer: the connection's state and traffic.
fn status(started: Instant, s: &crate::event::Stats) -> Map<String, Value> {
    let mut m = base(started, "status");
    if let Ok(Value::Object(o)) = serde_json::to_value(s) {
        m.extend(o);
    }
    m.insert(
        "uptime_s".into(),
        json!(micros(s.opened.elapsed().as_secs_f64())),
    );
    m.insert("last_rtt_ms".into(), json!(s.last_rtt.map(ms)));
    m
}

pub fn event(started: Instant, ev: &Event<'_>) -> Option<Value> {
    let v = match ev {
        Event::Sent {
            kind,
            data: d,
            wire,
            lens,
            ..
        } => message(started, "sent", *kind, d, *wire, *lens),
        Event::Received {
            kind,
            data: d,
            wire,
            lens,
        } => message(started, "received", *kind, d, *wire, *lens),
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
            m.insert("rtt_ms".into(), json!(rtt.map(ms)));
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
        Event::Unsent(u) => unsent(started, u),
        Event::Expect(r) => return Some(expect(started, r)),
        Event::Status(s) => status(started, s),
        Event::Help | Event::Verbose(_) | Event::Frame { .. } | Event::H2Frame { .. } => {
            return None
        }
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
    m.insert("ms".into(), json!(r.timings.total.map(ms)));
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
