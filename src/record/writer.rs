//! The `--record` file, written by the shared off-runtime writer (`crate::writer`, as the
//! printer's stdout is): a slow disk, a full NFS mount or a FIFO nobody reads never blocks the
//! runtime. Lines wait in a queue counted in bytes; past [`QUEUE_BYTES`] the recording reports
//! itself backlogged and sessions stop reading from their peer until it drains (backpressure, as
//! for stdout), so at most one burst per session overshoots the bound. Each burst of lines is
//! flushed to the file as it is taken (a crash loses only what was still queued), never fsynced.
//! The first write error stops the recording and is kept for the caller to report, once.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Bytes of lines that may wait for the thread before the recording counts as backlogged.
pub const QUEUE_BYTES: usize = 4 << 20;
/// How long the end of the process waits for the thread to write what is queued.
const FINISH_GRACE: Duration = Duration::from_secs(5);

pub struct Writer {
    path: PathBuf,
    inner: crate::writer::Writer<FileSink>,
    /// The error has been reported (shown once).
    reported: AtomicBool,
}

impl Writer {
    /// Start the thread that writes `file` (at `path`, for messages).
    pub fn start(path: &Path, file: File) -> std::io::Result<Writer> {
        let sink = FileSink {
            out: BufWriter::with_capacity(64 * 1024, file),
            path: path.to_path_buf(),
            ok: true,
        };
        Ok(Writer {
            path: path.to_path_buf(),
            inner: crate::writer::Writer::start("wscope-record", sink)?,
            reported: AtomicBool::new(false),
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
        let _ = self.inner.send((), buf);
    }

    /// More than [`QUEUE_BYTES`] wait for the disk.
    pub fn backlogged(&self) -> bool {
        self.inner.bytes_in_flight() >= QUEUE_BYTES
    }

    /// The write error, if writing failed.
    pub fn failure(&self) -> Option<String> {
        self.inner.failure()
    }

    /// The write error the first time it is asked for after it happened; None after that.
    pub fn take_unreported(&self) -> Option<String> {
        let failed = self.failure()?;
        (!self.reported.swap(true, Ordering::AcqRel)).then_some(failed)
    }

    /// Write what is queued and stop the thread, waiting at most [`FINISH_GRACE`] (a FIFO that
    /// nobody reads could hold it for ever). On time out, the bytes still waiting are given up,
    /// and that is kept as the recording's failure.
    pub fn finish(&self) {
        if !self.inner.finish(Some(Instant::now() + FINISH_GRACE)) {
            self.given_up();
        }
    }

    /// [`Writer::finish`] for async callers: the runtime thread keeps running while it waits,
    /// and a Ctrl-C or SIGTERM (before or during the wait) cuts the grace to the signal's budget
    /// (`crate::shutdown`).
    pub async fn finish_async(&self) {
        if !self.inner.finish_async(Instant::now() + FINISH_GRACE).await {
            self.given_up();
        }
    }

    /// The thread did not finish in time: that is the failure.
    fn given_up(&self) {
        self.inner.fail(format!(
            "the --record file '{}' is incomplete: {} bytes could not be written within {} \
             (is anything reading it?)",
            self.path.display(),
            self.inner.bytes_in_flight(),
            crate::error::secs(FINISH_GRACE)
        ));
    }
}

/// The file, buffered: flushed once per burst of lines (a crash loses only what was still
/// queued). After the first error nothing more is written.
struct FileSink {
    out: BufWriter<File>,
    path: PathBuf,
    ok: bool,
}

impl FileSink {
    fn check(&mut self, result: std::io::Result<()>) -> Result<(), String> {
        result.map_err(|e| {
            self.ok = false;
            format!(
                "cannot write the --record file '{}': {e}",
                self.path.display()
            )
        })
    }
}

impl crate::writer::Sink for FileSink {
    type Tag = ();

    fn write(&mut self, (): (), buf: &[u8]) -> Result<(), String> {
        if !self.ok {
            return Ok(());
        }
        let result = self.out.write_all(buf);
        self.check(result)
    }

    fn flush(&mut self) -> Result<(), String> {
        if !self.ok {
            return Ok(());
        }
        let result = self.out.flush();
        self.check(result)
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.finish();
    }
}
