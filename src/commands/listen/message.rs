//! What a client task sends the hub, over the queue bounded in bytes ([`HubTx`]): kept out of the
//! task file so the task, the hub and the server loop all name it from one place.

use tokio::sync::mpsc;

use crate::event::{ClientEvent, ClientInfo};
use crate::session::Input;

pub enum FromClient {
    Joined {
        id: u64,
        info: ClientInfo,
        tx: mpsc::Sender<Input>,
        /// The byte budget of `tx` (see [`super::client::CLIENT_QUEUE_BYTES`]).
        budget: crate::bounded::Budget,
    },
    Event(u64, ClientEvent),
    Left(u64),
}

impl FromClient {
    /// Roughly the bytes it holds, for the hub queue's bound.
    pub fn cost(&self) -> usize {
        match self {
            FromClient::Event(_, ClientEvent::Session(ev)) => ev.cost(),
            FromClient::Event(_, ClientEvent::Handshake(h)) => {
                256 + h.request.len() + h.response.len()
            }
            _ => 256,
        }
    }
}

/// The queue from the client tasks to the hub, bounded in bytes across all clients: a session
/// stops reading from its client while it is full (see [`crate::bounded::channel`]).
pub type HubTx = crate::bounded::Tx<FromClient>;
/// Bytes of client events the hub may have queued before sessions stop reading.
pub const HUB_QUEUE_BYTES: usize = 16 << 20;

/// Queue `msg` for the hub, at its cost.
pub fn tell(hub: &HubTx, msg: FromClient) {
    let cost = msg.cost();
    hub.send(msg, cost);
}
