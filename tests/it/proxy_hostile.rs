//! `wscope proxy` against hostile peers on both sides (issue 28, item 4): garbage before and
//! after the upgrade, a flooding upstream, a flooding client with an upstream that never reads,
//! a thousand clients at once. The proxy stays up, bounded (peak RSS read from /proc), says what
//! happened per client, and one client's trouble never disturbs another's.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::SinkExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;

use crate::listen::{next, open, Server};
use crate::proxy::{p_addr, proxy, raw, until};
use crate::support::hostile::{self, Hostile, Step};
use crate::support::servers;

/// Peak resident memory of a process (VmHWM), in MiB.
fn peak_rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kib| kib / 1024)
}

/// A client's upgrade request, by hand.
fn upgrade(path: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: proxy\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
}

/// A raw client past its upgrade: the stream, the 101 read off it.
async fn raw_client(p: &Server, path: &str) -> TcpStream {
    let mut tcp = TcpStream::connect(p_addr(p)).await.unwrap();
    tcp.write_all(upgrade(path).as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(tcp.read(&mut b).await.unwrap(), 1, "{head:?}");
        head.push(b[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    tcp
}

#[tokio::test]
async fn garbage_instead_of_a_request_fails_that_client_only() {
    let up = servers::start(servers::Options::default()).await;
    let p = proxy(&format!("ws://{}/", up.addr), &[]);
    let answer = raw(&p, b"\x16\x03\x01\x00garbage\r\n\r\n").await;
    assert!(!answer.starts_with(b"HTTP/1.1 101"), "{answer:?}");
    let answer = raw(&p, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(
        answer.starts_with(b"HTTP/1.1 426"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    p.wait_for("stderr", "[1] handshake failed").await;
    p.wait_for("stderr", "[2] refused").await;
    // Neither reached the upstream; the next client is relayed as usual.
    assert!(up.connections().is_empty());
    let (mut ws, _) = open(&p, "/", &[]).await.expect("upgrade");
    ws.send(Message::text("still here")).await.unwrap();
    assert_eq!(next(&mut ws).await, Message::text("still here"));
}

#[tokio::test]
async fn garbage_after_the_upgrade_closes_that_client_and_its_server_side() {
    let up = Hostile::start(vec![Step::AwaitFrames(1)]).await;
    let p = proxy(&up.url, &[]);
    let mut tcp = raw_client(&p, "/").await;
    // An unmasked frame from a client, with a reserved opcode: a protocol error.
    tcp.write_all(&[0x83, 0x02, b'h', b'i']).await.unwrap();
    let mut back = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut back)).await;
    assert!(
        back.len() >= 4 && back[0] == 0x88,
        "a close frame: {back:?}"
    );
    assert_eq!(u16::from_be_bytes([back[2], back[3]]), 1002, "{back:?}");
    p.wait_for("stderr", "closing the server side with 1001")
        .await;
    assert_eq!(hostile::close_code(&up.finish().await), Some(1001));
}

/// An upstream that floods a client that never reads: the proxy stops reading the upstream
/// (its memory stays bounded) and another client is served meanwhile.
#[tokio::test]
async fn an_upstream_flood_to_a_client_that_never_reads_stays_bounded() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let flooded = Arc::new(AtomicU64::new(0));
    let f = flooded.clone();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let f = f.clone();
            tokio::spawn(async move {
                let mut peek = [0u8; 64];
                let n = tcp.peek(&mut peek).await.unwrap_or(0);
                let flood = String::from_utf8_lossy(&peek[..n]).contains("/flood");
                hostile::handshake(&mut tcp).await;
                if !flood {
                    let _ = tcp.write_all(&hostile::text("alive")).await;
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    return;
                }
                let chunk = hostile::frame(0x82, &vec![7u8; 64 * 1024]);
                while tcp.write_all(&chunk).await.is_ok() {
                    f.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                }
            });
        }
    });
    let p = proxy(&url, &[]);
    let _sleeper = raw_client(&p, "/flood").await;
    // Let the flood run against the proxy's bounds.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (mut ws, _) = open(&p, "/other", &[]).await.expect("upgrade");
    assert_eq!(next(&mut ws).await, Message::text("alive"));
    let sent = flooded.load(Ordering::Relaxed) >> 20;
    let peak = peak_rss_mib(p.pid());
    eprintln!("upstream flood: {sent} MiB written, proxy peak {peak} MiB");
    assert!(
        sent < 64,
        "the upstream wrote {sent} MiB: nothing stopped it"
    );
    assert!(peak < 80, "the proxy peaked at {peak} MiB");
}

/// A client that floods while the upstream never reads: backpressure runs end to end, so the
/// client can only write what the bounded queues and the kernel buffers hold.
#[tokio::test]
async fn a_client_flood_into_an_upstream_that_never_reads_is_paused() {
    let up = Hostile::stalled().await;
    let p = proxy(&up.url, &[]);
    let mut tcp = raw_client(&p, "/").await;
    let mut frame = vec![0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4];
    frame.extend(std::iter::repeat_n(0u8, 64 * 1024));
    let mut written = 0u64;
    let until_time = tokio::time::Instant::now() + Duration::from_secs(4);
    while let Ok(Ok(())) = tokio::time::timeout_at(until_time, tcp.write_all(&frame)).await {
        written += frame.len() as u64;
    }
    let mib = written >> 20;
    let peak = peak_rss_mib(p.pid());
    eprintln!("client flood: {mib} MiB written, proxy peak {peak} MiB");
    assert!(
        mib < 64,
        "the client wrote {mib} MiB into a server that reads nothing"
    );
    assert!(peak < 80, "the proxy peaked at {peak} MiB");
    // Still serving: its first line is there and it has not died.
    assert!(p.stderr().contains("[1] connected"), "{}", p.stderr());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_clients_at_once_are_each_relayed() {
    let up = servers::start(servers::Options::default()).await;
    let p = Arc::new(proxy(&format!("ws://{}/", up.addr), &[]));
    let mut tasks = Vec::new();
    for i in 0..1000 {
        let p = p.clone();
        tasks.push(tokio::spawn(async move {
            let (mut ws, _) = open(&p, &format!("/c{i}"), &[]).await.expect("upgrade");
            let word = format!("hello {i}");
            ws.send(Message::text(word.clone())).await.unwrap();
            assert_eq!(next(&mut ws).await, Message::text(word));
            ws
        }));
    }
    let mut open_ones = Vec::new();
    for t in tasks {
        open_ones.push(t.await.expect("every client relayed"));
    }
    assert_eq!(up.connections().len(), 1000);
    until("every pair is shown", || {
        p.stdout().matches("<s hello").count() == 1000
    })
    .await;
    drop(open_ones);
}

#[tokio::test]
async fn past_max_clients_a_client_gets_503_and_the_server_is_not_dialled() {
    let up = servers::start(servers::Options::default()).await;
    let p = proxy(&format!("ws://{}/", up.addr), &["--max-clients", "1"]);
    let (_first, _) = open(&p, "/", &[]).await.expect("upgrade");
    match open(&p, "/", &[]).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 503),
        other => panic!("expected a 503, got {other:?}"),
    }
    p.wait_for("stderr", "[2] refused").await;
    assert_eq!(up.connections().len(), 1);
}
