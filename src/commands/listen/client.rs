//! One client's life, in its own task: TLS (wss), the opening handshake (decided by
//! `handshake::accept`), then the same session engine as `wscope URL` runs the connection in the
//! server role (echo, commands from the hub, limits, the close handshake). It never prints: its
//! events go to the hub, which owns the printer, through a queue bounded in bytes. A client
//! that misbehaves ends its own task and nothing else.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::message::{tell, FromClient, HubTx};
use super::tls::Acceptor;
use crate::handshake::accept::{decide, read_request, Decision, Policy, HANDSHAKE_TIMEOUT};

use crate::dial::BoxStream;
use crate::event::{ClientEvent, ClientInfo, Event, EventSink, OwnedEvent, Stats};
use crate::handshake::accept::HandshakeView;
use crate::session::{self, Role};

/// Commands the hub may queue for one client; their bytes are bounded by [`CLIENT_QUEUE_BYTES`].
pub const CLIENT_QUEUE: usize = 1024;
/// Bytes of messages the hub may queue for one client before it counts as not reading.
pub const CLIENT_QUEUE_BYTES: usize = 8 << 20;

/// What every client task shares, fixed at start-up but for the switches.
pub struct Shared {
    pub policy: Policy,
    pub tls: Option<Acceptor>,
    /// Every client's session options (`config::session::server`), but for its own layers.
    pub session: session::Options,
    pub dump_limit: usize,
    /// `--dump`, toggled by `/dump on|off`.
    pub dump: Arc<AtomicBool>,
    /// Clients past their handshake, for `--max-clients`.
    pub connected: AtomicUsize,
    /// `--record`: every client's handshake and events go to the transcript.
    pub record: Option<crate::record::Recorder>,
    /// `--replay`: the recorded answers each client gets.
    pub replay: Option<Arc<crate::commands::replay::mock::Answers>>,
    /// `--http2`: RFC 8441 streams beside HTTP/1.1 (see [`super::h2`]).
    pub http2: bool,
    /// The last client id given out; each HTTP/2 stream is a client of its own.
    pub last_id: std::sync::atomic::AtomicU64,
}

impl Shared {
    /// A fresh client id.
    pub fn next_id(&self) -> u64 {
        self.last_id.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// The session's events, on their way to the hub. Reads stop while the hub is behind.
struct HubSink<'a> {
    id: u64,
    hub: &'a HubTx,
}

impl EventSink for HubSink<'_> {
    fn event(&mut self, ev: Event<'_>) {
        tell(
            self.hub,
            FromClient::Event(self.id, ClientEvent::Session(OwnedEvent::new(&ev))),
        );
    }
    fn flush(&mut self) {}
    fn dirty(&self) -> bool {
        false
    }
    fn broken(&self) -> bool {
        false
    }
    fn backlogged(&self) -> bool {
        self.hub.full()
    }
}

