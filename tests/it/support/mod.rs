//! Helpers shared by the integration tests: in-process servers on 127.0.0.1 port 0 (never fixed
//! ports), each owned by one file, and a scrubbed command builder for the real binary.
#![allow(dead_code)]

pub mod h2;
pub mod h2_hostile;
pub mod hostile;
pub mod lax;
pub mod proxies;
pub mod pty;
pub mod restarting;
pub mod servers;

use assert_cmd::assert::Assert;
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

/// What a finished wscope run gave: its exit code and both streams.
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Run wscope with `args` (and `stdin`, if any) off the async runtime, so in-process servers keep
/// running while it does.
pub async fn run_with(args: Vec<String>, stdin: Option<Vec<u8>>) -> Out {
    tokio::task::spawn_blocking(move || {
        let mut cmd = wscope();
        cmd.args(&args);
        if let Some(input) = stdin {
            cmd.write_stdin(input);
        }
        let out = cmd.output().unwrap();
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .unwrap()
}

/// [`run_with`] and no stdin.
pub async fn run(args: Vec<String>) -> Out {
    run_with(args, None).await
}

/// Run wscope off the async runtime and hand back assert_cmd's view, for `.code(..)` assertions.
pub async fn run_assert(args: Vec<String>) -> Assert {
    tokio::task::spawn_blocking(move || wscope().args(args).assert())
        .await
        .unwrap()
}

pub fn stdout(a: &Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).into_owned()
}

pub fn stderr(a: &Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

pub fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Fails the test when one of a test server's tasks panicked. tokio only prints such a panic,
/// and a test could then pass on what the dead server left behind (a dropped connection looks
/// like many a failure wscope is expected to report). Held by the server's handle; the check
/// runs when the last clone of the handle is dropped.
#[derive(Clone, Default)]
pub struct Watchdog {
    panics: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    _check: std::sync::Arc<Check>,
}

#[derive(Default)]
struct Check(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl Watchdog {
    pub fn new() -> Watchdog {
        let panics = std::sync::Arc::default();
        Watchdog {
            _check: std::sync::Arc::new(Check(std::sync::Arc::clone(&panics))),
            panics,
        }
    }

    /// `tokio::spawn`, remembering a panic of `f`.
    pub fn spawn<F>(&self, f: F) -> tokio::task::JoinHandle<()>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        use futures_util::FutureExt;
        let panics = self.panics.clone();
        tokio::spawn(async move {
            if let Err(p) = std::panic::AssertUnwindSafe(f).catch_unwind().await {
                let msg = p
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "(no message)".into());
                panics.lock().unwrap_or_else(|e| e.into_inner()).push(msg);
            }
        })
    }
}

impl Drop for Check {
    fn drop(&mut self) {
        let panics = std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()));
        if !panics.is_empty() && !std::thread::panicking() {
            panic!("a test server panicked: {}", panics.join("; "));
        }
    }
}
