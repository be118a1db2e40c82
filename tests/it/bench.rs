//! `wscope bench` against `wscope listen --echo`, the in-process echo server and small servers of
//! its own that answer with another body, drop messages or close early: the counts, the JSON
//! report, the pairing rules, the exit codes and the interval logs. Nothing here is timed.

use crate::listen::Server as Listen;
use crate::support::{self, args, run, servers};

use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

/// The report of a `--json` run.
fn report(out: &support::Out) -> serde_json::Value {
    serde_json::from_str(out.stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "not one JSON object ({e}): {}\nstderr: {}",
            out.stdout, out.stderr
        )
    })
}

/// A server whose answer to the `n`th text message (from 1) on a connection is `reply(n, text)`:
/// None sends nothing; it closes a connection with 1001 when the answer is "CLOSE", and sends 100
/// messages "junk" before the rest of an answer that starts with "FLOOD:".
async fn replying(reply: fn(u64, &str) -> Option<String>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                let mut n = 0;
                while let Some(Ok(m)) = ws.next().await {
                    let Message::Text(t) = m else { continue };
                    n += 1;
                    match reply(n, t.as_str()) {
                        Some(r) if r == "CLOSE" => {
                            let frame = CloseFrame {
                                code: CloseCode::Away,
                                reason: "bye".into(),
                            };
                            let _ = ws.close(Some(frame)).await;
                        }
                        Some(r) if r.starts_with("FLOOD:") => {
                            for _ in 0..100 {
                                let _ = ws.feed(Message::text("junk")).await;
                            }
                            let _ = ws.send(Message::text(&r["FLOOD:".len()..])).await;
                        }
                        Some(r) if ws.send(Message::text(r.clone())).await.is_err() => return,
                        Some(_) | None => {}
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn against_listen_echo_every_message_is_answered() {
    let s = Listen::start(&["--echo"]);
    let out = run(args(&[
        "bench",
        &s.url("/"),
        "-c",
        "3",
        "-n",
        "20",
        "--size",
        "32",
        "--json",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let r = report(&out);
    assert_eq!(r["connections"]["opened"], 3, "{r}");
    assert_eq!(r["connections"]["failed"], 0, "{r}");
    assert_eq!(r["sent"]["messages"], 60, "{r}");
    assert_eq!(r["sent"]["bytes"], 60 * 32, "{r}");
    assert_eq!(r["received"]["messages"], 60, "{r}");
    assert_eq!(r["replies"]["answered"], 60, "{r}");
    assert_eq!(r["replies"]["missing"], 0, "{r}");
    assert_eq!(r["round_trip_ms"]["count"], 60, "{r}");
    assert_eq!(r["connect_ms"]["count"], 3, "{r}");
    assert_eq!(r["mode"], "closed", "{r}");
    let rt = &r["round_trip_ms"];
    for k in ["p50", "p90", "p99", "p99_9", "max", "mean"] {
        assert!(rt[k].as_f64().is_some_and(|v| v > 0.0), "{k}: {r}");
    }
    assert!(rt["p50"].as_f64() <= rt["p99"].as_f64() && rt["p99"].as_f64() <= rt["max"].as_f64());
    // stderr is not a terminal: no progress line.
    assert!(!out.stderr.contains("msg/s"), "{}", out.stderr);
}

#[tokio::test]
async fn deflate_is_offered_with_deflate_and_the_echoes_still_pair() {
    let s = Listen::start(&["--echo", "-v"]);
    let out = run(args(&[
        "bench",
        &s.url("/"),
        "-c",
        "2",
        "-n",
        "20",
        "--size",
        "2000",
        "--deflate",
        "client_max_window_bits",
        "--json",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(report(&out)["replies"]["answered"], 40);
    let err = s.wait_for("stderr", "[2] disconnected").await;
    assert!(err.contains("permessage-deflate"), "{err}");
}

#[tokio::test]
async fn progress_is_drawn_on_a_terminal() {
    use std::io::Read;
    let s = Listen::start(&["--echo"]);
    let url = s.url("/");
    let (code, screen) = tokio::task::spawn_blocking(move || {
        let home = tempfile::tempdir().unwrap();
        let support::pty::Spawned {
            master, mut child, ..
        } = support::pty::spawn(&["bench", &url, "-c", "2", "-d", "1.5"], home.path());
        let screen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (mut reader, s) = (master.try_clone().unwrap(), screen.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                s.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let code = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status.code();
            }
            assert!(std::time::Instant::now() < deadline, "bench did not end");
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        std::thread::sleep(std::time::Duration::from_millis(200));
        let screen = String::from_utf8_lossy(&screen.lock().unwrap()).into_owned();
        (code, screen)
    })
    .await
    .unwrap();
    assert_eq!(code, Some(0), "{screen}");
    // The progress line, redrawn in place, then the report.
    assert!(
        screen.contains("2 open") && screen.contains("msg/s  p50 "),
        "{screen:?}"
    );
    assert!(screen.contains("\r\x1b[2K"), "{screen:?}");
    assert!(screen.contains("Round trip"), "{screen:?}");
}

#[tokio::test]
async fn the_text_report_against_the_in_process_server_open_loop_and_binary() {
    let s = servers::start(servers::Options::default()).await;
    let url = format!("ws://{}/", s.addr);
    let out = run(args(&[
        "bench", &url, "-c", "2", "-n", "5", "--rate", "50", "--binary", "--size", "100",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    for needle in [
        "opened 2   failed 0   closed early 0",
        "open loop, 50 msg/s per connection",
        "Round trip     10 replies",
        "p99.9",
        "expected 10   answered 10   missing 0",
    ] {
        assert!(out.stdout.contains(needle), "{needle:?} in {}", out.stdout);
    }
    // What the server received: 5 binary messages of 100 bytes on each connection, and no
    // permessage-deflate offer (bench offers it only with --deflate).
    let conns = s.connections();
    assert_eq!(conns.len(), 2);
    for c in conns {
        assert_eq!(
            c.header_exact("Sec-WebSocket-Extensions"),
            None,
            "{}",
            c.raw_head
        );
        let data: Vec<_> = c.messages.iter().filter(|m| m.is_binary()).collect();
        assert_eq!(data.len(), 5, "{:?}", c.messages);
        assert!(data.iter().all(|m| m.len() == 100));
    }
}

#[tokio::test]
async fn match_pairs_replies_by_key_and_echo_pairing_would_miss_them() {
    // Replies carry the request's id and another body.
    let addr = replying(|_, text| {
        let v: serde_json::Value = serde_json::from_str(text).ok()?;
        Some(format!(r#"{{"id":{},"result":"ok"}}"#, v["id"]))
    })
    .await;
    let url = format!("ws://{addr}/");
    let template = r#"{"id":${seq},"conn":${conn},"q":"ping"}"#;
    let out = run(args(&[
        "bench", &url, "-c", "2", "-n", "10", "-x", template, "--match", ".id", "--json",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let r = report(&out);
    assert_eq!(r["replies"]["answered"], 20, "{r}");
    assert_eq!(r["replies"]["unpaired"], 0, "{r}");

    // By default a reply must equal the request: none does here.
    let out = run(args(&[
        "bench",
        &url,
        "-n",
        "2",
        "-x",
        template,
        "--reply-timeout",
        "0.2",
        "--json",
    ]))
    .await;
    assert_eq!(out.code, 7, "{}{}", out.stdout, out.stderr);
    let r = report(&out);
    assert_eq!(r["replies"]["missing"], 2, "{r}");
    assert_eq!(r["replies"]["unpaired"], 2, "{r}");
    assert!(
        out.stderr.contains("2 of 2 messages got no reply"),
        "{}",
        out.stderr
    );

    // --any-reply takes whatever comes next.
    let out = run(args(&[
        "bench",
        &url,
        "-n",
        "3",
        "-x",
        template,
        "--any-reply",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}

#[tokio::test]
async fn missing_replies_exit_7_with_the_count() {
    // Every third message goes unanswered.
    let addr = replying(|n, text| (n % 3 != 0).then(|| text.to_string())).await;
    let out = run(args(&[
        "bench",
        &format!("ws://{addr}/"),
        "-c",
        "2",
        "-n",
        "9",
        "--reply-timeout",
        "0.2",
        "--json",
    ]))
    .await;
    assert_eq!(out.code, 7, "{}{}", out.stdout, out.stderr);
    let r = report(&out);
    assert_eq!(r["replies"]["expected"], 18, "{r}");
    assert_eq!(r["replies"]["answered"], 12, "{r}");
    assert_eq!(r["replies"]["missing"], 6, "{r}");
    assert!(
        out.stderr.contains("6 of 18 messages got no reply"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--reply-timeout"), "{}", out.stderr);
}

#[tokio::test]
async fn a_flood_of_unpaired_messages_is_counted_and_the_replies_still_found() {
    let addr = replying(|_, text| Some(format!("FLOOD:{text}"))).await;
    let out = run(args(&[
        "bench",
        &format!("ws://{addr}/"),
        "-c",
        "2",
        "-n",
        "10",
        "--json",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let r = report(&out);
    assert_eq!(r["replies"]["answered"], 20, "{r}");
    assert_eq!(r["replies"]["unpaired"], 2000, "{r}");
    assert_eq!(r["received"]["messages"], 2020, "{r}");
}

#[tokio::test]
async fn a_server_that_closes_early_is_counted_and_exits_7() {
    // The fourth message is answered with a close.
    let addr = replying(|n, text| Some(if n == 4 { "CLOSE".into() } else { text.into() })).await;
    let out = run(args(&[
        "bench",
        &format!("ws://{addr}/"),
        "-c",
        "2",
        "-n",
        "10",
        "--json",
    ]))
    .await;
    assert_eq!(out.code, 7, "{}{}", out.stdout, out.stderr);
    let r = report(&out);
    assert_eq!(r["connections"]["opened"], 2, "{r}");
    assert_eq!(r["connections"]["closed_early"], 2, "{r}");
    assert_eq!(r["replies"]["answered"], 6, "{r}");
    assert_eq!(r["replies"]["missing"], 2, "{r}");
    let kinds = r["errors"].as_object().unwrap();
    assert!(
        kinds
            .keys()
            .any(|k| k.contains("closed the connection early with 1001")),
        "{r}"
    );
}

#[tokio::test]
async fn unreachable_exits_3_and_a_refused_upgrade_5() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let out = run(args(&[
        "bench",
        &format!("ws://127.0.0.1:{port}/"),
        "-c",
        "3",
        "-n",
        "1",
    ]))
    .await;
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("opened 0   failed 3"), "{}", out.stdout);
    assert!(out.stderr.contains("cannot connect"), "{}", out.stderr);

    // An HTTP server that is not a WebSocket endpoint.
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = l.accept().await {
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = [0u8; 4096];
                let _ = tcp.read(&mut buf).await;
                let _ = tcp
                    .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                    .await;
            });
        }
    });
    let out = run(args(&[
        "bench",
        &format!("ws://{addr}/"),
        "-n",
        "1",
        "--json",
    ]))
    .await;
    assert_eq!(out.code, 5, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        report(&out)["connections"]["failed_by_class"]["handshake"],
        1
    );
}

#[tokio::test]
async fn hist_logs_are_written_and_merge_to_the_sum() {
    let s = Listen::start(&["--echo"]);
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.hlog");
    let b = dir.path().join("b.hlog");
    for (file, n) in [(&a, "5"), (&b, "7")] {
        let out = run(args(&[
            "bench",
            &s.url("/"),
            "-n",
            n,
            "--hist",
            file.to_str().unwrap(),
        ]))
        .await;
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
        let log = std::fs::read_to_string(file).unwrap();
        assert!(
            log.contains("#[StartTime:") && log.contains("HISTF"),
            "{log}"
        );
    }
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let out = run(args(&["bench", "--merge", a, b, "--json"])).await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let r = report(&out);
    assert_eq!(r["round_trip_ms"]["count"], 12, "{r}");
    assert_eq!(r["logs"], 2, "{r}");
    let out = run(args(&["bench", "--merge", a])).await;
    assert!(
        out.stdout.contains("Round trip     5 replies"),
        "{}",
        out.stdout
    );
    // Not a log: a usage error naming the file.
    let out = run(args(&["bench", "--merge", "Cargo.toml"])).await;
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("--merge Cargo.toml"), "{}", out.stderr);
}

#[tokio::test]
async fn bad_flags_are_usage_errors() {
    for (bad, needle) in [
        (&["-x", "${nope}"][..], "${nope}"),
        (&["--match", ".id"][..], "finds nothing"),
        (&["--match", ".["][..], "--match"),
        (&["-n", "1", "-d", "1"][..], "cannot be used with"),
    ] {
        let mut a = args(&["bench", "ws://127.0.0.1:9/"]);
        a.extend(args(bad));
        let out = run(a).await;
        assert_eq!(out.code, 2, "{bad:?}: {}", out.stderr);
        assert!(out.stderr.contains(needle), "{bad:?}: {}", out.stderr);
    }
}

#[tokio::test]
async fn ctrl_c_closes_every_connection_and_prints_the_report() {
    let s = Listen::start(&["--echo"]);
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("wscope"))
        .args(["bench", &s.url("/"), "-c", "2", "-d", "600"])
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    s.wait_for("stderr", "[2] connected").await;
    // SAFETY: kill(2) on the pid of the child we own.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("opened 2   failed 0   closed early 0"),
        "{stdout}"
    );
    assert!(stdout.contains("missing 0"), "{stdout}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    // Both connections were closed with a close handshake, not dropped.
    let err = s.wait_for("stderr", "[2] disconnected").await;
    assert!(
        err.contains("[1] disconnected (closed by the client"),
        "{err}"
    );
    assert!(
        err.contains("[2] disconnected (closed by the client"),
        "{err}"
    );
}

/// bench runs on the session engine: `--lens` decodes every reply (here JSON-RPC requests echoed
/// back) and the report counts them, while the replies still pair by their id.
#[tokio::test]
async fn lens_jsonrpc_decodes_the_replies_and_they_pair_by_id() {
    let s = Listen::start(&["--echo"]);
    let out = run(args(&[
        "bench",
        &s.url("/"),
        "-c",
        "2",
        "-n",
        "10",
        "-x",
        r#"{"jsonrpc":"2.0","id":${seq},"method":"ping","params":[${conn}]}"#,
        "--match",
        ".id",
        "--lens",
        "jsonrpc",
        "--json",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let r = report(&out);
    assert_eq!(r["replies"]["answered"], 20, "{r}");
    assert_eq!(r["lens"]["name"], "jsonrpc", "{r}");
    assert_eq!(r["lens"]["decoded"], 20, "{r}");
    assert_eq!(r["lens"]["undecoded"], 0, "{r}");
    // Without the lens there is no lens section.
    let plain = run(args(&["bench", &s.url("/"), "-n", "2", "--json"])).await;
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    assert!(report(&plain).get("lens").is_none(), "{}", plain.stdout);
}

/// Text that is not the lens's protocol is counted as such, and the text report says so.
#[tokio::test]
async fn lens_counts_what_is_not_its_protocol_in_the_text_report() {
    let s = Listen::start(&["--echo"]);
    let out = run(args(&[
        "bench",
        &s.url("/"),
        "-n",
        "5",
        "-x",
        "plain ${seq}",
        "--lens",
        "jsonrpc",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("Lens jsonrpc"))
        .unwrap_or_else(|| panic!("no lens line: {}", out.stdout));
    assert!(line.contains("decoded 0"), "{line}");
    assert!(line.contains("not its packets 5"), "{line}");
}

/// wss: the dial and TLS of connect, with its --ca.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wss_with_the_ca_every_message_is_answered() {
    let pki = servers::Pki::new(&["localhost", "127.0.0.1"]);
    let server = servers::start_tls(servers::Options::default(), pki.identity()).await;
    let url = format!("wss://127.0.0.1:{}/", server.addr.port());
    let ca = pki.ca_path.to_str().unwrap().to_string();
    let out = run(args(&[
        "bench", &url, "-c", "2", "-n", "5", "--ca", &ca, "--json",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let r = report(&out);
    assert_eq!(r["connections"]["opened"], 2, "{r}");
    assert_eq!(r["replies"]["answered"], 10, "{r}");
    // Without the CA: no connection opens, and the exit code is TLS's.
    let out = run(args(&["bench", &url, "-n", "1", "--json"])).await;
    assert_eq!(out.code, 4, "{}{}", out.stdout, out.stderr);
}

/// --http2: each WebSocket is an RFC 8441 stream, echoed by the in-process h2 server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_websockets_are_answered() {
    let server = crate::support::h2::start(true).await;
    let out = run(args(&[
        "bench",
        &server.url(),
        "-c",
        "3",
        "-n",
        "4",
        "--http2-only",
        "--json",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let r = report(&out);
    assert_eq!(r["replies"]["answered"], 12, "{r}");
    assert_eq!(r["http2"]["websockets"], 3, "{r}");
    assert_eq!(r["http2"]["connections"], 3, "{r}");
    let seen = server.seen.lock().unwrap();
    assert_eq!(seen.requests.len(), 3);
    assert_eq!(seen.connections, 3);
}

/// --h2-connections K: the WebSockets are streams of K shared HTTP/2 connections, and the report
/// says how many carried how many.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2_connections_multiplexes_the_websockets_over_k_connections() {
    let server = crate::support::h2::start(true).await;
    let out = run(args(&[
        "bench",
        &server.url(),
        "-c",
        "6",
        "-n",
        "3",
        "--http2-only",
        "--h2-connections",
        "2",
        "--json",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let r = report(&out);
    assert_eq!(r["connections"]["opened"], 6, "{r}");
    assert_eq!(r["replies"]["answered"], 18, "{r}");
    assert_eq!(r["http2"]["websockets"], 6, "{r}");
    assert_eq!(r["http2"]["connections"], 2, "{r}");
    {
        let seen = server.seen.lock().unwrap();
        assert_eq!(seen.requests.len(), 6);
        assert_eq!(seen.connections, 2, "six WebSockets, two TCP connections");
    }
    // The text report says it too; without --http2 the flag is refused.
    let text = run(args(&[
        "bench",
        &server.url(),
        "-c",
        "4",
        "-n",
        "1",
        "--http2",
        "--h2-connections",
        "1",
    ]))
    .await;
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout
            .contains("HTTP/2       4 WebSockets over 1 connection\n"),
        "{}",
        text.stdout
    );
    let refused = run(args(&["bench", &server.url(), "--h2-connections", "2"])).await;
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("--http2"), "{}", refused.stderr);
}

#[tokio::test]
async fn reconnect_and_dump_are_not_for_bench() {
    for flag in ["--reconnect", "--dump"] {
        let out = run(args(&["bench", "ws://127.0.0.1:9/", flag])).await;
        assert_eq!(out.code, 2, "{flag}: {}", out.stderr);
        assert!(out.stderr.contains("not for bench"), "{}", out.stderr);
    }
}

/// Issue item 5: a server that drops every 10th message, in an open loop: each dropped one is
/// missing, the rest answered, exit 7.
#[tokio::test]
async fn a_server_that_drops_every_tenth_message_counts_them_missing() {
    let addr = replying(|n, text| (n % 10 != 0).then(|| text.to_string())).await;
    let out = run(args(&[
        "bench",
        &format!("ws://{addr}/"),
        "-c",
        "2",
        "-n",
        "20",
        "--rate",
        "200",
        "--reply-timeout",
        "0.3",
        "--json",
    ]))
    .await;
    assert_eq!(out.code, 7, "{}{}", out.stdout, out.stderr);
    let r = report(&out);
    assert_eq!(r["mode"], "open", "{r}");
    assert_eq!(r["replies"]["expected"], 40, "{r}");
    assert_eq!(r["replies"]["answered"], 36, "{r}");
    assert_eq!(r["replies"]["missing"], 4, "{r}");
    assert_eq!(r["connections"]["closed_early"], 0, "{r}");
}

/// Issue item 5: a server that closes half the connections (the odd ones, at their second
/// message): those count as closed early, the others finish.
#[tokio::test]
async fn a_server_that_closes_half_the_connections_counts_them() {
    let addr = replying(|n, text| {
        let conn: u64 = text.split(':').next()?.parse().ok()?;
        Some(if conn % 2 == 1 && n == 2 {
            "CLOSE".into()
        } else {
            text.into()
        })
    })
    .await;
    let out = run(args(&[
        "bench",
        &format!("ws://{addr}/"),
        "-c",
        "4",
        "-n",
        "5",
        "-x",
        "${conn}:${seq}",
        "--json",
    ]))
    .await;
    assert_eq!(out.code, 7, "{}{}", out.stdout, out.stderr);
    let r = report(&out);
    assert_eq!(r["connections"]["opened"], 4, "{r}");
    assert_eq!(r["connections"]["closed_early"], 2, "{r}");
    assert_eq!(r["replies"]["answered"], 2 * 5 + 2, "{r}");
    assert_eq!(r["replies"]["missing"], 2, "{r}");
    let kinds = r["errors"].as_object().unwrap();
    assert_eq!(
        kinds["the server closed the connection early with 1001"], 2,
        "{r}"
    );
}

/// Issue item 5: a server that takes the upgrade, then neither reads nor answers nor closes:
/// bench stops sending at -d, gives up on the replies and on the close handshake, and reports.
#[tokio::test]
async fn a_server_that_goes_silent_cannot_hold_bench_past_d_and_the_close_deadline() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = l.accept().await {
            tokio::spawn(async move {
                let Ok(ws) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                // Holds the connection open, reading nothing.
                tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
                drop(ws);
            });
        }
    });
    let out = run(args(&[
        "bench",
        &format!("ws://{addr}/"),
        "-c",
        "2",
        "-d",
        "0.5",
        "--reply-timeout",
        "0.2",
        "--json",
    ]))
    .await;
    assert_eq!(out.code, 7, "{}{}", out.stdout, out.stderr);
    let r = report(&out);
    assert_eq!(r["connections"]["opened"], 2, "{r}");
    assert_eq!(r["replies"]["answered"], 0, "{r}");
    let sent = r["replies"]["expected"].as_u64().unwrap();
    assert!(sent >= 2, "{r}");
    assert_eq!(r["replies"]["missing"], sent, "{r}");
    let kinds = r["errors"].as_object().unwrap();
    assert!(kinds.keys().any(|k| k.contains("close")), "{r}");
}

/// Hundreds of WebSockets on one HTTP/2 connection: each has a small DATA frame buffered at once,
/// which h2's default budget for them (~170 frames) answered by closing the connection with
/// ENHANCE_YOUR_CALM; a shared connection gets room for one on every stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_websockets_share_one_http2_connection() {
    let server = crate::support::h2::start(true).await;
    let out = run(args(&[
        "bench",
        &server.url(),
        "-c",
        "400",
        "-n",
        "3",
        "--http2-only",
        "--h2-connections",
        "1",
        "--json",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let r = report(&out);
    assert_eq!(r["replies"]["answered"], 1200, "{r}");
    assert_eq!(r["http2"]["connections"], 1, "{r}");
    assert_eq!(r["http2"]["websockets"], 400, "{r}");
    assert_eq!(server.seen.lock().unwrap().connections, 1);
}
