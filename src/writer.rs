//! The one off-runtime writer: a thread of its own that writes byte chunks to a sink (stdout and
//! stderr for the printer, `printer/output.rs`; the `--record` file, `record/writer.rs`), so a
//! reader that stops reading, a slow disk or a FIFO nobody reads never blocks the runtime thread.
//! Chunks are handed over through a queue whose bytes and chunks in flight are counted, so each
//! user can bound it and report itself backlogged (backpressure, not memory). The thread takes
//! what is queued in bursts, one flush per burst; the first write error is kept for the user to
//! report. Stopping closes the queue and waits for the thread with a deadline, never for ever.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Chunks written between two flushes, at most.
const BURST: usize = 256;
/// How often a wait with a deadline looks at the thread.
const POLL: Duration = Duration::from_millis(5);

/// Where the thread writes. `Tag` says which stream of the sink a chunk is for.
pub trait Sink: Send + 'static {
    type Tag: Send + Copy + 'static;
    /// Write one chunk; an error is the message kept as the writer's failure (the first one).
    /// The sink decides what it still writes after a failure.
    fn write(&mut self, tag: Self::Tag, buf: &[u8]) -> Result<(), String>;
    /// At the end of each burst.
    fn flush(&mut self) -> Result<(), String>;
}

/// One chunk and the stream it is for.
type Chunk<S> = (<S as Sink>::Tag, Vec<u8>);

/// What the thread and its users share.
#[derive(Default)]
struct State {
    bytes: AtomicUsize,
    chunks: AtomicUsize,
    /// Writing failed: checked per chunk without taking the lock.
    broken: AtomicBool,
    /// The first write error, as a message.
    failed: Mutex<Option<String>>,
}

impl State {
    fn fail(&self, msg: String) {
        let mut failed = lock(&self.failed);
        if failed.is_none() {
            *failed = Some(msg);
            self.broken.store(true, Ordering::Release);
        }
    }
}

pub struct Writer<S: Sink> {
    tx: Mutex<Option<Sender<Chunk<S>>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    state: Arc<State>,
}

impl<S: Sink> Writer<S> {
    /// Start the thread (named `name`) that writes to `sink`.
    pub fn start(name: &str, mut sink: S) -> std::io::Result<Writer<S>> {
        let (tx, rx) = channel();
        let state = Arc::new(State::default());
        let thread = {
            let state = state.clone();
            std::thread::Builder::new()
                .name(name.into())
                .spawn(move || write_loop(rx, &mut sink, &state))?
        };
        Ok(Writer {
            tx: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
            state,
        })
    }

    /// Hand `buf` to the thread. Never waits; once the writer is stopped, `buf` comes back.
    pub fn send(&self, tag: S::Tag, buf: Vec<u8>) -> Result<(), Vec<u8>> {
        let len = buf.len();
        self.state.bytes.fetch_add(len, Ordering::AcqRel);
        self.state.chunks.fetch_add(1, Ordering::AcqRel);
        let back = match lock(&self.tx).as_ref() {
            Some(tx) => tx.send((tag, buf)).err().map(|e| e.0 .1),
            None => Some(buf),
        };
        let Some(buf) = back else {
            return Ok(());
        };
        self.state.bytes.fetch_sub(len, Ordering::AcqRel);
        self.state.chunks.fetch_sub(1, Ordering::AcqRel);
        Err(buf)
    }

    /// Bytes handed over and not written yet.
    pub fn bytes_in_flight(&self) -> usize {
        self.state.bytes.load(Ordering::Acquire)
    }

    /// Chunks handed over and not written yet.
    pub fn chunks_in_flight(&self) -> usize {
        self.state.chunks.load(Ordering::Acquire)
    }

    /// Writing failed.
    pub fn broken(&self) -> bool {
        self.state.broken.load(Ordering::Acquire)
    }

    /// The first write error, if writing failed.
    pub fn failure(&self) -> Option<String> {
        if !self.broken() {
            return None;
        }
        lock(&self.state.failed).clone()
    }

    /// Keep `msg` as the failure unless one is kept already.
    pub fn fail(&self, msg: String) {
        self.state.fail(msg);
    }

    /// Close the queue (what is in it is still written) and wait for the thread: until it is
    /// done, or with a deadline at most until then. True when the thread is done (or was gone
    /// already); false when it was given up on, still writing.
    pub fn finish(&self, deadline: Option<Instant>) -> bool {
        let Some(thread) = self.stop() else {
            return true;
        };
        if let Some(d) = deadline {
            while !thread.is_finished() && Instant::now() < d {
                std::thread::sleep(POLL);
            }
            if !thread.is_finished() {
                // It may be stuck in a write for ever: leave it to the process's end.
                return false;
            }
        }
        let _ = thread.join();
        true
    }

    /// [`Writer::finish`] for async callers, with a deadline: the runtime thread keeps running
    /// while it waits, and a Ctrl-C or SIGTERM (before or during the wait) cuts the deadline to
    /// the signal's budget (`crate::shutdown::cut`).
    pub async fn finish_async(&self, deadline: Instant) -> bool {
        let Some(thread) = self.stop() else {
            return true;
        };
        while !thread.is_finished() {
            // Looked at again on every turn: a signal during the wait cuts it short.
            if Instant::now() >= crate::shutdown::cut(deadline) {
                return false;
            }
            tokio::time::sleep(POLL).await;
        }
        let _ = thread.join();
        true
    }

    /// Close the queue; the thread, if it is still there.
    fn stop(&self) -> Option<JoinHandle<()>> {
        lock(&self.tx).take();
        lock(&self.thread).take()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn write_loop<S: Sink>(rx: Receiver<Chunk<S>>, sink: &mut S, state: &State) {
    while let Ok(first) = rx.recv() {
        // Take what is queued in one go: one flush per burst, not per chunk.
        for (tag, buf) in
            std::iter::once(first).chain(std::iter::from_fn(|| rx.try_recv().ok()).take(BURST))
        {
            if let Err(msg) = sink.write(tag, &buf) {
                state.fail(msg);
            }
            state.bytes.fetch_sub(buf.len(), Ordering::AcqRel);
            state.chunks.fetch_sub(1, Ordering::AcqRel);
        }
        if let Err(msg) = sink.flush() {
            state.fail(msg);
        }
    }
}
