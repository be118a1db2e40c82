//! Well-behaved servers for tests: a recording tokio-tungstenite server (plain or TLS) that keeps the
//! request head exactly as it arrived (header case included, which the `http` crate would lose), echoes
//! text and binary with their types and records every message; and a small PKI made with rcgen (a CA
//! and a leaf certificate) written as PEM files to a temporary directory for `--ca`.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

/// What one client did, as the server saw it.
#[derive(Debug, Clone, Default)]
pub struct Connection {
    /// The request head exactly as received (CRLFs included), up to the blank line.
    pub raw_head: String,
    /// The subprotocol the server selected, if any.
    pub selected: Option<String>,
    /// Every message received, in order (data, ping, close).
    pub messages: Vec<Message>,
}

impl Connection {
    /// Header lines of the raw head as (name, value), names in the case the client wrote.
    pub fn headers(&self) -> Vec<(String, String)> {
        self.raw_head
            .split("\r\n")
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.to_string(), v.trim().to_string()))
            .collect()
    }

    /// The value of the first header whose name matches exactly (case-sensitive on purpose).
    pub fn header_exact(&self, name: &str) -> Option<String> {
        self.headers()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Subprotocols the server accepts; it selects the first offered one found here.
    pub protocols: Vec<String>,
}

/// A running server: its address and what it recorded, one entry per accepted connection.
#[derive(Clone)]
pub struct Server {
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<Arc<Mutex<Connection>>>>>,
    watchdog: super::Watchdog,
}

impl Server {
    /// A snapshot of every connection so far.
    pub fn connections(&self) -> Vec<Connection> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .map(|c| c.lock().unwrap().clone())
            .collect()
    }

    /// The only connection; panics with what was seen otherwise.
    pub fn single(&self) -> Connection {
        let all = self.connections();
        assert_eq!(all.len(), 1, "expected one connection, saw {all:?}");
        all.into_iter().next().unwrap()
    }
}

/// A plain ws:// recording echo server on 127.0.0.1, port 0.
pub async fn start(opts: Options) -> Server {
    serve(opts, None).await
}

/// The same over TLS (wss://) with the given server identity.
pub async fn start_tls(opts: Options, identity: native_tls::Identity) -> Server {
    let acceptor = native_tls::TlsAcceptor::new(identity).expect("TLS acceptor");
    serve(opts, Some(tokio_native_tls::TlsAcceptor::from(acceptor))).await
}

async fn serve(opts: Options, tls: Option<tokio_native_tls::TlsAcceptor>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = Server {
        addr: listener.local_addr().unwrap(),
        log: Arc::default(),
        watchdog: super::Watchdog::new(),
    };
    let log = server.log.clone();
    let opts = Arc::new(opts);
    let watchdog = server.watchdog.clone();
    server.watchdog.spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let conn = Arc::new(Mutex::new(Connection::default()));
            log.lock().unwrap().push(conn.clone());
            let opts = opts.clone();
            let tls = tls.clone();
            watchdog.spawn(async move {
                match tls {
                    // A client that refuses our certificate ends here; that is what TLS tests want.
                    Some(acceptor) => {
                        if let Ok(s) = acceptor.accept(tcp).await {
                            client(Capture::new(s), conn, opts).await;
                        }
                    }
                    None => client(Capture::new(tcp), conn, opts).await,
                }
            });
        }
    });
    server
}

#[allow(clippy::result_large_err)] // the callback's signature is tungstenite's
async fn client<S>(stream: Capture<S>, conn: Arc<Mutex<Connection>>, opts: Arc<Options>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let captured = stream.captured.clone();
    let callback = |req: &Request, mut resp: Response| -> Result<Response, ErrorResponse> {
        let raw = captured.lock().unwrap().clone();
        let end = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(raw.len(), |p| p + 4);
        let mut c = conn.lock().unwrap();
        c.raw_head = String::from_utf8_lossy(&raw[..end]).into_owned();
        let offered: Vec<String> = req
            .headers()
            .get_all("Sec-WebSocket-Protocol")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(',').map(|p| p.trim().to_string()))
            .collect();
        if let Some(p) = offered.iter().find(|o| opts.protocols.contains(o)) {
            resp.headers_mut()
                .insert("Sec-WebSocket-Protocol", HeaderValue::from_str(p).unwrap());
            c.selected = Some(p.clone());
        }
        Ok(resp)
    };
    let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
        return;
    };
    while let Some(Ok(msg)) = ws.next().await {
        conn.lock().unwrap().messages.push(msg.clone());
        let echo = match msg {
            Message::Text(_) | Message::Binary(_) => msg,
            _ => continue,
        };
        if ws.send(echo).await.is_err() {
            break;
        }
    }
}

/// A stream that keeps a copy of the first bytes read from it: the request head as the client wrote it.
struct Capture<S> {
    inner: S,
    captured: Arc<Mutex<Vec<u8>>>,
}

const CAPTURE_LIMIT: usize = 64 * 1024;

impl<S> Capture<S> {
    fn new(inner: S) -> Self {
        Capture {
            inner,
            captured: Arc::default(),
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Capture<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        let mut c = self.captured.lock().unwrap();
        if c.len() < CAPTURE_LIMIT {
            c.extend_from_slice(&buf.filled()[before..]);
        }
        res
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Capture<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A test CA and a leaf certificate it signed, as PEM files in a temporary directory.
pub struct Pki {
    _dir: tempfile::TempDir,
    /// The CA certificate, for `--ca`.
    pub ca_path: PathBuf,
    pub cert_pem: String,
    /// PKCS#8 ("BEGIN PRIVATE KEY"), as native-tls wants it.
    pub key_pem: String,
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
}

/// Common names the tests look for in the report.
pub const CA_NAME: &str = "wscope test CA";

impl Pki {
    /// A leaf for `names` (DNS names or IP addresses), common name = the first one.
    pub fn new(names: &[&str]) -> Pki {
        Pki::build(names, false, CA_NAME)
    }

    /// Like `new`, with a CA of another name (for bundles of several CAs).
    pub fn with_ca_name(names: &[&str], ca_name: &str) -> Pki {
        Pki::build(names, false, ca_name)
    }

    /// Like `new`, but the leaf's validity ended long ago.
    pub fn expired(names: &[&str]) -> Pki {
        Pki::build(names, true, CA_NAME)
    }

    fn build(names: &[&str], expired: bool, ca_name: &str) -> Pki {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, ca_name);
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);

        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let mut params = CertificateParams::new(names.clone()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, names[0].clone());
        if expired {
            params.not_before = rcgen::date_time_ymd(2000, 1, 1);
            params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        }
        let cert = params.signed_by(&key, &issuer).unwrap();

        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        let cert_pem = cert.pem();
        let key_pem = key.serialize_pem();
        Pki {
            ca_path: write("ca.pem", &ca_cert.pem()),
            cert_path: write("cert.pem", &cert_pem),
            key_path: write("key.pem", &key_pem),
            cert_pem,
            key_pem,
            _dir: dir,
        }
    }

    pub fn identity(&self) -> native_tls::Identity {
        native_tls::Identity::from_pkcs8(self.cert_pem.as_bytes(), self.key_pem.as_bytes()).unwrap()
    }
}
