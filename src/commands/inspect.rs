//! `wscope inspect URL`: the handshake report in full (or one JSON object), then a clean close, and
//! exit 0 only when every check passed and the server answered our close.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::protocol::{frame::coding::CloseCode, CloseFrame, Role};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::config::Inspect;
use crate::error::{Error, Result};
use crate::handshake;
use crate::printer::{report, Screen};

/// How long the server gets to answer our close frame.
const CLOSE_WAIT: Duration = Duration::from_secs(3);

pub async fn run(cfg: Inspect) -> Result<()> {
    let mut printer = cfg.output.printer(Screen::Stderr);
    let json = cfg.output.style.json();
    let (target, options) = (cfg.target, cfg.upgrade);
    let (report, upgraded) = handshake::open(&target, &options).await;
    if !json && report.tls.as_ref().is_some_and(|t| t.insecure) {
        // The same warning as connect: -k must never go unnoticed, even in a passing report.
        printer.warn("TLS certificate verification is off (-k/--insecure): anyone on the path could read or change this connection");
    }
    let (close, outcome) = match upgraded {
        Ok(up) => {
            let config = crate::session::ws_config(cfg.max_message_size);
            let ws = WebSocketStream::from_partially_read(
                up.stream,
                up.leftover,
                Role::Client,
                Some(config),
            )
            .await;
            close_cleanly(ws).await
        }
        Err(e) => (None, Err(e)),
    };
    if json {
        let mut v = serde_json::to_value(&report).unwrap_or_else(|_| json!({}));
        if let Some(obj) = v.as_object_mut() {
            obj.insert("ok".into(), json!(outcome.is_ok()));
            obj.insert("close".into(), json!(close));
            if let Err(e) = &outcome {
                obj.insert(
                    "error".into(),
                    json!({"message": e.to_string(), "hint": e.hint(), "exit_code": e.exit_code()}),
                );
            }
        }
        printer.write_json(&v);
    } else {
        printer.document(&report::full(&report));
        if let Some(c) = &close {
            printer.document(&format!("\n{}\n  {c}\n", colored::Colorize::bold("Close")));
        }
        if outcome.is_ok() {
            printer.document(&format!(
                "\n{}\n",
                colored::Colorize::green("all checks passed")
            ));
        }
    }
    // The error, if any, is reported at the edge (with --json it is in the object above).
    crate::event::EventSink::flush(&mut printer);
    outcome
}

/// Send 1000 and wait for the server's close. Returns a description and the verdict.
async fn close_cleanly<S>(mut ws: WebSocketStream<S>) -> (Option<String>, Result<()>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let frame = CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    };
    if let Err(e) = ws.send(Message::Close(Some(frame))).await {
        return (
            Some(format!("sending our close failed: {e}")),
            Err(Error::protocol(format!(
                "could not send a close frame: {e}"
            ))),
        );
    }
    let wait = async {
        while let Some(m) = ws.next().await {
            match m {
                Ok(Message::Close(f)) => {
                    return Ok(match f {
                        Some(f) => format!(
                            "the server answered our 1000 with {} {:?}",
                            u16::from(f.code),
                            f.reason.as_str()
                        ),
                        None => {
                            "the server answered our 1000 with an empty close frame".to_string()
                        }
                    })
                }
                Ok(_) => continue,
                Err(e) => return Err(format!("{e}")),
            }
        }
        Err("the connection ended without a close frame".to_string())
    };
    match tokio::time::timeout(CLOSE_WAIT, wait).await {
        Ok(Ok(desc)) => (Some(desc), Ok(())),
        Ok(Err(why)) => (
            Some(format!(
                "the server did not answer our close cleanly: {why}"
            )),
            Err(Error::protocol(format!(
                "the server did not answer our close frame cleanly: {why}"
            ))),
        ),
        Err(_) => (
            Some("the server did not answer our close within 3 s".into()),
            Err(Error::protocol(
                "the server did not answer our close frame within 3 s",
            )),
        ),
    }
}
