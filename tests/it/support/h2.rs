//! An in-process RFC 8441 server (the `h2` crate's server role): h2c with prior knowledge on
//! 127.0.0.1 port 0, advertising SETTINGS_ENABLE_CONNECT_PROTOCOL unless told not to, answering
//! `CONNECT :protocol websocket` with `:status 200` and echoing WebSocket messages on the stream
//! (tokio-tungstenite's server role over wscope's own stream adapter). It records each CONNECT's
//! pseudo-headers and headers and every message it got.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::WebSocketStream;
use wscope::dial::h2stream::H2Stream;

#[derive(Debug, Clone, Default)]
pub struct Seen {
    /// `:method`, `:protocol`, `:path`, `:authority` of each CONNECT, then its headers.
    pub requests: Vec<Vec<(String, String)>>,
    pub messages: Vec<String>,
    /// TCP connections accepted.
    pub connections: usize,
}

pub struct H2Server {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Seen>>,
    hold: Arc<AtomicBool>,
}

impl H2Server {
    pub fn url(&self) -> String {
        format!("ws://{}/chat?room=1", self.addr)
    }
}

/// Serve RFC 8441 on h2c; with `enable_connect` false the setting is not advertised.
pub async fn start(enable_connect: bool) -> H2Server {
    serve(enable_connect, None).await
}

/// Like Hypercorn 0.18 (TECH-NOTES): after the close exchange the stream is held open, never
/// ended, for 20 s.
pub async fn start_never_ending() -> H2Server {
    let s = serve(true, None).await;
    s.hold.store(true, Ordering::SeqCst);
    s
}

/// The same over TLS, choosing ALPN h2.
pub async fn start_tls(identity: native_tls::Identity) -> H2Server {
    let mut b = native_tls::TlsAcceptor::builder(identity);
    b.accept_alpn(&["h2"]);
    let acceptor = tokio_native_tls::TlsAcceptor::from(b.build().expect("TLS acceptor"));
    serve(true, Some(acceptor)).await
}

async fn serve(enable_connect: bool, tls: Option<tokio_native_tls::TlsAcceptor>) -> H2Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = H2Server {
        addr: listener.local_addr().unwrap(),
        seen: Arc::default(),
        hold: Arc::default(),
    };
    let seen = server.seen.clone();
    let hold = server.hold.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            seen.lock().unwrap().connections += 1;
            let (seen, tls, hold) = (seen.clone(), tls.clone(), hold.clone());
            tokio::spawn(async move {
                match tls {
                    Some(tls) => {
                        if let Ok(s) = tls.accept(tcp).await {
                            connection(s, enable_connect, seen, hold).await;
                        }
                    }
                    None => connection(tcp, enable_connect, seen, hold).await,
                }
            });
        }
    });
    server
}

async fn connection<S>(tcp: S, enable: bool, seen: Arc<Mutex<Seen>>, hold: Arc<AtomicBool>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let mut b = h2::server::Builder::new();
    if enable {
        b.enable_connect_protocol();
    }
    // bench puts hundreds of WebSockets on one connection, each with a small DATA frame in
    // flight: room for them, where h2's default budget (~170 small frames) calls it abuse.
    b.initial_window_size(1 << 20)
        .initial_connection_window_size(4 << 20)
        .data_frame_budget(4 << 20);
    let Ok(mut conn) = b.handshake::<_, Bytes>(tcp).await else {
        return;
    };
    while let Some(Ok((req, mut respond))) = conn.accept().await {
        let protocol = req
            .extensions()
            .get::<h2::ext::Protocol>()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default();
        let mut fields = vec![
            (":method".to_string(), req.method().to_string()),
            (":protocol".to_string(), protocol.clone()),
            (
                ":path".to_string(),
                req.uri()
                    .path_and_query()
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
            ),
            (
                ":authority".to_string(),
                req.uri()
                    .authority()
                    .map(|a| a.to_string())
                    .unwrap_or_default(),
            ),
        ];
        for (n, v) in req.headers() {
            fields.push((n.to_string(), v.to_str().unwrap_or("").to_string()));
        }
        seen.lock().unwrap().requests.push(fields);
        let ok = req.method() == http::Method::CONNECT && protocol == "websocket";
        let status = if ok { 200 } else { 400 };
        let resp = http::Response::builder().status(status).body(()).unwrap();
        let Ok(send) = respond.send_response(resp, !ok) else {
            continue;
        };
        if !ok {
            continue;
        }
        let recv = req.into_body();
        let seen = seen.clone();
        let hold = hold.load(Ordering::SeqCst);
        tokio::spawn(async move {
            let stream = H2Stream::new(send, recv);
            let mut ws = WebSocketStream::from_raw_socket(stream, Role::Server, None).await;
            while let Some(got) = ws.next().await {
                let Ok(msg) = got else { break };
                if msg.is_text() || msg.is_binary() {
                    seen.lock()
                        .unwrap()
                        .messages
                        .push(msg.to_text().unwrap_or("").to_string());
                    if ws.send(msg).await.is_err() {
                        break;
                    }
                }
            }
            // End our side (END_STREAM), then wait for the client's: dropping the stream
            // before would reset it (RST_STREAM CANCEL) and lose the close reply queued in h2.
            let mut stream = ws.into_inner();
            if hold {
                tokio::time::sleep(std::time::Duration::from_secs(20)).await;
                return;
            }
            let _ = stream.shutdown().await;
            let mut rest = [0u8; 64];
            let drain = async { while matches!(stream.read(&mut rest).await, Ok(n) if n > 0) {} };
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), drain).await;
        });
    }
}
