//! The life of an open connection: one loop that reads frames, takes commands from the input side
//! (pipe, -x or REPL) through a bounded channel, runs the timers (--wait, pings, the close deadline)
//! and the close handshake, and emits events. It never formats text. Writes go through a separate
//! writer task so a slow server can never stop us from reading what it sends.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::SplitSink;
use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::sync::mpsc::{self, UnboundedReceiver};
use tokio::time::{sleep_until, Instant as TokioInstant};
use tokio_tungstenite::tungstenite::error::{CapacityError, ProtocolError};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

use crate::cli::Wait;
use crate::command::{self, Command};
use crate::dial::BoxStream;
use crate::error::{Error, Result};
use crate::event::{Closer, DataKind, Ending, Event, EventSink, State, Stats};
use crate::tap::TapEvent;

/// What the input side sends us.
#[derive(Debug)]
pub enum Input {
    /// A line in the command language (-x, REPL): parsed here, so refusals are events like any other.
    Line(String),
    /// Data from a pipe: sent as-is.
    Text(String),
    Binary(Vec<u8>),
    /// No more input.
    End,
}

/// Capacity of the input channel: small, so a fast producer waits for the server (backpressure).
pub const INPUT_QUEUE: usize = 64;
const WRITE_QUEUE: usize = 64;
/// How long we wait for the server's close frame after sending ours.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// Messages handled per pass of the loop when they are already readable; bounded so input,
/// timers and signals still get their turn under a flood.
const READ_BURST: usize = 64;
/// Pings awaiting their pong that we remember (older ones are forgotten, not leaked).
const MAX_PENDING_PINGS: usize = 64;
/// Control frames held back while the write queue is full; beyond this, pings are not queued.
const MAX_BACKLOG: usize = 16;
/// How long the writer may take to finish once the session is over.
const WRITER_GRACE: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct Options {
    pub wait: Wait,
    pub once: bool,
    pub count: Option<u64>,
    pub close_code: u16,
    pub close_reason: String,
    pub echo: bool,
    pub ping_interval: Option<Duration>,
    pub ping_timeout: Option<Duration>,
    pub max_message_size: usize,
    /// The server's close code as it was on the wire (tungstenite rewrites some to 1002).
    pub wire_close: Option<crate::inbound::WireClose>,
    /// Toggled by /dump; None when there is no tap to toggle.
    pub dump: Option<Arc<AtomicBool>>,
}

type Ws = WebSocketStream<BoxStream>;

