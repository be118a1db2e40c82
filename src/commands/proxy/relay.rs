//! The join between a pair's two sessions. Each hop's session reports to a [`HopSink`], which
//! hands its peer's messages and close to that direction's relay through a queue bounded in
//! bytes, and says it is backlogged while that queue is full: the session then stops reading
//! its socket. The [`relay`] task maps a message (`--map-client`/`--map-server`, jq off the
//! runtime thread), takes its bytes from the other session's input budget (waiting while that
//! session does not write them out: backpressure end to end), and queues it there. A close is
//! relayed with its code and reason; a hop that ends without one closes the other with 1001.

use std::sync::Arc;
use std::time::Duration;

use super::message::{tell, FromPair, HubTx, Link};
use crate::bounded::Charge;
use crate::event::{ClientEvent, DataKind, Event, EventSink, Hop, OwnedEvent};
use crate::script::matcher::{Jq, JqOutcome};
use crate::script::worker::{Ended as JobEnded, Job};
use crate::session::Input;
use crate::slash::Command;

/// Bytes one direction's relay queue holds before the sending hop stops reading.
pub const RELAY_BYTES: usize = 1 << 20;
/// How long a `--map-*` filter may run on one message before it passes unchanged.
const MAP_DEADLINE: Duration = Duration::from_secs(5);

/// What one hop hands the relay toward the other.
pub enum Relayed {
    Data(DataKind, Vec<u8>),
    Close(Option<u16>, String),
    /// The hop's session is over; `how` says how, for the line that says why the other closes.
    Ended {
        dropped: bool,
        how: String,
    },
}

/// One hop's event sink: every event to the hub (tagged with the hop), the peer's messages and
/// close to the relay.
pub struct HopSink<'a> {
    pub id: u64,
    pub hop: Hop,
    pub hub: &'a HubTx,
    pub relay: crate::bounded::Tx<Relayed>,
    /// Whether the hub wants this hop's relayed sends (`--json` records them); the screen shows
    /// a message once, where it was received, so they are not copied for it otherwise.
    pub own_sends: bool,
    close_seen: bool,
    ended: bool,
}

impl<'a> HopSink<'a> {
    pub fn new(id: u64, hop: Hop, hub: &'a HubTx, relay: crate::bounded::Tx<Relayed>) -> Self {
        HopSink {
            id,
            hop,
            hub,
            relay,
            own_sends: true,
            close_seen: false,
            ended: false,
        }
    }

    /// The session is over (or was given up on): the relay learns it once.
    pub fn end(&mut self, how: &str) {
        if !self.ended {
            self.ended = true;
            let dropped = !self.close_seen;
            self.relay.send(
                Relayed::Ended {
                    dropped,
                    how: how.to_string(),
                },
                64,
            );
        }
    }
}

impl EventSink for HopSink<'_> {
    fn event(&mut self, ev: Event<'_>) {
        match &ev {
            Event::Received { kind, data, .. } => {
                self.relay
                    .send(Relayed::Data(*kind, data.to_vec()), data.len() + 64);
            }
            Event::CloseReceived { code, reason } => {
                self.close_seen = true;
                self.relay
                    .send(Relayed::Close(*code, reason.to_string()), 64 + reason.len());
            }
            Event::Closed(e) => {
                let how = match e.closer {
                    crate::event::Closer::Nobody => "dropped without a close",
                    crate::event::Closer::Us => "was closed by wscope",
                    crate::event::Closer::Peer => "closed",
                };
                self.end(how);
            }
            Event::Sent {
                origin: crate::event::Origin::User,
                ..
            } if !self.own_sends => return,
            _ => {}
        }
        tell(
            self.hub,
            FromPair::Event(
                self.id,
                self.hop,
                ClientEvent::Session(OwnedEvent::new(&ev)),
            ),
        );
    }
    fn flush(&mut self) {}
    fn dirty(&self) -> bool {
        false
    }
    fn broken(&self) -> bool {
        false
    }
    fn backlogged(&self) -> bool {
        self.hub.full() || self.relay.full()
    }
}

