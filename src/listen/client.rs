//! One client's life, in its own task: TLS (wss), the opening handshake (decided by [`accept`]),
//! then the message loop (echo, commands from the hub, the close handshake). It never prints: it
//! reports [`ClientEvent`]s to the hub, which owns the printer. A client that misbehaves ends its own
//! task and nothing else.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{FutureExt, SinkExt, StreamExt};
use serde::Serialize;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

use super::accept::{decide, read_request, Decision, Policy, HANDSHAKE_TIMEOUT};
use super::tls::Acceptor;
use crate::dial::BoxStream;
use crate::dump::Direction;
use crate::event::DataKind;
use crate::tap::{Tap, TapEvent, TapSink};

/// Messages the hub may queue for one client before it counts as too slow.
pub const CLIENT_QUEUE: usize = 1024;
/// Messages handled per pass when they are already readable (the rest wait for the next pass).
const READ_BURST: usize = 64;
/// How long we wait for the client's close frame after sending ours.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// What every client task shares, fixed at start-up but for the switches.
pub struct Shared {
    pub policy: Policy,
    pub tls: Option<Acceptor>,
    pub echo: bool,
    pub max_message_size: usize,
    pub dump_limit: usize,
    /// `--dump`, toggled by `/dump on|off`.
    pub dump: Arc<AtomicBool>,
    /// Clients past their handshake, for `--max-clients`.
    pub connected: AtomicUsize,
}

/// A connected client, as the hub registers it.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub peer: SocketAddr,
    pub path: String,
    pub subprotocol: Option<String>,
    pub origin: Option<String>,
    pub since: Instant,
}

/// The handshake as `-v` shows it: what was received and what we answered.
#[derive(Debug, Clone, Serialize)]
pub struct HandshakeView {
    pub peer: SocketAddr,
    pub tls: bool,
    pub request: String,
    pub response: String,
    pub offered_subprotocols: Vec<String>,
    pub offered_extensions: Vec<String>,
    pub origin: Option<String>,
    pub subprotocol: Option<String>,
    pub status: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClosedBy {
    Client,
    Server,
    Nobody,
}

#[derive(Debug, Clone, Serialize)]
pub struct Disconnect {
    pub closer: ClosedBy,
    pub code: Option<u16>,
    pub reason: String,
    pub clean: bool,
}

#[derive(Debug)]
pub enum ClientEvent {
    Handshake(Box<HandshakeView>),
    Refused {
        peer: SocketAddr,
        status: u16,
        reason: String,
    },
    /// The connection ended before an HTTP answer was possible (TLS, garbage, timeout).
    Failed {
        peer: SocketAddr,
        error: String,
    },
    Received(DataKind, Vec<u8>),
    Sent(DataKind, Vec<u8>),
    PingReceived(Vec<u8>),
    PongReceived(Vec<u8>),
    PingSent(Vec<u8>),
    PongSent(Vec<u8>),
    CloseReceived {
        code: Option<u16>,
        reason: String,
    },
    CloseSent {
        code: u16,
        reason: String,
    },
    Frame(TapEvent),
    Error(String),
    Gone(Disconnect),
}

pub enum FromClient {
    Joined {
        id: u64,
        info: ClientInfo,
        tx: mpsc::Sender<Message>,
    },
    Event(u64, ClientEvent),
    Left(u64),
}

/// Gives back the `--max-clients` slot when the client task ends, however it ends.
struct Slot<'a>(&'a AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Serve one connection from accept to disconnect.
pub async fn run(
    id: u64,
    tcp: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    hub: UnboundedSender<FromClient>,
) {
    let report = |ev: ClientEvent| {
        let _ = hub.send(FromClient::Event(id, ev));
    };
    let _ = tcp.set_nodelay(true);
    let opened = tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake(tcp, peer, &shared)).await;
    let (stream, leftover, info, view, _slot) = match opened {
        Err(_) => {
            report(ClientEvent::Failed {
                peer,
                error: format!(
                    "no complete handshake within {}",
                    crate::error::secs(HANDSHAKE_TIMEOUT)
                ),
            });
            return;
        }
        Ok(Err((view, ev))) => {
            if let Some(view) = view {
                report(ClientEvent::Handshake(view));
            }
            report(ev);
            return;
        }
        Ok(Ok(x)) => x,
    };
    report(ClientEvent::Handshake(view));
    let (tx, rx) = mpsc::channel(CLIENT_QUEUE);
    let _ = hub.send(FromClient::Joined { id, info, tx });