/// Gives back the `--max-clients` slot when the client task ends, however it ends.
pub(super) struct Slot<'a>(&'a AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// An accepted client's session, from its handshake to its end, over HTTP/1.1 or one HTTP/2
/// stream alike.
pub(super) async fn session(id: u64, opened: Opened<'_>, shared: &Shared, hub: &HubTx) {
    let report = |ev: ClientEvent| tell(hub, FromClient::Event(id, ev));
    let (stream, leftover, info, view, _slot) = opened;
    let extensions = view.extension.iter().cloned().collect();
    let recorder = shared.record.as_ref().map(|r| r.for_client(id));
    if let Some(r) = &recorder {
        r.handshake(&view, &info.path);
    }
    report(ClientEvent::Handshake(view));
    let (tx, rx) = mpsc::channel(CLIENT_QUEUE);
    let budget = crate::bounded::Budget::new(CLIENT_QUEUE_BYTES);
    let heard = shared.replay.as_ref().map(|answers| {
        crate::commands::replay::mock::start(answers.clone(), tx.clone(), budget.clone())
    });
    let stats = Stats::new(info.path.clone(), info.subprotocol.clone(), extensions);
    let link = info
        .deflate
        .map(|agreed| crate::deflate::Link::new(agreed, Role::Server));
    tell(
        hub,
        FromClient::Joined {
            id,
            info,
            tx,
            budget,
        },
    );

    // The tap is always there: `/dump on` may switch the dump on at any time.
    let tapping = session::Tapping {
        limit: shared.dump_limit,
        enabled: shared.dump.clone(),
        h2: None,
    };
    let stacked = session::stack(
        stream,
        leftover,
        Role::Server,
        link.as_ref(),
        shared.session.max_message_size,
        Some(tapping),
    )
    .await;
    let (ws, frames, wire) = (stacked.ws, stacked.frames, stacked.wire);
    let opts = server_options(shared, wire, link);
    let mut hub_sink = HubSink { id, hub };
    let mut heard = crate::event::Observed {
        inner: &mut hub_sink,
        look: |ev: &crate::event::Event<'_>| crate::commands::replay::mock::heard(&heard, ev),
    };
    let mut sink = crate::record::Recorded::new(&mut heard, recorder);
    // The session reports its own ending and error (Event::Closed, Event::Failed).
    let _ = session::run(ws, rx, frames, &mut sink, opts, stats).await;
    tell(hub, FromClient::Left(id));
}

/// The handshake within its deadline; a failure is reported (with the handshake as far as it
/// went) and gives None.
pub(super) async fn open<'a>(
    tcp: TcpStream,
    peer: SocketAddr,
    shared: &'a Shared,
    report: &impl Fn(ClientEvent),
) -> Option<Handshaken<'a>> {
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake(tcp, peer, shared)).await {
        Err(_) => {
            report(ClientEvent::Failed {
                peer,
                error: format!(
                    "no complete handshake within {}",
                    crate::error::secs(HANDSHAKE_TIMEOUT)
                ),
            });
            None
        }
        Ok(Err((view, ev))) => {
            if let Some(view) = view {
                report(ClientEvent::Handshake(view));
            }
            report(ev);
            None
        }
        Ok(Ok(opened)) => Some(opened),
    }
}

/// The session's options for a client: the configured ones, with this connection's layers.
fn server_options(
    shared: &Shared,
    wire: crate::wire::guard::WireFacts,
    link: Option<crate::deflate::Link>,
) -> session::Options {
    session::Options {
        wire: Some(wire),
        dump: Some(shared.dump.clone()),
        deflate: link,
        ..shared.session.clone()
    }
}

/// The upgraded stream, bytes read after the request, and the `--max-clients` slot it holds.
pub(super) type Opened<'a> = (BoxStream, Vec<u8>, ClientInfo, Box<HandshakeView>, Slot<'a>);

/// What a connection turned out to be: an accepted HTTP/1.1 upgrade, or (`--http2`) an HTTP/2
/// connection whose streams are decided one by one.
pub(super) enum Handshaken<'a> {
    Http1(Opened<'a>),
    Http2(BoxStream),
}

/// Why a client was not accepted: the handshake as far as it went, and the event that says why.
pub(super) type NotOpened = (Option<Box<HandshakeView>>, ClientEvent);

/// The handshake as `-v` shows it and `--record` writes it (also proxy's client hop).
pub(crate) fn view(
    peer: SocketAddr,
    tls: bool,
    req: &crate::handshake::accept::ClientRequest,
    response: &str,
    subprotocol: &Option<String>,
    deflate: Option<crate::deflate::Agreed>,
    status: u16,
) -> Box<HandshakeView> {
    Box::new(HandshakeView {
        peer,
        tls,
        request: req.text.clone(),
        request_raw: req.raw.clone(),
        headers: req.headers.clone(),
        response: response.to_string(),
        offered_subprotocols: req.offered_protocols(),
        offered_extensions: req.offered_extensions(),
        origin: req.header("Origin").map(String::from),
        subprotocol: subprotocol.clone(),
        extension: deflate.map(|d| format!("permessage-deflate [{}]", d.describe())),
        status,
    })
}

