//! Ctrl-C and SIGTERM, the one owner of the process's signals. `lib.rs` installs them once, for
//! the commands that stop gracefully (connect, replay, listen), and passes the [`Shutdown`] handle
//! in (mini-redis's `run(listener, shutdown)`): sessions, the reconnect wait and `listen`'s hub
//! await it in their loops. The first signal starts the close and a budget
//! ([`BUDGET`], SPEC "Pipe mode"): every wait on the way out is cut to it ([`until`]). A second
//! signal ends the process at once, through the function `lib.rs` gave (nothing below `lib.rs`
//! exits the process).

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;

/// From the first signal to the end of the process, at most (SPEC: within 1.5 s, whatever the
/// peer and stdout do); a little is kept for the process's own exit.
pub const BUDGET: Duration = Duration::from_millis(1250);
/// How long the peer gets to answer our close after a signal.
pub const CLOSE_AFTER_SIGNAL: Duration = Duration::from_secs(1);

/// Which signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sig {
    Int,
    Term,
}

impl Sig {
    /// The exit code of a process this signal stopped (128 + its number, as shells report it).
    pub fn exit_code(self) -> u8 {
        match self {
            Sig::Int => 130,
            Sig::Term => 143,
        }
    }
}

/// The first signal and when it came.
static FIRST: OnceLock<(Sig, Instant)> = OnceLock::new();

/// A handle on the process's signals; cheap to clone. [`Shutdown::none`] never fires (a listen
/// client, whom the server closes itself).
#[derive(Debug, Clone)]
pub struct Shutdown(Option<watch::Receiver<u32>>);

impl Shutdown {
    /// Catch SIGINT and SIGTERM from now on (within a runtime). `second` is called on the second
    /// signal and does not return: it ends the process.
    pub fn install(second: fn(Sig)) -> Shutdown {
        let (Ok(mut int), Ok(mut term)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            // The default disposition stays: a signal still ends the process.
            return Shutdown::none();
        };
        let (tx, rx) = watch::channel(0u32);
        tokio::spawn(async move {
            let mut count = 0u32;
            loop {
                let sig = tokio::select! {
                    _ = int.recv() => Sig::Int,
                    _ = term.recv() => Sig::Term,
                };
                count += 1;
                if FIRST.set((sig, Instant::now())).is_err() {
                    second(sig);
                }
                let _ = tx.send(count);
            }
        });
        Shutdown(Some(rx))
    }

    /// A handle that never fires.
    pub fn none() -> Shutdown {
        Shutdown(None)
    }

    /// The next signal (one this handle has not seen yet). Pending for ever on [`Shutdown::none`].
    pub async fn recv(&mut self) {
        match &mut self.0 {
            Some(rx) => {
                if rx.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
            None => std::future::pending().await,
        }
    }
}

/// The first signal, if one came.
pub fn signalled() -> Option<Sig> {
    FIRST.get().map(|f| f.0)
}

/// When a wait of `grace` from now must end: `grace` from now, cut to the signal's budget once a
/// signal came.
pub fn until(grace: Duration) -> Instant {
    cut(Instant::now() + grace)
}

/// `deadline`, or the end of the signal's budget if that comes first.
pub fn cut(deadline: Instant) -> Instant {
    match FIRST.get() {
        Some((_, at)) => deadline.min(*at + BUDGET),
        None => deadline,
    }
}

/// Give SIGINT and SIGTERM back their default (ending the process): for the last writes at the
/// end, when no loop listens any more and a reader that never reads could hold us for ever.
pub fn restore_defaults() {
    // SAFETY: resetting two signals to their default disposition; no handler code is involved.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_DFL);
        libc::signal(libc::SIGTERM, libc::SIG_DFL);
    }
}
