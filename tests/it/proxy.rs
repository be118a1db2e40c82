//! `wscope proxy` driven from the outside: the real binary on 127.0.0.1 port 0 between a
//! tokio-tungstenite client and an in-process upstream (the recording echo server, or a raw
//! hostile one). Each test asserts what the user sees and what each peer received.

use std::time::Duration;

use futures_util::SinkExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::listen::{next, open, Server};
use crate::support::hostile::{self, Hostile, Step};
use crate::support::servers;

pub(crate) fn proxy(url: &str, args: &[&str]) -> Server {
    let mut all = vec![url];
    all.extend_from_slice(args);
    Server::start_command("proxy", &all, &[])
}

/// Wait until `f` holds of the upstream's connections (they are recorded as they happen).
pub(crate) async fn until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn relays_both_ways_with_the_clients_headers_path_and_subprotocol() {
    let up = servers::start(servers::Options {
        protocols: vec!["chat".into()],
    })
    .await;
    let base = format!("ws://{}/base", up.addr);
    let p = proxy(&base, &["-H", "X-Added: 1", "-H", "User-Agent: via-wscope"]);
    let headers = [
        ("Cookie", "session=abc"),
        ("Authorization", "Bearer t0k"),
        ("User-Agent", "app/1"),
        ("Origin", "http://app.test"),
        ("Sec-WebSocket-Protocol", "other, chat"),
        ("X-Custom", "kept"),
    ];
    let (mut ws, resp) = open(&p, "/room?x=1", &headers).await.expect("upgrade");
    assert_eq!(
        resp.headers().get("sec-websocket-protocol").unwrap(),
        "chat",
        "the upstream's subprotocol is handed to the client"
    );
    ws.send(Message::text("hello")).await.unwrap();
    assert_eq!(next(&mut ws).await, Message::text("hello"));
    ws.send(Message::binary(vec![0u8, 1, 2])).await.unwrap();
    assert_eq!(next(&mut ws).await, Message::binary(vec![0u8, 1, 2]));
    let out = p.wait_for("stdout", "[1] <s 000102").await;
    assert!(out.contains("[1] c> hello\n[1] <s hello\n"), "{out}");
    let c = up.single();
    let head = &c.raw_head;
    assert!(
        head.starts_with("GET /base/room?x=1 HTTP/1.1\r\n"),
        "{head}"
    );
    for (n, v) in [
        ("Cookie", "session=abc"),
        ("Authorization", "Bearer t0k"),
        ("Origin", "http://app.test"),
        ("X-Custom", "kept"),
        ("X-Added", "1"),
        ("User-Agent", "via-wscope"),
        ("Sec-WebSocket-Protocol", "other, chat"),
    ] {
        let got = c
            .headers()
            .into_iter()
            .find(|(h, _)| h.eq_ignore_ascii_case(n));
        assert_eq!(got.map(|(_, v)| v).as_deref(), Some(v), "{n}: {head}");
    }
    assert!(
        !head.contains("app/1"),
        "-H replaces the client's header: {head}"
    );
    assert!(
        c.messages.contains(&Message::text("hello")),
        "{:?}",
        c.messages
    );
    let err = p.stderr();
    assert!(err.contains("[1] connected from"), "{err}");
    assert!(err.contains("(subprotocol chat)"), "{err}");
}

#[tokio::test]
async fn origin_flag_replaces_the_clients_and_fixed_path_keeps_the_urls() {
    let up = servers::start(servers::Options::default()).await;
    let base = format!("ws://{}/only", up.addr);
    let p = proxy(&base, &["-o", "http://mine.test", "--fixed-path"]);
    let (mut ws, _) = open(&p, "/elsewhere", &[("Origin", "http://app.test")])
        .await
        .expect("upgrade");
    ws.send(Message::text("x")).await.unwrap();
    next(&mut ws).await;
    let c = up.single();
    assert!(
        c.raw_head.starts_with("GET /only HTTP/1.1"),
        "{}",
        c.raw_head
    );
    assert_eq!(
        c.header_exact("Origin").as_deref(),
        Some("http://mine.test")
    );
}

