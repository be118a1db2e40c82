//! What happens on a connection, as data: the session emits these and the printer alone decides
//! how they look. Events borrow their payloads, so printing a message costs no copy of it.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DataKind {
    Text,
    Binary,
}

/// Where a sent data message came from: the REPL echoes what its screen does not show already,
/// and `listen` echoes and counts its own sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A plain line typed at the REPL prompt, which stays on the screen as it was sent.
    Typed,
    /// Anything else of the user's: `-x`, a pipe, `/text`, `/binary`, `/file`, a script.
    User,
    /// `--echo`: a received message sent back.
    Echo,
    /// `listen`'s own input: a broadcast or `/to`, handed to the client by the hub.
    Hub,
}

/// Who ended the connection: whoever sent the first close frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Closer {
    Us,
    /// The other side: the server of `wscope URL`, a client of `listen`. Named `server` in the
    /// client's JSON, where the peer is a server.
    #[serde(rename = "server")]
    Peer,
    Nobody,
}

/// Connection state as `/status` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum State {
    Open,
    Closing,
    Closed,
}

#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub state: State,
    pub url: String,
    pub subprotocol: Option<String>,
    pub extensions: Vec<String>,
    #[serde(skip)]
    pub opened: Instant,
    pub messages_sent: u64,
    pub bytes_sent: u64,
    pub messages_received: u64,
    pub bytes_received: u64,
    /// Payload bytes as they crossed the wire: smaller than `bytes_*` when compressed.
    pub wire_bytes_sent: u64,
    pub wire_bytes_received: u64,
    #[serde(skip)]
    pub last_rtt: Option<Duration>,
}

impl Stats {
    pub fn new(url: String, subprotocol: Option<String>, extensions: Vec<String>) -> Stats {
        Stats {
            state: State::Open,
            url,
            subprotocol,
            extensions,
            opened: Instant::now(),
            messages_sent: 0,
            bytes_sent: 0,
            messages_received: 0,
            bytes_received: 0,
            wire_bytes_sent: 0,
            wire_bytes_received: 0,
            last_rtt: None,
        }
    }

    /// `3 messages, 9000 bytes (1200 on the wire, 13%)` for `/status`, one direction.
    pub fn traffic(&self, sent: bool) -> String {
        let (messages, bytes, wire) = if sent {
            (self.messages_sent, self.bytes_sent, self.wire_bytes_sent)
        } else {
            (
                self.messages_received,
                self.bytes_received,
                self.wire_bytes_received,
            )
        };
        let mut s = format!("{messages} messages, {bytes} bytes");
        if wire != bytes {
            s.push_str(&format!(" ({wire} on the wire"));
            if bytes > 0 {
                s.push_str(&format!(", {:.0}%", wire as f64 * 100.0 / bytes as f64));
            }
            s.push(')');
        }
        s
    }
}

/// How the connection ended.
#[derive(Debug, Clone, Serialize)]
pub struct Ending {
    pub closer: Closer,
    /// The code on the wire (None: a close frame without a code, or no close frame at all).
    pub code: Option<u16>,
    pub reason: String,
    /// Both close frames were exchanged.
    pub clean: bool,
}

/// See [`Event::Unsent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsent {
    pub never_sent: u64,
    pub in_flight: u64,
    /// The input was read to its end: `never_sent` is exact, not a lower bound.
    pub complete: bool,
}

impl Unsent {
    /// What the user reads: "3 inputs were never sent ...".
    pub fn describe(&self, peer: &str) -> String {
        let n = |k: u64| if k == 1 { "" } else { "s" };
        format!(
            "{}{} input{} (lines, -x commands, messages) never sent: the {peer} ended the \
             connection first; {} message{} in flight (written, unanswered when it ended)",
            if self.complete { "" } else { "at least " },
            self.never_sent,
            n(self.never_sent),
            self.in_flight,
            n(self.in_flight),
        )
    }
}

