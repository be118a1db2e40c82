//! Opening the byte stream to the server: DNS, TCP (or a proxy tunnel), then TLS for wss. Each phase
//! is timed for the handshake report and bounded by the one `--connect-timeout` deadline, and each
//! failure says which phase failed. What comes out is a plain byte stream; nothing here knows HTTP.

pub mod h2mux;
pub mod h2stream;
pub mod proxy;
mod tls;
mod tls_sniff;
mod unix;

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::timeout_at;

use crate::error::{Error, Result};
use crate::target::Target;

pub use tls::{alert_after_handshake, pin_trust_roots, TlsConfig, TlsInfo, TlsSettings};

/// Any byte stream we can run WebSocket over: TCP, TLS over TCP, a proxy tunnel, a tap around those.
pub trait AsyncStream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> AsyncStream for T {}
pub type BoxStream = Box<dyn AsyncStream>;

#[derive(Debug, Clone, Default, Serialize)]
pub struct DialTimings {
    #[serde(serialize_with = "ms_opt")]
    pub dns: Option<Duration>,
    #[serde(serialize_with = "ms_opt")]
    pub tcp: Option<Duration>,
    #[serde(serialize_with = "ms_opt")]
    pub proxy: Option<Duration>,
    #[serde(serialize_with = "ms_opt")]
    pub tls: Option<Duration>,
}

pub fn ms_opt<S: serde::Serializer>(
    d: &Option<Duration>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_f64((d.as_secs_f64() * 1e6).round() / 1e3),
        None => s.serialize_none(),
    }
}

/// The proxy hop, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct ProxyHop {
    pub url: String,
    pub request: String,
    pub response: String,
}

pub struct Dialed {
    pub stream: BoxStream,
    pub tls: Option<TlsInfo>,
}

/// How far dialing got, kept even when a later step fails: `-v` shows the TCP peer and the proxy's
/// CONNECT exchange above a TLS error.
#[derive(Debug, Default)]
pub struct Reached {
    /// The timings of the steps that ran.
    pub timings: DialTimings,
    /// The address we connected to (not with a proxy or a Unix socket).
    pub peer: Option<SocketAddr>,
    /// The proxy's exchange, once the tunnel is up (or the proxy refused it).
    pub proxy: Option<ProxyHop>,
}

/// Where the proxy comes from: `--proxy`, the environment, or nowhere (`--no-proxy`).
#[derive(Debug, Clone, PartialEq)]
pub enum ProxyChoice {
    Given(proxy::Proxy),
    FromEnvironment,
    Off,
}

impl ProxyChoice {
    /// `--proxy URL` (a URL we cannot use is a usage error), else `--no-proxy`, else the environment.
    pub fn new(given: Option<&str>, no_proxy: bool) -> Result<ProxyChoice> {
        match given {
            Some(url) => proxy::Proxy::parse(url)
                .map(ProxyChoice::Given)
                .map_err(bad_proxy_url),
            None if no_proxy => Ok(ProxyChoice::Off),
            None => Ok(ProxyChoice::FromEnvironment),
        }
    }
}

/// Which proxy applies to this target.
pub fn choose_proxy(target: &Target, choice: &ProxyChoice) -> Result<Option<proxy::Proxy>> {
    if target.unix_socket.is_some() {
        // A local socket is never proxied (curl ignores proxies with --unix-socket too).
        return Ok(None);
    }
    match choice {
        ProxyChoice::Given(p) => return Ok(Some(p.clone())),
        ProxyChoice::Off => return Ok(None),
        ProxyChoice::FromEnvironment => {}
    }
    let get = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match proxy::from_env(target.secure, &target.host, target.port, &get) {
        Some(r) => r.map(Some).map_err(bad_proxy_url),
        None => Ok(None),
    }
}

/// A proxy URL we cannot use is the user's configuration to fix (exit 2), not a failure to
/// connect; what the proxy itself says stays a connect failure (exit 3).
fn bad_proxy_url(e: proxy::ProxyError) -> Error {
    match e {
        proxy::ProxyError::BadUrl { .. } => Error::Usage {
            hint: e.hint(),
            message: e.to_string(),
        },
        other => other.into(),
    }
}

/// The proxy hop of a dial that the proxy refused (e.g. 407), for the report; None for other errors.
fn refused_hop(e: &proxy::ProxyError) -> Option<ProxyHop> {
    let proxy::ProxyError::Refused { proxy, .. } = e else {
        return None;
    };
    let trace = e.refused_trace()?;
    Some(ProxyHop {
        url: proxy.clone(),
        request: trace.request,
        response: trace.response,
    })
}