#[tokio::test]
async fn an_upstream_refusal_reaches_the_client_with_status_headers_and_body() {
    let body = "no entry for you";
    let response = format!(
        "HTTP/1.1 403 Forbidden\r\nX-Why: banned\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let url = hostile::answer_once(response.into_bytes()).await;
    let p = proxy(&url, &[]);
    match open(&p, "/", &[]).await {
        Err(WsError::Http(r)) => {
            assert_eq!(r.status(), 403);
            assert_eq!(r.headers().get("x-why").unwrap(), "banned");
            let got = r
                .body()
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned());
            assert_eq!(got.as_deref(), Some(body));
        }
        other => panic!("expected the 403, got {other:?}"),
    }
    let err = p.wait_for("stderr", "refused").await;
    assert!(err.contains("with 403"), "{err}");
}

#[tokio::test]
async fn an_unreachable_upstream_is_a_502_naming_why() {
    // A port that was just free: nothing listens there.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", free.local_addr().unwrap());
    drop(free);
    let p = proxy(&url, &[]);
    match open(&p, "/", &[]).await {
        Err(WsError::Http(r)) => {
            assert_eq!(r.status(), 502);
            let body =
                String::from_utf8_lossy(r.body().as_deref().unwrap_or_default()).into_owned();
            assert!(body.contains("refused"), "{body}");
        }
        other => panic!("expected a 502, got {other:?}"),
    }
    p.wait_for("stderr", "[1] refused").await;
}

#[tokio::test]
async fn a_close_is_relayed_with_its_code_and_reason() {
    let up = servers::start(servers::Options::default()).await;
    let p = proxy(&format!("ws://{}/", up.addr), &[]);
    let (mut ws, _) = open(&p, "/", &[]).await.expect("upgrade");
    let frame = CloseFrame {
        code: CloseCode::from(4000),
        reason: "bye now".into(),
    };
    ws.send(Message::Close(Some(frame))).await.unwrap();
    let Message::Close(Some(back)) = next(&mut ws).await else {
        panic!("no close back")
    };
    assert_eq!(u16::from(back.code), 4000);
    until("the upstream saw the close", || {
        up.connections().iter().any(|c| {
            c.messages.iter().any(|m| {
                matches!(m, Message::Close(Some(f)) if u16::from(f.code) == 4000 && f.reason == "bye now")
            })
        })
    })
    .await;
    let err = p.wait_for("stderr", "server disconnected").await;
    assert!(err.contains("[1] c> close 4000"), "{err}");
    assert!(err.contains("\"bye now\""), "{err}");
}

#[tokio::test]
async fn a_client_that_drops_closes_the_server_side_with_1001() {
    let up = Hostile::start(vec![Step::AwaitFrames(2)]).await;
    let p = proxy(&up.url, &[]);
    let tcp = TcpStream::connect(p_addr(&p)).await.unwrap();
    let (mut ws, _) = crate::listen::open_on(&p.url("/"), tcp, &[]).await.unwrap();
    ws.send(Message::text("one")).await.unwrap();
    p.wait_for("stdout", "[1] c> one").await;
    drop(ws);
    let err = p
        .wait_for(
            "stderr",
            "the client dropped without a close: closing the server side with 1001",
        )
        .await;
    let frames = up.finish().await;
    assert_eq!(hostile::close_code(&frames), Some(1001), "{err}");
}

#[tokio::test]
async fn a_server_that_drops_closes_the_client_side_with_1001() {
    let up = Hostile::start(vec![Step::Send(hostile::text("hi")), Step::Drop]).await;
    let p = proxy(&up.url, &[]);
    let (mut ws, _) = open(&p, "/", &[]).await.expect("upgrade");
    assert_eq!(next(&mut ws).await, Message::text("hi"));
    let Message::Close(Some(f)) = next(&mut ws).await else {
        panic!("no close")
    };
    assert_eq!(u16::from(f.code), 1001);
    let err = p
        .wait_for(
            "stderr",
            "the server dropped without a close: closing the client side with 1001",
        )
        .await;
    assert!(
        err.contains("server disconnected (connection lost"),
        "{err}"
    );
}

pub(crate) fn p_addr(p: &Server) -> String {
    p.url("").trim_start_matches("ws://").to_string()
}

/// Write `bytes` to the proxy on a raw connection; what it answered until it closed.
pub(crate) async fn raw(p: &Server, bytes: &[u8]) -> Vec<u8> {
    let mut tcp = TcpStream::connect(p_addr(p)).await.unwrap();
    tcp.write_all(bytes).await.unwrap();
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut got)).await;
    got
}

// ---- what the user sees: -v, --dump, --json, --lens ----