/// Run the session to its end. Ok is a clean end (exit 0); Err carries the exit code.
pub async fn run(
    ws: Ws,
    mut input: mpsc::Receiver<Input>,
    mut frames: Option<UnboundedReceiver<TapEvent>>,
    sink: &mut dyn EventSink,
    opts: Options,
    mut stats: Stats,
) -> Result<()> {
    let (sink_half, mut stream) = ws.split();
    let (wtx, wrx) = mpsc::channel::<Message>(WRITE_QUEUE);
    let (werr_tx, mut werr_rx) = mpsc::channel::<WsError>(1);
    let mut writer = tokio::spawn(write_loop(sink_half, wrx, werr_tx));

    let mut s = Loop {
        opts,
        wtx,
        stats: &mut stats,
        input_open: true,
        input_ended_at: None,
        last_data: Instant::now(),
        received_data: 0,
        closing: None,
        close_sent: false,
        pings: VecDeque::new(),
        ping_seq: 0,
        failure: None,
        server_close: None,
        server_closed_first: false,
        backlog: VecDeque::new(),
        close_code_sent: None,
    };
    let ping_every = s.opts.ping_interval.or(s.opts.ping_timeout);
    // Timers are made once and moved only when their deadline changes: building them on every
    // pass of the loop cost a clock read and a timer registration per message.
    let wait_timer = sleep_until(far_future());
    let ping_timer = sleep_until(ping_every.map_or_else(far_future, |i| TokioInstant::now() + i));
    let close_timer = sleep_until(far_future());
    tokio::pin!(wait_timer, ping_timer, close_timer);
    let mut wait_armed: Option<TokioInstant> = None;
    let mut close_armed = false;
    // Made once, outside the loop: a signal that arrives between two passes must not be lost.
    let mut sigterm = signal_stream(tokio::signal::unix::SignalKind::terminate());
    let mut sigint = signal_stream(tokio::signal::unix::SignalKind::interrupt());

    let ending = loop {
        if sink.broken() {
            // Nobody is reading our output any more: leave quietly.
            return Ok(());
        }
        // The --wait deadline moves with every message; the timer is only re-armed when it first
        // applies and when it fires early (see its branch).
        match (s.wait_deadline(), wait_armed) {
            (Some(d), None) => {
                wait_timer.as_mut().reset(d);
                wait_armed = Some(d);
            }
            (None, Some(_)) => wait_armed = None,
            _ => {}
        }
        if let (Some(t), false) = (s.closing, close_armed) {
            close_timer
                .as_mut()
                .reset(TokioInstant::from_std(t + CLOSE_TIMEOUT));
            close_armed = true;
        }
        tokio::select! {
            biased;
            // With --echo each message read is written back: read only once there is room to
            // echo it, so a server that pushes but never reads stalls us here, where signals and
            // timers still run, and not inside the echo's send.
            msg = async {
                if s.opts.echo && !s.close_sent {
                    let _ = s.wtx.reserve().await;
                }
                stream.next().await
            } => {
                // Handle what is already readable in one go: a pass of the loop per burst of
                // messages, not per message (and, echoing, only while there is room to echo).
                let mut next = Some(msg);
                let mut ended = None;
                let mut budget = READ_BURST;
                while let Some(msg) = next.take() {
                    match msg {
                        Some(Ok(m)) => s.on_message(m, sink).await,
                        Some(Err(e)) => {
                            ended = s.on_read_error(e, sink).await;
                            if ended.is_some() {
                                break;
                            }
                        }
                        None => {
                            ended = Some(s.ended_by_eof());
                            break;
                        }
                    }
                    budget -= 1;
                    let room = !s.opts.echo || s.close_sent || s.wtx.capacity() > 0;
                    if budget > 0 && room && !sink.broken() {
                        next = stream.next().now_or_never();
                    }
                }
                if let Some(ending) = ended {
                    break ending;
                }
            }
            Some((dir, at, frame)) = next_frame(&mut frames) => {
                sink.event(Event::Frame { dir, at, frame: &frame });
            }
            Some(e) = werr_rx.recv() => {
                s.failure.get_or_insert_with(|| Error::protocol(format!("writing to the server failed: {e}")));
                break Ending { closer: Closer::Nobody, code: None, reason: String::new(), clean: false };
            }
            item = async {
                let permit = s.wtx.reserve().await;
                (permit.is_ok(), input.recv().await)
            }, if s.input_open && s.closing.is_none() => {
                match item {
                    (true, Some(Input::End)) | (true, None) => s.end_of_input(),
                    (true, Some(i)) => {
                        s.on_input(i, sink).await;
                        // Take what else is already queued while the writer has room: one pass
                        // of the loop per burst, not per line.
                        for _ in 0..INPUT_QUEUE {
                            if !s.input_open || s.closing.is_some() || s.wtx.capacity() == 0 {
                                break;
                            }
                            match input.try_recv() {
                                Ok(Input::End) => s.end_of_input(),
                                Ok(i) => s.on_input(i, sink).await,
                                Err(_) => break,
                            }
                        }
                    }
                    (false, _) => break s.ended_by_eof(),
                }
            }
            _ = &mut wait_timer, if wait_armed.is_some() && s.closing.is_none() => {
                match s.wait_deadline() {
                    // A message came in since the timer was set: wait out the new silence.
                    Some(d) if d > TokioInstant::now() => {
                        wait_timer.as_mut().reset(d);
                        wait_armed = Some(d);
                    }
                    _ => s.begin_close(None, sink).await,
                }
            }
            _ = &mut ping_timer, if ping_every.is_some() && s.closing.is_none() => {
                if let Some(limit) = s.opts.ping_timeout {
                    if s.pings.front().is_some_and(|(_, at)| at.elapsed() >= limit) {
                        s.failure = Some(Error::Protocol {
                            message: format!("the server stopped answering pings: no pong within {}", crate::error::secs(limit)),
                            hint: Some("the peer looks dead; raise --ping-timeout if it is just slow".into()),
                        });
                        s.begin_close(Some((1001, "ping timeout".into())), sink).await;
                        continue;
                    }
                }
                s.ping_seq += 1;
                let payload = format!("wscope-{}", s.ping_seq).into_bytes();
                s.send_ping(payload, sink).await;
                let every = ping_every.unwrap_or(Duration::from_secs(30));
                ping_timer.as_mut().reset(TokioInstant::now() + every);
            }
            _ = &mut close_timer, if close_armed => {
                s.failure.get_or_insert_with(|| Error::Protocol {
                    message: format!("the server did not answer our close frame within {}", crate::error::secs(CLOSE_TIMEOUT)),
                    hint: None,
                });
                break Ending { closer: Closer::Us, code: Some(s.opts.close_code), reason: String::new(), clean: false };
            }
            _ = sigint.recv() => {
                s.on_signal(sink).await;
            }
            _ = sigterm.recv() => {
                s.on_signal(sink).await;
            }
            // Owned, so the permit does not borrow the loop state the other arms need.
            permit = async { s.wtx.clone().reserve_owned().await }, if !s.backlog.is_empty() => {
                match (permit, s.backlog.pop_front()) {
                    (Ok(p), Some(m)) => {
                        p.send(m);
                    }
                    // The writer is gone (it reported why): nothing queued can go out any more.
                    _ => s.backlog.clear(),
                }
            }
            _ = std::future::ready(()), if sink.dirty() => sink.flush(),
        }
    };
    drop(s.wtx);
    // A writer stuck on a server that stopped reading would never finish: give it a moment to
    // write the last frames, then give up on it.
    if tokio::time::timeout(WRITER_GRACE, &mut writer)
        .await
        .is_err()
    {
        writer.abort();
        let _ = writer.await;
    }
    // With the writer gone this drops the stream and its tap, which reports any frame cut off
    // mid-way (one tungstenite refused to read, say) before we drain the queue.
    drop(stream);
    // The last frames (the close handshake) may still be in the tap's queue.
    if let Some(rx) = &mut frames {
        while let Ok((dir, at, frame)) = rx.try_recv() {
            sink.event(Event::Frame {
                dir,
                at,
                frame: &frame,
            });
        }
    }
    s.stats.state = State::Closed;
    sink.event(Event::Closed(&ending));
    sink.flush();
    match s.failure.take() {
        Some(e) => Err(e),
        None => judge(&ending),
    }
}

