//! A recording turned into what the engine already takes, so that replay is no second engine:
//! for `wscope replay`, the connection's options (the recorded subprotocols, Origin and headers)
//! and its script (`/text` and `/base64` lines with `/sleep` for the recorded gaps, as `-x` would
//! give them); for `listen --replay`, the server's answers grouped by the client message they
//! follow.

use base64::Engine as _;

use super::recording::Entry;
use crate::error::Result;
use crate::event::DataKind;
use crate::record::headers::REDACTED;

/// Headers never replayed: the handshake's own (made afresh for the new connection), hop-by-hop
/// ones, and those replayed through their own option (Origin, subprotocols).
const NOT_REPLAYED: &[&str] = &[
    "host",
    "connection",
    "upgrade",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "content-length",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
    "sec-websocket-accept",
    "sec-websocket-protocol",
    "origin",
];

/// Add what the recording says to the user's upgrade (`config::add_recorded` checks it): its
/// subprotocols, Origin and headers where the user gave none. Notes say what was left out and why.
pub fn add_recorded(
    entry: &Entry,
    upgrade: &mut crate::handshake::Options,
    har_cookies: bool,
) -> Result<Vec<String>> {
    let mut notes = Vec::new();
    let mut extra = Vec::new();
    for (name, value) in &entry.headers {
        let lower = name.to_ascii_lowercase();
        let wanted = if entry.har {
            lower == "cookie" && har_cookies
        } else {
            !NOT_REPLAYED.contains(&lower.as_str()) && !name.starts_with(':')
        };
        if !wanted || upgrade.headers.contains(name) {
            continue;
        }
        if value == REDACTED {
            let name = crate::printer::escape::escape(name);
            notes.push(format!(
                "note: the recorded {name} header was redacted: not sent (record with \
                 --record-secrets, or give it with -H '{name}: ...')"
            ));
            continue;
        }
        extra.push((name.clone(), value.clone()));
    }
    if entry.har && !har_cookies && entry.header_values("cookie").next().is_some() {
        notes.push("note: the HAR entry's cookies are not sent (--har-cookies sends them)".into());
    }
    let origin = entry.header_values("origin").next().map(String::from);
    crate::config::add_recorded(upgrade, entry.subprotocols(), origin, &extra)?;
    Ok(notes)
}

/// The client's messages as script lines, each after the recorded gap divided by `speed` (no
/// gaps when None: `--fast`).
pub fn client_lines(entry: &Entry, speed: Option<f64>) -> Vec<String> {
    let mut lines = Vec::new();
    let mut prev = entry.opened_at;
    for m in entry.messages.iter().filter(|m| m.from_client) {
        if let (Some(speed), Some(p)) = (speed, prev) {
            // Within what /sleep takes (a broken clock in the file must not make a bad script).
            let gap = ((m.at - p) / speed).clamp(0.0, 1e9);
            if gap >= 0.001 && gap.is_finite() {
                lines.push(format!("/sleep {gap:.3}"));
            }
        }
        prev = Some(m.at);
        lines.push(send_line(m.kind, &m.data));
    }
    lines
}

/// The command that sends exactly `data` as a message of `kind`.
fn send_line(kind: DataKind, data: &[u8]) -> String {
    match (kind, std::str::from_utf8(data)) {
        // `${` would be a script variable: `$${` is a literal one.
        (DataKind::Text, Ok(text)) => format!("/text {}", text.replace("${", "$${")),
        _ => format!(
            "/base64 {}",
            base64::engine::general_purpose::STANDARD.encode(data)
        ),
    }
}

/// A server message to send back.
pub type Answer = (DataKind, Vec<u8>);

