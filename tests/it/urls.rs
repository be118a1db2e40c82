//! Where wscope goes and what it takes along: international host names (punycode on the wire, never
//! a panic, whether typed or sent by a server in a Location) and credentials across a redirect that
//! leaves TLS. No DNS is needed: a fake proxy on loopback sees the names wscope asks for.

use crate::support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use support::servers::Pki;
use support::{run, Out};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the fake proxy saw, one entry per connection: the CONNECT line, then the upgrade request
/// head that came through the "tunnel" (or `TLS` when a ClientHello came instead).
type Log = Arc<Mutex<Vec<(String, String)>>>;

async fn read_head<S: AsyncRead + Unpin>(s: &mut S) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if buf.first() == Some(&0x16) {
            return Some("TLS".into());
        }
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}

/// An HTTP CONNECT "proxy" that tunnels nowhere: it answers 200, then plays the server itself,
/// answering each upgrade request with `respond(head)`. Names are never resolved.
async fn fake_proxy(respond: fn(&str) -> String) -> (SocketAddr, Log) {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("local_addr");
    let log = Log::default();
    let task_log = log.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let log = task_log.clone();
            tokio::spawn(async move {
                let Some(connect) = read_head(&mut s).await else {
                    return;
                };
                let connect = connect.lines().next().unwrap_or("").to_string();
                let _ = s
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await;
                let head = read_head(&mut s).await.unwrap_or_default();
                log.lock().unwrap().push((connect, head.clone()));
                if head != "TLS" {
                    let _ = s.write_all(respond(&head).as_bytes()).await;
                }
            });
        }
    });
    (addr, log)
}

fn forbidden(_: &str) -> String {
    "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n".into()
}

fn host_of(head: &str) -> String {
    head.lines()
        .find_map(|l| l.strip_prefix("Host: "))
        .unwrap_or("")
        .to_string()
}

fn show(o: &Out) -> String {
    format!("exit {}\n{}{}", o.code, o.stdout, o.stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_international_host_is_sent_as_punycode() {
    let (proxy, log) = fake_proxy(forbidden).await;
    let proxy = format!("http://{proxy}");
    let o = run(support::args(&["ws://müller.de/", "--proxy", &proxy])).await;
    assert_eq!(
        o.code,
        5,
        "refused by the fake server, no panic: {}",
        show(&o)
    );
    let seen = log.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].0, "CONNECT xn--mller-kva.de:80 HTTP/1.1");
    assert_eq!(host_of(&seen[0].1), "xn--mller-kva.de", "{}", seen[0].1);
    assert!(
        o.stderr.contains("müller.de is sent as xn--mller-kva.de"),
        "the user is told: {}",
        show(&o)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_of_an_international_wss_url_asks_for_the_ascii_name() {
    let (proxy, log) = fake_proxy(forbidden).await;
    let proxy = format!("http://{proxy}");
    let o = run(support::args(&[
        "inspect",
        "wss://例え.jp/",
        "--proxy",
        &proxy,
    ]))
    .await;
    // The fake proxy hangs up on the ClientHello: a TLS failure, not a panic.
    assert_eq!(o.code, 4, "{}", show(&o));
    let seen = log.lock().unwrap().clone();
    assert_eq!(seen[0].0, "CONNECT xn--r8jz45g.jp:443 HTTP/1.1", "{seen:?}");
    assert_eq!(seen[0].1, "TLS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_to_an_international_host_is_followed() {
    fn redirect_once(head: &str) -> String {
        if host_of(head) == "start.test" {
            "HTTP/1.1 302 Found\r\nLocation: ws://abé/x\r\nContent-Length: 0\r\n\r\n".into()
        } else {
            forbidden(head)
        }
    }
    let (proxy, log) = fake_proxy(redirect_once).await;
    let proxy = format!("http://{proxy}");
    let o = run(support::args(&[
        "ws://start.test/",
        "-L",
        "--proxy",
        &proxy,
    ]))
    .await;
    assert_eq!(o.code, 5, "{}", show(&o));
    let seen = log.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[1].0, "CONNECT xn--ab-cja:80 HTTP/1.1");
    assert!(
        seen[1].1.starts_with("GET /x HTTP/1.1\r\n"),
        "{}",
        seen[1].1
    );
    assert_eq!(host_of(&seen[1].1), "xn--ab-cja");
}

/// One port that speaks TLS and plain HTTP alike (it peeks at the first byte): over TLS every
/// upgrade is redirected to `ws://localhost:PORT/plain` on the same port; in plain text every
/// request head is recorded and refused. The requests that came in clear text come back.
async fn tls_then_plain_server(pki: &Pki) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let acceptor = tokio_native_tls::TlsAcceptor::from(
        native_tls::TlsAcceptor::new(pki.identity()).expect("TLS acceptor"),
    );
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("local_addr");
    let plain = Arc::new(Mutex::new(Vec::new()));
    let task_plain = plain.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            let (acceptor, plain) = (acceptor.clone(), task_plain.clone());
            tokio::spawn(async move {
                let mut first = [0u8; 1];
                if s.peek(&mut first).await.is_err() {
                    return;
                }
                if first[0] == 0x16 {
                    let Ok(mut tls) = acceptor.accept(s).await else {
                        return;
                    };
                    let location = format!("ws://localhost:{}/plain", addr.port());
                    redirect(&mut tls, &location).await;
                } else {
                    let mut s = s;
                    if let Some(head) = read_head(&mut s).await {
                        plain.lock().unwrap().push(head.clone());
                        let _ = s.write_all(forbidden(&head).as_bytes()).await;
                    }
                }
            });
        }
    });
    (addr, plain)
}

