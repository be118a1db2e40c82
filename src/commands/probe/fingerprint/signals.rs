//! The fingerprint's evidence: a handful of short connections, all at once, each with its own
//! deadline, that ask the server odd-but-legal and illegal things (a baseline upgrade, version 8,
//! an empty key, no key at all, each frame violation, a ping, a close, a moment of silence) and write down how
//! it answered as short, stable strings: no dates, no versions, no random tokens, so that one
//! server gives the same signals on every run. The server's words are escaped and cut short.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::future::{join_all, LocalBoxFuture};
use futures_util::FutureExt;
use tokio::time::Instant;

use super::super::frames::violation_frame;
use super::super::wire::{describe_pongs, short_token, token, Answer, Seen, Wire};
use super::super::Probe;
use crate::handshake::{Report, ResponseView};
use crate::printer::escape::escape;
use crate::probe_checks::CheckId;
use crate::wire::craft::{self, Crafted};

/// Signal id to what was seen.
pub type Signals = BTreeMap<String, String>;

/// How long the server gets to react to a frame.
const REACT: Duration = Duration::from_millis(1000);
/// How long a close may follow the pong to the ping behind a violation.
const LATE: Duration = Duration::from_millis(400);
/// How long we wait for a message the server sends unasked on a new connection.
const GREETING: Duration = Duration::from_millis(400);
/// The most header names, and characters of a text, a signal keeps.
const MAX_NAMES: usize = 24;
const MAX_TEXT: usize = 80;

/// The frame violations asked about, by probe check id.
const VIOLATIONS: [CheckId; 6] = [
    CheckId::Opcode,
    CheckId::Rsv,
    CheckId::ControlOversized,
    CheckId::ControlFragmented,
    CheckId::Utf8,
    CheckId::Unmasked,
];

/// Each connection's deadline: the upgrade (at most 2 s of `--connect-timeout`) and the reactions.
pub fn deadline(p: &Probe) -> Duration {
    p.conn.connect_timeout.min(Duration::from_secs(2)) + REACT + LATE
}

/// Every signal, each connection bounded by [`deadline`]; one that ran out says "timeout".
pub async fn collect(p: &Probe) -> Signals {
    let jobs: Vec<(&str, LocalBoxFuture<'_, Signals>)> = vec![
        ("upgrade-status", upgrade(p).boxed_local()),
        ("version8-status", version8(p).boxed_local()),
        ("bad-key-status", bad_key(p).boxed_local()),
        ("no-key-status", no_key(p).boxed_local()),
        ("ping", ping(p).boxed_local()),
        ("close", close(p).boxed_local()),
        ("greeting", greeting(p).boxed_local()),
    ];
    let violations = VIOLATIONS.map(|id| (id.id(), violation(p, id).boxed_local()));
    let limit = deadline(p);
    let bounded = jobs
        .into_iter()
        .chain(violations)
        .map(|(name, f)| async move {
            match tokio::time::timeout(limit, f).await {
                Ok(s) => s,
                Err(_) => one(name, "timeout"),
            }
        });
    join_all(bounded).await.into_iter().flatten().collect()
}

fn one(name: &str, value: impl Into<String>) -> Signals {
    Signals::from([(name.to_string(), value.into())])
}

/// The baseline upgrade, without compression: status line, header names as spelled and in
/// order, the Server product.
async fn upgrade(p: &Probe) -> Signals {
    let mut conn = p.conn.clone();
    conn.deflate = None;
    let (report, _) = p.handshake(CheckId::Fingerprint, &conn).await;
    let Some(r) = report.response.as_ref() else {
        return one("upgrade-status", unanswered(&report));
    };
    Signals::from([
        ("upgrade-status".into(), status(r)),
        ("upgrade-headers".into(), names(r)),
        ("server".into(), server(r)),
    ])
}

/// Version 8: RFC 6455 wants 426 and the versions spoken; servers differ in headers and body.
async fn version8(p: &Probe) -> Signals {
    let mut conn = p.conn.clone();
    conn.deflate = None;
    conn.protocol_version = 8;
    refusal(p, "version8", &conn).await
}

