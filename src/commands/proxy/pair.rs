//! One client's life in the proxy, in its own task: its request is read (TLS first for wss),
//! checked as `listen` checks it, the upstream is dialled with `handshake::open` (the same code
//! and options as `wscope URL`), and only when the upstream accepted does the client get its 101
//! (with the upstream's subprotocol); a refusal reaches it with the upstream's status, headers
//! and body. Then both connections run on the session engine, joined by [`super::relay`]. It
//! never prints: everything goes to the hub. A pair that fails ends its own task and nothing else.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Notify};

use super::forward;
use super::message::{tell, FromPair, HubTx, Link};
use super::relay::{HopSink, Relay, RELAY_BYTES};
use crate::commands::listen::tls::Acceptor;
use crate::dial::BoxStream;
use crate::event::{ClientEvent, ClientInfo, Hop, Stats};
use crate::handshake::accept::HANDSHAKE_TIMEOUT;
use crate::handshake::accept::{decide, read_request, ClientRequest, Decision, Policy};
use crate::script::matcher::Jq;
use crate::session::{self, Role};
use crate::target::Target;

/// Messages either hop's input queue holds, and their bytes.
const INPUT_QUEUE: usize = 1024;
const INPUT_BYTES: usize = 8 << 20;
/// Once one hop is over, the other gets this long to finish its close before it is cut.
const LINGER: Duration = Duration::from_secs(7);

/// What every pair shares, fixed at start-up but for the dump switch.
pub struct Shared {
    pub upstream: Target,
    pub fixed_path: bool,
    pub upgrade: crate::handshake::Options,
    pub policy: Policy,
    pub tls: Option<Acceptor>,
    /// Both hops' session options, but for their own layers (the client hop's role).
    pub session: session::Options,
    pub dump_limit: usize,
    pub dump: Arc<AtomicBool>,
    /// Pairs past their handshakes, for `--max-clients`.
    pub connected: AtomicUsize,
    /// `--record FILE`: each client's transcript goes to its own file (see [`record_path`]).
    pub record: Option<crate::record::Settings>,
    pub map_client: Option<Arc<Jq>>,
    pub map_server: Option<Arc<Jq>>,
    /// `--json`: every event is printed, the relayed sends too.
    pub json: bool,
}

/// Gives back the `--max-clients` slot when the pair ends, however it ends.
struct Slot<'a>(&'a AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Serve one client from accept to the end of both hops.
pub async fn run(id: u64, tcp: TcpStream, peer: SocketAddr, shared: Arc<Shared>, hub: HubTx) {
    let _ = tcp.set_nodelay(true);
    let failed = |error: String| {
        let ev = ClientEvent::Failed { peer, error };
        tell(&hub, FromPair::Event(id, Hop::Client, ev));
    };
    let (mut stream, req, leftover) =
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, request(tcp, &shared)).await {
            Err(_) => {
                let secs = crate::error::secs(HANDSHAKE_TIMEOUT);
                return failed(format!("no complete request within {secs}"));
            }
            Ok(Err(e)) => return failed(e),
            Ok(Ok(r)) => r,
        };
    // Refused here, as listen refuses it, before the upstream is bothered.
    let connected = shared.connected.load(Ordering::Relaxed);
    if let Decision::Refuse {
        status,
        reason,
        response,
    } = decide(&req, &any_subprotocol(&shared.policy, &req), connected)
    {
        let _ = write_all(&mut stream, response.as_bytes()).await;
        let view = view(peer, &shared, &req, &response, &None, None, status);
        tell(
            &hub,
            FromPair::Event(id, Hop::Client, ClientEvent::Handshake(view)),
        );
        let ev = ClientEvent::Refused {
            peer,
            status,
            reason,
        };
        return tell(&hub, FromPair::Event(id, Hop::Client, ev));
    }
    let slot = {
        shared.connected.fetch_add(1, Ordering::Relaxed);
        Slot(&shared.connected)
    };
    let target = forward::upstream_target(&shared.upstream, &req.path, shared.fixed_path);
    let options = forward::upstream_options(&shared.upgrade, &req);
    let (report, upgraded) = crate::handshake::open(&target, &options).await;
    tell(&hub, FromPair::Upstream(id, Box::new(report.clone())));
    let up = match upgraded {
        Ok(up) => up,
        Err(e) => return pass_refusal(id, peer, stream, &req, &report, e, &shared, &hub).await,
    };
    let client = Client {
        peer,
        req,
        leftover,
    };
    let Some(opened) = answer(stream, client, &report, &shared, id, &hub).await else {
        return;
    };
    relay_pair(id, opened, up, &report, &shared, &hub).await;
    drop(slot);
    tell(&hub, FromPair::Left(id));
}