#[derive(Debug)]
pub enum Event<'a> {
    Sent {
        kind: DataKind,
        data: &'a [u8],
        /// How it went on the wire (compressed or not, and its size there).
        wire: crate::deflate::Wire,
        origin: Origin,
        /// What the lens made of it, when a lens is on.
        lens: Option<&'a crate::lens::View>,
    },
    Received {
        kind: DataKind,
        data: &'a [u8],
        wire: crate::deflate::Wire,
        lens: Option<&'a crate::lens::View>,
    },
    PingSent(&'a [u8]),
    PongSent(&'a [u8]),
    PingReceived(&'a [u8]),
    PongReceived {
        payload: &'a [u8],
        rtt: Option<Duration>,
    },
    CloseSent {
        code: u16,
        reason: &'a str,
    },
    CloseReceived {
        code: Option<u16>,
        reason: &'a str,
    },
    /// A user command was refused; the connection is unaffected.
    Refused {
        message: &'a str,
        hint: Option<&'a str>,
    },
    /// Something the user should know that is not an error.
    Notice(&'a str),
    /// The peer ended the connection while input still waited (pipe mode): `never_sent` inputs
    /// were never sent (at least, unless `complete`), `in_flight` were written but unanswered.
    Unsent(Unsent),
    Status(&'a Stats),
    Help,
    Verbose(bool),
    Closed(&'a Ending),
    /// A frame seen on the wire by the tap (--dump).
    Frame {
        dir: crate::wire::frame::Direction,
        at: Duration,
        frame: &'a crate::wire::frame::Frame,
    },
    /// An HTTP/2 frame header on the connection carrying the WebSocket (--dump-h2).
    H2Frame {
        dir: crate::wire::frame::Direction,
        at: Duration,
        header: crate::http2::FrameHeader,
    },
    /// An expectation of a script ended (met, timed out, cancelled).
    Expect(&'a Report),
    /// Why the connection is failing, said the moment it is known. Only a session whose caller
    /// does not report its error itself emits this (a client of `listen`).
    Failed {
        message: &'a str,
        hint: Option<&'a str>,
    },
}

/// An [`Event`] that owns its data, so it can cross a channel: a `listen` client's session sends
/// these to the hub, which owns the printer. [`OwnedEvent::as_event`] lends it back.
#[derive(Debug, Clone)]
pub enum OwnedEvent {
    Sent(
        DataKind,
        Vec<u8>,
        crate::deflate::Wire,
        Origin,
        Option<Box<crate::lens::View>>,
    ),
    Received(
        DataKind,
        Vec<u8>,
        crate::deflate::Wire,
        Option<Box<crate::lens::View>>,
    ),
    PingSent(Vec<u8>),
    PongSent(Vec<u8>),
    PingReceived(Vec<u8>),
    PongReceived(Vec<u8>, Option<Duration>),
    CloseSent(u16, String),
    CloseReceived(Option<u16>, String),
    Refused(String, Option<String>),
    Notice(String),
    Unsent(Unsent),
    Status(Box<Stats>),
    Help,
    Verbose(bool),
    Closed(Ending),
    Frame(
        crate::wire::frame::Direction,
        Duration,
        Box<crate::wire::frame::Frame>,
    ),
    H2Frame(
        crate::wire::frame::Direction,
        Duration,
        crate::http2::FrameHeader,
    ),
    Failed(String, Option<String>),
    Expect(Box<Report>),
}

impl OwnedEvent {
    pub fn new(ev: &Event<'_>) -> OwnedEvent {
        match *ev {
            Event::Sent {
                kind,
                data,
                wire,
                origin,
                lens,
            } => OwnedEvent::Sent(
                kind,
                data.to_vec(),
                wire,
                origin,
                lens.map(|v| Box::new(v.clone())),
            ),
            Event::Received {
                kind,
                data,
                wire,
                lens,
            } => OwnedEvent::Received(kind, data.to_vec(), wire, lens.map(|v| Box::new(v.clone()))),
            Event::PingSent(p) => OwnedEvent::PingSent(p.to_vec()),
            Event::PongSent(p) => OwnedEvent::PongSent(p.to_vec()),
            Event::PingReceived(p) => OwnedEvent::PingReceived(p.to_vec()),
            Event::PongReceived { payload, rtt } => OwnedEvent::PongReceived(payload.to_vec(), rtt),
            Event::CloseSent { code, reason } => OwnedEvent::CloseSent(code, reason.to_string()),
            Event::CloseReceived { code, reason } => {
                OwnedEvent::CloseReceived(code, reason.to_string())
            }
            Event::Refused { message, hint } => {
                OwnedEvent::Refused(message.to_string(), hint.map(String::from))
            }
            Event::Notice(t) => OwnedEvent::Notice(t.to_string()),
            Event::Unsent(u) => OwnedEvent::Unsent(u),
            Event::Status(s) => OwnedEvent::Status(Box::new(s.clone())),
            Event::Help => OwnedEvent::Help,
            Event::Verbose(on) => OwnedEvent::Verbose(on),
            Event::Closed(e) => OwnedEvent::Closed(e.clone()),
            Event::Frame { dir, at, frame } => OwnedEvent::Frame(dir, at, Box::new(frame.clone())),
            Event::H2Frame { dir, at, header } => OwnedEvent::H2Frame(dir, at, header),
            Event::Failed { message, hint } => {
                OwnedEvent::Failed(message.to_string(), hint.map(String::from))
            }
            Event::Expect(r) => OwnedEvent::Expect(Box::new(r.clone())),
        }
    }

    pub fn as_event(&self) -> Event<'_> {
        match self {
            OwnedEvent::Sent(kind, data, wire, origin, lens) => Event::Sent {
                kind: *kind,
                data,
                wire: *wire,
                origin: *origin,
                lens: lens.as_deref(),
            },
            OwnedEvent::Received(kind, data, wire, lens) => Event::Received {
                kind: *kind,
                data,
                wire: *wire,
                lens: lens.as_deref(),
            },
            OwnedEvent::PingSent(p) => Event::PingSent(p),
            OwnedEvent::PongSent(p) => Event::PongSent(p),
            OwnedEvent::PingReceived(p) => Event::PingReceived(p),
            OwnedEvent::PongReceived(payload, rtt) => Event::PongReceived { payload, rtt: *rtt },
            OwnedEvent::CloseSent(code, reason) => Event::CloseSent {
                code: *code,
                reason,
            },
            OwnedEvent::CloseReceived(code, reason) => Event::CloseReceived {
                code: *code,
                reason,
            },
            OwnedEvent::Refused(message, hint) => Event::Refused {
                message,
                hint: hint.as_deref(),
            },
            OwnedEvent::Notice(t) => Event::Notice(t),
            OwnedEvent::Unsent(u) => Event::Unsent(*u),
            OwnedEvent::Status(s) => Event::Status(s),
            OwnedEvent::Help => Event::Help,
            OwnedEvent::Verbose(on) => Event::Verbose(*on),
            OwnedEvent::Closed(e) => Event::Closed(e),
            OwnedEvent::Frame(dir, at, frame) => Event::Frame {
                dir: *dir,
                at: *at,
                frame,
            },
            OwnedEvent::H2Frame(dir, at, header) => Event::H2Frame {
                dir: *dir,
                at: *at,
                header: *header,
            },
            OwnedEvent::Failed(message, hint) => Event::Failed {
                message,
                hint: hint.as_deref(),
            },
            OwnedEvent::Expect(r) => Event::Expect(r),
        }
    }

    /// Roughly what it holds in memory, for byte-bounded queues.
    pub fn cost(&self) -> usize {
        const BASE: usize = 64;
        BASE + match self {
            OwnedEvent::Sent(_, d, _, _, l) | OwnedEvent::Received(_, d, _, l) => {
                d.len() + l.as_ref().map_or(0, |v| v.cost())
            }
            OwnedEvent::PingSent(p)
            | OwnedEvent::PongSent(p)
            | OwnedEvent::PingReceived(p)
            | OwnedEvent::PongReceived(p, _) => p.len(),
            OwnedEvent::CloseSent(_, r) | OwnedEvent::CloseReceived(_, r) => r.len(),
            OwnedEvent::Refused(m, h) | OwnedEvent::Failed(m, h) => {
                m.len() + h.as_ref().map_or(0, String::len)
            }
            OwnedEvent::Notice(t) => t.len(),
            OwnedEvent::Frame(_, _, f) => f.cost(),
            OwnedEvent::Status(_)
            | OwnedEvent::Help
            | OwnedEvent::Verbose(_)
            | OwnedEvent::Unsent(_)
            | OwnedEvent::H2Frame(..) => 0,
            OwnedEvent::Expect(r) => {
                r.pattern.len() + r.vars.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>()
            }
            OwnedEvent::Closed(e) => e.reason.len(),
        }
    }
}

/// Where events go. The printer implements it; tests can record.
pub trait EventSink: Send {
    fn event(&mut self, ev: Event<'_>);
    /// Output is buffered; the session calls this when it has nothing else to do.
    fn flush(&mut self);
    /// True when there is buffered output.
    fn dirty(&self) -> bool;
    /// True once stdout is gone (a closed pipe): the session ends quietly.
    fn broken(&self) -> bool;
    /// True while what was emitted has not been written out and the backlog is at its bound (a
    /// blocked stdout, a busy `listen` hub): the session stops reading until it drains, so a
    /// peer that floods meets backpressure instead of our memory.
    fn backlogged(&self) -> bool {
        false
    }
    /// True while output waits for room downstream: the session calls `flush` again shortly.
    fn stalled(&self) -> bool {
        false
    }
}

/// A sink that looks at each event before passing it on to `inner`. Everything else (flushing,
/// and what the session asks before reading: broken, backlogged, stalled) is `inner`'s answer,
/// so a wrapper can never hide the output's backpressure from the session.
pub struct Observed<'a, F> {
    pub inner: &'a mut dyn EventSink,
    pub look: F,
}

impl<F: FnMut(&Event<'_>) + Send> EventSink for Observed<'_, F> {
    fn event(&mut self, ev: Event<'_>) {
        (self.look)(&ev);
        self.inner.event(ev);
    }
    fn flush(&mut self) {
        self.inner.flush();
    }
    fn dirty(&self) -> bool {
        self.inner.dirty()
    }
    fn broken(&self) -> bool {
        self.inner.broken()
    }
    fn backlogged(&self) -> bool {
        self.inner.backlogged()
    }
    fn stalled(&self) -> bool {
        self.inner.stalled()
    }
}

/// How an expectation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Matched,
    Timeout,
    /// The connection ended (or the peer closed) first.
    Closed,
    /// Ctrl-C in the REPL.
    Cancelled,
}

/// One expectation's end, for the printer.
#[derive(Debug, Clone)]
pub struct Report {
    /// The command as written, variables in.
    pub pattern: String,
    pub result: Outcome,
    pub waited: Duration,
    /// Every variable set so far.
    pub vars: crate::script::vars::Vars,
}

/// A connected client, as the hub registers it.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub peer: SocketAddr,
    pub path: String,
    pub subprotocol: Option<String>,
    pub origin: Option<String>,
    pub since: Instant,
    /// permessage-deflate, when its offer was accepted.
    pub deflate: Option<crate::deflate::Agreed>,
}

/// What a client task tells the hub. A session's events are the engine's own [`OwnedEvent`]s.
#[derive(Debug)]
pub enum ClientEvent {
    Handshake(Box<crate::handshake::accept::HandshakeView>),
    Refused {
        peer: SocketAddr,
        status: u16,
        reason: String,
    },
    /// The connection ended before an HTTP answer was possible (TLS, garbage, timeout).
    Failed {
        peer: SocketAddr,
        error: String,
    },
    Session(OwnedEvent),
}

/// Which hop of `wscope proxy` an event happened on: the client's connection to us, or ours to
/// the server (the printer tags it `c>` or `<s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hop {
    Client,
    Server,
}
