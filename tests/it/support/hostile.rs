//! Raw-TCP servers that send exactly the bytes a test needs (bad Accept, masked frames, ...).
//!
//! A hostile server accepts one client, reads its upgrade request, answers a correct 101 (so the
//! client gets past the handshake), then plays a [`Step`] script byte for byte. Everything the
//! client sends after the handshake is decoded with wscope's own frame decoder and recorded, so a
//! test can assert what the server received (the close code, a pong's payload). tungstenite is
//! deliberately not involved on this side: it would refuse to send the malformed frames we need.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Mutex as AsyncMutex;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use wscope::wire::frame::{Frame, FrameDecoder};

/// One action of a hostile server, after its 101.
#[derive(Debug, Clone)]
pub enum Step {
    /// Write these bytes as they are.
    Send(Vec<u8>),
    /// Do nothing for a while.
    Pause(Duration),
    /// Wait until the client has sent this many frames in total (or gone away).
    AwaitFrames(usize),
    /// Close our side of the TCP connection without any close frame.
    Drop,
}

/// A running hostile server.
pub struct Hostile {
    pub url: String,
    frames: Arc<Mutex<Vec<Frame>>>,
    done: tokio::task::JoinHandle<()>,
    _watchdog: super::Watchdog,
}

impl Hostile {
    /// Serve one client: handshake, then `script`; meanwhile record every frame the client sends.
    /// When the client sends a close frame, answer it with a close frame echoing its code (unless a
    /// close was scripted already) and end the connection, as a well-behaved peer would.
    pub async fn start(script: Vec<Step>) -> Hostile {
        Self::spawn(script, true).await
    }

    /// Complete the handshake, then never read another byte (and never close): the client's writes
    /// pile up in the kernel buffers until they are full. Records nothing.
    pub async fn stalled() -> Hostile {
        Self::spawn(Vec::new(), false).await
    }

    /// Like [`Hostile::stalled`], but first writes `bytes` (as far as the client takes them).
    pub async fn stalled_after(bytes: Vec<u8>) -> Hostile {
        Self::spawn(vec![Step::Send(bytes)], false).await
    }

    async fn spawn(script: Vec<Step>, read: bool) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/", listener.local_addr().unwrap());
        let frames = Arc::new(Mutex::new(Vec::new()));
        let recorded = frames.clone();
        let watchdog = super::Watchdog::new();
        let inner = watchdog.clone();
        let done = watchdog.spawn(async move {
            let Ok((mut tcp, _)) = listener.accept().await else {
                return;
            };
            let Some(leftover) = handshake(&mut tcp).await else {
                return;
            };
            if !read {
                for step in &script {
                    if let Step::Send(bytes) = step {
                        let _ = tcp.write_all(bytes).await;
                    }
                }
                // Hold the socket open without reading until the test is over.
                std::future::pending::<()>().await;
            }
            let (mut rd, wr) = tcp.into_split();
            let wr = Arc::new(AsyncMutex::new(Some(wr)));
            let close_scripted = script.iter().any(
                |s| matches!(s, Step::Send(b) if b.first().is_some_and(|b0| b0 & 0x0f == 0x8)),
            );
            let reader = {
                let wr = wr.clone();
                let recorded = recorded.clone();
                inner.spawn(async move {
                    let mut dec = FrameDecoder::new(1 << 20);
                    let mut out = Vec::new();
                    let mut buf = vec![0u8; 64 * 1024];
                    let mut chunk = leftover;
                    loop {
                        dec.feed(&chunk, &mut out);
                        let close = out.iter().find(|f| f.opcode == 0x8).cloned();
                        recorded.lock().unwrap().append(&mut out);
                        if let Some(close) = close {
                            if !close_scripted {
                                let mut body = Vec::new();
                                if let Some(code) = close.close_info().and_then(|c| c.code) {
                                    body.extend_from_slice(&code.to_be_bytes());
                                }
                                if let Some(w) = wr.lock().await.as_mut() {
                                    let _ = w.write_all(&frame(0x88, &body)).await;
                                }
                            }
                            // Closing handshake done: drop our half (FIN), keep draining.
                            wr.lock().await.take();
                        }
                        match rd.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => chunk = buf[..n].to_vec(),
                        }
                    }
                })
            };
            for step in script {
                match step {
                    Step::Send(bytes) => {
                        if let Some(w) = wr.lock().await.as_mut() {
                            let _ = w.write_all(&bytes).await;
                        }
                    }
                    Step::Pause(d) => tokio::time::sleep(d).await,
                    Step::AwaitFrames(n) => {
                        while recorded.lock().unwrap().len() < n && !reader.is_finished() {
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                    }
                    Step::Drop => {
                        wr.lock().await.take();
                    }
                }
            }
            let _ = reader.await;
        });
        Hostile {
            url,
            frames,
            done,
            _watchdog: watchdog,
        }
    }

    /// Everything the client has sent so far, as decoded frames.
    pub fn frames(&self) -> Vec<Frame> {
        self.frames.lock().unwrap().clone()
    }

    /// Wait (bounded) for the client to finish, then return every frame it sent.
    pub async fn finish(self) -> Vec<Frame> {
        let _ = tokio::time::timeout(Duration::from_secs(10), self.done).await;
        self.frames.lock().unwrap().clone()
    }
}