/// An empty Sec-WebSocket-Key (as good as none: no server can answer it).
async fn bad_key(p: &Probe) -> Signals {
    let mut conn = p.conn.clone();
    conn.deflate = None;
    conn.headers.remove("Sec-WebSocket-Key");
    conn.headers.push("Sec-WebSocket-Key", "");
    refusal(p, "bad-key", &conn).await
}

/// No Sec-WebSocket-Key at all: asked on a raw connection ([`super::raw`]), where it can be.
async fn no_key(p: &Probe) -> Signals {
    match super::raw::without_key(p, Instant::now() + deadline(p)).await {
        None => Signals::new(),
        Some(Err(what)) => one("no-key-status", what),
        Some(Ok(r)) => answered("no-key", &r),
    }
}

async fn refusal(p: &Probe, what: &str, conn: &crate::handshake::Options) -> Signals {
    let (report, _) = p.handshake(CheckId::Fingerprint, conn).await;
    match report.response.as_ref() {
        Some(r) => answered(what, r),
        None => one(&format!("{what}-status"), unanswered(&report)),
    }
}

/// A refusal's signals: its status, header names, body and the versions it names.
fn answered(what: &str, r: &ResponseView) -> Signals {
    let versions = r
        .headers
        .get("Sec-WebSocket-Version")
        .map_or("-".into(), short);
    Signals::from([
        (format!("{what}-status"), status(r)),
        (format!("{what}-headers"), names(r)),
        (format!("{what}-body"), body(r)),
        (format!("{what}-versions"), versions),
    ])
}

/// A violation check's frame, then a ping: what came back, in order.
async fn violation(p: &Probe, id: CheckId) -> Signals {
    let name = id.id();
    let Some((frame, _, _)) = violation_frame(id) else {
        return Signals::new();
    };
    let mut w = match p.open_plain(CheckId::Fingerprint).await {
        Ok(w) => w,
        Err(_) => return one(name, "no upgrade"),
    };
    let t = short_token();
    let mut bytes = frame.encode();
    bytes.extend(Crafted::new(craft::PING, t.clone()).encode());
    if !w.send(&bytes).await {
        return one(name, "drop");
    }
    let seen = match w.pong(&t, Instant::now() + REACT).await {
        Answer::Pong => match w.closed(Instant::now() + LATE).await {
            Answer::Timeout => "pong".to_string(),
            other => format!("pong, then {}", answer(&other)),
        },
        other => answer(&other),
    };
    w.leave().await;
    one(name, seen)
}

/// A 26-byte ping: echoed whole, cut short, or not answered.
async fn ping(p: &Probe) -> Signals {
    let Ok(mut w) = p.open_plain(CheckId::Fingerprint).await else {
        return one("ping", "no upgrade");
    };
    let t = token("fp");
    if !w.send(&Crafted::new(craft::PING, t.clone()).encode()).await {
        return one("ping", "drop");
    }
    let seen = match w.reader.pongs(&t, Instant::now() + REACT).await {
        (Answer::Pong, _) => "echo".to_string(),
        (_, others) if !others.is_empty() => describe_pongs(&others, &t),
        (other, _) => answer(&other),
    };
    w.leave().await;
    one("ping", seen)
}

/// Our close 1000 with a reason: echoed, answered with the code alone, or dropped.
async fn close(p: &Probe) -> Signals {
    let Ok(mut w) = p.open_plain(CheckId::Fingerprint).await else {
        return one("close", "no upgrade");
    };
    if !w.send(&Crafted::close(1000, "wscope").encode()).await {
        return one("close", "drop");
    }
    let seen = answer(&w.closed(Instant::now() + REACT).await);
    one("close", seen)
}

