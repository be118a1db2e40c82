//! permessage-deflate (RFC 7692), which tungstenite 0.30 does not have. [`params`] negotiates it;
//! [`codec`] compresses and inflates; [`stream::Inflate`] sits under the guard and inflates what
//! comes in; a [`Link`], shared by that layer and the session, compresses what the session sends
//! (as frames with RSV1 set, which tungstenite writes and masks as it does any frame) and tells
//! the session what each message weighed on the wire.

pub mod codec;
pub mod mirror;
pub mod params;
#[cfg(test)]
mod roundtrip;
pub mod stream;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message;

use crate::dial::BoxStream;
use crate::wire::guard::WireFacts;
use crate::wire::role::Role;
use codec::Deflater;
pub use params::{Agreed, Offer};

/// How a data message crossed the wire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Wire {
    pub compressed: bool,
    /// Payload bytes on the wire (the compressed size when compressed), headers not counted.
    pub size: u64,
}

impl Wire {
    /// A message sent or received as it is.
    pub fn plain(size: usize) -> Wire {
        Wire {
            compressed: false,
            size: size as u64,
        }
    }
}

/// Received messages whose wire facts the session has not taken yet, at most: the inflater is at
/// most a read buffer or two ahead of the session, so this is only a guard against drift.
const MAX_RECORDS: usize = 64 * 1024;

/// One connection's deflate state, shared by its inflating layer and its session.
#[derive(Clone)]
pub struct Link {
    pub agreed: Agreed,
    role: Role,
    /// None when our window is 8 bits (zlib cannot compress with it): we send uncompressed.
    deflater: Arc<Mutex<Option<Deflater>>>,
    received: Arc<Mutex<VecDeque<Wire>>>,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("agreed", &self.agreed)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl Link {
    pub fn new(agreed: Agreed, role: Role) -> Link {
        let (bits, fresh) = agreed.sending(role);
        Link {
            agreed,
            role,
            deflater: Arc::new(Mutex::new(Deflater::new(bits, fresh))),
            received: Arc::default(),
        }
    }

    /// The inflating layer handed a whole data message up.
    pub(crate) fn received_message(&self, w: Wire) {
        let mut q = self.received.lock().unwrap_or_else(PoisonError::into_inner);
        if q.len() < MAX_RECORDS {
            q.push_back(w);
        }
    }

    /// How the data message the session just received (of `size` bytes) came over the wire.
    pub fn received(&self, size: usize) -> Wire {
        self.received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front()
            .unwrap_or_else(|| Wire::plain(size))
    }

    /// The message to write for data message `m`: compressed into one frame with RSV1 set, or
    /// `m` itself when our window does not allow compression. Control frames are never given.
    pub fn outgoing(&self, m: Message) -> (Message, Wire) {
        let (op, data): (Data, &[u8]) = match &m {
            Message::Text(t) => (Data::Text, t.as_bytes()),
            Message::Binary(b) => (Data::Binary, b),
            _ => return (m, Wire::default()),
        };
        let mut deflater = self.deflater.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(d) = deflater.as_mut() else {
            let size = data.len();
            drop(deflater);
            return (m, Wire::plain(size));
        };
        let packed = d.message(data);
        drop(deflater);
        let wire = Wire {
            compressed: true,
            size: packed.len() as u64,
        };
        let mut frame = Frame::message(packed, OpCode::Data(op), true);
        frame.header_mut().rsv1 = true;
        (Message::Frame(frame), wire)
    }
}

/// Let the tap's decoders show what compressed frames inflate to (each direction its own
/// inflater, stopping at `cap`, keeping `keep` bytes per frame).
pub fn dump_inflated(tap: &crate::wire::tap::TapSink, link: &Link, cap: usize, keep: usize) {
    use crate::wire::frame::Direction;
    let incoming = link.agreed.receiving_fresh(link.role);
    let (_, outgoing) = link.agreed.sending(link.role);
    tap.inflate(
        Direction::Incoming,
        mirror::Mirror::new(incoming, cap, keep),
    );
    tap.inflate(
        Direction::Outgoing,
        mirror::Mirror::new(outgoing, cap, keep),
    );
}

/// The wire facts of a received data message, with or without deflate.
pub fn received(link: &Option<Link>, size: usize) -> Wire {
    match link {
        Some(l) => l.received(size),
        None => Wire::plain(size),
    }
}

/// The message to write for a data message, with or without deflate.
pub fn outgoing(link: &Option<Link>, m: Message) -> (Message, Wire) {
    match link {
        Some(l) => l.outgoing(m),
        None => {
            let size = match &m {
                Message::Text(t) => t.len(),
                Message::Binary(b) => b.len(),
                _ => 0,
            };
            (m, Wire::plain(size))
        }
    }
}

/// Put the inflating layer on `stream` (above the tap, below the guard) when deflate was agreed.
/// Returns the stream and the leftover bytes for the layers above: none then, since the inflater
/// reads them first (they may be compressed frames too).
pub fn layer(
    stream: BoxStream,
    leftover: Vec<u8>,
    link: Option<&Link>,
    limit: usize,
    wire: &WireFacts,
) -> (BoxStream, Vec<u8>) {
    match link {
        Some(link) => {
            let fresh = link.agreed.receiving_fresh(link.role);
            let s =
                stream::Inflate::new(stream, leftover, fresh, limit, wire.clone(), link.clone());
            (Box::new(s), Vec::new())
        }
        None => (stream, leftover),
    }
}
