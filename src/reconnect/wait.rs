//! What happens while no connection is open (`--reconnect`): the wait before an attempt and the
//! attempt's dial. Ctrl-C and SIGTERM stop at once; in the REPL a typed line is answered "not
//! connected" (not queued for later), and /quit, /close or Ctrl-D stop reconnecting.

use std::future::Future;
use std::time::Instant;

use tokio::signal::unix::SignalKind;

use crate::event::{Event, EventSink};
use crate::session::{self, Input, SignalStream};
use crate::slash::{self, Command};

use super::Io;

/// Ctrl-C and SIGTERM, listened to from the first attempt on: once tokio handles a signal it
/// no longer kills the process, so every wait must watch for it.
pub struct Signals {
    int: SignalStream,
    term: SignalStream,
}

impl Signals {
    pub fn new() -> Signals {
        Signals {
            int: session::signal_stream(SignalKind::interrupt()),
            term: session::signal_stream(SignalKind::terminate()),
        }
    }

    async fn recv(&mut self) {
        tokio::select! {
            () = self.int.recv() => {}
            () = self.term.recv() => {}
        }
    }
}

/// Run `fut` (a delay, a dial) unless the user stops first: None then. `until`: when the next
/// attempt begins, for the answer to a typed line (None: it is under way).
pub async fn unless_stopped<T>(
    fut: impl Future<Output = T>,
    io: &mut Io<'_>,
    signals: &mut Signals,
    until: Option<Instant>,
) -> Option<T> {
    tokio::pin!(fut);
    let repl = io.repl.is_some();
    loop {
        tokio::select! {
            t = &mut fut => return Some(t),
            () = signals.recv() => {
                session::mark_signalled();
                return None;
            }
            line = io.feed.channel().recv(), if repl => match line {
                None => return None,
                Some(Input::Line(l) | Input::Typed(l)) if stops(&l) => return None,
                Some(_) => not_connected(io, until),
            },
        }
    }
}

/// A line that ends the REPL's session also ends the reconnecting.
fn stops(line: &str) -> bool {
    matches!(
        slash::parse(line),
        Ok(Command::Quit | Command::Close { .. })
    )
}

fn not_connected(io: &mut Io<'_>, until: Option<Instant>) {
    let when = match until {
        Some(t) => format!(
            "reconnecting in {}",
            crate::error::secs(t.saturating_duration_since(Instant::now()))
        ),
        None => "connecting".into(),
    };
    let message = format!("not connected ({when}): the line was not sent");
    io.printer.event(Event::Refused {
        message: &message,
        hint: Some("type it again once connected; /quit stops reconnecting"),
    });
    io.printer.flush();
}
