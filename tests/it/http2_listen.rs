//! `listen --http2` (issue 30 item 3): RFC 8441 beside HTTP/1.1 on the same port, checked with a
//! client written with the `h2` crate (h2c prior knowledge, and TLS with ALPN h2), and with
//! wscope's own `--http2-only` client. Each CONNECT stream is a client of its own; anything but
//! `CONNECT :protocol websocket` gets a 4xx with a reason.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use wscope::dial::h2stream::H2Stream;

use crate::listen::Server;
use crate::support::{self, args, run_with};

const WAIT: Duration = Duration::from_secs(10);

/// An HTTP/2 client connection; its task runs until the test ends.
async fn h2_client<S>(io: S) -> h2::client::SendRequest<Bytes>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (send, mut conn) = h2::client::handshake(io).await.expect("h2 handshake");
    let mut ping = conn.ping_pong().expect("ping_pong");
    tokio::spawn(async move {
        let _ = conn.await;
    });
    // The server's SETTINGS come first: once our PING is answered they were read.
    tokio::time::timeout(WAIT, ping.ping(h2::Ping::opaque()))
        .await
        .expect("PONG in time")
        .expect("PONG");
    send.ready().await.expect("h2 ready")
}

fn connect_request(
    path: &str,
    protocol: Option<&str>,
    extra: &[(&str, &str)],
) -> http::Request<()> {
    let mut r = http::Request::builder()
        .method(http::Method::CONNECT)
        .uri(format!("http://localhost{path}"))
        .header("sec-websocket-version", "13");
    for (n, v) in extra {
        r = r.header(*n, *v);
    }
    let mut r = r.body(()).unwrap();
    if let Some(p) = protocol {
        r.extensions_mut().insert(h2::ext::Protocol::from(p));
    }
    r
}

/// Open one WebSocket stream: its response and, on a 200, the WebSocket on it.
async fn open_ws(
    send: &mut h2::client::SendRequest<Bytes>,
    path: &str,
    extra: &[(&str, &str)],
) -> (http::response::Parts, WebSocketStream<H2Stream>) {
    let (resp, stream) = send
        .send_request(connect_request(path, Some("websocket"), extra), false)
        .expect("CONNECT sent");
    let resp = tokio::time::timeout(WAIT, resp)
        .await
        .expect("a response in time")
        .expect("a response");
    let (parts, recv) = resp.into_parts();
    let ws =
        WebSocketStream::from_raw_socket(H2Stream::new(stream, recv), Role::Client, None).await;
    (parts, ws)
}

