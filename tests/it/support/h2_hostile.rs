//! Hostile RFC 8441 servers (issue 30 item 5), on 127.0.0.1 port 0, h2c prior knowledge. Most
//! use the `h2` crate's server role to misbehave in one way each (refuse with a body, reset the
//! stream mid-message, send GOAWAY, never open the flow-control window); two are raw TCP because
//! h2 will not misbehave that way (never send SETTINGS; a HEADERS block that never ends).

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone, Copy, Debug)]
pub enum Mode {
    /// Advertise the setting, then answer the CONNECT with this status and a text body.
    Refuse(u16),
    /// 200, then half of a 1000-byte text frame, then RST_STREAM(INTERNAL_ERROR).
    ResetMidMessage,
    /// 200, then GOAWAY(ENHANCE_YOUR_CALM) and the connection closed.
    GoAway,
    /// 200, but the window for what the client sends is 0 and never opened.
    WindowNeverOpens,
}

pub const REFUSAL_BODY: &str = "tenant \x1b[31mquota\x1b[0m exceeded: try again later";

/// A server of `mode`; its address.
pub async fn start(mode: Mode) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(connection(tcp, mode));
        }
    });
    addr
}

async fn connection(tcp: TcpStream, mode: Mode) {
    let mut b = h2::server::Builder::new();
    b.enable_connect_protocol();
    if let Mode::WindowNeverOpens = mode {
        b.initial_window_size(0);
    }
    let Ok(mut conn) = b.handshake::<_, Bytes>(tcp).await else {
        return;
    };
    let Some(Ok((req, mut respond))) = conn.accept().await else {
        return;
    };
    let status = match mode {
        Mode::Refuse(s) => s,
        _ => 200,
    };
    let resp = http::Response::builder()
        .status(status)
        .header("content-type", "text/plain")
        .body(())
        .unwrap();
    let Ok(mut send) = respond.send_response(resp, false) else {
        return;
    };
    let _body = req.into_body();
    match mode {
        Mode::Refuse(_) => {
            let _ = send.send_data(Bytes::from_static(REFUSAL_BODY.as_bytes()), true);
        }
        Mode::ResetMidMessage => {
            let mut half = vec![0x81, 126, 0x03, 0xe8];
            half.extend(std::iter::repeat_n(b'a', 500));
            send.reserve_capacity(half.len());
            let _ = send.send_data(Bytes::from(half), false);
            // Let the data go out before the reset.
            let drive = async { while conn.accept().await.is_some() {} };
            let _ = tokio::time::timeout(Duration::from_millis(300), drive).await;
            send.send_reset(h2::Reason::INTERNAL_ERROR);
        }
        Mode::GoAway => {
            let drive = async { while conn.accept().await.is_some() {} };
            let _ = tokio::time::timeout(Duration::from_millis(300), drive).await;
            conn.abrupt_shutdown(h2::Reason::ENHANCE_YOUR_CALM);
        }
        Mode::WindowNeverOpens => {}
    }
    // Keep the connection going (a minute at most) so only the misbehaviour decides.
    let drive = async {
        std::future::poll_fn(|cx| conn.poll_closed(cx)).await.ok();
    };
    let _ = tokio::time::timeout(Duration::from_secs(60), drive).await;
    drop(send);
}

/// Accepts and reads, never writes: SETTINGS never arrive.
pub async fn silent() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let read = async { while matches!(tcp.read(&mut buf).await, Ok(n) if n > 0) {} };
                let _ = tokio::time::timeout(Duration::from_secs(60), read).await;
            });
        }
    });
    addr
}

/// A 9-byte HTTP/2 frame header then the payload.
fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut out = len.to_be_bytes()[1..].to_vec();
    out.extend([kind, flags]);
    out.extend(stream.to_be_bytes());
    out.extend(payload);
    out
}

/// Advertises the setting, then answers stream 1 with a HEADERS block that never ends:
/// CONTINUATION frames of 16 KiB, up to 64 MiB or until the client goes. Returns its address and
/// a counter of the bytes it managed to write.
pub async fn huge_headers() -> (SocketAddr, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::Ordering;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let written = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let w = written.clone();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let w = w.clone();
            tokio::spawn(async move {
                // SETTINGS: ENABLE_CONNECT_PROTOCOL (8) = 1.
                if tcp
                    .write_all(&frame(4, 0, 0, &[0, 8, 0, 0, 0, 1]))
                    .await
                    .is_err()
                {
                    return;
                }
                // Answer the client's SETTINGS and PING until its HEADERS (the CONNECT) come.
                let mut buf = vec![0u8; 4096];
                let mut got: Vec<u8> = Vec::new();
                let mut at = 24;
                'frames: loop {
                    while got.len() >= at + 9 {
                        let len =
                            u32::from_be_bytes([0, got[at], got[at + 1], got[at + 2]]) as usize;
                        if got.len() < at + 9 + len {
                            break;
                        }
                        let (kind, flags) = (got[at + 3], got[at + 4]);
                        let payload = got[at + 9..at + 9 + len].to_vec();
                        at += 9 + len;
                        let answer = match (kind, flags & 1) {
                            (4, 0) => frame(4, 1, 0, &[]),
                            (6, 0) => frame(6, 1, 0, &payload),
                            (1, _) => break 'frames,
                            _ => continue,
                        };
                        if tcp.write_all(&answer).await.is_err() {
                            return;
                        }
                    }
                    match tcp.read(&mut buf).await {
                        Ok(n) if n > 0 => got.extend_from_slice(&buf[..n]),
                        _ => return,
                    }
                }
                // :status 200 (indexed), then a literal field whose value is huge.
                let mut block = vec![0x88, 0x00, 5];
                block.extend(b"x-big");
                // Value length 64 MiB as an HPACK integer with a 7-bit prefix.
                let mut n: u64 = 64 << 20;
                block.push(0x7f);
                n -= 127;
                while n >= 128 {
                    block.push((n % 128) as u8 | 0x80);
                    n /= 128;
                }
                block.push(n as u8);
                if tcp.write_all(&frame(1, 0, 1, &block)).await.is_err() {
                    return;
                }
                let chunk = frame(9, 0, 1, &vec![b'A'; 16 << 10]);
                let spam = async {
                    for _ in 0..4096 {
                        if tcp.write_all(&chunk).await.is_err() {
                            return;
                        }
                        w.fetch_add(chunk.len(), Ordering::Relaxed);
                        // Drain what the client says (its GOAWAY), so only it decides.
                        let _ = tokio::time::timeout(Duration::from_millis(0), tcp.read(&mut buf))
                            .await;
                    }
                };
                let _ = tokio::time::timeout(Duration::from_secs(30), spam).await;
            });
        }
    });
    (addr, written)
}
