//! The request headers of a recording: taken from the request head as it was sent, with the values
//! of credentials (Authorization, Cookie, Proxy-Authorization) replaced by [`REDACTED`] unless
//! `--record-secrets`, so a transcript can be shared without the session's secrets.

use serde_json::{json, Value};

/// What a secret header's value becomes in a transcript.
pub const REDACTED: &str = "[redacted]";

/// Headers whose values are credentials.
const SECRETS: &[&str] = &["authorization", "cookie", "proxy-authorization"];

/// The header lines of an HTTP request head (the request line and anything after the blank line
/// are not headers), as (name, value) in the order sent.
pub fn parse_head(head: &str) -> Vec<(String, String)> {
    head.split("\r\n\r\n")
        .next()
        .unwrap_or("")
        .split("\r\n")
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// True for a header whose value is a credential.
pub fn is_secret(name: &str) -> bool {
    SECRETS.iter().any(|s| s.eq_ignore_ascii_case(name))
}

/// The headers as the transcript's `headers` array (`[{"name", "value"}]`, HAR's shape), secrets
/// redacted unless `secrets`.
pub fn to_json(headers: &[(String, String)], secrets: bool) -> Value {
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
        let h = parse_head(head);
        assert_eq!(h.len(), 5);
        let v = to_json(&h, false).to_string();
        assert!(!v.contains("eDp5") && !v.contains("a=b") && v.contains("\"X-Token\""));
        assert_eq!(v.matches(REDACTED).count(), 3);
        let v = to_json(&h, true).to_string();
        assert!(v.contains("Basic eDp5") && v.contains("a=b") && !v.contains(REDACTED));
        assert_eq!(redact_url("ws://u:p@h/x", false), "ws://h/x");
        assert_eq!(redact_url("ws://u:p@h/x", true), "ws://u:p@h/x");
    }
}
