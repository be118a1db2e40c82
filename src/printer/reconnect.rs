//! The lines of `--reconnect`: one per attempt (stderr or above the prompt, `*` like the other
//! connection lines; a `reconnect` object in --json), and the last word when it stops.

use std::fmt::Write as _;

use colored::Colorize;
use serde_json::json;

use super::escape::Shown;
use super::{json, Printer};
use crate::reconnect::Attempt;

impl Printer {
    pub fn reconnecting(&mut self, a: &Attempt) {
        if self.style.json() {
            let mut m = json::base(self.started, "reconnect");
            m.insert("attempt".into(), a.attempt.into());
            m.insert("max".into(), json!(a.max));
            // To the millisecond: the jitter makes finer digits noise.
            let delay = (a.delay.as_secs_f64() * 1e3).round() / 1e3;
            m.insert("delay_s".into(), json!(delay));
            m.insert("reason".into(), a.reason.clone().into());
            self.write_json(&serde_json::Value::Object(m));
        } else {
            let of = match a.max {
                Some(m) => format!("{} of {m}", a.attempt),
                None => a.attempt.to_string(),
            };
            self.prefix();
            let _ = write!(
                self.line,
                "{} reconnecting in {} (attempt {of}): {}",
                "*".dimmed(),
                crate::error::secs(a.delay),
                Shown(&a.reason)
            );
            self.emit_human();
        }
        crate::event::EventSink::flush(self);
    }

    /// MAX attempts in a row failed; the error that follows is the last one's.
    pub fn gave_up(&mut self, attempts: u32) {
        let s = if attempts == 1 { "" } else { "s" };
        self.aside(&format!(
            "giving up after {attempts} reconnect attempt{s} (--reconnect=N or --reconnect=inf tries longer)"
        ));
    }

    /// A signal, /quit or Ctrl-D between two connections.
    pub fn stopped_reconnecting(&mut self) {
        self.aside("stopped reconnecting");
    }

    fn aside(&mut self, text: &str) {
        if self.style.json() {
            self.note(text);
        } else {
            self.note(&format!("{} {text}", "*".dimmed()));
        }
        crate::event::EventSink::flush(self);
    }
}