/// A message the server sends unasked (engine.io's open packet, a chat's welcome): its shape.
async fn greeting(p: &Probe) -> Signals {
    let Ok(mut w) = p.open_plain(CheckId::Fingerprint).await else {
        return one("greeting", "no upgrade");
    };
    // One deadline for the whole wait: a server that keeps sending pings does not extend it.
    let deadline = Instant::now() + GREETING;
    let seen = loop {
        match w.reader.next(deadline).await {
            Seen::Frame(f) if f.opcode == craft::TEXT => break shape(&f.payload),
            Seen::Frame(f) if f.opcode == craft::BINARY => break "binary".to_string(),
            Seen::Frame(f) if f.opcode == craft::CLOSE => break "close".to_string(),
            Seen::Frame(_) => continue,
            Seen::Dropped => break "drop".to_string(),
            Seen::Timeout => break "none".to_string(),
        }
    };
    leave(w).await;
    one("greeting", seen)
}

async fn leave(w: Wire) {
    w.leave().await
}

/// A text greeting's shape: a packet-type prefix and, when JSON follows, its keys (their
/// values change per connection).
fn shape(payload: &[u8]) -> String {
    let text = String::from_utf8_lossy(payload);
    let body = text.trim_start_matches(|c: char| c.is_ascii_digit());
    let prefix = &text[..text.len() - body.len()];
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(m)) => {
            let keys: Vec<&str> = m.keys().map(String::as_str).collect();
            short(&format!("text {prefix}{{{}}}", keys.join(",")))
        }
        _ => format!("text {prefix}…"),
    }
}

fn answer(a: &Answer) -> String {
    match a {
        Answer::Closed(c) => {
            let code = c.code.map_or("(no code)".to_string(), |c| c.to_string());
            match c.reason.is_empty() {
                true => format!("close {code}"),
                false => format!("close {code} \"{}\"", short(&c.reason)),
            }
        }
        Answer::Pong => "pong".into(),
        Answer::Dropped => "drop".into(),
        Answer::Timeout => "silence".into(),
    }
}

fn unanswered(report: &Report) -> String {
    match report.peer {
        Some(_) => "no answer".into(),
        None => "unreachable".into(),
    }
}

fn status(r: &ResponseView) -> String {
    short(&format!("{} {}", r.status, r.reason.trim()))
        .trim()
        .to_string()
}

/// The header names as spelled, in order (a repeat is named again), cut after [`MAX_NAMES`].
fn names(r: &ResponseView) -> String {
    let mut v: Vec<String> = r
        .headers
        .iter()
        .take(MAX_NAMES)
        .map(|(n, _)| short(n))
        .collect();
    if r.headers.len() > MAX_NAMES {
        v.push("…".into());
    }
    v.join(",")
}

/// The Server header's products without versions or comments ("nginx/1.22.1" is "nginx"), "-"
/// when there is none.
fn server(r: &ResponseView) -> String {
    let Some(v) = r.headers.get("Server") else {
        return "-".into();
    };
    let products: Vec<&str> = v
        .split_whitespace()
        .filter(|t| !t.starts_with('(') && !t.ends_with(')'))
        .map(|t| t.split('/').next().unwrap_or(t))
        .collect();
    short(&products.join(" "))
}

fn body(r: &ResponseView) -> String {
    match r.body.as_deref() {
        Some(b) if !b.trim().is_empty() => {
            short(&b.split_whitespace().collect::<Vec<_>>().join(" "))
        }
        _ => "-".into(),
    }
}

/// The server's text, escaped for any output and cut at [`MAX_TEXT`] characters.
fn short(text: &str) -> String {
    let t = escape(text);
    match t.char_indices().nth(MAX_TEXT) {
        Some((i, _)) => format!("{}…", &t[..i]),
        None => t.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greetings_keep_their_shape_not_their_values() {
        let a = shape(br#"0{"sid":"abc","upgrades":[],"pingInterval":25000}"#);
        let b = shape(br#"0{"sid":"xyz","upgrades":[],"pingInterval":25000}"#);
        assert_eq!(a, b);
        assert_eq!(a, "text 0{pingInterval,sid,upgrades}");
        assert_eq!(shape(b"hello"), "text …");
    }

    #[test]
    fn texts_are_escaped_and_cut() {
        assert_eq!(short("a\x1b[31mb"), "a\\e[31mb");
        let long = "x".repeat(200);
        assert_eq!(short(&long).chars().count(), MAX_TEXT + 1);
    }
}
