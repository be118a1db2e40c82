//! What `wscope listen` shows: every line of a client's life tagged with its id (`[3] `), and in
//! `--json` a `client` field on every object. Messages go to stdout (text as-is, binary as hex);
//! handshakes, connects, control frames and disconnects to stderr.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use colored::Colorize;
use serde::Serialize;
use serde_json::{json, Value};

use super::escape::Shown;
use super::{json, Printer};
use crate::event::{ClientEvent, ClientInfo};
use crate::event::{Closer, Ending, Event, EventSink, OwnedEvent};
use crate::handshake::accept::HandshakeView;
use crate::wire::close;

/// One row of `/clients`.
#[derive(Debug, Clone, Serialize)]
pub struct ClientRow {
    pub id: u64,
    pub peer: String,
    pub path: String,
    pub subprotocol: Option<String>,
    #[serde(rename = "uptime_s")]
    pub uptime: f64,
    pub received: u64,
    pub sent: u64,
}

impl Printer {
    /// Tag what follows with a client id (None: server-wide lines).
    pub fn set_client(&mut self, id: Option<u64>) {
        self.client = id;
        self.tag = id.map(|i| format!("[{i}] ")).unwrap_or_default();
    }

    /// The first line of `listen`, always on stderr so a script can read the bound address from it.
    pub fn listening(&mut self, url: &str, echo: bool) {
        let line = format!("listening on {url}{}", if echo { " (echo)" } else { "" });
        if self.style.json() {
            let mut m = json::base(self.started, "listening");
            m.insert("url".into(), url.into());
            m.insert("echo".into(), echo.into());
            self.write_json(&Value::Object(m));
            self.flush();
        }
        let _ = std::io::Write::write_all(
            &mut std::io::stderr().lock(),
            format!("{line}\n").as_bytes(),
        );
    }

    fn listen_json(&mut self, event: &str, fields: Value) {
        let mut m = json::base(self.started, event);
        if let Value::Object(f) = fields {
            m.extend(f);
        }
        self.write_json(&Value::Object(m));
    }

    pub fn joined(&mut self, id: u64, c: &ClientInfo) {
        self.set_client(Some(id));
        if self.style.json() {
            self.listen_json(
                "connected",
                json!({"peer": c.peer.to_string(), "path": c.path,
                       "subprotocol": c.subprotocol, "origin": c.origin}),
            );
        } else {
            let sub = match &c.subprotocol {
                Some(s) => format!("subprotocol {}", Shown(s)),
                None => "no subprotocol".into(),
            };
            let text = format!(
                "{} from {} {} ({sub})",
                "connected".green(),
                c.peer,
                Shown(&c.path)
            );
            self.note(&text);
        }
        self.set_client(None);
        EventSink::flush(self);
    }

    /// One event of client `id`. The handshake is shown only when `verbose`. Not flushed: the hub
    /// flushes after each burst of events.
    pub fn client_event(&mut self, id: u64, ev: &ClientEvent, verbose: bool) {
        self.set_client(Some(id));
        match ev {
            ClientEvent::Handshake(h) if verbose => self.handshake(h),
            ClientEvent::Handshake(_) => {}
            ClientEvent::Refused {
                peer,
                status,
                reason,
            } => {
                if self.style.json() {
                    self.listen_json(
                        "refused",
                        json!({"peer": peer.to_string(), "status": status, "reason": reason}),
                    );
                } else {
                    let text = format!(
                        "{} {peer} with {status}: {}",
                        "refused".red(),
                        Shown(reason)
                    );
                    self.note(&text);
                }
            }
            ClientEvent::Failed { peer, error } => {
                if self.style.json() {
                    self.listen_json(
                        "handshake_failed",
                        json!({"peer": peer.to_string(), "message": error}),
                    );
                } else {
                    let text = format!("{} {peer}: {}", "handshake failed:".red(), Shown(error));
                    self.note(&text);
                }
            }
            ClientEvent::Session(OwnedEvent::Frame(dir, at, frame)) if !self.style.json() => {
                let mut text = String::new();
                crate::wire::dump::render_frame(frame, *dir, *at, &mut text);
                let mut tagged = String::with_capacity(text.len() + 16);
                for l in text.lines() {
                    let _ = writeln!(tagged, "{}{l}", self.tag);
                }
                self.write_dump(&tagged, None);
            }
            ClientEvent::Session(ev) => self.event(ev.as_event()),
        }
        self.set_client(None);
        // The hub flushes once it has handled what is queued.
    }

