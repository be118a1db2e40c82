//! permessage-deflate end to end: wscope against an in-process raw peer that speaks deflate with
//! flate2 itself (tokio-tungstenite has none), in the client role and as `wscope listen`; the
//! negotiation checks (exit 5); a decompression bomb; RSV1 where it may not be.

use crate::support::{self, args, hostile::frame};

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use wscope::wire::frame::{Frame, FrameDecoder};

/// RFC 7692 §7.2.3.1: "Hello" compressed.
pub(crate) const HELLO: &[u8] = &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
/// §7.2.3.2: "Hello" again, with the window of the first.
pub(crate) const HELLO_AGAIN: &[u8] = &[0xf2, 0x00, 0x11, 0x00, 0x00];

/// Compress messages one after the other in one context (takeover), as a peer would.
fn compress(messages: &[&[u8]], level: u32) -> Vec<Vec<u8>> {
    let mut c = Compress::new(Compression::new(level), false);
    messages
        .iter()
        .map(|m| {
            let mut out = Vec::with_capacity(m.len() + 1024);
            c.compress_vec(m, &mut out, FlushCompress::Sync).unwrap();
            while out.len() == out.capacity() {
                out.reserve(64 * 1024);
                c.compress_vec(&[], &mut out, FlushCompress::Sync).unwrap();
            }
            assert!(out.ends_with(&[0, 0, 0xff, 0xff]));
            out.truncate(out.len() - 4);
            out
        })
        .collect()
}

/// Inflate the data messages among `frames` in one context: (RSV1 of the first frame, bytes).
fn inflate(frames: &[Frame]) -> Vec<(bool, Vec<u8>)> {
    let mut d = Decompress::new(false);
    let mut out = Vec::new();
    let mut current: Option<(bool, Vec<u8>)> = None;
    for f in frames.iter().filter(|f| !f.is_control()) {
        let (rsv1, buf) = current.get_or_insert_with(|| (f.rsv1, Vec::new()));
        buf.extend_from_slice(&f.payload);
        if f.fin {
            let (rsv1, mut data) = (*rsv1, std::mem::take(buf));
            current = None;
            if rsv1 {
                data.extend_from_slice(&[0, 0, 0xff, 0xff]);
                let mut plain = Vec::with_capacity(1 << 20);
                d.decompress_vec(&data, &mut plain, FlushDecompress::Sync)
                    .unwrap();
                data = plain;
            }
            out.push((rsv1, data));
        }
    }
    out
}

/// A raw server for one client: answers 101 with `extension` as its Sec-WebSocket-Extensions
/// (none for None), writes each `(n, bytes)` of `script` once the client has sent n data frames
/// (those with 0 in the same write as the 101: the handshake's leftover), records the client's
/// frames until its close, which it answers. Gives back the request head and those frames.
pub(crate) async fn peer(
    extension: Option<&str>,
    script: Vec<(usize, Vec<u8>)>,
) -> (String, tokio::task::JoinHandle<(String, Vec<Frame>)>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let extension = extension.map(String::from);
    let task = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let (head, mut rest) = read_head(&mut tcp).await;
        let key = header(&head, "sec-websocket-key").unwrap_or_default();
        let mut response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n",
            derive_accept_key(key.as_bytes())
        );
        if let Some(e) = extension {
            response.push_str(&format!("Sec-WebSocket-Extensions: {e}\r\n"));
        }
        response.push_str("\r\n");
        // The 101 and the first frames in one write: they reach wscope with the response head.
        let mut first = response.into_bytes();
        let mut script = std::collections::VecDeque::from(script);
        while script.front().is_some_and(|(n, _)| *n == 0) {
            if let Some((_, s)) = script.pop_front() {
                first.extend_from_slice(&s);
            }
        }
        let _ = tcp.write_all(&first).await;
        let mut dec = FrameDecoder::new(1 << 24);
        let mut frames: Vec<Frame> = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            dec.feed(&rest, &mut frames);
            let data = frames.iter().filter(|f| !f.is_control()).count();
            while script.front().is_some_and(|(n, _)| *n <= data) {
                if let Some((_, s)) = script.pop_front() {
                    let _ = tcp.write_all(&s).await;
                }
            }
            if let Some(close) = frames.iter().find(|f| f.opcode == 0x8) {
                let code = close.close_info().and_then(|c| c.code).unwrap_or(1000);
                let _ = tcp.write_all(&frame(0x88, &code.to_be_bytes())).await;
                break;
            }
            match tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => rest = buf[..n].to_vec(),
                _ => break,
            }
        }
        (head, frames)
    });
    (url, task)
}

async fn read_head(tcp: &mut TcpStream) -> (String, Vec<u8>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tcp.read(&mut buf).await.unwrap();
        assert!(n > 0, "the client went away during its request");
        head.extend_from_slice(&buf[..n]);
        if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = head[i + 4..].to_vec();
            return (String::from_utf8_lossy(&head[..i + 4]).into_owned(), rest);
        }
    }
}

