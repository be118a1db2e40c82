//! A raw server that enforces nothing: it upgrades every request (any Origin, any version, no
//! Host needed), answers every ping with a pong of the same payload, answers a close with a close,
//! and lets every violation through. What `wscope probe` must tell apart from a conforming server.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wscope::wire::frame::FrameDecoder;

use super::hostile::{frame, handshake};

/// A running lax server (any number of clients, each on its own task).
pub struct Lax {
    pub url: String,
    _watchdog: super::Watchdog,
}

impl Lax {
    pub async fn start() -> Lax {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/", listener.local_addr().unwrap());
        let watchdog = super::Watchdog::new();
        let inner = watchdog.clone();
        watchdog.spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                inner.spawn(serve(tcp));
            }
        });
        Lax {
            url,
            _watchdog: watchdog,
        }
    }
}

async fn serve(mut tcp: tokio::net::TcpStream) {
    let Some(mut chunk) = handshake(&mut tcp).await else {
        return;
    };
    let mut dec = FrameDecoder::new(256);
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        dec.feed(&chunk, &mut out);
        for f in out.drain(..) {
            let reply = match f.opcode {
                0x9 => frame(0x8A, &f.payload),
                0x8 => frame(0x88, &f.payload),
                _ => continue,
            };
            if tcp.write_all(&reply).await.is_err() || f.opcode == 0x8 {
                return;
            }
        }
        match tcp.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => chunk = buf[..n].to_vec(),
        }
    }
}
