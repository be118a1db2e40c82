//! Close codes (RFC 6455 §7.4 and the IANA registry): which may be sent on the wire, what each
//! is called, why one may not be sent, and the short names the command language accepts. Every
//! other module asks here: the frame decoder, the command parser, `--close-code`, the printer.

/// Control frames carry at most 125 payload bytes (RFC 6455 §5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;
/// The close payload's first two bytes are the code, leaving 123 for the reason.
pub const MAX_REASON: usize = MAX_CONTROL_PAYLOAD - 2;

/// RFC 6455 7.4: 1005, 1006 and 1015 are reserved for local reporting, and
/// everything below 3000 that is not assigned may not be sent either.
///
/// 1014 is allowed on purpose: IANA registered it ("bad gateway") after RFC 6455, even though
/// some libraries (tungstenite's `is_allowed`) still refuse it.
pub fn may_be_sent(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Name of a close status code (IANA registry plus RFC 6455 ranges).
pub fn name(code: u16) -> &'static str {
    match code {
        1000 => "normal closure",
        1001 => "going away",
        1002 => "protocol error",
        1003 => "unsupported data",
        1005 => "no status received",
        1006 => "abnormal closure",
        1007 => "invalid payload data",
        1008 => "policy violation",
        1009 => "message too big",
        1010 => "mandatory extension",
        1011 => "internal error",
        1012 => "service restart",
        1013 => "try again later",
        1014 => "bad gateway",
        1015 => "TLS handshake failure",
        // Shown inside parentheses (`3001 (registered at IANA)`): no second pair.
        3000..=3999 => "registered at IANA",
        4000..=4999 => "private use",
        _ => "reserved/unassigned",
    }
}

/// Close codes by name, accepted wherever a close code is, and offered by
/// Tab completion. Only codes that may be sent are named.
pub const NAMES: &[(&str, u16)] = &[
    ("normal", 1000),
    ("away", 1001),
    ("protocol", 1002),
    ("unsupported", 1003),
    ("invalid", 1007),
    ("policy", 1008),
    ("too-big", 1009),
    ("extension", 1010),
    ("internal", 1011),
    ("restart", 1012),
    ("try-again", 1013),
    ("bad-gateway", 1014),
];

/// Why `code` may not be sent, in a sentence that cites the RFC.
pub fn refusal(code: u16) -> String {
    let never_sent = |what: &str| {
        format!(
            "close code {code} ({what}) is reserved: it must never be sent on the wire (RFC 6455 §7.4.1)"
        )
    };
    match code {
        0..=999 => format!("close code {code} is not allowed: codes 0-999 are unused (RFC 6455 §7.4.2)"),
        1004 => "close code 1004 is reserved: its meaning is undefined, so it must not be sent (RFC 6455 §7.4.1)".to_owned(),
        1005 => never_sent("no status received"),
        1006 => never_sent("abnormal closure"),
        1015 => never_sent("TLS handshake failure"),
        1016..=2999 => format!(
            "close code {code} is unassigned: 1000-2999 are reserved for the WebSocket protocol and its extensions (RFC 6455 §7.4.2)"
        ),
        5000.. => format!(
            "close code {code} is out of range: the highest usable code is 4999 (RFC 6455 §7.4.2)"
        ),
        _ => format!("close code {code} is allowed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(name(1000), "normal closure");
        assert_eq!(name(1005), "no status received");
        assert_eq!(name(1015), "TLS handshake failure");
        assert_eq!(name(3001), "registered at IANA");
        assert_eq!(name(4999), "private use");
        assert_eq!(name(1004), "reserved/unassigned");
        assert_eq!(name(5000), "reserved/unassigned");
    }

    #[test]
    fn what_may_be_sent() {
        for code in [1000, 1003, 1007, 1014, 3000, 4999] {
            assert!(may_be_sent(code), "{code}");
        }
        for code in [0, 999, 1004, 1005, 1006, 1015, 2999, 5000] {
            assert!(!may_be_sent(code), "{code}");
            assert!(refusal(code).contains("RFC 6455"), "{code}");
        }
        assert!(NAMES.iter().all(|(_, c)| may_be_sent(*c)));
    }
}
