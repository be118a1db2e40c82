//! `--record FILE`: the session's transcript as JSON Lines, in the `--json` event schema (every
//! payload in full) after a first `session` line with the URL, the request headers (credentials
//! redacted unless `--record-secrets`), the subprotocol and the extensions. `listen` records every
//! client, each line with its `client` id and a `handshake` line per client. The file is the
//! owner's only (mode 0600) and written off the runtime thread ([`writer`]); [`Recorded`] is the
//! event sink that tees a session's events into it. `wscope replay` and `listen --replay` read it.

pub mod headers;
mod writer;

use std::sync::Arc;
use std::time::Instant;

use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::event::{Event, EventSink};
use crate::printer::json;
use writer::Writer;

/// A handle on the recording; clones (one per `listen` client) write to the same file.
#[derive(Clone)]
pub struct Recorder {
    writer: Arc<Writer>,
    /// What `t` counts from: the moment the session line was written.
    started: Instant,
    /// `listen`: the client the events belong to.
    client: Option<u64>,
    secrets: bool,
}

/// `--record FILE` and `--record-secrets`: where the transcript goes and whether credentials stay
/// in it.
#[derive(Debug, Clone)]
pub struct Settings {
    pub path: std::path::PathBuf,
    pub secrets: bool,
}

impl Recorder {
    /// Create the `--record` file (before anything is dialed or bound, so a bad path costs no
    /// traffic); None without `--record`.
    pub fn open(settings: Option<&Settings>) -> Result<Option<Recorder>> {
        let Some(Settings { path, secrets }) = settings else {
            return Ok(None);
        };
        use std::os::unix::fs::OpenOptionsExt;
        let cannot = |e: std::io::Error| {
            Error::usage_hint(
                format!("cannot write the --record file '{}': {e}", path.display()),
                "choose a writable path with --record FILE",
            )
        };
        // The transcript holds the session's data (and with --record-secrets its credentials).
        // Non-blocking, so that a FIFO without a reader is an error here rather than a wait on
        // the runtime thread; the writer thread then writes in blocking mode.
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
            .and_then(blocking)
            .and_then(|f| crate::printer::restrict_to_owner(f, path))
            .map_err(cannot)?;
        let writer = Writer::start(path, file).map_err(cannot)?;
        Ok(Some(Recorder {
            writer: Arc::new(writer),
            started: Instant::now(),
            client: None,
            secrets: *secrets,
        }))
    }

    /// The same recording, for the events of `listen`'s client `id`.
    pub fn for_client(&self, id: u64) -> Recorder {
        Recorder {
            client: Some(id),
            ..self.clone()
        }
    }

    /// The first line of a client's transcript: what was asked for and what was agreed.
    pub fn client_session(&mut self, report: &crate::handshake::Report) {
        self.started = Instant::now();
        let sent = &report.request_headers;
        let offered: Vec<&str> = sent
            .all("sec-websocket-protocol")
            .into_iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        let mut m = json::base(self.started, "session");
        m.insert("role".into(), "client".into());
        m.insert(
            "url".into(),
            headers::redact_url(&report.url, self.secrets).into(),
        );
        m.insert("headers".into(), headers::to_json(sent, self.secrets));
        m.insert("subprotocols".into(), json!(offered));
        m.insert("subprotocol".into(), json!(report.subprotocol()));
        m.insert("extensions".into(), json!(report.extensions()));
        m.insert("wscope".into(), env!("CARGO_PKG_VERSION").into());
        self.write(Value::Object(m));
    }

    /// The first line of a `listen` transcript: where it listened.
    pub fn server_session(&mut self, url: &str) {
        self.started = Instant::now();
        let mut m = json::base(self.started, "session");
        m.insert("role".into(), "server".into());
        m.insert("url".into(), url.into());
        m.insert("wscope".into(), env!("CARGO_PKG_VERSION").into());
        self.write(Value::Object(m));
    }