async fn next_frame(frames: &mut Option<UnboundedReceiver<TapEvent>>) -> Option<TapEvent> {
    match frames {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

fn far_future() -> TokioInstant {
    TokioInstant::now() + Duration::from_secs(86400 * 365)
}

fn signal_stream(kind: tokio::signal::unix::SignalKind) -> SignalStream {
    SignalStream(tokio::signal::unix::signal(kind).ok())
}

struct SignalStream(Option<tokio::signal::unix::Signal>);
impl SignalStream {
    async fn recv(&mut self) {
        match &mut self.0 {
            Some(s) => {
                s.recv().await;
            }
            None => std::future::pending().await,
        }
    }
}

/// Exit status of a connection that ended without a local failure (SPEC.md "Exit codes").
fn judge(e: &Ending) -> Result<()> {
    match (e.closer, e.code) {
        (Closer::Us, _) if e.clean => Ok(()),
        (Closer::Server, Some(1000 | 1001)) => Ok(()),
        (Closer::Server, code) => Err(Error::Protocol {
            message: match code {
                Some(c) => format!(
                    "the server closed with {c} ({}){}{}",
                    crate::frame::close_code_name(c),
                    if crate::command::check_close_code(c).is_err() {
                        ", a code that may never be sent on the wire"
                    } else {
                        ""
                    },
                    if e.reason.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", e.reason)
                    }
                ),
                None => "the server closed without a status code (1005)".into(),
            },
            // tungstenite replaces a code that may not be sent (1005 on the wire, say) with this
            // exact frame before we see it, so the code above may not be what the server sent.
            hint: (code == Some(1002) && e.reason == "Protocol violation").then(|| {
                "a close code that may never be sent (such as 1005) is also reported this way; \
                 --dump shows the code that was on the wire"
                    .into()
            }),
        }),
        _ => Err(Error::Protocol {
            message: "the connection was dropped without a close handshake (1006 abnormal closure)"
                .into(),
            hint: None,
        }),
    }
}

async fn write_loop(
    mut sink: SplitSink<Ws, Message>,
    mut rx: mpsc::Receiver<Message>,
    err: mpsc::Sender<WsError>,
) {
    while let Some(first) = rx.recv().await {
        // Feed everything already queued, then flush once: one syscall for a burst of messages.
        let mut res = sink.feed(first).await;
        while res.is_ok() {
            match rx.try_recv() {
                Ok(m) => res = sink.feed(m).await,
                Err(_) => break,
            }
        }
        if res.is_ok() {
            res = sink.flush().await;
        }
        if let Err(e) = res {
            if !matches!(e, WsError::ConnectionClosed | WsError::AlreadyClosed) {
                let _ = err.send(e).await;
            }
            return;
        }
    }
}

struct Loop<'a> {
    opts: Options,
    wtx: mpsc::Sender<Message>,
    stats: &'a mut Stats,
    input_open: bool,
    input_ended_at: Option<Instant>,
    last_data: Instant,
    received_data: u64,
    /// When we sent our close frame.
    closing: Option<Instant>,
    close_sent: bool,
    pings: VecDeque<(Vec<u8>, Instant)>,
    ping_seq: u64,
    /// A local reason to exit non-zero, decided before the close finished.
    failure: Option<Error>,
    server_close: Option<(Option<u16>, String)>,
    /// The server's close frame came before ours: it started the close handshake.
    server_closed_first: bool,
    /// Control frames (ping, pong, close) that found the write queue full. They wait here, not
    /// in an await, so a server that stops reading cannot stop the loop: timers, signals and the
    /// close deadline keep working.
    backlog: VecDeque<Message>,
    /// The code of the close frame we sent.
    close_code_sent: Option<u16>,
}

