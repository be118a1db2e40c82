//! The STOMP lens (1.0-1.2, subprotocols `v10.stomp`/`v11.stomp`/`v12.stomp`): frames
//! (`COMMAND`, headers, body up to NUL) and heart-beats decoded; `/send` (with a receipt,
//! paired with its RECEIPT), `/subscribe` and `/unsubscribe` encoded; the duties are CONNECT
//! (host from `--lens-host` or the URL, `--auth` as login/passcode), CONNECTED within the
//! connect timeout, and heart-beats as negotiated.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{json, Map};

use super::socketio::lens_cmd;
use super::text;
use super::{Config, Decoded, Dir, Entry, Lens, Out, Step};
use crate::event::DataKind;
use crate::slash::CommandHelp;

pub const ENTRY: Entry = Entry {
    name: "stomp",
    commands: COMMANDS,
    make,
};

const COMMANDS: &[CommandHelp] = &[
    lens_cmd(
        "send",
        "DEST BODY [--header K:V]",
        "a STOMP SEND, with a receipt",
        "/send /queue/a hello --header priority:9",
    ),
    lens_cmd(
        "subscribe",
        "DEST [ID]",
        "a STOMP SUBSCRIBE (ID defaults to a counter)",
        "/subscribe /topic/news",
    ),
    lens_cmd("unsubscribe", "ID", "a STOMP UNSUBSCRIBE", "/unsubscribe 0"),
];

/// Headers a frame may carry.
const MAX_HEADERS: usize = 1000;
/// Our heart-beat offer, both ways.
const BEAT: Duration = Duration::from_secs(10);
const MAX_RECEIPTS: usize = 1024;

fn make(cfg: &Config) -> Box<dyn Lens> {
    Box::new(Stomp {
        active: !cfg.passive,
        host: cfg.host.clone(),
        login: cfg.login.clone(),
        timeout: cfg.timeout,
        connected_by: None,
        send_every: None,
        next_beat: None,
        peer_every: None,
        last_heard: Instant::now(),
        next_id: 0,
        receipts: HashMap::new(),
    })
}

struct Stomp {
    active: bool,
    host: String,
    login: Option<(String, String)>,
    timeout: Duration,
    /// CONNECT was sent: CONNECTED is due by then.
    connected_by: Option<Instant>,
    send_every: Option<Duration>,
    next_beat: Option<Instant>,
    /// The server beats at least this often (with slack).
    peer_every: Option<Duration>,
    last_heard: Instant,
    next_id: u64,
    receipts: HashMap<String, Instant>,
}

