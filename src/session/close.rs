//! The close handshake as far as it has gone (RFC 6455 §7): our close frame, the peer's, and
//! when each went. One value instead of six fields, so "who closed first" and "since when are we
//! closing" are answered in one place.

use std::time::Instant;

/// The close frame we sent.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ours {
    pub code: u16,
    pub at: Instant,
}

/// The close frame the peer sent (its code as it was on the wire, when it had one).
#[derive(Debug, Clone)]
pub(super) struct Theirs {
    pub code: Option<u16>,
    pub reason: String,
    pub at: Instant,
}

#[derive(Debug, Default)]
pub(super) struct CloseState {
    ours: Option<Ours>,
    theirs: Option<Theirs>,
}

impl CloseState {
    /// We sent a close frame. (Never after the peer's: tungstenite answers that one itself.)
    pub fn we_closed(&mut self, code: u16) {
        self.ours.get_or_insert(Ours {
            code,
            at: Instant::now(),
        });
    }

    pub fn peer_closed(&mut self, code: Option<u16>, reason: String) {
        self.theirs.get_or_insert(Theirs {
            code,
            reason,
            at: Instant::now(),
        });
    }

    /// We sent a close frame of our own.
    pub fn we_sent(&self) -> bool {
        self.ours.is_some()
    }

    pub fn peer_sent(&self) -> bool {
        self.theirs.is_some()
    }

    /// The code of the close frame we sent.
    pub fn code_sent(&self) -> Option<u16> {
        self.ours.map(|o| o.code)
    }

    pub fn theirs(&self) -> Option<&Theirs> {
        self.theirs.as_ref()
    }

    /// The peer's close frame came before any of ours: it started the handshake.
    pub fn peer_first(&self) -> bool {
        match (&self.ours, &self.theirs) {
            (None, Some(_)) => true,
            (Some(o), Some(t)) => t.at < o.at,
            _ => false,
        }
    }

    /// When the close handshake began, by either side.
    pub fn begun_at(&self) -> Option<Instant> {
        let ours = self.ours.map(|o| o.at);
        let theirs = self.theirs.as_ref().map(|t| t.at);
        match (ours, theirs) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_began_and_when() {
        let mut c = CloseState::default();
        assert!(c.begun_at().is_none() && !c.peer_first());
        c.peer_closed(Some(1001), "bye".into());
        assert!(c.peer_first() && !c.we_sent());
        let began = c.begun_at();
        c.we_closed(1000);
        assert!(c.peer_first(), "the peer's came first");
        assert_eq!(c.begun_at(), began);
        assert_eq!(c.code_sent(), Some(1000));

        let mut c = CloseState::default();
        c.we_closed(4000);
        c.we_closed(1000);
        assert_eq!(
            c.code_sent(),
            Some(4000),
            "the first close frame is the one sent"
        );
        c.peer_closed(None, String::new());
        assert!(!c.peer_first());
    }
}
