//! `listen --http2`: RFC 8441 beside HTTP/1.1 on the same port. A plain connection that opens
//! with the HTTP/2 preface (h2c prior knowledge, [`super::preface::sniff_preface`]) or a TLS one whose ALPN chose
//! `h2` is served by the `h2` crate's server, advertising SETTINGS_ENABLE_CONNECT_PROTOCOL. Each
//! stream is decided by `handshake::accept_h2` (a 4xx with a body for anything but `CONNECT
//! :protocol websocket`) and, accepted, becomes a client of its own id on the same session engine
//! as an HTTP/1.1 client ([`super::client::session`]), over `dial::h2stream::H2Stream`.
//! Bounded: streams per connection, header list size, the wait for a first (and a next) stream.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use h2::server::SendResponse;
use h2::RecvStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::client::{answer, refusal, session, view, Answer, Shared};
use super::message::{tell, FromClient, HubTx};
use crate::dial::h2stream::H2Stream;
use crate::dial::BoxStream;
use crate::event::{ClientEvent, ClientInfo};
use crate::handshake::accept::{ClientRequest, HANDSHAKE_TIMEOUT};
use crate::handshake::accept_h2;

/// WebSockets one HTTP/2 connection may carry at once.
const MAX_STREAMS: u32 = 128;
/// The largest header list a stream may send (the HTTP/1.1 head limit's order).
const MAX_HEADER_LIST: u32 = 16 << 10;
/// How long an HTTP/2 connection with no stream open may stay.
const IDLE: Duration = HANDSHAKE_TIMEOUT;
/// After its session, how long a stream waits for the client to end its side, so the close
/// frame queued in h2 is sent rather than dropped by a reset.
const LINGER: Duration = Duration::from_secs(2);

/// One connection's streams, facts shared by each stream's task.
struct Conn {
    peer: SocketAddr,
    tls: bool,
    shared: Arc<Shared>,
    hub: HubTx,
    /// Streams with a task running, for the idle deadline.
    open: Arc<AtomicUsize>,
}

/// Serve one HTTP/2 connection: its first stream is client `id`, later ones get fresh ids.
pub(super) async fn serve(
    id: u64,
    stream: BoxStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    hub: HubTx,
) {
    let failed = |error: String| {
        tell(
            &hub,
            FromClient::Event(id, ClientEvent::Failed { peer, error }),
        )
    };
    let mut b = h2::server::Builder::new();
    b.enable_connect_protocol()
        .max_concurrent_streams(MAX_STREAMS)
        .max_header_list_size(MAX_HEADER_LIST);
    let mut conn = match tokio::time::timeout(HANDSHAKE_TIMEOUT, b.handshake(stream)).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return failed(format!("HTTP/2 connection preface failed: {e}")),
        Err(_) => {
            let after = crate::error::secs(HANDSHAKE_TIMEOUT);
            return failed(format!("no HTTP/2 SETTINGS exchange within {after}"));
        }
    };
    let c = Arc::new(Conn {
        peer,
        tls: shared.tls.is_some(),
        shared,
        hub: hub.clone(),
        open: Arc::default(),
    });
    let mut first = Some(id);
    loop {
        // The connection makes progress only while accept is polled: every stream's bytes too.
        let next = match c.open.load(Ordering::Relaxed) {
            0 => match tokio::time::timeout(IDLE, conn.accept()).await {
                Ok(next) => next,
                Err(_) => {
                    if first.is_some() {
                        let after = crate::error::secs(IDLE);
                        failed(format!("no HTTP/2 stream opened within {after}"));
                    }
                    return;
                }
            },
            _ => conn.accept().await,
        };
        match next {
            Some(Ok((req, respond))) => {
                let id = first.take().unwrap_or_else(|| c.shared.next_id());
                c.open.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(stream_task(id, req, respond, c.clone()));
            }
            Some(Err(e)) => {
                if first.is_some() {
                    failed(format!("HTTP/2 connection failed: {e}"));
                }
                return;
            }
            None => return,
        }
    }
}

