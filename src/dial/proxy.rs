//! The proxy hop of a dial: reads `--proxy` or the `*_PROXY` environment
//! variables (curl's conventions, including `NO_PROXY`), and opens a raw TCP
//! tunnel to the WebSocket server through an HTTP CONNECT or SOCKS5 proxy.
//! TLS (for wss) and the WebSocket handshake run over the returned stream as if
//! it were a direct connection; what the proxy said is kept in a [`ProxyTrace`]
//! for `-v`, and every failure carries a hint naming the flag that fixes it.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Port used when a `socks5://`/`socks5h://` URL names none (the SOCKS convention, as curl).
pub const DEFAULT_SOCKS_PORT: u16 = 1080;
/// Port used when an `http://` proxy URL names none. curl assumes 1080 for every
/// scheme, but HTTP proxies almost never listen there; 3128 (Squid's port) is the
/// most common default in the wild, so a bare `--proxy myproxy` is likelier to work.
pub const DEFAULT_HTTP_PORT: u16 = 3128;

/// A proxy that answers with more than this has no business being trusted with a tunnel.
const MAX_HEAD_BYTES: usize = 64 * 1024;
const MAX_HEADERS: usize = 100;
/// Small reads keep at most one chunk of over-read in memory; the head is tiny anyway.
const READ_CHUNK: usize = 1024;

#[derive(Debug, Clone, PartialEq)]
pub enum ProxyKind {
    HttpConnect,
    /// `remote_dns`: socks5h, where the proxy resolves the target name.
    Socks5 {
        remote_dns: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Proxy {
    pub kind: ProxyKind,
    /// Without brackets, even for IPv6 literals, so it can be handed to connect().
    pub host: String,
    pub port: u16,
    /// Percent-decoded user and password; the password may be empty for HTTP.
    pub auth: Option<(String, String)>,
    /// For display: scheme, user, host and the effective port, with the password as `***`.
    pub url: String,
}

/// What happened on the proxy hop, for the -v report.
#[derive(Debug, Clone, Default)]
pub struct ProxyTrace {
    /// The CONNECT request head as sent (credentials shown as `***`), or a SOCKS5 summary line.
    pub request: String,
    /// The proxy's response head as received, or a SOCKS5 summary line.
    pub response: String,
    /// From the start of the TCP connect to the proxy until the tunnel was ready.
    pub elapsed: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("invalid --proxy URL '{url}': {why}")]
    BadUrl { url: String, why: String },
    #[error("cannot reach proxy {proxy}: {source}")]
    Connect {
        proxy: String,
        #[source]
        source: std::io::Error,
    },
    #[error("proxy {proxy} refused the tunnel: {status_line}")]
    Refused {
        proxy: String,
        status: u16,
        status_line: String,
        headers: String,
        /// The CONNECT request as shown in the report (credentials as `***`).
        request: String,
    },
    #[error("SOCKS5 proxy {proxy}: {message}")]
    Socks { proxy: String, message: String },
    #[error("proxy {proxy} sent a malformed answer: {why}")]
    Malformed { proxy: String, why: String },
}

// Stable phrases in ProxyError::Socks messages; hint() keys off them so the
// variant can stay a plain message.
const SOCKS_WANTS_AUTH: &str = "the proxy wants a username and password";
const SOCKS_BAD_AUTH: &str = "the proxy rejected the username/password";
const SOCKS_NOT_SOCKS: &str = "the proxy does not speak SOCKS5";
const SOCKS_LOCAL_DNS: &str = "cannot resolve the target locally";
const SOCKS_TARGET: &str = "the proxy could not connect to";

impl ProxyError {
    /// One line naming what to change on the command line, when we can tell.
    pub fn hint(&self) -> Option<String> {
        let go_direct = "or go direct with --no-proxy";
        Some(match self {
            ProxyError::BadUrl { .. } => format!(
                "write it as http://[user:pass@]host:port, socks5://[user:pass@]host:port or \
                 socks5h://[user:pass@]host:port (in --proxy or the *_PROXY environment variable), {go_direct}"
            ),
            ProxyError::Connect { .. } => format!(
                "check the host and port in --proxy (or in the HTTPS_PROXY/HTTP_PROXY/ALL_PROXY \
                 environment variables), {go_direct}"
            ),
            ProxyError::Refused {
                proxy,
                status,
                headers,
                ..
            } => match status {
                407 if !asks_for_basic(headers) => format!(
                    "the proxy wants {} authentication; wscope only does Basic \
                     (--proxy http://user:pass@host:port): use another --proxy, {go_direct}",
                    auth_schemes(headers).join("/")
                ),
                407 if url_has_credentials(proxy) => {
                    "the proxy rejected the credentials: check the user and password in \
                     --proxy http://user:pass@host:port"
                        .to_string()
                }
                407 => "the proxy wants credentials: put them in --proxy http://user:pass@host:port"
                    .to_string(),
                403 => format!(
                    "the proxy forbids a tunnel to this target (many only allow port 443): \
                     use another --proxy, {go_direct}"
                ),
                400 | 405 | 501 => {
                    "this proxy does not do CONNECT tunnels: point --proxy at one that does, \
                     or at a socks5:// proxy"
                        .to_string()
                }
                502..=504 => format!(
                    "the proxy could not reach the target: check the target URL, {go_direct}"
                ),
                _ => format!("check --proxy, {go_direct}"),
            },
            ProxyError::Socks { message, .. } => {
                if message.starts_with(SOCKS_WANTS_AUTH) {
                    "the proxy wants credentials: put them in --proxy socks5://user:pass@host:port"
                        .to_string()
                } else if message.starts_with(SOCKS_BAD_AUTH) {
                    "check the user and password in --proxy socks5://user:pass@host:port".to_string()
                } else if message.starts_with(SOCKS_NOT_SOCKS) {
                    "if it is an HTTP proxy, write --proxy http://host:port".to_string()
                } else if message.starts_with(SOCKS_LOCAL_DNS) {
                    "use --proxy socks5h://… to let the proxy resolve the name".to_string()
                } else if message.starts_with(SOCKS_TARGET) {
                    format!("check the target URL, {go_direct}")
                } else {
                    format!("check --proxy, {go_direct}")
                }
            }
            ProxyError::Malformed { .. } => format!(
                "is --proxy pointing at a real proxy? (a SOCKS proxy needs socks5://), {go_direct}"
            ),
        })
    }
}

/// The schemes a 407 offers in its `Proxy-Authenticate` headers (`Basic`, `NTLM`, ...).
fn auth_schemes(headers: &str) -> Vec<String> {
    headers
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(name, _)| name.trim().eq_ignore_ascii_case("proxy-authenticate"))
        .filter_map(|(_, value)| value.split_whitespace().next())
        .map(|scheme| scheme.trim_end_matches(',').to_string())
        .collect()
}

