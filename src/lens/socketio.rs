//! The Socket.IO lens (Engine.IO 4, and 3 when the URL says `EIO=3`): the codec of Engine.IO
//! packets (`0` open, `2` ping, `3` pong, `4` message...) and the Socket.IO packets inside
//! (`40` connect, `42` event, `43` ack, `45` binary event with its attachments), the commands
//! `/emit` and `/ns`, and the duties: connect the default namespace once the open packet came,
//! answer the server's pings (EIO 4) or ping it (EIO 3), and call the peer dead when pings stop.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::text::{self, Word};
use super::{Config, Decoded, Dir, Entry, Lens, Out, Step};
use crate::event::DataKind;
use crate::slash::CommandHelp;

pub const ENTRY: Entry = Entry {
    name: "socketio",
    commands: COMMANDS,
    make,
};

const COMMANDS: &[CommandHelp] = &[
    lens_cmd(
        "emit",
        "EVENT [JSON...] [--ack] [--ns NS]",
        "emit a Socket.IO event (--ack asks for an ack)",
        "/emit chat \"hi\" {\"n\":1} --ack",
    ),
    lens_cmd(
        "ns",
        "NS [AUTH_JSON]",
        "connect a Socket.IO namespace",
        "/ns /admin {\"token\":\"t\"}",
    ),
];

pub(super) const fn lens_cmd(
    name: &'static str,
    args: &'static str,
    summary: &'static str,
    example: &'static str,
) -> CommandHelp {
    CommandHelp {
        name,
        args,
        summary,
        example,
        listen_only: false,
        client_only: true,
    }
}

/// Attachments a binary packet may announce.
const MAX_ATTACHMENTS: u64 = 1000;
/// Acks we wait for at once (older ones are forgotten).
const MAX_PENDING_ACKS: usize = 1024;