/// The status code of the first close frame in `frames`, as it was on the wire.
pub fn close_code(frames: &[Frame]) -> Option<u16> {
    frames
        .iter()
        .find(|f| f.opcode == 0x8)
        .and_then(|f| f.close_info())
        .and_then(|c| c.code)
}

/// Read the request head, answer 101 with the right Sec-WebSocket-Accept. Returns the bytes read
/// past the head (frames the client sent right away).
pub async fn handshake(tcp: &mut tokio::net::TcpStream) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        let n = tcp.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let text = String::from_utf8_lossy(&head[..end]).into_owned();
    let key = text.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("sec-websocket-key")
            .then(|| value.trim().to_string())
    })?;
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        derive_accept_key(key.as_bytes())
    );
    tcp.write_all(response.as_bytes()).await.ok()?;
    Some(head[end..].to_vec())
}

/// An unmasked server frame: first byte `b0` (FIN, RSV, opcode) and `payload`, minimal length.
pub fn frame(b0: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![b0];
    push_len(&mut f, 0, payload.len() as u64);
    f.extend_from_slice(payload);
    f
}

/// A masked frame (servers must never send one; RFC 6455 5.1).
pub fn masked_frame(b0: u8, payload: &[u8], key: [u8; 4]) -> Vec<u8> {
    let mut f = vec![b0];
    push_len(&mut f, 0x80, payload.len() as u64);
    f.extend_from_slice(&key);
    f.extend(payload.iter().zip(key.iter().cycle()).map(|(b, k)| b ^ k));
    f
}

/// A header declaring `len` payload bytes, with no payload behind it.
pub fn header_only(b0: u8, len: u64) -> Vec<u8> {
    let mut f = vec![b0];
    push_len(&mut f, 0, len);
    f
}

/// A close frame with `code` and `reason`, as the server would send it.
pub fn close(code: u16, reason: &str) -> Vec<u8> {
    let mut body = code.to_be_bytes().to_vec();
    body.extend_from_slice(reason.as_bytes());
    frame(0x88, &body)
}

/// A final text frame.
pub fn text(s: &str) -> Vec<u8> {
    frame(0x81, s.as_bytes())
}

fn push_len(f: &mut Vec<u8>, mask_bit: u8, len: u64) {
    if len < 126 {
        f.push(mask_bit | len as u8);
    } else if len <= u64::from(u16::MAX) {
        f.push(mask_bit | 126);
        f.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        f.push(mask_bit | 127);
        f.extend_from_slice(&len.to_be_bytes());
    }
}

/// A server that reads one request head and answers exactly `response`, then closes: for
/// handshake responses no library would send (raw bytes in a header value). Returns its ws:// URL.
pub async fn answer_once(response: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let Ok((mut tcp, _)) = listener.accept().await else {
            return;
        };
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let _ = tcp.write_all(&response).await;
        let _ = tcp.shutdown().await;
    });
    url
}