/// Whether Basic would help; a 407 that names no scheme at all gets the benefit of the doubt.
fn asks_for_basic(headers: &str) -> bool {
    let schemes = auth_schemes(headers);
    schemes.is_empty() || schemes.iter().any(|s| s.eq_ignore_ascii_case("basic"))
}

impl ProxyError {
    /// What was said on a refused CONNECT, so -v can show the proxy's answer in full.
    pub fn refused_trace(&self) -> Option<ProxyTrace> {
        match self {
            ProxyError::Refused {
                status_line,
                headers,
                request,
                ..
            } => Some(ProxyTrace {
                request: request.clone(),
                response: format!("{status_line}\r\n{headers}"),
                elapsed: Duration::ZERO,
            }),
            _ => None,
        }
    }
}

fn url_has_credentials(display_url: &str) -> bool {
    authority_of(display_url).contains('@')
}

impl Proxy {
    /// Parse a proxy URL; a missing scheme means `http://`, as in curl.
    pub fn parse(url: &str) -> Result<Proxy, ProxyError> {
        let raw = url.trim();
        let bad = |why: &str| ProxyError::BadUrl {
            url: redact_raw(raw),
            why: why.to_string(),
        };
        if raw.is_empty() {
            return Err(bad("it is empty"));
        }
        // "host:port" would otherwise parse as scheme "host".
        let full = if raw.contains("://") {
            raw.to_string()
        } else {
            format!("http://{raw}")
        };
        let parsed = url::Url::parse(&full).map_err(|e| bad(&e.to_string()))?;
        let scheme = parsed.scheme().to_string();
        let kind =
            match scheme.as_str() {
                "http" => ProxyKind::HttpConnect,
                "socks5" => ProxyKind::Socks5 { remote_dns: false },
                "socks5h" => ProxyKind::Socks5 { remote_dns: true },
                "https" => return Err(bad(
                    "TLS to the proxy (https://) is not supported; use http:// for a CONNECT proxy",
                )),
                "socks" | "socks4" | "socks4a" => {
                    return Err(bad("SOCKS4 is not supported; use socks5:// or socks5h://"))
                }
                other => {
                    return Err(bad(&format!(
                        "unsupported scheme '{other}'; use http://, socks5:// or socks5h://"
                    )))
                }
            };

        let host = match parsed.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => {
                let d = percent_decode(d).map_err(|why| bad(&why))?;
                if d.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    return Err(bad("the host contains spaces or control characters"));
                }
                d.to_ascii_lowercase()
            }
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err(bad("it names no host")),
        };

        // The url crate hides an explicit port equal to the scheme's default
        // (http://h:80 reports no port), so look at the text to tell "none" from ":80".
        let port = match parsed.port() {
            Some(p) => p,
            None if kind == ProxyKind::HttpConnect && has_explicit_port(&full) => 80,
            None if kind == ProxyKind::HttpConnect => DEFAULT_HTTP_PORT,
            None => DEFAULT_SOCKS_PORT,
        };
        if port == 0 {
            return Err(bad("port 0 is not a valid proxy port"));
        }

        let auth = if parsed.username().is_empty() && parsed.password().is_none() {
            None
        } else {
            let user = percent_decode(parsed.username()).map_err(|why| bad(&why))?;
            let pass = percent_decode(parsed.password().unwrap_or("")).map_err(|why| bad(&why))?;
            if let ProxyKind::Socks5 { .. } = kind {
                // RFC 1929 fields are 1..=255 bytes (and tokio-socks enforces it).
                if user.is_empty() || user.len() > 255 || pass.is_empty() || pass.len() > 255 {
                    return Err(bad(
                        "SOCKS5 needs both a user name and a password, each 1 to 255 bytes",
                    ));
                }
            } else if user.contains(':') {
                return Err(bad("the user name cannot contain ':' in Basic auth"));
            }
            Some((user, pass))
        };

        let host_shown = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.clone()
        };
        let userinfo = match &auth {
            None => String::new(),
            Some((_, pass)) if pass.is_empty() => format!("{}@", parsed.username()),
            Some(_) => format!("{}:***@", parsed.username()),
        };
        let url = format!("{scheme}://{userinfo}{host_shown}:{port}");
        Ok(Proxy {
            kind,
            host,
            port,
            auth,
            url,
        })
    }
}

/// The part between `://` and the path; the whole string when there is no scheme.
fn authority_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    &rest[..end]
}

