//! What a client task sends the hub, over the queue bounded in bytes (`queue`): kept out of the
//! task file so the queue, the task and the hub all name it from one place.

use std::sync::Arc;

use tokio::sync::{mpsc, Semaphore};

use crate::event::{ClientEvent, ClientInfo};
use crate::session::Input;

pub enum FromClient {
    Joined {
        id: u64,
        info: ClientInfo,
        tx: mpsc::Sender<Input>,
        /// The byte budget of `tx` (see [`super::client::CLIENT_QUEUE_BYTES`]).
        budget: Arc<Semaphore>,
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