impl Loop<'_> {
    /// When the --wait silence after the end of input runs out.
    fn wait_deadline(&self) -> Option<TokioInstant> {
        let ended = self.input_ended_at?;
        match self.opts.wait {
            Wait::Forever => None,
            Wait::Secs(d) => Some(TokioInstant::from_std(ended.max(self.last_data) + d)),
        }
    }

    async fn send(&mut self, m: Message) {
        // The writer only goes away after an error it reports itself.
        let _ = self.wtx.send(m).await;
    }

    /// Queue a control frame without waiting for room (see `backlog`).
    fn send_control(&mut self, m: Message) {
        if !self.backlog.is_empty() {
            // Keep the order: nothing may overtake what is already waiting.
            if self.backlog.len() < MAX_BACKLOG || m.is_close() {
                self.backlog.push_back(m);
            }
            return;
        }
        if let Err(mpsc::error::TrySendError::Full(m)) = self.wtx.try_send(m) {
            self.backlog.push_back(m);
        }
    }

    /// Send a text or binary message. Taking the message whole means text is never validated twice
    /// and an echo shares the received buffer instead of copying it.
    async fn send_data(&mut self, m: Message, sink: &mut dyn EventSink) {
        let Some((kind, data)) = data_of(&m) else {
            return;
        };
        self.stats.messages_sent += 1;
        self.stats.bytes_sent += data.len() as u64;
        sink.event(Event::Sent { kind, data });
        self.send(m).await;
    }

    async fn send_ping(&mut self, payload: Vec<u8>, sink: &mut dyn EventSink) {
        sink.event(Event::PingSent(&payload));
        if self.pings.len() == MAX_PENDING_PINGS {
            self.pings.pop_front();
        }
        self.pings.push_back((payload.clone(), Instant::now()));
        self.send_control(Message::Ping(payload.into()));
    }

    async fn begin_close(&mut self, code: Option<(u16, String)>, sink: &mut dyn EventSink) {
        if self.close_sent || self.server_close.is_some() {
            return;
        }
        let (code, reason) =
            code.unwrap_or_else(|| (self.opts.close_code, self.opts.close_reason.clone()));
        sink.event(Event::CloseSent {
            code,
            reason: &reason,
        });
        self.close_sent = true;
        self.close_code_sent = Some(code);
        self.closing = Some(Instant::now());
        self.stats.state = State::Closing;
        self.send_control(Message::Close(Some(CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        })));
    }

    fn end_of_input(&mut self) {
        self.input_open = false;
        self.input_ended_at = Some(Instant::now());
    }

    async fn on_signal(&mut self, sink: &mut dyn EventSink) {
        if self.close_sent {
            // A second Ctrl-C: the user does not want to wait for the server.
            std::process::exit(130);
        }
        self.input_open = false;
        self.begin_close(None, sink).await;
    }

    async fn on_input(&mut self, input: Input, sink: &mut dyn EventSink) {
        match input {
            Input::Text(t) => self.send_data(Message::text(t), sink).await,
            Input::Binary(b) => self.send_data(Message::binary(b), sink).await,
            Input::Line(line) => match command::parse(&line) {
                Ok(Command::Nothing) => {}
                Ok(cmd) => self.on_command(cmd, sink).await,
                Err(e) => {
                    let hint = e.hint();
                    sink.event(Event::Refused {
                        message: &e.to_string(),
                        hint: hint.as_deref(),
                    });
                }
            },
            Input::End => self.end_of_input(),
        }
    }

    async fn on_command(&mut self, cmd: Command, sink: &mut dyn EventSink) {
        match cmd {
            Command::Nothing => {}
            Command::Text(t) => self.send_data(Message::text(t), sink).await,
            Command::Binary(b) => self.send_data(Message::binary(b), sink).await,
            Command::File { path, force_binary } => {
                match read_file(&path, self.opts.max_message_size) {
                    Ok(bytes) => {
                        let m = match String::from_utf8(bytes) {
                            Ok(text) if !force_binary => Message::text(text),
                            Ok(text) => Message::binary(text.into_bytes()),
                            Err(e) => Message::binary(e.into_bytes()),
                        };
                        self.send_data(m, sink).await;
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
            Command::Help => sink.event(Event::Help),
            Command::To { .. } | Command::Clients | Command::Kick { .. } => {
                sink.event(Event::Refused {
                    message: "/to, /clients and /kick work in `wscope listen` only",
                    hint: None,
                })
            }
        }
    }

    async fn on_message(&mut self, m: Message, sink: &mut dyn EventSink) {
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
                let wire = self.opts.wire_close.as_ref().and_then(|w| w.get());
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
                self.stats.state = State::Closing;
                self.server_close = Some((code, reason));
                // tungstenite answers it for us; sending anything now would be a protocol error.
                self.server_closed_first = !self.close_sent;
                self.input_open = false;
            }
            Message::Frame(_) => {}
        }
    }

    async fn on_data(&mut self, m: Message, sink: &mut dyn EventSink) {
        let Some((kind, data)) = data_of(&m) else {
            return;
        };
        self.last_data = Instant::now();
        self.received_data += 1;
        self.stats.messages_received += 1;
        self.stats.bytes_received += data.len() as u64;
        sink.event(Event::Received { kind, data });
        if self.opts.echo && !self.close_sent {
            // The same buffer goes back out (Bytes are reference-counted): no copy.
            self.send_data(m, sink).await;
        }
        let limit = if self.opts.once {
            Some(1)
        } else {
            self.opts.count
        };
        if limit.is_some_and(|n| self.received_data >= n) {
            self.input_open = false;
            self.begin_close(None, sink).await;
        }
    }

    /// The stream ended: after a close handshake, or abruptly.
    fn ended_by_eof(&mut self) -> Ending {
        match &self.server_close {
            Some((code, reason)) => Ending {
                // Whoever sent the first close frame started the handshake.
                closer: if self.server_closed_first {
                    Closer::Server
                } else {
                    Closer::Us
                },
                code: *code,
                reason: reason.clone(),
                clean: true,
            },
            // We closed (after a protocol error, say) and the stream ended before the answer:
            // ours is the close to report, not a lost connection.
            None if self.close_sent => Ending {
                closer: Closer::Us,
                code: self.close_code_sent,
                reason: String::new(),
                clean: false,
            },
            None => Ending {
                closer: Closer::Nobody,
                code: None,
                reason: String::new(),
                clean: false,
            },
        }
    }

    /// A read failed: a protocol violation by the server, a message too big, or a dropped connection.
    async fn on_read_error(&mut self, e: WsError, sink: &mut dyn EventSink) -> Option<Ending> {
        let (code, what) = match &e {
            WsError::Io(io) if crate::inbound::is_invalid_utf8(io) => {
                (1007, "the server sent a text message that is not valid UTF-8".to_string())
            }
            // After a clean close, bytes the server still sends change nothing about the ending.
            WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake | ProtocolError::ReceivedAfterClosing)
            | WsError::Io(_)
            | WsError::ConnectionClosed
            | WsError::AlreadyClosed => {
                return Some(if self.server_close.is_some() {
                    self.ended_by_eof()
                } else if self.close_sent {
                    self.failure.get_or_insert_with(|| Error::protocol("the server dropped the connection instead of answering our close frame (1006 abnormal closure)"));
                    Ending { closer: Closer::Us, code: None, reason: String::new(), clean: false }
                } else {
                    Ending { closer: Closer::Nobody, code: None, reason: String::new(), clean: false }
                });
            }
            WsError::Utf8(_) => (1007, "the server sent a text message that is not valid UTF-8".to_string()),
            WsError::Capacity(CapacityError::MessageTooLong { size, max_size }) => (
                1009,
                format!("the server sent a message of {size} bytes, over the limit of {max_size} (--max-message-size)"),
            ),
            WsError::Capacity(c) => (1009, format!("the server sent too much: {c} (--max-message-size)")),
            WsError::Protocol(p) => (1002, format!("the server broke the WebSocket protocol: {p}")),
            other => (1002, format!("reading from the server failed: {other}")),
        };
        let hint = (code == 1009).then(|| "raise --max-message-size BYTES".to_string());
        self.failure.get_or_insert(Error::Protocol {
            message: what.clone(),
            hint,
        });
        self.input_open = false;
        if self.close_sent {
            return Some(Ending {
                closer: Closer::Us,
                code: Some(code),
                reason: what,
                clean: false,
            });
        }
        let reason = match code {
            1007 => "invalid UTF-8",
            1009 => "message too big",
            _ => "protocol error",
        };
        self.begin_close(Some((code, reason.to_string())), sink)
            .await;
        None
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

/// Read a file for /file, refusing what could not be sent anyway.
fn read_file(path: &std::path::Path, max: usize) -> std::result::Result<Vec<u8>, String> {
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
    let meta =
        std::fs::metadata(path).map_err(|e| format!("cannot read '{}': {e}", path.display()))?;
    if meta.len() > max as u64 {
        return Err(format!(
            "'{}' is {} bytes, over the --max-message-size of {max}",
            path.display(),
            meta.len()
        ));
    }
    std::fs::read(path).map_err(|e| format!("cannot read '{}': {e}", path.display()))
}
