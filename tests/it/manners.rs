//! The manners a newcomer from wscat expects: its spellings (`-l8080`, `--listen=8080`,
//! `--no-color`, `--slash`), a typo of a command named as one instead of looked up as a host, and
//! listen's address errors that show the right form.

use crate::support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use support::{stderr, wscope};

/// Start wscope with `args` (a listen), return the first line it printed on stderr, then kill it.
fn first_line_of_listen(args: &[&str]) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wscope"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let err = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(err).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(20)).unwrap_or_default();
    let _ = child.kill();
    let _ = child.wait();
    line
}

#[test]
fn wscat_listen_spellings_start_the_server() {
    for args in [
        &["-l0"][..],
        &["--listen=0"],
        &["-l", "0"],
        &["-l127.0.0.1:0"],
    ] {
        let line = first_line_of_listen(args);
        assert!(
            line.contains("listening on ws://127.0.0.1:"),
            "{args:?}: {line}"
        );
    }
}

/// A port nothing listens on: connecting fails at once.
fn closed_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    format!("ws://127.0.0.1:{port}/")
}

#[test]
fn no_color_and_slash_are_accepted() {
    let url = closed_port();
    let a = wscope()
        .args([&url, "--no-color"])
        .env_remove("NO_COLOR")
        .assert()
        .code(3);
    assert!(!stderr(&a).contains('\x1b'), "{:?}", stderr(&a));
    // --no-color wins over an earlier --color always, as the last word does.
    let a = wscope()
        .args([&url, "--color", "always", "--no-color"])
        .assert()
        .code(3);
    assert!(!stderr(&a).contains('\x1b'), "{:?}", stderr(&a));
    let a = wscope().args([&url, "--slash"]).assert().code(3);
    assert!(stderr(&a).contains("cannot connect"), "{}", stderr(&a));
    let a = wscope()
        .args(["inspect", &url, "--no-color"])
        .assert()
        .code(3);
    assert!(!stderr(&a).contains('\x1b'), "{:?}", stderr(&a));
}

/// Run wscope with every proxy variable pointing at a listener that counts connections: whatever
/// wscope would dial (a host, a DNS-free proxy hop) shows up there.
fn without_traffic(args: &[&str]) -> String {
    let trap = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    trap.set_nonblocking(true).unwrap();
    let proxy = format!("http://{}", trap.local_addr().unwrap());
    let a = wscope()
        .args(args)
        .env("ALL_PROXY", &proxy)
        .env("HTTP_PROXY", &proxy)
        .env("HTTPS_PROXY", &proxy)
        .assert();
    let err = stderr(&a);
    a.code(2);
    assert!(
        trap.accept().is_err(),
        "{args:?} connected somewhere:\n{err}"
    );
    err
}

#[test]
fn a_mistyped_command_is_a_usage_error_not_a_host_name() {
    for (typo, meant) in [
        (&["lisen", "8080"][..], "listen"),
        (&["inpsect", "ws://127.0.0.1:9/"], "inspect"),
        (&["complitions", "bash"], "completions"),
        (&["lisen"], "listen"),
    ] {
        let err = without_traffic(typo);
        let line = err.lines().find(|l| l.starts_with("error:")).unwrap_or("");
        assert!(line.contains(&format!("'{}'", typo[0])), "{err}");
        assert!(err.contains(&format!("did you mean '{meant}'")), "{err}");
        assert!(
            err.contains(&format!("ws://{}", typo[0])),
            "the hint says how to reach a host of that name: {err}"
        );
    }
    let err = without_traffic(&["man"]);
    assert!(err.contains("man wscope"), "{err}");
    assert!(err.contains("--help"), "{err}");
}

#[test]
fn host_names_and_urls_are_still_connected_to() {
    // Nothing close to a command: a connect, as before (and it fails to connect, exit 3).
    for url in [
        closed_port(),
        closed_port().trim_start_matches("ws://").to_string(),
    ] {
        wscope().arg(&url).assert().code(3);
    }
}

#[test]
fn listen_on_a_bare_ipv6_address_suggests_brackets() {
    for args in [&["listen", "::1:8080"][..], &["-l", "::1:8080"]] {
        let a = wscope().args(args).assert();
        let err = stderr(&a);
        a.code(2);
        assert!(err.contains("[::1]:8080"), "{args:?}: {err}");
    }
}
