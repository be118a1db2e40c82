//! The shell completions in `completions/` and the man page in `man/` are generated from the clap
//! definition and committed. This test renders them in memory and compares byte for byte, so a flag
//! change cannot ship with stale files. `WSCOPE_REGENERATE=1 cargo test --test generated` rewrites them.

use std::path::PathBuf;

use clap::{CommandFactory, ValueEnum};
use clap_complete::{Generator, Shell};
use wscope::cli::Cli;

use crate::support;

const REGENERATE: &str = "WSCOPE_REGENERATE";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Compare `path` with `expected`, or rewrite it when asked to.
fn check(path: PathBuf, expected: &[u8], stale: &mut Vec<String>) {
    if std::env::var_os(REGENERATE).is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, expected).unwrap();
        return;
    }
    match std::fs::read(&path) {
        Ok(actual) if actual == expected => {}
        Ok(_) => stale.push(format!("{} is out of date", path.display())),
        Err(e) => stale.push(format!("{} cannot be read: {e}", path.display())),
    }
}

fn completion(shell: Shell) -> Vec<u8> {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "wscope", &mut buf);
    buf
}

#[test]
fn committed_completions_and_man_page_are_fresh() {
    let mut stale = Vec::new();
    for shell in Shell::value_variants() {
        let path = root().join("completions").join(shell.file_name("wscope"));
        check(path, &completion(*shell), &mut stale);
    }
    let mut man = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut man)
        .unwrap();
    check(root().join("man").join("wscope.1"), &man, &mut stale);
    assert!(
        stale.is_empty(),
        "{}\nregenerate them with: {REGENERATE}=1 cargo test --test generated",
        stale.join("\n")
    );
}

#[test]
fn completions_subcommand_prints_the_committed_script() {
    let out = support::wscope()
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, completion(Shell::Bash));
    assert!(String::from_utf8_lossy(&out.stdout).contains("--subprotocol"));
}

#[test]
fn short_help_is_short_and_long_help_teaches() {
    let short = support::wscope().arg("-h").output().unwrap();
    let long = support::wscope().arg("--help").output().unwrap();
    let (short, long) = (
        String::from_utf8_lossy(&short.stdout),
        String::from_utf8_lossy(&long.stdout),
    );
    assert!(
        short.lines().count() < long.lines().count() / 2,
        "-h should be much shorter than --help"
    );
    assert!(
        !short.contains("--close-reason"),
        "advanced flags stay out of -h"
    );
    for example in [
        "wscope ws://localhost:8080/chat",
        "-x 'hello' --once",
        "wscope inspect",
        "--dump",
    ] {
        assert!(
            long.contains(example),
            "--help lacks the example {example:?}"
        );
    }
    assert!(long.contains("[possible values: auto, always, never]"));
    assert!(long.contains("[default: 10]"), "defaults are shown");
}
