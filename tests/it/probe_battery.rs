//! `wscope probe`, round 2 (issue 32): the hand-written handshakes and the frame violations, each
//! made to pass against a conforming server (`wscope listen`, or a raw server strict where the
//! check needs it) and to fail or warn against one that lets it through.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wscope::wire::header::{self, Header, Parsed};

use crate::listen::Server as Listen;
use crate::support::hostile::frame;
use crate::support::lax::Lax;
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

const HANDSHAKES: [&str; 7] = [
    "host-missing",
    "http10",
    "key-missing",
    "key-malformed",
    "key-duplicate",
    "headers-large",
    "headers-many",
];

const VIOLATIONS: [&str; 8] = [
    "rsv1",
    "rsv3",
    "opcode",
    "continuation-start",
    "fragment-interleaved",
    "utf8-fragmented",
    "close-codes",
    "close-short",
];

/// A raw server that upgrades any request head, of any size, with or without a key, then reads
/// frame headers with wscope's one parser: `close` says which code a header gets (None: the
/// frame is taken; pings are answered, a close is echoed).
async fn raw_server(close: fn(&Header) -> Option<u16>) -> String {
    raw_server_with(close, |_| String::new()).await
}

/// The same, with the response headers `agree` makes of the request head.
async fn raw_server_with(close: fn(&Header) -> Option<u16>, agree: fn(&str) -> String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(serve(tcp, close, agree));
        }
    });
    url
}