impl Lens for Stomp {
    fn name(&self) -> &'static str {
        ENTRY.name
    }

    fn decode(&mut self, dir: Dir, _kind: DataKind, data: &[u8]) -> Result<Decoded, String> {
        let mut d = decode(data)?;
        if dir == Dir::Received {
            self.last_heard = Instant::now();
            if d.json["command"] == "RECEIPT" {
                let id = d.json["headers"]["receipt-id"].as_str().unwrap_or("");
                if let Some(at) = self.receipts.remove(id) {
                    let ms = at.elapsed().as_secs_f64() * 1e3;
                    d.summary.push_str(&format!(" ({ms:.1} ms)"));
                    d.json["latency_ms"] = json!((ms * 1000.0).round() / 1000.0);
                }
            }
        }
        Ok(d)
    }

    fn command(&mut self, name: &str, arg: &str) -> Option<Result<Vec<Out>, String>> {
        match name {
            "send" => Some(self.send(arg)),
            "subscribe" => Some(self.subscribe(arg)),
            "unsubscribe" => Some(match text::first_arg(arg) {
                (id, _) if id.is_empty() => Err("needs the subscription ID".into()),
                (id, "") => Ok(vec![frame("UNSUBSCRIBE", &[("id", &id)], "")]),
                _ => Err("takes one ID".into()),
            }),
            _ => None,
        }
    }

    fn start(&mut self, now: Instant) -> Step {
        if !self.active {
            return Step::default();
        }
        self.connected_by = Some(now + self.timeout);
        let beat = format!("{},{}", BEAT.as_millis(), BEAT.as_millis());
        let mut h: Vec<(&str, &str)> = vec![
            ("accept-version", "1.0,1.1,1.2"),
            ("host", &self.host),
            ("heart-beat", &beat),
        ];
        if let Some((user, pass)) = &self.login {
            h.push(("login", user));
            h.push(("passcode", pass));
        }
        Step::send(frame("CONNECT", &h, ""))
    }

    fn after(&mut self, d: &Decoded, now: Instant) -> Step {
        if !self.active {
            return Step::default();
        }
        match d.json["command"].as_str() {
            Some("CONNECTED") => {
                self.connected_by = None;
                let (sx, sy) = beats(d.json["headers"]["heart-beat"].as_str().unwrap_or("0,0"));
                // We send every max(ours, what it wants); it sends every max(its, ours).
                if sy > 0 {
                    let every = BEAT.max(Duration::from_millis(sy));
                    self.send_every = Some(every);
                    self.next_beat = Some(now + every);
                }
                if sx > 0 {
                    self.peer_every = Some(BEAT.max(Duration::from_millis(sx)) * 2);
                }
                Step::default()
            }
            Some("ERROR") if self.connected_by.is_some() => {
                Step::fail(format!("STOMP: the server refused CONNECT: {}", d.summary))
            }
            _ => Step::default(),
        }
    }

    fn ready(&self) -> bool {
        self.connected_by.is_none()
    }

    fn deadline(&self) -> Option<Instant> {
        let peer = self.peer_every.map(|e| self.last_heard + e);
        [self.connected_by, self.next_beat, peer]
            .into_iter()
            .flatten()
            .min()
    }

    fn on_deadline(&mut self, now: Instant) -> Step {
        if self.connected_by.is_some_and(|at| now >= at) {
            self.connected_by = None;
            return Step::fail(format!(
                "STOMP: no CONNECTED within {} s of CONNECT (--connect-timeout)",
                self.timeout.as_secs_f64()
            ));
        }
        if let Some(e) = self.peer_every.filter(|e| now >= self.last_heard + *e) {
            self.peer_every = None;
            return Step::fail(format!(
                "STOMP: the server's heart-beats stopped: nothing heard for {} ms",
                e.as_millis()
            ));
        }
        match (self.next_beat, self.send_every) {
            (Some(at), Some(every)) if now >= at => {
                self.next_beat = Some(now + every);
                Step::send(Out::Text("\n".into()))
            }
            _ => Step::default(),
        }
    }
}

impl Stomp {
    fn send(&mut self, arg: &str) -> Result<Vec<Out>, String> {
        let (dest, rest) = text::first_arg(arg);
        if dest.is_empty() {
            return Err("needs a DEST, e.g. /send /queue/a hello".into());
        }
        // A BODY that is one JSON string (as a script's value goes in) is its content; only
        // --header options may follow it, so a value cannot add a header.
        let (quoted, mut body) = match text::json_string(rest) {
            Some((b, tail)) => (Some(b), tail),
            None => (None, rest),
        };
        let mut extra = Vec::new();
        while let Some(i) = body.rfind("--header ") {
            let (b, h) = body.split_at(i);
            let kv = h["--header ".len()..].trim();
            let (k, v) = kv.split_once(':').ok_or("--header takes K:V")?;
            if k.is_empty()
                || kv.contains(char::is_whitespace) && !v.contains(' ') && k.contains(' ')
            {
                return Err("--header takes K:V".into());
            }
            let v = text::json_string(v).map_or_else(|| v.to_string(), |(v, _)| v);
            extra.push((k.to_string(), v));
            body = b.trim_end();
        }
        let body = match quoted {
            Some(_) if !body.is_empty() => {
                return Err("only --header K:V may follow a quoted BODY".into())
            }
            Some(q) => q,
            None => body.to_string(),
        };
        let receipt = format!("r{}", self.next_id);
        self.next_id += 1;
        if self.receipts.len() >= MAX_RECEIPTS {
            self.receipts.clear();
        }
        self.receipts.insert(receipt.clone(), Instant::now());
        let len = body.len().to_string();
        let mut h: Vec<(&str, &str)> = vec![
            ("destination", &dest),
            ("content-length", &len),
            ("receipt", &receipt),
        ];
        h.extend(extra.iter().rev().map(|(k, v)| (k.as_str(), v.as_str())));
        Ok(vec![frame("SEND", &h, &body)])
    }

