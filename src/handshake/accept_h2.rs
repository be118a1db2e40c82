//! The server side of an RFC 8441 extended CONNECT (`listen --http2`): decide one HTTP/2 stream's
//! request as [`super::accept::decide`] decides an HTTP/1.1 upgrade, with the same policy checks
//! (`admit`: `--origin-allow`, `-s`/`--require-subprotocol`, `--max-clients`) and the same
//! permessage-deflate answer. What differs is the form: `:method CONNECT` with `:protocol
//! websocket` instead of a GET with Upgrade, no key and no accept (a 200 accepts), and the answer
//! is header fields, not a head. Pure: the listen acceptor does the I/O.

use super::accept::{admit, refuse_with, ClientRequest, Decision, Policy, Refusal};

/// The answer to one CONNECT stream: the decision (its `response` is the text `-v` shows) and
/// the response's header fields (lowercase names, no pseudo-headers; a refusal's body is the
/// reason, in the decision).
pub struct Answer {
    pub decision: Decision,
    pub fields: Vec<(String, String)>,
}

/// Decide a stream whose request had `:method` `req.method` and `:protocol` `protocol`.
pub fn decide(
    req: &ClientRequest,
    protocol: Option<&str>,
    policy: &Policy,
    clients: usize,
) -> Answer {
    let checked = connect_request(req, protocol).and_then(|()| admit(req, policy, clients));
    match checked {
        Ok(subprotocol) => accept(req, subprotocol, policy),
        Err(Refusal {
            status,
            reason,
            extra,
        }) => {
            let mut ours: Vec<(String, String)> = extra
                .iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
                .collect();
            ours.push(("content-type".into(), "text/plain; charset=utf-8".into()));
            let fields = with_user_headers(ours, policy);
            let mut response = text(status, &fields);
            response.push_str(&reason);
            response.push('\n');
            Answer {
                decision: Decision::Refuse {
                    status,
                    reason,
                    response,
                },
                fields,
            }
        }
    }
}

fn accept(req: &ClientRequest, subprotocol: Option<String>, policy: &Policy) -> Answer {
    let mut ours = Vec::new();
    if let Some(p) = &subprotocol {
        ours.push(("sec-websocket-protocol".to_string(), p.clone()));
    }
    let deflate = match policy.no_deflate {
        true => None,
        false => crate::deflate::params::accept(&req.offered_extensions()),
    };
    let deflate = deflate.map(|(answer, agreed)| {
        ours.push(("sec-websocket-extensions".into(), answer));
        agreed
    });
    let fields = with_user_headers(ours, policy);
    Answer {
        decision: Decision::Accept {
            response: text(200, &fields),
            subprotocol,
            deflate,
        },
        fields,
    }
}

/// RFC 8441 §4-5: CONNECT, `:protocol websocket`, version 13.
fn connect_request(req: &ClientRequest, protocol: Option<&str>) -> Result<(), Refusal> {
    if req.method != "CONNECT" {
        let why = format!(
            "method {} is not allowed: a WebSocket over HTTP/2 is an extended CONNECT (RFC 8441)",
            req.method
        );
        return refuse_with(405, why, &[("Allow", "CONNECT")]);
    }
    match protocol {
        Some(p) if p.eq_ignore_ascii_case("websocket") => {}
        Some(p) => {
            let why = format!("':protocol {p}' is not served here: this is a WebSocket endpoint");
            return refuse_with(400, why, &[]);
        }
        None => {
            let why = "a CONNECT without ':protocol websocket' (a tunnel) is not served here";
            return refuse_with(400, why, &[]);
        }
    }
    match req.header("sec-websocket-version").map(str::trim) {
        Some("13") => Ok(()),
        other => {
            let got = other.map_or("no sec-websocket-version".to_string(), |v| {
                format!("sec-websocket-version '{v}'")
            });
            let why = format!("{got}: this server speaks version 13 (RFC 6455)");
            refuse_with(400, why, &[("Sec-WebSocket-Version", "13")])
        }
    }
}

