//! Opening the tunnel: an HTTP CONNECT exchange or a SOCKS5 handshake with the proxy, traced for
//! `-v`, then the raw TCP stream to the WebSocket server.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use base64::Engine as _;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::*;
use crate::http::{head, HeadError, Kind};

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
    let (stream, trace) = match proxy.kind {
        ProxyKind::HttpConnect => {
            let mut stream = connect_proxy(proxy).await?;
            let trace = http_connect(&mut stream, proxy, target, target_port).await?;
            (stream, trace)
        }
        ProxyKind::Socks5 { remote_dns } => {
            socks5_connect(proxy, target, target_port, remote_dns).await?
        }
    };
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
    let (answer, after) = head::read(stream, Kind::Response)
        .await
        .map_err(|e| match e {
            HeadError::Io(e) => io_err(e),
            other => malformed(unreadable_answer(other)),
        })?;
    let status = answer.status();
    let head = answer.text;
    if (200..300).contains(&status) {
        // ws and wss clients speak first, so anything here is not from the
        // target: passing it on would desynchronise TLS or the handshake.
        if !after.is_empty() {
            return Err(malformed(format!(
                "it sent {} bytes after '{}' before we spoke",
                after.len(),
                head.lines().next().unwrap_or("").trim_end()
            )));
        }
        return Ok(ProxyTrace {
            request: shown,
            response: head,
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

/// Why the proxy's answer to CONNECT could not be read (not an I/O error).
fn unreadable_answer(e: HeadError) -> String {
    match e {
        HeadError::Ended { received: 0, .. } => {
            "it closed the connection without answering CONNECT".to_string()
        }
        HeadError::Ended { .. } => {
            "it closed the connection in the middle of its answer".to_string()
        }
        HeadError::Io(e) => format!("reading its answer failed: {e}"),
        HeadError::TooLarge => format!(
            "its answer to CONNECT has no end within {} KiB",
            head::MAX_HEAD / 1024
        ),
        HeadError::TooManyHeaders => format!(
            "its answer to CONNECT has more than {} headers",
            head::MAX_HEADERS
        ),
        HeadError::Malformed { why, start } => format!(
            "not an HTTP response ({why}): {:?}",
            String::from_utf8_lossy(&start)
        ),
    }
}

async fn socks5_connect(
    proxy: &Proxy,
    host: &str,
    port: u16,
    remote_dns: bool,
) -> Result<(TcpStream, ProxyTrace), ProxyError> {
    let socks_err = |message: String| ProxyError::Socks {
        proxy: proxy.url.clone(),
        failure: SocksFailure::LocalDns,
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
        return Ok((stream, ProxyTrace { request, response }));
    }

    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| socks_err(format!("{SOCKS_LOCAL_DNS} ({host}): {e}")))?
        .collect();
    socks5_first_reachable(proxy, host, &addrs, &as_user).await
}

/// Dual-stack names (localhost!) resolve to several addresses and the server
/// may listen on only one, so move on when the proxy says the target is unreachable.
/// Public for the integration tests, which drive the address fallback directly.
#[doc(hidden)]
pub async fn socks5_first_reachable(
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
                };
                return Ok((stream, trace));
            }
            Err(e) if is_target_failure(&e) => last_err = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_err.unwrap_or_else(|| ProxyError::Socks {
        proxy: proxy.url.clone(),
        failure: SocksFailure::LocalDns,
        message: format!("{SOCKS_LOCAL_DNS} ({host}): no addresses"),
    }))
}

fn is_target_failure(e: &ProxyError) -> bool {
    matches!(
        e,
        ProxyError::Socks {
            failure: SocksFailure::Target,
            ..
        }
    )
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
    result.map(|s| s.into_inner()).map_err(|e| {
        let (failure, message) = socks_failure(e, &described);
        ProxyError::Socks {
            proxy: proxy.url.clone(),
            failure,
            message,
        }
    })
}

fn describe_target<'t>(target: impl tokio_socks::IntoTargetAddr<'t>) -> String {
    match target.into_target_addr() {
        Ok(tokio_socks::TargetAddr::Ip(addr)) => addr.to_string(),
        Ok(tokio_socks::TargetAddr::Domain(name, port)) => format!("{name}:{port}"),
        Err(_) => "the target".to_string(),
    }
}

/// What a tokio-socks error means, and how to say it.
fn socks_failure(e: tokio_socks::Error, target: &str) -> (SocksFailure, String) {
    use tokio_socks::Error as E;
    use SocksFailure::*;
    match e {
        E::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => (
            NotSocks,
            format!("{SOCKS_NOT_SOCKS}: it closed the connection during the handshake"),
        ),
        E::Io(io) => (
            Other,
            format!("I/O error during the SOCKS5 handshake: {io}"),
        ),
        E::InvalidResponseVersion | E::InvalidReservedByte | E::UnknownAddressType => (
            NotSocks,
            format!("{SOCKS_NOT_SOCKS}: its answer is not a SOCKS5 reply ({e})"),
        ),
        E::NoAcceptableAuthMethods | E::AuthorizationRequired => {
            (WantsAuth, SOCKS_WANTS_AUTH.to_string())
        }
        E::PasswordAuthFailure(code) => (BadAuth, format!("{SOCKS_BAD_AUTH} (status {code})")),
        E::ConnectionRefused => (
            Target,
            format!("{SOCKS_TARGET} {target}: connection refused"),
        ),
        E::HostUnreachable => (Target, format!("{SOCKS_TARGET} {target}: host unreachable")),
        E::NetworkUnreachable => (
            Target,
            format!("{SOCKS_TARGET} {target}: network unreachable"),
        ),
        E::TtlExpired => (Target, format!("{SOCKS_TARGET} {target}: TTL expired")),
        E::GeneralSocksServerFailure => (
            Target,
            format!("{SOCKS_TARGET} {target}: general SOCKS server failure"),
        ),
        E::ConnectionNotAllowedByRuleset => (
            Other,
            format!("the proxy's rules forbid a tunnel to {target}"),
        ),
        other => (Other, format!("handshake failed: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_brackets_ipv6() {
        assert_eq!(authority("::1", 443), "[::1]:443");
        assert_eq!(authority("example.com", 80), "example.com:80");
        assert_eq!(authority("10.0.0.1", 80), "10.0.0.1:80");
    }
}