/// One stream: decide it, answer, and run its session (or say why it was refused).
async fn stream_task(
    id: u64,
    req: http::Request<RecvStream>,
    mut respond: SendResponse<Bytes>,
    c: Arc<Conn>,
) {
    let _open = Open(c.open.clone());
    let report = |ev: ClientEvent| tell(&c.hub, FromClient::Event(id, ev));
    let (parts, recv) = req.into_parts();
    let protocol = parts
        .extensions
        .get::<h2::ext::Protocol>()
        .map(|p| p.as_str().to_string());
    let creq = client_request(&parts, protocol.as_deref(), c.tls);
    let shared = &c.shared;
    let decided = accept_h2::decide(
        &creq,
        protocol.as_deref(),
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
    } = answer(&decided.decision, &shared.connected);
    // Over HTTP/2 a 200 accepts (the shared answer says 101, HTTP/1.1's).
    let status = if slot.is_some() { 200 } else { status };
    let shown = view(
        c.peer,
        c.tls,
        &creq,
        &response,
        &subprotocol,
        deflate,
        status,
    );
    let head = head(status, &decided.fields);
    let Some(slot) = slot else {
        if let Ok(mut send) = respond.send_response(head, false) {
            let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
            let _ = send.send_data(Bytes::copy_from_slice(body.as_bytes()), true);
        }
        let (v, ev) = refusal(decided.decision, status, shown, c.peer);
        if let Some(v) = v {
            report(ClientEvent::Handshake(v));
        }
        return report(ev);
    };
    let send = match respond.send_response(head, false) {
        Ok(send) => send,
        Err(e) => {
            report(ClientEvent::Handshake(shown));
            let error = format!("sending the HTTP/2 200 response failed: {e}");
            return report(ClientEvent::Failed {
                peer: c.peer,
                error,
            });
        }
    };
    let info = ClientInfo {
        peer: c.peer,
        path: creq.path.clone(),
        subprotocol,
        origin: shown.origin.clone(),
        since: Instant::now(),
        deflate,
    };
    let stream = Lingering(Some(H2Stream::new(send, recv)));
    let opened = (Box::new(stream) as BoxStream, Vec::new(), info, shown, slot);
    session(id, opened, shared, &c.hub).await;
}

/// Counts a stream task in [`Conn::open`] while it runs.
struct Open(Arc<AtomicUsize>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The request as the listen engine reads one: the pseudo-headers then the headers, as text for
/// `-v`, the method, the path, and the headers for the policy checks.
fn client_request(
    parts: &http::request::Parts,
    protocol: Option<&str>,
    tls: bool,
) -> ClientRequest {
    let path = parts
        .uri
        .path_and_query()
        .map_or_else(|| "/".to_string(), |p| p.to_string());
    let scheme = parts
        .uri
        .scheme_str()
        .unwrap_or(if tls { "https" } else { "http" });
    let mut fields = vec![
        (":method".to_string(), parts.method.to_string()),
        (":protocol".into(), protocol.unwrap_or("(none)").to_string()),
        (":scheme".into(), scheme.to_string()),
        (":path".into(), path.clone()),
        (
            ":authority".into(),
            parts.uri.authority().map_or("", |a| a.as_str()).to_string(),
        ),
    ];
    let mut headers = crate::http::Headers::new();
    for (n, v) in &parts.headers {
        let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
        fields.push((n.to_string(), v.clone()));
        headers.push(n.as_str(), v);
    }
    let mut text = String::new();
    let mut raw = Vec::new();
    for (n, v) in &fields {
        text.push_str(&format!("{n}: {v}\r\n"));
        raw.extend_from_slice(format!("{n}: ").as_bytes());
        raw.extend_from_slice(v.as_bytes());
        raw.extend_from_slice(b"\r\n");
    }
    text.push_str("\r\n");
    raw.extend_from_slice(b"\r\n");
    ClientRequest {
        text,
        raw,
        method: parts.method.to_string(),
        path,
        minor_version: 1,
        headers,
    }
}

/// The response head: the status and the decided fields (checked values; one that is not a
/// valid field is left out rather than failing the stream).
fn head(status: u16, fields: &[(String, String)]) -> http::Response<()> {
    let mut r = http::Response::new(());
    *r.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::BAD_REQUEST);
    for (n, v) in fields {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(n.as_bytes()),
            http::HeaderValue::from_str(v),
        ) {
            r.headers_mut().append(n, v);
        }
    }
    r
}

/// The stream a session runs on; when the session lets go of it, our side is ended and the
/// stream is kept a little while for the client to end its side (dropping it at once would
/// reset it, and the close frame still queued in h2 would be lost).
struct Lingering(Option<H2Stream>);

impl Drop for Lingering {
    fn drop(&mut self) {
        let Some(mut s) = self.0.take() else { return };
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        rt.spawn(async move {
            use tokio::io::AsyncWriteExt;
            let _ = s.shutdown().await;
            let _ = tokio::time::timeout(LINGER, s.peer_ended()).await;
        });
    }
}

impl AsyncRead for Lingering {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.0.as_mut() {
            Some(s) => Pin::new(s).poll_read(cx, buf),
            None => Poll::Ready(Ok(())),
        }
    }
}

impl AsyncWrite for Lingering {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.0.as_mut() {
            Some(s) => Pin::new(s).poll_write(cx, buf),
            None => Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
        }
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.0.as_mut() {
            Some(s) => Pin::new(s).poll_flush(cx),
            None => Poll::Ready(Ok(())),
        }
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.0.as_mut() {
            Some(s) => Pin::new(s).poll_shutdown(cx),
            None => Poll::Ready(Ok(())),
        }
    }
}