fn has_explicit_port(url: &str) -> bool {
    let authority = authority_of(url);
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let after_host = match hostport.strip_prefix('[') {
        Some(v6) => v6.split_once(']').map_or("", |(_, rest)| rest),
        None => hostport.find(':').map_or("", |i| &hostport[i..]),
    };
    after_host.len() > 1 && after_host.starts_with(':')
}

/// Hide the password of a URL we could not parse, since error messages get logged.
fn redact_raw(raw: &str) -> String {
    let authority = authority_of(raw);
    let Some((userinfo, _)) = authority.rsplit_once('@') else {
        return raw.to_string();
    };
    let Some((user, _)) = userinfo.split_once(':') else {
        return raw.to_string();
    };
    let start = authority.as_ptr() as usize - raw.as_ptr() as usize;
    let pass_start = start + user.len() + 1;
    let pass_end = start + userinfo.len();
    format!("{}***{}", &raw[..pass_start], &raw[pass_end..])
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(b) = hex {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).map_err(|_| "percent-encoded text is not UTF-8".to_string())
}

/// Which proxy the environment asks for, if any. `get` abstracts std::env::var so it is testable.
///
/// Like curl: `https_proxy` for wss and `http_proxy` for ws, then `all_proxy`;
/// each lowercase name wins over its uppercase form, and an empty value counts
/// as unset. `no_proxy`/`NO_PROXY` is checked first.
pub fn from_env(
    secure: bool,
    host: &str,
    port: u16,
    get: &dyn Fn(&str) -> Option<String>,
) -> Option<Result<Proxy, ProxyError>> {
    let lookup = |lower: &str| -> Option<(String, String)> {
        let upper = lower.to_ascii_uppercase();
        [lower.to_string(), upper].into_iter().find_map(|name| {
            get(&name)
                .filter(|v| !v.trim().is_empty())
                .map(|v| (name, v))
        })
    };
    if let Some((_, no_proxy)) = lookup("no_proxy") {
        if no_proxy_matches(&no_proxy, host, port) {
            return None;
        }
    }
    let scheme_var = if secure { "https_proxy" } else { "http_proxy" };
    let (name, value) = lookup(scheme_var).or_else(|| lookup("all_proxy"))?;
    Some(Proxy::parse(&value).map_err(|e| match e {
        ProxyError::BadUrl { url, why } => ProxyError::BadUrl {
            url,
            why: format!("{why} (it comes from the environment variable {name})"),
        },
        other => other,
    }))
}

/// Whether `host:port` is exempt from proxying by a NO_PROXY value (curl's rules):
/// comma- or space-separated entries; `*` matches everything; a name matches
/// itself and its subdomains, with or without a leading dot; an entry may carry
/// `:port`; IP literals match as addresses (also `addr/prefix` CIDR, as curl ≥ 7.86);
/// loopback gets no special treatment.
pub fn no_proxy_matches(no_proxy: &str, host: &str, port: u16) -> bool {
    let host = normalize_host(host);
    let host_ip: Option<IpAddr> = host.parse().ok();
    for entry in no_proxy.split(|c: char| c == ',' || c.is_whitespace()) {
        let entry = entry.trim();
        if entry.is_empty() {
            continue;
        }
        if entry == "*" {
            return true;
        }
        let Some((pattern, entry_port)) = split_entry_port(entry) else {
            continue;
        };
        if entry_port.is_some_and(|p| p != port) {
            continue;
        }
        let pattern = normalize_host(pattern);
        // "*.example.com" is not curl syntax, but it is common and unambiguous.
        let pattern = pattern
            .strip_prefix("*.")
            .or_else(|| pattern.strip_prefix('.'))
            .unwrap_or(&pattern);
        if pattern.is_empty() {
            continue;
        }
        let matched = match host_ip {
            // An IP target never matches by name suffix: ".0.0.1" must not catch 10.0.0.1.
            Some(ip) => match pattern.split_once('/') {
                Some((net, bits)) => cidr_contains(net, bits, ip),
                None => pattern.parse::<IpAddr>().is_ok_and(|p| p == ip),
            },
            None => {
                host == pattern
                    || (host.len() > pattern.len()
                        && host.ends_with(pattern)
                        && host.as_bytes()[host.len() - pattern.len() - 1] == b'.')
            }
        };
        if matched {
            return true;
        }
    }
    false
}

fn normalize_host(host: &str) -> String {
    let h = host.trim();
    let h = h
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .unwrap_or(h);
    h.strip_suffix('.').unwrap_or(h).to_ascii_lowercase()
}

/// Split a NO_PROXY entry into host and optional port; None if the port is garbage.
fn split_entry_port(entry: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = entry.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        return match after {
            "" => Some((inside, None)),
            _ => Some((inside, Some(after.strip_prefix(':')?.parse().ok()?))),
        };
    }
    // More than one ':' is a bare IPv6 literal, which cannot carry a port.
    match entry.matches(':').count() {
        1 => {
            let (h, p) = entry.split_once(':')?;
            Some((h, Some(p.parse().ok()?)))
        }
        _ => Some((entry, None)),
    }
}