fn header_of<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Agrees to whatever is offered: the first subprotocol, the extension offer as written (a
/// valueless client_max_window_bits, which a response may not carry, left out).
fn echoes_offers(head: &str) -> String {
    let mut out = String::new();
    if let Some(p) = header_of(head, "Sec-WebSocket-Protocol") {
        let first = p.split(',').next().unwrap_or_default().trim();
        out.push_str(&format!("Sec-WebSocket-Protocol: {first}\r\n"));
    }
    if let Some(e) = header_of(head, "Sec-WebSocket-Extensions") {
        let e = e.replace("; client_max_window_bits", "");
        out.push_str(&format!("Sec-WebSocket-Extensions: {e}\r\n"));
    }
    out
}

/// Agrees to permessage-deflate (and inflates nothing).
fn agrees_to_deflate(head: &str) -> String {
    match header_of(head, "Sec-WebSocket-Extensions") {
        Some(e) if e.contains("permessage-deflate") => {
            "Sec-WebSocket-Extensions: permessage-deflate\r\n".into()
        }
        _ => String::new(),
    }
}

async fn serve(mut tcp: TcpStream, close: fn(&Header) -> Option<u16>, agree: fn(&str) -> String) {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match tcp.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let key = head
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case("sec-websocket-key")
                .then(|| v.trim().to_string())
        })
        .unwrap_or_default();
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n{}\r\n",
        agree(&head)
    );
    if tcp.write_all(response.as_bytes()).await.is_err() {
        return;
    }
    buf.drain(..end);
    loop {
        while let Parsed::Header(h, n) = header::parse(&buf) {
            if let Some(code) = close(&h) {
                let _ = tcp.write_all(&frame(0x88, &code.to_be_bytes())).await;
                return;
            }
            let Some(whole) = (n as u64)
                .checked_add(h.len)
                .filter(|&w| w <= buf.len() as u64)
            else {
                break;
            };
            let mut payload = buf[n..whole as usize].to_vec();
            if let Some(k) = h.mask {
                payload
                    .iter_mut()
                    .zip(k.iter().cycle())
                    .for_each(|(b, m)| *b ^= m);
            }
            buf.drain(..whole as usize);
            let reply = match h.opcode {
                0x9 => frame(0x8A, &payload),
                0x8 => frame(0x88, &payload),
                _ => continue,
            };
            if tcp.write_all(&reply).await.is_err() || h.opcode == 0x8 {
                return;
            }
        }
        match tcp.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn takes_all(_: &Header) -> Option<u16> {
    None
}

fn strict_lengths(h: &Header) -> Option<u16> {
    (h.non_minimal() || h.len >> 63 == 1).then_some(1002)
}

/// Closes on every reserved opcode but 0xB.
fn misses_0xb(h: &Header) -> Option<u16> {
    let reserved = matches!(h.opcode, 0x3..=0x7 | 0xC..=0xF);
    reserved.then_some(1002)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conforming_server_refuses_every_malformed_handshake() {
    let server = Listen::start(&[]);
    let only = HANDSHAKES.join(",");
    let out = run(args(&["probe", &server.url("/"), "--only", &only])).await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let r = &out.stdout;
    for id in HANDSHAKES {
        assert_eq!(verdict(r, id).0, "pass", "{id}:\n{r}");
    }
    assert!(verdict(r, "host-missing").1.contains("400"), "{r}");
    assert!(verdict(r, "key-missing").1.contains("400"), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_upgrades_anything_fails_or_warns_each_handshake_check() {
    let url = raw_server(takes_all).await;
    let only = HANDSHAKES.join(",");
    let out = run(args(&["probe", &url, "--only", &only])).await;
    assert_eq!(out.code, 7, "{}\n{}", out.stdout, out.stderr);
    let r = &out.stdout;
    let (status, why) = verdict(r, "key-missing");
    assert_eq!(status, "fail", "{r}");
    assert!(why.starts_with("accepted"), "{why}");
    for id in [
        "host-missing",
        "http10",
        "key-malformed",
        "key-duplicate",
        "headers-large",
        "headers-many",
    ] {
        assert_eq!(verdict(r, id).0, "warn", "{id}:\n{r}");
    }
    assert!(verdict(r, "headers-large").1.contains("256 KiB"), "{r}");
    assert!(
        out.stderr.contains("1 probe check failed: key-missing"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conforming_server_closes_on_each_new_violation() {
    let server = Listen::start(&[]);
    let only = VIOLATIONS.join(",");
    let out = run(args(&["probe", &server.url("/"), "--only", &only])).await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let r = &out.stdout;
    for id in VIOLATIONS {
        assert_eq!(verdict(r, id).0, "pass", "{id}:\n{r}");
    }
    assert!(verdict(r, "utf8-fragmented").1.contains("1007"), "{r}");
    assert!(verdict(r, "rsv1").1.contains("1002"), "{r}");
    let (_, opcodes) = verdict(r, "opcode");
    assert!(
        opcodes.contains("0x3, 0x4") && opcodes.contains("0xF"),
        "{opcodes}"
    );
    let (_, codes) = verdict(r, "close-codes");
    assert!(
        codes.contains("0, 999, 1004, 1005, 1006, 1015, 5000"),
        "{codes}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lax_server_fails_each_new_violation() {
    let lax = Lax::start().await;
    let only = VIOLATIONS.join(",") + ",length-nonminimal,length-64bit";
    let out = run(args(&["probe", &lax.url, "--only", &only])).await;
    assert_eq!(out.code, 7, "{}\n{}", out.stdout, out.stderr);
    let r = &out.stdout;
    for id in &VIOLATIONS[..6] {
        let (status, why) = verdict(r, id);
        assert_eq!(status, "fail", "{id}:\n{r}");
        assert!(why.contains("let it through"), "{id}: {why}");
    }
    // Every try is named: the ten opcodes, the seven close codes (echoed back: the wrong code).
    let (_, why) = verdict(r, "opcode");
    assert!(
        why.contains("0x3: let it through") && why.contains("0xF: let it through"),
        "{why}"
    );
    let (status, why) = verdict(r, "close-codes");
    assert_eq!(status, "warn", "{r}");
    assert!(
        why.contains("1015: closed with 1015") && why.contains("wants 1002"),
        "{why}"
    );
    assert_eq!(verdict(r, "close-short").0, "warn", "{r}");
    let (status, why) = verdict(r, "length-nonminimal");
    assert_eq!(
        (status, why.contains("let it through")),
        ("warn", true),
        "{r}"
    );
    let (status, why) = verdict(r, "length-64bit");
    assert_eq!(status, "warn", "{r}");
    assert!(why.contains("waits for the payload"), "{why}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lengths_the_rfc_forbids_pass_against_a_server_that_reads_them() {
    let url = raw_server(strict_lengths).await;
    let out = run(args(&[
        "probe",
        &url,
        "--only",
        "length-nonminimal,length-64bit",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    for id in ["length-nonminimal", "length-64bit"] {
        let (status, why) = verdict(&out.stdout, id);
        assert_eq!(status, "pass", "{id}: {}", out.stdout);
        assert!(why.contains("1002"), "{why}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_one_reserved_opcode_let_through_is_named() {
    let url = raw_server(misses_0xb).await;
    let out = run(args(&["probe", &url, "--only", "opcode"])).await;
    assert_eq!(out.code, 7, "{}\n{}", out.stdout, out.stderr);
    let (status, why) = verdict(&out.stdout, "opcode");
    assert_eq!(status, "fail", "{}", out.stdout);
    assert!(why.starts_with("0xB: let it through"), "{why}");
    assert!(
        why.contains("0x3, 0x4, 0x5, 0x6, 0x7, 0xC, 0xD, 0xE, 0xF: each closed"),
        "{why}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exact_allow_list_refuses_every_look_alike_and_the_lone_cookie() {
    let server = Listen::start(&["--origin-allow", "https://app.example.test"]);
    let out = run(args(&[
        "probe",
        &server.url("/"),
        "-o",
        "https://app.example.test",
        "--cookie",
        "session=s3cr3t",
        "--only",
        "origin-variants,cookie-only",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let (status, why) = verdict(&out.stdout, "origin-variants");
    assert_eq!(status, "pass", "{}", out.stdout);
    assert!(
        why.contains("refused every look-alike of https://app.example.test"),
        "{why}"
    );
    let (status, why) = verdict(&out.stdout, "cookie-only");
    assert_eq!(status, "pass", "{}", out.stdout);
    assert!(why.contains("403"), "{why}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prefix_allow_list_lets_look_alikes_in_and_an_open_server_takes_the_cookie() {
    let server = Listen::start(&["--origin-allow", "https://app.example.test*"]);
    let out = run(args(&[
        "probe",
        &server.url("/"),
        "-o",
        "https://app.example.test",
        "--only",
        "origin-variants,cookie-only",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let (status, why) = verdict(&out.stdout, "origin-variants");
    assert_eq!(status, "warn", "{}", out.stdout);
    assert!(
        why.contains("https://app.example.test:444 (port)")
            && why.contains("https://app.example.test.probe.wscope.invalid (suffix)"),
        "{why}"
    );
    assert_eq!(
        verdict(&out.stdout, "cookie-only").0,
        "n/a",
        "{}",
        out.stdout
    );
    // Any Origin with the cookie: hijackable.
    let (url, heads) = recording_server().await;
    let out = run(args(&[
        "probe",
        &url,
        "-H",
        "Cookie: session=s3cr3t",
        "--auth",
        "u:p",
        "--only",
        "cookie-only,origin-variants",
    ]))
    .await;
    assert_eq!(out.code, 7, "{}\n{}", out.stdout, out.stderr);
    let (status, why) = verdict(&out.stdout, "cookie-only");
    assert_eq!(status, "fail", "{}", out.stdout);
    assert!(why.contains("cross-site WebSocket hijacking"), "{why}");
    assert_eq!(
        verdict(&out.stdout, "origin-variants").0,
        "n/a",
        "{}",
        out.stdout
    );
    // The cookie-only request carried the cookie and no other credential.
    let heads = heads.lock().unwrap().clone();
    let lone: Vec<&String> = heads
        .iter()
        .filter(|h| h.contains("Origin: https://probe.wscope.invalid\r\n"))
        .collect();
    assert_eq!(
        lone.len(),
        2,
        "the foreign Origin of origin-variants and cookie-only: {heads:?}"
    );
    assert!(
        lone.iter()
            .any(|h| h.contains("Cookie: session=s3cr3t\r\n") && !h.contains("Authorization")),
        "{lone:?}"
    );
}

/// A server that upgrades everything and keeps every request head.
async fn recording_server() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let heads = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = heads.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let mut peek = vec![0u8; 64 * 1024];
            if let Ok(n) = tcp.peek(&mut peek).await {
                kept.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&peek[..n]).into_owned());
            }
            tokio::spawn(serve(tcp, takes_all, |_| String::new()));
        }
    });
    (url, heads)
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
