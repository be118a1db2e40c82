//! The writer task: the only place that writes to the server. It feeds what is queued and
//! flushes once per burst, so a slow server never stops the session from reading. Raw bytes
//! (`/raw`, `/frame`) go through the [`raw`](super::raw) layer once everything fed before them
//! is flushed.

use super::*;

/// What the session queues for the socket.
#[derive(Debug)]
pub enum Out {
    /// A message for tungstenite to frame.
    Ws(Message),
    /// Bytes for the socket as they are.
    Raw(Vec<u8>),
}

impl From<Message> for Out {
    fn from(m: Message) -> Out {
        Out::Ws(m)
    }
}

impl Out {
    pub(super) fn is_close(&self) -> bool {
        matches!(self, Out::Ws(m) if m.is_close())
    }
}

pub(super) async fn write_loop(
    mut sink: SplitSink<Ws, Message>,
    mut rx: mpsc::Receiver<Out>,
    err: mpsc::Sender<WsError>,
    raw: Option<raw::Injector>,
) {
    while let Some(first) = rx.recv().await {
        // Feed everything already queued, then flush once: one syscall for a burst of messages.
        let mut res = feed(&mut sink, first, raw.as_ref()).await;
        while res.is_ok() {
            match rx.try_recv() {
                Ok(m) => res = feed(&mut sink, m, raw.as_ref()).await,
                Err(_) => break,
            }
        }
        if res.is_ok() {
            res = sink.flush().await;
        }
        if let Err(e) = res {
            // The peer's close came in while this was queued: tungstenite has answered it, and
            // nothing may be sent after a close. That is the end of writing, not a failure.
            let closed = matches!(
                e,
                WsError::ConnectionClosed
                    | WsError::AlreadyClosed
                    | WsError::Protocol(ProtocolError::SendAfterClosing)
            );
            if !closed {
                let _ = err.send(e).await;
            }
            return;
        }
    }
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
