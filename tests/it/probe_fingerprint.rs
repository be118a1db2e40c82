//! `wscope probe --fingerprint` (issue 32 item 6): `wscope listen` is named from the table in the
//! source; a server that answers like no known peer is "unknown" with the closest candidate; a
//! server whose answers are huge or never come keeps the fingerprint within its deadlines.
//! (Every real peer is named by `scripts/fingerprint.sh`, which starts them.)

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use wscope::wire::frame::FrameDecoder;

use crate::listen::Server as Listen;
use crate::support::hostile::frame;
use crate::support::{args, run};

/// The fingerprint check's object in a `--json` document (exactly one document on stdout).
fn fingerprint(stdout: &str) -> serde_json::Value {
    let doc: serde_json::Value =
        serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    doc["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == "fingerprint"))
        .cloned()
        .unwrap_or_else(|| panic!("no fingerprint check in {doc}"))
}

async fn probe(url: &str) -> (serde_json::Value, Duration, String) {
    let started = Instant::now();
    let out = run(args(&["probe", url, "--fingerprint", "--json"])).await;
    let took = started.elapsed();
    (fingerprint(&out.stdout), took, out.stdout)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wscope_listen_is_named() {
    let server = Listen::start(&[]);
    let url = server.url("/");
    let out = run(args(&["probe", &url, "--only", "fingerprint", "--json"])).await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let fp = fingerprint(&out.stdout);
    assert_eq!(fp["status"], "pass", "{fp}");
    assert_eq!(fp["fingerprint"]["product"], "wscope listen", "{fp}");
    // Every signal matches unless the machine is so loaded that a reaction misses its deadline.
    assert!(
        fp["fingerprint"]["confidence"].as_f64().unwrap() >= 0.9,
        "{fp}"
    );
    assert!(
        fp["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("wscope listen, confidence ")),
        "{fp}"
    );
    // The whole fingerprint, against a local server, within 3 s.
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(doc["summary"]["ms"].as_u64().unwrap() < 3000, "{doc}");
    // Without --fingerprint the default probe leaves it out; with it, the text report names it.
    let out = run(args(&["probe", &url, "--only", "ping"])).await;
    assert!(!out.stdout.contains("fingerprint"), "{}", out.stdout);
    let out = run(args(&[
        "probe",
        &url,
        "--fingerprint",
        "--skip",
        "max-message",
    ]))
    .await;
    let line = out
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("fingerprint"))
        .unwrap_or_else(|| panic!("no fingerprint line in:\n{}", out.stdout));
    assert!(line.contains("pass  wscope listen, confidence "), "{line}");
}

/// How the raw server answers.
#[derive(Clone, Copy)]
enum Manner {
    /// Like no known peer: its own status text and header spelling, every violation let
    /// through, its own close code.
    Nobody,
    /// 120 headers of 400 bytes on every upgrade.
    HugeHeaders,
    /// Upgrades the ordinary request, then never says anything; the odd requests (version 8,
    /// an empty key) get no answer at all.
    Silent,
    /// Upgrades, then sends a ping every 50 ms and reads nothing.
    Chatty,
}

async fn raw_server(manner: Manner) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(serve(tcp, manner));
        }
    });
    url
}

