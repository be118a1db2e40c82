//! How a connection ended and what that means for the exit code: the close handshake, a read
//! error (and the close code RFC 6455 asks for), or a dropped connection.

use super::*;

/// Exit status of a connection that ended without a local failure (SPEC.md "Exit codes").
pub(super) fn judge(e: &Ending, role: super::Role) -> Result<()> {
    let peer = role.peer();
    match (e.closer, e.code) {
        (Closer::Us, _) if e.clean => Ok(()),
        (Closer::Peer, Some(1000 | 1001)) => Ok(()),
        (Closer::Peer, code) => Err(Error::Protocol {
            message: match code {
                Some(c) => format!(
                    "the {peer} closed with {c} ({}){}{}",
                    crate::wire::close::name(c),
                    if !crate::wire::close::may_be_sent(c) {
                        ", a code that may never be sent on the wire"
                    } else {
                        ""
                    },
                    if e.reason.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", e.reason)
                    }
                ),
                None => format!("the {peer} closed without a status code (1005)"),
            },
            // tungstenite replaces a code that may not be sent (1005 on the wire, say) with this
            // exact frame before we see it, so the code above may not be what the server sent.
            hint: (code == Some(1002) && e.reason == "Protocol violation").then(|| {
                "a close code that may never be sent (such as 1005) is also reported this way; \
                 --dump shows the code that was on the wire"
                    .into()
            }),
        }),
        _ => Err(Error::Protocol {
            message: "the connection was dropped without a close handshake (1006 abnormal closure)"
                .into(),
            // Proxies and load balancers drop connections that look idle (haproxy's `timeout
            // tunnel`, say): pings keep one alive, and --reconnect dials again.
            hint: Some(
                "if a proxy drops idle connections, --ping-interval SECS keeps this one alive; \
                 --reconnect dials again when it drops"
                    .into(),
            ),
        }),
    }
}

/// The words of a read error raised with a reason by the stream below (`dial::h2stream`'s reset
/// and GOAWAY errors), not an OS error's.
fn transport_said(e: &WsError) -> Option<String> {
    match e {
        WsError::Io(io) if io.kind() == std::io::ErrorKind::ConnectionReset => {
            io.get_ref().map(|inner| inner.to_string())
        }
        _ => None,
    }
}

/// What the inbound watch found invalid, naming the peer that sent it.
/// `at`: where in that text (0-based) the first invalid byte was, when the watch knows.
fn invalid_utf8_text(what: crate::wire::guard::InvalidUtf8, at: Option<u64>, peer: &str) -> String {
    let text = match what {
        crate::wire::guard::InvalidUtf8::TextMessage => "text message",
        crate::wire::guard::InvalidUtf8::CloseReason => "close reason",
    };
    let at = at.map(|n| format!(" at byte {n}")).unwrap_or_default();
    format!("the {peer} sent a {text} that is not valid UTF-8{at}")
}

