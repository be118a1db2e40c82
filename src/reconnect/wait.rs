//! What happens while no connection is open (`--reconnect`): the wait before an attempt and the
//! attempt's dial. Ctrl-C and SIGTERM (the [`crate::shutdown::Shutdown`] the loop was given) stop at once; in the REPL a typed line is answered "not
//! connected" (not queued for later), and /quit, /close or Ctrl-D stop reconnecting.

use std::future::Future;
use std::time::Instant;

use crate::event::{Event, EventSink};
use crate::session::Input;
use crate::slash::{self, Command};

use super::Io;

/// Run `fut` (a delay, a dial) unless the user stops first: None then. `until`: when the next
/// attempt begins, for the answer to a typed line (None: it is under way).
pub async fn unless_stopped<T>(
    fut: impl Future<Output = T>,
    io: &mut Io<'_>,
    until: Option<Instant>,
) -> Option<T> {
    tokio::pin!(fut);
    let repl = io.repl.is_some();
    loop {
        tokio::select! {
            t = &mut fut => return Some(t),
            () = io.shutdown.recv() => return None,
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
