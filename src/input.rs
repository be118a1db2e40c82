//! The input side of pipe mode and scripting: `-x` commands and stdin lines become [`Input`]s on a
//! bounded channel. Reading runs on its own thread and blocks when the channel is full or the bytes
//! queued reach [`QUEUED_BYTES`], so a fast producer waits for the server (backpressure), memory stays
//! bounded whatever the line lengths, and nothing read is ever dropped. Input starts before the
//! handshake, so lines that arrive while connecting are queued, not lost.

use std::io::{BufRead, Read};

use tokio::runtime::{Handle, Runtime};
use tokio::sync::mpsc::{PermitIterator, Sender};
use tokio::sync::OwnedSemaphorePermit;

use crate::error::Error;
use crate::session::{Charge, Input};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StdinMode {
    /// Each line a text message.
    Lines,
    /// Each line a binary message.
    BinaryLines,
    /// All of stdin one message (text if UTF-8, unless binary).
    Whole { binary: bool },
    /// Do not read stdin (it belongs to the REPL, or -x replaces it).
    Ignore,
}

/// Queue the -x commands, then feed stdin per `mode`, then say End (unless `then_end` is false: the
/// REPL continues after -x). Runs on a std thread: stdin reads block.
pub fn spawn(
    execute: Vec<String>,
    mode: StdinMode,
    max_message: usize,
    then_end: bool,
    tx: Sender<Input>,
) {
    let handle = Handle::try_current().ok();
    let run = move || {
        let Some(mut feed) = Feeder::new(&tx, handle) else {
            return;
        };
        for x in execute {
            if !feed.send(crate::session::script_input(&x)) {
                return;
            }
        }
        let ok = match mode {
            StdinMode::Ignore => true,
            StdinMode::Lines | StdinMode::BinaryLines => {
                read_lines(mode == StdinMode::BinaryLines, max_message, &mut feed)
            }
            StdinMode::Whole { binary } => read_whole(binary, max_message, &mut feed),
        };
        if ok && then_end {
            feed.send(Input::End);
        }
    };
    let _ = std::thread::Builder::new().name("stdin".into()).spawn(run);
}

fn read_lines(binary: bool, max: usize, feed: &mut Feeder<'_>) -> bool {
    let stdin = std::io::stdin();
    let mut reader = stdin.lock();
    let mut buf = Vec::with_capacity(4096);
    let mut line_no = 0u64;
    loop {
        buf.clear();
        // Bound every line: one endless line must not eat all memory.
        let n = match (&mut reader)
            .take(max as u64 + 2)
            .read_until(b'\n', &mut buf)
        {
            Ok(0) => return true,
            Ok(n) => n,
            Err(e) => {
                feed.send(Input::Failed(Error::io("reading stdin", e)));
                return true;
            }
        };
        line_no += 1;
        let had_newline = buf.last() == Some(&b'\n');
        if had_newline {
            buf.pop();
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
        }
        if !had_newline && n > max {
            feed.send(Input::Failed(Error::Usage {
                message: format!(
                    "stdin line {line_no} is longer than --max-message-size ({max} bytes): it and the rest of stdin were not sent"
                ),
                hint: Some("raise --max-message-size BYTES, or send all of stdin as one message with --stdin-whole".into()),
            }));
            return true;
        }
        // One exact-size allocation per message; `buf` keeps its capacity for the next line. A long
        // line is handed over as it is instead: copying it would hold it twice at once.
        let line = if buf.len() > LONG_LINE {
            std::mem::take(&mut buf)
        } else {
            buf.as_slice().to_vec()
        };
        let Some(charge) = feed.charge(line.len()) else {
            return false;
        };
        let input = if binary {
            Input::Binary(line, charge)
        } else {
            match String::from_utf8(line) {
                Ok(s) => Input::Text(s, charge),
                Err(e) => {
                    feed.send(Input::Notice(format!("stdin line {line_no} is not valid UTF-8: sent as a binary message (--binary sends every line as binary)")));
                    Input::Binary(e.into_bytes(), charge)
                }
            }
        };
        if !feed.send(input) {
            return false;
        }
    }
}