async fn serve(mut tcp: TcpStream, manner: Manner) {
    let mut head = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let end = loop {
        match tcp.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let text = String::from_utf8_lossy(&head[..end]).into_owned();
    let key = text
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case("sec-websocket-key")
                .then(|| v.trim().to_string())
        })
        .unwrap_or_default();
    let odd = key.is_empty() || text.contains("Sec-WebSocket-Version: 8");
    let accept = derive_accept_key(key.as_bytes());
    let response = match manner {
        Manner::Silent if odd => {
            // Hold the connection, never answer.
            tokio::time::sleep(Duration::from_secs(30)).await;
            return;
        }
        Manner::Nobody => format!(
            "HTTP/1.1 101 Web Socket Protocol Handshake\r\nX-Powered-By: nothing\r\n\
             sec-websocket-accept: {accept}\r\nUPGRADE: websocket\r\nCONNECTION: Upgrade\r\n\r\n"
        ),
        Manner::HugeHeaders => {
            let filler: String = (0..120)
                .map(|i| format!("X-Filler-{i}: {}\r\n", "v".repeat(400)))
                .collect();
            format!(
                "HTTP/1.1 101 Switching Protocols\r\n{filler}Upgrade: websocket\r\n\
                 Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
            )
        }
        Manner::Silent | Manner::Chatty => format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {accept}\r\n\r\n"
        ),
    };
    if tcp.write_all(response.as_bytes()).await.is_err() {
        return;
    }
    if let Manner::Chatty = manner {
        for _ in 0..100 {
            if tcp.write_all(&frame(0x89, b"hi")).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        return;
    }
    let mut chunk = head[end..].to_vec();
    let mut dec = FrameDecoder::new(256);
    let mut out = Vec::new();
    loop {
        dec.feed(&chunk, &mut out);
        for f in out.drain(..) {
            let reply = match (manner, f.opcode) {
                (Manner::Silent, _) => continue,
                (_, 0x9) => frame(0x8A, &f.payload),
                (_, 0x8) => {
                    let mut body = 4000u16.to_be_bytes().to_vec();
                    body.extend_from_slice(b"bye from nobody");
                    frame(0x88, &body)
                }
                _ => continue,
            };
            if tcp.write_all(&reply).await.is_err() {
                return;
            }
        }
        match tcp.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => chunk = buf[..n].to_vec(),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_like_no_known_peer_is_unknown_with_the_closest() {
    let url = raw_server(Manner::Nobody).await;
    let (fp, _, stdout) = probe(&url).await;
    assert_eq!(fp["status"], "n/a", "{stdout}");
    let data = &fp["fingerprint"];
    assert!(data["product"].is_null(), "{fp}");
    let closest = data["closest"].as_str().expect("a closest candidate");
    assert!(data["confidence"].as_f64().unwrap() < 0.8, "{fp}");
    let detail = fp["detail"].as_str().unwrap();
    assert!(
        detail.starts_with(&format!("unknown: closest is {closest} at ")),
        "{detail}"
    );
    // The evidence: what it answered, signal by signal.
    assert_eq!(
        data["signals"]["close"], "close 4000 \"bye from nobody\"",
        "{fp}"
    );
    assert_eq!(data["signals"]["opcode"], "pong", "{fp}");
    assert_eq!(
        data["signals"]["upgrade-status"],
        "101 Web Socket Protocol Handshake"
    );
    assert_eq!(
        data["signals"]["upgrade-headers"],
        "X-Powered-By,sec-websocket-accept,UPGRADE,CONNECTION"
    );
    assert!(detail.contains("differ: "), "{detail}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_headers_are_cut_short_in_the_evidence() {
    let url = raw_server(Manner::HugeHeaders).await;
    let (fp, took, stdout) = probe(&url).await;
    let headers = fp["fingerprint"]["signals"]["upgrade-headers"]
        .as_str()
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(headers.ends_with(",…"), "{headers}");
    assert_eq!(headers.split(',').count(), 25, "{headers}");
    assert!(took < Duration::from_secs(8), "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_keeps_the_fingerprint_within_its_deadlines() {
    let url = raw_server(Manner::Silent).await;
    let started = Instant::now();
    let out = run(args(&["probe", &url, "--only", "fingerprint", "--json"])).await;
    let took = started.elapsed();
    let fp = fingerprint(&out.stdout);
    let signals = &fp["fingerprint"]["signals"];
    assert_eq!(signals["version8-status"], "timeout", "{fp}");
    assert_eq!(signals["bad-key-status"], "timeout", "{fp}");
    assert_eq!(signals["ping"], "silence", "{fp}");
    assert_eq!(signals["opcode"], "silence", "{fp}");
    assert_eq!(fp["status"], "n/a", "{fp}");
    // Each connection has its own deadline (2 s to upgrade, then 1.4 s): not the 10 s of
    // --connect-timeout, and not one after the other.
    assert!(took < Duration::from_secs(6), "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_sent_unasked_do_not_stretch_the_wait_for_a_greeting() {
    let url = raw_server(Manner::Chatty).await;
    let out = run(args(&["probe", &url, "--only", "fingerprint", "--json"])).await;
    let fp = fingerprint(&out.stdout);
    // Pings are not a greeting, and they do not hold the wait open until the connection's
    // deadline ("timeout").
    assert_eq!(fp["fingerprint"]["signals"]["greeting"], "none", "{fp}");
}
