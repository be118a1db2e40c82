//! The one question the handshake cannot ask: an upgrade request with no `Sec-WebSocket-Key` at
//! all (the handshake always writes one). Written on a plain TCP connection, so only for a ws://
//! URL reached without a proxy; elsewhere the signal is not collected (and so counts neither
//! way). The request is the handshake's own (`handshake::request::build`) less the key line,
//! and the answer is read with the handshake's head and body readers, within the deadline.

use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::{timeout_at, Instant};

use super::super::Probe;
use crate::handshake::request;
use crate::handshake::response::{read_body, read_head, Response};
use crate::handshake::ResponseView;

/// How long a refusal's body may pause.
const BODY_IDLE: Duration = Duration::from_millis(200);

/// The server's answer to an upgrade without a key; None when it cannot be asked here (wss,
/// a proxy, a Unix socket, HTTP/2), Some(Err) with what happened instead of an answer.
pub async fn without_key(p: &Probe, deadline: Instant) -> Option<Result<ResponseView, String>> {
    let direct = !p.target.secure
        && p.target.unix_socket.is_none()
        && p.conn.http2 == crate::handshake::Http2::Off
        && matches!(
            crate::dial::choose_proxy(&p.target, &p.conn.proxy),
            Ok(None)
        );
    if !direct {
        return None;
    }
    let mut conn = p.conn.clone();
    conn.deflate = None;
    let text: String = request::build(&p.target, &conn, String::new())
        .text
        .split_inclusive("\r\n")
        .filter(|line| !line.to_ascii_lowercase().starts_with("sec-websocket-key:"))
        .collect();
    let host = (p.target.host.as_str(), p.target.port);
    let mut tcp = match timeout_at(deadline, TcpStream::connect(host)).await {
        Ok(Ok(tcp)) => tcp,
        Ok(Err(_)) => return Some(Err("unreachable".into())),
        Err(_) => return Some(Err("timeout".into())),
    };
    if tcp.write_all(text.as_bytes()).await.is_err() {
        return Some(Err("drop".into()));
    }
    let (mut resp, rest) = match timeout_at(deadline, read_head(&mut tcp)).await {
        Ok(Ok(head)) => head,
        Ok(Err(_)) => return Some(Err("no answer".into())),
        Err(_) => return Some(Err("timeout".into())),
    };
    if resp.status != 101 {
        read_body(&mut tcp, &mut resp, rest, BODY_IDLE, deadline).await;
    }
    Some(Ok(view(resp)))
}

fn view(r: Response) -> ResponseView {
    let body = (!r.body.is_empty()).then(|| String::from_utf8_lossy(&r.body).into_owned());
    ResponseView {
        status: r.status,
        reason: r.reason,
        headers: r.headers,
        head: r.text,
        head_raw: r.raw,
        body,
        body_truncated: r.body_truncated,
    }
}
