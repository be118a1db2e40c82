//! The `--record` file, written by a thread of its own (as the printer's stdout is, see
//! `printer/output.rs`): a slow disk, a full NFS mount or a FIFO nobody reads never blocks the
//! runtime. Lines wait in a queue counted in bytes; past [`QUEUE_BYTES`] the recording reports
//! itself backlogged and sessions stop reading from their peer until it drains (backpressure, as
//! for stdout), so at most one burst per session overshoots the bound. Each burst of lines is
//! flushed to the file as it is taken (a crash loses only what was still queued), never fsynced.
//! The first write error stops the recording and is kept for the caller to report, once.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Bytes of lines that may wait for the thread before the recording counts as backlogged.
pub const QUEUE_BYTES: usize = 4 << 20;
/// Lines written between two flushes, at most.
const BURST: usize = 256;
/// How long the end of the process waits for the thread to write what is queued.
const FINISH_GRACE: Duration = Duration::from_secs(5);

/// What the thread and its users share.
#[derive(Default)]
struct State {
    queued: AtomicUsize,
    /// Writing failed: checked per line without taking the lock.
    broken: AtomicBool,
    /// The first write error, as a message.
    failed: Mutex<Option<String>>,
    /// The error has been reported (shown once).
    reported: AtomicBool,
}

pub struct Writer {
    path: PathBuf,
    tx: Mutex<Option<Sender<Vec<u8>>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    state: Arc<State>,
}

impl Writer {
    /// Start the thread that writes `file` (at `path`, for messages).
    pub fn start(path: &Path, file: File) -> std::io::Result<Writer> {
        let (tx, rx) = channel();
        let state = Arc::new(State::default());
        let thread = {
            let (state, path) = (state.clone(), path.to_path_buf());
            std::thread::Builder::new()
                .name("wscope-record".into())
                .spawn(move || write_loop(rx, file, &path, &state))?
        };
        Ok(Writer {
            path: path.to_path_buf(),
            tx: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
            state,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Queue one line (its newline included). Never waits.
    pub fn line(&self, buf: Vec<u8>) {
        if self.failure().is_some() {
            return;
        }
        let len = buf.len();
        self.state.queued.fetch_add(len, Ordering::AcqRel);
        let sent = lock(&self.tx)
            .as_ref()
            .is_some_and(|tx| tx.send(buf).is_ok());
        if !sent {
            self.state.queued.fetch_sub(len, Ordering::AcqRel);
        }
    }

    /// More than [`QUEUE_BYTES`] wait for the disk.
    pub fn backlogged(&self) -> bool {
        self.state.queued.load(Ordering::Acquire) >= QUEUE_BYTES
    }

    /// The write error, if writing failed.
    pub fn failure(&self) -> Option<String> {
        if !self.state.broken.load(Ordering::Acquire) {
            return None;
        }
        lock(&self.state.failed).clone()
    }

    /// The write error the first time it is asked for after it happened; None after that.
    pub fn take_unreported(&self) -> Option<String> {
        let failed = self.failure()?;
        (!self.state.reported.swap(true, Ordering::AcqRel)).then_some(failed)
    }

    /// Write what is queued and stop the thread, waiting at most [`FINISH_GRACE`] (a FIFO that
    /// nobody reads could hold it for ever). On time out, the bytes still waiting are given up,
    /// and that is kept as the recording's failure.
    pub fn finish(&self) {
        let Some(thread) = self.stop() else {
            return;
        };
        let deadline = Instant::now() + FINISH_GRACE;
        while !thread.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        self.settle(thread);
    }

    /// [`Writer::finish`] for async callers: the runtime thread keeps running while it waits,
    /// and a Ctrl-C or SIGTERM (before or during the wait) cuts the grace to the signal's budget
    /// (`crate::shutdown`).
    pub async fn finish_async(&self) {
        let Some(thread) = self.stop() else {
            return;
        };
        let deadline = Instant::now() + FINISH_GRACE;
        while !thread.is_finished() {
            // Looked at again on every turn: a signal during the wait cuts it short.
            if Instant::now() >= crate::shutdown::cut(deadline) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        self.settle(thread);
    }

    /// Close the queue; the thread, if it is still there.
    fn stop(&self) -> Option<std::thread::JoinHandle<()>> {
        lock(&self.tx).take();
        lock(&self.thread).take()
    }

    /// Join a thread that is done; one that is not is given up on, and that is the failure.
    fn settle(&self, thread: std::thread::JoinHandle<()>) {
        if thread.is_finished() {
            let _ = thread.join();
            return;
        }
        let mut failed = lock(&self.state.failed);
        if failed.is_none() {
            *failed = Some(format!(
                "the --record file '{}' is incomplete: {} bytes could not be written within {} \
                 (is anything reading it?)",
                self.path.display(),
                self.state.queued.load(Ordering::Acquire),
                crate::error::secs(FINISH_GRACE)
            ));
            self.state.broken.store(true, Ordering::Release);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn write_loop(rx: Receiver<Vec<u8>>, file: File, path: &Path, state: &State) {
    let mut out = BufWriter::with_capacity(64 * 1024, file);
    let mut ok = true;
    while let Ok(first) = rx.recv() {
        let mut result = Ok(());
        // Take what is queued in one go: one flush per burst, not per line.
        for buf in
            std::iter::once(first).chain(std::iter::from_fn(|| rx.try_recv().ok()).take(BURST))
        {
            if ok && result.is_ok() {
                result = out.write_all(&buf);
            }
            state.queued.fetch_sub(buf.len(), Ordering::AcqRel);
        }
        if ok {
            if let Err(e) = result.and_then(|()| out.flush()) {
                ok = false;
                *lock(&state.failed) = Some(format!(
                    "cannot write the --record file '{}': {e}",
                    path.display()
                ));
                state.broken.store(true, Ordering::Release);
            }
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.finish();
    }
}