    let (sink, tap_rx) = TapSink::new(shared.dump_limit, Instant::now(), shared.dump.clone());
    sink.record(Direction::Incoming, &leftover);
    let stream: BoxStream = Box::new(Tap::new(stream, sink));
    let config = crate::session::ws_config(shared.max_message_size);
    let ws =
        WebSocketStream::from_partially_read(stream, leftover, Role::Server, Some(config)).await;
    let gone = Session {
        id,
        hub: &hub,
        tap: tap_rx,
    }
    .run(ws, rx, shared.echo)
    .await;
    report(ClientEvent::Gone(gone));
    let _ = hub.send(FromClient::Left(id));
}

/// The upgraded stream, bytes read after the request, and the `--max-clients` slot it holds.
type Opened<'a> = (BoxStream, Vec<u8>, ClientInfo, Box<HandshakeView>, Slot<'a>);

/// Why a client was not accepted: the handshake as far as it went, and the event that says why.
type NotOpened = (Option<Box<HandshakeView>>, ClientEvent);

/// TLS, then the request and our answer.
async fn handshake(
    tcp: TcpStream,
    peer: SocketAddr,
    shared: &Shared,
) -> Result<Opened<'_>, NotOpened> {
    let failed = |error: String| (None, ClientEvent::Failed { peer, error });
    let mut stream: BoxStream = match &shared.tls {
        Some(acceptor) => acceptor.accept(tcp).await.map_err(failed)?,
        None => Box::new(tcp),
    };
    let (req, leftover) = read_request(&mut stream).await.map_err(failed)?;
    let decision = decide(
        &req,
        &shared.policy,
        shared.connected.load(Ordering::Relaxed),
    );
    let (status, response, subprotocol, slot) = match &decision {
        Decision::Accept {
            response,
            subprotocol,
        } => {
            // No await between the check in `decide` and this: the slot cannot be taken twice.
            // It is given back on drop, also when the handshake times out from here on.
            shared.connected.fetch_add(1, Ordering::Relaxed);
            let slot = Slot(&shared.connected);
            (101, response.clone(), subprotocol.clone(), Some(slot))
        }
        Decision::Refuse {
            status, response, ..
        } => (*status, response.clone(), None, None),
    };
    let view = Box::new(HandshakeView {
        peer,
        tls: shared.tls.is_some(),
        request: req.text.clone(),
        response: response.clone(),
        offered_subprotocols: req.offered_protocols(),
        offered_extensions: req.offered_extensions(),
        origin: req.header("Origin").map(String::from),
        subprotocol: subprotocol.clone(),
        status,
    });
    let written = async {
        stream.write_all(response.as_bytes()).await?;
        stream.flush().await
    }
    .await;
    // Only an accepted decision holds a slot.
    let Some(slot) = slot else {
        let _ = stream.shutdown().await;
        let (status, reason) = match decision {
            Decision::Refuse { status, reason, .. } => (status, reason),
            Decision::Accept { .. } => (status, String::new()),
        };
        return Err((
            Some(view),
            ClientEvent::Refused {
                peer,
                status,
                reason,
            },
        ));
    };
    if let Err(e) = written {
        return Err((
            Some(view),
            ClientEvent::Failed {
                peer,
                error: format!("writing the 101 response failed: {e}"),
            },
        ));
    }
    let info = ClientInfo {
        peer,
        path: req.path.clone(),
        subprotocol,
        origin: view.origin.clone(),
        since: Instant::now(),
    };
    Ok((stream, leftover, info, view, slot))
}

/// The close code, close reason and message for a client that broke the protocol.
fn refusal(e: &WsError) -> (u16, &'static str, String) {
    match e {
        WsError::Utf8(_) => (
            1007,
            "invalid UTF-8",
            "the client sent a text message or close reason that is not valid UTF-8".into(),
        ),
        WsError::Capacity(c) => (
            1009,
            "message too big",
            format!("the client sent too much: {c} (--max-message-size)"),
        ),
        WsError::Protocol(p) => (
            1002,
            "protocol error",
            format!("the client broke the WebSocket protocol: {p}"),
        ),
        other => (
            1011,
            "internal error",
            format!("reading from the client failed: {other}"),
        ),
    }
}