/// Connect to the target, through `proxy` if given, with TLS when the target is wss.
pub async fn dial(
    target: &Target,
    proxy: Option<&proxy::Proxy>,
    tls: Option<&TlsConfig>,
    deadline: tokio::time::Instant,
    timeout: Duration,
    reached: &mut Reached,
) -> Result<Dialed> {
    let timed_out = |what| Error::Timeout {
        what,
        after: timeout,
    };
    if let Some(path) = &target.unix_socket {
        let start = Instant::now();
        let stream = timeout_at(deadline, unix::connect(path))
            .await
            .map_err(|_| timed_out("connecting to the Unix socket"))??;
        reached.timings.tcp = Some(start.elapsed());
        return Ok(Dialed { stream, tls: None });
    }
    let tcp = open_tcp(target, proxy, deadline, timeout, reached).await?;
    // Small frames (pings, one-line messages) must not wait for Nagle.
    let _ = tcp.set_nodelay(true);
    let (stream, tls_info): (BoxStream, _) = match tls {
        Some(cfg) => {
            let start = Instant::now();
            let (s, info) = match timeout_at(deadline, tls::handshake(cfg, &target.host, tcp))
                .await
                .map_err(|_| timed_out("the TLS handshake"))?
            {
                Ok(done) => done,
                Err(e) if tls::is_name_mismatch(&e) => {
                    // Which names it has is what the user needs; learn them within the deadline.
                    let names = timeout_at(deadline, async {
                        let mut again = Reached::default();
                        match open_tcp(target, proxy, deadline, timeout, &mut again).await {
                            Ok(tcp) => tls::peer_names(cfg, &target.host, tcp).await,
                            Err(_) => Vec::new(),
                        }
                    })
                    .await
                    .unwrap_or_default();
                    return Err(tls::with_names(e, &names));
                }
                Err(e) => return Err(e),
            };
            reached.timings.tls = Some(start.elapsed());
            (s, Some(info))
        }
        None => (Box::new(tcp), None),
    };
    Ok(Dialed {
        stream,
        tls: tls_info,
    })
}

/// The TCP connection to the target: direct, or a tunnel through the proxy.
async fn open_tcp(
    target: &Target,
    proxy: Option<&proxy::Proxy>,
    deadline: tokio::time::Instant,
    timeout: Duration,
    reached: &mut Reached,
) -> Result<TcpStream> {
    let timed_out = |what| Error::Timeout {
        what,
        after: timeout,
    };
    let tcp = match proxy {
        Some(p) => {
            let start = Instant::now();
            let tunnel = timeout_at(deadline, proxy::tunnel(p, &target.host, target.port)).await;
            // Timed even when it fails: a slow refusal is worth seeing in -v.
            reached.timings.proxy = Some(start.elapsed());
            let tunnel = tunnel.map_err(|_| timed_out("connecting through the proxy"))?;
            let (tcp, trace) = tunnel.inspect_err(|e| reached.proxy = refused_hop(e))?;
            reached.proxy = Some(ProxyHop {
                url: p.url.clone(),
                request: trace.request,
                response: trace.response,
            });
            tcp
        }
        None => {
            let addrs = timeout_at(deadline, resolve(target, &mut reached.timings))
                .await
                .map_err(|_| timed_out("resolving the host name"))??;
            let start = Instant::now();
            let (tcp, peer) = timeout_at(deadline, connect_any(&addrs))
                .await
                .map_err(|_| timed_out("connecting (TCP)"))??;
            reached.timings.tcp = Some(start.elapsed());
            reached.peer = Some(peer);
            tcp
        }
    };
    Ok(tcp)
}

async fn resolve(target: &Target, timings: &mut DialTimings) -> Result<Vec<SocketAddr>> {
    if let Ok(ip) = target.host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, target.port)]);
    }
    let start = Instant::now();
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((target.host.as_str(), target.port))
        .await
        .map_err(|source| Error::Dns {
            host: target.host.clone(),
            source,
        })?
        .collect();
    timings.dns = Some(start.elapsed());
    if addrs.is_empty() {
        return Err(Error::Dns {
            host: target.host.clone(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no addresses found"),
        });
    }
    Ok(addrs)
}

/// Try each address in turn; the error names the last one tried.
async fn connect_any(addrs: &[SocketAddr]) -> Result<(TcpStream, SocketAddr)> {
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(s) => return Ok((s, *addr)),
            Err(e) => last = Some((addr, e)),
        }
    }
    let (addr, source) = last.map(|(a, e)| (a.to_string(), e)).unwrap_or_else(|| {
        (
            "nowhere".into(),
            std::io::Error::new(std::io::ErrorKind::NotFound, "no address"),
        )
    });
    Err(Error::Connect { addr, source })
}