/// The server's messages of `entry`: `[k]` are those it sent after the client's k-th message
/// (`[0]`: before any, right after the handshake).
pub fn answers(entry: &Entry) -> Vec<Vec<Answer>> {
    let mut groups = vec![Vec::new()];
    for m in &entry.messages {
        if m.from_client {
            groups.push(Vec::new());
        } else if let Some(last) = groups.last_mut() {
            last.push((m.kind, m.data.clone()));
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::replay::recording::Message;

    fn msg(from_client: bool, text: &str, at: f64) -> Message {
        Message {
            from_client,
            kind: DataKind::Text,
            data: text.as_bytes().to_vec(),
            at,
        }
    }

    fn entry() -> Entry {
        Entry {
            messages: vec![
                msg(false, "welcome", 0.1),
                msg(true, "a ${x}", 0.5),
                msg(false, "ack", 0.6),
                msg(false, "ack2", 0.7),
                msg(true, "b", 1.5),
            ],
            opened_at: Some(0.0),
            headers: vec![
                ("Host".into(), "h".into()),
                ("Origin".into(), "http://o".into()),
                ("Sec-WebSocket-Protocol".into(), "a, b".into()),
                ("Authorization".into(), REDACTED.into()),
                ("X-Custom".into(), "1".into()),
                ("Cookie".into(), "k=v".into()),
            ],
            ..Entry::default()
        }
    }

    #[test]
    fn lines_keep_order_types_and_gaps() {
        let e = entry();
        assert_eq!(
            client_lines(&e, Some(1.0)),
            ["/sleep 0.500", "/text a $${x}", "/sleep 1.000", "/text b"]
        );
        assert_eq!(client_lines(&e, Some(2.0))[0], "/sleep 0.250");
        assert_eq!(client_lines(&e, None), ["/text a $${x}", "/text b"]);
        assert_eq!(send_line(DataKind::Binary, &[0, 1]), "/base64 AAE=");
        let mut odd = e.clone();
        odd.messages[1].at = 1e300;
        odd.messages[4].at = -5.0;
        let lines = client_lines(&odd, Some(1e-6));
        assert_eq!(lines[0], "/sleep 1000000000.000");
        assert_eq!(lines[2], "/text b");
        assert!(crate::script::parse::check(lines.iter().map(String::as_str)).is_ok());
    }

    #[test]
    fn answers_follow_the_client_message_before_them() {
        let a = answers(&entry());
        assert_eq!(a.len(), 3);
        assert_eq!(a[0].len(), 1);
        assert_eq!(a[1].len(), 2);
        assert!(a[2].is_empty());
    }

    #[test]
    fn headers_from_transcripts_and_hars() {
        let mut user = crate::handshake::Options {
            headers: Default::default(),
            subprotocols: Vec::new(),
            require_subprotocol: false,
            origin: None,
            auth: None,
            protocol_version: 13,
            connect_timeout: std::time::Duration::from_secs(10),
            follow_redirects: false,
            max_redirects: 5,
            proxy: crate::dial::ProxyChoice::Off,
            tls: Default::default(),
            deflate: None,
            http2: Default::default(),
            h2_slot: None,
            dump_h2: false,
        };
        user.headers.push("x-custom", "mine");
        let headers = |o: &crate::handshake::Options| -> Vec<String> {
            o.headers.iter().map(|(n, v)| format!("{n}: {v}")).collect()
        };
        let mut c = user.clone();
        let notes = add_recorded(&entry(), &mut c, false).unwrap();
        assert_eq!(c.subprotocols, ["a", "b"]);
        assert_eq!(c.origin.as_deref(), Some("http://o"));
        assert_eq!(headers(&c), ["Cookie: k=v", "x-custom: mine"]);
        assert!(
            notes[0].contains("Authorization header was redacted"),
            "{notes:?}"
        );
        let har = Entry {
            har: true,
            ..entry()
        };
        let mut c = user.clone();
        let notes = add_recorded(&har, &mut c, false).unwrap();
        assert_eq!(headers(&c), ["x-custom: mine"]);
        assert!(notes[0].contains("--har-cookies"));
        let mut c = user.clone();
        add_recorded(&har, &mut c, true).unwrap();
        assert_eq!(headers(&c), ["Cookie: k=v", "x-custom: mine"]);
    }
}