/// What a decision answers with, and for an accept the connection slot it takes.
pub(super) struct Answer<'a> {
    pub(super) status: u16,
    pub(super) response: String,
    pub(super) subprotocol: Option<String>,
    pub(super) deflate: Option<crate::deflate::Agreed>,
    pub(super) slot: Option<Slot<'a>>,
}

/// The answer to `decision`. An accept takes a slot of `connected`, given back on drop, also
/// when the handshake times out from here on.
pub(super) fn answer<'a>(decision: &Decision, connected: &'a AtomicUsize) -> Answer<'a> {
    match decision {
        Decision::Accept {
            response,
            subprotocol,
            deflate,
        } => {
            connected.fetch_add(1, Ordering::Relaxed);
            Answer {
                status: 101,
                response: response.clone(),
                subprotocol: subprotocol.clone(),
                deflate: *deflate,
                slot: Some(Slot(connected)),
            }
        }
        Decision::Refuse {
            status, response, ..
        } => Answer {
            status: *status,
            response: response.clone(),
            subprotocol: None,
            deflate: None,
            slot: None,
        },
    }
}

/// The event for a client we refused (the refusal was written, or its writing failed).
pub(super) fn refusal(
    decision: Decision,
    status: u16,
    view: Box<HandshakeView>,
    peer: SocketAddr,
) -> NotOpened {
    let (status, reason) = match decision {
        Decision::Refuse { status, reason, .. } => (status, reason),
        Decision::Accept { .. } => (status, String::new()),
    };
    (
        Some(view),
        ClientEvent::Refused {
            peer,
            status,
            reason,
        },
    )
}

/// TLS, then the request and our answer; with `--http2`, an HTTP/2 connection (ALPN h2, or the
/// h2c preface on a plain connection) is handed back as it is.
async fn handshake(
    tcp: TcpStream,
    peer: SocketAddr,
    shared: &Shared,
) -> Result<Handshaken<'_>, NotOpened> {
    let failed = |error: String| (None, ClientEvent::Failed { peer, error });
    let (mut stream, alpn_h2): (BoxStream, bool) = match &shared.tls {
        Some(acceptor) => acceptor.accept_alpn(tcp).await.map_err(failed)?,
        None => (Box::new(tcp), false),
    };
    if alpn_h2 {
        return Ok(Handshaken::Http2(stream));
    }
    if shared.http2 && shared.tls.is_none() {
        let (preface, seen) = super::preface::sniff_preface(&mut stream)
            .await
            .map_err(failed)?;
        stream = Box::new(super::preface::Prefixed::new(seen, stream));
        if preface {
            return Ok(Handshaken::Http2(stream));
        }
    }
    upgrade(stream, peer, shared).await.map(Handshaken::Http1)
}

/// The HTTP/1.1 upgrade request and our answer.
async fn upgrade(
    mut stream: BoxStream,
    peer: SocketAddr,
    shared: &Shared,
) -> Result<Opened<'_>, NotOpened> {
    let failed = |error: String| (None, ClientEvent::Failed { peer, error });
    let (req, leftover) = read_request(&mut stream).await.map_err(failed)?;
    let decision = decide(
        &req,
        &shared.policy,
        shared.connected.load(Ordering::Relaxed),
    );
    // No await between the check in `decide` and this: the slot cannot be taken twice.
    let Answer {
        status,
        response,
        subprotocol,
        deflate,
        slot,
    } = answer(&decision, &shared.connected);
    let view = view(
        peer,
        shared.tls.is_some(),
        &req,
        &response,
        &subprotocol,
        deflate,
        status,
    );
    let written = async {
        stream.write_all(response.as_bytes()).await?;
        stream.flush().await
    }
    .await;
    // Only an accepted decision holds a slot.
    let Some(slot) = slot else {
        let _ = stream.shutdown().await;
        return Err(refusal(decision, status, view, peer));
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
        deflate,
    };
    Ok((stream, leftover, info, view, slot))
}