impl Loop<'_> {
    /// When the close handshake began, by either side.
    pub(super) fn close_begun_at(&self) -> Option<Instant> {
        self.close.begun_at()
    }

    pub(super) fn close_begun(&self) -> bool {
        self.close_begun_at().is_some()
    }

    /// The close handshake ran out of time.
    /// `held`: our own output was backed up, so reads were paused and the peer's answer may be
    /// sitting unread: say so rather than blame the peer.
    pub(super) fn on_close_deadline(&mut self, held: bool) -> Ending {
        if self.close.peer_sent() {
            // Both close frames went (ours is tungstenite's answer): only the peer's TCP close
            // is missing, and it may keep that open as long as it likes. We go.
            return self.ended_by_eof();
        }
        let peer = self.opts.role.peer();
        let wait = crate::error::secs(self.close_wait);
        self.failure.get_or_insert_with(|| {
            let message = if held {
                format!(
                    "the {peer}'s answer to our close frame could not be read within {wait}: our \
                     output is blocked (nothing reads stdout, or the --record file)"
                )
            } else {
                format!("the {peer} did not answer our close frame within {wait}")
            };
            Error::Protocol {
                message,
                hint: None,
            }
        });
        Ending {
            closer: Closer::Us,
            code: self.close.code_sent(),
            reason: String::new(),
            clean: false,
        }
    }

    /// `--once`/`--count N`: were that many messages received?
    pub(super) fn count_reached(&self) -> Result<()> {
        let Some(want) = self.data_limit() else {
            return Ok(());
        };
        if self.received_data >= want {
            return Ok(());
        }
        let got = self.received_data;
        let flag = if self.opts.once { "--once" } else { "--count" };
        let plural = if want == 1 { "" } else { "s" };
        // Our own wait ended it, not the server: say which flag, and how to wait longer.
        if let Some(wait) = self.ended_by_wait {
            return Err(Error::Expectation {
                message: format!(
                    "expected {want} message{plural} ({flag}), got {got} before {wait} ended the session"
                ),
                hint: Some(format!(
                    "wait longer with a larger {wait} SECS (-w inf waits for the server's close)"
                )),
            });
        }
        Err(Error::Expectation {
            message: format!(
                "expected {want} message{plural} ({flag}), got {got} before the connection ended"
            ),
            hint: None,
        })
    }

    /// How many data messages to receive before closing (`--once`, `--count`).
    pub(super) fn data_limit(&self) -> Option<u64> {
        if self.opts.once {
            Some(1)
        } else {
            self.opts.count
        }
    }

    /// The stream ended: after a close handshake, or abruptly.
    pub(super) fn ended_by_eof(&mut self) -> Ending {
        match self.close.theirs() {
            Some(theirs) => Ending {
                // Whoever sent the first close frame started the handshake.
                closer: if self.close.peer_first() {
                    Closer::Peer
                } else {
                    Closer::Us
                },
                code: theirs.code,
                reason: theirs.reason.clone(),
                // A code that may never be sent makes it the peer's protocol error.
                clean: theirs.code.is_none_or(crate::wire::close::may_be_sent),
            },
            // We closed (after a protocol error, say) and the stream ended before the answer:
            // ours is the close to report, not a lost connection.
            None if self.close.we_sent() => Ending {
                closer: Closer::Us,
                code: self.close.code_sent(),
                reason: String::new(),
                clean: false,
            },
            None => Ending {
                closer: Closer::Nobody,
                code: None,
                reason: String::new(),
                clean: false,
            },
        }
    }

    /// The peer broke a rule: remember why (the first reason wins) and stop taking input.
    fn fail(&mut self, code: u16, what: String) {
        let hint = (code == 1009).then(|| "raise --max-message-size BYTES".to_string());
        self.failure.get_or_insert(Error::Protocol {
            message: what,
            hint,
        });
        self.input_open = false;
    }

    /// The guard below the library dropped a message over the limit: close with 1009. The stream
    /// is still in step, so the close handshake runs as usual.
    pub(super) async fn on_too_big(
        &mut self,
        t: crate::wire::guard::TooBig,
        sink: &mut dyn EventSink,
    ) {
        let peer = self.opts.role.peer();
        self.fail(
            1009,
            format!("the {peer} sent too much: {t} (--max-message-size)"),
        );
        let reason = close_reason(1009, &t.to_string(), peer);
        self.begin_close(Some((1009, reason)), sink).await;
    }

    /// A read failed: a protocol violation by the server, a message too big, or a dropped connection.
    pub(super) async fn on_read_error(
        &mut self,
        e: WsError,
        sink: &mut dyn EventSink,
    ) -> Option<Ending> {
        // Invalid UTF-8 is caught by the watch below tungstenite, whose error says which text it
        // was, or by tungstenite first, in bytes that came with the handshake response: then the
        // watch still knows (see the Utf8 arm).
        let watched = match &e {
            WsError::Io(io) => crate::wire::guard::invalid_utf8(io),
            _ => None,
        };
        let peer = self.opts.role.peer();
        let at = self.opts.wire.as_ref().and_then(|w| w.invalid_at());
        // Reserved bits (or an HTTP response where frames were due) are named by the watch too;
        // tungstenite's own error for them, from the handshake's leftover bytes, only says
        // "reserved bits".
        let unexpected = match &e {
            WsError::Io(io) => crate::wire::guard::unexpected(io),
            WsError::Protocol(ProtocolError::NonZeroReservedBits) => {
                self.opts.wire.as_ref().and_then(|w| w.unexpected())
            }
            _ => None,
        };
        let (code, what) = match &e {
            _ if watched.is_some() => (1007, watched.map(|w| invalid_utf8_text(w, at, peer)).unwrap_or_default()),
            _ if unexpected.is_some() => (1002, unexpected.map(|u| u.describe(peer)).unwrap_or_default()),
            // After a clean close, bytes the server still sends change nothing about the ending.
            WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake | ProtocolError::ReceivedAfterClosing)
            | WsError::Io(_)
            | WsError::ConnectionClosed
            | WsError::AlreadyClosed => {
                return Some(if self.close.peer_sent() {
                    self.ended_by_eof()
                } else if self.close.we_sent() {
                    self.failure.get_or_insert_with(|| Error::protocol(format!("the {peer} dropped the connection instead of answering our close frame (1006 abnormal closure)")));
                    Ending { closer: Closer::Us, code: None, reason: String::new(), clean: false }
                } else {
                    // A transport that knows why it ended says so (an HTTP/2 RST_STREAM or GOAWAY).
                    if let Some(why) = transport_said(&e) {
                        self.failure.get_or_insert_with(|| Error::protocol(format!("the connection to the {peer} ended: {why} (1006 abnormal closure)")));
                    }
                    Ending { closer: Closer::Nobody, code: None, reason: String::new(), clean: false }
                });
            }
            WsError::Utf8(_) => (
                1007,
                self.opts.wire.as_ref().and_then(|w| w.invalid_utf8()).map_or_else(
                    || format!("the {peer} sent a text message or close reason that is not valid UTF-8"),
                    |what| invalid_utf8_text(what, at, peer),
                ),
            ),
            WsError::Capacity(CapacityError::MessageTooLong { size, max_size }) => (
                1009,
                format!("the {peer} sent too much: a message of {size} bytes, over the limit of {max_size} (--max-message-size)"),
            ),
            WsError::Capacity(c) => (1009, format!("the {peer} sent too much: {c} (--max-message-size)")),
            WsError::Protocol(p) => (1002, format!("the {peer} broke the WebSocket protocol: {p}")),
            other => (1002, format!("reading from the {peer} failed: {other}")),
        };
        self.fail(code, what.clone());
        if self.close.we_sent() {
            return Some(Ending {
                closer: Closer::Us,
                code: Some(code),
                reason: what,
                clean: false,
            });
        }
        let reason = close_reason(code, &what, peer);
        self.begin_close(Some((code, reason)), sink).await;
        None
    }
}