fn read_whole(binary: bool, max: usize, feed: &mut Feeder<'_>) -> bool {
    let mut all = Vec::new();
    if let Err(e) = std::io::stdin()
        .lock()
        .take(max as u64 + 1)
        .read_to_end(&mut all)
    {
        feed.send(Input::Failed(Error::io("reading stdin", e)));
        return true;
    }
    if all.len() > max {
        feed.send(Input::Failed(Error::Usage {
            message: format!(
                "stdin is longer than --max-message-size ({max} bytes): nothing was sent"
            ),
            hint: Some("raise --max-message-size BYTES".into()),
        }));
        return true;
    }
    let Some(charge) = feed.charge(all.len()) else {
        return false;
    };
    let input = if binary {
        Input::Binary(all, charge)
    } else {
        match String::from_utf8(all) {
            Ok(s) => Input::Text(s, charge),
            Err(e) => Input::Binary(e.into_bytes(), charge),
        }
    };
    feed.send(input)
}

/// Channel slots reserved at a time. One wake-up of this thread per batch instead of one per line:
/// when the server is the bottleneck the queue stays full, and freeing one slot at a time cost a
/// futex round trip per line (docs/BENCHMARKS.md).
const BATCH: usize = 1024;

/// Bytes of piped input that may wait in the queue at once (a line longer than this waits alone).
pub const QUEUED_BYTES: usize = 1 << 20;
/// What a line costs beyond its bytes, so that empty lines are bounded too.
const PER_LINE: usize = 64;
/// Budget taken from the semaphore at a time, and handed out line by line: like [`BATCH`], so
/// that this thread is woken per 64 KiB of lines sent, not per line.
const CHUNK: usize = 64 * 1024;

/// A line longer than this is moved into its message rather than copied.
const LONG_LINE: usize = 64 * 1024;

/// Sends inputs in order, reserving queue slots and byte budget in batches. Each input still goes
/// out the moment it is read: reserving only waits when the queue is full (in lines or in bytes).
struct Feeder<'a> {
    tx: &'a Sender<Input>,
    handle: Handle,
    /// A runtime of our own, when the caller was not inside one (keeps `handle` valid).
    _runtime: Option<Runtime>,
    permits: Option<PermitIterator<'a, Input>>,
    budget: crate::bounded::Budget,
    /// Budget taken but not yet handed to a line.
    chunk: Option<OwnedSemaphorePermit>,
}

impl<'a> Feeder<'a> {
    fn new(tx: &'a Sender<Input>, handle: Option<Handle>) -> Option<Feeder<'a>> {
        let (handle, runtime) = match handle {
            Some(h) => (h, None),
            None => {
                let rt = tokio::runtime::Builder::new_current_thread().build().ok()?;
                (rt.handle().clone(), Some(rt))
            }
        };
        Some(Feeder {
            tx,
            handle,
            _runtime: runtime,
            permits: None,
            budget: crate::bounded::Budget::new(QUEUED_BYTES),
            chunk: None,
        })
    }

    /// The byte budget for a message of `len` bytes, waiting while the queue holds too much.
    /// None once the session is gone.
    fn charge(&mut self, len: usize) -> Option<Charge> {
        let cost = len.saturating_add(PER_LINE).min(QUEUED_BYTES);
        if self.chunk.as_ref().is_none_or(|c| c.num_permits() < cost) {
            // Give back what is left before waiting, or a big line could wait on our own leftovers.
            self.chunk = None;
            let budget = self.budget.clone();
            let tx = self.tx;
            let chunk = self.handle.block_on(async move {
                tokio::select! {
                    chunk = budget.take(cost.max(CHUNK)) => chunk,
                    // The session ended while we waited: it will not give anything back.
                    () = tx.closed() => None,
                }
            })?;
            self.chunk = Some(chunk);
        }
        let part = self.chunk.as_mut()?.split(cost)?;
        Some(Charge::from(part))
    }

    /// False once the session is gone.
    fn send(&mut self, input: Input) -> bool {
        loop {
            if let Some(permit) = self.permits.as_mut().and_then(Iterator::next) {
                permit.send(input);
                return true;
            }
            self.permits = None;
            // Waking on a semaphore needs no I/O driver, so this works from a plain thread.
            match self
                .handle
                .block_on(self.tx.reserve_many(BATCH.min(self.tx.max_capacity())))
            {
                Ok(permits) => self.permits = Some(permits),
                Err(_) => return false,
            }
        }
    }
}
