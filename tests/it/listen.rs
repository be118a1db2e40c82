//! `wscope listen` driven from the outside: the real binary on 127.0.0.1 port 0 (the bound address
//! read from its first stderr line), several tokio-tungstenite clients at once, commands on its stdin.

use crate::support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Response;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

const WAIT: Duration = Duration::from_secs(10);

/// A running `wscope listen`, killed on drop (the probe, record and replay tests use it too).
pub(crate) struct Server {
    child: Child,
    addr: SocketAddr,
    stdin: Option<ChildStdin>,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

fn collect(mut r: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let buf = Arc::new(Mutex::new(String::new()));
    let b = buf.clone();
    std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n) = r.read(&mut chunk) {
            if n == 0 {
                break;
            }
            b.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&chunk[..n]));
        }
    });
    buf
}

impl Server {
    pub(crate) fn start(args: &[&str]) -> Server {
        Server::start_with_env(args, &[])
    }

    fn start_with_env(args: &[&str], env: &[(&str, &std::path::Path)]) -> Server {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("wscope"))
            .arg("listen")
            .arg("127.0.0.1:0")
            .args(args)
            .envs(env.iter().map(|(k, v)| (k, v.as_os_str())))
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("wscope starts");
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut first = String::new();
        err.read_line(&mut first).unwrap();
        // "listening on ws://127.0.0.1:PORT/ (echo)"
        let addr = first
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in the first stderr line: {first:?}"));
        let stdout = collect(child.stdout.take().unwrap());
        let stderr = collect(err);
        let stdin = child.stdin.take();
        Server {
            child,
            addr,
            stdin,
            stdout,
            stderr,
        }
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    pub(crate) fn send_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    pub(crate) fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    pub(crate) fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    pub(crate) async fn wait_for(&self, which: &str, needle: &str) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let text = if which == "stdout" {
                self.stdout()
            } else {
                self.stderr()
            };
            if text.contains(needle) {
                return text;
            }
            if tokio::time::Instant::now() > deadline {
                panic!(
                    "{which} never showed {needle:?}\nstdout:\n{}\nstderr:\n{}",
                    self.stdout(),
                    self.stderr()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub(crate) fn signal(&self, sig: libc::c_int) {
        // SAFETY: a signal to the child we spawned and still own.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, sig);
        }
    }

    /// Wait for the server to exit.
    pub(crate) fn exit_status(&mut self) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(std::time::Instant::now() < deadline, "listen did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

type Ws<S> = WebSocketStream<S>;

async fn open_on<S: AsyncRead + AsyncWrite + Unpin>(
    url: &str,
    stream: S,
    headers: &[(&str, &str)],
) -> Result<(Ws<S>, Response), WsError> {
    let mut req = url.into_client_request()?;
    for (n, v) in headers {
        req.headers_mut().append(
            HeaderName::from_bytes(n.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    tokio_tungstenite::client_async(req, stream).await
}

async fn open(
    s: &Server,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<(Ws<TcpStream>, Response), WsError> {
    let tcp = TcpStream::connect(s.addr).await.unwrap();
    open_on(&s.url(path), tcp, headers).await
}

async fn connect(s: &Server, id: u64) -> Ws<TcpStream> {
    let (ws, _) = open(s, "/", &[]).await.expect("handshake");
    s.wait_for("stderr", &format!("[{id}] connected")).await;
    ws
}

/// The next data or close message (pings and pongs skipped).
async fn next<S: AsyncRead + AsyncWrite + Unpin>(ws: &mut Ws<S>) -> Message {
    loop {
        let m = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a message in time")
            .expect("stream open")
            .expect("no error");
        if !matches!(m, Message::Ping(_) | Message::Pong(_)) {
            return m;
        }
    }
}

/// The next message is a close with `code` and `reason`; keep reading so our reply goes out.
async fn expect_close<S: AsyncRead + AsyncWrite + Unpin>(ws: &mut Ws<S>, code: u16, reason: &str) {
    match next(ws).await {
        Message::Close(Some(f)) => {
            assert_eq!((u16::from(f.code), f.reason.as_str()), (code, reason));
        }
        other => panic!("expected a close, got {other:?}"),
    }
    let end = tokio::time::timeout(WAIT, ws.next())
        .await
        .expect("the server ends the stream");
    assert!(end.is_none() || matches!(end, Some(Err(_))), "{end:?}");
}

/// The HTTP status and body of a refused handshake.
fn refusal<T>(r: Result<T, WsError>) -> (u16, String) {
    match r {
        Err(WsError::Http(resp)) => (
            resp.status().as_u16(),
            String::from_utf8_lossy(resp.body().as_deref().unwrap_or_default()).into_owned(),
        ),
        Err(e) => panic!("expected an HTTP refusal, got {e}"),
        Ok(_) => panic!("expected an HTTP refusal, got 101"),
    }
}

#[tokio::test]
async fn two_clients_echo_concurrently_with_types_preserved() {
    let s = Server::start(&["--echo"]);
    let mut a = connect(&s, 1).await;
    let mut b = connect(&s, 2).await;
    for i in 0..5 {
        a.send(Message::text(format!("a{i}"))).await.unwrap();
        b.send(Message::binary(vec![0xb0, i])).await.unwrap();
        b.send(Message::text(format!("b{i}"))).await.unwrap();
        a.send(Message::binary(vec![0xa0, i])).await.unwrap();
    }
    a.send(Message::Ping(b"p1".to_vec().into())).await.unwrap();
    for i in 0..5 {
        assert_eq!(next(&mut a).await, Message::text(format!("a{i}")));
        assert_eq!(next(&mut a).await, Message::binary(vec![0xa0, i]));
        assert_eq!(next(&mut b).await, Message::binary(vec![0xb0, i]));
        assert_eq!(next(&mut b).await, Message::text(format!("b{i}")));
    }
    // Messages on stdout, tagged: text as-is, binary as hex.
    let out = s.wait_for("stdout", "[2] b4\n").await;
    assert!(
        out.contains("[1] a0\n") && out.contains("[1] a001\n"),
        "{out}"
    );
    assert!(out.contains("[2] b003\n"), "{out}");
    s.wait_for("stderr", "[1] < ping \"p1\"").await;
    a.close(None).await.unwrap();
    let err = s.wait_for("stderr", "[1] disconnected").await;
    assert!(
        err.contains("[1] disconnected (closed by the client"),
        "{err}"
    );
    assert!(!err.contains("[2] disconnected"), "{err}");
}

#[tokio::test]
async fn stdin_broadcasts_to_and_kick_then_sigterm_closes_with_1001() {
    let mut s = Server::start(&[]);
    let mut a = connect(&s, 1).await;
    let mut b = connect(&s, 2).await;
    s.send_line("hello all");
    assert_eq!(next(&mut a).await, Message::text("hello all"));
    assert_eq!(next(&mut b).await, Message::text("hello all"));

    s.send_line("/to 2 hi");
    s.send_line("/binary 01 02");
    assert_eq!(next(&mut b).await, Message::text("hi"));
    assert_eq!(next(&mut b).await, Message::binary(vec![1, 2]));
    // Client 1 never saw "hi": its next message is the broadcast after it.
    assert_eq!(next(&mut a).await, Message::binary(vec![1, 2]));

    s.send_line("/to 9 nobody");
    s.wait_for("stderr", "no client 9").await;
    s.send_line("/kick 1 4000 bye");
    expect_close(&mut a, 4000, "bye").await;
    s.wait_for(
        "stderr",
        "[1] disconnected (closed by us, code 4000 (private use) \"bye\", clean)",
    )
    .await;

    s.send_line("/clients");
    let err = s.wait_for("stderr", "  id  peer").await;
    let table: Vec<&str> = err
        .lines()
        .skip_while(|l| !l.contains("  id  peer"))
        .collect();
    assert!(
        table
            .iter()
            .any(|l| l.trim_start().starts_with("2  127.0.0.1:")),
        "{err}"
    );
    assert!(
        !table
            .iter()
            .any(|l| l.trim_start().starts_with("1  127.0.0.1:")),
        "{err}"
    );

    // The end of stdin does not stop the server.
    drop(s.stdin.take());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut c = connect(&s, 3).await;
    c.send(Message::text("still here")).await.unwrap();
    s.wait_for("stdout", "[3] still here").await;

    s.signal(libc::SIGTERM);
    expect_close(&mut b, 1001, "going away").await;
    expect_close(&mut c, 1001, "going away").await;
    let status = s.exit_status();
    assert!(status.success(), "exit status {status:?}");
    let err = s.stderr();
    assert!(
        err.contains(
            "[2] disconnected (closed by us, code 1001 (going away) \"going away\", clean)"
        ),
        "{err}"
    );
}

/// The `sent` column of client `id`'s row in the last `/clients` table of `err`.
fn sent_column(err: &str, id: u64) -> Option<u64> {
    let table = err.rsplit("  id  peer").next()?;
    table
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{id}  127.0.0.1:")))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|n| n.parse().ok())
}

/// Issue 20 item 7: what the server sends itself (a broadcast, `/to`) is echoed on stderr tagged
/// with each client's id, and `/clients` counts it at once, even right after the broadcast; what
/// `--echo` sends back is counted but not echoed (it would double every line).
#[tokio::test]
async fn own_sends_are_echoed_per_client_and_counted_at_once() {
    let mut s = Server::start(&[]);
    let mut a = connect(&s, 1).await;
    let mut b = connect(&s, 2).await;
    // One write: the table is asked for before the clients' sessions report the sends.
    s.send_line("hello all\n/clients");
    let err = s.wait_for("stderr", "  id  peer").await;
    assert_eq!(sent_column(&err, 1), Some(1), "{err}");
    assert_eq!(sent_column(&err, 2), Some(1), "{err}");
    assert_eq!(next(&mut a).await, Message::text("hello all"));
    assert_eq!(next(&mut b).await, Message::text("hello all"));
    s.wait_for("stderr", "[1] > hello all\n").await;
    s.wait_for("stderr", "[2] > hello all\n").await;

    s.send_line("/to 2 just you");
    assert_eq!(next(&mut b).await, Message::text("just you"));
    s.send_line("/binary 01 02");
    assert_eq!(next(&mut a).await, Message::binary(vec![1, 2]));
    let err = s.wait_for("stderr", "[1] > binary 2 bytes").await;
    let err = if err.contains("[2] > binary 2 bytes") {
        err
    } else {
        s.wait_for("stderr", "[2] > binary 2 bytes").await
    };
    assert!(err.contains("[2] > just you\n"), "{err}");
    assert!(!err.contains("[1] > just you"), "{err}");
    // Nothing of ours reaches stdout, which holds what the clients sent.
    assert!(!s.stdout().contains("just you"), "{}", s.stdout());

    s.send_line("/clients");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let err = s.stderr();
    assert_eq!(sent_column(&err, 1), Some(2), "{err}");
    assert_eq!(sent_column(&err, 2), Some(3), "{err}");
}

#[tokio::test]
async fn echoes_are_counted_but_not_echoed_on_stderr() {
    let mut s = Server::start(&["--echo"]);
    let mut a = connect(&s, 1).await;
    a.send(Message::text("bounce")).await.unwrap();
    assert_eq!(next(&mut a).await, Message::text("bounce"));
    s.wait_for("stdout", "[1] bounce").await;
    s.send_line("/clients");
    let err = s.wait_for("stderr", "  id  peer").await;
    assert_eq!(sent_column(&err, 1), Some(1), "{err}");
    assert!(!err.contains("> bounce"), "{err}");
}

#[tokio::test]
async fn subprotocol_selection_and_require_subprotocol() {
    let s = Server::start(&["-s", "chat", "-s", "superchat", "--require-subprotocol"]);
    // The client's order decides among those we accept.
    let (_ws, resp) = open(
        &s,
        "/",
        &[("Sec-WebSocket-Protocol", "v0, superchat, chat")],
    )
    .await
    .expect("accepted");
    assert_eq!(
        resp.headers().get("Sec-WebSocket-Protocol").unwrap(),
        "superchat"
    );
    s.wait_for("stderr", "[1] connected").await;
    let err = s.wait_for("stderr", "(subprotocol superchat)").await;
    assert!(err.contains("[1] connected from 127.0.0.1:"), "{err}");

    let (status, body) = refusal(open(&s, "/", &[("Sec-WebSocket-Protocol", "v0")]).await);
    assert_eq!(status, 400);
    assert_eq!(
        body,
        "the client offered v0, but this server requires one of: chat, superchat\n"
    );
    let (status, body) = refusal(open(&s, "/", &[]).await);
    assert_eq!(status, 400);
    assert!(
        body.starts_with("the client offered no subprotocol"),
        "{body}"
    );
    s.wait_for("stderr", "[2] refused 127.0.0.1:").await;
    s.wait_for("stderr", "[3] refused").await;

    // Without --require-subprotocol a client offering none of ours is accepted without one
    // (tungstenite then gives up on its side: it wanted one).
    let s = Server::start(&["-s", "chat"]);
    let _ = open(&s, "/", &[("Sec-WebSocket-Protocol", "x")]).await;
    let err = s.wait_for("stderr", "[1] connected").await;
    assert!(err.contains("(no subprotocol)"), "{err}");
}

#[tokio::test]
async fn origin_allow_refuses_other_origins_with_403() {
    let s = Server::start(&["--origin-allow", "http://ok.*", "-v"]);
    let ok = open(&s, "/", &[("Origin", "http://ok.example")]).await;
    assert!(ok.is_ok(), "allowed origin refused: {:?}", ok.err());
    s.wait_for("stderr", "[1] connected").await;
    let (status, body) = refusal(open(&s, "/", &[("Origin", "http://evil.example")]).await);
    assert_eq!(status, 403);
    assert!(
        body.contains("Origin 'http://evil.example' is not allowed"),
        "{body}"
    );
    let (status, _) = refusal(open(&s, "/", &[]).await);
    assert_eq!(status, 403);
    let err = s.wait_for("stderr", "[2] refused 127.0.0.1").await;
    // -v shows what was received and what we answered.
    assert!(err.contains("[2] < Origin: http://evil.example"), "{err}");
    assert!(err.contains("[2] > HTTP/1.1 403 Forbidden"), "{err}");
    assert!(err.contains("[1] * origin: http://ok.example"), "{err}");
}

#[tokio::test]
async fn extra_headers_appear_in_the_101_and_verbose_shows_the_handshake() {
    let s = Server::start(&["-H", "X-Test: yes", "-H", "Set-Cookie: a=b", "-v"]);
    let (_ws, resp) = open(
        &s,
        "/chat?room=1",
        &[("Sec-WebSocket-Extensions", "permessage-deflate")],
    )
    .await
    .expect("accepted");
    assert_eq!(resp.headers().get("X-Test").unwrap(), "yes");
    assert_eq!(resp.headers().get("Set-Cookie").unwrap(), "a=b");
    let err = s.wait_for("stderr", "[1] connected").await;
    for line in [
        "[1] < GET /chat?room=1 HTTP/1.1",
        "[1] > HTTP/1.1 101 Switching Protocols",
        "[1] > X-Test: yes",
        "[1] * extensions: offered permessage-deflate; accepted permessage-deflate [server 15-bit window, context kept; client 15-bit window, context kept]",
        "[1] * subprotocol: offered none; selected none",
    ] {
        assert!(err.contains(line), "missing {line:?} in\n{err}");
    }
}

#[tokio::test]
async fn max_clients_refuses_the_next_with_503() {
    let s = Server::start(&["--max-clients", "1"]);
    let mut first = connect(&s, 1).await;
    let (status, body) = refusal(open(&s, "/", &[]).await);
    assert_eq!(status, 503);
    assert!(body.contains("--max-clients 1"), "{body}");
    s.wait_for("stderr", "[2] refused").await;
    first.close(None).await.unwrap();
    s.wait_for("stderr", "[1] disconnected").await;
    // The slot is free again.
    let _third = connect(&s, 3).await;
}

#[tokio::test]
async fn wss_with_a_pem_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_pem = ck.cert.pem();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, &cert_pem).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    let s = Server::start(&[
        "--echo",
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    let connector = native_tls::TlsConnector::builder()
        .add_root_certificate(native_tls::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let connector = tokio_native_tls::TlsConnector::from(connector);
    let tcp = TcpStream::connect(s.addr).await.unwrap();
    let tls = connector
        .connect("localhost", tcp)
        .await
        .expect("TLS handshake");
    let url = format!("wss://localhost:{}/secure", s.addr.port());
    let (mut ws, _) = open_on(&url, tls, &[]).await.expect("wss handshake");
    ws.send(Message::text("over tls")).await.unwrap();
    assert_eq!(next(&mut ws).await, Message::text("over tls"));
    s.wait_for("stdout", "[1] over tls").await;

    // A plain-TCP client to a wss server is one failed handshake, not a dead server.
    let plain = open(&s, "/", &[]).await;
    assert!(plain.is_err());
    s.wait_for("stderr", "[2] handshake failed").await;
    ws.send(Message::text("still up")).await.unwrap();
    assert_eq!(next(&mut ws).await, Message::text("still up"));
}

#[test]
fn tls_flag_errors_name_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert = dir.path().join("cert.pem");
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    let missing = dir.path().join("nope.pem");
    let out = Command::new(assert_cmd::cargo::cargo_bin("wscope"))
        .args(["listen", "127.0.0.1:0", "--tls-cert"])
        .arg(&cert)
        .arg("--tls-key")
        .arg(&missing)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot read --tls-key file"), "{err}");
    // A certificate where the key should be.
    let out = Command::new(assert_cmd::cargo::cargo_bin("wscope"))
        .args(["listen", "127.0.0.1:0", "--tls-cert"])
        .arg(&cert)
        .arg("--tls-key")
        .arg(&cert)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--tls-key") && err.contains("PKCS#8"), "{err}");
}

#[tokio::test]
async fn json_events_carry_the_client_id() {
    let s = Server::start(&["--json", "--echo"]);
    let mut a = open(&s, "/j", &[]).await.unwrap().0;
    s.wait_for("stdout", "\"event\":\"connected\"").await;
    a.send(Message::text("x")).await.unwrap();
    assert_eq!(next(&mut a).await, Message::text("x"));
    a.send(Message::binary(vec![0xff])).await.unwrap();
    assert_eq!(next(&mut a).await, Message::binary(vec![0xff]));
    a.close(None).await.unwrap();
    s.wait_for("stdout", "\"event\":\"disconnected\"").await;
    let events: Vec<serde_json::Value> = s
        .stdout()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let find = |event: &str, kind: Option<&str>| {
        events
            .iter()
            .find(|v| v["event"] == event && kind.is_none_or(|k| v["type"] == k))
            .unwrap_or_else(|| panic!("no {event} in {events:?}"))
            .clone()
    };
    assert_eq!(find("listening", None)["echo"], true);
    let c = find("connected", None);
    assert_eq!(
        (c["client"].as_u64(), c["path"].as_str()),
        (Some(1), Some("/j"))
    );
    let r = find("received", Some("text"));
    assert_eq!(
        (r["client"].as_u64(), r["data"].as_str()),
        (Some(1), Some("x"))
    );
    let r = find("received", Some("binary"));
    assert_eq!(r["hex"], "ff");
    assert_eq!(find("sent", Some("text"))["client"], 1);
    let d = find("disconnected", None);
    assert_eq!(
        (d["client"].as_u64(), d["closer"].as_str()),
        (Some(1), Some("client"))
    );
}

#[tokio::test]
async fn dump_shows_frames_tagged_per_client() {
    let s = Server::start(&["--dump", "--echo"]);
    let mut a = connect(&s, 1).await;
    let mut b = connect(&s, 2).await;
    a.send(Message::text("from-a")).await.unwrap();
    assert_eq!(next(&mut a).await, Message::text("from-a"));
    b.send(Message::text("from-b")).await.unwrap();
    assert_eq!(next(&mut b).await, Message::text("from-b"));
    let err = s.wait_for("stderr", "[2] >> ").await;
    assert!(err.contains("[1] << "), "{err}");
    assert!(err.contains("FIN text  MASK"), "{err}");
    assert!(err.contains("[1]     payload: \"from-a\""), "{err}");
    assert!(err.contains("[2]     payload: \"from-b\""), "{err}");
}

#[tokio::test]
async fn an_oversized_message_closes_that_client_with_1009_only() {
    let s = Server::start(&["--max-message-size", "16", "--echo"]);
    let mut big = connect(&s, 1).await;
    let mut small = connect(&s, 2).await;
    big.send(Message::text("x".repeat(100))).await.unwrap();
    expect_close(
        &mut big,
        1009,
        "message too big: a message of 100 bytes, over the limit of 16",
    )
    .await;
    s.wait_for("stderr", "[1] error: the client sent too much")
        .await;
    small.send(Message::text("fits")).await.unwrap();
    assert_eq!(next(&mut small).await, Message::text("fits"));
}

#[tokio::test]
async fn garbage_and_dropped_clients_do_not_hurt_the_server() {
    use tokio::io::AsyncWriteExt;
    let s = Server::start(&["--echo"]);
    let mut raw = TcpStream::connect(s.addr).await.unwrap();
    raw.write_all(b"\x16\x03\x01 not http at all\r\n\r\n")
        .await
        .unwrap();
    s.wait_for("stderr", "[1] handshake failed").await;
    let mut plain = TcpStream::connect(s.addr).await.unwrap();
    plain
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    s.wait_for("stderr", "[2] refused 127.0.0.1").await;
    let dropped = connect(&s, 3).await;
    drop(dropped);
    s.wait_for("stderr", "[3] disconnected (connection lost")
        .await;
    let mut ok = connect(&s, 4).await;
    ok.send(Message::text("alive")).await.unwrap();
    assert_eq!(next(&mut ok).await, Message::text("alive"));
}

/// `wscope listen` on a pseudo-terminal: stdin, stdout and stderr are the pty's slave side.
struct Pty {
    master: std::fs::File,
    screen: Arc<Mutex<String>>,
    child: Child,
}

impl Pty {
    fn spawn(args: &[&str], home: &std::path::Path) -> Pty {
        let mut full = vec!["listen", "127.0.0.1:0"];
        full.extend_from_slice(args);
        let support::pty::Spawned { master, child, .. } = support::pty::spawn(&full, home);
        let screen = collect(master.try_clone().unwrap());
        Pty {
            master,
            screen,
            child,
        }
    }

    /// The screen with control sequences and carriage returns removed.
    fn screen(&self) -> String {
        let raw = self.screen.lock().unwrap().clone();
        let mut out = String::new();
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            match c {
                '\x1b' => {
                    if chars.next() == Some('[') {
                        for c in chars.by_ref() {
                            if ('@'..='~').contains(&c) {
                                break;
                            }
                        }
                    }
                }
                '\r' => {}
                c => out.push(c),
            }
        }
        out
    }

    async fn wait_screen(&self, text: &str) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "screen never showed {text:?}:\n{s}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn type_keys(&mut self, keys: &str) {
        self.master.write_all(keys.as_bytes()).unwrap();
        self.master.flush().unwrap();
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn the_repl_on_a_terminal_broadcasts_and_ctrl_d_closes_every_client() {
    let home = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(&[], home.path());
    let screen = pty.wait_screen("listening on ws://").await;
    let addr: SocketAddr = screen
        .split("ws://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address on the screen: {screen}"));
    let url = format!("ws://{addr}/");
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (mut a, _) = open_on(&url, tcp, &[]).await.unwrap();
    pty.wait_screen("[1] connected").await;
    a.send(Message::text("typed-by-client")).await.unwrap();
    pty.wait_screen("[1] < typed-by-client").await;

    pty.type_keys("hello from the repl\r");
    assert_eq!(next(&mut a).await, Message::text("hello from the repl"));
    pty.type_keys("/to 1 //slash\r");
    assert_eq!(next(&mut a).await, Message::text("/slash"));
    pty.type_keys("/clients\r");
    pty.wait_screen("   1  127.0.0.1:").await;

    // Ctrl-D: /quit, which closes every client with 1001 and exits 0.
    pty.type_keys("\x04");
    expect_close(&mut a, 1001, "going away").await;
    let deadline = std::time::Instant::now() + WAIT;
    let status = loop {
        if let Some(s) = pty.child.try_wait().unwrap() {
            break s;
        }
        assert!(std::time::Instant::now() < deadline, "listen did not exit");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "{status:?}\n{}", pty.screen());
}

/// A listen client runs on the same engine as `wscope URL`: what used to differ between the two is
/// asserted here, as the peer and the operator see it.
mod one_engine {
    use super::*;

    #[tokio::test]
    async fn a_close_code_that_may_not_be_sent_is_shown_as_it_was_on_the_wire() {
        let s = Server::start(&[]);
        let mut a = connect(&s, 1).await;
        // tungstenite validates nothing on send: 1005 goes out as it is.
        a.send(Message::Close(Some(
            tokio_tungstenite::tungstenite::protocol::CloseFrame {
                code: 1005.into(),
                reason: "".into(),
            },
        )))
        .await
        .unwrap();
        let _ = tokio::time::timeout(WAIT, a.next()).await;
        let err = s.wait_for("stderr", "[1] disconnected").await;
        assert!(err.contains("[1] < close 1005"), "{err}");
        assert!(!err.contains("1002"), "{err}");
    }

    #[tokio::test]
    async fn an_oversized_message_gets_1009_then_a_clean_close() {
        let s = Server::start(&["--max-message-size", "200"]);
        let mut a = connect(&s, 1).await;
        a.send(Message::text("x".repeat(4 << 20))).await.unwrap();
        match next(&mut a).await {
            Message::Close(Some(f)) => assert_eq!(u16::from(f.code), 1009),
            other => panic!("expected a close, got {other:?}"),
        }
        // Our answer goes out; the server must wait for it and then end the stream cleanly,
        // not drop TCP first (which a browser reports as 1006).
        let end = tokio::time::timeout(WAIT, a.next())
            .await
            .expect("the server ends the stream");
        assert!(end.is_none(), "not a clean end: {end:?}");
        let err = s.wait_for("stderr", "[1] disconnected").await;
        assert!(
            err.contains("[1] disconnected (closed by us, code 1009 (message too big)")
                && err.contains(", clean)"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn file_checks_the_size_limit_and_expands_the_home_directory() {
        let home = tempfile::tempdir().unwrap();
        std::fs::write(home.path().join("small.txt"), "from a file").unwrap();
        std::fs::write(home.path().join("big.txt"), "y".repeat(5000)).unwrap();
        let mut s = Server::start_with_env(&["--max-message-size", "1K"], &[("HOME", home.path())]);
        let mut a = connect(&s, 1).await;
        s.send_line("/file ~/small.txt");
        assert_eq!(next(&mut a).await, Message::text("from a file"));
        s.send_line(&format!("/file {}", home.path().join("big.txt").display()));
        let err = s.wait_for("stderr", "--max-message-size").await;
        assert!(err.contains("over the --max-message-size"), "{err}");
        // Nothing was sent, and the client is still served.
        s.send_line("after");
        assert_eq!(next(&mut a).await, Message::text("after"));
    }
}

/// Issue 15 item 19: what listen got wrong on the way to its client.
mod client_manners {
    use super::*;

    #[tokio::test]
    async fn a_ping_sent_with_to_gets_its_rtt_and_a_binary_stdin_line_goes_out_as_binary() {
        let mut s = Server::start(&[]);
        let mut a = connect(&s, 1).await;
        s.send_line("/to 1 /ping hello");
        // Keep reading so tungstenite answers the ping.
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            while let Ok(Some(Ok(m))) = tokio::time::timeout(WAIT, a.next()).await {
                let done = matches!(m, Message::Binary(_));
                got.push(m);
                if done {
                    break;
                }
            }
            got
        });
        let err = s.wait_for("stderr", "[1] < pong").await;
        assert!(err.contains("[1] < pong \"hello\" rtt"), "{err}");
        let stdin = s.stdin.as_mut().unwrap();
        stdin.write_all(b"\xff\xfe not utf-8\n").unwrap();
        stdin.flush().unwrap();
        let got = reader.await.unwrap();
        assert!(
            got.contains(&Message::binary(b"\xff\xfe not utf-8".to_vec())),
            "{got:?}"
        );
    }

    #[tokio::test]
    async fn json_shows_the_automatic_pong() {
        let s = Server::start(&["--json"]);
        let (mut a, _) = open(&s, "/", &[]).await.unwrap();
        a.send(Message::Ping(b"p1".to_vec().into())).await.unwrap();
        // The pong comes back.
        let m = tokio::time::timeout(WAIT, a.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(m, Message::Pong(b"p1".to_vec().into()));
        let out = s.wait_for("stdout", "\"auto\":true").await;
        let pong = out
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| v["event"] == "pong")
            .unwrap();
        assert_eq!(
            (pong["dir"].as_str(), pong["client"].as_u64()),
            (Some("sent"), Some(1))
        );
    }
}
