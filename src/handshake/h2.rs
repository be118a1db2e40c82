//! The RFC 8441 upgrade: HTTP/2 over the dialed stream (ALPN h2, or h2c with prior knowledge),
//! the server's SETTINGS read, and one extended CONNECT stream (`:protocol websocket`) opened and
//! handed back as an [`Upgraded`] over [`crate::dial::h2stream::H2Stream`]. What it learns goes
//! into the report's [`H2View`]; when the server cannot do it, [`Refusal::Fallback`] says why so
//! the caller can fall back to HTTP/1.1 (or stop with `--http2-only`).

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::timeout_at;

use super::checks::{self, AcceptCheck, CheckName, Negotiation, Outcome, Verdict};
use super::{request, Upgraded};
use crate::dial::h2stream::H2Stream;
use crate::dial::BoxStream;
use crate::error::{Error, Result};
use crate::http::{list, Headers};
use crate::target::Target;
use crate::wire::frame::Direction;
use crate::wire::h2dump::H2Dump;

/// What the HTTP/2 upgrade showed, for `-v` and inspect.
#[derive(Debug, Clone, Default, Serialize)]
pub struct H2View {
    /// The server's first SETTINGS frame, in order: (name, value).
    pub settings: Vec<(String, u32)>,
    /// The request's pseudo-headers then headers, as sent.
    pub request: Vec<(String, String)>,
    pub status: Option<u16>,
    pub response: Vec<(String, String)>,
    /// The preface and the SETTINGS exchange (until the server's SETTINGS and our PING's answer).
    #[serde(serialize_with = "crate::dial::ms_opt")]
    pub preface: Option<Duration>,
    /// The CONNECT request and its response headers.
    #[serde(serialize_with = "crate::dial::ms_opt")]
    pub exchange: Option<Duration>,
    /// A refusal's body (lossy UTF-8) and whether it was cut short.
    #[serde(skip)]
    pub body: Option<(String, bool)>,
}

/// Why HTTP/2 was not used.
pub enum Refusal {
    /// The server cannot do RFC 8441: fall back to HTTP/1.1 (the reason, in words).
    Fallback(String),
    Failed(Error),
}

impl From<Error> for Refusal {
    fn from(e: Error) -> Refusal {
        Refusal::Failed(e)
    }
}

/// The largest response header list we take (the HTTP/1.1 head limit's order): a bigger one
/// fails the stream, not our memory.
const MAX_HEADER_LIST: u32 = 64 << 10;

fn setting_name(id: u16) -> String {
    match id {
        1 => "HEADER_TABLE_SIZE".into(),
        2 => "ENABLE_PUSH".into(),
        3 => "MAX_CONCURRENT_STREAMS".into(),
        4 => "INITIAL_WINDOW_SIZE".into(),
        5 => "MAX_FRAME_SIZE".into(),
        6 => "MAX_HEADER_LIST_SIZE".into(),
        8 => "ENABLE_CONNECT_PROTOCOL".into(),
        9 => "NO_RFC7540_PRIORITIES".into(),
        n => format!("0x{n:x}"),
    }
}

/// The server's settings by name, plus the ones that matter here and it left at their defaults
/// (RFC 9113 §6.5.2; MAX_CONCURRENT_STREAMS has none: unlimited, shown as u32::MAX).
fn with_defaults(sent: Vec<(u16, u32)>) -> Vec<(String, u32)> {
    let mut out: Vec<(String, u32)> = sent.iter().map(|(id, v)| (setting_name(*id), *v)).collect();
    for (id, default) in [(3u16, u32::MAX), (4, 65_535), (8, 0)] {
        if !sent.iter().any(|(i, _)| *i == id) {
            out.push((format!("{} (default)", setting_name(id)), default));
        }
    }
    out
}

/// What the server's bytes showed, read beneath h2 by [`crate::http2::Reader`]: its first
/// SETTINGS, an HTTP/1.x answer to our preface (the h2c fallback signal), its GOAWAY.
#[derive(Default)]
pub struct Seen {
    reader: crate::http2::Reader,
    first: bool,
    settings: Option<Vec<(u16, u32)>>,
    http1: bool,
    /// The error code of the server's last GOAWAY.
    goaway: Option<u32>,
}