fn close_message(code: u16, reason: &str) -> Message {
    Message::Close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
        code: code.into(),
        reason: reason.to_string().into(),
    }))
}

struct Session<'a> {
    id: u64,
    hub: &'a UnboundedSender<FromClient>,
    tap: UnboundedReceiver<TapEvent>,
}

impl Session<'_> {
    /// Report an event, after the frames the tap saw before it.
    fn report(&mut self, ev: ClientEvent) {
        while let Ok(f) = self.tap.try_recv() {
            let _ = self
                .hub
                .send(FromClient::Event(self.id, ClientEvent::Frame(f)));
        }
        let _ = self.hub.send(FromClient::Event(self.id, ev));
    }

    async fn run(
        &mut self,
        ws: WebSocketStream<BoxStream>,
        mut commands: mpsc::Receiver<Message>,
        echo: bool,
    ) -> Disconnect {
        let (mut sink, mut stream) = ws.split();
        let mut received: Option<(Option<u16>, String)> = None;
        let mut sent: Option<(u16, String, Instant)> = None;
        let mut hub_open = true;
        let gone = loop {
            let deadline = sent
                .as_ref()
                .map(|(_, _, at)| tokio::time::Instant::from_std(*at + CLOSE_TIMEOUT));
            tokio::select! {
                msg = stream.next() => {
                    // Handle what is already readable in one go, feeding the echoes and flushing
                    // once: a write per burst, not per message.
                    let mut next = Some(msg);
                    let mut handled = 0;
                    let mut fed = false;
                    let mut end = None;
                    while let Some(msg) = next.take() {
                        let reply = match self.on_read(msg, &mut received, &sent, echo) {
                            Ok(reply) => reply,
                            Err(gone) => {
                                end = Some(gone);
                                break;
                            }
                        };
                        if let Some(m) = reply {
                            if let Err(e) = self.feed(&mut sink, m, &mut sent).await {
                                self.report(ClientEvent::Error(format!("sending failed: {e}")));
                                end = Some(self.ended(&received, &sent, false));
                                break;
                            }
                            fed = true;
                        }
                        handled += 1;
                        if handled < READ_BURST && sent.is_none() && received.is_none() {
                            next = stream.next().now_or_never();
                            if next.is_none() {
                                // Only the nap before idling: with several clients, one
                                // client's stream must not hold the others' reads.
                                let _ = crate::coalesce::after_burst(handled);
                            }
                        }
                    }
                    if fed && end.is_none() {
                        if let Err(e) = sink.flush().await {
                            self.report(ClientEvent::Error(format!("sending failed: {e}")));
                            end = Some(self.ended(&received, &sent, false));
                        }
                    }
                    if let Some(gone) = end {
                        break gone;
                    }
                }
                Some(f) = self.tap.recv() => {
                    let _ = self.hub.send(FromClient::Event(self.id, ClientEvent::Frame(f)));
                }
                cmd = commands.recv(), if hub_open && sent.is_none() && received.is_none() => {
                    let Some(m) = cmd else {
                        hub_open = false;
                        continue;
                    };
                    if let Err(e) = self.send(&mut sink, m, &mut sent).await {
                        self.report(ClientEvent::Error(format!("sending failed: {e}")));
                        break self.ended(&received, &sent, false);
                    }
                }
                _ = tokio::time::sleep_until(deadline.unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(86400))), if deadline.is_some() => {
                    self.report(ClientEvent::Error(format!(
                        "no close frame from the client within {}",
                        crate::error::secs(CLOSE_TIMEOUT)
                    )));
                    break self.ended(&received, &sent, false);
                }
            }
        };
        let _ = sink.close().await;
        while let Ok(f) = self.tap.try_recv() {
            let _ = self
                .hub
                .send(FromClient::Event(self.id, ClientEvent::Frame(f)));
        }
        gone
    }

    /// What one read brought: a reply to send (the echo, or the close for a broken rule), or the
    /// end of the connection.
    fn on_read(
        &mut self,
        msg: Option<Result<Message, WsError>>,
        received: &mut Option<(Option<u16>, String)>,
        sent: &Option<(u16, String, Instant)>,
        echo: bool,
    ) -> Result<Option<Message>, Disconnect> {
        match msg {
            None => Err(self.ended(received, sent, true)),
            Some(Err(WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake))) => {
                Err(self.ended(received, sent, false))
            }
            Some(Err(WsError::ConnectionClosed | WsError::AlreadyClosed)) => {
                Err(self.ended(received, sent, true))
            }
            Some(Err(WsError::Io(e))) => {
                self.report(ClientEvent::Error(format!(
                    "reading from the client failed: {e}"
                )));
                Err(self.ended(received, sent, false))
            }
            Some(Err(e)) => {
                // The client broke a rule: say which, and close with the matching code.
                let (code, reason, why) = refusal(&e);
                self.report(ClientEvent::Error(why));
                if sent.is_some() || received.is_some() {
                    return Err(self.ended(received, sent, false));
                }
                Ok(Some(close_message(code, reason)))
            }
            Some(Ok(m)) => Ok(self.on_message(m, received, echo)),
        }
    }

    /// Report a message; returns what to send back (--echo).
    fn on_message(
        &mut self,
        m: Message,
        received: &mut Option<(Option<u16>, String)>,
        echo: bool,
    ) -> Option<Message> {
        match m {
            Message::Text(t) => {
                self.report(ClientEvent::Received(DataKind::Text, t.as_bytes().to_vec()));
                echo.then_some(Message::Text(t))
            }
            Message::Binary(b) => {
                self.report(ClientEvent::Received(DataKind::Binary, b.to_vec()));
                echo.then_some(Message::Binary(b))
            }
            Message::Ping(p) => {
                // tungstenite queues the pong itself and sends it with the next read or write.
                self.report(ClientEvent::PingReceived(p.to_vec()));
                None
            }
            Message::Pong(p) => {
                self.report(ClientEvent::PongReceived(p.to_vec()));
                None
            }
            Message::Close(f) => {
                let (code, reason) = match f {
                    Some(f) => (Some(u16::from(f.code)), f.reason.as_str().to_string()),
                    None => (None, String::new()),
                };
                self.report(ClientEvent::CloseReceived {
                    code,
                    reason: reason.clone(),
                });
                *received = Some((code, reason));
                None
            }
            Message::Frame(_) => None,
        }
    }

    /// Send one message now.
    async fn send<S>(
        &mut self,
        sink: &mut S,
        m: Message,
        sent: &mut Option<(u16, String, Instant)>,
    ) -> Result<(), WsError>
    where
        S: futures_util::Sink<Message, Error = WsError> + Unpin,
    {
        self.feed(sink, m, sent).await?;
        sink.flush().await
    }

    /// Queue one message; the caller flushes.
    async fn feed<S>(
        &mut self,
        sink: &mut S,
        m: Message,
        sent: &mut Option<(u16, String, Instant)>,
    ) -> Result<(), WsError>
    where
        S: futures_util::Sink<Message, Error = WsError> + Unpin,
    {
        let ev = match &m {
            Message::Text(t) => ClientEvent::Sent(DataKind::Text, t.as_bytes().to_vec()),
            Message::Binary(b) => ClientEvent::Sent(DataKind::Binary, b.to_vec()),
            Message::Ping(p) => ClientEvent::PingSent(p.to_vec()),
            Message::Pong(p) => ClientEvent::PongSent(p.to_vec()),
            Message::Close(f) => {
                let (code, reason) = f
                    .as_ref()
                    .map(|f| (u16::from(f.code), f.reason.as_str().to_string()))
                    .unwrap_or((1005, String::new()));
                *sent = Some((code, reason.clone(), Instant::now()));
                ClientEvent::CloseSent { code, reason }
            }
            Message::Frame(_) => return Ok(()),
        };
        sink.feed(m).await?;
        self.report(ev);
        Ok(())
    }

    fn ended(
        &self,
        received: &Option<(Option<u16>, String)>,
        sent: &Option<(u16, String, Instant)>,
        eof: bool,
    ) -> Disconnect {
        match (sent, received) {
            (Some((code, reason, _)), r) => Disconnect {
                closer: ClosedBy::Server,
                code: Some(*code),
                reason: reason.clone(),
                clean: eof && r.is_some(),
            },
            (None, Some((code, reason))) => Disconnect {
                closer: ClosedBy::Client,
                code: *code,
                reason: reason.clone(),
                clean: eof,
            },
            (None, None) => Disconnect {
                closer: ClosedBy::Nobody,
                code: None,
                reason: String::new(),
                clean: false,
            },
        }
    }
}