async fn redirect<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S, location: &str) {
    if read_head(s).await.is_some() {
        let reply =
            format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n");
        let _ = s.write_all(reply.as_bytes()).await;
        let _ = s.flush().await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_are_not_sent_in_clear_text_after_a_redirect_off_tls() {
    let pki = Pki::new(&["localhost"]);
    let (addr, plain) = tls_then_plain_server(&pki).await;
    let ca = pki.ca_path.display().to_string();
    let url = format!("wss://user:pw@localhost:{}/", addr.port());
    let o = run(support::args(&[
        &url,
        "-L",
        "--ca",
        &ca,
        "-H",
        "Cookie: sid=1",
        "-x",
        "hi",
    ]))
    .await;
    assert_eq!(o.code, 5, "the plain server refuses: {}", show(&o));
    let heads = plain.lock().unwrap().clone();
    assert_eq!(heads.len(), 1, "the redirect was followed: {}", show(&o));
    let basic = base64::engine::general_purpose::STANDARD.encode("user:pw");
    assert!(
        !heads[0].contains(&basic),
        "credentials in clear text:\n{}",
        heads[0]
    );
    assert!(!heads[0].contains("Authorization"), "{}", heads[0]);
    assert!(!heads[0].contains("sid=1"), "{}", heads[0]);
    assert!(
        o.stderr.contains("not sent") && o.stderr.contains("leaves TLS"),
        "the user is told why: {}",
        show(&o)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dump_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let (proxy, _log) = fake_proxy(forbidden).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("dump.txt");
    let proxy = format!("http://{proxy}");
    // A new file, then one that already existed with a wider mode.
    for existing in [false, true] {
        if existing {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        }
        let o = run(support::args(&[
            "ws://u:p@dump.test/",
            "--proxy",
            &proxy,
            "--dump-file",
            &path.display().to_string(),
        ]))
        .await;
        assert_eq!(o.code, 5, "{}", show(&o));
        let dump = std::fs::read_to_string(&path).expect("the dump file exists");
        assert!(
            dump.contains("Authorization: Basic"),
            "it holds secrets: {dump}"
        );
        let mode = std::fs::metadata(&path)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "existing {existing}: mode {:o}",
            mode & 0o777
        );
    }
}

/// HTTPie's shorthand: `:PORT/path` is this machine; a bare number is a usage error that names
/// the URL the user meant, never a dial to 0.0.35.41.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn colon_port_is_localhost_and_a_bare_number_names_the_url_meant() {
    use support::servers::{self, Options};
    let server = servers::start(Options::default()).await;
    let port = server.addr.port();
    let short = format!(":{port}/chat?room=1");
    let o = run(support::args(&[&short, "-x", "hi", "--once"])).await;
    assert_eq!(o.code, 0, "{}", show(&o));
    assert_eq!(o.stdout, "hi\n", "{}", show(&o));
    let c = server.single();
    assert!(
        c.raw_head.starts_with("GET /chat?room=1 HTTP/1.1\r\n"),
        "{}",
        c.raw_head
    );
    assert_eq!(c.header_exact("Host"), Some(format!("localhost:{port}")));

    for bare in [port.to_string(), format!("{port}/chat")] {
        for cmd in [vec![bare.as_str()], vec!["inspect", bare.as_str()]] {
            let o = run(support::args(&cmd)).await;
            assert_eq!(o.code, 2, "{cmd:?}: {}", show(&o));
            assert!(
                o.stderr.contains(&format!("ws://localhost:{bare}")),
                "{cmd:?}: {}",
                show(&o)
            );
            assert!(!o.stderr.contains("0.0."), "{}", show(&o));
        }
    }
    assert_eq!(
        server.connections().len(),
        1,
        "a bare number dialed nothing"
    );
}

#[test]
fn a_scheme_missing_its_colon_gets_the_fix_as_a_hint() {
    let a = support::wscope().arg("ws//127.0.0.1:1/x").assert().code(2);
    let err = support::stderr(&a);
    assert!(err.contains("ws://127.0.0.1:1/x"), "{err}");
}