    fn subscribe(&mut self, arg: &str) -> Result<Vec<Out>, String> {
        let (dest, id) = text::first_arg(arg);
        if dest.is_empty() {
            return Err("needs a DEST, e.g. /subscribe /topic/news".into());
        }
        let id = if id.is_empty() {
            let n = self.next_id;
            self.next_id += 1;
            n.to_string()
        } else {
            id.to_string()
        };
        Ok(vec![frame(
            "SUBSCRIBE",
            &[("destination", &dest), ("id", &id), ("ack", "auto")],
            "",
        )])
    }
}

/// `sx,sy` of a heart-beat header (0 when absent or bad).
fn beats(h: &str) -> (u64, u64) {
    let mut it = h
        .split(',')
        .map(|n| n.trim().parse::<u64>().unwrap_or(0).min(3_600_000));
    (it.next().unwrap_or(0), it.next().unwrap_or(0))
}

/// Header values escaped as STOMP 1.2 says (not in CONNECT, but harmless there for our values).
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
        .replace(':', "\\c")
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        match (c, c == '\\') {
            (_, true) => match it.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('c') => out.push(':'),
                Some(o) => out.push(o),
                None => out.push('\\'),
            },
            (c, false) => out.push(c),
        }
    }
    out
}

/// One frame as text: the command, headers, a blank line, the body and NUL.
pub fn frame(command: &str, headers: &[(&str, &str)], body: &str) -> Out {
    let mut f = format!("{command}\n");
    for (k, v) in headers {
        let v = if command == "CONNECT" {
            v.to_string()
        } else {
            escape(v)
        };
        f.push_str(&format!("{}:{v}\n", escape(k)));
    }
    f.push('\n');
    f.push_str(body);
    f.push('\0');
    Out::Text(f)
}

