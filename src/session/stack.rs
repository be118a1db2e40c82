//! The layers between an upgraded stream and the WebSocket library, stacked the same way for both
//! roles: the tap (raw bytes for `--dump`, compressed as they crossed the wire), then the
//! permessage-deflate layer, then the inbound guard (which judges the inflated bytes), then the
//! raw layer that carries `/raw` and `/frame` bytes (so they pass the guard and the tap as written
//! bytes, and the dump shows them), then tokio-tungstenite with our limits.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use tokio_tungstenite::WebSocketStream;

use super::Role;
use crate::deflate::Link;
use crate::dial::BoxStream;
use crate::wire::frame::Direction;
use crate::wire::guard::{Guard, WireFacts};
use crate::wire::tap::{Tap, TapReceiver, TapSink};

/// The dump's switch and how much of each payload it keeps, when frames are to be tapped.
pub struct Tapping {
    pub limit: usize,
    pub enabled: Arc<AtomicBool>,
    /// `--dump-h2`: the HTTP/2 frames beneath, shown through this tap.
    pub h2: Option<crate::wire::h2dump::H2Dump>,
}

/// A connection ready for the session: the WebSocket, the tapped frames (if tapped), and what
/// the guard learnt of the wire.
pub struct Stacked {
    pub ws: WebSocketStream<BoxStream>,
    pub frames: Option<TapReceiver>,
    pub wire: WireFacts,
    /// The writer's handle on the raw layer.
    pub raw: super::raw::Injector,
}

/// Stack the layers on `stream`, whose first bytes (read behind the handshake) are `leftover`.
pub async fn stack(
    stream: BoxStream,
    leftover: Vec<u8>,
    role: Role,
    deflate: Option<&Link>,
    max_message_size: usize,
    tapping: Option<Tapping>,
) -> Stacked {
    let read_buffer = super::read_buffer_for(role);
    stack_sized(
        stream,
        leftover,
        role,
        deflate,
        max_message_size,
        tapping,
        read_buffer,
    )
    .await
}

/// [`stack`] with the library's read buffer of `read_buffer` bytes: bench's 10,000 connections
/// take a smaller one than [`super::read_buffer_for`] gives a client, each buffer being allocated
/// whole up front.
pub async fn stack_sized(
    stream: BoxStream,
    leftover: Vec<u8>,
    role: Role,
    deflate: Option<&Link>,
    max_message_size: usize,
    tapping: Option<Tapping>,
    read_buffer: usize,
) -> Stacked {
    let (stream, frames): (BoxStream, _) = match tapping {
        Some(t) => {
            let (sink, rx) = TapSink::new(t.limit, Instant::now(), t.enabled);
            sink.until_close();
            if let Some(link) = deflate {
                crate::deflate::dump_inflated(&sink, link, max_message_size, t.limit);
            }
            sink.record(Direction::Incoming, &leftover);
            if let Some(h2) = t.h2 {
                h2.attach(sink.clone());
            }
            (Box::new(Tap::new(stream, sink)), Some(rx))
        }
        None => (stream, None),
    };
    let wire = WireFacts::default();
    let (stream, leftover) =
        crate::deflate::layer(stream, leftover, deflate, max_message_size, &wire);
    let guard = Guard::new(stream, &leftover, wire.clone(), max_message_size);
    // The library reads the leftover itself: never past the peer's close frame.
    let mut leftover = leftover;
    leftover.truncate(guard.leftover_len());
    let stream: BoxStream = Box::new(guard);
    let raw = super::raw::Injector::default();
    let stream = raw.layer(stream);
    let ws = WebSocketStream::from_partially_read(
        stream,
        leftover,
        role.ws(),
        Some(super::ws_config(max_message_size).read_buffer_size(read_buffer)),
    )
    .await;
    Stacked {
        ws,
        frames,
        wire,
        raw,
    }
}
