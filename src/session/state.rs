//! What one connection's session knows and how it reacts: input and commands from the user,
//! messages and control frames from the server, pings, and the start of the close handshake.

use super::*;
use crate::lens::View;

impl Loop<'_> {
    /// When waiting after the end of input is over: `-w` a fixed time after it, `--idle` a
    /// silence after it (whichever comes first).
    pub(super) fn wait_deadline(&self) -> Option<TokioInstant> {
        let ended = self.input_ended_at?;
        let fixed = match self.opts.wait {
            Wait::Forever => None,
            Wait::Secs(d) => Some(ended + d),
        };
        let idle = self.opts.idle.map(|d| ended.max(self.last_data) + d);
        let first = match (fixed, idle) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        first.map(TokioInstant::from_std)
    }

    /// Which of `-w` and `--idle` [`Self::wait_deadline`] stands for: the earlier deadline.
    pub(super) fn wait_flag(&self) -> &'static str {
        let Some(ended) = self.input_ended_at else {
            return "--idle";
        };
        let idle = self.opts.idle.map(|d| ended.max(self.last_data) + d);
        match (self.opts.wait, idle) {
            (Wait::Secs(d), Some(i)) if ended + d > i => "--idle",
            (Wait::Secs(_), _) => "-w",
            _ => "--idle",
        }
    }

    pub(super) async fn send(&mut self, m: impl Into<Outgoing>) {
        // The writer only goes away after an error it reports itself.
        let _ = self.wtx.send(m.into()).await;
    }

    /// `/raw` and `/frame`: bytes behind everything queued so far, unknown to tungstenite.
    pub(super) async fn send_raw(&mut self, bytes: Vec<u8>, what: &str, sink: &mut dyn EventSink) {
        if self.opts.raw.is_none() {
            sink.event(Event::Refused {
                message: "/raw and /frame are not available here",
                hint: Some("they work in `wscope URL` (-x, --script and its REPL)"),
            });
            return;
        }
        if !self.raw_noted {
            self.raw_noted = true;
            sink.event(Event::Notice(
                "note: /raw and /frame bytes bypass the WebSocket library: its state does not follow them (a crafted close does not close it, a false length desynchronises the stream)",
            ));
        }
        let n = bytes.len();
        sink.event(Event::Notice(&format!(
            "sent {what}: {n} byte{}",
            if n == 1 { "" } else { "s" }
        )));
        self.send(Out::Raw(bytes)).await;
    }

    /// Queue a control frame without waiting for room (see `backlog`).
    pub(super) fn send_control(&mut self, m: Message) {
        let m = Out::Ws(m);
        if !self.backlog.is_empty() {
            // Keep the order: nothing may overtake what is already waiting.
            if self.backlog.len() < MAX_BACKLOG || m.is_close() {
                self.backlog.push_back(m);
            }
            return;
        }
        if let Err(mpsc::error::TrySendError::Full(o)) = self.wtx.try_send(m.into()) {
            self.backlog.push_back(o.wire);
        }
    }

    /// Send a text or binary message. Taking the message whole means text is never validated twice
    /// and an echo shares the received buffer instead of copying it.
    pub(super) async fn send_data(&mut self, m: Message, origin: Origin, sink: &mut dyn EventSink) {
        self.send_data_as(m, origin, true, sink).await;
    }

    /// `announce` false: a message handed back by an earlier connection, whose `sent` event
    /// was shown when it was first queued.
    async fn send_data_as(
        &mut self,
        m: Message,
        origin: Origin,
        announce: bool,
        sink: &mut dyn EventSink,
    ) {
        if data_of(&m).is_none() {
            return;
        }
        // The message itself goes to the writer: a copy of its handle is taken only when it is
        // kept (--reconnect) or compressed (the event shows what was sent, not the frame). Cloning
        // a message made from a line costs an allocation (the buffer becomes shared).
        let keep = (self.keep_unsent || self.opts.deflate.is_some()).then(|| m.clone());
        let (out, wire) = crate::deflate::outgoing(&self.opts.deflate, m);
        let Some((kind, data)) = keep.as_ref().or(Some(&out)).and_then(data_of) else {
            return;
        };
        self.stats.messages_sent += 1;
        self.stats.bytes_sent += data.len() as u64;
        self.stats.wire_bytes_sent += wire.size;
        if announce {
            let view = self.lens_view(crate::lens::Dir::Sent, kind, data);
            sink.event(Event::Sent {
                kind,
                data,
                wire,
                origin,
                lens: view.as_ref(),
            });
        }
        let data = if self.keep_unsent {
            keep.map(Box::new)
        } else {
            None
        };
        self.handed.queued();
        // The writer only goes away after an error it reports itself.
        let _ = self
            .wtx
            .send(Outgoing {
                wire: Out::Ws(out),
                data,
            })
            .await;
    }

    pub(super) async fn send_ping(&mut self, payload: Vec<u8>, sink: &mut dyn EventSink) {
        sink.event(Event::PingSent(&payload));
        if self.pings.len() == MAX_PENDING_PINGS {
            self.pings.pop_front();
        }
        self.pings.push_back((payload.clone(), Instant::now()));
        self.send_control(Message::Ping(payload.into()));
    }

    pub(super) async fn begin_close(
        &mut self,
        code: Option<(u16, String)>,
        sink: &mut dyn EventSink,
    ) {
        if self.close.we_sent() || self.close.peer_sent() {
            return;
        }
        let (code, reason) =
            code.unwrap_or_else(|| (self.opts.close_code, self.opts.close_reason.clone()));
        self.lens_closing(sink);
        sink.event(Event::CloseSent {
            code,
            reason: &reason,
        });
        self.close.we_closed(code);
        self.stats.state = State::Closing;
        self.send_control(Message::Close(Some(CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        })));
    }

    pub(super) fn end_of_input(&mut self) {
        self.input_open = false;
        self.input_ended_at = Some(Instant::now());
    }

    /// Ctrl-C or SIGTERM: close, and give the peer [`shutdown::CLOSE_AFTER_SIGNAL`] to answer,
    /// whoever began the close. (A second signal ends the process where signals are installed.)
    pub(super) async fn on_signal(&mut self, sink: &mut dyn EventSink) {
        let Some(sig) = shutdown::signalled() else {
            return;
        };
        self.stopped.get_or_insert(Stop {
            sig,
            failed_before: self.failure.is_some(),
        });
        self.input_open = false;
        self.begin_close(None, sink).await;
        if let Some(began) = self.close_begun_at() {
            let cut = began.elapsed() + shutdown::CLOSE_AFTER_SIGNAL;
            self.close_wait = self.close_wait.min(cut);
        }
    }

    pub(super) async fn on_input(&mut self, input: Input, sink: &mut dyn EventSink) {
        match input {
            // The charge is given back once the message has moved on to the writer.
            Input::Text(t, _charge) => self.send_data(Message::text(t), Origin::User, sink).await,
            Input::Binary(b, _charge) => {
                self.send_data(Message::binary(b), Origin::User, sink).await
            }
            // Only listen's hub queues parsed commands.
            Input::Command(cmd, _charge) => self.on_command(cmd, Origin::Hub, sink).await,
            Input::Line(line) => self.on_line(line, false, sink).await,
            Input::Typed(line) => self.on_line(line, true, sink).await,
            Input::Resend(m) => self.send_data_as(m, Origin::User, false, sink).await,
            Input::Data(m) => self.send_data(m, Origin::User, sink).await,
            Input::End => self.end_of_input(),
            Input::Failed(e) => {
                self.failure.get_or_insert(e);
                self.local_failure = true;
                self.end_of_input();
            }
            Input::Notice(text) => sink.event(Event::Notice(&text)),
        }
    }

    /// Carry out `cmd`; what it sends came from `origin`.
    pub(super) async fn on_command(
        &mut self,
        cmd: Command,
        origin: Origin,
        sink: &mut dyn EventSink,
    ) {
        match cmd {
            Command::Nothing => {}
            Command::Text(t) => self.send_data(Message::text(t), origin, sink).await,
            Command::Binary(b) => self.send_data(Message::binary(b), origin, sink).await,
            Command::File { path, force_binary } => {
                let max = self.opts.max_message_size;
                // Off the runtime thread: a slow disk must not stop the loop (and the file is
                // checked to be a regular one first, so nothing here can block for ever).
                let read = tokio::task::spawn_blocking(move || read_file(&path, max))
                    .await
                    .unwrap_or_else(|e| Err(format!("reading the file failed: {e}")));
                match read {
                    Ok(bytes) => {
                        let m = match String::from_utf8(bytes) {
                            Ok(text) if !force_binary => Message::text(text),
                            Ok(text) => Message::binary(text.into_bytes()),
                            Err(e) => Message::binary(e.into_bytes()),
                        };
                        // Not the typed line itself: a file's contents are never on the screen.
                        let origin = if origin == Origin::Typed {
                            Origin::User
                        } else {
                            origin
                        };
                        self.send_data(m, origin, sink).await;
                    }
                    Err(msg) => sink.event(Event::Refused {
                        message: &msg,
                        hint: Some("/file [--binary] PATH"),
                    }),
                }
            }
            Command::Ping(p) => self.send_ping(p, sink).await,
            Command::Pong(p) => {
                sink.event(Event::PongSent(&p));
                self.send_control(Message::Pong(p.into()));
            }
            Command::Raw(bytes) => self.send_raw(bytes, "raw bytes", sink).await,
            Command::Frame(f) => self.send_raw(f.encode(), "a crafted frame", sink).await,
            Command::Close { code, reason } => {
                self.input_open = false;
                self.begin_close(Some((code, reason)), sink).await;
            }
            Command::Quit => {
                self.input_open = false;
                self.begin_close(None, sink).await;
            }
            Command::Dump(on) => match &self.opts.dump {
                Some(flag) => {
                    flag.store(on, Ordering::Relaxed);
                    sink.event(Event::Notice(if on {
                        "frame dump on"
                    } else {
                        "frame dump off"
                    }));
                }
                None => sink.event(Event::Refused {
                    message: "the frame dump is not available here",
                    hint: Some("start with --dump"),
                }),
            },
            Command::Verbose(on) => sink.event(Event::Verbose(on)),
            Command::Status => sink.event(Event::Status(self.stats)),
            Command::Help => {
                sink.event(Event::Help);
                self.lens_help(sink);
            }
            Command::To { .. }
            | Command::Clients
            | Command::Kick { .. }
            | Command::ToServer { .. }
            | Command::ToClient { .. } => sink.event(Event::Refused {
                message: "/to, /clients and /kick work in `wscope listen` only",
                hint: None,
            }),
        }
    }

    pub(super) async fn on_message(&mut self, m: Message, sink: &mut dyn EventSink) {
        match m {
            m @ (Message::Text(_) | Message::Binary(_)) => self.on_data(m, sink).await,
            Message::Ping(p) => sink.event(Event::PingReceived(&p)),
            Message::Pong(p) => {
                let rtt = self
                    .pings
                    .iter()
                    .position(|(sent, _)| sent[..] == p[..])
                    .map(|i| {
                        let at = self.pings[i].1;
                        // Pongs answer the newest ping; anything older is answered too.
                        self.pings.drain(..=i);
                        at.elapsed()
                    });
                if rtt.is_some() {
                    self.stats.last_rtt = rtt;
                }
                sink.event(Event::PongReceived { payload: &p, rtt });
            }
            Message::Close(frame) => {
                let (mut code, mut reason) = match &frame {
                    Some(f) => (Some(u16::from(f.code)), f.reason.to_string()),
                    None => (None, String::new()),
                };
                // tungstenite hands us 1002 "Protocol violation" in place of a code that may not
                // be sent (1005, 5000, ...): a debugger shows what the server really said.
                let wire = self.opts.wire.as_ref().and_then(|w| w.close_code());
                if let (Some(1002), "Protocol violation", Some(raw)) = (code, reason.as_str(), wire)
                {
                    if raw != 1002 {
                        code = Some(raw);
                        reason.clear();
                    }
                }
                sink.event(Event::CloseReceived {
                    code,
                    reason: &reason,
                });
                if let Some(c) = code.filter(|c| !crate::wire::close::may_be_sent(*c)) {
                    self.close_code_not_allowed(c);
                }
                self.stats.state = State::Closing;
                // tungstenite answers it for us; sending anything now would be a protocol error.
                self.close.peer_closed(code, reason);
                self.input_cut |= self.input_open && !self.close.we_sent();
                self.input_open = false;
                // What came before the close is judged first.
                let mut stop = self.opts.shutdown.clone();
                let settled = self.script.settle(sink, &mut stop).await;
                if let Some(e) = settled.or_else(|| self.script.on_close(code, sink)) {
                    self.script_failed(e, sink).await;
                }
            }
            Message::Frame(_) => {}
        }
    }

    pub(super) async fn on_data(&mut self, m: Message, sink: &mut dyn EventSink) {
        let Some((kind, data)) = data_of(&m) else {
            return;
        };
        let wire = crate::deflate::received(&self.opts.deflate, data.len());
        if self.data_limit().is_some_and(|n| self.received_data >= n) {
            // --once/--count: exactly that many are shown, however many came in the same read.
            return;
        }
        let view = self.lens_view(crate::lens::Dir::Received, kind, data);
        // A lens's housekeeping (Engine.IO pings, graphql-ws acks) is not the silence --idle
        // ends nor a message --once/--count counts.
        let duty = view.as_ref().is_some_and(View::is_duty);
        if !duty {
            self.last_data = Instant::now();
            self.received_data += 1;
        }
        self.stats.messages_received += 1;
        self.stats.bytes_received += data.len() as u64;
        self.stats.wire_bytes_received += wire.size;
        sink.event(Event::Received {
            kind,
            data,
            wire,
            lens: view.as_ref(),
        });
        // The view as text only when the script can use it (an expectation or kept messages).
        let seen = match self.script.wants_view() {
            true => view.as_ref().and_then(|v| v.json_text()),
            false => None,
        };
        self.script.on_data(&m, seen.map(Into::into), sink);
        if let Some(v) = &view {
            self.lens_after(v, sink).await;
        }
        if self.opts.echo && !self.close.we_sent() {
            // The same buffer goes back out (Bytes are reference-counted): no copy.
            self.send_data(m, Origin::Echo, sink).await;
        }
        if !duty && self.data_limit().is_some_and(|n| self.received_data >= n) {
            self.input_open = false;
            self.begin_close(None, sink).await;
        }
    }
}

