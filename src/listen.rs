//! `wscope listen [ADDR:]PORT`: a WebSocket server for testing. Accepts any number of clients, tags
//! each with an id, prints what they send, and with --echo sends it back with the same type.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::Message;

use crate::cli::ListenArgs;
use crate::error::{Error, Result};
use crate::printer::{style, Printer, Screen, Style};

/// `8080` or `127.0.0.1:8080` or `[::1]:8080`; a bare port listens on loopback only.
pub fn parse_addr(s: &str) -> Result<SocketAddr> {
    if let Ok(port) = s.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    s.parse().map_err(|_| {
        Error::usage_hint(
            format!("'{s}' is not a port or ADDR:PORT"),
            "e.g. `wscope listen 8080` or `wscope listen 0.0.0.0:8080`",
        )
    })
}

/// A line for the printer, from any client task.
enum Line {
    Note(String),
    Data(String),
}

pub async fn run(args: &ListenArgs) -> Result<()> {
    style::init_color(args.output.color, false);
    let addr = parse_addr(&args.addr)?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| Error::io(format!("cannot listen on {addr}"), e))?;
    let local = listener
        .local_addr()
        .map_err(|e| Error::io("cannot read the bound address", e))?;
    let mut printer = Printer::new(
        Style {
            json: args.output.json,
            timestamps: args.output.timestamps,
            ..Style::default()
        },
        Screen::Stderr,
    );
    printer.note(&format!(
        "listening on ws://{local}/{}",
        if args.echo { " (echo)" } else { "" }
    ));
    crate::event::EventSink::flush(&mut printer);
    serve(listener, args, printer).await
}

/// Accept clients until the process is stopped. Takes its listener so tests can bind port 0.
pub async fn serve(listener: TcpListener, args: &ListenArgs, mut printer: Printer) -> Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Line>();
    let ids = Arc::new(AtomicU64::new(0));
    let protocols = Arc::new(args.subprotocols.clone());
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((tcp, peer)) = accepted else { continue };
                let id = ids.fetch_add(1, Ordering::Relaxed) + 1;
                let tx = tx.clone();
                let echo = args.echo;
                let protocols = protocols.clone();
                let max = args.max_message_size;
                tokio::spawn(async move {
                    client(id, tcp, peer, echo, protocols, max, tx).await;
                });
            }
            Some(line) = rx.recv() => {
                match line {
                    Line::Note(n) => printer.note(&n),
                    Line::Data(d) => printer.note(&d),
                }
                crate::event::EventSink::flush(&mut printer);
            }
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

#[allow(clippy::result_large_err)] // the callback's signature is tungstenite's
async fn client(
    id: u64,
    tcp: TcpStream,
    peer: SocketAddr,
    echo: bool,
    protocols: Arc<Vec<String>>,
    max: usize,
    tx: mpsc::UnboundedSender<Line>,
) {
    let _ = tcp.set_nodelay(true);
    let callback =
        |req: &Request, mut resp: Response| -> std::result::Result<Response, ErrorResponse> {
            let offered: Vec<&str> = req
                .headers()
                .get_all("Sec-WebSocket-Protocol")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(',').map(str::trim))
                .collect();
            if let Some(p) = offered.iter().find(|o| protocols.iter().any(|p| p == *o)) {
                if let Ok(v) = HeaderValue::from_str(p) {
                    resp.headers_mut().insert("Sec-WebSocket-Protocol", v);
                }
            }
            Ok(resp)
        };
    let config = crate::connect::ws_config(max);
    let ws =
        match tokio_tungstenite::accept_hdr_async_with_config(tcp, callback, Some(config)).await {
            Ok(ws) => ws,
            Err(e) => {
                let _ = tx.send(Line::Note(format!("[{id}] {peer}: handshake failed: {e}")));
                return;
            }
        };
    let _ = StatusCode::OK;
    let _ = tx.send(Line::Note(format!("[{id}] connected from {peer}")));
    let (mut sink, mut stream) = ws.split();
    while let Some(msg) = stream.next().await {
        match msg {
            Ok(Message::Text(t)) => {
                let _ = tx.send(Line::Data(format!("[{id}] < {}", t.as_str())));
                if echo && sink.send(Message::Text(t)).await.is_err() {
                    break;
                }
            }
            Ok(Message::Binary(b)) => {
                let _ = tx.send(Line::Data(format!(
                    "[{id}] < binary {} bytes: {}",
                    b.len(),
                    crate::hexdump::hex_compact(&b[..b.len().min(64)])
                )));
                if echo && sink.send(Message::Binary(b)).await.is_err() {
                    break;
                }
            }
            Ok(Message::Close(f)) => {
                let what = f
                    .map(|f| format!("{} {:?}", u16::from(f.code), f.reason.as_str()))
                    .unwrap_or_else(|| "without a code".into());
                let _ = tx.send(Line::Note(format!("[{id}] closed {what}")));
            }
            Ok(_) => {}
            Err(e) => {
                let _ = tx.send(Line::Note(format!("[{id}] error: {e}")));
                break;
            }
        }
    }
    let _ = tx.send(Line::Note(format!("[{id}] disconnected")));
}