#[tokio::test]
async fn verbose_shows_both_handshakes() {
    let up = servers::start(servers::Options::default()).await;
    let p = proxy(&format!("ws://{}/up", up.addr), &["-v"]);
    let (_ws, _) = open(&p, "/in", &[("X-Mine", "1")]).await.expect("upgrade");
    let err = p.wait_for("stderr", "[1] connected").await;
    assert!(err.contains("[1] server: > GET /up/in HTTP/1.1"), "{err}");
    assert!(
        err.contains("[1] server: < HTTP/1.1 101 Switching Protocols"),
        "{err}"
    );
    assert!(err.contains("[1] < GET /in HTTP/1.1"), "{err}");
    assert!(
        err.contains("[1] > HTTP/1.1 101 Switching Protocols"),
        "{err}"
    );
}

/// Each hop negotiates permessage-deflate on its own, and the dump shows each hop's own bytes:
/// the client here offers none, the upstream (wscope listen) accepts the proxy's offer.
#[tokio::test]
async fn dump_shows_each_hops_own_frames_with_deflate_per_hop() {
    let up = Server::start(&["--echo"]);
    let p = proxy(&up.url("/"), &["--dump"]);
    let (mut ws, resp) = open(&p, "/", &[]).await.expect("upgrade");
    assert!(resp.headers().get("sec-websocket-extensions").is_none());
    ws.send(Message::text("squeeze me")).await.unwrap();
    assert_eq!(next(&mut ws).await, Message::text("squeeze me"));
    let err = p.wait_for("stderr", "[1] client hop >>").await;
    let line = |prefix: &str| {
        err.lines()
            .find(|l| l.starts_with(prefix) && l.contains(" text "))
            .unwrap_or_else(|| panic!("no {prefix:?} in\n{err}"))
            .to_string()
    };
    assert!(
        line("[1] client hop << ").contains("FIN text  MASK"),
        "{err}"
    );
    assert!(
        line("[1] server hop >> ").contains("FIN RSV1 text  MASK"),
        "{err}"
    );
    assert!(
        line("[1] server hop << ").contains("FIN RSV1 text"),
        "{err}"
    );
    let back = line("[1] client hop >> ");
    assert!(back.contains("FIN text") && !back.contains("RSV1"), "{err}");
    assert!(err.contains("[1] server hop >> handshake request"), "{err}");
}

