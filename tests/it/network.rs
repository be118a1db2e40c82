//! Network reach, end to end through the real binary: HTTP CONNECT and SOCKS5 proxies (flags and
//! environment), `-L` redirects, IPv6 literals and `ws+unix://` servers. Every peer is in-process
//! on loopback port 0 (or a socket in a temp dir); the proxies' logs prove where traffic went.

use crate::support;

use std::net::SocketAddr;
use std::process::Output;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http;

use support::proxies::{self, HttpProxyOpts};
use support::wscope;

/// What a test server saw: one `"<path> host=<Host header>"` per upgrade request, redirects included.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>, Arc<Mutex<Vec<String>>>);

impl Seen {
    /// `"<path> <Authorization or -> <Cookie or ->"` per request.
    fn credentials(&self) -> Vec<String> {
        self.1.lock().map(|v| v.clone()).unwrap_or_default()
    }
    fn requests(&self) -> Vec<String> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
    fn paths(&self) -> Vec<String> {
        self.requests()
            .iter()
            .map(|r| r.split(' ').next().unwrap_or("").to_string())
            .collect()
    }
}

/// `(path, status, Location)`: requests for `path` are answered with a redirect instead of a 101.
type Redirects = Vec<(&'static str, u16, String)>;

/// A tokio-tungstenite server on one accepted stream: redirect or upgrade, then echo data messages.
// tungstenite's callback type fixes the size of the error response.
#[allow(clippy::result_large_err)]
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(stream: S, redirects: Redirects, seen: Seen) {
    let callback = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        let host = req
            .headers()
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let path = req.uri().to_string();
        if let Ok(mut v) = seen.0.lock() {
            v.push(format!("{path} host={host}"));
        }
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("-")
                .to_string()
        };
        if let Ok(mut v) = seen.1.lock() {
            v.push(format!(
                "{path} {} {}",
                header("authorization"),
                header("cookie")
            ));
        }
        match redirects.iter().find(|(p, _, _)| *p == path) {
            Some((_, status, location)) => {
                let mut r = ErrorResponse::new(None);
                *r.status_mut() = http::StatusCode::from_u16(*status).unwrap_or_default();
                if let Ok(v) = http::HeaderValue::from_str(location) {
                    r.headers_mut().insert("location", v);
                }
                Err(r)
            }
            None => Ok(resp),
        }
    };
    let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
        return;
    };
    while let Some(Ok(m)) = ws.next().await {
        if (m.is_text() || m.is_binary()) && ws.send(m).await.is_err() {
            return;
        }
    }
}

/// An echo WebSocket server on `listener` that can also redirect.
fn ws_server(listener: TcpListener, redirects: Redirects) -> (SocketAddr, Seen) {
    let addr = listener.local_addr().expect("local_addr");
    let seen = Seen::default();
    let task_seen = seen.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            tokio::spawn(serve(s, redirects.clone(), task_seen.clone()));
        }
    });
    (addr, seen)
}

async fn echo_server() -> (SocketAddr, Seen) {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    ws_server(l, Vec::new())
}

/// A raw TCP server that answers every request with `status` and a `Location`, then hangs up.
async fn raw_redirector(status: u16, location: String) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("local_addr");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let location = location.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let reply = format!(
                    "HTTP/1.1 {status} Moved\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n"
                );
                let _ = s.write_all(reply.as_bytes()).await;
            });
        }
    });
    addr
}

/// Run a prepared command off the runtime, so the in-process servers keep running meanwhile.
async fn run(mut cmd: assert_cmd::Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("run wscope"))
        .await
        .expect("join the wscope run")
}

/// `wscope URL -x hello --once`: one echo round trip.
fn hello(url: &str) -> assert_cmd::Command {
    let mut c = wscope();
    c.args([url, "-x", "hello", "--once"]);
    c
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit code and both streams, for assertion messages.
fn show(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        out(o),
        err(o)
    )
}

fn assert_echoed(o: &Output) {
    assert_eq!(o.status.code(), Some(0), "{}", show(o));
    assert_eq!(out(o), "hello\n", "{}", show(o));
}

