//! A raw WebSocket server for `probe`'s tests: it upgrades any request head (any size, with or
//! without a key), agrees to what a test says, then reads frame headers with wscope's one parser
//! and closes with the code a test's rule gives a header. Loopback, port 0.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wscope::wire::header::{self, Header, Parsed};

use super::hostile::frame;

/// A raw server that upgrades any request head, of any size, with or without a key, then reads
/// frame headers with wscope's one parser: `close` says which code a header gets (None: the
/// frame is taken; pings are answered, a close is echoed).
pub async fn raw_server(close: fn(&Header) -> Option<u16>) -> String {
    raw_server_with(close, |_| String::new()).await
}

/// The same, with the response headers `agree` makes of the request head.
pub async fn raw_server_with(
    close: fn(&Header) -> Option<u16>,
    agree: fn(&str) -> String,
) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(serve(tcp, close, agree));
        }
    });
    url
}

fn header_of<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Agrees to whatever is offered: the first subprotocol, the extension offer as written (a
/// valueless client_max_window_bits, which a response may not carry, left out).
pub fn echoes_offers(head: &str) -> String {
    let mut out = String::new();
    if let Some(p) = header_of(head, "Sec-WebSocket-Protocol") {
        let first = p.split(',').next().unwrap_or_default().trim();
        out.push_str(&format!("Sec-WebSocket-Protocol: {first}\r\n"));
    }
    if let Some(e) = header_of(head, "Sec-WebSocket-Extensions") {
        let e = e.replace("; client_max_window_bits", "");
        out.push_str(&format!("Sec-WebSocket-Extensions: {e}\r\n"));
    }
    out
}

/// Agrees to permessage-deflate (and inflates nothing).
pub fn agrees_to_deflate(head: &str) -> String {
    match header_of(head, "Sec-WebSocket-Extensions") {
        Some(e) if e.contains("permessage-deflate") => {
            "Sec-WebSocket-Extensions: permessage-deflate\r\n".into()
        }
        _ => String::new(),
    }
}

async fn serve(mut tcp: TcpStream, close: fn(&Header) -> Option<u16>, agree: fn(&str) -> String) {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match tcp.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let key = head
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case("sec-websocket-key")
                .then(|| v.trim().to_string())
        })
        .unwrap_or_default();
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n{}\r\n",
        agree(&head)
    );
    if tcp.write_all(response.as_bytes()).await.is_err() {
        return;
    }
    buf.drain(..end);
    loop {
        while let Parsed::Header(h, n) = header::parse(&buf) {
            if let Some(code) = close(&h) {
                let _ = tcp.write_all(&frame(0x88, &code.to_be_bytes())).await;
                return;
            }
            let Some(whole) = (n as u64)
                .checked_add(h.len)
                .filter(|&w| w <= buf.len() as u64)
            else {
                break;
            };
            let mut payload = buf[n..whole as usize].to_vec();
            if let Some(k) = h.mask {
                payload
                    .iter_mut()
                    .zip(k.iter().cycle())
                    .for_each(|(b, m)| *b ^= m);
            }
            buf.drain(..whole as usize);
            let reply = match h.opcode {
                0x9 => frame(0x8A, &payload),
                0x8 => frame(0x88, &payload),
                _ => continue,
            };
            if tcp.write_all(&reply).await.is_err() || h.opcode == 0x8 {
                return;
            }
        }
        match tcp.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

pub fn takes_all(_: &Header) -> Option<u16> {
    None
}

/// A server that upgrades everything and keeps every request head.
pub async fn recording_server() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let heads = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = heads.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let mut peek = vec![0u8; 64 * 1024];
            if let Ok(n) = tcp.peek(&mut peek).await {
                kept.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&peek[..n]).into_owned());
            }
            tokio::spawn(serve(tcp, takes_all, |_| String::new()));
        }
    });
    (url, heads)
}
