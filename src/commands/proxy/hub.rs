//! The registry of proxied pairs and what the proxy's own input does with them: `/to-server ID
//! MSG` and `/to-client ID MSG` put a message (or a ping, pong or close) on one hop as if the
//! other end had sent it, `/kick ID [CODE [REASON]]` closes both hops of a pair with that code,
//! `/clients` lists the pairs. The hub only queues commands, within each hop's byte
//! budget; the hop's session carries them out.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use tokio::sync::mpsc::error::TrySendError;

use super::message::Link;
use super::pair::Shared;
use crate::event::{ClientEvent, ClientInfo, Event, EventSink, Hop, OwnedEvent};
use crate::printer::listen::{uptime, ClientRow};
use crate::printer::Printer;
use crate::session::{Charge, Input};
use crate::slash::{self, Command};

struct Entry {
    info: ClientInfo,
    to_client: Link,
    to_server: Link,
    /// Messages from the client, and from the server.
    from_client: u64,
    from_server: u64,
}

/// What the server loop should do after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

#[derive(Default)]
pub struct Hub {
    pairs: BTreeMap<u64, Entry>,
    /// `-v`, toggled by `/verbose on|off`.
    pub verbose: bool,
}

impl Hub {
    pub fn join(&mut self, id: u64, info: ClientInfo, to_client: Link, to_server: Link) {
        let e = Entry {
            info,
            to_client,
            to_server,
            from_client: 0,
            from_server: 0,
        };
        self.pairs.insert(id, e);
    }

    pub fn leave(&mut self, id: u64) {
        self.pairs.remove(&id);
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    pub fn count(&mut self, id: u64, hop: Hop, ev: &ClientEvent) {
        if let (Some(e), ClientEvent::Session(OwnedEvent::Received(..))) =
            (self.pairs.get_mut(&id), ev)
        {
            match hop {
                Hop::Client => e.from_client += 1,
                Hop::Server => e.from_server += 1,
            }
        }
    }

    /// `/clients`: from the client hop's side, `received` is what the client sent, `sent` what
    /// it was sent (its server's messages).
    fn rows(&self) -> Vec<ClientRow> {
        let row = |(id, e): (&u64, &Entry)| ClientRow {
            id: *id,
            peer: e.info.peer.to_string(),
            path: e.info.path.clone(),
            subprotocol: e.info.subprotocol.clone(),
            uptime: uptime(e.info.since),
            received: e.from_client,
            sent: e.from_server,
        };
        self.pairs.iter().map(row).collect()
    }

    /// Close both hops of every pair with 1001 (Ctrl-C, SIGTERM, /quit), past the byte budget.
    pub fn close_all(&self) {
        for e in self.pairs.values() {
            for link in [&e.to_client, &e.to_server] {
                let _ = link
                    .tx
                    .try_send(Input::Command(going_away(), Charge::default()));
            }
        }
    }

    /// Queue `cmd` on hop `hop` of pair `id`; the error is for the user.
    fn send_to(&mut self, id: u64, hop: Hop, cmd: Command) -> Result<(), String> {
        let Some(e) = self.pairs.get(&id) else {
            return Err(self.unknown(id));
        };
        let link = match hop {
            Hop::Client => &e.to_client,
            Hop::Server => &e.to_server,
        };
        let side = super::relay::names(hop).0;
        let full = || format!("the {side} of {id} is not reading: its queue is full, not sent");
        let charge = link.budget.try_charge(bytes(&cmd) + 64).ok_or_else(full)?;
        match link.tx.try_send(Input::Command(cmd, charge)) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(full()),
            // It is ending; its line follows.
            Err(TrySendError::Closed(_)) => Ok(()),
        }
    }

    fn unknown(&self, id: u64) -> String {
        let known: Vec<String> = self.pairs.keys().map(u64::to_string).collect();
        match known.is_empty() {
            true => format!("no client {id}: no clients are connected"),
            false => format!("no client {id}: connected are {}", known.join(", ")),
        }
    }

    /// Run one line of the proxy's input.
    pub fn execute(&mut self, line: &str, shared: &Shared, out: &mut Printer) -> Flow {
        let cmd = match slash::parse(line) {
            Ok(c) => c,
            Err(e) => {
                out.refused(&e.to_string(), e.hint().as_deref());
                return Flow::Continue;
            }
        };
        let sent = match cmd {
            Command::Nothing => Ok(()),
            Command::ToServer { client, command } => self.send_to(client, Hop::Server, *command),
            Command::ToClient { client, command } => self.send_to(client, Hop::Client, *command),
            Command::Kick {
                client,
                code,
                reason,
            } => {
                // Both hops, with the same code: the server learns why its client went.
                let close = Command::Close { code, reason };
                self.send_to(client, Hop::Server, close.clone())
                    .and_then(|()| self.send_to(client, Hop::Client, close))
            }
            Command::Clients | Command::Status => {
                out.clients(&self.rows());
                Ok(())
            }
            Command::Dump(on) => {
                shared.dump.store(on, Ordering::Relaxed);
                out.note(if on { "dump on" } else { "dump off" });
                Ok(())
            }
            Command::Verbose(on) => {
                self.verbose = on;
                out.event(Event::Verbose(on));
                Ok(())
            }
            Command::Help => {
                out.listen_help();
                Ok(())
            }
            Command::Quit => return Flow::Quit,
            _ => {
                let hint = "/to-server ID MSG or /to-client ID MSG (IDs from /clients)";
                out.refused(
                    "in the proxy a message goes to one side of one client",
                    Some(hint),
                );
                Ok(())
            }
        };
        if let Err(e) = sent {
            out.refused(&e, Some("/clients lists the connected clients"));
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

/// The bytes a command puts in a hop's queue.
fn bytes(cmd: &Command) -> usize {
    match cmd {
        Command::Text(t) => t.len(),
        Command::Binary(b) | Command::Ping(b) | Command::Pong(b) => b.len(),
        Command::Close { reason, .. } => reason.len(),
        _ => 0,
    }
}
