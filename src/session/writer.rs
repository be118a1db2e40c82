//! The writer task: the only place that writes to the server. It feeds what is queued and
//! flushes once per burst, so a slow server never stops the session from reading. Raw bytes
//! (`/raw`, `/frame`) go through the [`raw`](super::raw) layer once everything fed before them
//! is flushed. When the connection ends under it, the data messages it never got to write are
//! handed back (with `--reconnect` they go out on the next connection).

use super::*;

/// What goes to the socket.
#[derive(Debug)]
pub enum Out {
    /// A message for tungstenite to frame.
    Ws(Message),
    /// Bytes for the socket as they are.
    Raw(Vec<u8>),
}

impl Out {
    pub(super) fn is_close(&self) -> bool {
        matches!(self, Out::Ws(m) if m.is_close())
    }
}

/// What the writer is handed: what goes on the wire and, for a data message kept for a next
/// connection, the message as it was before compression (a compressed frame belongs to this
/// connection's deflate context).
pub(super) struct Outgoing {
    pub(super) wire: Out,
    pub(super) data: Option<Message>,
}

impl From<Out> for Outgoing {
    fn from(wire: Out) -> Outgoing {
        Outgoing { wire, data: None }
    }
}

impl From<Message> for Outgoing {
    fn from(m: Message) -> Outgoing {
        Out::Ws(m).into()
    }
}

/// Returns the data messages that were never written, in order, for the next connection.
///
/// `SplitSink` holds the last message fed in a slot of its own and hands it to tungstenite only
/// on the next feed or flush: when that fails, the message in the slot was not written either.
/// Messages tungstenite took count as sent, whether the peer read them or not: no one can know.
pub(super) async fn write_loop(
    mut sink: SplitSink<Ws, Message>,
    mut rx: mpsc::Receiver<Outgoing>,
    err: mpsc::Sender<WsError>,
    raw: Option<raw::Injector>,
) -> Vec<Message> {
    while let Some(first) = rx.recv().await {
        // Feed everything already queued, then flush once: one syscall for a burst of messages.
        let mut in_slot: Option<Message> = None;
        let mut next = Some(first);
        let mut failed = None;
        while let Some(o) = next.take() {
            let flushes = matches!(o.wire, Out::Raw(_));
            match feed(&mut sink, o.wire, raw.as_ref()).await {
                // Raw bytes flush what was fed before them: the slot is empty after them.
                Ok(()) if flushes => in_slot = None,
                Ok(()) => in_slot = o.data,
                Err(e) => {
                    let left = in_slot.take().into_iter().chain(o.data).collect();
                    failed = Some((e, left));
                    break;
                }
            }
            next = rx.try_recv().ok();
        }
        let (e, mut left) = match failed {
            Some(f) => f,
            None => match sink.flush().await {
                Ok(()) => continue,
                // Refused before writing: the message in the slot never reached tungstenite.
                Err(e) if refused(&e) => (e, in_slot.into_iter().collect()),
                Err(e) => (e, Vec::new()),
            },
        };
        // The peer's close came in while this was queued: tungstenite has answered it, and
        // nothing may be sent after a close. That is the end of writing, not a failure.
        if !refused(&e) {
            let _ = err.send(e).await;
        }
        left.extend(unsent(rx));
        return left;
    }
    Vec::new()
}

async fn feed(
    sink: &mut SplitSink<Ws, Message>,
    out: Out,
    raw: Option<&raw::Injector>,
) -> std::result::Result<(), WsError> {
    match (out, raw) {
        (Out::Ws(m), _) => sink.feed(m).await,
        // What was fed before goes out first; then the flush takes the bytes down the layer.
        (Out::Raw(bytes), Some(raw)) => {
            sink.flush().await?;
            raw.put(bytes);
            sink.flush().await
        }
        // The session refuses raw bytes where there is no layer to carry them.
        (Out::Raw(_), None) => Ok(()),
    }
}

/// tungstenite refused the message: the connection is closing or closed.
fn refused(e: &WsError) -> bool {
    matches!(
        e,
        WsError::ConnectionClosed
            | WsError::AlreadyClosed
            | WsError::Protocol(ProtocolError::SendAfterClosing)
    )
}

/// What is still queued, closing the queue first so that nothing more can join it.
fn unsent(mut rx: mpsc::Receiver<Outgoing>) -> Vec<Message> {
    rx.close();
    let mut left = Vec::new();
    while let Ok(o) = rx.try_recv() {
        left.extend(o.data);
    }
    left
}
