//! In-process proxies for integration tests: an HTTP CONNECT proxy and a
//! hand-written SOCKS5 server (RFC 1928, with RFC 1929 username/password), each
//! on 127.0.0.1 port 0 and running as tasks on the caller's tokio runtime. They
//! record what clients asked for in a [`ProxyLog`] so tests can check that the
//! traffic really went through the proxy, and they only tunnel to loopback
//! addresses so a test can never reach out of the machine.
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What a test proxy saw, in order. Entries look like
/// `CONNECT host:port`, `Proxy-Authorization: Basic …` (HTTP),
/// `SOCKS5 CONNECT host:port` and `SOCKS5 AUTH user:pass` (SOCKS5).
#[derive(Clone, Debug, Default)]
pub struct ProxyLog(Arc<Mutex<Vec<String>>>);

impl ProxyLog {
    pub fn entries(&self) -> Vec<String> {
        match self.0.lock() {
            Ok(v) => v.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The `host:port` targets clients asked for, HTTP or SOCKS5 alike.
    pub fn targets(&self) -> Vec<String> {
        self.entries()
            .iter()
            .filter_map(|e| {
                e.strip_prefix("SOCKS5 CONNECT ")
                    .or_else(|| e.strip_prefix("CONNECT "))
                    .map(str::to_string)
            })
            .collect()
    }

    /// The raw Proxy-Authorization values received (HTTP only).
    pub fn authorizations(&self) -> Vec<String> {
        self.entries()
            .iter()
            .filter_map(|e| e.strip_prefix("Proxy-Authorization: ").map(str::to_string))
            .collect()
    }

    fn push(&self, entry: String) {
        match self.0.lock() {
            Ok(mut v) => v.push(entry),
            Err(poisoned) => poisoned.into_inner().push(entry),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct HttpProxyOpts {
    /// Demand these Basic credentials; anything else gets 407 with Proxy-Authenticate.
    pub require_auth: Option<(String, String)>,
    /// Answer every CONNECT with this status line (e.g. "403 Forbidden") instead of tunnelling.
    pub refuse_with: Option<String>,
}

async fn bind() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("bind a loopback port for a test proxy");
    let addr = listener
        .local_addr()
        .expect("local_addr of a bound listener");
    (listener, addr)
}

/// Resolve and connect to a tunnel target, but only on loopback.
async fn connect_loopback(host: &str, port: u16) -> std::io::Result<TcpStream> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await?
        .filter(|a| a.ip().is_loopback())
        .collect();
    if addrs.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "test proxies only tunnel to loopback",
        ));
    }
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::ErrorKind::NotFound.into()))
}

fn split_host_port(authority: &str) -> Option<(String, u16)> {
    let (host, port) = authority.rsplit_once(':')?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    Some((host.to_string(), port.parse().ok()?))
}

/// An HTTP CONNECT proxy on 127.0.0.1; returns its address and log.
pub async fn http_connect_proxy(opts: HttpProxyOpts) -> (SocketAddr, ProxyLog) {
    let (listener, addr) = bind().await;
    let log = ProxyLog::default();
    let task_log = log.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(serve_http(client, opts.clone(), task_log.clone()));
        }
    });
    (addr, log)
}

async fn serve_http(mut client: TcpStream, opts: HttpProxyOpts, log: ProxyLog) {
    // A CONNECT client waits for our answer before sending tunnel bytes, but
    // keep whatever followed the head anyway and forward it.
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 64 * 1024 {
            return;
        }
        match client.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let early = buf[head_end..].to_vec();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let mut authorization = None;
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("proxy-authorization") {
                authorization = Some(value.trim().to_string());
            }
        }
    }

    let reply = |status: &str, extra: &str| {
        format!("HTTP/1.1 {status}\r\n{extra}Content-Length: 0\r\n\r\n")
    };
    if method != "CONNECT" {
        let _ = client
            .write_all(reply("405 Method Not Allowed", "").as_bytes())
            .await;
        return;
    }
    log.push(format!("CONNECT {target}"));
    if let Some(a) = &authorization {
        log.push(format!("Proxy-Authorization: {a}"));
    }
    if let Some((user, pass)) = &opts.require_auth {
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
        );
        if authorization.as_deref() != Some(expected.as_str()) {
            let _ = client
                .write_all(
                    reply(
                        "407 Proxy Authentication Required",
                        "Proxy-Authenticate: Basic realm=\"wscope-test\"\r\n",
                    )
                    .as_bytes(),
                )
                .await;
            return;
        }
    }
    if let Some(status) = &opts.refuse_with {
        let _ = client.write_all(reply(status, "").as_bytes()).await;
        return;
    }
    let Some((host, port)) = split_host_port(target) else {
        let _ = client
            .write_all(reply("400 Bad Request", "").as_bytes())
            .await;
        return;
    };
    let mut upstream = match connect_loopback(&host, port).await {
        Ok(s) => s,
        Err(_) => {
            let _ = client
                .write_all(reply("502 Bad Gateway", "").as_bytes())
                .await;
            return;
        }
    };
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await
        .is_err()
    {
        return;
    }
    if !early.is_empty() && upstream.write_all(&early).await.is_err() {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}