fn cidr_contains(net: &str, bits: &str, ip: IpAddr) -> bool {
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

/// `host:port` for a request line, bracketing IPv6 literals.
fn authority(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Open a tunnel to target_host:target_port through the proxy. The caller applies the overall connect timeout around this.
///
/// `target_host` may be bracketed (as `Url::host_str` gives IPv6).
pub async fn tunnel(
    proxy: &Proxy,
    target_host: &str,
    target_port: u16,
) -> Result<(TcpStream, ProxyTrace), ProxyError> {
    let started = Instant::now();
    let target = target_host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(target_host);
    // The target ends up inside a request line; refuse anything that could split it.
    if target.is_empty() || target.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ProxyError::Malformed {
            proxy: proxy.url.clone(),
            why: format!("refusing to ask for an invalid target host {target:?}"),
        });
    }
    let (stream, mut trace) = match proxy.kind {
        ProxyKind::HttpConnect => {
            let mut stream = connect_proxy(proxy).await?;
            let trace = http_connect(&mut stream, proxy, target, target_port).await?;
            (stream, trace)
        }
        ProxyKind::Socks5 { remote_dns } => {
            socks5_connect(proxy, target, target_port, remote_dns).await?
        }
    };
    trace.elapsed = started.elapsed();
    Ok((stream, trace))
}

async fn connect_proxy(proxy: &Proxy) -> Result<TcpStream, ProxyError> {
    let stream = TcpStream::connect((proxy.host.as_str(), proxy.port))
        .await
        .map_err(|source| ProxyError::Connect {
            proxy: proxy.url.clone(),
            source,
        })?;
    // The handshake is a few small writes; Nagle would only add latency. Failure is harmless.
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

async fn http_connect(
    stream: &mut TcpStream,
    proxy: &Proxy,
    host: &str,
    port: u16,
) -> Result<ProxyTrace, ProxyError> {
    let target = authority(host, port);
    let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    let mut shown = request.clone();
    if let Some((user, pass)) = &proxy.auth {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        let _ = write!(request, "Proxy-Authorization: Basic {token}\r\n");
        shown.push_str("Proxy-Authorization: Basic ***\r\n");
    }
    request.push_str("\r\n");
    shown.push_str("\r\n");

    let io_err = |source| ProxyError::Connect {
        proxy: proxy.url.clone(),
        source,
    };
    stream.write_all(request.as_bytes()).await.map_err(io_err)?;

    let malformed = |why: String| ProxyError::Malformed {
        proxy: proxy.url.clone(),
        why,
    };
    let mut buf: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    let mut chunk = [0u8; READ_CHUNK];
    let (head_len, status) = loop {
        let n = stream.read(&mut chunk).await.map_err(io_err)?;
        if n == 0 {
            return Err(malformed(if buf.is_empty() {
                "it closed the connection without answering CONNECT".to_string()
            } else {
                format!(
                    "it closed the connection in the middle of its answer: {:?}",
                    String::from_utf8_lossy(&buf[..buf.len().min(200)])
                )
            }));
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(&buf) {
            Ok(httparse::Status::Complete(len)) => {
                // httparse only leaves the code unset on Partial.
                break (len, response.code.unwrap_or(0));
            }
            Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD_BYTES => {
                return Err(malformed(format!(
                    "its answer to CONNECT has no end within {} KiB",
                    MAX_HEAD_BYTES / 1024
                )))
            }
            Ok(httparse::Status::Partial) => continue,
            Err(httparse::Error::TooManyHeaders) => {
                return Err(malformed(format!(
                    "its answer to CONNECT has more than {MAX_HEADERS} headers"
                )))
            }
            Err(e) => {
                return Err(malformed(format!(
                    "not an HTTP response ({e}): {:?}",
                    String::from_utf8_lossy(&buf[..buf.len().min(200)])
                )))
            }
        }
    };
    if head_len > MAX_HEAD_BYTES {
        return Err(malformed(format!(
            "its answer to CONNECT is larger than {} KiB",
            MAX_HEAD_BYTES / 1024
        )));
    }

    let head = String::from_utf8_lossy(&buf[..head_len]).into_owned();
    if (200..300).contains(&status) {
        // ws and wss clients speak first, so anything here is not from the
        // target: passing it on would desynchronise TLS or the handshake.
        if buf.len() > head_len {
            return Err(malformed(format!(
                "it sent {} bytes after '{}' before we spoke",
                buf.len() - head_len,
                head.lines().next().unwrap_or("").trim_end()
            )));
        }
        return Ok(ProxyTrace {
            request: shown,
            response: head,
            elapsed: Duration::ZERO,
        });
    }
    let mut lines = head.split('\n').map(|l| l.trim_end_matches('\r'));
    let status_line = lines.next().unwrap_or("").to_string();
    let headers: String = lines
        .filter(|l| !l.is_empty())
        .map(|l| format!("{l}\r\n"))
        .collect();
    Err(ProxyError::Refused {
        proxy: proxy.url.clone(),
        status,
        status_line,
        headers,
        request: shown,
    })
}

async fn socks5_connect(
    proxy: &Proxy,
    host: &str,
    port: u16,
    remote_dns: bool,
) -> Result<(TcpStream, ProxyTrace), ProxyError> {
    let socks_err = |message: String| ProxyError::Socks {
        proxy: proxy.url.clone(),
        message,
    };
    let as_user = match &proxy.auth {
        Some((user, _)) => format!(" as user '{user}'"),
        None => String::new(),
    };
    let literal: Option<IpAddr> = host.parse().ok();
    if remote_dns || literal.is_some() {
        let request = format!(
            "SOCKS5 CONNECT {}{}{as_user}",
            authority(host, port),
            if literal.is_none() {
                " (the proxy resolves the name)"
            } else {
                ""
            }
        );
        let stream = socks5_handshake(proxy, (host, port)).await?;
        let response = format!("SOCKS5 tunnel to {} granted", authority(host, port));
        return Ok((
            stream,
            ProxyTrace {
                request,
                response,
                elapsed: Duration::ZERO,
            },
        ));
    }

    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| socks_err(format!("{SOCKS_LOCAL_DNS} ({host}): {e}")))?
        .collect();
    socks5_first_reachable(proxy, host, &addrs, &as_user).await
}

/// Dual-stack names (localhost!) resolve to several addresses and the server
/// may listen on only one, so move on when the proxy says the target is unreachable.
async fn socks5_first_reachable(
    proxy: &Proxy,
    host: &str,
    addrs: &[SocketAddr],
    as_user: &str,
) -> Result<(TcpStream, ProxyTrace), ProxyError> {
    let mut last_err = None;
    for addr in addrs {
        match socks5_handshake(proxy, *addr).await {
            Ok(stream) => {
                let trace = ProxyTrace {
                    request: format!("SOCKS5 CONNECT {addr} ({host} resolved locally){as_user}"),
                    response: format!("SOCKS5 tunnel to {addr} granted"),
                    elapsed: Duration::ZERO,
                };
                return Ok((stream, trace));
            }
            Err(e) if is_target_failure(&e) => last_err = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_err.unwrap_or_else(|| ProxyError::Socks {
        proxy: proxy.url.clone(),
        message: format!("{SOCKS_LOCAL_DNS} ({host}): no addresses"),
    }))
}

fn is_target_failure(e: &ProxyError) -> bool {
    matches!(e, ProxyError::Socks { message, .. } if message.starts_with(SOCKS_TARGET))
}

async fn socks5_handshake<'t>(
    proxy: &Proxy,
    target: impl tokio_socks::IntoTargetAddr<'t> + Copy + std::fmt::Debug,
) -> Result<TcpStream, ProxyError> {
    let socket = connect_proxy(proxy).await?;
    let described = describe_target(target);
    let result = match &proxy.auth {
        Some((user, pass)) => {
            tokio_socks::tcp::Socks5Stream::connect_with_password_and_socket(
                socket, target, user, pass,
            )
            .await
        }
        None => tokio_socks::tcp::Socks5Stream::connect_with_socket(socket, target).await,
    };
    result
        .map(|s| s.into_inner())
        .map_err(|e| ProxyError::Socks {
            proxy: proxy.url.clone(),
            message: socks_message(e, &described),
        })
}

fn describe_target<'t>(target: impl tokio_socks::IntoTargetAddr<'t>) -> String {
    match target.into_target_addr() {
        Ok(tokio_socks::TargetAddr::Ip(addr)) => addr.to_string(),
        Ok(tokio_socks::TargetAddr::Domain(name, port)) => format!("{name}:{port}"),
        Err(_) => "the target".to_string(),
    }
}

