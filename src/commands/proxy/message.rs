//! What a proxied pair tells the proxy's hub, over one queue bounded in bytes (as listen's
//! clients do): its registration, each hop's events, the upstream handshake, and its end.

use tokio::sync::mpsc;

use crate::event::{ClientEvent, ClientInfo, Hop};
use crate::session::Input;

/// A way into one hop's session: its input queue and the byte budget of that queue.
#[derive(Clone)]
pub struct Link {
    pub tx: mpsc::Sender<Input>,
    pub budget: crate::bounded::Budget,
}

pub enum FromPair {
    Joined {
        id: u64,
        info: ClientInfo,
        upstream: String,
        to_client: Link,
        to_server: Link,
    },
    Event(u64, Hop, ClientEvent),
    /// The upstream hop's handshake (`-v` shows it, `--dump` opens that hop's dump with it).
    Upstream(u64, Box<crate::handshake::Report>),
    Note(u64, String),
    Left(u64),
}

impl FromPair {
    /// Roughly the bytes it holds, for the hub queue's bound.
    pub fn cost(&self) -> usize {
        match self {
            FromPair::Event(_, _, ClientEvent::Session(ev)) => ev.cost(),
            FromPair::Event(_, _, ClientEvent::Handshake(h)) => {
                256 + h.request.len() + h.response.len()
            }
            FromPair::Upstream(_, r) => {
                1024 + r.request.as_ref().map_or(0, String::len)
                    + r.response
                        .as_ref()
                        .map_or(0, |v| v.head.len() + v.body.as_ref().map_or(0, String::len))
            }
            FromPair::Note(_, t) => 64 + t.len(),
            _ => 256,
        }
    }
}

pub type HubTx = crate::bounded::Tx<FromPair>;
/// Bytes of events the hub may have queued before the sessions stop reading.
pub const HUB_QUEUE_BYTES: usize = 16 << 20;

pub fn tell(hub: &HubTx, msg: FromPair) {
    let cost = msg.cost();
    hub.send(msg, cost);
}
