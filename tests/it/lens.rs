//! Lenses (SPEC.md "Lenses") against in-process peers that speak the protocol: a small Socket.IO
//! (Engine.IO 4) server with pings, a namespace answer, acks and a malformed packet; a JSON-RPC
//! server; a graphql-transport-ws server; a MessagePack echo. Each test runs the real binary and
//! checks what the user sees and what the peer received.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use crate::support::{args, run, Out, Watchdog};

/// How a peer answers: the messages it sends at once, each message's replies, and an optional
/// message sent every period.
#[derive(Clone)]
pub(crate) struct Peer {
    pub(crate) subprotocol: Option<&'static str>,
    pub(crate) greeting: Vec<Message>,
    pub(crate) every: Option<(Duration, Message)>,
    pub(crate) answer: fn(&Message) -> Vec<Message>,
}

/// A running peer: its address, the request path of each connection, what it received.
pub(crate) struct Running {
    pub(crate) addr: std::net::SocketAddr,
    pub(crate) paths: Arc<Mutex<Vec<String>>>,
    pub(crate) got: Arc<Mutex<Vec<Message>>>,
    _watchdog: Watchdog,
}

impl Running {
    pub(crate) fn texts(&self) -> Vec<String> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter_map(|m| m.to_text().ok().map(String::from))
            .collect()
    }
    pub(crate) fn url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }
}

pub(crate) async fn serve(peer: Peer) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = Running {
        addr: listener.local_addr().unwrap(),
        paths: Arc::default(),
        got: Arc::default(),
        _watchdog: Watchdog::new(),
    };
    let (paths, got, wd) = (
        running.paths.clone(),
        running.got.clone(),
        running._watchdog.clone(),
    );
    running._watchdog.spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (peer, paths, got) = (peer.clone(), paths.clone(), got.clone());
            wd.spawn(async move { talk(tcp, peer, paths, got).await });
        }
    });
    running
}

#[allow(clippy::result_large_err)] // the callback's signature is tungstenite's
async fn talk(
    tcp: tokio::net::TcpStream,
    peer: Peer,
    paths: Arc<Mutex<Vec<String>>>,
    got: Arc<Mutex<Vec<Message>>>,
) {
    let callback = |req: &Request, mut resp: Response| -> Result<Response, ErrorResponse> {
        paths.lock().unwrap().push(req.uri().to_string());
        if let Some(p) = peer.subprotocol {
            resp.headers_mut()
                .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(p));
        }
        Ok(resp)
    };
    let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, callback).await else {
        return;
    };
    let (mut tx, mut rx) = ws.split();
    for m in peer.greeting {
        let _ = tx.send(m).await;
    }
    let (period, tick) = peer
        .every
        .clone()
        .unwrap_or((Duration::from_secs(3600), Message::text("")));
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    loop {
        tokio::select! {
            m = rx.next() => {
                let Some(Ok(m)) = m else { return };
                if m.is_close() {
                    // tungstenite queued the answer to the close: write it out.
                    let _ = tx.flush().await;
                    let _ = tx.close().await;
                    return;
                }
                got.lock().unwrap().push(m.clone());
                for r in (peer.answer)(&m) {
                    let _ = tx.send(r).await;
                }
            }
            _ = ticker.tick(), if peer.every.is_some() => {
                let _ = tx.send(tick.clone()).await;
            }
        }
    }
}

// ---- Socket.IO ----

const OPEN: &str =
    r#"0{"sid":"s1","upgrades":[],"pingInterval":300,"pingTimeout":300,"maxPayload":1000000}"#;

