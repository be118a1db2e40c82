//! The process's stdout and stderr, written by a thread of their own so that a reader that stops
//! reading (`wscope URL | sleep 60`, a terminal paused with Ctrl-S) never blocks the runtime:
//! signals, timers and other clients keep working. What waits for the writer is bounded in
//! bytes; once it is full the printer reports itself backlogged and the session stops reading
//! from the peer until the writer catches up (backpressure, not memory). Both streams go through
//! the one thread, in order, so a terminal that shows both still shows them as they happened.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Which stream a chunk is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Chunks handed to the writer thread, at most.
const IN_FLIGHT: usize = 8;
/// A chunk is handed on once it is this big (and at every flush).
const CHUNK: usize = 64 * 1024;
/// Bytes kept here, on top of what is in flight, before the output counts as backlogged.
const BACKLOG: usize = 1 << 20;
/// How long output may take to drain at the end once a signal asked us to stop.
const AFTER_SIGNAL: std::time::Duration = std::time::Duration::from_secs(1);

pub struct Output {
    tx: Option<SyncSender<(Stream, Vec<u8>)>>,
    thread: Option<JoinHandle<()>>,
    /// What waits to be handed on, in order, per stream switch.
    pending: Vec<(Stream, Vec<u8>)>,
    pending_bytes: usize,
    /// Chunks the thread has not written yet.
    in_flight: Arc<AtomicUsize>,
    /// stdout is gone (a closed pipe) or failed.
    broken: Arc<AtomicBool>,
}

impl Output {
    pub fn new() -> Output {
        let (tx, rx) = sync_channel(IN_FLIGHT);
        let in_flight = Arc::new(AtomicUsize::new(0));
        let broken = Arc::new(AtomicBool::new(false));
        let thread = {
            let (in_flight, broken) = (in_flight.clone(), broken.clone());
            std::thread::Builder::new()
                .name("wscope-output".into())
                .spawn(move || write_loop(rx, &in_flight, &broken))
                .ok()
        };
        Output {
            // Without a thread (the system refused one) we write in place, as before.
            tx: thread.as_ref().map(|_| tx),
            thread,
            pending: Vec::new(),
            pending_bytes: 0,
            in_flight,
            broken,
        }
    }

    /// Queue `bytes` for `stream`; handed on once a chunk is full or at the next flush.
    pub fn write(&mut self, stream: Stream, bytes: &[u8]) {
        if bytes.is_empty() || (stream == Stream::Stdout && self.broken()) {
            return;
        }
        match self.pending.last_mut() {
            Some((s, buf)) if *s == stream && buf.len() < CHUNK => buf.extend_from_slice(bytes),
            _ => {
                let mut buf = Vec::with_capacity(bytes.len().clamp(1024, CHUNK));
                buf.extend_from_slice(bytes);
                self.pending.push((stream, buf));
            }
        }
        self.pending_bytes += bytes.len();
        // Diagnostics go out at once; data once a chunk is full or at the next flush.
        if stream == Stream::Stderr || self.pending.len() > 1 || self.pending_bytes >= CHUNK {
            self.hand_on();
        }
    }

    /// Hand what is pending to the writer, as far as it takes it without waiting.
    pub fn hand_on(&mut self) {
        let Some(tx) = &self.tx else {
            for (stream, buf) in self.pending.drain(..) {
                write_now(stream, &buf, &self.broken);
            }
            self.pending_bytes = 0;
            return;
        };
        while !self.pending.is_empty() {
            let chunk = self.pending.remove(0);
            let len = chunk.1.len();
            self.in_flight.fetch_add(1, Ordering::AcqRel);
            match tx.try_send(chunk) {
                Ok(()) => self.pending_bytes -= len,
                Err(TrySendError::Full(chunk) | TrySendError::Disconnected(chunk)) => {
                    self.in_flight.fetch_sub(1, Ordering::AcqRel);
                    self.pending.insert(0, chunk);
                    return;
                }
            }
        }
    }

    /// Something is pending and the writer has room for it.
    pub fn can_hand_on(&self) -> bool {
        !self.pending.is_empty() && self.in_flight.load(Ordering::Acquire) < IN_FLIGHT
    }

    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// The writer is behind by more than the bound: stop producing.
    pub fn backlogged(&self) -> bool {
        self.pending_bytes >= BACKLOG
    }

    pub fn broken(&self) -> bool {
        self.broken.load(Ordering::Relaxed)
    }

    /// Write everything out and wait for it: at the end of the process. A reader that never
    /// reads could hold us here for ever, so from now on Ctrl-C and SIGTERM do what they do to
    /// any program, and after a signal ended the session we wait at most [`AFTER_SIGNAL`].
    pub fn finish(&mut self) {
        crate::shutdown::restore_defaults();
        let deadline = crate::shutdown::signalled().map(|_| crate::shutdown::until(AFTER_SIGNAL));
        if let Some(tx) = &self.tx {
            for chunk in self.pending.drain(..) {
                self.in_flight.fetch_add(1, Ordering::AcqRel);
                // After a signal, never wait for room: what does not fit is dropped.
                let sent = match deadline {
                    None => tx.send(chunk).is_ok(),
                    Some(_) => tx.try_send(chunk).is_ok(),
                };
                if !sent {
                    break;
                }
            }
        }
        self.pending.clear();
        self.pending_bytes = 0;
        self.tx = None;
        let Some(t) = self.thread.take() else {
            return;
        };
        match deadline {
            None => {
                let _ = t.join();
            }
            Some(d) => {
                // The thread may be stuck in a write for ever: leave it to the process's end.
                while !t.is_finished() && std::time::Instant::now() < d {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
            }
        }
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        self.finish();
    }
}

fn write_loop(rx: Receiver<(Stream, Vec<u8>)>, in_flight: &AtomicUsize, broken: &AtomicBool) {
    while let Ok((stream, buf)) = rx.recv() {
        write_now(stream, &buf, broken);
        in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

fn write_now(stream: Stream, buf: &[u8], broken: &AtomicBool) {
    match stream {
        Stream::Stdout => {
            if broken.load(Ordering::Relaxed) {
                return;
            }
            let mut out = io::stdout().lock();
            if let Err(e) = out.write_all(buf).and_then(|()| out.flush()) {
                broken.store(true, Ordering::Relaxed);
                // A closed pipe (`| head`) is a normal way for a reader to say "enough".
                if e.kind() != io::ErrorKind::BrokenPipe {
                    let _ = writeln!(io::stderr(), "wscope: cannot write to stdout: {e}");
                }
            }
        }
        Stream::Stderr => {
            let _ = io::stderr().lock().write_all(buf);
        }
    }
}