fn make(cfg: &Config) -> Box<dyn Lens> {
    Box::new(SocketIo {
        eio3: cfg.resource.contains("EIO=3"),
        active: !cfg.passive,
        auth: cfg.auth.clone(),
        timeout: cfg.timeout,
        state: Phase::Opening,
        deadline: None,
        ping: None,
        next_ack: 0,
        acks: HashMap::new(),
        attachments: None,
        connecting: None,
        last_ping_sent: None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for the Engine.IO open packet.
    Opening,
    /// Open: pings as the open packet said.
    Open,
}

struct SocketIo {
    eio3: bool,
    active: bool,
    auth: Option<Value>,
    timeout: Duration,
    state: Phase,
    /// When the open packet, the namespace's answer or the next ping is overdue.
    deadline: Option<(Instant, &'static str)>,
    /// pingInterval and pingTimeout from the open packet.
    ping: Option<(Duration, Duration)>,
    next_ack: u64,
    acks: HashMap<u64, Instant>,
    /// A binary packet's attachments still to come: (received so far, announced, its event).
    attachments: Option<(u64, u64, String)>,
    /// The default namespace's connect was sent and not answered yet.
    connecting: Option<Instant>,
    /// EIO 3: when we last pinged.
    last_ping_sent: Option<Instant>,
}

impl Lens for SocketIo {
    fn name(&self) -> &'static str {
        ENTRY.name
    }

    fn decode(&mut self, dir: Dir, kind: DataKind, data: &[u8]) -> Result<Decoded, String> {
        if kind == DataKind::Binary {
            return Ok(self.attachment(data));
        }
        let text = std::str::from_utf8(data).map_err(|_| "not UTF-8 text".to_string())?;
        let mut d = decode_engine(text)?;
        if dir == Dir::Received {
            self.note_received(&mut d);
        }
        Ok(d)
    }

    fn command(&mut self, name: &str, arg: &str) -> Option<Result<Vec<Out>, String>> {
        match name {
            "emit" => Some(self.emit(arg)),
            "ns" => Some(connect_ns(arg)),
            _ => None,
        }
    }

    fn start(&mut self, now: Instant) -> Step {
        if self.active {
            self.deadline = Some((now + self.timeout, "no Engine.IO open packet"));
        }
        Step::default()
    }

    fn after(&mut self, d: &Decoded, now: Instant) -> Step {
        if !self.active {
            return Step::default();
        }
        match d.json["type"].as_str() {
            Some("open") if self.state == Phase::Opening => self.on_open(&d.json, now),
            Some("ping") if !self.eio3 => {
                self.arm_ping(now);
                let data = d.json["data"].as_str().unwrap_or("");
                Step::send(Out::Text(format!("3{data}")))
            }
            Some("pong") if self.eio3 => {
                self.arm_ping(now);
                Step::default()
            }
            Some("connect") if d.json["ns"] == "/" => {
                self.connecting = None;
                self.rearm(now);
                Step::default()
            }
            Some("connect_error") if d.json["ns"] == "/" && self.connecting.is_some() => {
                Step::fail(format!(
                    "Socket.IO refused the namespace /: {}",
                    text::short(&d.json["data"])
                ))
            }
            _ => Step::default(),
        }
    }

    fn ready(&self) -> bool {
        !self.active || (self.state == Phase::Open && self.connecting.is_none())
    }

    fn deadline(&self) -> Option<Instant> {
        let due = self.deadline.map(|(at, _)| at);
        match (due, self.eio3_ping_due()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn on_deadline(&mut self, now: Instant) -> Step {
        if let Some((at, why)) = self.deadline {
            if now >= at {
                self.deadline = None;
                return Step::fail(self.overdue(why));
            }
        }
        if self.eio3_ping_due().is_some_and(|at| now >= at) {
            self.last_ping_sent = Some(now);
            if let Some((_, timeout)) = self.ping {
                self.deadline.get_or_insert((now + timeout, "no pong"));
            }
            return Step::send(Out::Text("2".into()));
        }
        Step::default()
    }
}

impl SocketIo {
    fn on_open(&mut self, open: &Value, now: Instant) -> Step {
        self.state = Phase::Open;
        let ms = |k: &str| {
            open[k]
                .as_u64()
                .map(|v| Duration::from_millis(v.min(3_600_000)))
        };
        self.ping = ms("pingInterval").zip(ms("pingTimeout"));
        self.connecting = Some(now);
        self.last_ping_sent = Some(now);
        self.deadline = Some((now + self.timeout, "no answer to the namespace connect"));
        if self.eio3 {
            // Socket.IO 2 (Engine.IO 3) connects the default namespace itself: a second
            // CONNECT for it closes the connection.
            return Step::default();
        }
        let packet = match &self.auth {
            Some(a) => format!("40{a}"),
            None => "40".into(),
        };
        Step::send(Out::Text(packet))
    }

    /// A message came: the next ping (EIO 4) is due within pingInterval + pingTimeout.
    fn arm_ping(&mut self, now: Instant) {
        if self.eio3 {
            if matches!(self.deadline, Some((_, "no pong"))) {
                self.deadline = None;
            }
            return;
        }
        self.rearm(now);
    }

    fn rearm(&mut self, now: Instant) {
        if self.connecting.is_some() {
            return;
        }
        self.deadline = match (self.eio3, self.ping) {
            (false, Some((every, timeout))) => Some((now + every + timeout, "no ping")),
            _ => None,
        };
    }

    fn eio3_ping_due(&self) -> Option<Instant> {
        if !self.eio3 || !self.active || self.state != Phase::Open {
            return None;
        }
        let (every, _) = self.ping?;
        self.last_ping_sent.map(|t| t + every)
    }

    fn overdue(&self, why: &str) -> String {
        match (why, self.ping) {
            ("no ping", Some((every, timeout))) => format!(
                "the server stopped pinging: no Engine.IO ping within {} ms (pingInterval {} + pingTimeout {})",
                (every + timeout).as_millis(),
                every.as_millis(),
                timeout.as_millis()
            ),
            ("no pong", Some((_, timeout))) => format!(
                "the server stopped answering Engine.IO pings: no pong within pingTimeout {} ms",
                timeout.as_millis()
            ),
            (why, _) => format!(
                "Socket.IO: {why} within {} s (--connect-timeout)",
                self.timeout.as_secs_f64()
            ),
        }
    }

    /// Acks are paired with their emit; a binary packet announces attachments.
    fn note_received(&mut self, d: &mut Decoded) {
        let t = d.json["type"].as_str().unwrap_or("").to_string();
        if t == "ack" {
            if let Some(at) = d.json["id"].as_u64().and_then(|id| self.acks.remove(&id)) {
                let ms = at.elapsed().as_secs_f64() * 1e3;
                d.json["latency_ms"] = json!((ms * 1000.0).round() / 1000.0);
                d.summary.push_str(&format!(" ({ms:.1} ms)"));
            }
        }
        if let Some(n) = d.json["attachments"].as_u64().filter(|n| *n > 0) {
            let name = d.json["name"].as_str().unwrap_or(&t).to_string();
            self.attachments = Some((0, n, name));
        }
    }

    /// A binary message: an attachment of the last binary packet (EIO 3 prefixes it with 4).
    fn attachment(&mut self, data: &[u8]) -> Decoded {
        let data = match (self.eio3, data.first()) {
            (true, Some(4)) => &data[1..],
            _ => data,
        };
        let (summary, index, of) = match self.attachments.as_mut() {
            Some((seen, n, name)) => {
                let i = *seen;
                *seen += 1;
                let s = format!(
                    "attachment {}/{} of {} ({} bytes)",
                    i + 1,
                    n,
                    text::quoted(name),
                    data.len()
                );
                (s, Some(i), Some(name.clone()))
            }
            None => (
                format!(
                    "binary ({} bytes, no binary packet announced it)",
                    data.len()
                ),
                None,
                None,
            ),
        };
        if self.attachments.as_ref().is_some_and(|(s, n, _)| s >= n) {
            self.attachments = None;
        }
        Decoded::new(
            summary,
            json!({"type": "attachment", "num": index, "of": of, "size": data.len()}),
        )
    }

    fn emit(&mut self, arg: &str) -> Result<Vec<Out>, String> {
        let words = text::words(arg)?;
        let (mut ack, mut ns, mut args) = (false, None, Vec::new());
        let mut it = words.into_iter();
        while let Some(w) = it.next() {
            match w {
                Word::Flag(f) if f == "ack" => ack = true,
                Word::Flag(f) if f == "ns" => match it.next() {
                    Some(Word::Value(Value::String(n))) => ns = Some(n),
                    _ => return Err("--ns needs a namespace, e.g. --ns /chat".into()),
                },
                Word::Flag(f) => return Err(format!("unknown /emit option --{f}")),
                Word::Value(v) => args.push(v),
            }
        }
        let Some(Value::String(_)) = args.first() else {
            return Err("/emit needs an EVENT name first".into());
        };
        let id = ack.then(|| {
            let id = self.next_ack;
            self.next_ack += 1;
            if self.acks.len() >= MAX_PENDING_ACKS {
                self.acks.clear();
            }
            self.acks.insert(id, Instant::now());
            id
        });
        let mut p = String::from("42");
        if let Some(ns) = ns.filter(|n| n != "/") {
            p.push_str(&ns_prefix(&ns)?);
        }
        if let Some(id) = id {
            p.push_str(&id.to_string());
        }
        p.push_str(&Value::Array(args).to_string());
        Ok(vec![Out::Text(p)])
    }
}

fn ns_prefix(ns: &str) -> Result<String, String> {
    if !ns.starts_with('/') || ns.contains(',') {
        return Err(format!(
            "namespace '{ns}' must start with / and hold no comma"
        ));
    }
    Ok(format!("{ns},"))
}

/// `/ns NS [AUTH_JSON]`.
fn connect_ns(arg: &str) -> Result<Vec<Out>, String> {
    let (ns, auth) = text::first_arg(arg);
    if ns.is_empty() {
        return Err("/ns needs a namespace, e.g. /ns /admin".into());
    }
    let auth = text::json_arg(auth, "AUTH_JSON")?;
    let mut p = String::from("40");
    if ns != "/" {
        p.push_str(&ns_prefix(&ns)?);
    }
    if let Some(a) = auth {
        p.push_str(&a.to_string());
    }
    Ok(vec![Out::Text(p)])
}

/// One Engine.IO text packet.
pub fn decode_engine(text: &str) -> Result<Decoded, String> {
    let mut chars = text.chars();
    let Some(t) = chars.next() else {
        return Err("empty message".into());
    };
    let rest = chars.as_str();
    let simple = |name: &str| {
        let mut v = json!({ "type": name });
        if !rest.is_empty() {
            v["data"] = json!(rest);
        }
        let s = if rest.is_empty() {
            name.to_string()
        } else {
            format!("{name} {}", text::quoted(rest))
        };
        Decoded::new(s, v).duty()
    };
    match t {
        '0' => {
            let open = text::parse_json(rest).map_err(|e| format!("open packet: {e}"))?;
            let summary = format!(
                "open sid {} pingInterval {} pingTimeout {}",
                text::short(&open["sid"]),
                text::short(&open["pingInterval"]),
                text::short(&open["pingTimeout"])
            );
            let mut v = json!({"type": "open"});
            if let Value::Object(m) = open {
                for (k, val) in m {
                    v[k] = val;
                }
            }
            Ok(Decoded::new(summary, v).duty())
        }
        '1' => Ok(simple("close")),
        '2' => Ok(simple("ping")),
        '3' => Ok(simple("pong")),
        '4' => decode_socket(rest),
        '5' => Ok(simple("upgrade")),
        '6' => Ok(simple("noop")),
        other => Err(format!(
            "unknown Engine.IO packet type {}",
            text::quoted(&other.to_string())
        )),
    }
}

/// The Socket.IO packet inside an Engine.IO message: `TYPE[N-][/ns,][id][json]`.
pub fn decode_socket(p: &str) -> Result<Decoded, String> {
    let b = p.as_bytes();
    let Some(&t) = b.first() else {
        return Err("empty Socket.IO packet".into());
    };
    let name = match t {
        b'0' => "connect",
        b'1' => "disconnect",
        b'2' => "event",
        b'3' => "ack",
        b'4' => "connect_error",
        b'5' => "event",
        b'6' => "ack",
        _ => return Err(format!("unknown Socket.IO packet type '{}'", t as char)),
    };
    let mut i = 1;
    let mut attachments = None;
    if t == b'5' || t == b'6' {
        let (n, used) = digits(&b[i..]);
        if used == 0 || b.get(i + used) != Some(&b'-') {
            return Err("binary packet without its attachment count".into());
        }
        let n = n
            .filter(|n| *n <= MAX_ATTACHMENTS)
            .ok_or("too many attachments")?;
        attachments = Some(n);
        i += used + 1;
    }
    let mut ns = "/";
    if b.get(i) == Some(&b'/') {
        let end = p[i..].find(',').map_or(p.len(), |e| i + e);
        ns = &p[i..end];
        i = (end + 1).min(p.len());
    }
    let (id, used) = digits(&b[i..]);
    if used > 0 && id.is_none() {
        return Err("ack id too large".into());
    }
    i += used;
    let data = match &p[i..] {
        "" => None,
        d => Some(text::parse_json(d)?),
    };
    let mut v = json!({"type": name, "ns": ns});
    if let Some(id) = id {
        v["id"] = json!(id);
    }
    if let Some(n) = attachments {
        v["attachments"] = json!(n);
    }
    let summary = summary_of(name, &data, id, &mut v)?;
    let mut s = summary;
    if ns != "/" || matches!(name, "connect" | "disconnect" | "connect_error") {
        s.push_str(&format!(" ns {}", text::cut(ns, 100)));
    }
    if let (Some(id), "event") = (id, name) {
        s.push_str(&format!(" ack {id}"));
    }
    if let Some(n) = attachments {
        s.push_str(&format!(
            " (+{n} binary attachment{})",
            if n == 1 { "" } else { "s" }
        ));
    }
    let d = Decoded::new(s, v);
    Ok(if matches!(name, "connect") {
        d.duty()
    } else {
        d
    })
}

/// The one-line summary of a Socket.IO packet, adding its event name and arguments to `v`.
fn summary_of(
    name: &str,
    data: &Option<Value>,
    id: Option<u64>,
    v: &mut Value,
) -> Result<String, String> {
    Ok(match (name, data) {
        ("event", Some(Value::Array(a))) => {
            let Some(Value::String(ev)) = a.first() else {
                return Err("event without a name".into());
            };
            v["name"] = json!(ev);
            let args = Value::Array(a[1..].to_vec());
            let s = format!("event {} {}", text::quoted(ev), text::short(&args));
            v["args"] = args;
            s
        }
        ("event", _) => return Err("event data is not an array".into()),
        ("ack", d) => {
            let args = d.clone().unwrap_or(json!([]));
            let s = format!("ack {} {}", text::short(&json!(id)), text::short(&args));
            v["args"] = args;
            s
        }
        (name, Some(d)) => {
            let s = format!("{name} {}", text::short(d));
            v["data"] = d.clone();
            s
        }
        (name, None) => name.to_string(),
    })
}

/// A run of ASCII digits: its value (None on overflow) and length.
fn digits(b: &[u8]) -> (Option<u64>, usize) {
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 {
        return (None, 0);
    }
    let v = std::str::from_utf8(&b[..n])
        .ok()
        .and_then(|s| s.parse().ok());
    (v, n)
}

#[cfg(test)]
#[path = "socketio_tests.rs"]
mod tests;