    fn handshake(&mut self, h: &HandshakeView) {
        if self.style.json() {
            let v = serde_json::to_value(h).unwrap_or(Value::Null);
            self.listen_json("handshake", v);
            return;
        }
        let mut lines = vec![format!(
            "{} connection from {}{}",
            "*".dimmed(),
            h.peer,
            if h.tls { " (TLS)" } else { "" }
        )];
        // What is not UTF-8 in the request shows as `\x9b`, not as U+FFFD.
        let request = match h.request_raw.is_empty() {
            true => h.request.clone(),
            false => h
                .request_raw
                .split(|&b| b == b'\n')
                .map(|l| super::escape::escape_bytes(l.strip_suffix(b"\r").unwrap_or(l)))
                .collect::<Vec<_>>()
                .join("\r\n"),
        };
        for (prefix, text) in [("<", &request), (">", &h.response)] {
            let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text, ""));
            for l in head.split("\r\n") {
                lines.push(format!("{} {}", prefix.dimmed(), Shown(l)));
            }
            for l in body.lines() {
                lines.push(format!("{} {}", prefix.dimmed(), Shown(l)));
            }
        }
        let none = |v: &[String]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        lines.push(format!(
            "{} subprotocol: offered {}; selected {}",
            "*".dimmed(),
            Shown(&none(&h.offered_subprotocols)),
            Shown(h.subprotocol.as_deref().unwrap_or("none"))
        ));
        lines.push(format!(
            "{} extensions: offered {}; accepted {}",
            "*".dimmed(),
            Shown(&none(&h.offered_extensions)),
            Shown(h.extension.as_deref().unwrap_or("none"))
        ));
        lines.push(format!(
            "{} origin: {}",
            "*".dimmed(),
            Shown(h.origin.as_deref().unwrap_or("none"))
        ));
        for l in lines {
            self.note(&l);
        }
    }

    /// A client's session ended (its [`Event::Closed`]).
    pub(super) fn disconnected(&mut self, d: &Ending) {
        if self.style.json() {
            let closer = match d.closer {
                Closer::Peer => "client",
                Closer::Us => "server",
                Closer::Nobody => "nobody",
            };
            self.listen_json(
                "disconnected",
                json!({"closer": closer, "code": d.code, "reason": d.reason, "clean": d.clean}),
            );
            return;
        }
        let who = match d.closer {
            Closer::Peer => "closed by the client",
            Closer::Us => "closed by us",
            Closer::Nobody => "connection lost",
        };
        let code = match d.code {
            Some(c) => format!(", code {c} ({})", close::name(c)),
            None => String::new(),
        };
        let reason = if d.reason.is_empty() {
            String::new()
        } else {
            format!(" {:?}", d.reason)
        };
        let how = if d.clean { "clean" } else { "not clean" };
        let text = format!("{} ({who}{code}{reason}, {how})", "disconnected".yellow());
        self.note(&text);
    }

    /// `/clients`.
    pub fn clients(&mut self, rows: &[ClientRow]) {
        if self.style.json() {
            self.listen_json("clients", json!({ "clients": rows }));
            EventSink::flush(self);
            return;
        }
        if rows.is_empty() {
            self.note("no clients connected");
            return;
        }
        let mut t = format!(
            "{:>4}  {:<22} {:<12} {:<10} {:>10} {:>10}",
            "id", "peer", "subprotocol", "uptime", "received", "sent"
        );
        for r in rows {
            let _ = write!(
                t,
                "\n{:>4}  {:<22} {:<12} {:<10} {:>10} {:>10}",
                r.id,
                r.peer,
                Shown(r.subprotocol.as_deref().unwrap_or("-")),
                crate::error::secs(Duration::from_secs_f64(r.uptime)),
                r.received,
                r.sent
            );
        }
        self.note(&t);
    }

    /// `/help` for the listen REPL (with /to, /clients, /kick).
    pub fn listen_help(&mut self) {
        let h = crate::slash::help_text_for(true, super::style::screen_width());
        self.note(h.trim_end());
    }

    /// A refused command line (bad slash command, unknown client): the server is unaffected.
    pub fn refused(&mut self, message: &str, hint: Option<&str>) {
        self.event(Event::Refused { message, hint });
        EventSink::flush(self);
    }
}

/// Seconds since `since`, for a row.
pub fn uptime(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 10.0).round() / 10.0
}
