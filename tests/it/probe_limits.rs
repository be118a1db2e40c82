//! `wscope probe`, round 2 (issue 32): `--sarif`, the negotiation checks, the compression bomb
//! and the limits, each made to pass against a conforming server and to fail or warn against a
//! raw one that agrees to anything or has no limit.

use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use wscope::wire::header::Header;

use crate::listen::Server as Listen;
use crate::support::hostile::frame;
use crate::support::lax::Lax;
use crate::support::raw_ws::{
    agrees_to_deflate, echoes_offers, raw_server, raw_server_with, takes_all,
};
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

/// SARIF 2.1.0's required structure (sarif-schema-2.1.0.json: sarifLog needs version and runs,
/// a run its tool, a tool its driver, a driver its name, a result its message text) and what
/// issue 32 item 7 asks of each result: rule id, evidence, a reproducing command.
fn assert_sarif(doc: &serde_json::Value) {
    assert_eq!(doc["version"], "2.1.0", "{doc}");
    assert!(
        doc["$schema"]
            .as_str()
            .is_some_and(|s| s.contains("sarif-2.1.0")),
        "{doc}"
    );
    let runs = doc["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["tool"]["driver"]["name"], "wscope");
    let rules = runs[0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    for r in rules {
        assert!(r["id"].as_str().is_some(), "{r}");
    }
    for res in runs[0]["results"].as_array().expect("results") {
        let id = res["ruleId"].as_str().expect("ruleId");
        let i = res["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[i]["id"], id, "ruleIndex points at its rule");
        assert!(
            matches!(res["level"].as_str(), Some("error" | "warning")),
            "{res}"
        );
        assert!(res["message"]["text"].as_str().is_some(), "{res}");
        let uri = &res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
        assert!(
            uri.as_str().is_some_and(|u| u.starts_with("ws://")),
            "{res}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sarif_holds_each_failed_and_warned_check_with_the_command_that_reproduces_it() {
    let lax = Lax::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("probe.sarif");
    let out = run(args(&[
        "probe",
        &lax.url,
        "--only",
        "utf8,ping,origin-foreign",
        "-H",
        "Cookie: session=s3cr3t",
        "--sarif",
        file.to_str().unwrap(),
    ]))
    .await;
    assert_eq!(out.code, 7, "{}\n{}", out.stdout, out.stderr);
    let text = std::fs::read_to_string(&file).expect("the SARIF file");
    assert!(
        !text.contains("s3cr3t"),
        "a credential in the report:\n{text}"
    );
    let doc: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_sarif(&doc);
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let ids: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["origin-foreign", "utf8"],
        "the warn and the fail, not the pass"
    );
    assert_eq!(results[1]["level"], "error");
    assert_eq!(results[0]["level"], "warning");
    let msg = results[1]["message"]["text"].as_str().unwrap();
    assert!(msg.contains("let it through"), "the evidence: {msg}");
    let cmd = results[1]["properties"]["command"].as_str().unwrap();
    assert!(
        cmd.starts_with("wscope probe ") && cmd.contains(&lax.url) && cmd.ends_with("--only utf8"),
        "{cmd}"
    );
    assert!(
        cmd.contains("'Cookie: REDACTED'") && !cmd.contains("--sarif"),
        "{cmd}"
    );
    // The command reproduces the finding.
    let argv = shell_words(cmd);
    let again = run(argv[1..].to_vec()).await;
    assert_eq!(again.code, 7, "{}", again.stdout);
    assert_eq!(verdict(&again.stdout, "utf8").0, "fail", "{}", again.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sarif_file_that_cannot_be_written_is_an_error_naming_the_flag() {
    let server = Listen::start(&[]);
    let out = run(args(&[
        "probe",
        &server.url("/"),
        "--only",
        "ping",
        "--sarif",
        "/nonexistent-dir/probe.sarif",
    ]))
    .await;
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("--sarif") && out.stderr.contains("/nonexistent-dir"),
        "{}",
        out.stderr
    );
    // A probe that cannot reach its server still writes the file, the error inside.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.sarif");
    let gone = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", gone.local_addr().unwrap());
    drop(gone);
    let out = run(args(&["probe", &url, "--sarif", file.to_str().unwrap()])).await;
    assert_eq!(out.code, 3, "{}", out.stderr);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_sarif(&doc);
    let note =
        &doc["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"];
    assert!(
        note.as_str().is_some_and(|t| t.contains("cannot connect")),
        "{doc}"
    );
}

/// Split a command the way a POSIX shell does for the plain and single-quoted words
/// `config::shell_quote` writes.
fn shell_words(cmd: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut any) = (false, false);
    for c in cmd.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any || !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            c => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        words.push(cur);
    }
    words
}

const NEGOTIATION: &str = "subprotocol-choice,extensions,deflate-params";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conforming_server_chooses_declines_and_stops_the_bomb() {
    let server = Listen::start(&["-s", "chat"]);
    let only = format!("{NEGOTIATION},deflate-bomb");
    let out = run(args(&[
        "probe",
        &server.url("/"),
        "-s",
        "chat",
        "--only",
        &only,
    ]))
    .await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let r = &out.stdout;
    for id in [
        "subprotocol-choice",
        "extensions",
        "deflate-params",
        "deflate-bomb",
    ] {
        assert_eq!(verdict(r, id).0, "pass", "{id}:\n{r}");
    }
    assert!(
        verdict(r, "subprotocol-choice")
            .1
            .contains("selected 'chat'"),
        "{r}"
    );
    assert!(
        verdict(r, "extensions")
            .1
            .contains("x-wscope-probe: declined"),
        "{r}"
    );
    assert!(
        verdict(r, "deflate-params")
            .1
            .contains("window bits 16: declined"),
        "{r}"
    );
    let (_, bomb) = verdict(r, "deflate-bomb");
    assert!(bomb.contains("1009") && bomb.contains("1 GiB"), "{bomb}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_agrees_to_anything_fails_negotiation() {
    let url = raw_server_with(takes_all, echoes_offers).await;
    let out = run(args(&["probe", &url, "-s", "chat", "--only", NEGOTIATION])).await;
    assert_eq!(out.code, 7, "{}\n{}", out.stdout, out.stderr);
    let r = &out.stdout;
    let (status, why) = verdict(r, "subprotocol-choice");
    assert_eq!(status, "warn", "{r}");
    assert!(
        why.contains("'wscope-probe-a.invalid', a name no server implements"),
        "{why}"
    );
    let (status, why) = verdict(r, "extensions");
    assert_eq!(status, "fail", "{r}");
    assert!(why.contains("x-wscope-probe: accepted"), "{why}");
    let (status, why) = verdict(r, "deflate-params");
    assert_eq!(status, "fail", "{r}");
    assert!(
        why.contains("window bits 16: accepted") && why.contains("an unknown parameter: accepted"),
        "{why}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_takes_the_whole_bomb_fails_and_the_bomb_is_asked_for() {
    let url = raw_server_with(takes_all, agrees_to_deflate).await;
    // Not part of a plain probe: it sends a megabyte.
    let out = run(args(&["probe", &url, "--skip", "max-message"])).await;
    assert!(!out.stdout.contains("deflate-bomb"), "{}", out.stdout);
    let out = run(args(&["probe", &url, "--only", "deflate-bomb"])).await;
    assert_eq!(out.code, 7, "{}\n{}", out.stdout, out.stderr);
    let (status, why) = verdict(&out.stdout, "deflate-bomb");
    assert_eq!(status, "fail", "{}", out.stdout);
    assert!(why.contains("inflates without a limit"), "{why}");
    // Only within --probe-max.
    let out = run(args(&[
        "probe",
        &url,
        "--only",
        "deflate-bomb",
        "--probe-max",
        "512K",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let (status, why) = verdict(&out.stdout, "deflate-bomb");
    assert_eq!(status, "n/a", "{}", out.stdout);
    assert!(why.contains("--probe-max"), "{why}");
}

/// Closes with 1009 on a data frame of more than 100 000 bytes.
fn limit_100k(h: &Header) -> Option<u16> {
    (h.opcode == 0x2 && h.len > 100_000).then_some(1009)
}

/// Takes no data frame at all.
fn limit_0(h: &Header) -> Option<u16> {
    (h.opcode == 0x2).then_some(1009)
}

/// Says 1002 where 1009 is meant.
fn limit_100k_1002(h: &Header) -> Option<u16> {
    (h.opcode == 0x2 && h.len > 100_000).then_some(1002)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_frame_bisects_to_within_a_sixteenth_of_the_limit() {
    let url = raw_server(limit_100k).await;
    let out = run(args(&[
        "probe",
        &url,
        "--only",
        "max-frame",
        "--probe-max",
        "1M",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let (status, why) = verdict(&out.stdout, "max-frame");
    assert_eq!(status, "pass", "{}", out.stdout);
    let nums: Vec<usize> = why
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    let (taken, refused) = (nums[0], nums[1]);
    assert!(taken <= 100_000 && refused > 100_000, "{why}");
    assert!(refused - taken <= refused / 16, "not bisected: {why}");
    assert!(why.contains("1009"), "{why}");
    // No frame taken: fail; the wrong close code: warn.
    let url = raw_server(limit_0).await;
    let out = run(args(&[
        "probe",
        &url,
        "--only",
        "max-frame",
        "--probe-max",
        "64K",
    ]))
    .await;
    assert_eq!(out.code, 7, "{}", out.stdout);
    assert_eq!(
        verdict(&out.stdout, "max-frame").0,
        "fail",
        "{}",
        out.stdout
    );
    let url = raw_server(limit_100k_1002).await;
    let out = run(args(&[
        "probe",
        &url,
        "--only",
        "max-frame",
        "--probe-max",
        "1M",
    ]))
    .await;
    assert_eq!(
        verdict(&out.stdout, "max-frame").0,
        "warn",
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_finds_max_clients_and_warns_without_a_limit() {
    let server = Listen::start(&["--max-clients", "3"]);
    let out = run(args(&[
        "probe",
        &server.url("/"),
        "--probe-conns",
        "6",
        "--only",
        "connections,ping",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let (status, why) = verdict(&out.stdout, "connections");
    assert_eq!(status, "pass", "{}", out.stdout);
    assert!(
        why.starts_with("connection 4 refused with 503, with 3 open"),
        "{why}"
    );
    // It ran alone: ping got its slot.
    assert_eq!(verdict(&out.stdout, "ping").0, "pass", "{}", out.stdout);
    let open = Listen::start(&[]);
    let out = run(args(&[
        "probe",
        &open.url("/"),
        "--probe-conns",
        "5",
        "--skip",
        "max-message",
    ]))
    .await;
    let (status, why) = verdict(&out.stdout, "connections");
    assert_eq!(status, "warn", "{}", out.stdout);
    assert!(why.contains("accepted all 5 connections"), "{why}");
}

/// A server that pings every 200 ms and closes an idle client after 900 ms.
async fn pinging_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                if crate::support::hostile::handshake(&mut tcp).await.is_none() {
                    return;
                }
                for _ in 0..4 {
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    if tcp.write_all(&frame(0x89, b"hb")).await.is_err() {
                        return;
                    }
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                let _ = tcp.write_all(&frame(0x88, &1001u16.to_be_bytes())).await;
            });
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_server_ping_watch_an_idle_connection_up_to_probe_idle() {
    let url = pinging_server().await;
    let out = run(args(&[
        "probe",
        &url,
        "--probe-idle",
        "3",
        "--only",
        "idle,server-ping",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let (status, why) = verdict(&out.stdout, "idle");
    assert_eq!(status, "pass", "{}", out.stdout);
    assert!(
        why.contains("closed with 1001") && why.contains("pinged 4 times"),
        "{why}"
    );
    let (status, why) = verdict(&out.stdout, "server-ping");
    assert_eq!(status, "pass", "{}", out.stdout);
    assert!(
        why.contains("pinged 4 times") && why.contains("then every 2"),
        "{why}"
    );
    // wscope listen neither pings nor closes an idle client; without --probe-idle, not run.
    let server = Listen::start(&[]);
    let out = run(args(&[
        "probe",
        &server.url("/"),
        "--probe-idle",
        "0.5",
        "--only",
        "idle,server-ping",
    ]))
    .await;
    assert_eq!(verdict(&out.stdout, "idle").0, "warn", "{}", out.stdout);
    assert_eq!(
        verdict(&out.stdout, "server-ping").0,
        "warn",
        "{}",
        out.stdout
    );
    let out = run(args(&["probe", &server.url("/"), "--skip", "max-message"])).await;
    assert!(!out.stdout.contains("server-ping"), "{}", out.stdout);
}

/// Against `wscope listen --max-message-size 100K`, max-frame finds 100 KiB: listen answers
/// nothing behind a message over its limit, so the pong probe waits for is never "accepted".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_frame_finds_the_limit_of_wscope_listen() {
    let server = Listen::start(&["--max-message-size", "100K"]);
    let out = run(args(&[
        "probe",
        &server.url("/"),
        "--only",
        "max-frame",
        "--probe-max",
        "1M",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let (status, why) = verdict(&out.stdout, "max-frame");
    assert_eq!(status, "pass", "{}", out.stdout);
    let taken: usize = why
        .split_whitespace()
        .find_map(|w| w.parse().ok())
        .unwrap_or(usize::MAX);
    assert!(taken <= 100 * 1024, "{why}");
}
