//! How a connection ended and what that means for the exit code: the close handshake, a read
//! error (and the close code RFC 6455 asks for), or a dropped connection.

use super::*;

/// Exit status of a connection that ended without a local failure (SPEC.md "Exit codes").
pub(super) fn judge(e: &Ending) -> Result<()> {
    match (e.closer, e.code) {
        (Closer::Us, _) if e.clean => Ok(()),
        (Closer::Server, Some(1000 | 1001)) => Ok(()),
        (Closer::Server, code) => Err(Error::Protocol {
            message: match code {
                Some(c) => format!(
                    "the server closed with {c} ({}){}{}",
                    crate::frame::close_code_name(c),
                    if crate::command::check_close_code(c).is_err() {
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
                None => "the server closed without a status code (1005)".into(),
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
            hint: None,
        }),
    }
}

impl Loop<'_> {
    /// The stream ended: after a close handshake, or abruptly.
    pub(super) fn ended_by_eof(&mut self) -> Ending {
        match &self.server_close {
            Some((code, reason)) => Ending {
                // Whoever sent the first close frame started the handshake.
                closer: if self.server_closed_first {
                    Closer::Server
                } else {
                    Closer::Us
                },
                code: *code,
                reason: reason.clone(),
                clean: true,
            },
            // We closed (after a protocol error, say) and the stream ended before the answer:
            // ours is the close to report, not a lost connection.
            None if self.close_sent => Ending {
                closer: Closer::Us,
                code: self.close_code_sent,
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
            WsError::Io(io) => crate::inbound::invalid_utf8(io),
            _ => None,
        };
        // Reserved bits (or an HTTP response where frames were due) are named by the watch too;
        // tungstenite's own error for them, from the handshake's leftover bytes, only says
        // "reserved bits".
        let unexpected = match &e {
            WsError::Io(io) => crate::inbound::unexpected(io),
            WsError::Protocol(ProtocolError::NonZeroReservedBits) => {
                self.opts.wire.as_ref().and_then(|w| w.unexpected())
            }
            _ => None,
        };
        let (code, what) = match &e {
            _ if watched.is_some() => (1007, watched.map(|w| w.to_string()).unwrap_or_default()),
            _ if unexpected.is_some() => (1002, unexpected.map(|u| u.to_string()).unwrap_or_default()),
            // After a clean close, bytes the server still sends change nothing about the ending.
            WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake | ProtocolError::ReceivedAfterClosing)
            | WsError::Io(_)
            | WsError::ConnectionClosed
            | WsError::AlreadyClosed => {
                return Some(if self.server_close.is_some() {
                    self.ended_by_eof()
                } else if self.close_sent {
                    self.failure.get_or_insert_with(|| Error::protocol("the server dropped the connection instead of answering our close frame (1006 abnormal closure)"));
                    Ending { closer: Closer::Us, code: None, reason: String::new(), clean: false }
                } else {
                    Ending { closer: Closer::Nobody, code: None, reason: String::new(), clean: false }
                });
            }
            WsError::Utf8(_) => (
                1007,
                self.opts.wire.as_ref().and_then(|w| w.invalid_utf8()).map_or_else(
                    || "the server sent a text message or close reason that is not valid UTF-8".to_string(),
                    |what| what.to_string(),
                ),
            ),
            WsError::Capacity(CapacityError::MessageTooLong { size, max_size }) => (
                1009,
                format!("the server sent a message of {size} bytes, over the limit of {max_size} (--max-message-size)"),
            ),
            WsError::Capacity(c) => (1009, format!("the server sent too much: {c} (--max-message-size)")),
            WsError::Protocol(p) => (1002, format!("the server broke the WebSocket protocol: {p}")),
            other => (1002, format!("reading from the server failed: {other}")),
        };
        let hint = (code == 1009).then(|| "raise --max-message-size BYTES".to_string());
        self.failure.get_or_insert(Error::Protocol {
            message: what.clone(),
            hint,
        });
        self.input_open = false;
        if self.close_sent {
            return Some(Ending {
                closer: Closer::Us,
                code: Some(code),
                reason: what,
                clean: false,
            });
        }
        let reason = match code {
            1007 => "invalid UTF-8",
            1009 => "message too big",
            _ => "protocol error",
        };
        self.begin_close(Some((code, reason.to_string())), sink)
            .await;
        None
    }
}