/// TLS (wss), then the request head.
async fn request(
    tcp: TcpStream,
    shared: &Shared,
) -> Result<(BoxStream, ClientRequest, Vec<u8>), String> {
    let mut stream: BoxStream = match &shared.tls {
        Some(acceptor) => acceptor.accept_alpn(tcp).await?.0,
        None => Box::new(tcp),
    };
    let (req, leftover) = read_request(&mut stream).await?;
    Ok((stream, req, leftover))
}

/// The policy that checks a request before the upstream is asked: any subprotocol will do (the
/// upstream chooses).
fn any_subprotocol(policy: &Policy, req: &ClientRequest) -> Policy {
    Policy {
        subprotocols: req.offered_protocols(),
        ..policy.clone()
    }
}

async fn write_all(stream: &mut BoxStream, bytes: &[u8]) -> std::io::Result<()> {
    let written = tokio::time::timeout(HANDSHAKE_TIMEOUT, async {
        stream.write_all(bytes).await?;
        stream.flush().await
    })
    .await;
    written.unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
}

fn view(
    peer: SocketAddr,
    shared: &Shared,
    req: &ClientRequest,
    response: &str,
    subprotocol: &Option<String>,
    deflate: Option<crate::deflate::Agreed>,
    status: u16,
) -> Box<crate::handshake::accept::HandshakeView> {
    let tls = shared.tls.is_some();
    crate::commands::listen::client::view(peer, tls, req, response, subprotocol, deflate, status)
}

/// The upstream did not accept: the client gets its answer (or 502/504 when there was none).
#[allow(clippy::too_many_arguments)]
async fn pass_refusal(
    id: u64,
    peer: SocketAddr,
    mut stream: BoxStream,
    req: &ClientRequest,
    report: &crate::handshake::Report,
    e: crate::error::Error,
    shared: &Shared,
    hub: &HubTx,
) {
    let (bytes, status) = match &report.response {
        Some(r) if r.status != 101 => (forward::refusal(r), r.status),
        _ => {
            let timed_out = matches!(e, crate::error::Error::Timeout { .. });
            let bytes = forward::no_answer(timed_out, &e.to_string());
            (bytes, if timed_out { 504 } else { 502 })
        }
    };
    let _ = write_all(&mut stream, &bytes).await;
    let _ = stream.shutdown().await;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let v = view(peer, shared, req, &text, &None, None, status);
    tell(
        hub,
        FromPair::Event(id, Hop::Client, ClientEvent::Handshake(v)),
    );
    let reason = format!("the server did not accept: {e}");
    let ev = ClientEvent::Refused {
        peer,
        status,
        reason,
    };
    tell(hub, FromPair::Event(id, Hop::Client, ev));
}

/// The client as its request left it.
struct Client {
    peer: SocketAddr,
    req: ClientRequest,
    /// Bytes read behind the request (a client may send frames at once).
    leftover: Vec<u8>,
}

/// The client hop, open: its stream, the bytes behind its request, what was agreed.
struct Opened {
    stream: BoxStream,
    leftover: Vec<u8>,
    info: ClientInfo,
}

