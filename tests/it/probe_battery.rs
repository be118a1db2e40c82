//! `wscope probe`, round 2 (issue 32): the hand-written handshakes, the frame violations and the
//! Origin matrix, each made to pass against a conforming server (`wscope listen`, or a raw server
//! strict where the check needs it) and to fail or warn against one that lets it through.

use wscope::wire::header::Header;

use crate::listen::Server as Listen;
use crate::support::lax::Lax;
use crate::support::raw_ws::{raw_server, recording_server, takes_all};
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