fn socks_message(e: tokio_socks::Error, target: &str) -> String {
    use tokio_socks::Error as E;
    match e {
        E::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            format!("{SOCKS_NOT_SOCKS}: it closed the connection during the handshake")
        }
        E::Io(io) => format!("I/O error during the SOCKS5 handshake: {io}"),
        E::InvalidResponseVersion | E::InvalidReservedByte | E::UnknownAddressType => {
            format!("{SOCKS_NOT_SOCKS}: its answer is not a SOCKS5 reply ({e})")
        }
        E::NoAcceptableAuthMethods | E::AuthorizationRequired => SOCKS_WANTS_AUTH.to_string(),
        E::PasswordAuthFailure(code) => format!("{SOCKS_BAD_AUTH} (status {code})"),
        E::ConnectionRefused => format!("{SOCKS_TARGET} {target}: connection refused"),
        E::HostUnreachable => format!("{SOCKS_TARGET} {target}: host unreachable"),
        E::NetworkUnreachable => format!("{SOCKS_TARGET} {target}: network unreachable"),
        E::TtlExpired => format!("{SOCKS_TARGET} {target}: TTL expired"),
        E::GeneralSocksServerFailure => {
            format!("{SOCKS_TARGET} {target}: general SOCKS server failure")
        }
        E::ConnectionNotAllowedByRuleset => {
            format!("the proxy's rules forbid a tunnel to {target}")
        }
        other => format!("handshake failed: {other}"),
    }
}

