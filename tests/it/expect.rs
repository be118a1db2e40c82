//! Expect scripting against an in-process application server (SPEC.md "Expect scripting", issue
//! 17): a login flow that hands out a token, a JSON-RPC-style call answered after a notification,
//! binary replies, and closes; plus every kind of script mistake, which must exit 2 before a
//! connection is even opened.

use crate::support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

use support::{args, run, Out};

/// A small application: it greets on connect and answers a few requests.
struct App {
    url: String,
    /// Text messages received, in order.
    got: Arc<Mutex<Vec<String>>>,
    /// TCP connections accepted.
    accepted: Arc<AtomicUsize>,
}

enum Reply {
    Text(String),
    Binary(Vec<u8>),
    Close(u16),
    Ticks,
}

fn answer(msg: &str) -> Vec<Reply> {
    let text = |s: &str| Reply::Text(s.to_string());
    match msg {
        m if m.starts_with("login ") => vec![text("logging in..."), text("token=abc123")],
        m if m.starts_with("use ") => vec![text(&format!("ok {}", &m[4..]))],
        m if m.contains("\"jsonrpc\"") => {
            let id = serde_json::from_str::<serde_json::Value>(m)
                .ok()
                .and_then(|v| v.get("id").and_then(serde_json::Value::as_i64))
                .unwrap_or_default();
            vec![
                text(r#"{"jsonrpc":"2.0","method":"tick","params":{}}"#),
                text(&format!(
                    r#"{{"jsonrpc":"2.0","id":{},"result":{{"sum":3,"who":"bob"}}}}"#,
                    id + 1
                )),
                text(&format!(
                    r#"{{"jsonrpc":"2.0","id":{id},"result":{{"sum":3,"who":"alice"}}}}"#
                )),
            ]
        }
        "hello" => vec![text("hi there\nsecond line")],
        "bin" => vec![Reply::Binary(vec![0xde, 0xad, 0xbe, 0xef])],
        "bye" => vec![text("goodbye"), Reply::Close(4000)],
        "drop" => vec![Reply::Close(1000)],
        "ticks" => vec![Reply::Ticks],
        _ => vec![],
    }
}

impl App {
    async fn start() -> App {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/", listener.local_addr().unwrap());
        let got = Arc::new(Mutex::new(Vec::new()));
        let accepted = Arc::new(AtomicUsize::new(0));
        let (rec, count) = (got.clone(), accepted.clone());
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let rec = rec.clone();
                tokio::spawn(async move {
                    let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                        return;
                    };
                    if ws
                        .send(Message::text(r#"{"type":"welcome"}"#))
                        .await
                        .is_err()
                    {
                        return;
                    }
                    let mut ticking = false;
                    let mut tick = tokio::time::interval(Duration::from_millis(100));
                    loop {
                        let m = tokio::select! {
                            m = ws.next() => m,
                            _ = tick.tick(), if ticking => {
                                let _ = ws.send(Message::text("tick")).await;
                                continue;
                            }
                        };
                        let Some(Ok(m)) = m else { return };
                        let Message::Text(t) = m else { continue };
                        rec.lock().unwrap().push(t.to_string());
                        for r in answer(t.as_str()) {
                            let m = match r {
                                Reply::Text(s) => Message::text(s),
                                Reply::Binary(b) => Message::binary(b),
                                Reply::Close(code) => Message::Close(Some(CloseFrame {
                                    code: CloseCode::from(code),
                                    reason: "done".into(),
                                })),
                                Reply::Ticks => {
                                    ticking = true;
                                    continue;
                                }
                            };
                            let _ = ws.send(m).await;
                        }
                    }
                });
            }
        });
        App { url, got, accepted }
    }

    fn got(&self) -> Vec<String> {
        self.got.lock().unwrap().clone()
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

async fn wscope(app: &App, rest: &[&str]) -> Out {
    let mut a = vec![app.url.as_str()];
    a.extend_from_slice(rest);
    run(args(&a)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_flow_reuses_the_token_it_was_given() {
    let app = App::start().await;
    let out = wscope(
        &app,
        &[
            "-x",
            "login alice secret",
            "-x",
            r"/expect token=(?<token>\w+)",
            "-x",
            "use ${token}",
            "-x",
            "/expect ^ok ${token}$",
            "-w",
            "0",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(app.got(), ["login alice secret", "use abc123"]);
    // Non-matching messages are shown as usual.
    assert!(out.stdout.contains("logging in..."), "{}", out.stdout);
    assert!(out.stdout.contains("ok abc123"), "{}", out.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_that_came_before_the_expectation_count() {
    let app = App::start().await;
    // The greeting arrives while the script sleeps: the expectation after it still sees it.
    let started = Instant::now();
    let out = wscope(
        &app,
        &[
            "-x",
            "/sleep 0.3",
            "-x",
            r#"/expect-json .type == "welcome""#,
            "-x",
            "done",
            "-w",
            "0",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(app.got(), ["done"]);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_rpc_reply_is_picked_by_its_id_and_read_with_let() {
    let app = App::start().await;
    let out = wscope(
        &app,
        &[
            "-x",
            r#"{"jsonrpc":"2.0","id":7,"method":"add","params":[1,2]}"#,
            "-x",
            "/expect-json .id == 7",
            "-x",
            "/let who .result.who",
            "-x",
            "/let result .result",
            "-x",
            "use ${who} ${result}",
            "--json",
            "-w",
            "0",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let got = app.got();
    assert_eq!(
        got.get(1).map(String::as_str),
        Some(r#"use alice {"sum":3,"who":"alice"}"#),
        "{got:?}"
    );
    let expect: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["event"] == "expect")
        .collect();
    assert_eq!(expect.len(), 1, "{}", out.stdout);
    assert_eq!(expect[0]["pattern"], "/expect-json .id == 7");
    assert_eq!(expect[0]["result"], "matched");
    assert!(expect[0]["ms"].is_number());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn named_groups_show_in_json_expect_events() {
    let app = App::start().await;
    let out = wscope(
        &app,
        &[
            "-x",
            "login a b",
            "-x",
            r"/expect token=(?<token>\w+)",
            "--json",
            "-w",
            "0",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains(r#""event":"expect""#))
        .unwrap_or_else(|| panic!("no expect event in {}", out.stdout));
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(v["vars"]["token"], "abc123");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_exits_7_with_the_pattern_the_wait_and_what_came() {
    let app = App::start().await;
    let started = Instant::now();
    let out = wscope(
        &app,
        &[
            "-x",
            "hello",
            "-x",
            "/expect --timeout 0.5 never",
            "-x",
            "not sent",
        ],
    )
    .await;
    assert_eq!(out.code, 7, "{}", out.stderr);
    assert!(started.elapsed() < Duration::from_secs(5));
    let e = &out.stderr;
    assert!(
        e.contains("/expect never failed: no matching message within"),
        "{e}"
    );
    assert!(e.contains("2 messages did not match"), "{e}");
    // The last messages, on one line each, newlines made visible.
    assert!(e.contains(r"hi there\nsecond line"), "{e}");
    assert!(e.contains("welcome"), "{e}");
    assert!(e.contains("--expect-timeout"), "{e}");
    assert_eq!(app.got(), ["hello"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_timeout_is_expect_timeout() {
    let app = App::start().await;
    let started = Instant::now();
    let out = wscope(&app, &["-x", "/expect never", "--expect-timeout", "0.3"]).await;
    assert_eq!(out.code, 7, "{}", out.stderr);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_closing_during_an_expectation_exits_7() {
    let app = App::start().await;
    let out = wscope(&app, &["-x", "drop", "-x", "/expect never"]).await;
    assert_eq!(out.code, 7, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("/expect never failed: the peer closed the connection with 1000"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_messages_are_matched_as_hex() {
    let app = App::start().await;
    let out = wscope(
        &app,
        &[
            "-x",
            "bin",
            "-x",
            "/expect ^de(?<b>ad)beef$",
            "-x",
            "use ${b}",
            "-w",
            "0",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(app.got(), ["bin", "use ad"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expected_close_exits_0_and_a_different_one_7() {
    let app = App::start().await;
    // Without the expectation, a 4000 from the server is exit 6.
    let out = wscope(&app, &["-x", "bye"]).await;
    assert_eq!(out.code, 6, "{}", out.stderr);
    // The close comes in the same read as the reply the /expect waits for.
    let out = wscope(
        &app,
        &[
            "-x",
            "bye",
            "-x",
            "/expect goodbye",
            "-x",
            "/expect-close 4000",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = wscope(&app, &["-x", "bye", "-x", "/expect-close"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = wscope(&app, &["-x", "bye", "-x", "/expect-close 1000"]).await;
    assert_eq!(out.code, 7, "{}", out.stderr);
    assert!(out.stderr.contains("closed with 4000"), "{}", out.stderr);
    let out = wscope(&app, &["-x", "hello", "-x", "/expect-close --timeout 0.3"]).await;
    assert_eq!(out.code, 7, "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_file_runs_after_the_x_lines() {
    let app = App::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("login.wscope");
    std::fs::write(
        &path,
        "# log in, then use the token\n\nlogin alice secret\n  # indented comment\n/expect token=(?<token>\\w+)\nuse ${token}\n",
    )
    .unwrap();
    let p = path.to_str().unwrap();
    let out = wscope(&app, &["-x", "first", "--script", p, "-w", "0"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(app.got(), ["first", "login alice secret", "use abc123"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_script_mistake_exits_2_before_connecting() {
    let app = App::start().await;
    let cases: &[(&[&str], &str)] = &[
        (
            &["-x", "hi", "-x", "/expect a(b"],
            "-x '/expect a(b': /expect: invalid regex",
        ),
        (&["-x", "/expect-json .a =="], "invalid jq filter"),
        (&["-x", "/let x nosuchfn"], "invalid jq filter"),
        (&["-x", "send ${token}"], "unknown variable ${token}"),
        (
            &["-x", "/let t .a", "-x", "/expect x", "-x", "${t} ${u}"],
            "unknown variable ${u}",
        ),
        (
            &["-x", "${env:WSCOPE_TEST_SURELY_UNSET}"],
            "WSCOPE_TEST_SURELY_UNSET is not set",
        ),
        (&["-x", "/sleep soon"], "/sleep"),
        (&["-x", "/expect --timeout"], "SECS"),
        (&["-x", "/expect-close 1005"], "1005"),
        (&["-x", "oops ${"], "no closing"),
        (&["-x", "/bogus"], "unknown command /bogus"),
    ];
    for (flags, want) in cases {
        let out = wscope(&app, flags).await;
        assert_eq!(out.code, 2, "{flags:?}: {}", out.stderr);
        assert!(out.stderr.contains(want), "{flags:?}: {}", out.stderr);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.wscope");
    std::fs::write(&path, "# comment\nhello\n\n/expect-json .id ==\n").unwrap();
    let out = wscope(&app, &["--script", path.to_str().unwrap()]).await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("bad.wscope:4 '/expect-json .id =='"),
        "{}",
        out.stderr
    );
    let out = wscope(&app, &["--script", "/nonexistent/script"]).await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("--script /nonexistent/script"),
        "{}",
        out.stderr
    );
    assert_eq!(
        app.accepted(),
        0,
        "nothing may be sent, not even a connection"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dollar_dollar_brace_is_a_literal() {
    let app = App::start().await;
    let out = wscope(&app, &["-x", "cost $5 $${x}", "-w", "0"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(app.got(), ["cost $5 ${x}"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_is_a_fixed_time_and_idle_a_silence() {
    let app = App::start().await;
    // The server ticks every 100 ms, so silence never comes: -w still ends it.
    let started = Instant::now();
    let out = wscope(&app, &["-x", "ticks", "-w", "0.8"]).await;
    let took = started.elapsed();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        took >= Duration::from_millis(800) && took < Duration::from_secs(4),
        "{took:?}"
    );
    assert!(out.stdout.contains("tick"), "{}", out.stdout);
    // A quiet server: --idle ends it soon after the greeting.
    let started = Instant::now();
    let out = wscope(&app, &["-x", "quiet", "--idle", "0.3"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // --idle and -w together: the first wins (the ticks keep --idle from ever firing).
    let started = Instant::now();
    let out = wscope(&app, &["-x", "ticks", "--idle", "0.3", "-w", "0.6"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    // -w -1 waits for the server: here until it closes.
    let out = wscope(&app, &["-x", "bye", "-w", "-1", "-x", "/expect-close 4000"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
}