/// One frame (or a heart-beat) from a message.
pub fn decode(data: &[u8]) -> Result<Decoded, String> {
    if data.iter().all(|b| *b == b'\n' || *b == b'\r') {
        return Ok(Decoded::new("heart-beat", json!({"command": "heart-beat"})).duty());
    }
    let text = std::str::from_utf8(data).map_err(|_| "the frame is not UTF-8".to_string())?;
    let text = text.trim_start_matches(['\n', '\r']);
    let (head, body) = text
        .split_once("\n\n")
        .or_else(|| text.split_once("\r\n\r\n"))
        .ok_or("no blank line after the headers")?;
    let mut lines = head.lines();
    let command = lines.next().unwrap_or("").trim_end_matches('\r');
    if command.is_empty() || !command.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(format!("{} is not a STOMP command", text::quoted(command)));
    }
    let mut headers = Map::new();
    for (i, line) in lines.enumerate() {
        if i >= MAX_HEADERS {
            return Err(format!("more than {MAX_HEADERS} headers"));
        }
        let line = line.trim_end_matches('\r');
        let (k, v) = line
            .split_once(':')
            .ok_or_else(|| format!("header line {} has no colon", text::quoted(line)))?;
        // The first of a repeated header counts (STOMP 1.2).
        headers
            .entry(unescape(k))
            .or_insert_with(|| json!(unescape(v)));
    }
    let body = match headers.get("content-length").and_then(|l| l.as_str()) {
        Some(l) => {
            let n: usize = l.parse().map_err(|_| "bad content-length")?;
            body.get(..n)
                .ok_or("the body is shorter than its content-length")?
        }
        None => body.split('\0').next().unwrap_or(""),
    };
    let h = |k: &str| headers.get(k).and_then(|v| v.as_str()).map(String::from);
    let mut s = command.to_string();
    for key in [
        "destination",
        "id",
        "subscription",
        "receipt-id",
        "message",
        "version",
    ] {
        if let Some(v) = h(key) {
            let v = text::cut(&v, 120);
            s.push_str(&if key == "destination" {
                format!(" {v}")
            } else {
                format!(" {key} {v}")
            });
        }
    }
    if !body.is_empty() {
        s.push(' ');
        s.push_str(&text::quoted(body));
    }
    let view = json!({"command": command, "headers": headers, "body": body});
    let d = Decoded::new(s, view);
    Ok(match command {
        "CONNECT" | "STOMP" | "CONNECTED" | "RECEIPT" => d.duty(),
        _ => d,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Config {
        Config {
            host: "/".into(),
            login: Some(("guest".into(), "pw".into())),
            timeout: Duration::from_millis(100),
            ..Config::default()
        }
    }

    fn text_of(o: &Out) -> &str {
        match o {
            Out::Text(t) => t,
            Out::Binary(_) => "",
        }
    }

    #[test]
    fn frames_round_trip_and_decode_in_words() {
        let f = frame(
            "SEND",
            &[("destination", "/queue/a"), ("k", "a:b\nc")],
            "hi",
        );
        let d = decode(text_of(&f).as_bytes()).unwrap();
        assert_eq!(d.summary, r#"SEND /queue/a "hi""#);
        assert_eq!(d.json["headers"]["k"], "a:b\nc");
        let d =
            decode(b"MESSAGE\ndestination:/t\nsubscription:0\ncontent-length:3\n\na\0b\0").unwrap();
        assert_eq!(d.json["body"], "a\0b");
        assert!(decode(b"\n").unwrap().duty);
        for bad in [
            &b"send\n\n\0"[..],
            b"SEND\nnocolon\n\n\0",
            b"SEND",
            b"\xff\n\n",
            b"SEND\ncontent-length:99\n\nx\0",
        ] {
            assert!(decode(bad).is_err(), "{bad:?}");
        }
        let many = format!("SEND\n{}\n\0", "a:b\n".repeat(2000));
        assert!(decode(many.as_bytes()).is_err());
    }

    #[test]
    fn connect_connected_heartbeats_and_receipts() {
        let mut l = make(&cfg());
        let now = Instant::now();
        let s = l.start(now);
        let connect = text_of(&s.send[0]).to_string();
        assert!(connect.starts_with("CONNECT\naccept-version:1.0,1.1,1.2\nhost:/\nheart-beat:10000,10000\nlogin:guest\npasscode:pw\n\n\0"), "{connect:?}");
        assert!(!l.ready());
        let c = l
            .decode(
                Dir::Received,
                DataKind::Text,
                b"CONNECTED\nversion:1.2\nheart-beat:0,20000\n\n\0",
            )
            .unwrap();
        l.after(&c, now);
        assert!(l.ready());
        let due = l.deadline().unwrap();
        assert_eq!(due, now + Duration::from_secs(20));
        assert_eq!(l.on_deadline(due).send, vec![Out::Text("\n".into())]);
        let out = l
            .command("send", "/queue/a hello world --header x:1")
            .unwrap()
            .unwrap();
        let sent = text_of(&out[0]);
        assert!(
            sent.starts_with(
                "SEND\ndestination:/queue/a\ncontent-length:11\nreceipt:r0\nx:1\n\nhello world\0"
            ),
            "{sent:?}"
        );
        let r = l
            .decode(
                Dir::Received,
                DataKind::Text,
                b"RECEIPT\nreceipt-id:r0\n\n\0",
            )
            .unwrap();
        assert!(
            r.summary.starts_with("RECEIPT receipt-id r0 ("),
            "{}",
            r.summary
        );
        assert!(l.command("send", "").unwrap().is_err());
        assert!(l.command("unsubscribe", "1 2").unwrap().is_err());
    }

    #[test]
    fn no_connected_and_an_error_fail() {
        let mut l = make(&cfg());
        let now = Instant::now();
        l.start(now);
        let f = l.on_deadline(now + Duration::from_secs(1)).fail.unwrap();
        assert!(f.contains("no CONNECTED"), "{f}");
        let mut l = make(&cfg());
        l.start(now);
        let e = l
            .decode(
                Dir::Received,
                DataKind::Text,
                b"ERROR\nmessage:Access refused\n\n\0",
            )
            .unwrap();
        assert!(l.after(&e, now).fail.unwrap().contains("Access refused"));
    }
}
