//! Helpers shared by the integration tests: in-process servers on 127.0.0.1 port 0 (never fixed
//! ports), each owned by one file, and a scrubbed command builder for the real binary.
#![allow(dead_code)]

pub mod hostile;
pub mod proxies;
pub mod servers;

use assert_cmd::Command;

/// The wscope binary with a scrubbed environment: no colour, no proxies, no user history.
pub fn wscope() -> Command {
    let mut c = Command::cargo_bin("wscope").expect("wscope binary is built by cargo test");
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "no_proxy",
        "NO_COLOR",
        "CLICOLOR_FORCE",
    ] {
        c.env_remove(var);
    }
    c.env("NO_COLOR", "1");
    c.timeout(std::time::Duration::from_secs(30));
    c
}
