//! A server that goes away and comes back, for `--reconnect`: each accepted connection plays its
//! [`Turn`] (close with a code, drop TCP, or stay), then the listener accepts the next one as a
//! restarted server would. Raw frames, as in `hostile`: every frame the client sends is decoded
//! with wscope's own decoder and recorded per connection, including those that arrive after our
//! close frame, so a test sees exactly what reached the server. It runs on a thread of its own, so
//! plain and async tests, and the pty ones, can use it alike.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wscope::wire::frame::{Frame, FrameDecoder};

use super::hostile::{self, handshake};

/// What one connection does. Every text message it receives is echoed until it closes.
#[derive(Debug, Clone, Copy)]
pub enum Turn {
    /// Close with `code` once `after` data messages came (0: right after the handshake), then
    /// read on until the client's close.
    Close { code: u16, after: usize },
    /// Once `after` data messages came, stop reading for `stall` (the client's writes back up
    /// behind full socket buffers), then close with `code` and read on.
    StallThenClose {
        code: u16,
        after: usize,
        stall: Duration,
    },
    /// Drop the TCP connection, without a close frame, once `after` data messages came.
    Drop { after: usize },
    /// Echo until the client closes.
    Stay,
    /// Refuse the upgrade with this HTTP status, and close.
    Status(u16),
}

pub struct Restarting {
    pub url: String,
    conns: Arc<Mutex<Vec<Vec<Frame>>>>,
}

impl Restarting {
    /// Connections past the end of `turns` stay.
    pub fn start(turns: Vec<Turn>) -> Restarting {
        let conns: Arc<Mutex<Vec<Vec<Frame>>>> = Arc::default();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let log = conns.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                for i in 0.. {
                    let Ok((tcp, _)) = listener.accept().await else {
                        return;
                    };
                    let turn = turns.get(i).copied().unwrap_or(Turn::Stay);
                    let index = {
                        let mut l = log.lock().unwrap();
                        l.push(Vec::new());
                        l.len() - 1
                    };
                    tokio::spawn(serve(tcp, turn, log.clone(), index));
                }
            });
        });
        let addr = addr_rx.recv().unwrap();
        Restarting {
            url: format!("ws://{addr}/"),
            conns,
        }
    }

    /// Every frame each connection received, one entry per accepted connection.
    pub fn connections(&self) -> Vec<Vec<Frame>> {
        self.conns.lock().unwrap().clone()
    }

    /// The text messages each connection received.
    pub fn texts(&self) -> Vec<Vec<String>> {
        self.connections()
            .iter()
            .map(|c| {
                c.iter()
                    .filter(|f| f.opcode == 0x1)
                    .map(|f| String::from_utf8_lossy(&f.payload).into_owned())
                    .collect()
            })
            .collect()
    }

    /// Wait (up to 15 s) until `n` connections were accepted.
    pub fn wait_connections(&self, n: usize) {
        let start = Instant::now();
        while self.conns.lock().unwrap().len() < n {
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "only {} connections came",
                self.conns.lock().unwrap().len()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// The status code of the close frame connection `frames` received, if any.
pub fn close_code(frames: &[Frame]) -> Option<u16> {
    hostile::close_code(frames)
}

async fn serve(mut tcp: TcpStream, turn: Turn, log: Arc<Mutex<Vec<Vec<Frame>>>>, index: usize) {
    if let Turn::Status(status) = turn {
        return refuse(tcp, status).await;
    }
    let Some(leftover) = handshake(&mut tcp).await else {
        return;
    };
    let mut dec = FrameDecoder::new(1 << 20);
    let mut chunk = leftover;
    let mut buf = vec![0u8; 64 * 1024];
    let mut data = 0;
    let mut closed = false;
    if let Turn::Close { code, after: 0 } = turn {
        let _ = tcp.write_all(&hostile::close(code, "restarting")).await;
        closed = true;
    }
    loop {
        let mut out = Vec::new();
        dec.feed(&chunk, &mut out);
        for f in out {
            log.lock().unwrap()[index].push(f.clone());
            match f.opcode {
                0x1 | 0x2 => {
                    data += 1;
                    if !closed && f.opcode == 0x1 {
                        let _ = tcp
                            .write_all(&hostile::text(&String::from_utf8_lossy(&f.payload)))
                            .await;
                    }
                    match turn {
                        Turn::Close { code, after } if !closed && data >= after => {
                            let _ = tcp.write_all(&hostile::close(code, "restarting")).await;
                            closed = true;
                        }
                        Turn::StallThenClose { code, after, stall } if !closed && data >= after => {
                            tokio::time::sleep(stall).await;
                            let _ = tcp.write_all(&hostile::close(code, "restarting")).await;
                            closed = true;
                        }
                        Turn::Drop { after } if data >= after => return,
                        _ => {}
                    }
                }
                0x8 => {
                    if !closed {
                        let code = f.close_info().and_then(|c| c.code);
                        let body = code.map(|c| c.to_be_bytes().to_vec()).unwrap_or_default();
                        let _ = tcp.write_all(&hostile::frame(0x88, &body)).await;
                    }
                    return;
                }
                _ => {}
            }
        }
        match tcp.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => chunk = buf[..n].to_vec(),
        }
    }
}

/// Read the request head, answer `status` with an empty body, close.
async fn refuse(mut tcp: TcpStream, status: u16) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match tcp.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let answer =
        format!("HTTP/1.1 {status} Refused\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    let _ = tcp.write_all(answer.as_bytes()).await;
}