/// `-H` replaces ours of the same name, then adds the rest (as over HTTP/1.1); HTTP/2 field names
/// are lowercase, and connection-specific fields (RFC 9113 §8.2.2) cannot be sent.
fn with_user_headers(ours: Vec<(String, String)>, policy: &Policy) -> Vec<(String, String)> {
    const CONNECTION_SPECIFIC: [&str; 5] = [
        "connection",
        "upgrade",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
    ];
    let mut out: Vec<(String, String)> = ours
        .into_iter()
        .filter(|(n, _)| !policy.headers.contains(n))
        .collect();
    for (n, v) in policy.headers.iter() {
        let n = n.to_ascii_lowercase();
        if !CONNECTION_SPECIFIC.contains(&n.as_str()) {
            out.push((n, v.to_string()));
        }
    }
    out
}

/// The answer as `-v` shows it: `:status` then the fields, one per line.
fn text(status: u16, fields: &[(String, String)]) -> String {
    let mut out = format!(":status: {status}\r\n");
    for (n, v) in fields {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, extra: &[(&str, &str)]) -> ClientRequest {
        let mut headers: crate::http::Headers = [("sec-websocket-version", "13")]
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        for (n, v) in extra {
            headers.push(*n, *v);
        }
        ClientRequest {
            method: method.into(),
            path: "/".into(),
            minor_version: 1,
            headers,
            ..Default::default()
        }
    }

    #[test]
    fn a_websocket_connect_is_accepted_with_200_and_the_subprotocol() {
        let policy = Policy {
            subprotocols: vec!["chat".into()],
            ..Default::default()
        };
        let req = request("CONNECT", &[("sec-websocket-protocol", "x, chat")]);
        let a = decide(&req, Some("websocket"), &policy, 0);
        assert!(
            matches!(a.decision, Decision::Accept { ref subprotocol, .. } if subprotocol.as_deref() == Some("chat"))
        );
        assert_eq!(
            a.fields,
            vec![("sec-websocket-protocol".to_string(), "chat".to_string())]
        );
    }

    #[test]
    fn other_connects_are_refused_with_a_4xx_and_a_reason() {
        let policy = Policy::default();
        let status = |method: &str, protocol: Option<&str>, extra: &[(&str, &str)]| match decide(
            &request(method, extra),
            protocol,
            &policy,
            0,
        )
        .decision
        {
            Decision::Refuse { status, reason, .. } => (status, reason),
            Decision::Accept { .. } => (200, String::new()),
        };
        assert_eq!(status("GET", Some("websocket"), &[]).0, 405);
        assert_eq!(status("CONNECT", None, &[]).0, 400);
        let (s, why) = status("CONNECT", Some("h2c-tunnel"), &[]);
        assert_eq!(s, 400);
        assert!(why.contains("h2c-tunnel"), "{why}");
        let mut old = request("CONNECT", &[]);
        old.headers = crate::http::Headers::new();
        old.headers.push("sec-websocket-version", "8");
        match decide(&old, Some("websocket"), &policy, 0).decision {
            Decision::Refuse { status, .. } => assert_eq!(status, 400),
            Decision::Accept { .. } => panic!("version 8 accepted"),
        }
    }

    #[test]
    fn max_clients_refuses_with_503_and_drops_connection_specific_user_headers() {
        let mut headers = crate::http::Headers::new();
        headers.push("Connection", "close");
        headers.push("X-Test", "1");
        let policy = Policy {
            max_clients: Some(1),
            headers,
            ..Default::default()
        };
        let a = decide(&request("CONNECT", &[]), Some("websocket"), &policy, 1);
        assert!(matches!(a.decision, Decision::Refuse { status: 503, .. }));
        assert!(a.fields.iter().any(|(n, _)| n == "retry-after"));
        assert!(a.fields.iter().any(|(n, v)| n == "x-test" && v == "1"));
        assert!(!a.fields.iter().any(|(n, _)| n == "connection"));
    }
}
