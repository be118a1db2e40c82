//! `wscope probe` against servers that make a probe hard to report: one that enforces its Origin,
//! one that crashes mid-probe, one that cuts its pongs short (libwebsockets' dumb-increment), one
//! whose close reason holds a line feed, one that takes the connection and never answers
//! (issues 25 R3 and 26 items 2, 3 and 15).

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wscope::wire::frame::FrameDecoder;

use crate::listen::Server as Listen;
use crate::support::hostile::{frame, handshake};
use crate::support::{args, run};

/// The status word of check `id` in a human report, and the rest of its line.
fn verdict<'a>(report: &'a str, id: &str) -> (&'a str, &'a str) {
    let line = report
        .lines()
        .find(|l| l.split_whitespace().next() == Some(id))
        .unwrap_or_else(|| panic!("no line for {id} in:\n{report}"));
    let rest = line.trim_start()[id.len()..].trim_start();
    let (status, detail) = rest.split_once(' ').unwrap_or((rest, ""));
    (status, detail.trim_start())
}

/// Exactly one JSON document on stdout.
fn one_document(stdout: &str) -> serde_json::Value {
    let mut docs = serde_json::Deserializer::from_str(stdout).into_iter::<serde_json::Value>();
    let v = docs
        .next()
        .expect("a document")
        .unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert!(docs.next().is_none(), "more than one document: {stdout}");
    v
}

fn check<'a>(doc: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {doc}"))
}

/// A server that upgrades everything and reacts to frames through `react` (the frame's opcode
/// and payload to the bytes to write back, None for nothing; a close frame written ends the
/// connection). `refuse`: a request head for which the connection is closed without an answer.
async fn raw_server<R, F>(react: R, refuse: F) -> String
where
    R: Fn(u8, &[u8]) -> Option<Vec<u8>> + Send + Sync + Copy + 'static,
    F: Fn(&str) -> bool + Send + Sync + Copy + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(serve(tcp, react, refuse));
        }
    });
    url
}

async fn serve<R, F>(mut tcp: TcpStream, react: R, refuse: F)
where
    R: Fn(u8, &[u8]) -> Option<Vec<u8>>,
    F: Fn(&str) -> bool,
{
    let mut peek = [0u8; 4096];
    let Ok(n) = tcp.peek(&mut peek).await else {
        return;
    };
    if refuse(&String::from_utf8_lossy(&peek[..n])) {
        let _ = tcp.read(&mut peek).await;
        return;
    }
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
                0x8 => frame(0x88, &f.payload),
                op => match react(op, &f.payload) {
                    Some(r) => r,
                    None => continue,
                },
            };
            if tcp.write_all(&reply).await.is_err() || reply.first() == Some(&0x88) {
                return;
            }
        }
        match tcp.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => chunk = buf[..n].to_vec(),
        }
    }
}

/// Issue 26 item 2: against a server that enforces its Origin, probe aborted with exit 5.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_origin_enforcing_server_is_still_probed() {
    let server = Listen::start(&["--origin-allow", "https://app.example.test"]);
    let url = server.url("/");
    let out = run(args(&["probe", &url])).await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let r = &out.stdout;
    for id in ["origin-foreign", "origin-null", "origin-missing"] {
        assert_eq!(verdict(r, id).0, "pass", "{id}:\n{r}");
    }
    assert!(verdict(r, "origin-foreign").1.contains("403"), "{r}");
    for id in ["ping", "utf8", "max-message", "version"] {
        let (status, why) = verdict(r, id);
        assert_eq!(status, "n/a", "{id}:\n{r}");
        assert!(why.contains("-o"), "{id}: {why}");
    }
    assert!(out.stderr.contains("-o"), "{}", out.stderr);
    let out = run(args(&["probe", &url, "--json"])).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = one_document(&out.stdout);
    assert_eq!(check(&doc, "origin-null")["status"], "pass", "{doc}");
    assert_eq!(check(&doc, "ping")["status"], "n/a", "{doc}");
}