#[tokio::test]
async fn json_events_carry_client_hop_and_dir() {
    let up = servers::start(servers::Options::default()).await;
    let p = proxy(&format!("ws://{}/", up.addr), &["--json"]);
    let (mut ws, _) = open(&p, "/", &[]).await.expect("upgrade");
    ws.send(Message::text("ping me")).await.unwrap();
    next(&mut ws).await;
    ws.close(None).await.unwrap();
    let out = p
        .wait_for("stdout", r#""event":"received","hop":"server""#)
        .await;
    let events: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let find = |hop: &str, dir: &str| {
        events.iter().any(|e| {
            e["event"] == "received"
                && e["client"] == 1
                && e["hop"] == hop
                && e["dir"] == dir
                && e["data"] == "ping me"
        })
    };
    assert!(find("client", "c>s"), "{out}");
    assert!(find("server", "s>c"), "{out}");
    p.wait_for("stdout", r#""closer":"client""#).await;
}

#[tokio::test]
async fn a_lens_decodes_both_directions() {
    let up = servers::start(servers::Options::default()).await;
    let p = proxy(&format!("ws://{}/", up.addr), &["--lens", "jsonrpc"]);
    let (mut ws, _) = open(&p, "/", &[]).await.expect("upgrade");
    let call = r#"{"jsonrpc":"2.0","id":4,"method":"sum","params":[1]}"#;
    ws.send(Message::text(call)).await.unwrap();
    next(&mut ws).await;
    let out = p.wait_for("stdout", "[1] <s [jsonrpc]").await;
    assert!(out.contains("[1] c> [jsonrpc] call sum id 4 [1]"), "{out}");
    // Passive: the proxy itself said nothing to either side.
    assert_eq!(up.single().messages, vec![Message::text(call)]);
}

// ---- changing traffic: --map-client, --map-server ----

#[tokio::test]
async fn maps_change_json_pass_other_text_and_empty_drops() {
    let up = servers::start(servers::Options::default()).await;
    let p = proxy(
        &format!("ws://{}/", up.addr),
        &[
            "--map-client",
            ".n += 1",
            "--map-server",
            "if .n == 2 then empty else . end",
        ],
    );
    let (mut ws, _) = open(&p, "/", &[]).await.expect("upgrade");
    ws.send(Message::text(r#"{"n":1}"#)).await.unwrap();
    ws.send(Message::text("not json")).await.unwrap();
    ws.send(Message::text(r#"{"n":5}"#)).await.unwrap();
    // The echo of {"n":2} was dropped on its way back.
    assert_eq!(next(&mut ws).await, Message::text("not json"));
    assert_eq!(next(&mut ws).await, Message::text(r#"{"n":6}"#));
    let got = up.single().messages;
    assert_eq!(
        got[..3],
        [
            Message::text(r#"{"n":2}"#),
            Message::text("not json"),
            Message::text(r#"{"n":6}"#)
        ]
    );
    p.wait_for("stderr", "--map-server dropped a message").await;
}

#[tokio::test]
async fn a_bad_map_filter_is_a_usage_error_naming_the_flag() {
    let out = crate::support::run(crate::support::args(&[
        "proxy",
        "127.0.0.1:0",
        "ws://127.0.0.1:9/",
        "--map-server",
        ".a |||",
    ]))
    .await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("--map-server '.a |||'"),
        "{}",
        out.stderr
    );
}

// ---- --record: one transcript per client, read by replay and listen --replay ----

#[tokio::test]
async fn record_writes_one_transcript_per_client_that_replay_and_listen_replay_read() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("s.jsonl");
    let up = servers::start(servers::Options::default()).await;
    let p = proxy(
        &format!("ws://{}/", up.addr),
        &["--record", rec.to_str().unwrap()],
    );
    for word in ["first", "second"] {
        let (mut ws, _) = open(&p, "/", &[]).await.expect("upgrade");
        ws.send(Message::text(word)).await.unwrap();
        assert_eq!(next(&mut ws).await, Message::text(word));
        ws.close(None).await.unwrap();
        let _ = next(&mut ws).await;
    }
    p.wait_for("stderr", "[2] server disconnected").await;
    let one = dir.path().join("s.1.jsonl");
    let two = dir.path().join("s.2.jsonl");
    until("both transcripts are written", || {
        std::fs::read_to_string(&two).is_ok_and(|t| t.contains(r#""event":"closed""#))
    })
    .await;
    assert!(std::fs::read_to_string(&one).unwrap().contains("first"));

    // The client side, replayed against a new server.
    let again = servers::start(servers::Options::default()).await;
    let url = format!("ws://{}/", again.addr);
    let out = crate::support::run(crate::support::args(&[
        "replay",
        two.to_str().unwrap(),
        &url,
        "--fast",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(again.single().messages.contains(&Message::text("second")));

    // The server side, as a mock for the client.
    let mock = Server::start(&["--replay", one.to_str().unwrap()]);
    let (mut ws, _) = open(&mock, "/", &[]).await.expect("mock upgrade");
    ws.send(Message::text("first")).await.unwrap();
    assert_eq!(next(&mut ws).await, Message::text("first"));
}

// ---- wss to the clients ----

#[tokio::test]
async fn tls_cert_and_key_serve_wss_to_the_clients() {
    let pki = servers::Pki::new(&["localhost"]);
    let up = servers::start(servers::Options::default()).await;
    let p = proxy(
        &format!("ws://{}/", up.addr),
        &[
            "--tls-cert",
            pki.cert_path.to_str().unwrap(),
            "--tls-key",
            pki.key_path.to_str().unwrap(),
        ],
    );
    let port = p_addr(&p).rsplit(':').next().unwrap().to_string();
    let out = crate::support::run(crate::support::args(&[
        &format!("wss://localhost:{port}/"),
        "--ca",
        pki.ca_path.to_str().unwrap(),
        "-x",
        "secret",
        "--once",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "secret\n");
    assert!(up.single().messages.contains(&Message::text("secret")));
}

// ---- the REPL on a terminal ----

#[tokio::test(flavor = "multi_thread")]
async fn repl_commands_reach_one_side_of_one_client() {
    let up = servers::start(servers::Options::default()).await;
    let url = format!("ws://{}/", up.addr);
    let home = tempfile::tempdir().unwrap();
    let mut pty = crate::repl::Pty::spawn(&["proxy", "127.0.0.1:0", &url], home.path());
    let addr = tokio::task::block_in_place(|| {
        pty.wait_screen(" -> ");
        let screen = pty.screen();
        let rest = screen.split("proxying ws://").nth(1).unwrap().to_string();
        rest.split('/').next().unwrap().to_string()
    });
    let tcp = TcpStream::connect(&addr).await.unwrap();
    let (mut ws, _) = crate::listen::open_on(&format!("ws://{addr}/"), tcp, &[])
        .await
        .expect("upgrade");
    ws.send(Message::text("from client")).await.unwrap();
    assert_eq!(next(&mut ws).await, Message::text("from client"));
    tokio::task::block_in_place(|| {
        pty.wait_screen("[1] <s from client");
        pty.type_keys("/to-server 1 injected\r");
    });
    // The echo of what the REPL put on the server hop comes back to the client.
    assert_eq!(next(&mut ws).await, Message::text("injected"));
    tokio::task::block_in_place(|| {
        pty.wait_screen("[1] *> injected");
        pty.type_keys("/to-client 1 direct\r");
    });
    assert_eq!(next(&mut ws).await, Message::text("direct"));
    tokio::task::block_in_place(|| {
        pty.wait_screen("[1] <* direct");
        pty.type_keys("/clients\r");
        pty.wait_screen("127.0.0.1");
        pty.type_keys("/to-server 9 x\r");
        pty.wait_screen("no client 9: connected are 1");
        pty.type_keys("/help\r");
        pty.wait_screen("/to-server ID MSG");
        pty.type_keys("/kick 1 4000 bye\r");
    });
    let Message::Close(Some(f)) = next(&mut ws).await else {
        panic!("no close after /kick")
    };
    assert_eq!((u16::from(f.code), f.reason.as_str()), (4000, "bye"));
    drop(ws);
    until("the server saw the kick's close", || {
        up.single()
            .messages
            .iter()
            .any(|m| matches!(m, Message::Close(Some(f)) if u16::from(f.code) == 4000))
    })
    .await;
    assert!(up.single().messages.contains(&Message::text("injected")));
    let code = tokio::task::block_in_place(|| {
        pty.wait_screen("[1] server disconnected");
        pty.type_keys("/quit\r");
        pty.wait_exit()
    });
    assert_eq!(code, 0, "{}", pty.screen());
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_closes_both_sides_of_every_client_with_1001_and_exits_0() {
    let up = Hostile::start(vec![Step::AwaitFrames(1)]).await;
    let mut p = proxy(&up.url, &[]);
    let (mut ws, _) = open(&p, "/", &[]).await.expect("upgrade");
    p.wait_for("stderr", "[1] connected").await;
    p.signal(libc::SIGTERM);
    let Message::Close(Some(f)) = next(&mut ws).await else {
        panic!("no close")
    };
    assert_eq!(u16::from(f.code), 1001);
    drop(ws);
    assert_eq!(hostile::close_code(&up.finish().await), Some(1001));
    let status = tokio::task::block_in_place(|| p.exit_status());
    assert!(status.success(), "{status:?}\n{}", p.stderr());
}

/// The server hop is dialled as `wscope URL` dials: `--http2` opens it as an RFC 8441 stream
/// while the client speaks HTTP/1.1 to the proxy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_applies_to_the_server_hop() {
    let up = crate::support::h2::start(true).await;
    let p = proxy(&format!("ws://{}/", up.addr), &["--http2-only"]);
    let (mut ws, _) = open(&p, "/over-h2", &[]).await.expect("upgrade");
    ws.send(Message::text("via h2")).await.unwrap();
    assert_eq!(next(&mut ws).await, Message::text("via h2"));
    let seen = up.seen.lock().unwrap().clone();
    assert_eq!(seen.messages, vec!["via h2".to_string()]);
    let path = seen.requests[0].iter().find(|(n, _)| n == ":path").cloned();
    assert_eq!(path.map(|(_, v)| v).as_deref(), Some("/over-h2"));
}

/// The client hop compresses only when the server hop does: the proxy does not change whether a
/// connection is compressed (each hop settles its own parameters).
#[tokio::test]
async fn the_client_hop_compresses_only_when_the_server_hop_does() {
    let plain = servers::start(servers::Options::default()).await;
    let p = proxy(&format!("ws://{}/", plain.addr), &[]);
    let out = crate::support::run(crate::support::args(&[&p.url("/"), "-x", "a", "--once"])).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stderr.contains("permessage-deflate"), "{}", out.stderr);
    let squeezing = Server::start(&["--echo"]);
    let p = proxy(&squeezing.url("/"), &[]);
    let out = crate::support::run(crate::support::args(&[&p.url("/"), "-x", "a", "--once"])).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("permessage-deflate"), "{}", out.stderr);
}
