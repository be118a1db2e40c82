//! The registry of connected clients and what the server's input does with them: a line broadcasts,
//! `/to ID MSG` goes to one client, `/kick ID [CODE [REASON]]` closes one, `/clients` lists them.
//! The hub only queues messages; each client's task writes them, so a slow client never holds up
//! the others (its queue is bounded: when it is full, the message is not delivered, and we say so).

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::mpsc::Sender;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

use super::client::{ClientEvent, ClientInfo, Shared};
use crate::command::{self, Command};
use crate::event::{Event, EventSink};
use crate::printer::listen::{uptime, ClientRow};
use crate::printer::Printer;

struct Entry {
    info: ClientInfo,
    tx: Sender<Message>,
    received: u64,
    sent: u64,
}

/// What the server loop should do after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

#[derive(Default)]
pub struct Hub {
    clients: BTreeMap<u64, Entry>,
    /// `-v`, toggled by `/verbose on|off`.
    pub verbose: bool,
}

impl Hub {
    pub fn join(&mut self, id: u64, info: ClientInfo, tx: Sender<Message>) {
        self.clients.insert(
            id,
            Entry {
                info,
                tx,
                received: 0,
                sent: 0,
            },
        );
    }

    pub fn leave(&mut self, id: u64) {
        self.clients.remove(&id);
    }

    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }

    /// Keep the message counts of `/clients`.
    pub fn count(&mut self, id: u64, ev: &ClientEvent) {
        if let Some(e) = self.clients.get_mut(&id) {
            match ev {
                ClientEvent::Received(..) => e.received += 1,
                ClientEvent::Sent(..) => e.sent += 1,
                _ => {}
            }
        }
    }

    pub fn rows(&self) -> Vec<ClientRow> {
        self.clients
            .iter()
            .map(|(id, e)| ClientRow {
                id: *id,
                peer: e.info.peer.to_string(),
                path: e.info.path.clone(),
                subprotocol: e.info.subprotocol.clone(),
                uptime: uptime(e.info.since),
                received: e.received,
                sent: e.sent,
            })
            .collect()
    }

    /// Queue `m` for client `id`; the error is for the user.
    fn send_to(&self, id: u64, m: Message) -> Result<(), String> {
        let Some(e) = self.clients.get(&id) else {
            let known: Vec<String> = self.clients.keys().map(u64::to_string).collect();
            return Err(if known.is_empty() {
                format!("no client {id}: no clients are connected")
            } else {
                format!("no client {id}: connected are {}", known.join(", "))
            });
        };
        match e.tx.try_send(m) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(format!(
                "client {id} is not reading: its queue is full, message not delivered"
            )),
            // It is leaving; its disconnect line follows.
            Err(TrySendError::Closed(_)) => Ok(()),
        }
    }

    fn broadcast(&self, m: Message, out: &mut Printer) {
        if self.clients.is_empty() {
            out.refused("no clients are connected: nothing was sent", None);
            return;
        }
        for id in self.clients.keys() {
            if let Err(e) = self.send_to(*id, m.clone()) {
                out.refused(&e, None);
            }
        }
    }

    /// Close every client with 1001 "going away" (Ctrl-C, SIGTERM, /quit).
    pub fn close_all(&self) {
        for e in self.clients.values() {
            let _ = e.tx.try_send(close(1001, "going away"));
        }
    }

    /// Run one line of the server's input.
    pub fn execute(&mut self, line: &str, shared: &Shared, out: &mut Printer) -> Flow {
        let cmd = match command::parse(line) {
            Ok(c) => c,
            Err(e) => {
                out.refused(&e.to_string(), e.hint().as_deref());
                return Flow::Continue;
            }
        };
        match cmd {
            Command::Nothing => {}
            Command::To { client, command } => match message(*command) {
                Ok(m) => {
                    if let Err(e) = self.send_to(client, m) {
                        out.refused(&e, Some("/clients lists the connected clients"));
                    }
                }
                Err(e) => out.refused(&e, None),
            },
            Command::Kick {
                client,
                code,
                reason,
            } => {
                if let Err(e) = self.send_to(client, close(code, &reason)) {
                    out.refused(&e, Some("/clients lists the connected clients"));
                }
            }
            Command::Clients | Command::Status => out.clients(&self.rows()),
            Command::Dump(on) => {
                shared.dump.store(on, Ordering::Relaxed);
                out.note(if on { "dump on" } else { "dump off" });
            }
            Command::Verbose(on) => {
                self.verbose = on;
                out.event(Event::Verbose(on));
            }
            Command::Help => out.listen_help(),
            Command::Quit => return Flow::Quit,
            other => match message(other) {
                Ok(m) => self.broadcast(m, out),
                Err(e) => out.refused(&e, None),
            },
        }
        out.flush();
        Flow::Continue
    }
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code: CloseCode::from(code),
        reason: reason.to_string().into(),
    }))
}

/// The message a command sends; the error is for the user.
fn message(cmd: Command) -> Result<Message, String> {
    Ok(match cmd {
        Command::Text(t) => Message::Text(t.into()),
        Command::Binary(b) => Message::Binary(b.into()),
        Command::File { path, force_binary } => {
            let bytes = std::fs::read(&path)
                .map_err(|e| format!("cannot read /file '{}': {e}", path.display()))?;
            match String::from_utf8(bytes) {
                Ok(t) if !force_binary => Message::Text(t.into()),
                Ok(t) => Message::Binary(t.into_bytes().into()),
                Err(e) => Message::Binary(e.into_bytes().into()),
            }
        }
        Command::Ping(p) => Message::Ping(p.into()),
        Command::Pong(p) => Message::Pong(p.into()),
        Command::Close { code, reason } => close(code, &reason),
        other => return Err(format!("{other:?} cannot be sent to a client")),
    })
}