    /// A `listen` client's opening handshake (call on the client's recorder).
    pub fn handshake(&self, view: &crate::handshake::accept::HandshakeView, path: &str) {
        let mut m = json::base(self.started, "handshake");
        m.insert("peer".into(), view.peer.to_string().into());
        m.insert("path".into(), path.into());
        m.insert(
            "headers".into(),
            headers::to_json(&view.headers, self.secrets),
        );
        m.insert("subprotocols".into(), json!(view.offered_subprotocols));
        m.insert("subprotocol".into(), json!(view.subprotocol));
        m.insert(
            "extensions".into(),
            json!(view.extension.iter().collect::<Vec<_>>()),
        );
        self.write(Value::Object(m));
    }

    /// Why the session failed before it began (a refused upgrade, a TLS error).
    pub fn error(&self, e: &Error) {
        self.write(json::error(
            self.started,
            &e.to_string(),
            e.hint().as_deref(),
        ));
    }

    fn event(&self, ev: &Event<'_>) {
        if let Some(v) = json::event(self.started, ev) {
            self.write(v);
        }
        if let Event::PingReceived(p) = ev {
            // The library answers every ping itself: the pong is part of the record too.
            self.write(json::auto_pong(self.started, p));
        }
    }

    fn write(&self, v: Value) {
        let v = match (self.client, v) {
            (Some(id), Value::Object(mut m)) => {
                m.insert("client".into(), id.into());
                Value::Object(m)
            }
            (_, v) => v,
        };
        let mut buf = serde_json::to_vec(&v).unwrap_or_default();
        buf.push(b'\n');
        self.writer.line(buf);
    }

    /// Write out what is queued and end the recording: Err (exit 1) when the file is incomplete.
    pub async fn finish(&self) -> Result<()> {
        self.writer.finish_async().await;
        if self.writer.failure().is_none() {
            return Ok(());
        }
        // Shown once: in full if nobody has shown it yet, else as the reason for the exit code.
        let message = self.writer.take_unreported().unwrap_or_else(|| {
            format!(
                "the --record file '{}' is incomplete (see the error above)",
                self.writer.path().display()
            )
        });
        Err(Error::Runtime(message))
    }
}

/// Clear the `O_NONBLOCK` the file was opened with.
fn blocking(f: std::fs::File) -> std::io::Result<std::fs::File> {
    use std::os::fd::AsRawFd;
    let fd = f.as_raw_fd();
    // SAFETY: fcntl on a descriptor we own, reading and setting its status flags only.
    let ok = unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        flags >= 0 && libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) >= 0
    };
    if ok {
        Ok(f)
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// A session's sink that records every event before passing it on. Without a recorder it only
/// passes events on. While the recording is behind, the session stops reading from its peer.
pub struct Recorded<'a> {
    inner: &'a mut dyn EventSink,
    rec: Option<Recorder>,
}

impl<'a> Recorded<'a> {
    pub fn new(inner: &'a mut dyn EventSink, rec: Option<Recorder>) -> Recorded<'a> {
        Recorded { inner, rec }
    }
}

impl EventSink for Recorded<'_> {
    fn event(&mut self, ev: Event<'_>) {
        if let Some(rec) = &self.rec {
            rec.event(&ev);
            if let Some(message) = rec.writer.take_unreported() {
                let hint = "the session goes on unrecorded; free some space or choose another --record FILE";
                self.inner.event(Event::Failed {
                    message: &message,
                    hint: Some(hint),
                });
            }
        }
        self.inner.event(ev);
    }
    fn flush(&mut self) {
        self.inner.flush();
    }
    fn dirty(&self) -> bool {
        self.inner.dirty()
    }
    fn broken(&self) -> bool {
        self.inner.broken()
    }
    fn backlogged(&self) -> bool {
        self.inner.backlogged() || self.rec.as_ref().is_some_and(|r| r.writer.backlogged())
    }
    fn stalled(&self) -> bool {
        self.inner.stalled()
    }
}
