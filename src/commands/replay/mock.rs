//! `listen --replay FILE`: a mock server made from a recording. Each client's session (the same
//! engine as any `listen` client) gets the recorded server messages as commands on its input, as
//! the hub's would be: those sent before the client's first message right after the handshake,
//! and each later group once the client has sent the message that preceded it in the recording.
//! [`heard`] counts the client's messages as its session's sink sees them; [`feed`] is the task that
//! queues the answers that have become due, within the client queue's byte budget.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, Notify};

use super::plan::{answers, Answer};
use crate::error::Result;
use crate::event::{DataKind, Event};
use crate::session::Input;
use crate::slash::Command;

/// The answers of a recording, shared by every client.
#[derive(Debug)]
pub struct Answers {
    groups: Vec<Vec<Answer>>,
    /// The subprotocols the recorded client offered: the recorded server selected one of them.
    subprotocols: Vec<String>,
}

impl Answers {
    /// The server side of the recording's first WebSocket, and notes about the file.
    pub fn load(path: &Path) -> Result<(Answers, Vec<String>)> {
        let rec = super::load::load(path)?;
        let entry = rec.entry(path, None)?;
        let groups = answers(entry);
        let subprotocols = entry.subprotocols();
        Ok((
            Answers {
                groups,
                subprotocols,
            },
            rec.notes,
        ))
    }

    /// The recording's subprotocols, which a replaying server accepts.
    pub fn subprotocols(&self) -> &[String] {
        &self.subprotocols
    }
}

/// How many data messages a client has sent so far, with a wake-up for its feeder.
#[derive(Default)]
pub struct Count {
    messages: AtomicU64,
    wake: Notify,
}

/// Start answering one client: queue its answers on `tx` as they fall due. The returned sink
/// wraps the session's and counts what the client sends.
pub fn start(
    answers: Arc<Answers>,
    tx: mpsc::Sender<Input>,
    budget: crate::bounded::Budget,
) -> Arc<Count> {
    let count = Arc::new(Count::default());
    tokio::spawn(feed(answers, tx, budget, count.clone()));
    count
}

async fn feed(
    answers: Arc<Answers>,
    tx: mpsc::Sender<Input>,
    budget: crate::bounded::Budget,
    count: Arc<Count>,
) {
    let mut next = 0usize;
    while next < answers.groups.len() {
        let heard = count.messages.load(Ordering::Acquire);
        while next < answers.groups.len() && next as u64 <= heard {
            for (kind, data) in &answers.groups[next] {
                // A message bigger than the whole budget waits for all of it.
                let Some(charge) = budget.charge(data.len() + 64).await else {
                    return;
                };
                let cmd = match kind {
                    DataKind::Text => Command::Text(String::from_utf8_lossy(data).into_owned()),
                    DataKind::Binary => Command::Binary(data.clone()),
                };
                if tx.send(Input::Command(cmd, charge)).await.is_err() {
                    return;
                }
            }
            next += 1;
        }
        if next >= answers.groups.len() {
            return;
        }
        tokio::select! {
            () = count.wake.notified() => {}
            () = tx.closed() => return,
        }
    }
}

/// Count a client message the session received, and wake the feeder: the look of the client
/// session's [`crate::event::Observed`] sink.
pub fn heard(count: &Option<Arc<Count>>, ev: &Event<'_>) {
    if let (Event::Received { .. }, Some(c)) = (ev, count) {
        c.messages.fetch_add(1, Ordering::AcqRel);
        c.wake.notify_one();
    }
}