impl Loop<'_> {
    /// The peer's close frame carries a code that may never be sent (1005, 1006, 1015, 12592...):
    /// its protocol error, whoever began the close (one verdict with --dump's).
    fn close_code_not_allowed(&mut self, c: u16) {
        let peer = self.opts.role.peer();
        let did = if self.close.we_sent() {
            "answered our close"
        } else {
            "closed"
        };
        self.failure.get_or_insert(Error::Protocol {
            message: format!(
                "the {peer} {did} with {c} ({}), a code that may never be sent on the wire \
                 (RFC 6455 section 7.4.1)",
                crate::wire::close::name(c)
            ),
            hint: None,
        });
    }
}

/// A signal began the close.
#[derive(Debug, Clone, Copy)]
pub(super) struct Stop {
    sig: shutdown::Sig,
    /// The session had failed already (an expectation, the peer): that failure stands.
    failed_before: bool,
}

impl Stop {
    /// The exit a session has once a signal stopped it: 0 when a clean close completed in time,
    /// the failure it had before the signal, else 130 (SIGINT) or 143 (SIGTERM).
    pub(super) fn judge(self, result: Result<()>) -> Result<()> {
        match result {
            Err(e) if !self.failed_before => Err(Error::Stopped {
                message: format!(
                    "stopped by {} before the close handshake completed ({e})",
                    match self.sig {
                        shutdown::Sig::Int => "Ctrl-C",
                        shutdown::Sig::Term => "SIGTERM",
                    }
                ),
                code: self.sig.exit_code(),
            }),
            other => other,
        }
    }
}

