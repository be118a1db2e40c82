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
    assert_eq!(o.code, 5, "refused by the fake server, no panic: {}", show(&o));
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
    let o = run(support::args(&["inspect", "wss://例え.jp/", "--proxy", &proxy])).await;
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
    let o = run(support::args(&["ws://start.test/", "-L", "--proxy", &proxy])).await;
    assert_eq!(o.code, 5, "{}", show(&o));
    let seen = log.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[1].0, "CONNECT xn--ab-cja:80 HTTP/1.1");
    assert!(seen[1].1.starts_with("GET /x HTTP/1.1\r\n"), "{}", seen[1].1);
    assert_eq!(host_of(&seen[1].1), "xn--ab-cja");
}
