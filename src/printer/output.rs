//! The process's stdout and stderr, written by the shared off-runtime writer (`crate::writer`)
//! so that a reader that stops reading (`wscope URL | sleep 60`, a terminal paused with Ctrl-S)
//! never blocks the runtime:
//! signals, timers and other clients keep working. What waits for the writer is bounded in
//! bytes; once it is full the printer reports itself backlogged and the session stops reading
//! from the peer until the writer catches up (backpressure, not memory). Both streams go through
//! the one thread, in order, so a terminal that shows both still shows them as they happened.

use std::io::{self, Write};

use crate::writer::{Sink, Writer};

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
    /// None when the system refused a thread: then we write in place, as before.
    writer: Option<Writer<Std>>,
    /// Writes in place when there is no writer thread.
    inline: Std,
    /// What waits to be handed on, in order, per stream switch.
    pending: Vec<(Stream, Vec<u8>)>,
    pending_bytes: usize,
}

impl Output {
    pub fn new() -> Output {
        Output {
            writer: Writer::start("wscope-output", Std::default()).ok(),
            inline: Std::default(),
            pending: Vec::new(),
            pending_bytes: 0,
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
        let Some(writer) = &self.writer else {
            for (stream, buf) in self.pending.drain(..) {
                let _ = self.inline.write(stream, &buf);
            }
            self.pending_bytes = 0;
            return;
        };
        while !self.pending.is_empty() && writer.chunks_in_flight() < IN_FLIGHT {
            let (stream, buf) = self.pending.remove(0);
            let len = buf.len();
            if let Err(buf) = writer.send(stream, buf) {
                self.pending.insert(0, (stream, buf));
                return;
            }
            self.pending_bytes -= len;
        }
    }

    /// Something is pending and the writer has room for it.
    pub fn can_hand_on(&self) -> bool {
        !self.pending.is_empty()
            && self
                .writer
                .as_ref()
                .is_none_or(|w| w.chunks_in_flight() < IN_FLIGHT)
    }

    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// The writer is behind by more than the bound: stop producing.
    pub fn backlogged(&self) -> bool {
        self.pending_bytes >= BACKLOG
    }

    /// stdout is gone (a closed pipe) or failed.
    pub fn broken(&self) -> bool {
        match &self.writer {
            Some(w) => w.broken(),
            None => self.inline.broken,
        }
    }

    /// Write everything out and wait for it: at the end of the process. A reader that never
    /// reads could hold us here for ever, so from now on Ctrl-C and SIGTERM do what they do to
    /// any program, and after a signal ended the session we wait at most [`AFTER_SIGNAL`].
    pub fn finish(&mut self) {
        crate::shutdown::restore_defaults();
        let deadline = crate::shutdown::signalled().map(|_| crate::shutdown::until(AFTER_SIGNAL));
        if let Some(writer) = &self.writer {
            for (stream, buf) in self.pending.drain(..) {
                // After a signal, never queue past the bound: what does not fit is dropped.
                if deadline.is_some() && writer.chunks_in_flight() >= IN_FLIGHT {
                    break;
                }
                if writer.send(stream, buf).is_err() {
                    break;
                }
            }
        }
        self.pending.clear();
        self.pending_bytes = 0;
        if let Some(writer) = self.writer.take() {
            writer.finish(deadline);
        }
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        self.finish();
    }
}

/// stdout and stderr. A failed stdout is written no more; stderr is best effort.
#[derive(Default)]
struct Std {
    broken: bool,
}

impl Sink for Std {
    type Tag = Stream;

    fn write(&mut self, stream: Stream, buf: &[u8]) -> Result<(), String> {
        match stream {
            Stream::Stdout => {
                if self.broken {
                    return Ok(());
                }
                let mut out = io::stdout().lock();
                if let Err(e) = out.write_all(buf).and_then(|()| out.flush()) {
                    self.broken = true;
                    // A closed pipe (`| head`) is a normal way for a reader to say "enough".
                    if e.kind() != io::ErrorKind::BrokenPipe {
                        let _ = writeln!(io::stderr(), "wscope: cannot write to stdout: {e}");
                    }
                    return Err(format!("cannot write to stdout: {e}"));
                }
            }
            Stream::Stderr => {
                let _ = io::stderr().lock().write_all(buf);
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), String> {
        Ok(())
    }
}
