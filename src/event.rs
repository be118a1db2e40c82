//! What happens on a connection, as data: the session emits these and the printer alone decides
//! how they look. Events borrow their payloads, so printing a message costs no copy of it.

use std::time::{Duration, Instant};

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DataKind {
    Text,
    Binary,
}

/// Who ended the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Closer {
    Us,
    Server,
    Nobody,
}

/// Connection state as `/status` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum State {
    Connecting,
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
            last_rtt: None,
        }
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

#[derive(Debug)]
pub enum Event<'a> {
    Sent {
        kind: DataKind,
        data: &'a [u8],
    },
    Received {
        kind: DataKind,
        data: &'a [u8],
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
    Status(&'a Stats),
    Help,
    Verbose(bool),
    Closed(&'a Ending),
    /// A frame seen on the wire by the tap (--dump).
    Frame {
        dir: crate::dump::Direction,
        at: Duration,
        frame: &'a crate::frame::Frame,
    },
}

/// Where events go. The printer implements it; tests can record.
pub trait EventSink {
    fn event(&mut self, ev: Event<'_>);
    /// Output is buffered; the session calls this when it has nothing else to do.
    fn flush(&mut self);
    /// True when there is buffered output.
    fn dirty(&self) -> bool;
    /// True once stdout is gone (a closed pipe): the session ends quietly.
    fn broken(&self) -> bool;
}
