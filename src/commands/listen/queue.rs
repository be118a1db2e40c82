//! The queue from the client tasks to the hub, bounded in bytes across all clients. Sending never
//! waits (a session's event sink is synchronous); instead a session stops reading from its client
//! while the queue is over its bound, so clients that flood a busy hub (or a blocked stdout) meet
//! backpressure, not our memory. At most one burst per client overshoots the bound.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use super::message::FromClient;

/// Bytes of client events the hub may have queued before sessions stop reading.
pub const HUB_QUEUE_BYTES: usize = 16 << 20;

#[derive(Clone)]
pub struct HubTx {
    tx: UnboundedSender<(FromClient, usize)>,
    queued: Arc<AtomicUsize>,
}

pub struct HubRx {
    rx: UnboundedReceiver<(FromClient, usize)>,
    queued: Arc<AtomicUsize>,
}

pub fn hub_queue() -> (HubTx, HubRx) {
    let (tx, rx) = unbounded_channel();
    let queued = Arc::new(AtomicUsize::new(0));
    (
        HubTx {
            tx,
            queued: queued.clone(),
        },
        HubRx { rx, queued },
    )
}

impl HubTx {
    pub fn send(&self, msg: FromClient) {
        let cost = msg.cost();
        // Counted before it is sent, so the hub can never take off more than was added.
        self.queued.fetch_add(cost, Ordering::Relaxed);
        if self.tx.send((msg, cost)).is_err() {
            self.queued.fetch_sub(cost, Ordering::Relaxed);
        }
    }

    /// The queue is at its bound: readers should wait.
    pub fn full(&self) -> bool {
        self.queued.load(Ordering::Relaxed) >= HUB_QUEUE_BYTES
    }
}

impl HubRx {
    pub async fn recv(&mut self) -> Option<FromClient> {
        let (msg, cost) = self.rx.recv().await?;
        self.queued.fetch_sub(cost, Ordering::Relaxed);
        Some(msg)
    }

    pub fn try_recv(&mut self) -> Option<FromClient> {
        let (msg, cost) = self.rx.try_recv().ok()?;
        self.queued.fetch_sub(cost, Ordering::Relaxed);
        Some(msg)
    }
}
