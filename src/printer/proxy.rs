//! What `wscope proxy` shows: every line of a pair tagged with the client's id, a message once,
//! with its direction (`[3] c> hello` from the client to the server, `[3] <s welcome` back);
//! control frames and closes likewise, the injected ones of `/to-server` and `/to-client` as
//! `*>` and `<*`. Each hop's dump, handshake and ending are named by the hop. In `--json` every
//! object carries `client`, and a hop's events `hop` and `dir` (`c>s` or `s>c`).

use std::fmt::Write as _;

use colored::Colorize;
use serde_json::{json, Value};

use super::escape::Shown;
use super::{json, Printer, Screen};
use crate::event::{ClientEvent, ClientInfo, Closer, Ending, Event, Hop, Origin};
use crate::event::{EventSink, OwnedEvent};
use crate::wire::close;

impl Printer {
    /// The first line, always on stderr: scripts read the bound address from it.
    pub fn proxying(&mut self, url: &str, upstream: &str) {
        if self.style.json() {
            let mut m = json::base(self.started, "listening");
            m.insert("url".into(), url.into());
            m.insert("upstream".into(), upstream.into());
            self.write_json(&Value::Object(m));
            EventSink::flush(self);
        }
        let line = format!("proxying {url} -> {}\n", Shown(upstream));
        let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), line.as_bytes());
    }

    pub fn proxy_joined(&mut self, id: u64, c: &ClientInfo, upstream: &str) {
        self.set_client(Some(id));
        if self.style.json() {
            let mut m = json::base(self.started, "connected");
            m.insert("peer".into(), c.peer.to_string().into());
            m.insert("path".into(), c.path.clone().into());
            m.insert("upstream".into(), upstream.into());
            m.insert("subprotocol".into(), json!(c.subprotocol));
            m.insert("origin".into(), json!(c.origin));
            self.write_json(&Value::Object(m));
        } else {
            let sub = match &c.subprotocol {
                Some(s) => format!("subprotocol {}", Shown(s)),
                None => "no subprotocol".into(),
            };
            let text = format!(
                "{} from {} {} -> {} ({sub})",
                "connected".green(),
                c.peer,
                Shown(&c.path),
                Shown(upstream)
            );
            self.note(&text);
        }
        self.set_client(None);
    }

    /// The upstream hop's handshake: in full with -v (and always when it failed with an
    /// answer), as the first entries of that hop's dump with --dump.
    pub fn proxy_upstream(
        &mut self,
        id: u64,
        r: &crate::handshake::Report,
        verbose: bool,
        dump: bool,
    ) {
        self.set_client(Some(id));
        let upgraded = r.response.as_ref().is_some_and(|v| v.status == 101);
        if self.style.json() {
            let mut v = json::open(self.started, r);
            if let Value::Object(m) = &mut v {
                m.insert("hop".into(), "server".into());
                m.insert("upgraded".into(), upgraded.into());
            }
            self.write_json(&v);
        } else if verbose || (!upgraded && r.response.is_some()) {
            let full = super::report::full(r);
            for l in full.trim_end().lines() {
                self.note(&format!("{} {l}", "server:".dimmed()));
            }
        }
        if dump && !self.style.json() {
            let mut text = String::new();
            let heads = [
                (">>", "request", r.request.clone()),
                (
                    "<<",
                    "response",
                    r.response.as_ref().map(|v| v.head.clone()),
                ),
            ];
            for (arrow, what, head) in heads {
                let Some(head) = head else { continue };
                let _ = writeln!(text, "{}server hop {arrow} handshake {what}", self.tag);
                for l in head.lines().filter(|l| !l.is_empty()) {
                    let _ = writeln!(text, "{}server hop     {}", self.tag, Shown(l));
                }
            }
            self.write_dump(&text, None);
        }
        self.set_client(None);
    }

    pub fn proxy_note(&mut self, id: u64, text: &str) {
        self.set_client(Some(id));
        let t = format!("{}", Shown(text));
        self.note(&t);
        self.set_client(None);
    }

    /// One event of hop `hop` of pair `id`. Not flushed: the hub flushes after each burst.
    pub fn proxy_event(&mut self, id: u64, hop: Hop, ev: &ClientEvent, verbose: bool) {
        self.set_client(Some(id));
        match ev {
            ClientEvent::Session(ev) if self.style.json() => self.proxy_json(hop, ev),
            ClientEvent::Session(OwnedEvent::Frame(dir, at, frame)) => {
                let mut text = String::new();
                crate::wire::dump::render_frame(frame, *dir, *at, &mut text);
                let mut tagged = String::with_capacity(text.len() + 32);
                let name = hop_name(hop);
                for l in text.lines() {
                    let _ = writeln!(tagged, "{}{name} hop {l}", self.tag);
                }
                self.write_dump(&tagged, None);
            }
            ClientEvent::Session(ev) => self.proxy_human(hop, ev),
            // The client hop's handshake, refusals and failures read as listen's do.
            other => self.client_event(id, other, verbose),
        }
        self.set_client(None);
    }

    fn proxy_json(&mut self, hop: Hop, ev: &OwnedEvent) {
        let ev = ev.as_event();
        if let Event::Frame { dir, at, frame } = ev {
            let mut v = crate::wire::dump::frame_json(frame, dir, at);
            if let Value::Object(m) = &mut v {
                m.insert("hop".into(), hop_name(hop).into());
            }
            self.write_dump("", Some(v));
            return;
        }
        let Some(Value::Object(mut m)) = json::event(self.started, &ev) else {
            return;
        };
        m.insert("hop".into(), hop_name(hop).into());
        if let Event::Closed(e) = ev {
            // Who closed, in the proxy's words: the hop's peer, wscope, or nobody.
            let closer = match e.closer {
                Closer::Peer => hop_name(hop),
                Closer::Us => "wscope",
                Closer::Nobody => "nobody",
            };
            m.insert("closer".into(), closer.into());
        }
        if let Some(d) = dir(hop, &ev) {
            m.insert("dir".into(), d.into());
        }
        self.write_json(&Value::Object(m));
        if let Event::PingReceived(p) = ev {
            let mut v = json::auto_pong(self.started, p);
            if let Value::Object(m) = &mut v {
                m.insert("hop".into(), hop_name(hop).into());
                m.insert("dir".into(), opposite(hop).into());
            }
            self.write_json(&v);
        }
    }

    fn proxy_human(&mut self, hop: Hop, ev: &OwnedEvent) {
        let from = arrow(hop, false);
        match ev.as_event() {
            Event::Received {
                kind,
                data,
                wire,
                lens,
            } if matches!(self.screen, Screen::Stderr) => {
                // On a pipe the message itself goes to stdout, after its tag.
                let tagged = format!("{}{from} ", self.tag);
                let tag = std::mem::replace(&mut self.tag, tagged);
                match lens {
                    Some(view) => self.lens_line("<".into(), kind, data, wire, view),
                    None => self.data_line(kind, data, wire),
                }
                self.tag = tag;
            }
            Event::Received {
                kind,
                data,
                wire,
                lens: Some(view),
            } => self.lens_line(from.as_str().into(), kind, data, wire, view),
            Event::Received {
                kind, data, wire, ..
            } => self.arrow_line(&from, |p| p.message_body(kind, data, wire)),
            Event::Sent {
                kind,
                data,
                wire,
                origin: Origin::Hub,
                ..
            } => {
                let injected = arrow(hop, true);
                self.arrow_line(&injected, |p| p.message_body(kind, data, wire));
            }
            Event::PingReceived(p) => self.proxy_control(&from, "ping", p, " (pong sent)"),
            Event::PongReceived { payload, .. } => self.proxy_control(&from, "pong", payload, ""),
            Event::CloseReceived { code, reason } => {
                let text = super::close_text(code, reason);
                self.proxy_control(&from, "close", &[], &text);
            }
            Event::Closed(e) => self.hop_ended(hop, e),
            Event::Refused { message, hint } | Event::Failed { message, hint } => {
                self.error_line(&format!("{} hop: {message}", hop_name(hop)), hint)
            }
            Event::Notice(text) => self.note(&format!("{} hop: {}", hop_name(hop), Shown(text))),
            Event::Verbose(_) | Event::Help | Event::Status(_) => {}
            // Ours (the relay of the other side's message, pong or close), shown already.
            _ => {}
        }
    }

    /// `[3] c> ` then what `body` writes, as one line on the screen.
    fn arrow_line(&mut self, arrow: &str, body: impl FnOnce(&mut Printer)) {
        self.prefix();
        let _ = write!(self.line, "{} ", arrow.bold());
        body(self);
        self.emit_human();
    }

    fn proxy_control(&mut self, arrow: &str, what: &str, payload: &[u8], extra: &str) {
        self.prefix();
        let _ = write!(self.line, "{} {}", arrow.bold(), what.magenta());
        if !payload.is_empty() {
            match std::str::from_utf8(payload) {
                Ok(s) => {
                    let _ = write!(self.line, " \"{}\"", Shown(s));
                }
                Err(_) => {
                    let _ = write!(self.line, " {}", crate::wire::hexdump::hex_compact(payload));
                }
            }
        }
        self.line.push_str(extra);
        self.emit_human();
    }

    /// A hop's session is over: who closed it, its code, clean or not.
    fn hop_ended(&mut self, hop: Hop, e: &Ending) {
        let name = hop_name(hop);
        let who = match e.closer {
            Closer::Peer => format!("closed by the {name}"),
            Closer::Us => "closed by wscope".to_string(),
            Closer::Nobody => "connection lost".to_string(),
        };
        let code = match e.code {
            Some(c) => format!(", code {c} ({})", close::name(c)),
            None => String::new(),
        };
        let reason = match e.reason.is_empty() {
            true => String::new(),
            false => format!(" {:?}", e.reason),
        };
        let how = if e.clean { "clean" } else { "not clean" };
        let text = format!(
            "{} {} ({who}{code}{reason}, {how})",
            name,
            "disconnected".yellow()
        );
        self.note(&text);
    }
}