/// Answer the client with the upstream's subprotocol (and its cookies); permessage-deflate is
/// this hop's own, accepted when the upstream accepted the proxy's offer.
async fn answer(
    mut stream: BoxStream,
    client: Client,
    report: &crate::handshake::Report,
    shared: &Shared,
    id: u64,
    hub: &HubTx,
) -> Option<Opened> {
    let Client {
        peer,
        req,
        leftover,
    } = client;
    let req = &req;
    // Compression on the client hop only where the server's hop has it: the proxy does not
    // change whether the connection is compressed (each hop still settles its own parameters).
    let upstream_deflate = report.verdict.as_ref().is_some_and(|v| v.deflate.is_some());
    let mut policy = Policy {
        subprotocols: report.subprotocol().map(String::from).into_iter().collect(),
        require_subprotocol: false,
        max_clients: None,
        no_deflate: shared.policy.no_deflate || !upstream_deflate,
        ..shared.policy.clone()
    };
    if let Some(r) = &report.response {
        for c in r.headers.all("Set-Cookie") {
            policy.headers.push("Set-Cookie", c);
        }
    }
    let Decision::Accept {
        response,
        subprotocol,
        deflate,
    } = decide(req, &policy, 0)
    else {
        // Checked before dialling; a second look cannot refuse.
        return None;
    };
    let written = write_all(&mut stream, response.as_bytes()).await;
    let v = view(peer, shared, req, &response, &subprotocol, deflate, 101);
    let origin = v.origin.clone();
    tell(
        hub,
        FromPair::Event(id, Hop::Client, ClientEvent::Handshake(v)),
    );
    if let Err(e) = written {
        let error = format!("writing the 101 response failed: {e}");
        tell(
            hub,
            FromPair::Event(id, Hop::Client, ClientEvent::Failed { peer, error }),
        );
        return None;
    }
    Some(Opened {
        stream,
        leftover,
        info: ClientInfo {
            peer,
            path: req.path.clone(),
            subprotocol,
            origin,
            since: Instant::now(),
            deflate,
        },
    })
}

/// Both hops on the session engine, joined both ways, until both are over.
async fn relay_pair(
    id: u64,
    o: Opened,
    up: crate::handshake::Upgraded,
    report: &crate::handshake::Report,
    shared: &Shared,
    hub: &HubTx,
) {
    let (to_client, c_rx) = link();
    let (to_server, s_rx) = link();
    tell(
        hub,
        FromPair::Joined {
            id,
            info: o.info.clone(),
            upstream: report.url.clone(),
            to_client: to_client.clone(),
            to_server: to_server.clone(),
        },
    );
    let c = Hop::Client;
    let (c_ws, c_frames, c_opts) = stack(o.stream, o.leftover, o.info.deflate, c, shared).await;
    let s_agreed = report.verdict.as_ref().and_then(|v| v.deflate);
    let (s_ws, s_frames, s_opts) =
        stack(up.stream, up.leftover, s_agreed, Hop::Server, shared).await;
    let c_ext = o
        .info
        .deflate
        .map(|d| format!("permessage-deflate [{}]", d.describe()));
    let c_stats = Stats::new(
        o.info.path.clone(),
        o.info.subprotocol.clone(),
        c_ext.into_iter().collect(),
    );
    let s_stats = Stats::new(
        report.url.clone(),
        report.subprotocol().map(String::from),
        report.extensions(),
    );
    let (c2s_tx, c2s_rx) = crate::bounded::channel(RELAY_BYTES);
    let (s2c_tx, s2c_rx) = crate::bounded::channel(RELAY_BYTES);
    let mut c_sink = HopSink::new(id, Hop::Client, hub, c2s_tx);
    let mut s_sink = HopSink::new(id, Hop::Server, hub, s2c_tx);
    (c_sink.own_sends, s_sink.own_sends) = (shared.json, shared.json);
    let recorder = open_recorder(shared, id, report, hub);
    let ends = Ends::default();
    let client_side = async {
        let cut = tokio::select! {
            _ = session::run(c_ws, c_rx, c_frames, &mut c_sink, c_opts, c_stats) => false,
            () = ends.linger(Hop::Server) => true,
        };
        c_sink.end(if cut { "was cut off" } else { "ended" });
        ends.done(Hop::Client);
    };
    let server_side = async {
        let mut rec = crate::record::Recorded::new(&mut s_sink, recorder.clone());
        let cut = tokio::select! {
            _ = session::run(s_ws, s_rx, s_frames, &mut rec, s_opts, s_stats) => false,
            () = ends.linger(Hop::Client) => true,
        };
        drop(rec);
        s_sink.end(if cut { "was cut off" } else { "ended" });
        ends.done(Hop::Server);
    };
    let relay = |from: Hop, to: Link, map: &Option<Arc<Jq>>| Relay {
        id,
        from,
        to,
        map: map.clone(),
        hub: hub.clone(),
    };
    let c2s = relay(Hop::Client, to_server, &shared.map_client);
    let s2c = relay(Hop::Server, to_client, &shared.map_server);
    tokio::join!(client_side, server_side, c2s.run(c2s_rx), s2c.run(s2c_rx));
    if let Some(r) = recorder {
        if let Err(e) = r.finish().await {
            tell(hub, FromPair::Note(id, e.to_string()));
        }
    }
}