impl Seen {
    fn feed(&mut self, data: &[u8]) {
        if !self.first && !data.is_empty() {
            self.first = true;
            self.http1 = data.starts_with(b"HTTP/1.");
        }
        if self.http1 {
            return;
        }
        let (settings, goaway) = (&mut self.settings, &mut self.goaway);
        self.reader.feed(data, &mut |f| match f.header.kind {
            4 if f.header.flags & 1 == 0 && settings.is_none() => *settings = Some(f.settings()),
            7 => *goaway = f.error_code(),
            _ => {}
        });
    }

    /// Why the connection ended, when the server said (a GOAWAY), in words.
    pub fn why_ended(&self) -> Option<String> {
        self.goaway.map(|code| {
            format!(
                "the server sent GOAWAY ({})",
                crate::http2::error_name(code)
            )
        })
    }
}

/// Reads pass through unchanged; the frames are followed (headers only) in [`Seen`], and with
/// `--dump-h2` both ways in an [`H2Dump`] (whose full queue pauses reads, as the tap's does).
struct Sniffer {
    inner: BoxStream,
    seen: Arc<Mutex<Seen>>,
    dump: Option<H2Dump>,
}

impl AsyncRead for Sniffer {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        if self.dump.as_ref().is_some_and(|d| d.paused(cx)) {
            return Poll::Pending;
        }
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = r {
            let new = &buf.filled()[before..];
            if let Ok(mut seen) = self.seen.lock() {
                seen.feed(new);
            }
            if let Some(d) = &self.dump {
                d.feed(Direction::Incoming, new);
            }
        }
        r
    }
}