/// One direction of a pair: what hop `from` said, to the other hop's session through `to`.
pub struct Relay {
    pub id: u64,
    pub from: Hop,
    pub to: Link,
    pub map: Option<Arc<Jq>>,
    pub hub: HubTx,
}

impl Relay {
    pub async fn run(self, mut rx: crate::bounded::Rx<Relayed>) {
        let mut closed_other = false;
        while let Some(item) = rx.recv().await {
            match item {
                Relayed::Data(kind, data) => {
                    let Some(data) = self.mapped(kind, data).await else {
                        continue;
                    };
                    let Some(charge) = self.to.budget.charge(data.len() + 64).await else {
                        break;
                    };
                    let input = match kind {
                        DataKind::Text => Input::Text(text(data), charge),
                        DataKind::Binary => Input::Binary(data, charge),
                    };
                    if self.to.tx.send(input).await.is_err() {
                        break;
                    }
                }
                Relayed::Close(code, reason) => {
                    closed_other = true;
                    // A close without a code (or with one an endpoint may not send) goes on as
                    // 1000, its reason kept.
                    let code = code
                        .filter(|c| crate::wire::close::may_be_sent(*c))
                        .unwrap_or(1000);
                    self.close(code, reason).await;
                }
                Relayed::Ended { dropped, how } => {
                    if !closed_other {
                        let (this, other) = names(self.from);
                        let why = if dropped {
                            "dropped without a close"
                        } else {
                            how.as_str()
                        };
                        tell(
                            &self.hub,
                            FromPair::Note(
                                self.id,
                                format!("the {this} {why}: closing the {other} side with 1001"),
                            ),
                        );
                        self.close(1001, format!("{this} went away")).await;
                    }
                    break;
                }
            }
        }
    }

    /// Queue a close for the other hop: past the byte budget (a close is a few bytes, and it
    /// must reach a session whose queue is full of messages it cannot write).
    async fn close(&self, code: u16, reason: String) {
        let cmd = Command::Close { code, reason };
        let _ = self
            .to
            .tx
            .send(Input::Command(cmd, Charge::default()))
            .await;
    }

    /// The message after `--map-*`: None when the filter dropped it (`empty`, or an error).
    async fn mapped(&self, kind: DataKind, data: Vec<u8>) -> Option<Vec<u8>> {
        let (Some(jq), DataKind::Text) = (&self.map, kind) else {
            return Some(data);
        };
        let flag = match self.from {
            Hop::Client => "--map-client",
            Hop::Server => "--map-server",
        };
        let job = Job::start(jq.clone(), Arc::from(String::from_utf8_lossy(&data)));
        let answer = match tokio::time::timeout(MAP_DEADLINE, job.ended()).await {
            Ok(()) => job.poll(),
            Err(_) => None,
        };
        match answer {
            Some(JobEnded::Answer(JqOutcome::Value { text, .. })) => Some(text.into_bytes()),
            Some(JobEnded::Answer(JqOutcome::NotJson)) => Some(data),
            Some(JobEnded::Answer(JqOutcome::Nothing)) => {
                let why = match job.spent() {
                    true => "it went past its memory budget",
                    false => "it gave no output (empty, or an error)",
                };
                self.note(format!("{flag} dropped a message: {why}"));
                None
            }
            Some(JobEnded::Lost) | None => {
                self.note(format!(
                    "{flag} gave no answer within {}: the message passes unchanged",
                    crate::error::secs(MAP_DEADLINE)
                ));
                Some(data)
            }
        }
    }

    fn note(&self, text: String) {
        tell(&self.hub, FromPair::Note(self.id, text));
    }
}

/// Text the guard checked as UTF-8 (a map's output is a Rust string too).
fn text(data: Vec<u8>) -> String {
    String::from_utf8(data).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// `(this hop, the other hop)` as a line names them.
pub fn names(hop: Hop) -> (&'static str, &'static str) {
    match hop {
        Hop::Client => ("client", "server"),
        Hop::Server => ("server", "client"),
    }
}
