//! The small things a new user trips over in the first hour (issue 26 items 13 and 15): wording,
//! plurals, parentheses, float noise in --json, hints for slips of the keyboard. Each test runs
//! the real binary and asserts on what the user reads.

use crate::listen::Server as Listen;
use crate::support::{args, run};

/// Every number in a JSON value with more than `max` decimals, as written.
fn noisy_numbers(v: &serde_json::Value, max: usize, found: &mut Vec<String>) {
    match v {
        serde_json::Value::Number(n) => {
            let s = n.to_string();
            if s.split_once('.').is_some_and(|(_, f)| f.len() > max) {
                found.push(s);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| noisy_numbers(x, max, found)),
        serde_json::Value::Object(o) => o.values().for_each(|x| noisy_numbers(x, max, found)),
        _ => {}
    }
}

/// Times in --json are to the microsecond: seconds with at most 6 decimals, milliseconds with 3
/// (`ms`, `rtt_ms`); never `27.386428000000002`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_times_carry_no_float_noise() {
    let server = Listen::start(&["--echo"]);
    let url = server.url("/");
    let connect = run(args(&[
        &url, "--json", "-x", "/ping", "-x", "hi", "-x", "/status", "-w", "0.5",
    ]))
    .await;
    assert_eq!(connect.code, 0, "{}\n{}", connect.stdout, connect.stderr);
    let inspect = run(args(&["inspect", &url, "--json"])).await;
    assert_eq!(inspect.code, 0, "{}\n{}", inspect.stdout, inspect.stderr);
    let mut keys = std::collections::BTreeSet::new();
    for line in connect.stdout.lines().chain(inspect.stdout.lines()) {
        let v: serde_json::Value = serde_json::from_str(line).expect(line);
        let mut noisy = Vec::new();
        noisy_numbers(&v, 6, &mut noisy);
        assert!(noisy.is_empty(), "{noisy:?} in {line}");
        if let Some(o) = v.as_object() {
            for (k, x) in o {
                if k.ends_with("ms") {
                    let mut noisy = Vec::new();
                    noisy_numbers(x, 3, &mut noisy);
                    assert!(noisy.is_empty(), "{k}: {noisy:?} in {line}");
                }
                keys.insert(k.clone());
            }
        }
    }
    for k in ["ms", "rtt_ms", "time", "t", "uptime_s"] {
        assert!(
            keys.contains(k),
            "{k} was not in the output: {}",
            connect.stdout
        );
    }
}

/// No parentheses inside parentheses in a 3xxx close code's name, and "1 check", not "1 checks".
/// (A compressed message's sizes under -v: `printer::tests::sizes_need_no_second_parentheses`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wording_has_no_nested_parentheses_and_counts_in_the_singular() {
    use crate::support::hostile::{self, Hostile, Step};
    let server = Listen::start(&["--echo"]);
    let url = server.url("/");
    let closing = Hostile::start(vec![Step::Send(hostile::close(3001, "bye"))]).await;
    let o = run(args(&[&closing.url, "-w", "inf"])).await;
    assert!(
        o.stderr.contains("3001 (registered at IANA)"),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("))"), "{}", o.stderr);

    let o = run(args(&["probe", &url, "--only", "ping"])).await;
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("\n1 check: 1 pass"), "{}", o.stdout);
}

/// The connect banner fits a terminal: the URL, subprotocol and extension names on the first
/// line, what deflate settled on an indented line of its own (it made one 150-column line).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connect_banner_does_not_wrap() {
    let server = Listen::start(&["--echo"]);
    let url = server.url("/");
    let o = run(args(&[&url, "-x", "hi", "--once"])).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let mut lines = o.stderr.lines().skip_while(|l| l.starts_with("note:"));
    let first = lines.next().unwrap_or("");
    assert!(first.starts_with("connected to"), "{}", o.stderr);
    assert!(first.contains("permessage-deflate"), "{first}");
    let detail = lines.next().unwrap_or("");
    assert!(detail.starts_with("  deflate: "), "{}", o.stderr);
    assert!(detail.contains("15-bit window"), "{detail}");
    for line in [first, detail] {
        assert!(
            line.chars().count() <= 100,
            "{} columns: {line}",
            line.len()
        );
    }
}

/// --count not reached because wscope's own --idle (or -w) ended the session names that flag,
/// not "the connection ended" (the server did nothing wrong).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_count_cut_short_by_our_own_wait_names_the_flag() {
    let server = Listen::start(&["--echo"]);
    let url = server.url("/");
    for (flag, value) in [("--idle", "0.3"), ("-w", "0.3")] {
        let o = run(args(&[&url, "-x", "hi", "--count", "3", flag, value])).await;
        assert_eq!(o.code, 7, "{}", o.stderr);
        let error = o
            .stderr
            .lines()
            .find(|l| l.starts_with("error:"))
            .unwrap_or("");
        assert!(
            error.contains(&format!("got 1 before {flag} ended the session")),
            "{}",
            o.stderr
        );
        assert!(o.stderr.contains("hint:"), "{}", o.stderr);
    }
}

/// inspect shows what deflate settled once (its check line), not twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_shows_the_deflate_parameters_once() {
    let server = Listen::start(&["--echo"]);
    let o = run(args(&["inspect", &server.url("/")])).await;
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    let all = format!("{}{}", o.stdout, o.stderr);
    let n = all.lines().filter(|l| l.contains("15-bit window")).count();
    assert_eq!(n, 1, "{all}");
}