fn hop_name(hop: Hop) -> &'static str {
    match hop {
        Hop::Client => "client",
        Hop::Server => "server",
    }
}

/// `c>` for what the client says, `<s` for what the server says; `*>` and `<*` for what the
/// REPL injected toward the server and toward the client.
fn arrow(hop: Hop, injected: bool) -> String {
    match (hop, injected) {
        (Hop::Client, false) => "c>".cyan().to_string(),
        (Hop::Server, false) => "<s".green().to_string(),
        (Hop::Server, true) => "*>".yellow().to_string(),
        (Hop::Client, true) => "<*".yellow().to_string(),
    }
}

/// Which way an event's frame went: from the client toward the server (`c>s`) or back.
fn dir(hop: Hop, ev: &Event<'_>) -> Option<&'static str> {
    let incoming = match ev {
        Event::Received { .. }
        | Event::PingReceived(_)
        | Event::PongReceived { .. }
        | Event::CloseReceived { .. } => true,
        Event::Sent { .. } | Event::PingSent(_) | Event::PongSent(_) | Event::CloseSent { .. } => {
            false
        }
        _ => return None,
    };
    Some(match (hop, incoming) {
        (Hop::Client, true) | (Hop::Server, false) => "c>s",
        (Hop::Server, true) | (Hop::Client, false) => "s>c",
    })
}

fn opposite(hop: Hop) -> &'static str {
    match hop {
        Hop::Client => "s>c",
        Hop::Server => "c>s",
    }
}