/// A SOCKS5 proxy on 127.0.0.1 (CONNECT only; IPv4, IPv6 and domain targets);
/// with `require_auth`, only username/password auth with these credentials is accepted.
pub async fn socks5_proxy(require_auth: Option<(String, String)>) -> (SocketAddr, ProxyLog) {
    let (listener, addr) = bind().await;
    let log = ProxyLog::default();
    let task_log = log.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let (auth, log) = (require_auth.clone(), task_log.clone());
            tokio::spawn(async move {
                let _ = serve_socks5(client, auth, log).await;
            });
        }
    });
    (addr, log)
}

/// RFC 1928 reply with an all-zero IPv4 bound address (clients ignore it).
fn socks_reply(code: u8) -> [u8; 10] {
    [5, code, 0, 1, 0, 0, 0, 0, 0, 0]
}

async fn serve_socks5(
    mut client: TcpStream,
    require_auth: Option<(String, String)>,
    log: ProxyLog,
) -> std::io::Result<()> {
    let mut hdr = [0u8; 2];
    client.read_exact(&mut hdr).await?;
    if hdr[0] != 5 {
        return Ok(());
    }
    let mut methods = vec![0u8; hdr[1] as usize];
    client.read_exact(&mut methods).await?;
    let wanted = if require_auth.is_some() { 2 } else { 0 };
    if !methods.contains(&wanted) {
        client.write_all(&[5, 0xff]).await?;
        return Ok(());
    }
    client.write_all(&[5, wanted]).await?;

    if let Some((user, pass)) = &require_auth {
        let mut ver_len = [0u8; 2];
        client.read_exact(&mut ver_len).await?;
        let mut got_user = vec![0u8; ver_len[1] as usize];
        client.read_exact(&mut got_user).await?;
        let mut plen = [0u8; 1];
        client.read_exact(&mut plen).await?;
        let mut got_pass = vec![0u8; plen[0] as usize];
        client.read_exact(&mut got_pass).await?;
        let (got_user, got_pass) = (
            String::from_utf8_lossy(&got_user).into_owned(),
            String::from_utf8_lossy(&got_pass).into_owned(),
        );
        log.push(format!("SOCKS5 AUTH {got_user}:{got_pass}"));
        if ver_len[0] != 1 || &got_user != user || &got_pass != pass {
            client.write_all(&[1, 1]).await?;
            return Ok(());
        }
        client.write_all(&[1, 0]).await?;
    }

    let mut req = [0u8; 4];
    client.read_exact(&mut req).await?;
    let host = match req[3] {
        1 => {
            let mut a = [0u8; 4];
            client.read_exact(&mut a).await?;
            IpAddr::from(Ipv4Addr::from(a)).to_string()
        }
        4 => {
            let mut a = [0u8; 16];
            client.read_exact(&mut a).await?;
            IpAddr::from(Ipv6Addr::from(a)).to_string()
        }
        3 => {
            let mut len = [0u8; 1];
            client.read_exact(&mut len).await?;
            let mut name = vec![0u8; len[0] as usize];
            client.read_exact(&mut name).await?;
            String::from_utf8_lossy(&name).into_owned()
        }
        _ => {
            client.write_all(&socks_reply(8)).await?;
            return Ok(());
        }
    };
    let mut port = [0u8; 2];
    client.read_exact(&mut port).await?;
    let port = u16::from_be_bytes(port);
    let shown = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    log.push(format!("SOCKS5 CONNECT {shown}"));
    if req[0] != 5 || req[1] != 1 {
        client.write_all(&socks_reply(7)).await?;
        return Ok(());
    }
    let mut upstream = match connect_loopback(&host, port).await {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            client.write_all(&socks_reply(2)).await?;
            return Ok(());
        }
        Err(_) => {
            client.write_all(&socks_reply(5)).await?;
            return Ok(());
        }
    };
    client.write_all(&socks_reply(0)).await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}