/// The reason our close frame carries after the peer broke a rule: the kind (`protocol error`,
/// `invalid UTF-8`, `message too big`) and the cause the log names, without the words that only
/// make sense to our user (who sent it, which flag), cut to the 123 bytes a reason may hold.
pub(super) fn close_reason(code: u16, what: &str, peer: &str) -> String {
    let kind = match code {
        1007 => "invalid UTF-8",
        1009 => "message too big",
        _ => "protocol error",
    };
    let mut cause = what;
    for prefix in [
        format!("the {peer} broke the WebSocket protocol: "),
        format!("the {peer} sent too much: "),
        format!("the {peer} sent "),
        format!("the {peer} "),
    ] {
        if let Some(rest) = cause.strip_prefix(prefix.as_str()) {
            cause = rest;
            break;
        }
    }
    let cause = cause.trim_end_matches(" (--max-message-size)");
    // "a text message that is not valid UTF-8" says the kind again: keep what it is about.
    let cause = cause.replacen(" that is not valid UTF-8", "", 1);
    // A text message's offset is the whole story: "invalid UTF-8 at byte 12".
    let at = cause.strip_prefix("a text message at byte ");
    let reason = if let Some(at) = at {
        format!("{kind} at byte {at}")
    } else if cause.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {cause}")
    };
    let mut end = reason.len().min(crate::wire::close::MAX_REASON);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::close_reason;

    #[test]
    fn a_close_reason_names_the_cause_within_123_bytes() {
        assert_eq!(
            close_reason(1009, "the client sent too much: a message of 100 bytes, over the limit of 16 (--max-message-size)", "client"),
            "message too big: a message of 100 bytes, over the limit of 16"
        );
        assert_eq!(
            close_reason(
                1007,
                "the client sent a text message that is not valid UTF-8",
                "client"
            ),
            "invalid UTF-8: a text message"
        );
        assert_eq!(
            close_reason(
                1007,
                "the client sent a text message that is not valid UTF-8 at byte 12",
                "client"
            ),
            "invalid UTF-8 at byte 12"
        );
        assert_eq!(
            close_reason(
                1007,
                "the server sent a close reason that is not valid UTF-8 at byte 3",
                "server"
            ),
            "invalid UTF-8: a close reason at byte 3"
        );
        let long = format!(
            "the client broke the WebSocket protocol: {}",
            "é".repeat(100)
        );
        let r = close_reason(1002, &long, "client");
        assert!(r.len() <= 123 && r.starts_with("protocol error: é"), "{r}");
    }
}