/// The kind and bytes of a data message; None for control frames.
fn data_of(m: &Message) -> Option<(DataKind, &[u8])> {
    match m {
        Message::Text(t) => Some((DataKind::Text, t.as_bytes())),
        Message::Binary(b) => Some((DataKind::Binary, b)),
        _ => None,
    }
}

/// Read a file for /file, refusing what could not be sent anyway: anything but a regular file
/// (a device such as /dev/zero has no end, and opening a FIFO waits for a writer), and a file
/// over `max`, which is checked while reading too (a file may grow).
fn read_file(path: &std::path::Path, max: usize) -> std::result::Result<Vec<u8>, String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let expanded;
    let path = match path.to_str().and_then(|p| p.strip_prefix("~/")) {
        Some(rest) => match dirs::home_dir() {
            Some(home) => {
                expanded = home.join(rest);
                expanded.as_path()
            }
            None => path,
        },
        None => path,
    };
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read '{shown}': {e}"))?;
    if !meta.is_file() {
        return Err(format!(
            "'{shown}' is not a regular file (/file sends regular files only)"
        ));
    }
    let too_big =
        |len: u64| format!("'{shown}' is {len} bytes, over the --max-message-size of {max}");
    if meta.len() > max as u64 {
        return Err(too_big(meta.len()));
    }
    // O_NONBLOCK: should the path have become a FIFO since, opening it still returns at once.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| format!("cannot read '{shown}': {e}"))?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read '{shown}': {e}"))?;
    if bytes.len() > max {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}