// ---------------------------------------------------------------- HTTP CONNECT

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_connect_proxy_carries_the_connection_and_verbose_shows_the_hop() {
    let (server, _) = echo_server().await;
    let (proxy, log) = proxies::http_connect_proxy(HttpProxyOpts::default()).await;
    let mut c = hello(&format!("ws://{server}/"));
    c.args(["--proxy", &format!("http://{proxy}"), "-v"]);
    let o = run(c).await;
    assert_echoed(&o);
    assert_eq!(log.targets(), vec![server.to_string()]);
    let e = err(&o);
    assert!(e.contains(&format!("* proxy http://{proxy}")), "{e}");
    assert!(
        e.contains(&format!("> CONNECT {server} HTTP/1.1")),
        "the CONNECT request is shown: {e}"
    );
    assert!(e.contains("< HTTP/1.1 200 Connection established"), "{e}");
    assert!(
        e.lines()
            .any(|l| l.trim_start().starts_with("proxy ") && l.ends_with("ms")),
        "a proxy row in the Timings table: {e}"
    );
    assert!(e.contains(&format!("via proxy http://{proxy}")), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_connect_proxy_sends_basic_credentials_and_hides_them() {
    let (server, _) = echo_server().await;
    let opts = HttpProxyOpts {
        require_auth: Some(("al ice".into(), "p@ss:word".into())),
        ..HttpProxyOpts::default()
    };
    let (proxy, log) = proxies::http_connect_proxy(opts).await;
    let mut c = hello(&format!("ws://{server}/"));
    c.args([
        "--proxy",
        &format!("http://al%20ice:p%40ss%3Aword@{proxy}"),
        "-v",
    ]);
    let o = run(c).await;
    assert_echoed(&o);
    let token = base64::engine::general_purpose::STANDARD.encode("al ice:p@ss:word");
    assert_eq!(log.authorizations(), vec![format!("Basic {token}")]);
    let e = err(&o);
    assert!(e.contains("> Proxy-Authorization: Basic ***"), "{e}");
    assert!(
        !e.contains(&token) && !e.contains("p%40ss"),
        "secrets leak: {e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_407_is_a_connect_failure_naming_the_status_and_the_flag() {
    let (server, seen) = echo_server().await;
    let opts = HttpProxyOpts {
        require_auth: Some(("u".into(), "p".into())),
        ..HttpProxyOpts::default()
    };
    let (proxy, _) = proxies::http_connect_proxy(opts).await;

    let mut c = hello(&format!("ws://{server}/"));
    c.args(["--proxy", &format!("http://{proxy}")]);
    let o = run(c).await;
    assert_eq!(o.status.code(), Some(3), "{}", show(&o));
    let e = err(&o);
    assert!(e.contains("407 Proxy Authentication Required"), "{e}");
    assert!(e.contains("--proxy http://user:pass@host:port"), "{e}");
    assert!(!e.contains("Timings"), "no report without -v: {e}");

    // -v shows the refused exchange, as curl -v does.
    let mut c = hello(&format!("ws://{server}/"));
    c.args(["--proxy", &format!("http://{proxy}"), "-v"]);
    let o = run(c).await;
    assert_eq!(o.status.code(), Some(3), "{}", show(&o));
    let e = err(&o);
    assert!(e.contains(&format!("> CONNECT {server} HTTP/1.1")), "{e}");
    assert!(
        e.contains("< Proxy-Authenticate: Basic realm=\"wscope-test\""),
        "{e}"
    );
    assert!(
        e.lines().any(|l| l.trim_start().starts_with("proxy ")),
        "{e}"
    );

    let mut c = hello(&format!("ws://{server}/"));
    c.args(["--proxy", &format!("http://u:wrong@{proxy}")]);
    let o = run(c).await;
    assert_eq!(o.status.code(), Some(3), "{}", show(&o));
    assert!(err(&o).contains("rejected the credentials"), "{}", show(&o));
    assert!(!err(&o).contains("wrong"), "the password is hidden");
    assert!(seen.requests().is_empty(), "nothing reached the server");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_refusals_and_dead_proxies_exit_3_with_a_hint() {
    let (server, _) = echo_server().await;
    let opts = HttpProxyOpts {
        refuse_with: Some("403 Forbidden".into()),
        ..HttpProxyOpts::default()
    };
    let (proxy, _) = proxies::http_connect_proxy(opts).await;
    let mut c = hello(&format!("ws://{server}/"));
    c.args(["--proxy", &format!("http://{proxy}")]);
    let o = run(c).await;
    assert_eq!(o.status.code(), Some(3), "{}", show(&o));
    assert!(err(&o).contains("403 Forbidden"), "{}", show(&o));
    assert!(err(&o).contains("--no-proxy"), "{}", show(&o));

    let dead = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let dead_addr = dead.local_addr().expect("local_addr");
    drop(dead);
    let mut c = hello(&format!("ws://{server}/"));
    c.args(["--proxy", &format!("http://{dead_addr}")]);
    let o = run(c).await;
    assert_eq!(o.status.code(), Some(3), "{}", show(&o));
    assert!(
        err(&o).contains(&format!("cannot reach proxy http://{dead_addr}")),
        "{}",
        show(&o)
    );

    let mut c = hello(&format!("ws://{server}/"));
    c.args(["--proxy", "ftp://h:1"]);
    let o = run(c).await;
    assert_eq!(
        o.status.code(),
        Some(2),
        "a bad --proxy is a usage error: {}",
        show(&o)
    );
    assert!(err(&o).contains("unsupported scheme 'ftp'"), "{}", show(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_proxy_times_out_within_connect_timeout() {
    let silent = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = silent.local_addr().expect("local_addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    let mut c = hello("ws://127.0.0.1:9/");
    c.args([
        "--proxy",
        &format!("http://{addr}"),
        "--connect-timeout",
        "0.5",
    ]);
    let started = std::time::Instant::now();
    let o = run(c).await;
    assert_eq!(o.status.code(), Some(3), "{}", show(&o));
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let e = err(&o);
    assert!(e.contains("connecting through the proxy timed out"), "{e}");
    assert!(e.contains("--connect-timeout"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_reports_the_proxy_hop_and_its_timing() {
    let (server, _) = echo_server().await;
    let (proxy, log) = proxies::http_connect_proxy(HttpProxyOpts::default()).await;
    let mut c = wscope();
    c.args(["inspect", &format!("ws://{server}/")]);
    c.args(["--proxy", &format!("http://{proxy}")]);
    let o = run(c).await;
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let s = out(&o);
    assert!(s.contains(&format!("> CONNECT {server} HTTP/1.1")), "{s}");
    assert!(s.contains("< HTTP/1.1 200"), "{s}");
    assert!(
        s.lines().any(|l| l.trim_start().starts_with("proxy ")),
        "{s}"
    );
    assert_eq!(log.targets().len(), 1);

    let mut c = wscope();
    c.args(["inspect", "--json", &format!("ws://{server}/")]);
    c.args(["--proxy", &format!("http://{proxy}")]);
    let o = run(c).await;
    let v: serde_json::Value = serde_json::from_str(out(&o).trim()).expect("one JSON object");
    assert_eq!(v["proxy"]["url"], format!("http://{proxy}"), "{v}");
    assert!(v["timings"]["proxy"].is_number(), "{v}");
}

/// A wss:// echo server on 127.0.0.1 with a certificate for `localhost` signed by a throwaway CA;
/// returns its address and the CA's PEM file (in `dir`) for `--ca`.
async fn wss_server(
    dir: &std::path::Path,
    redirects: Redirects,
) -> (SocketAddr, std::path::PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    // Issuer and subject must differ, or the leaf looks self-signed.
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "wscope network test CA");
    let ca_cert = ca_params.self_signed(&ca_key).expect("CA cert");
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().expect("leaf key");
    let mut leaf = CertificateParams::new(vec!["localhost".to_string()]).expect("leaf params");
    leaf.distinguished_name
        .push(DnType::CommonName, "localhost");
    let cert = leaf.signed_by(&key, &issuer).expect("leaf cert");
    let ca_path = dir.join("ca.pem");
    std::fs::write(&ca_path, ca_cert.pem()).expect("write ca.pem");
    let identity =
        native_tls::Identity::from_pkcs8(cert.pem().as_bytes(), key.serialize_pem().as_bytes())
            .expect("identity");
    let acceptor = tokio_native_tls::TlsAcceptor::from(
        native_tls::TlsAcceptor::new(identity).expect("TLS acceptor"),
    );
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("local_addr");
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            let (acceptor, redirects) = (acceptor.clone(), redirects.clone());
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(s).await {
                    serve(tls, redirects, Seen::default()).await;
                }
            });
        }
    });
    (addr, ca_path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wss_through_http_and_socks_proxies_verifies_the_target_certificate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (server, ca) = wss_server(dir.path(), Vec::new()).await;
    let url = format!("wss://localhost:{}/", server.port());
    let ca = ca.display().to_string();

    let (proxy, log) = proxies::http_connect_proxy(HttpProxyOpts::default()).await;
    let mut c = hello(&url);
    c.args(["--ca", &ca, "-v"])
        .env("HTTPS_PROXY", format!("http://{proxy}"));
    let o = run(c).await;
    assert_echoed(&o);
    assert_eq!(log.targets(), [format!("localhost:{}", server.port())]);
    let e = err(&o);
    assert!(e.contains("* TLS"), "TLS runs inside the tunnel: {e}");
    for row in ["proxy ", "tls "] {
        assert!(
            e.lines().any(|l| l.trim_start().starts_with(row)),
            "{row}: {e}"
        );
    }

    let (proxy, log) = proxies::socks5_proxy(None).await;
    let mut c = hello(&url);
    c.args(["--ca", &ca, "--proxy", &format!("socks5h://{proxy}")]);
    assert_echoed(&run(c).await);
    assert_eq!(log.targets(), [format!("localhost:{}", server.port())]);

    // Through the tunnel the certificate is still checked against the target's name, and -v
    // still shows the tunnel that worked above the TLS error.
    let (proxy, _) = proxies::http_connect_proxy(HttpProxyOpts::default()).await;
    let mut c = hello(&format!("wss://127.0.0.1:{}/", server.port()));
    c.args(["--ca", &ca, "--proxy", &format!("http://{proxy}"), "-v"]);
    let o = run(c).await;
    assert_eq!(o.status.code(), Some(4), "{}", show(&o));
    let e = err(&o);
    let connect = e
        .find(&format!("> CONNECT 127.0.0.1:{} HTTP/1.1", server.port()))
        .unwrap_or_else(|| panic!("no CONNECT request shown: {e}"));
    let answer = e.find("< HTTP/1.1 200").expect("no proxy answer shown");
    let error = e.find("error: TLS").expect("no TLS error");
    assert!(connect < answer && answer < error, "{e}");
}

// ---------------------------------------------------------------- SOCKS5

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socks5_resolves_locally_and_socks5h_lets_the_proxy_resolve() {
    let (server, _) = echo_server().await;
    let port = server.port();
    let (proxy, log) = proxies::socks5_proxy(None).await;

    let mut c = hello(&format!("ws://localhost:{port}/"));
    c.args(["--proxy", &format!("socks5://{proxy}"), "-v"]);
    let o = run(c).await;
    assert_echoed(&o);
    assert_eq!(
        log.targets().last(),
        Some(&format!("127.0.0.1:{port}")),
        "socks5:// sends an address, not the name"
    );
    assert!(err(&o).contains("resolved locally"), "{}", show(&o));

    let (proxy, log) = proxies::socks5_proxy(None).await;
    let mut c = hello(&format!("ws://localhost:{port}/"));
    c.args(["--proxy", &format!("socks5h://{proxy}"), "-v"]);
    let o = run(c).await;
    assert_echoed(&o);
    assert_eq!(log.targets(), vec![format!("localhost:{port}")]);
    assert!(
        err(&o).contains("the proxy resolves the name"),
        "{}",
        show(&o)
    );
    assert!(
        err(&o)
            .lines()
            .any(|l| l.trim_start().starts_with("proxy ")),
        "{}",
        show(&o)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socks5_with_username_and_password() {
    let (server, _) = echo_server().await;
    let (proxy, log) = proxies::socks5_proxy(Some(("bob".into(), "s3cret".into()))).await;
    let mut c = hello(&format!("ws://{server}/"));
    c.args(["--proxy", &format!("socks5h://bob:s3cret@{proxy}")]);
    let o = run(c).await;
    assert_echoed(&o);
    assert_eq!(
        log.entries(),
        vec![
            "SOCKS5 AUTH bob:s3cret".to_string(),
            format!("SOCKS5 CONNECT {server}")
        ]
    );

    let mut c = hello(&format!("ws://{server}/"));
    c.args(["--proxy", &format!("socks5://{proxy}")]);
    let o = run(c).await;
    assert_eq!(o.status.code(), Some(3), "{}", show(&o));
    assert!(
        err(&o).contains("--proxy socks5://user:pass@host:port"),
        "{}",
        show(&o)
    );

    let mut c = hello(&format!("ws://{server}/"));
    c.args(["--proxy", &format!("socks5://bob:nope@{proxy}")]);
    let o = run(c).await;
    assert_eq!(o.status.code(), Some(3), "{}", show(&o));
    assert!(
        err(&o).contains("rejected the username/password"),
        "{}",
        show(&o)
    );
    assert!(!err(&o).contains("nope"), "the password is hidden");
}

// ---------------------------------------------------------------- environment

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environment_proxies_follow_curls_rules() {
    let (server, _) = echo_server().await;
    let url = format!("ws://{server}/");
    let (proxy, log) = proxies::http_connect_proxy(HttpProxyOpts::default()).await;
    let purl = format!("http://{proxy}");
    let through = |log: &proxies::ProxyLog| log.targets().len();

    // ws:// uses HTTP_PROXY (either case) or ALL_PROXY, never HTTPS_PROXY.
    for var in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] {
        let before = through(&log);
        let mut c = hello(&url);
        c.env(var, &purl);
        let o = run(c).await;
        assert_echoed(&o);
        assert_eq!(through(&log), before + 1, "{var} is used for ws://");
        assert!(err(&o).contains("via proxy"), "{var}: {}", show(&o));
    }
    let before = through(&log);
    let mut c = hello(&url);
    c.env("HTTPS_PROXY", &purl);
    let o = run(c).await;
    assert_echoed(&o);
    assert_eq!(through(&log), before, "HTTPS_PROXY is for wss:// only");

    // NO_PROXY and --no-proxy go direct.
    for (no_proxy, flag) in [
        (Some("127.0.0.1"), None),
        (Some("localhost, 127.0.0.0/8"), None),
        (Some("*"), None),
        (None, Some("--no-proxy")),
    ] {
        let mut c = hello(&url);
        c.env("HTTP_PROXY", &purl);
        if let Some(v) = no_proxy {
            c.env("no_proxy", v);
        }
        if let Some(f) = flag {
            c.arg(f);
        }
        let o = run(c).await;
        assert_echoed(&o);
        assert_eq!(through(&log), before, "{no_proxy:?} {flag:?} goes direct");
        assert!(!err(&o).contains("via proxy"), "{}", show(&o));
    }
    // A NO_PROXY entry for another port does not exempt this one.
    let mut c = hello(&url);
    c.env("HTTP_PROXY", &purl)
        .env("NO_PROXY", format!("127.0.0.1:{}", server.port() ^ 1));
    assert_echoed(&run(c).await);
    assert_eq!(through(&log), before + 1);
    // --proxy wins over the environment.
    let (other, other_log) = proxies::http_connect_proxy(HttpProxyOpts::default()).await;
    let mut c = hello(&url);
    c.env("HTTP_PROXY", &purl)
        .args(["--proxy", &format!("http://{other}")]);
    assert_echoed(&run(c).await);
    assert_eq!(other_log.targets().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wss_uses_https_proxy_from_the_environment() {
    // A plain ws server behind wss:// fails TLS (exit 4), but only after the tunnel: the
    // proxy's log shows which variable was used.
    let (server, _) = echo_server().await;
    let url = format!("wss://{server}/");
    let (proxy, log) = proxies::http_connect_proxy(HttpProxyOpts::default()).await;
    let purl = format!("http://{proxy}");

    for var in ["HTTPS_PROXY", "https_proxy", "ALL_PROXY"] {
        let before = log.targets().len();
        let mut c = hello(&url);
        c.env(var, &purl).args(["--connect-timeout", "5"]);
        let o = run(c).await;
        assert_eq!(o.status.code(), Some(4), "{var}: {}", show(&o));
        assert_eq!(log.targets().len(), before + 1, "{var} is used for wss://");
    }
    let before = log.targets().len();
    let mut c = hello(&url);
    c.env("HTTP_PROXY", &purl).args(["--connect-timeout", "5"]);
    let o = run(c).await;
    assert_eq!(o.status.code(), Some(4), "{}", show(&o));
    assert_eq!(log.targets().len(), before, "HTTP_PROXY is for ws:// only");

    let mut c = hello(&url);
    c.env("HTTPS_PROXY", "ftp://nope");
    let o = run(c).await;
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(
        err(&o).contains("HTTPS_PROXY"),
        "names the variable: {}",
        show(&o)
    );
}

// ---------------------------------------------------------------- redirects

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn location_follows_a_302_and_prints_the_hop() {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let (server, seen) = ws_server(l, vec![("/old", 302, "/new".into())]);
    let mut c = hello(&format!("ws://{server}/old"));
    c.arg("-L");
    let o = run(c).await;
    assert_echoed(&o);
    assert_eq!(seen.paths(), ["/old", "/new"]);
    let e = err(&o);
    assert!(
        e.contains(&format!("redirect 302 ws://{server}/old -> /new")),
        "one line per hop without -v: {e}"
    );
    assert!(
        e.contains(&format!("connected to ws://{server}/new")),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_open_event_lists_the_redirect_hops() {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let (server, _seen) = ws_server(l, vec![("/old", 302, "/new".into())]);
    let mut c = hello(&format!("ws://{server}/old"));
    c.args(["-L", "--json"]);
    let o = run(c).await;
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let open: serde_json::Value = out(&o)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["event"] == "open")
        .unwrap_or_else(|| panic!("no open event: {}", show(&o)));
    assert_eq!(open["url"], format!("ws://{server}/new"));
    assert_eq!(open["redirects"][0]["status"], 302);
    assert_eq!(open["redirects"][0]["location"], "/new");
    assert_eq!(open["proxy"], serde_json::Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn location_follows_every_redirect_status_across_servers() {
    let (last, last_seen) = echo_server().await;
    let raw = raw_redirector(308, format!("ws://{last}/end")).await;
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let (first, seen) = ws_server(
        l,
        vec![
            ("/a", 301, "/b".into()),
            ("/b", 303, "c".into()),
            ("/c", 307, format!("ws://{raw}/raw")),
        ],
    );
    let mut c = hello(&format!("ws://{first}/a"));
    c.args(["--location", "-v"]);
    let o = run(c).await;
    assert_echoed(&o);
    assert_eq!(seen.paths(), ["/a", "/b", "/c"]);
    assert_eq!(last_seen.requests(), [format!("/end host={last}")]);
    let e = err(&o);
    for hop in [
        format!("redirect 301 ws://{first}/a -> /b"),
        format!("redirect 303 ws://{first}/b -> c"),
        format!("redirect 307 ws://{first}/c -> ws://{raw}/raw"),
        format!("redirect 308 ws://{raw}/raw -> ws://{last}/end"),
    ] {
        assert_eq!(e.matches(&hop).count(), 1, "{hop}, once with -v: {e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_redirects_prints_only_the_hops_it_follows() {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let (server, seen) = ws_server(l, vec![("/a", 302, "/b".into()), ("/b", 302, "/c".into())]);
    let mut c = hello(&format!("ws://{server}/a"));
    c.args(["-L", "--max-redirects", "1"]);
    let o = run(c).await;
    assert_eq!(o.status.code(), Some(5), "{}", show(&o));
    assert_eq!(seen.paths(), ["/a", "/b"]);
    let e = err(&o);
    assert!(
        e.contains(&format!("redirect 302 ws://{server}/a -> /b")),
        "{e}"
    );
    assert!(
        !e.contains(&format!("redirect 302 ws://{server}/b -> /c")),
        "the refused hop is in the error, not printed as followed: {e}"
    );
    assert!(e.contains("too many redirects"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirects_note_comes_after_its_redirect_line() {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("addr");
    let (server, _seen) = ws_server(l, vec![("/a", 302, format!("http://{addr}/b"))]);
    let mut c = hello(&format!("http://{server}/a"));
    c.arg("-L");
    let o = run(c).await;
    assert_echoed(&o);
    let e = err(&o);
    let lines: Vec<&str> = e.lines().collect();
    let at = |needle: &str| {
        lines
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in {e}"))
    };
    let first_note = at("mapped to ws://");
    let hop = at("redirect 302");
    let second_note = lines
        .iter()
        .rposition(|l| l.contains("mapped to ws://"))
        .unwrap_or(0);
    assert!(first_note < hop, "the URL's own note first: {e}");
    assert!(hop < second_note, "the Location's note after its hop: {e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_follow_redirects_only_on_the_same_server() {
    let (other, other_seen) = echo_server().await;
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let (server, seen) = ws_server(
        l,
        vec![
            ("/a", 302, "/b".into()),
            ("/b", 302, format!("ws://{other}/c")),
        ],
    );
    let mut c = hello(&format!("ws://{server}/a"));
    c.args(["-L", "--auth", "u:p", "-H", "Cookie: sid=1"]);
    let o = run(c).await;
    assert_echoed(&o);
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("u:p")
    );
    assert_eq!(
        seen.credentials(),
        [format!("/a {basic} sid=1"), format!("/b {basic} sid=1")]
    );
    assert_eq!(
        other_seen.credentials(),
        ["/c - -"],
        "nothing for another server"
    );
    assert!(
        err(&o).contains("are not sent to"),
        "the user is told: {}",
        show(&o)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_from_wss_to_ws_is_followed_with_a_note() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (plain, _) = echo_server().await;
    let (server, ca) = wss_server(dir.path(), vec![("/", 302, format!("ws://{plain}/"))]).await;
    let mut c = hello(&format!("wss://localhost:{}/", server.port()));
    c.args(["-L", "--ca", &ca.display().to_string()]);
    let o = run(c).await;
    assert_echoed(&o);
    assert!(err(&o).contains("leaves TLS"), "{}", show(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_location_a_redirect_says_use_l_and_shows_where() {
    let raw = raw_redirector(302, "/elsewhere".into()).await;
    let o = run(hello(&format!("ws://{raw}/"))).await;
    assert_eq!(o.status.code(), Some(5), "{}", show(&o));
    let e = err(&o);
    assert!(e.contains("302"), "{e}");
    assert!(
        e.contains("Location: /elsewhere"),
        "the Location is shown: {e}"
    );
    assert!(e.contains("-L/--location"), "{e}");

    // 300 and 304 are not redirects to follow, even with -L.
    let raw = raw_redirector(304, "/x".into()).await;
    let mut c = hello(&format!("ws://{raw}/"));
    c.arg("-L");
    let o = run(c).await;
    assert_eq!(o.status.code(), Some(5), "{}", show(&o));
    assert!(!err(&o).contains("redirect 304"), "{}", show(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_loops_and_long_chains_fail_naming_the_limit() {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let (server, seen) = ws_server(
        l,
        vec![
            ("/x", 302, "/y".into()),
            ("/y", 302, "/x".into()),
            ("/1", 302, "/2".into()),
            ("/2", 302, "/3".into()),
            ("/3", 302, "/4".into()),
        ],
    );
    let mut c = hello(&format!("ws://{server}/x"));
    c.arg("-L");
    let o = run(c).await;
    assert_eq!(o.status.code(), Some(5), "{}", show(&o));
    assert!(err(&o).contains("redirect loop"), "{}", show(&o));
    assert!(err(&o).contains("--max-redirects"), "{}", show(&o));
    assert_eq!(seen.paths(), ["/x", "/y"]);

    let mut c = hello(&format!("ws://{server}/1"));
    c.args(["-L", "--max-redirects", "2"]);
    let o = run(c).await;
    assert_eq!(o.status.code(), Some(5), "{}", show(&o));
    let e = err(&o);
    assert!(e.contains("the limit is 2 (--max-redirects)"), "{e}");
    assert!(e.contains("redirect 302 ws://"), "the hops are shown: {e}");
    assert!(!e.contains("follow it with -L"), "-L is already on: {e}");
    assert_eq!(&seen.paths()[2..], ["/1", "/2", "/3"], "stops at the limit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_network_server_cannot_redirect_to_a_unix_socket() {
    let raw = raw_redirector(302, "ws+unix:///var/run/docker.sock:/".into()).await;
    let mut c = hello(&format!("ws://{raw}/"));
    c.arg("-L");
    let o = run(c).await;
    assert_eq!(o.status.code(), Some(5), "{}", show(&o));
    assert!(
        err(&o).contains("may not redirect to a Unix socket"),
        "{}",
        show(&o)
    );
}

// ---------------------------------------------------------------- IPv6 and Unix sockets

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_literals_direct_and_through_a_proxy() {
    let Ok(l) = TcpListener::bind("[::1]:0").await else {
        eprintln!("skipped: cannot bind [::1] on this machine");
        return;
    };
    let (server, seen) = ws_server(l, Vec::new());
    let port = server.port();
    let url = format!("ws://[::1]:{port}/six");
    let mut c = hello(&url);
    c.arg("-v");
    let o = run(c).await;
    assert_echoed(&o);
    assert!(
        err(&o).contains(&format!("connected to [::1]:{port}")),
        "{}",
        show(&o)
    );
    assert_eq!(seen.requests(), [format!("/six host=[::1]:{port}")]);

    let (proxy, log) = proxies::http_connect_proxy(HttpProxyOpts::default()).await;
    let mut c = hello(&url);
    c.args(["--proxy", &format!("http://{proxy}")]);
    assert_echoed(&run(c).await);
    assert_eq!(log.targets(), [format!("[::1]:{port}")]);

    let (proxy, log) = proxies::socks5_proxy(None).await;
    let mut c = hello(&url);
    c.args(["--proxy", &format!("socks5://{proxy}")]);
    assert_echoed(&run(c).await);
    assert_eq!(log.targets(), [format!("[::1]:{port}")]);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unix_socket_servers_with_wscats_url_form() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("app.sock");
    let listener = tokio::net::UnixListener::bind(&path).expect("bind a Unix socket");
    let seen = Seen::default();
    let task_seen = seen.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            let redirects = vec![("/old", 302, "/chat?x=1".into())];
            tokio::spawn(serve(s, redirects, task_seen.clone()));
        }
    });
    let sock = path.display().to_string();

    let mut c = hello(&format!("ws+unix://{sock}:/old"));
    // A Unix socket is never proxied, whatever the environment says.
    c.args(["-L", "-v"]).env("ALL_PROXY", "http://127.0.0.1:1");
    let o = run(c).await;
    assert_echoed(&o);
    assert_eq!(
        seen.requests(),
        ["/old host=localhost", "/chat?x=1 host=localhost"]
    );
    let e = err(&o);
    assert!(
        e.contains(&format!("connected to Unix socket {sock}")),
        "{e}"
    );
    assert!(
        e.contains(&format!("connected to ws+unix://{sock}:/chat?x=1")),
        "{e}"
    );
    assert!(
        e.contains(&format!("redirect 302 ws+unix://{sock}:/old -> /chat?x=1")),
        "{e}"
    );

    let missing = dir.path().join("missing.sock").display().to_string();
    let o = run(hello(&format!("ws+unix://{missing}:/"))).await;
    assert_eq!(o.status.code(), Some(3), "{}", show(&o));
    assert!(
        err(&o).contains(&format!("Unix socket {missing}")),
        "{}",
        show(&o)
    );

    let o = run(hello("ws+unix://relative.sock")).await;
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
}

/// Dual-stack names resolve to several addresses; a SOCKS5 proxy that cannot reach the first must
/// not end the attempt (driven directly: no name here resolves to two loopback addresses).
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
    let (paddr, log) = support::proxies::socks5_proxy(None).await;
    let proxy = wscope::dial::proxy::Proxy::parse(&format!("socks5://{paddr}")).unwrap();

    let (mut s, trace) = wscope::dial::proxy::socks5_first_reachable(
        &proxy,
        "dual.example",
        &[dead_addr, echo_addr],
        "",
    )
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

    let err = wscope::dial::proxy::socks5_first_reachable(&proxy, "dual.example", &[dead_addr], "")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("connection refused"), "{err}");
    let err = wscope::dial::proxy::socks5_first_reachable(&proxy, "dual.example", &[], "")
        .await
        .unwrap_err();
    assert!(
        err.hint().unwrap_or_default().contains("socks5h://"),
        "{err}"
    );
}
