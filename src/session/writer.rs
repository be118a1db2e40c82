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
    /// Boxed: it is there only with `--reconnect`, and the queue's first block (32 slots,
    /// allocated with the queue) is part of what every connection costs.
    pub(super) data: Option<Box<Message>>,
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

/// Whether the writer has handed every data message queued to the library. tungstenite refuses
/// to send once it has read the peer's close, so with --echo the session reads a close that has
/// arrived only after the echoes of the messages before it are handed over ([`Handed::wait`]).
#[derive(Debug, Default)]
pub(super) struct Handed {
    /// Set by the session before it queues a data message; cleared by the writer once a flush
    /// found nothing more queued (or when it ends).
    unhanded: std::sync::atomic::AtomicBool,
    done: tokio::sync::Notify,
}

impl Handed {
    /// Before a data message is queued. Set first, so a writer that clears it too early costs
    /// at most that echo, never a wait for ever.
    pub(super) fn queued(&self) {
        self.unhanded
            .store(true, std::sync::atomic::Ordering::Release);
    }

    /// Every data message queued so far is in the library's hands (or there is no writer).
    pub(super) fn all(&self, wtx: &mpsc::Sender<Outgoing>) -> bool {
        wtx.is_closed() || !self.unhanded.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Wait until [`Handed::all`] holds. The writer clears the flag at every flush that empties
    /// its queue and when it ends; a peer that never reads holds this, as it holds the echo.
    pub(super) async fn wait(&self, wtx: &mpsc::Sender<Outgoing>) {
        loop {
            let done = self.done.notified();
            tokio::pin!(done);
            done.as_mut().enable();
            if self.all(wtx) {
                return;
            }
            done.await;
        }
    }

    fn clear(&self) {
        self.unhanded
            .store(false, std::sync::atomic::Ordering::Release);
        self.done.notify_waiters();
    }
}

/// Returns the data messages that were never written, in order, for the next connection.
///
/// `SplitSink` holds the last message fed in a slot of its own and hands it to tungstenite only
/// on the next feed or flush: when that fails, the message in the slot was not written either.
/// Messages tungstenite took count as sent, whether the peer read them or not: no one can know.
pub(super) async fn write_loop(
    sink: SplitSink<Ws, Message>,
    mut rx: mpsc::Receiver<Outgoing>,
    err: mpsc::Sender<WsError>,
    raw: Option<raw::Injector>,
    handed: Arc<Handed>,
) -> Vec<Message> {
    let left = write_all(sink, &mut rx, err, raw, &handed).await;
    handed.clear();
    left
}

async fn write_all(
    mut sink: SplitSink<Ws, Message>,
    rx: &mut mpsc::Receiver<Outgoing>,
    err: mpsc::Sender<WsError>,
    raw: Option<raw::Injector>,
    handed: &Handed,
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
                Ok(()) => in_slot = o.data.map(|m| *m),
                Err(e) => {
                    let left = in_slot
                        .take()
                        .into_iter()
                        .chain(o.data.map(|m| *m))
                        .collect();
                    failed = Some((e, left));
                    break;
                }
            }
            next = rx.try_recv().ok();
        }
        let (e, mut left) = match failed {
            Some(f) => f,
            None => match sink.flush().await {
                Ok(()) => {
                    if rx.is_empty() {
                        handed.clear();
                    }
                    continue;
                }
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
fn unsent(rx: &mut mpsc::Receiver<Outgoing>) -> Vec<Message> {
    rx.close();
    let mut left = Vec::new();
    while let Ok(o) = rx.try_recv() {
        left.extend(o.data.map(|m| *m));
    }
    left
}