async fn next_text(ws: &mut WebSocketStream<H2Stream>) -> String {
    loop {
        let m = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a message in time");
        match m.expect("stream open").expect("a frame") {
            Message::Text(t) => return t.to_string(),
            Message::Binary(b) => return format!("binary {b:?}"),
            Message::Close(c) => return format!("close {c:?}"),
            _ => continue,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2c_streams_are_clients_of_their_own_on_one_connection_with_the_setting_advertised() {
    let s = Server::start(&["--http2", "--echo", "-v"]);
    let tcp = TcpStream::connect(s.addr()).await.unwrap();
    let mut send = h2_client(tcp).await;
    assert!(
        send.is_extended_connect_protocol_enabled(),
        "SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 not advertised"
    );
    let (parts, mut one) =
        open_ws(&mut send, "/one?x=1", &[("sec-websocket-protocol", "chat")]).await;
    assert_eq!(parts.status, 200);
    let (parts2, mut two) = open_ws(&mut send, "/two", &[]).await;
    assert_eq!(parts2.status, 200);
    one.send(Message::text("from one")).await.unwrap();
    two.send(Message::text("from two")).await.unwrap();
    assert_eq!(next_text(&mut one).await, "from one");
    assert_eq!(next_text(&mut two).await, "from two");
    // A message past the 64 KiB window both ways: capacity is released as it is read.
    let big = "y".repeat(200 * 1024);
    two.send(Message::text(big.clone())).await.unwrap();
    assert_eq!(next_text(&mut two).await, big);
    s.wait_for("stdout", "[1] from one").await;
    s.wait_for("stdout", "[2] from two").await;
    // -v shows the stream's pseudo-headers and our :status.
    let err = s.wait_for("stderr", "[2] > :status: 200").await;
    for want in [
        "[1] < :method: CONNECT",
        "[1] < :protocol: websocket",
        "[1] < :scheme: http",
        "[1] < :path: /one?x=1",
        "[1] < :authority: localhost",
        "[1] < sec-websocket-protocol: chat",
        "[1] > :status: 200",
        "[1] connected from",
        "[2] < :path: /two",
    ] {
        assert!(err.contains(want), "missing {want:?} in:\n{err}");
    }
    one.close(None).await.unwrap();
    s.wait_for("stderr", "[1] disconnected (closed by the client")
        .await;
    // The other stream lives on.
    two.send(Message::text("still here")).await.unwrap();
    assert_eq!(next_text(&mut two).await, "still here");
}

/// A request (method, `:protocol`, extra headers), the status it gets and words of its body.
type Case<'a> = (
    http::Method,
    Option<&'a str>,
    &'a [(&'a str, &'a str)],
    u16,
    &'a str,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_requests_on_an_h2_connection_get_a_4xx_with_the_reason_in_the_body() {
    let s = Server::start(&["--http2", "--echo", "-s", "chat", "--require-subprotocol"]);
    let tcp = TcpStream::connect(s.addr()).await.unwrap();
    let mut send = h2_client(tcp).await;
    let cases: [Case; 4] = [
        (http::Method::GET, None, &[], 405, "extended CONNECT"),
        (
            http::Method::CONNECT,
            None,
            &[],
            400,
            "without ':protocol websocket'",
        ),
        (
            http::Method::CONNECT,
            Some("websocket"),
            &[],
            400,
            "requires one of: chat",
        ),
        (
            http::Method::CONNECT,
            Some("websocket"),
            &[("sec-websocket-version", "8")],
            400,
            "version 13",
        ),
    ];
    for (method, protocol, extra, status, why) in cases {
        let mut req = connect_request("/", protocol, extra);
        *req.method_mut() = method.clone();
        if method == http::Method::GET {
            *req.uri_mut() = "http://localhost/".parse().unwrap();
        }
        if extra.iter().any(|(n, _)| *n == "sec-websocket-version") {
            req.headers_mut().remove("sec-websocket-version");
            req.headers_mut()
                .insert("sec-websocket-version", "8".parse().unwrap());
        }
        let end = method == http::Method::GET;
        let (resp, _stream) = send.send_request(req, end).expect("sent");
        let resp = tokio::time::timeout(WAIT, resp)
            .await
            .unwrap()
            .expect("a response");
        assert_eq!(
            resp.status().as_u16(),
            status,
            "{method} {protocol:?} {extra:?}"
        );
        let mut body = resp.into_body();
        let mut text = Vec::new();
        while let Some(chunk) = tokio::time::timeout(WAIT, body.data()).await.unwrap() {
            let chunk = chunk.unwrap();
            let _ = body.flow_control().release_capacity(chunk.len());
            text.extend_from_slice(&chunk);
        }
        let text = String::from_utf8_lossy(&text);
        assert!(text.contains(why), "body {text:?} lacks {why:?}");
        s.wait_for("stderr", &format!("with {status}: ")).await;
    }
    // The connection still carries a good stream.
    let (parts, mut ws) = open_ws(&mut send, "/", &[("sec-websocket-protocol", "chat")]).await;
    assert_eq!(parts.status, 200);
    assert_eq!(parts.headers.get("sec-websocket-protocol").unwrap(), "chat");
    ws.send(Message::text("ok")).await.unwrap();
    assert_eq!(next_text(&mut ws).await, "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_alpn_h2_and_http11_clients_share_the_port() {
    let pki = support::servers::Pki::new(&["localhost", "127.0.0.1"]);
    let s = Server::start(&[
        "--http2",
        "--echo",
        "--tls-cert",
        pki.cert_path.to_str().unwrap(),
        "--tls-key",
        pki.key_path.to_str().unwrap(),
    ]);
    let ca =
        native_tls::Certificate::from_pem(std::fs::read(&pki.ca_path).unwrap().as_slice()).unwrap();
    let connector = |alpn: &[&str]| {
        let mut b = native_tls::TlsConnector::builder();
        b.add_root_certificate(ca.clone());
        b.request_alpns(alpn);
        tokio_native_tls::TlsConnector::from(b.build().unwrap())
    };
    let tcp = TcpStream::connect(s.addr()).await.unwrap();
    let tls = connector(&["h2", "http/1.1"])
        .connect("localhost", tcp)
        .await
        .expect("TLS");
    assert_eq!(
        tls.get_ref().negotiated_alpn().unwrap().as_deref(),
        Some(&b"h2"[..])
    );
    let mut send = h2_client(tls).await;
    let (parts, mut ws) = open_ws(&mut send, "/tls", &[]).await;
    assert_eq!(parts.status, 200);
    ws.send(Message::text("over h2 and tls")).await.unwrap();
    assert_eq!(next_text(&mut ws).await, "over h2 and tls");
    // wscope's own client, HTTP/2 only, then plain HTTP/1.1 on the same port.
    let url = format!("wss://localhost:{}/own", s.addr().port());
    let ca_path = pki.ca_path.to_str().unwrap();
    let out = run_with(
        args(&[
            &url,
            "--http2-only",
            "--ca",
            ca_path,
            "-v",
            "-x",
            "mine",
            "--once",
        ]),
        None,
    )
    .await;
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    assert_eq!(out.stdout, "mine\n");
    assert!(out.stderr.contains("ALPN:    h2"), "{}", out.stderr);
    let out = run_with(
        args(&[&url, "--ca", ca_path, "-x", "one-one", "--once"]),
        None,
    )
    .await;
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    assert_eq!(out.stdout, "one-one\n");
    s.wait_for("stdout", "one-one").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wscope_http2_only_against_listen_http2_and_plain_http11_beside_it() {
    let s = Server::start(&["--http2", "--echo"]);
    let out = run_with(
        args(&[&s.url("/a"), "--http2-only", "-x", "h2 here", "--once"]),
        None,
    )
    .await;
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    assert_eq!(out.stdout, "h2 here\n");
    let out = run_with(args(&[&s.url("/b"), "-x", "h1 here", "--once"]), None).await;
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    assert_eq!(out.stdout, "h1 here\n");
    let seen = s.wait_for("stdout", "h1 here").await;
    assert!(seen.contains("h2 here"), "{seen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_http2_listen_does_not_advertise_and_wscope_falls_back() {
    let s = Server::start(&["--echo"]);
    let out = run_with(
        args(&[&s.url("/"), "--http2", "-x", "back", "--once"]),
        None,
    )
    .await;
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    assert_eq!(out.stdout, "back\n");
    assert!(
        out.stderr.contains("falling back to HTTP/1.1"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_h2_connection_that_opens_no_stream_is_closed_and_said() {
    // Bounded: a client that sends the preface and SETTINGS and then nothing is let go.
    let s = Server::start(&["--http2"]);
    let tcp = TcpStream::connect(s.addr()).await.unwrap();
    let _send = h2_client(tcp).await;
    let start = std::time::Instant::now();
    while !s.stderr().contains("no HTTP/2 stream opened within") {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "never said:\n{}",
            s.stderr()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        s.stderr().contains("[1] handshake failed"),
        "{}",
        s.stderr()
    );
}

/// Issue 30 item 1: probe and replay take `--http2` too (connect and inspect: tests/it/http2.rs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_and_replay_run_over_http2() {
    let s = Server::start(&["--http2", "--echo", "-v"]);
    let out = run_with(
        args(&[
            "probe",
            &s.url("/p"),
            "--http2-only",
            "--only",
            "subprotocol,deflate,ping,close",
        ]),
        None,
    )
    .await;
    assert_eq!(
        out.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    let words = out.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    for want in [
        "subprotocol pass none offered, none selected",
        "deflate pass accepted",
        "ping pass",
        "close pass answered our 1000 with 1000",
    ] {
        assert!(words.contains(want), "missing {want:?} in:\n{}", out.stdout);
    }
    s.wait_for("stderr", "< :path: /p").await;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rec.jsonl");
    std::fs::write(
        &path,
        concat!(
            r#"{"event":"session","role":"client","url":"ws://127.0.0.1:1/","headers":[]}"#,
            "\n",
            r#"{"event":"sent","t":0.0,"type":"text","data":"replayed over h2"}"#,
            "\n",
        ),
    )
    .unwrap();
    let rec = path.to_str().unwrap();
    let out = run_with(
        args(&[
            "replay",
            rec,
            &s.url("/r"),
            "--http2-only",
            "--fast",
            "--idle",
            "0.3",
        ]),
        None,
    )
    .await;
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    assert_eq!(out.stdout, "replayed over h2\n");
    let err = s.wait_for("stderr", "< :path: /r").await;
    assert!(err.contains("< :protocol: websocket"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_clients_counts_each_stream_and_a_closed_one_frees_its_slot() {
    let s = Server::start(&["--http2", "--echo", "--max-clients", "1"]);
    let tcp = TcpStream::connect(s.addr()).await.unwrap();
    let mut send = h2_client(tcp).await;
    let (parts, mut one) = open_ws(&mut send, "/one", &[]).await;
    assert_eq!(parts.status, 200);
    s.wait_for("stderr", "[1] connected").await;
    let (parts, _two) = open_ws(&mut send, "/two", &[]).await;
    assert_eq!(parts.status, 503);
    assert!(parts.headers.contains_key("retry-after"), "{parts:?}");
    s.wait_for("stderr", "with 503: the server is full").await;
    one.close(None).await.unwrap();
    s.wait_for("stderr", "[1] disconnected").await;
    let (parts, mut three) = open_ws(&mut send, "/three", &[]).await;
    assert_eq!(parts.status, 200);
    three.send(Message::text("freed")).await.unwrap();
    assert_eq!(next_text(&mut three).await, "freed");
}