// The test proxies live with the integration tests; the unit tests borrow them
// for the one path they must drive directly (address fallback).
#[cfg(test)]
#[path = "../../tests/support/proxies.rs"]
mod test_proxies;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn p(url: &str) -> Proxy {
        match Proxy::parse(url) {
            Ok(p) => p,
            Err(e) => panic!("{url}: {e}"),
        }
    }

    fn bad(url: &str) -> String {
        match Proxy::parse(url) {
            Ok(p) => panic!("{url} parsed as {p:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn parse_http_forms() {
        let x = p("http://proxy.example:8080");
        assert_eq!(x.kind, ProxyKind::HttpConnect);
        assert_eq!((x.host.as_str(), x.port), ("proxy.example", 8080));
        assert_eq!(x.auth, None);
        assert_eq!(x.url, "http://proxy.example:8080");

        let x = p("proxy.example:8080");
        assert_eq!((x.kind, x.port), (ProxyKind::HttpConnect, 8080));
        assert_eq!(p("proxy.example").port, DEFAULT_HTTP_PORT);
        assert_eq!(p("http://proxy.example").port, DEFAULT_HTTP_PORT);
        assert_eq!(p("http://proxy.example/").port, DEFAULT_HTTP_PORT);
        assert_eq!(p("http://proxy.example:80").port, 80);
        assert_eq!(p("HTTP://Proxy.Example:81/").host, "proxy.example");
        assert_eq!(p("  http://h:1  ").port, 1);
    }

    #[test]
    fn parse_socks_forms() {
        let x = p("socks5://127.0.0.1");
        assert_eq!(x.kind, ProxyKind::Socks5 { remote_dns: false });
        assert_eq!(x.port, DEFAULT_SOCKS_PORT);
        assert_eq!(x.url, "socks5://127.0.0.1:1080");
        let x = p("socks5h://Tor.Local:9050");
        assert_eq!(x.kind, ProxyKind::Socks5 { remote_dns: true });
        assert_eq!((x.host.as_str(), x.port), ("tor.local", 9050));
        assert_eq!(
            p("SOCKS5H://h").kind,
            ProxyKind::Socks5 { remote_dns: true }
        );
    }

    #[test]
    fn parse_ipv6_hosts_are_unbracketed_but_displayed_bracketed() {
        let x = p("http://[::1]:3128");
        assert_eq!(x.host, "::1");
        assert_eq!(x.url, "http://[::1]:3128");
        let x = p("socks5://[::1]");
        assert_eq!((x.host.as_str(), x.port), ("::1", 1080));
        assert_eq!(p("[::1]:8080").port, 8080);
        assert_eq!(p("http://[::1]:80").port, 80);
        assert_eq!(p("http://[::1]").port, DEFAULT_HTTP_PORT);
    }

    #[test]
    fn parse_credentials_are_decoded_and_hidden() {
        let x = p("http://al%40ice:p%3Ass@h:1");
        assert_eq!(x.auth, Some(("al@ice".into(), "p:ss".into())));
        assert_eq!(x.url, "http://al%40ice:***@h:1");
        let x = p("http://user@h:1");
        assert_eq!(x.auth, Some(("user".into(), String::new())));
        assert_eq!(x.url, "http://user@h:1");
        let x = p("socks5h://u:p@h");
        assert_eq!(x.auth, Some(("u".into(), "p".into())));
        assert_eq!(x.url, "socks5h://u:***@h:1080");
        assert!(!format!("{x:?}").is_empty());
    }

    #[test]
    fn parse_rejections() {
        assert!(bad("").contains("empty"));
        assert!(bad("https://h:1").contains("not supported"));
        assert!(bad("socks4://h").contains("SOCKS4"));
        assert!(bad("socks://h").contains("SOCKS4"));
        assert!(bad("ftp://h").contains("unsupported scheme 'ftp'"));
        assert!(bad("http://h:0").contains("port 0"));
        assert!(bad("http://h:99999").starts_with("invalid --proxy URL"));
        assert!(bad("socks5://:1080").starts_with("invalid --proxy URL"));
        assert!(bad("socks5://").contains("no host"));
        assert!(bad("socks5://user@h").contains("SOCKS5 needs"));
        assert!(bad("socks5://:pw@h").contains("SOCKS5 needs"));
        assert!(bad("http://").starts_with("invalid --proxy URL"));
    }

    #[test]
    fn bad_url_errors_do_not_leak_passwords() {
        let msg = bad("ftp://bob:hunter2@h:1");
        assert!(!msg.contains("hunter2"), "{msg}");
        assert!(msg.contains("bob:***@h:1"), "{msg}");
        assert_eq!(redact_raw("http://h:1"), "http://h:1");
        assert_eq!(redact_raw("u:pw@h:1"), "u:***@h:1");
        assert_eq!(redact_raw("http://u@h"), "http://u@h");
    }

    #[test]
    fn explicit_port_detection() {
        assert!(has_explicit_port("http://h:80"));
        assert!(has_explicit_port("http://u:p@h:80/x"));
        assert!(has_explicit_port("http://[::1]:80"));
        assert!(!has_explicit_port("http://h"));
        assert!(!has_explicit_port("http://h:"));
        assert!(!has_explicit_port("http://u:p@h/x:80"));
        assert!(!has_explicit_port("http://[::1]"));
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| map.get(k).cloned()
    }

    fn env_proxy(secure: bool, host: &str, port: u16, pairs: &[(&str, &str)]) -> Option<String> {
        let get = env(pairs);
        from_env(secure, host, port, &get).map(|r| match r {
            Ok(p) => p.url,
            Err(e) => format!("ERR {e}"),
        })
    }

    #[test]
    fn env_picks_the_scheme_variable_then_all_proxy() {
        let vars = [
            ("HTTPS_PROXY", "http://s:1"),
            ("HTTP_PROXY", "http://p:2"),
            ("ALL_PROXY", "socks5://a:3"),
        ];
        assert_eq!(
            env_proxy(true, "x", 443, &vars).as_deref(),
            Some("http://s:1")
        );
        assert_eq!(
            env_proxy(false, "x", 80, &vars).as_deref(),
            Some("http://p:2")
        );
        let only_all = [("ALL_PROXY", "socks5://a:3")];
        assert_eq!(
            env_proxy(true, "x", 443, &only_all).as_deref(),
            Some("socks5://a:3")
        );
        assert_eq!(
            env_proxy(false, "x", 80, &only_all).as_deref(),
            Some("socks5://a:3")
        );
        // wss never uses http_proxy, ws never uses https_proxy.
        assert_eq!(
            env_proxy(true, "x", 443, &[("HTTP_PROXY", "http://p:2")]),
            None
        );
        assert_eq!(
            env_proxy(false, "x", 80, &[("https_proxy", "http://s:1")]),
            None
        );
        assert_eq!(env_proxy(false, "x", 80, &[]), None);
    }

    #[test]
    fn env_lowercase_wins_and_empty_means_unset() {
        let vars = [
            ("https_proxy", "http://lower:1"),
            ("HTTPS_PROXY", "http://upper:2"),
        ];
        assert_eq!(
            env_proxy(true, "x", 443, &vars).as_deref(),
            Some("http://lower:1")
        );
        let vars = [("https_proxy", ""), ("HTTPS_PROXY", "http://upper:2")];
        assert_eq!(
            env_proxy(true, "x", 443, &vars).as_deref(),
            Some("http://upper:2")
        );
        let vars = [("http_proxy", " "), ("all_proxy", "h:9")];
        assert_eq!(
            env_proxy(false, "x", 80, &vars).as_deref(),
            Some("http://h:9")
        );
        let vars = [
            ("all_proxy", "socks5h://l:1"),
            ("ALL_PROXY", "socks5h://u:1"),
        ];
        assert_eq!(
            env_proxy(false, "x", 80, &vars).as_deref(),
            Some("socks5h://l:1")
        );
    }

    #[test]
    fn env_no_proxy_bypasses() {
        let vars = [
            ("HTTPS_PROXY", "http://s:1"),
            ("NO_PROXY", "internal.example,10.0.0.1"),
        ];
        assert_eq!(env_proxy(true, "api.internal.example", 443, &vars), None);
        assert_eq!(env_proxy(true, "10.0.0.1", 443, &vars), None);
        assert!(env_proxy(true, "example.com", 443, &vars).is_some());
        // Lowercase no_proxy wins over NO_PROXY.
        let vars = [
            ("HTTPS_PROXY", "http://s:1"),
            ("no_proxy", "a.example"),
            ("NO_PROXY", "*"),
        ];
        assert_eq!(env_proxy(true, "a.example", 443, &vars), None);
        assert!(env_proxy(true, "b.example", 443, &vars).is_some());
        // Loopback is proxied unless listed, like curl.
        let vars = [("HTTP_PROXY", "http://s:1")];
        assert!(env_proxy(false, "127.0.0.1", 80, &vars).is_some());
        assert!(env_proxy(false, "localhost", 80, &vars).is_some());
    }

    #[test]
    fn env_bad_value_names_the_variable() {
        let got = env_proxy(true, "x", 443, &[("HTTPS_PROXY", "ftp://h")]).unwrap_or_default();
        assert!(got.starts_with("ERR "), "{got}");
        assert!(got.contains("HTTPS_PROXY"), "{got}");
    }

    #[test]
    fn no_proxy_names_and_suffixes() {
        assert!(no_proxy_matches("example.com", "example.com", 443));
        assert!(no_proxy_matches("example.com", "www.example.com", 443));
        assert!(no_proxy_matches(".example.com", "www.example.com", 443));
        assert!(no_proxy_matches(".example.com", "example.com", 443));
        assert!(no_proxy_matches("*.example.com", "a.b.example.com", 443));
        assert!(!no_proxy_matches("example.com", "badexample.com", 443));
        assert!(!no_proxy_matches("www.example.com", "example.com", 443));
        assert!(!no_proxy_matches("example.com", "example.com.evil", 443));
        assert!(no_proxy_matches("EXAMPLE.com", "Example.COM", 443));
        assert!(no_proxy_matches("example.com.", "example.com", 443));
        assert!(no_proxy_matches("example.com", "www.example.com.", 443));
        assert!(no_proxy_matches("localhost", "localhost", 80));
        assert!(!no_proxy_matches("", "localhost", 80));
        assert!(!no_proxy_matches(" , ,", "localhost", 80));
        assert!(!no_proxy_matches(".", "localhost", 80));
    }

    #[test]
    fn no_proxy_lists_and_wildcard() {
        assert!(no_proxy_matches("a.com, b.com ,c.com", "c.com", 1));
        assert!(no_proxy_matches("a.com b.com", "b.com", 1));
        assert!(no_proxy_matches("*", "anything", 1));
        assert!(no_proxy_matches("a.com,*", "anything", 1));
        assert!(no_proxy_matches(" * ", "127.0.0.1", 1));
        assert!(!no_proxy_matches("*a.com", "b.com", 1));
    }

    #[test]
    fn no_proxy_ports() {
        assert!(no_proxy_matches("example.com:8080", "example.com", 8080));
        assert!(!no_proxy_matches("example.com:8080", "example.com", 443));
        assert!(no_proxy_matches(".example.com:443", "a.example.com", 443));
        assert!(no_proxy_matches("127.0.0.1:9000", "127.0.0.1", 9000));
        assert!(!no_proxy_matches("127.0.0.1:9000", "127.0.0.1", 9001));
        assert!(no_proxy_matches("[::1]:9000", "::1", 9000));
        assert!(no_proxy_matches("[::1]:9000", "[::1]", 9000));
        assert!(!no_proxy_matches("[::1]:9000", "::1", 80));
        assert!(no_proxy_matches("[::1]", "::1", 80));
        // A garbled port voids the entry rather than widening it.
        assert!(!no_proxy_matches("example.com:http", "example.com", 80));
        assert!(!no_proxy_matches("[::1]x", "::1", 80));
    }

    #[test]
    fn no_proxy_ip_literals() {
        assert!(no_proxy_matches("127.0.0.1", "127.0.0.1", 1));
        assert!(!no_proxy_matches("127.0.0.1", "127.0.0.2", 1));
        assert!(!no_proxy_matches("0.0.1", "10.0.0.1", 1));
        assert!(!no_proxy_matches(".0.0.1", "10.0.0.1", 1));
        assert!(no_proxy_matches("::1", "::1", 1));
        assert!(no_proxy_matches("::1", "[::1]", 1));
        assert!(no_proxy_matches("0:0::1", "::1", 1));
        assert!(!no_proxy_matches("::1", "::2", 1));
        assert!(!no_proxy_matches("localhost", "127.0.0.1", 1));
        assert!(!no_proxy_matches("127.0.0.1", "localhost", 1));
    }

    #[test]
    fn no_proxy_cidr() {
        assert!(no_proxy_matches("10.0.0.0/8", "10.1.2.3", 1));
        assert!(!no_proxy_matches("10.0.0.0/8", "11.1.2.3", 1));
        assert!(no_proxy_matches("192.168.1.0/24", "192.168.1.200", 1));
        assert!(no_proxy_matches("0.0.0.0/0", "8.8.8.8", 1));
        assert!(no_proxy_matches("fd00::/8", "fd12::1", 1));
        assert!(!no_proxy_matches("fd00::/8", "fe80::1", 1));
        assert!(!no_proxy_matches("10.0.0.0/33", "10.0.0.1", 1));
        assert!(!no_proxy_matches("10.0.0.0/8", "::1", 1));
        assert!(!no_proxy_matches("10.0.0.0/8", "ten.example", 1));
    }

    fn refused(proxy: &str, status: u16) -> ProxyError {
        ProxyError::Refused {
            proxy: proxy.into(),
            status,
            status_line: format!("HTTP/1.1 {status} X"),
            headers: String::new(),
            request: String::new(),
        }
    }

    #[test]
    fn hints_name_the_fix() {
        let h = |e: ProxyError| e.hint().unwrap_or_default();
        assert_eq!(
            h(refused("http://h:1", 407)),
            "the proxy wants credentials: put them in --proxy http://user:pass@host:port"
        );
        assert!(h(refused("http://u:***@h:1", 407)).contains("rejected the credentials"));
        assert!(h(refused("http://h:1", 403)).contains("--no-proxy"));
        assert!(h(refused("http://h:1", 502)).contains("could not reach the target"));
        assert!(h(refused("http://h:1", 405)).contains("CONNECT"));
        assert!(h(refused("http://h:1", 418)).contains("--proxy"));
        let socks = |m: &str| ProxyError::Socks {
            proxy: "socks5://h:1".into(),
            message: m.into(),
        };
        assert!(h(socks(SOCKS_WANTS_AUTH)).contains("socks5://user:pass@"));
        assert!(h(socks(&format!("{SOCKS_BAD_AUTH} (status 1)"))).contains("check the user"));
        assert!(h(socks(&format!("{SOCKS_NOT_SOCKS}: x"))).contains("http://"));
        assert!(h(socks(&format!("{SOCKS_LOCAL_DNS} (x): y"))).contains("socks5h://"));
        let connect = ProxyError::Connect {
            proxy: "http://h:1".into(),
            source: std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
        };
        assert!(connect
            .to_string()
            .starts_with("cannot reach proxy http://h:1: "));
        assert!(h(connect).contains("--proxy"));
    }

    #[test]
    fn a_407_for_another_scheme_says_only_basic_is_done() {
        let with = |headers: &str| ProxyError::Refused {
            proxy: "http://h:1".into(),
            status: 407,
            status_line: "HTTP/1.1 407 X".into(),
            headers: headers.into(),
            request: String::new(),
        };
        let h = with("Proxy-Authenticate: NTLM\r\nproxy-authenticate: Negotiate\r\n")
            .hint()
            .unwrap_or_default();
        assert!(h.contains("wants NTLM/Negotiate authentication"), "{h}");
        assert!(h.contains("only does Basic"), "{h}");
        let h = with("Proxy-Authenticate: Negotiate\r\nProxy-Authenticate: Basic realm=\"x\"\r\n")
            .hint()
            .unwrap_or_default();
        assert!(h.contains("put them in --proxy"), "{h}");
    }

    #[test]
    fn refused_displays_the_status_line() {
        let e = refused("http://h:1", 407);
        assert_eq!(
            e.to_string(),
            "proxy http://h:1 refused the tunnel: HTTP/1.1 407 X"
        );
    }

    #[test]
    fn authority_brackets_ipv6() {
        assert_eq!(authority("::1", 443), "[::1]:443");
        assert_eq!(authority("example.com", 80), "example.com:80");
        assert_eq!(authority("10.0.0.1", 80), "10.0.0.1:80");
    }

    use super::test_proxies as proxies;

    #[tokio::test]
    async fn socks5_local_dns_moves_on_to_the_next_address() {
        let echo = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let echo_addr = echo.local_addr().unwrap();
        tokio::spawn(async move {
            if let Ok((mut s, _)) = echo.accept().await {
                let (mut r, mut w) = s.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            }
        });
        let dead = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let dead_addr = dead.local_addr().unwrap();
        drop(dead);
        let (paddr, log) = proxies::socks5_proxy(None).await;
        let proxy = p(&format!("socks5://{paddr}"));

        let (mut s, trace) =
            socks5_first_reachable(&proxy, "dual.example", &[dead_addr, echo_addr], "")
                .await
                .unwrap();
        s.write_all(b"hi").await.unwrap();
        let mut buf = [0u8; 2];
        s.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hi");
        assert_eq!(
            log.targets(),
            vec![dead_addr.to_string(), echo_addr.to_string()]
        );
        assert_eq!(
            trace.request,
            format!("SOCKS5 CONNECT {echo_addr} (dual.example resolved locally)")
        );

        let err = socks5_first_reachable(&proxy, "dual.example", &[dead_addr], "")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("connection refused"), "{err}");
        let err = socks5_first_reachable(&proxy, "dual.example", &[], "")
            .await
            .unwrap_err();
        assert!(
            err.hint().unwrap_or_default().contains("socks5h://"),
            "{err}"
        );
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b").as_deref(), Ok("a b"));
        assert_eq!(percent_decode("100%").as_deref(), Ok("100%"));
        assert_eq!(percent_decode("%zz").as_deref(), Ok("%zz"));
        assert!(percent_decode("%ff").is_err());
    }
}