/// A hop's input queue and its byte budget.
fn link() -> (Link, mpsc::Receiver<crate::session::Input>) {
    let (tx, rx) = mpsc::channel(INPUT_QUEUE);
    let budget = crate::bounded::Budget::new(INPUT_BYTES);
    (Link { tx, budget }, rx)
}

type Stacked = (
    tokio_tungstenite::WebSocketStream<BoxStream>,
    Option<crate::wire::tap::TapReceiver>,
    session::Options,
);

/// One hop's layers (tap, inflater, guard) and its session's options: the client hop is the
/// server role, the upstream hop the client role, each with its own deflate.
async fn stack(
    stream: BoxStream,
    leftover: Vec<u8>,
    agreed: Option<crate::deflate::Agreed>,
    hop: Hop,
    shared: &Shared,
) -> Stacked {
    let role = match hop {
        Hop::Client => Role::Server,
        Hop::Server => Role::Client,
    };
    let link = agreed.map(|a| crate::deflate::Link::new(a, role));
    // The tap is always there: `/dump on` may switch the dump on at any time.
    let tapping = session::Tapping {
        limit: shared.dump_limit,
        enabled: shared.dump.clone(),
        h2: None,
    };
    let max = shared.session.max_message_size;
    let stacked = session::stack(stream, leftover, role, link.as_ref(), max, Some(tapping)).await;
    let opts = session::Options {
        role,
        wire: Some(stacked.wire),
        dump: Some(shared.dump.clone()),
        deflate: link,
        ..shared.session.clone()
    };
    (stacked.ws, stacked.frames, opts)
}

/// `--record`: this client's own transcript, of the upstream hop (a client's transcript: what
/// the client sent is `sent`, what the server said is `received`).
fn open_recorder(
    shared: &Shared,
    id: u64,
    report: &crate::handshake::Report,
    hub: &HubTx,
) -> Option<crate::record::Recorder> {
    let settings = shared.record.as_ref()?;
    let mine = crate::record::Settings {
        path: record_path(&settings.path, id),
        secrets: settings.secrets,
    };
    match crate::record::Recorder::open(Some(&mine)) {
        Ok(Some(mut r)) => {
            r.client_session(report);
            Some(r)
        }
        Ok(None) => None,
        Err(e) => {
            tell(hub, FromPair::Note(id, format!("not recorded: {e}")));
            None
        }
    }
}

/// Client `id`'s file: `s.jsonl` -> `s.3.jsonl` (`s` -> `s.3`).
pub fn record_path(path: &std::path::Path, id: u64) -> std::path::PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!("{stem}.{id}.{}", ext.to_string_lossy()),
        None => format!("{stem}.{id}"),
    };
    path.with_file_name(name)
}

/// Which hops are over, for the other to know when to give up on its close.
#[derive(Default)]
struct Ends {
    client: AtomicBool,
    server: AtomicBool,
    notify: Notify,
}

impl Ends {
    fn flag(&self, hop: Hop) -> &AtomicBool {
        match hop {
            Hop::Client => &self.client,
            Hop::Server => &self.server,
        }
    }

    fn done(&self, hop: Hop) {
        self.flag(hop).store(true, Ordering::Release);
        self.notify.notify_waiters();
    }

    /// Resolves [`LINGER`] after `other` is over.
    async fn linger(&self, other: Hop) {
        loop {
            let woken = self.notify.notified();
            if self.flag(other).load(Ordering::Acquire) {
                break;
            }
            woken.await;
        }
        tokio::time::sleep(LINGER).await;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_client_records_to_its_own_file() {
        let p = std::path::Path::new("/tmp/x/s.jsonl");
        assert_eq!(
            super::record_path(p, 3),
            std::path::Path::new("/tmp/x/s.3.jsonl")
        );
        let p = std::path::Path::new("rec");
        assert_eq!(super::record_path(p, 12), std::path::Path::new("rec.12"));
    }
}
