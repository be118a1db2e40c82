//! The registry of connected clients and what the server's input does with them: a line broadcasts,
//! `/to ID MSG` goes to one client, `/kick ID [CODE [REASON]]` closes one, `/clients` lists them.
//! The hub only queues commands; each client's session carries them out, so a slow client never
//! holds up the others (its queue is bounded in bytes: when it is full, the message is not
//! delivered, and we say so).

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::mpsc::Sender;

use super::client::Shared;
use crate::event::{ClientEvent, ClientInfo};
use crate::event::{Event, EventSink, Origin, OwnedEvent};
use crate::printer::listen::{uptime, ClientRow};
use crate::printer::Printer;
use crate::session::{Charge, Input};
use crate::slash::{self, Command};

struct Entry {
    info: ClientInfo,
    tx: Sender<Input>,
    /// The bytes `tx` may hold.
    budget: crate::bounded::Budget,
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
    pub fn join(
        &mut self,
        id: u64,
        info: ClientInfo,
        tx: Sender<Input>,
        budget: crate::bounded::Budget,
    ) {
        self.clients.insert(
            id,
            Entry {
                info,
                tx,
                budget,
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

    /// Keep the message counts of `/clients`. What the hub itself sends was counted when it was
    /// handed over (see `send_to`), so that `/clients` right after a broadcast counts it.
    pub fn count(&mut self, id: u64, ev: &ClientEvent) {
        if let Some(e) = self.clients.get_mut(&id) {
            match ev {
                ClientEvent::Session(OwnedEvent::Received(..)) => e.received += 1,
                ClientEvent::Session(OwnedEvent::Sent(_, _, _, origin, _))
                    if *origin != Origin::Hub =>
                {
                    e.sent += 1
                }
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

    /// Queue `cmd` for client `id`, and count it if it is a message (a `/file` that its session
    /// then cannot read is counted too: it is refused on the screen). The error is for the user.
    fn send_to(&mut self, id: u64, cmd: Command) -> Result<(), String> {
        let data = matches!(
            cmd,
            Command::Text(_) | Command::Binary(_) | Command::File { .. }
        );
        let Some(e) = self.clients.get_mut(&id) else {
            return Err(self.unknown(id));
        };
        let full =
            || format!("client {id} is not reading: its queue is full, message not delivered");
        // A message larger than the whole budget waits alone.
        let charge = e
            .budget
            .try_charge(command_bytes(&cmd) + 64)
            .ok_or_else(full)?;
        match e.tx.try_send(Input::Command(cmd, charge)) {
            Ok(()) => {
                e.sent += u64::from(data);
                Ok(())
            }
            Err(TrySendError::Full(_)) => Err(full()),
            // It is leaving; its disconnect line follows.
            Err(TrySendError::Closed(_)) => Ok(()),
        }
    }

    /// Why there is no client `id`, for the user.
    fn unknown(&self, id: u64) -> String {
        let known: Vec<String> = self.clients.keys().map(u64::to_string).collect();
        if known.is_empty() {
            format!("no client {id}: no clients are connected")
        } else {
            format!("no client {id}: connected are {}", known.join(", "))
        }
    }

    pub fn broadcast(&mut self, cmd: Command, out: &mut Printer) {
        if self.clients.is_empty() {
            out.refused("no clients are connected: nothing was sent", None);
            return;
        }
        let ids: Vec<u64> = self.clients.keys().copied().collect();
        for id in ids {
            if let Err(e) = self.send_to(id, cmd.clone()) {
                out.refused(&e, None);
            }
        }
    }

    /// Close every client with 1001 "going away" (Ctrl-C, SIGTERM, /quit). Past the byte budget:
    /// a close is a few bytes, and it must get through to a client that does not read.
    pub fn close_all(&self) {
        for e in self.clients.values() {
            let _ =
                e.tx.try_send(Input::Command(going_away(), Charge::default()));
        }
    }

    /// Run one line of the server's input.
    pub fn execute(&mut self, line: &str, shared: &Shared, out: &mut Printer) -> Flow {
        let cmd = match slash::parse(line) {
            Ok(c) => c,
            Err(e) => {
                out.refused(&e.to_string(), e.hint().as_deref());
                return Flow::Continue;
            }
        };
        match cmd {
            Command::Nothing => {}
            Command::To { client, command } => match sendable(*command) {
                Ok(cmd) => {
                    if let Err(e) = self.send_to(client, cmd) {
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
                if let Err(e) = self.send_to(client, Command::Close { code, reason }) {
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
            other => match sendable(other) {
                Ok(cmd) => self.broadcast(cmd, out),
                Err(e) => out.refused(&e, None),
            },
        }
        out.flush();
        Flow::Continue
    }
}

fn going_away() -> Command {
    Command::Close {
        code: 1001,
        reason: "going away".into(),
    }
}

/// The bytes a command puts in a client's queue (a file is read by the client's session).
fn command_bytes(cmd: &Command) -> usize {
    match cmd {
        Command::Text(t) => t.len(),
        Command::Binary(b) | Command::Ping(b) | Command::Pong(b) => b.len(),
        Command::Close { reason, .. } => reason.len(),
        _ => 0,
    }
}

/// A command a client's session can carry out; the error is for the user.
fn sendable(cmd: Command) -> Result<Command, String> {
    match cmd {
        Command::Text(_)
        | Command::Binary(_)
        | Command::File { .. }
        | Command::Ping(_)
        | Command::Pong(_)
        | Command::Close { .. } => Ok(cmd),
        Command::Raw(_) | Command::Frame(_) => {
            Err("/raw and /frame work in `wscope URL` only (-x, --script and its REPL)".into())
        }
        other => Err(format!("{other:?} cannot be sent to a client")),
    }
}