impl AsyncWrite for Sniffer {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let (Poll::Ready(Ok(n)), Some(d)) = (&r, &self.dump) {
            d.feed(Direction::Outgoing, buf.get(..*n).unwrap_or_default());
        }
        r
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The CONNECT request's header fields (pseudo-headers first), from the HTTP/1.1 request's: the
/// fields RFC 8441 §5 drops (Host, Upgrade, Connection, the key) left out.
fn fields(target: &Target, req: &request::Request) -> Vec<(String, String)> {
    let scheme = if target.secure { "https" } else { "http" };
    let mut out = vec![
        (":method".to_string(), "CONNECT".to_string()),
        (":protocol".into(), "websocket".into()),
        (":scheme".into(), scheme.into()),
        (":path".into(), target.resource.clone()),
        (":authority".into(), target.host_header.clone()),
    ];
    const DROPPED: [&str; 4] = ["host", "upgrade", "connection", "sec-websocket-key"];
    for (n, v) in req.headers.iter() {
        let name = n.to_ascii_lowercase();
        if !DROPPED.contains(&name.as_str()) {
            out.push((name, v.to_string()));
        }
    }
    out
}

fn build_request(fields: &[(String, String)]) -> Result<http::Request<()>> {
    let bad = |e: &dyn std::fmt::Display| {
        Error::usage_hint(
            format!("cannot make the HTTP/2 CONNECT request: {e}"),
            "check -H and the URL, or leave out --http2",
        )
    };
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let uri = http::Uri::builder()
        .scheme(get(":scheme").unwrap_or("http"))
        .authority(get(":authority").unwrap_or_default())
        .path_and_query(get(":path").unwrap_or("/"))
        .build()
        .map_err(|e| bad(&e))?;
    let mut b = http::Request::builder()
        .method(http::Method::CONNECT)
        .uri(uri);
    for (n, v) in fields.iter().filter(|(n, _)| !n.starts_with(':')) {
        b = b.header(n.as_str(), v.as_str());
    }
    let mut r = b.body(()).map_err(|e| bad(&e))?;
    r.extensions_mut()
        .insert(h2::ext::Protocol::from_static("websocket"));
    Ok(r)
}

fn failed(what: &str, e: h2::Error) -> Error {
    Error::Handshake {
        message: format!("HTTP/2 {what}: {e}"),
        hint: Some("retry without --http2-only to fall back to HTTP/1.1".into()),
    }
}

/// Speak HTTP/2 on `stream` and open the WebSocket stream. The view is filled as far as it got.
/// From `args`: the timeout, a shared connection's slot, and `--dump-h2`.
pub async fn open(
    stream: BoxStream,
    target: &Target,
    req: &request::Request,
    view: &mut H2View,
    deadline: tokio::time::Instant,
    args: &super::Options,
) -> std::result::Result<(Upgraded, Headers), Refusal> {
    let (timeout, share) = (args.connect_timeout, args.h2_slot.as_deref());
    let dump = args.dump_h2.then(H2Dump::default);
    let timed_out = |what| Error::Timeout {
        what,
        after: timeout,
    };
    let seen = Arc::new(Mutex::new(Seen::default()));
    let sniffer = Sniffer {
        inner: stream,
        seen: seen.clone(),
        dump: dump.clone(),
    };
    let start = Instant::now();
    let mut builder = h2::client::Builder::new();
    builder.max_header_list_size(MAX_HEADER_LIST);
    if share.is_some() {
        // Many WebSockets on this connection (bench --h2-connections): each may have a small
        // DATA frame buffered at once. h2's default budget for those (~32 KiB of framing
        // overhead, some 170 frames) closed the connection with ENHANCE_YOUR_CALM under 300.
        builder
            .initial_connection_window_size(crate::dial::h2mux::SHARED_WINDOW)
            .data_frame_budget(crate::dial::h2mux::SHARED_FRAME_BUDGET);
    }
    let handshake = builder.handshake::<_, Bytes>(sniffer);
    let (send, mut conn) = timeout_at(deadline, handshake)
        .await
        .map_err(|_| timed_out("the HTTP/2 preface"))?
        .map_err(|e| failed("preface", e))?;
    let mut ping = conn.ping_pong();
    tokio::spawn(async move {
        let _ = conn.await;
    });
    // The server's SETTINGS come first on the connection: once our PING is answered they were read.
    let pong = async {
        match ping.as_mut() {
            Some(p) => p.ping(h2::Ping::opaque()).await.map(|_| ()),
            None => Ok(()),
        }
    };
    let pong = timeout_at(deadline, pong)
        .await
        .map_err(|_| timed_out("the server's HTTP/2 SETTINGS"))?;
    view.preface = Some(start.elapsed());
    let (settings, http1) = match seen.lock() {
        Ok(s) => (s.settings.clone(), s.http1),
        Err(_) => (None, false),
    };
    if http1 {
        return Err(Refusal::Fallback(
            "the server answered the h2c preface with HTTP/1.1 (it does not speak HTTP/2 without TLS)"
                .into(),
        ));
    }
    if let Err(e) = pong {
        return Err(Refusal::Fallback(format!(
            "the server did not complete the HTTP/2 SETTINGS exchange ({e})"
        )));
    }
    view.settings = with_defaults(settings.unwrap_or_default());
    if !send.is_extended_connect_protocol_enabled() {
        return Err(Refusal::Fallback(
            "the server does not advertise SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441)".into(),
        ));
    }
    let said: crate::dial::h2mux::Said =
        Arc::new(move || seen.lock().ok().and_then(|s| s.why_ended()));
    if let Some(slot) = share {
        slot.keep(&send, said.clone());
    }
    let why: crate::dial::h2stream::Why = Box::new(move || said());
    let (mut up, headers) = open_stream(send, target, req, view, deadline, timeout, why).await?;
    up.h2_dump = dump;
    Ok((up, headers))
}

/// One extended CONNECT stream on an HTTP/2 connection that is up.
pub(super) async fn open_stream(
    send: h2::client::SendRequest<Bytes>,
    target: &Target,
    req: &request::Request,
    view: &mut H2View,
    deadline: tokio::time::Instant,
    timeout: Duration,
    why: crate::dial::h2stream::Why,
) -> std::result::Result<(Upgraded, Headers), Refusal> {
    view.request = fields(target, req);
    let request = build_request(&view.request)?;
    let start = Instant::now();
    let talk = async {
        let mut send = send.ready().await.map_err(|e| failed("stream", e))?;
        let (response, send_stream) = send
            .send_request(request, false)
            .map_err(|e| failed("CONNECT", e))?;
        let response = response.await.map_err(|e| failed("CONNECT", e))?;
        Ok::<_, Error>((response, send_stream))
    };
    let (response, send_stream) =
        timeout_at(deadline, talk)
            .await
            .map_err(|_| Error::Timeout {
                what: "waiting for the HTTP/2 CONNECT response",
                after: timeout,
            })??;
    view.exchange = Some(start.elapsed());
    let (parts, mut recv) = response.into_parts();
    view.status = Some(parts.status.as_u16());
    if !parts.status.is_success() {
        view.body = Some(refusal_body(&mut recv, deadline).await);
    }
    let mut headers = Headers::new();
    for (n, v) in &parts.headers {
        let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
        view.response.push((n.as_str().to_string(), v.clone()));
        headers.push(n.as_str(), v);
    }
    let up = Upgraded {
        stream: Box::new(H2Stream::new(send_stream, recv).explained_by(why)),
        leftover: Vec::new(),
        h2_dump: None,
    };
    Ok((up, headers))
}

/// A refusal's body, as over HTTP/1.1: at most `MAX_BODY` bytes (then marked cut), until the
/// server ends the stream, a second passes without data, or the upgrade's deadline.
async fn refusal_body(recv: &mut h2::RecvStream, deadline: tokio::time::Instant) -> (String, bool) {
    let max = super::response::MAX_BODY;
    let mut body = Vec::new();
    let mut cut = false;
    loop {
        let until = deadline.min(tokio::time::Instant::now() + Duration::from_secs(1));
        match timeout_at(until, recv.data()).await {
            Ok(Some(Ok(chunk))) => {
                let _ = recv.flow_control().release_capacity(chunk.len());
                let room = max - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if chunk.len() > room {
                    cut = true;
                    break;
                }
            }
            Ok(_) => break,
            Err(_) => {
                cut = !recv.is_end_stream();
                break;
            }
        }
    }
    (String::from_utf8_lossy(&body).into_owned(), cut)
}

/// The checks of an RFC 8441 answer: a 2xx status accepts (there is no key/accept exchange and no
/// Upgrade header); subprotocol and extensions are negotiated as over HTTP/1.1.
pub fn evaluate(req: &request::Request, status: u16, headers: &Headers, require: bool) -> Verdict {
    let negotiation = |offered: &[String], header: &str| Negotiation {
        offered: offered.to_vec(),
        selected: headers
            .all(header)
            .into_iter()
            .flat_map(list)
            .map(String::from)
            .collect(),
    };
    let subprotocol = negotiation(&req.offered_protocols, "Sec-WebSocket-Protocol");
    let extensions = negotiation(&req.offered_extensions, "Sec-WebSocket-Extensions");
    let ok = (200..300).contains(&status);
    let detail = match ok {
        true => format!("{status} (RFC 8441: a 2xx accepts; there is no key/accept exchange)"),
        false => format!("{status} (expected 2xx for an HTTP/2 extended CONNECT)"),
    };
    let mut checks = vec![checks::check(CheckName::Status, ok, detail)];
    let accept = AcceptCheck {
        key: String::new(),
        expected: String::new(),
        received: None,
        ok,
    };
    let mut deflate = None;
    if ok {
        checks.push(checks::subprotocol_check(&subprotocol, require));
        let ext = checks::extensions_check(&extensions);
        let is_deflate = ext.outcome == Outcome::Pass;
        checks.push(ext);
        if let [one] = extensions.selected.as_slice() {
            if is_deflate && crate::deflate::params::is_deflate(one) {
                deflate = checks::deflate_checks(&extensions.offered, one, &mut checks);
            }
        }
    }
    let hint = match ok {
        true => checks::failure_hint(&checks),
        false => Some("the server refused the extended CONNECT: see its status and headers".into()),
    };
    Verdict {
        checks,
        accept,
        subprotocol,
        extensions,
        deflate,
        hint,
    }
}
