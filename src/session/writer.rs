//! The writer task: the only place that writes to the server. It feeds what is queued and
//! flushes once per burst, so a slow server never stops the session from reading.

use super::*;

pub(super) async fn write_loop(
    mut sink: SplitSink<Ws, Message>,
    mut rx: mpsc::Receiver<Message>,
    err: mpsc::Sender<WsError>,
) {
    while let Some(first) = rx.recv().await {
        // Feed everything already queued, then flush once: one syscall for a burst of messages.
        let mut res = sink.feed(first).await;
        while res.is_ok() {
            match rx.try_recv() {
                Ok(m) => res = sink.feed(m).await,
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