/// Issue 26 item 3: `probe --json` printed a second document (an error event) after the report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_is_one_document_whatever_the_outcome() {
    let lax = crate::support::lax::Lax::start().await;
    let out = run(args(&["probe", &lax.url, "--json", "--only", "utf8,ping"])).await;
    assert_eq!(out.code, 7, "{}\n{}", out.stdout, out.stderr);
    let doc = one_document(&out.stdout);
    assert!(
        doc["error"].as_str().is_some_and(|e| e.contains("utf8")),
        "{doc}"
    );
    assert_eq!(check(&doc, "utf8")["status"], "fail", "{doc}");
    assert!(out.stderr.contains("error:"), "{}", out.stderr);
    // Nothing to reach: still one document, with the error in it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    drop(listener);
    let out = run(args(&["probe", &url, "--json"])).await;
    assert_eq!(out.code, 3, "{}", out.stderr);
    let doc = one_document(&out.stdout);
    assert!(doc["error"].as_str().is_some(), "{doc}");
    assert!(out.stderr.contains("cannot connect"), "{}", out.stderr);
}

/// Issue 26 item 3: a server that goes away mid-probe was reported once per remaining check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_stops_is_reported_once() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    // The first connection is served; at the second the server "crashes": the listener and
    // everything waiting in its backlog go.
    tokio::spawn(async move {
        if let Ok((tcp, _)) = listener.accept().await {
            serve(tcp, |op, p| (op == 0x9).then(|| frame(0x8A, p)), |_| false).await;
        }
        let _ = listener.accept().await;
    });
    let out = run(args(&["probe", &url, "--json"])).await;
    assert_eq!(out.code, 7, "{}\n{}", out.stdout, out.stderr);
    let doc = one_document(&out.stdout);
    let error = doc["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("the server stopped accepting connections after"),
        "{doc}"
    );
    let checks = doc["checks"].as_array().unwrap();
    let failed: Vec<&serde_json::Value> = checks.iter().filter(|c| c["status"] == "fail").collect();
    assert!(
        failed.is_empty(),
        "one report, not a failure per check: {failed:#?}"
    );
    assert_eq!(
        out.stderr.matches("stopped accepting").count(),
        1,
        "{}",
        out.stderr
    );
}

/// Issue 25 R3: a server that answers a 26-byte ping with two shorter pongs (libwebsockets'
/// dumb-increment) failed max-message and gave the violations false evidence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pongs_cut_short_still_say_the_message_got_through() {
    let url = raw_server(
        |op, p| {
            (op == 0x9).then(|| {
                let cut = p.len().min(16);
                let mut two = frame(0x8A, &p[..cut]);
                if cut < p.len() {
                    two.extend(frame(0x8A, &p[cut..]));
                }
                two
            })
        },
        |_| false,
    )
    .await;
    let out = run(args(&[
        "probe",
        &url,
        "--only",
        "max-message,ping,unmasked",
        "--probe-max",
        "64K",
    ]))
    .await;
    let r = &out.stdout;
    let (status, why) = verdict(r, "max-message");
    assert_eq!(status, "pass", "{r}\n{}", out.stderr);
    assert!(why.contains("accepted 64 KiB"), "{why}");
    let (status, why) = verdict(r, "ping");
    assert_eq!(status, "fail", "{r}");
    assert!(
        why.contains("2 pongs") && why.contains("the first 16 of 26 bytes"),
        "{why}"
    );
    let (status, why) = verdict(r, "unmasked");
    assert_eq!(status, "fail", "{r}");
    assert!(why.contains("let it through"), "{why}");
}

/// Issue 26 item 15: a line feed in a close reason started a line of its own in the report,
/// and `version` said "could not connect" of a server that took the connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reason_with_a_line_feed_stays_on_its_line_and_version_says_what_happened() {
    let url = raw_server(
        |op, _| match op {
            0x1 => {
                let mut body = 1007u16.to_be_bytes().to_vec();
                body.extend_from_slice(b"bad\n  ping  pass  forged");
                Some(frame(0x88, &body))
            }
            _ => None,
        },
        |head| head.contains("Sec-WebSocket-Version: 8"),
    )
    .await;
    let out = run(args(&["probe", &url, "--only", "utf8,version"])).await;
    let r = &out.stdout;
    assert!(
        !r.lines().any(|l| l.trim_start().starts_with("ping")),
        "a forged line:\n{r}"
    );
    let (status, why) = verdict(r, "utf8");
    assert_eq!(status, "pass", "{r}");
    assert!(why.contains("bad\\n"), "{why}");
    let (_, why) = verdict(r, "version");
    assert!(!why.contains("could not connect"), "{why}");
    assert!(why.contains("connected, but"), "{why}");
}