fn header(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}

#[tokio::test]
async fn compressed_messages_both_ways_with_context_takeover_fragments_and_a_ping_between() {
    let long = "fragmented and compressed; ".repeat(40);
    let packed = compress(&[b"Hello", b"Hello", long.as_bytes()], 6);
    assert_eq!(packed[0], HELLO);
    let (a, b) = packed[2].split_at(packed[2].len() / 2);
    let script = vec![
        (0, frame(0xC1, &packed[0])),
        (0, frame(0xC1, HELLO_AGAIN)),
        // Once our two messages are in: RSV1 on the first frame only, a ping in between.
        (2, frame(0x41, a)),
        (2, frame(0x89, b"between")),
        (2, frame(0x80, b)),
        (2, frame(0x82, b"\x00plain")), // an uncompressed message is allowed too
    ];
    let (url, server) = peer(Some("permessage-deflate"), script).await;
    let out = support::run(args(&[
        &url,
        "--json",
        "--count",
        "4",
        "-x",
        "abc abc abc",
        "-x",
        "abc abc abc",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let (head, frames) = server.await.unwrap();
    assert_eq!(
        header(&head, "sec-websocket-extensions").as_deref(),
        Some("permessage-deflate; client_max_window_bits")
    );
    let received: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &serde_json::Value| v["event"] == "received")
        .collect();
    let shown: Vec<(&str, bool, u64)> = received
        .iter()
        .map(|v| {
            (
                v["data"].as_str().or(v["hex"].as_str()).unwrap_or(""),
                v["compressed"].as_bool().unwrap(),
                v["wire_size"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            ("Hello", true, 7),
            ("Hello", true, 5),
            (long.as_str(), true, packed[2].len() as u64),
            ("00706c61696e", false, 6),
        ]
    );
    // What we sent: compressed, RSV1 set, masked, in one context (the second is shorter).
    let sent = inflate(&frames);
    assert_eq!(
        sent,
        [
            (true, b"abc abc abc".to_vec()),
            (true, b"abc abc abc".to_vec())
        ]
    );
    let data: Vec<&Frame> = frames.iter().filter(|f| f.opcode == 0x1).collect();
    assert!(data.iter().all(|f| f.mask.is_some()));
    assert!(data[1].payload_len < data[0].payload_len, "{data:?}");
    let open = out.stdout.lines().find(|l| l.contains("\"open\"")).unwrap();
    assert!(open.contains("\"client_max_window_bits\":15"), "{open}");
    let sent_json = out.stdout.lines().find(|l| l.contains("\"sent\"")).unwrap();
    assert!(sent_json.contains("\"compressed\":true"), "{sent_json}");
}

#[tokio::test]
async fn no_deflate_offers_nothing_and_a_narrow_window_is_honoured() {
    let (url, server) = peer(None, vec![]).await;
    let out = support::run(args(&[&url, "--no-deflate", "-x", "x", "-w", "0"])).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (head, _) = server.await.unwrap();
    assert_eq!(header(&head, "sec-websocket-extensions"), None);
    // A server that wants our window at 8 bits: zlib cannot, so we send uncompressed, per message.
    let answer = "permessage-deflate; client_max_window_bits=8; server_no_context_takeover";
    let (url, server) = peer(
        Some(answer),
        vec![(1, frame(0xC1, HELLO)), (1, frame(0xC1, HELLO))],
    )
    .await;
    let out = support::run(args(&[
        &url, "--count", "2", "-x", "plain", "-w", "5", "-v",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "Hello\nHello\n");
    assert!(
        out.stderr
            .contains("client 8-bit window (sent uncompressed by wscope)"),
        "{}",
        out.stderr
    );
    let (_, frames) = server.await.unwrap();
    let text = frames.iter().find(|f| f.opcode == 0x1).unwrap();
    assert!(!text.rsv1);
    assert_eq!(text.payload, b"plain");
}

#[tokio::test]
async fn answers_that_break_rfc7692_fail_the_handshake_with_exit_5() {
    for (flags, answer, rule) in [
        (
            &[][..],
            "permessage-deflate; client_max_window_bits",
            "needs one",
        ),
        (&[], "permessage-deflate; foo=1", "unknown parameter 'foo'"),
        (
            &[],
            "permessage-deflate; server_max_window_bits=7",
            "out of range",
        ),
        (
            &[],
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "twice",
        ),
        (
            &["--deflate", "server_max_window_bits=10"],
            "permessage-deflate; server_max_window_bits=12",
            "larger than the 10 offered",
        ),
        (
            &["--deflate", ""],
            "permessage-deflate; client_max_window_bits=10",
            "did not allow",
        ),
        (
            &[],
            "permessage-deflate, permessage-deflate",
            "more than one",
        ),
        (&["--no-deflate"], "permessage-deflate", "not offered"),
    ] {
        let (url, _server) = peer(Some(answer), vec![]).await;
        let mut a = args(&[&url, "-x", "x", "-w", "0"]);
        a.extend(flags.iter().map(|s| s.to_string()));
        let out = support::run(a).await;
        assert_eq!(out.code, 5, "{answer}: {}", out.stderr);
        assert!(out.stderr.contains(rule), "{answer}: {}", out.stderr);
    }
    // Valid but unasked-for: connects, and -v says why Firefox would not.
    let (url, _server) = peer(
        Some("permessage-deflate; server_max_window_bits=10"),
        vec![],
    )
    .await;
    let out = support::run(args(&["inspect", &url])).await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let all = out.stdout + &out.stderr;
    assert!(all.contains("! deflate-warning"), "{all}");
    assert!(all.contains("server 10-bit window, context kept"), "{all}");
}

#[tokio::test]
async fn rsv1_on_a_control_frame_or_a_continuation_closes_with_1002() {
    for (script, what) in [
        (vec![frame(0xC9, b"p")], "control frame"),
        (
            vec![frame(0x41, &HELLO[..3]), frame(0xC0, &HELLO[3..])],
            "continuation frame",
        ),
        (vec![frame(0xE1, HELLO)], "RSV2"),
        (
            vec![frame(0xC1, &[0xff, 0xff, 0xff, 0xff, 0x12])],
            "does not inflate",
        ),
    ] {
        let script = script.into_iter().map(|f| (0, f)).collect();
        let (url, server) = peer(Some("permessage-deflate"), script).await;
        let out = support::run(args(&[&url, "-w", "5"])).await;
        assert_eq!(out.code, 6, "{what}: {}", out.stderr);
        assert!(out.stderr.contains(what), "{what}: {}", out.stderr);
        let (_, frames) = server.await.unwrap();
        assert_eq!(support::hostile::close_code(&frames), Some(1002), "{what}");
    }
    // Without negotiation, RSV1 is the violation it always was.
    let (url, server) = peer(None, vec![(0, frame(0xC1, HELLO))]).await;
    let out = support::run(args(&[&url, "-w", "5"])).await;
    assert_eq!(out.code, 6, "{}", out.stderr);
    assert!(out.stderr.contains("RSV1"), "{}", out.stderr);
    let (_, frames) = server.await.unwrap();
    assert_eq!(support::hostile::close_code(&frames), Some(1002));
}

/// The largest resident set of the waited-for children so far, in bytes.
fn children_max_rss() -> u64 {
    // SAFETY: getrusage fills the struct we own.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    ru.ru_maxrss as u64 * 1024
}

#[tokio::test]
async fn a_decompression_bomb_stops_at_the_limit_and_closes_with_1009() {
    // 1 MiB of zeros, then the same 1 MiB block that only refers back into zeros, 1023 times:
    // about 1 MB on the wire that would inflate to 1 GiB.
    let zeros = vec![0u8; 1 << 20];
    let blocks = compress(&[&zeros, &zeros], 9);
    // Each block keeps the sync marker that ends it, but the last (the receiver adds that one).
    let mut bomb = blocks[0].clone();
    for _ in 0..1023 {
        bomb.extend_from_slice(&[0, 0, 0xff, 0xff]);
        bomb.extend_from_slice(&blocks[1]);
    }
    assert!(bomb.len() < 2 << 20, "{}", bomb.len());
    let (url, server) = peer(Some("permessage-deflate"), vec![(0, frame(0xC2, &bomb))]).await;
    let started = std::time::Instant::now();
    let out = support::run(args(&[&url, "--max-message-size", "4M", "-w", "10"])).await;
    assert_eq!(out.code, 6, "{}", out.stderr);
    assert!(out.stderr.contains("--max-message-size"), "{}", out.stderr);
    let (_, frames) = server.await.unwrap();
    assert_eq!(support::hostile::close_code(&frames), Some(1009));
    assert!(started.elapsed() < Duration::from_secs(20));
    // No child of this test binary ever held the inflated gigabyte (the limit is 4 MiB).
    let rss = children_max_rss();
    assert!(rss < 200 << 20, "a child reached {rss} bytes resident");
}

/// `wscope listen 127.0.0.1:0 ARGS`, and the address it bound.
pub(crate) fn listen(extra: &[&str]) -> (std::process::Child, String) {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("wscope"))
        .args(["listen", "127.0.0.1:0"])
        .args(extra)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wscope starts");
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    err.read_line(&mut first).unwrap();
    std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = err.read_to_end(&mut sink);
    });
    let addr = first
        .split("://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_string();
    (child, addr)
}

fn masked(b0: u8, payload: &[u8]) -> Vec<u8> {
    support::hostile::masked_frame(b0, payload, [0x37, 0xfa, 0x21, 0x3d])
}

/// Read frames from `tcp` until `n` data frames (and whatever else came) are in.
async fn read_frames(tcp: &mut TcpStream, dec: &mut FrameDecoder, n: usize) -> Vec<Frame> {
    let mut frames = Vec::new();
    let mut buf = [0u8; 8192];
    while frames.iter().filter(|f: &&Frame| !f.is_control()).count() < n {
        let got = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf))
            .await
            .expect("listen answers in time")
            .unwrap();
        assert!(got > 0, "listen closed early; got {frames:?}");
        dec.feed(&buf[..got], &mut frames);
    }
    frames
}

#[tokio::test]
async fn listen_accepts_chromiums_offer_and_echoes_compressed() {
    let (mut child, addr) = listen(&["--echo"]);
    let mut tcp = TcpStream::connect(&addr).await.unwrap();
    let request = format!(
        "GET /chat HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
    );
    // The first compressed message rides with the request: it arrives as the handshake's leftover.
    let mut first = request.into_bytes();
    first.extend(masked(0xC1, HELLO));
    tcp.write_all(&first).await.unwrap();
    let (head, rest) = read_head(&mut tcp).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert_eq!(
        header(&head, "sec-websocket-extensions").as_deref(),
        Some("permessage-deflate")
    );
    tcp.write_all(&masked(0xC1, HELLO_AGAIN)).await.unwrap();
    let long = "x".repeat(70_000);
    let packed = compress(&[b"Hello", b"Hello", long.as_bytes()], 6);
    let (a, b) = packed[2].split_at(3);
    tcp.write_all(&masked(0x41, a)).await.unwrap();
    tcp.write_all(&masked(0x89, b"ping")).await.unwrap();
    tcp.write_all(&masked(0x80, b)).await.unwrap();
    let mut dec = FrameDecoder::new(1 << 20);
    let mut frames = Vec::new();
    dec.feed(&rest, &mut frames);
    let missing = 3 - frames.iter().filter(|f| !f.is_control()).count();
    frames.extend(read_frames(&mut tcp, &mut dec, missing).await);
    // The echoes come back compressed (RSV1), unmasked, in one context.
    assert!(frames.iter().all(|f| f.mask.is_none()));
    assert!(frames
        .iter()
        .any(|f| f.opcode == 0xa && f.payload == b"ping"));
    let echoed = inflate(&frames);
    assert_eq!(
        echoed,
        [
            (true, b"Hello".to_vec()),
            (true, b"Hello".to_vec()),
            (true, long.clone().into_bytes())
        ]
    );
    let _ = child.stdin.take().map(|mut s| s.write_all(b""));
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test]
async fn listen_no_deflate_declines() {
    let (mut child, addr) = listen(&["--no-deflate"]);
    let mut tcp = TcpStream::connect(&addr).await.unwrap();
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let (head, _) = read_head(&mut tcp).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert_eq!(header(&head, "sec-websocket-extensions"), None);
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test]
async fn the_dump_shows_rsv1_the_compressed_bytes_and_what_they_inflate_to() {
    let script = vec![(1, frame(0xC1, HELLO)), (1, frame(0xC1, HELLO_AGAIN))];
    let (url, _server) = peer(Some("permessage-deflate"), script).await;
    let out = support::run(args(&[&url, "--dump", "--count", "2", "-x", "sent"])).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let err = &out.stderr;
    for line in [
        "<< ",
        "FIN RSV1 text  len 7 (7-bit)",
        "c107 f248 cdc9 c907 00",
        "inflated 5 bytes from 7 (140%)",
        "inflated 5 bytes from 5 (100%)",
        "inflated: \"Hello\"",
        "inflated: \"sent\"",
    ] {
        assert!(err.contains(line), "missing {line:?} in\n{err}");
    }
    assert!(!err.contains("needs a negotiated extension"), "{err}");
}

#[tokio::test]
async fn status_shows_the_agreement_and_wire_bytes_against_message_bytes() {
    let (url, _server) = peer(
        Some("permessage-deflate; server_no_context_takeover"),
        vec![],
    )
    .await;
    let long = "a".repeat(1000);
    let out = support::run(args(&[&url, "-x", &long, "-x", "/status", "-w", "0"])).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let all = out.stdout + &out.stderr;
    assert!(
        all.contains(
            "server 15-bit window, context reset per message; client 15-bit window, context kept"
        ),
        "{all}"
    );
    let sent = all
        .lines()
        .find(|l| l.contains("sent") && l.contains("1000 bytes"))
        .unwrap_or_else(|| panic!("no sent row in {all}"));
    assert!(sent.contains("on the wire"), "{sent}");
}
