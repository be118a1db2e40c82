//! The request headers of a recording: as the handshake sent or read them, with the values
//! of credentials (Authorization, Cookie, Proxy-Authorization) replaced by [`REDACTED`] unless
//! `--record-secrets`, so a transcript can be shared without the session's secrets.

use serde_json::{json, Value};

use crate::http::Headers;

/// What a secret header's value becomes in a transcript.
pub const REDACTED: &str = "[redacted]";

/// Headers whose values are credentials.
const SECRETS: &[&str] = &["authorization", "cookie", "proxy-authorization"];

/// True for a header whose value is a credential.
pub fn is_secret(name: &str) -> bool {
    SECRETS.iter().any(|s| s.eq_ignore_ascii_case(name))
}

/// The headers as the transcript's `headers` array (`[{"name", "value"}]`, HAR's shape), secrets
/// redacted unless `secrets`.
pub fn to_json(headers: &Headers, secrets: bool) -> Value {
    let list: Vec<Value> = headers
        .iter()
        .map(|(n, v)| {
            let v = if !secrets && is_secret(n) {
                REDACTED
            } else {
                v
            };
            json!({"name": n, "value": v})
        })
        .collect();
    Value::Array(list)
}

/// A URL without the `user:pass@` it may carry (a credential like Authorization).
pub fn redact_url(url: &str, secrets: bool) -> String {
    if secrets {
        return url.to_string();
    }
    match url::Url::parse(url) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_unless_asked() {
        let head = "GET / HTTP/1.1\r\nHost: h\r\nauthorization: Basic eDp5\r\nCookie: a=b\r\n\
                    Proxy-Authorization: x\r\nX-Token: t\r\n\r\n";
        let (parsed, _) = crate::http::head::parse(head.as_bytes(), crate::http::Kind::Request)
            .unwrap()
            .unwrap();
        let h = parsed.headers;
        assert_eq!(h.iter().count(), 5);
        let v = to_json(&h, false).to_string();
        assert!(!v.contains("eDp5") && !v.contains("a=b") && v.contains("\"X-Token\""));
        assert_eq!(v.matches(REDACTED).count(), 3);
        let v = to_json(&h, true).to_string();
        assert!(v.contains("Basic eDp5") && v.contains("a=b") && !v.contains(REDACTED));
        assert_eq!(redact_url("ws://u:p@h/x", false), "ws://h/x");
        assert_eq!(redact_url("ws://u:p@h/x", true), "ws://u:p@h/x");
    }
}