fn socketio_answer(m: &Message) -> Vec<Message> {
    let t = m.to_text().unwrap_or("");
    match t {
        // python-socketio sends what its connect handler emits before the CONNECT answer.
        "40" | r#"40{"token":"t"}"# => vec![
            Message::text(r#"42["welcome",{"n":1}]"#),
            Message::text(r#"40{"sid":"x1"}"#),
        ],
        t if t.starts_with("42") => {
            let rest = &t[2..];
            let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            let args = rest[digits.len()..].strip_prefix('[').unwrap_or("]");
            let mut out = vec![
                Message::text("9bogus"),
                Message::text(format!("42[\"echo\",{args}")),
            ];
            if !digits.is_empty() {
                out.push(Message::text(format!("43{digits}[\"ok\"]")));
            }
            out
        }
        _ => vec![],
    }
}

pub(crate) fn socketio(pings: bool) -> Peer {
    Peer {
        subprotocol: None,
        greeting: vec![Message::text(OPEN)],
        every: pings.then(|| (Duration::from_millis(300), Message::text("2"))),
        answer: socketio_answer,
    }
}

pub(crate) fn has_line(out: &Out, line: &str) -> bool {
    out.stdout.lines().any(|l| l == line)
}

#[tokio::test(flavor = "multi_thread")]
async fn socketio_is_chosen_by_the_path_connects_emits_and_keeps_pinging() {
    let peer = serve(socketio(true)).await;
    let out = run(args(&[
        &peer.url("/socket.io/"),
        "--lens-auth",
        r#"{"token":"t"}"#,
        "-x",
        r#"/expect-json .type == "event" and .name == "welcome""#,
        "-x",
        r#"/emit chat "hi" {"n":1} --ack"#,
        "-x",
        "/expect ^9bogus$",
        "-x",
        r#"/expect-json .type == "ack" and .id == 0"#,
        "-x",
        "/let got .args[0]",
        "-x",
        "/sleep 1.2",
        "-x",
        "/emit done ${got}",
        "-w",
        "0.5",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains(", lens socketio"), "{}", out.stderr);
    assert_eq!(
        peer.paths.lock().unwrap()[0],
        "/socket.io/?EIO=4&transport=websocket"
    );
    assert!(
        has_line(&out, r#"[socketio] event "welcome" [{"n":1}]"#),
        "{}",
        out.stdout
    );
    assert!(
        has_line(&out, r#"[socketio] event "echo" ["chat","hi",{"n":1}]"#),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with(r#"[socketio] ack 0 ["ok"] ("#)),
        "{}",
        out.stdout
    );
    assert!(
        has_line(
            &out,
            r#"[socketio] 9bogus (not a socketio packet: unknown Engine.IO packet type "9")"#
        ),
        "{}",
        out.stdout
    );
    let got = peer.texts();
    assert_eq!(got[0], r#"40{"token":"t"}"#, "{got:?}");
    assert!(
        got.contains(&r#"420["chat","hi",{"n":1}]"#.to_string()),
        "{got:?}"
    );
    assert!(got.contains(&r#"42["done","ok"]"#.to_string()), "{got:?}");
    // 1.2 s and more at a 300 ms pingInterval: every ping answered, at least 3 of them.
    let pongs = got.iter().filter(|t| *t == "3").count();
    assert!(pongs >= 3, "{got:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn socketio_json_events_carry_the_lens_view_and_verbose_adds_the_raw() {
    let peer = serve(socketio(true)).await;
    let out = run(args(&[
        &peer.url("/socket.io/?EIO=4&transport=websocket"),
        "--json",
        "-x",
        r#"/expect-json .name == "welcome""#,
        "--idle",
        "0.7",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let events: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let open = events.iter().find(|e| e["event"] == "open").expect("open");
    assert_eq!(open["lens"], "socketio");
    let welcome = events
        .iter()
        .find(|e| e["event"] == "received" && e["data"] == r#"42["welcome",{"n":1}]"#)
        .expect("the welcome event");
    assert_eq!(
        welcome["lens"],
        serde_json::json!({"name":"socketio","summary":"event \"welcome\" [{\"n\":1}]",
            "view":{"type":"event","ns":"/","name":"welcome","args":[{"n":1}]}})
    );
    let sent = events
        .iter()
        .find(|e| e["event"] == "sent")
        .expect("the 40");
    assert_eq!(sent["lens"]["view"]["type"], "connect");

    let out = run(args(&[
        &peer.url("/socket.io/"),
        "-v",
        "-x",
        "/expect-json .name == \"welcome\"",
        "--idle",
        "0.7",
    ]))
    .await;
    assert!(
        out.stdout.contains(
            "[socketio] event \"welcome\" [{\"n\":1}]\n    raw 42[\"welcome\",{\"n\":1}]\n"
        ),
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_socketio_server_that_stops_pinging_is_a_dead_peer() {
    let peer = serve(socketio(false)).await;
    let out = run(args(&[&peer.url("/socket.io/"), "-w", "inf"])).await;
    assert_eq!(out.code, 6, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("the server stopped pinging: no Engine.IO ping within 600 ms"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn passive_and_none_send_nothing_by_themselves() {
    let peer = serve(socketio(true)).await;
    let out = run(args(&[
        &peer.url("/socket.io/?EIO=4&transport=websocket"),
        "--lens-passive",
        "-w",
        "0.8",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(has_line(&out, "[socketio] ping"), "{}", out.stdout);
    assert!(peer.texts().is_empty(), "{:?}", peer.texts());
    let out = run(args(&[
        &peer.url("/socket.io/?EIO=4&transport=websocket"),
        "--lens",
        "none",
        "-w",
        "0.4",
    ]))
    .await;
    assert!(has_line(&out, OPEN), "{}", out.stdout);
    assert!(!out.stderr.contains("lens"), "{}", out.stderr);
}

// ---- JSON-RPC ----

fn jsonrpc_answer(m: &Message) -> Vec<Message> {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(m.to_text().unwrap_or("")) else {
        return vec![];
    };
    let Some(id) = v.get("id") else { return vec![] };
    let sum: i64 = v["params"]
        .as_array()
        .map_or(0, |a| a.iter().filter_map(|x| x.as_i64()).sum());
    vec![Message::text(
        serde_json::json!({"jsonrpc":"2.0","id":id,"result":sum}).to_string(),
    )]
}

#[tokio::test(flavor = "multi_thread")]
async fn jsonrpc_calls_get_ids_and_replies_are_paired_with_their_latency() {
    let peer = serve(Peer {
        subprotocol: None,
        greeting: vec![],
        every: None,
        answer: jsonrpc_answer,
    })
    .await;
    let out = run(args(&[
        &peer.url("/rpc"),
        "--lens",
        "jsonrpc",
        "-x",
        "/notify log {\"a\":1}",
        "-x",
        "/call add [1,2]",
        "-x",
        "/expect-json .type == \"result\" and .id == 1 and .method == \"add\" and .result == 3",
        "-x",
        "/call add [4,5]",
        "-x",
        "/expect-json .id == 2",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let got = peer.texts();
    assert_eq!(
        got[0],
        r#"{"jsonrpc":"2.0","method":"log","params":{"a":1}}"#
    );
    assert_eq!(
        got[1],
        r#"{"id":1,"jsonrpc":"2.0","method":"add","params":[1,2]}"#
    );
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("[jsonrpc] result id 2 ("))
        .unwrap_or_default();
    assert!(line.ends_with(" ms) 9"), "{}", out.stdout);
}

// ---- graphql-ws ----

fn graphql_answer(m: &Message) -> Vec<Message> {
    let v: serde_json::Value = serde_json::from_str(m.to_text().unwrap_or("")).unwrap_or_default();
    match v["type"].as_str() {
        Some("connection_init") => vec![
            Message::text(r#"{"type":"connection_ack"}"#),
            Message::text(r#"{"type":"ping"}"#),
        ],
        Some("subscribe") => vec![
            Message::text(
                serde_json::json!({"id": v["id"], "type": "next", "payload": {"data": {"greeting": v["payload"]["variables"]["who"]}}})
                    .to_string(),
            ),
            Message::text(serde_json::json!({"id": v["id"], "type": "complete"}).to_string()),
        ],
        _ => vec![],
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn graphql_ws_is_chosen_by_the_subprotocol_inits_answers_pings_and_subscribes() {
    let peer = serve(Peer {
        subprotocol: Some("graphql-transport-ws"),
        greeting: vec![],
        every: None,
        answer: graphql_answer,
    })
    .await;
    let out = run(args(&[
        &peer.url("/graphql"),
        "-s",
        "graphql-transport-ws",
        "--lens-auth",
        r#"{"k":1}"#,
        "-x",
        r#"/subscribe 7 subscription ($who: String) { greeting(who: $who) } {"who":"ann"}"#,
        "-x",
        r#"/expect-json .type == "next" and .payload.data.greeting == "ann""#,
        "-x",
        r#"/expect-json .type == "complete" and .id == "7""#,
    ]))
    .await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains(", lens graphql-ws"), "{}", out.stderr);
    let got = peer.texts();
    assert_eq!(got[0], r#"{"payload":{"k":1},"type":"connection_init"}"#);
    assert!(got.contains(&r#"{"type":"pong"}"#.to_string()), "{got:?}");
    assert!(
        has_line(
            &out,
            r#"[graphql-ws] next id 7 {"data":{"greeting":"ann"}}"#
        ),
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn graphql_ws_without_connection_ack_fails_in_the_connect_timeout() {
    let peer = serve(Peer {
        subprotocol: Some("graphql-transport-ws"),
        greeting: vec![],
        every: None,
        answer: |_| vec![],
    })
    .await;
    let out = run(args(&[
        &peer.url("/g"),
        "-s",
        "graphql-transport-ws",
        "--connect-timeout",
        "0.5",
        "-w",
        "inf",
    ]))
    .await;
    assert_eq!(out.code, 6, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("graphql-ws: no connection_ack within 0.5 s"),
        "{}",
        out.stderr
    );
}

// ---- MessagePack and CBOR ----

pub(crate) fn echo(m: &Message) -> Vec<Message> {
    vec![m.clone()]
}

#[tokio::test(flavor = "multi_thread")]
async fn msgpack_and_cbor_send_json_encoded_and_show_replies_as_json() {
    let peer = serve(Peer {
        subprotocol: None,
        greeting: vec![Message::binary(vec![0x81, 0xa1, b'a', 0xc4, 0x01, 0xff])],
        every: None,
        answer: echo,
    })
    .await;
    let out = run(args(&[
        &peer.url("/"),
        "--lens",
        "msgpack",
        "-x",
        r#"/send-json {"op":"sub","n":[1,2]}"#,
        "-x",
        "/expect-json .op == \"sub\"",
        "-x",
        "/text hello",
        "-x",
        "/expect hello",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        has_line(&out, r#"[msgpack] {"a":{"$bytes":"ff"}}"#),
        "{}",
        out.stdout
    );
    assert!(
        has_line(&out, r#"[msgpack] {"n":[1,2],"op":"sub"}"#),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("[msgpack] hello (not a msgpack packet: ")),
        "{}",
        out.stdout
    );
    assert_eq!(
        peer.got.lock().unwrap()[0],
        Message::binary(vec![
            0x82, 0xa1, b'n', 0x92, 1, 2, 0xa2, b'o', b'p', 0xa3, b's', b'u', b'b'
        ])
    );

    let out = run(args(&[
        &peer.url("/"),
        "--lens",
        "cbor",
        "-x",
        "/send-json [1,\"x\"]",
        "-x",
        "/expect-json .[1] == \"x\"",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(has_line(&out, r#"[cbor] [1,"x"]"#), "{}", out.stdout);
}

// ---- Usage ----

#[tokio::test(flavor = "multi_thread")]
async fn a_lens_command_without_its_lens_and_an_unknown_lens_are_refused() {
    let out = run(args(&["ws://127.0.0.1:9/", "--lens", "bogus"])).await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("--lens 'bogus' is not a lens"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("socketio, graphql-ws, stomp, mqtt, jsonrpc, msgpack, cbor, protobuf, none"),
        "{}",
        out.stderr
    );
    let out = run(args(&["ws://127.0.0.1:9/", "--lens-auth", "{nope"])).await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    // Checked before connecting (port 9 is never dialled: the error is a usage one).
    let out = run(args(&[
        "ws://127.0.0.1:9/",
        "--lens",
        "jsonrpc",
        "-x",
        "/emit x",
    ]))
    .await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("/emit is not a command of the jsonrpc lens"),
        "{}",
        out.stderr
    );
    let out = run(args(&[
        "ws://127.0.0.1:9/",
        "--lens",
        "jsonrpc",
        "-x",
        "/call m 3",
    ]))
    .await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("PARAMS_JSON must be an array or an object"),
        "{}",
        out.stderr
    );
    let peer = serve(Peer {
        subprotocol: None,
        greeting: vec![],
        every: None,
        answer: echo,
    })
    .await;
    let out = run(args(&[&peer.url("/"), "-x", "/emit chat", "-x", "after"])).await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("/emit is a command of the socketio lens, and no lens is on"),
        "{}",
        out.stderr
    );
    assert_eq!(peer.texts(), vec!["after".to_string()]);
}

// ---- STOMP ----

fn stomp_answer(m: &Message) -> Vec<Message> {
    let t = m.to_text().unwrap_or("");
    let header = |k: &str| {
        t.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}:")))
            .unwrap_or("")
            .to_string()
    };
    match t.lines().next().unwrap_or("") {
        "CONNECT" if header("passcode") == "pw" => {
            vec![Message::text(
                "CONNECTED\nversion:1.2\nheart-beat:0,0\n\n\0",
            )]
        }
        "CONNECT" => vec![Message::text(
            "ERROR\nmessage:Access refused for user\n\n\0",
        )],
        "SUBSCRIBE" => vec![Message::text(format!(
            "MESSAGE\ndestination:{}\nsubscription:{}\nmessage-id:1\n\nwelcome\0",
            header("destination"),
            header("id")
        ))],
        "SEND" => vec![Message::text(format!(
            "RECEIPT\nreceipt-id:{}\n\n\0",
            header("receipt")
        ))],
        _ => vec![],
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn stomp_is_chosen_by_the_subprotocol_connects_and_pairs_receipts() {
    let peer = serve(Peer {
        subprotocol: Some("v12.stomp"),
        greeting: vec![],
        every: None,
        answer: stomp_answer,
    })
    .await;
    let out = run(args(&[
        &peer.url("/ws"),
        "-s",
        "v12.stomp",
        "--auth",
        "guest:pw",
        "--lens-host",
        "/",
        "-x",
        "/subscribe /topic/news",
        "-x",
        r#"/expect-json .command == "MESSAGE" and .body == "welcome""#,
        "-x",
        "/send /queue/a hello world",
        "-x",
        r#"/expect-json .command == "RECEIPT""#,
    ]))
    .await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains(", lens stomp"), "{}", out.stderr);
    assert!(
        has_line(
            &out,
            r#"[stomp] MESSAGE /topic/news subscription 0 "welcome""#
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("[stomp] RECEIPT receipt-id r1 (")),
        "{}",
        out.stdout
    );
    let got = peer.texts();
    assert!(
        got[0].starts_with("CONNECT\naccept-version:1.0,1.1,1.2\nhost:/\n"),
        "{got:?}"
    );
    assert_eq!(
        got[2],
        "SEND\ndestination:/queue/a\ncontent-length:11\nreceipt:r1\n\nhello world\0"
    );

    let out = run(args(&[
        &peer.url("/ws"),
        "-s",
        "v12.stomp",
        "--auth",
        "guest:bad",
        "-w",
        "inf",
    ]))
    .await;
    assert_eq!(out.code, 6, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("STOMP: the server refused CONNECT: ERROR message Access refused for user"),
        "{}",
        out.stderr
    );
}

// ---- MQTT ----

pub(crate) fn mqtt_answer(m: &Message) -> Vec<Message> {
    let b = m.clone().into_data().to_vec();
    match b.first().map(|f| f >> 4) {
        // CONNECT: refuse the user "bad" (return code 5), accept anyone else. The user name and
        // password end the packet; "bad" anywhere else (the random hex client id, 1 run in ~700)
        // is not the user.
        Some(1) => {
            let refused = b.ends_with(b"\x00\x03bad\x00\x02pw");
            vec![Message::binary(vec![
                0x20,
                2,
                0,
                if refused { 5 } else { 0 },
            ])]
        }
        // SUBSCRIBE id N: SUBACK, then a QoS 1 PUBLISH (id 7) on the topic.
        Some(8) => vec![
            Message::binary(vec![0x90, 3, b[2], b[3], 1]),
            Message::binary(vec![0x32, 9, 0, 3, b's', b'/', b't', 0, 7, b'2', b'1']),
        ],
        // A QoS 1 PUBLISH: PUBACK with its id (after the topic).
        Some(3) if b[0] & 0x06 == 2 => {
            let n = usize::from(b[3]) + 4;
            vec![Message::binary(vec![0x40, 2, b[n], b[n + 1]])]
        }
        _ => vec![],
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mqtt_connects_subscribes_acknowledges_and_a_refusal_is_exit_5() {
    let peer = serve(Peer {
        subprotocol: Some("mqtt"),
        greeting: vec![],
        every: None,
        answer: mqtt_answer,
    })
    .await;
    let out = run(args(&[
        &peer.url("/mqtt"),
        "-s",
        "mqtt",
        "--auth",
        "user:pw",
        "-x",
        "/subscribe s/t --qos 1",
        "-x",
        r#"/expect-json .type == "PUBLISH" and .payload == "21""#,
        "-x",
        "/publish s/t 22 --qos 1",
        "-x",
        r#"/expect-json .type == "PUBACK" and .id == 2"#,
    ]))
    .await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains(", lens mqtt"), "{}", out.stderr);
    assert!(
        has_line(&out, r#"[mqtt] PUBLISH s/t qos 1 id 7 "21""#),
        "{}",
        out.stdout
    );
    assert!(has_line(&out, "[mqtt] SUBACK id 1 [1]"), "{}", out.stdout);
    let got: Vec<Vec<u8>> = peer
        .got
        .lock()
        .unwrap()
        .iter()
        .map(|m| m.clone().into_data().to_vec())
        .collect();
    assert_eq!(
        (got[0][0], &got[0][2..9]),
        (0x10, &b"\x00\x04MQTT\x04"[..]),
        "{got:?}"
    );
    // The lens acknowledged the broker's QoS 1 publish, and said DISCONNECT before closing.
    assert!(got.contains(&vec![0x40, 2, 0, 7]), "{got:?}");
    assert_eq!(got.last(), Some(&vec![0xe0, 0]), "{got:?}");

    let out = run(args(&[
        &peer.url("/mqtt"),
        "-s",
        "mqtt",
        "--auth",
        "bad:pw",
        "-w",
        "inf",
    ]))
    .await;
    assert_eq!(out.code, 5, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("MQTT: the broker refused CONNECT: CONNACK code 5 (not authorized)"),
        "{}",
        out.stderr
    );
}

// ---- listen --lens ----

#[tokio::test(flavor = "multi_thread")]
async fn listen_decodes_what_clients_send_with_a_lens_and_sends_nothing_of_its_own() {
    let server = crate::listen::Server::start(&["--lens", "jsonrpc"]);
    let out = run(args(&[
        &server.url("/"),
        "-x",
        r#"{"jsonrpc":"2.0","id":4,"method":"sum","params":[1]}"#,
        "-x",
        "not rpc",
        "-w",
        "0.3",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let shown = server.wait_for("stdout", "not rpc").await;
    assert!(shown.contains(r#"[jsonrpc] call sum id 4 [1]"#), "{shown}");
    assert!(shown.contains("not rpc (not a jsonrpc packet: "), "{shown}");
}

/// A lens command typed at the REPL reaches the lens: Tab completes it (with the space after it,
/// like every command), and what the lens encodes is what the peer receives.
#[tokio::test(flavor = "multi_thread")]
async fn a_lens_command_typed_at_the_repl_reaches_the_peer() {
    let peer = serve(socketio(false)).await;
    let url = peer.url("/socket.io/");
    let got = peer.got.clone();
    let code = tokio::task::spawn_blocking(move || {
        let home = tempfile::tempdir().unwrap();
        let mut pty = crate::repl::Pty::spawn(&[&url, "--no-history"], home.path());
        pty.wait_screen(r#"[socketio] event "welcome""#);
        pty.type_keys("/em\tchat \"typed\"\r");
        let start = std::time::Instant::now();
        let want = Message::text(r#"42["chat","typed"]"#);
        while !got.lock().unwrap().contains(&want) {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "the peer never received {want:?}; screen:\n{}",
                pty.screen()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        pty.wait_screen(r#"[socketio] event "echo" ["chat","typed"]"#);
        pty.type_keys("\x04");
        pty.wait_exit()
    })
    .await
    .unwrap();
    assert_eq!(code, 0);
}

/// A peer's interval of 0 (Engine.IO 3's pingInterval) cannot keep the lens's timer firing: its
/// pings come at most every few tens of milliseconds, not in a loop as fast as the writer takes.
#[tokio::test(flavor = "multi_thread")]
async fn a_zero_ping_interval_does_not_spin_the_lens_timer() {
    let peer = serve(Peer {
        subprotocol: None,
        greeting: vec![
            Message::text(r#"0{"sid":"s3","upgrades":[],"pingInterval":0,"pingTimeout":5000}"#),
            Message::text("40"),
        ],
        every: None,
        answer: |_| vec![],
    })
    .await;
    let out = run(args(&[
        &peer.url("/socket.io/?EIO=3&transport=websocket"),
        "--lens",
        "socketio",
        "-w",
        "1",
    ]))
    .await;
    let pings = peer.texts().iter().filter(|t| *t == "2").count();
    assert!(pings >= 2, "the lens pings at all: {pings}\n{}", out.stderr);
    assert!(
        pings <= 60,
        "{pings} pings in about a second\n{}",
        out.stderr
    );
}
