//! The upgrade request, written by us so the user's header names keep the case they typed (the
//! `http` crate would lowercase them) and so the report shows exactly the bytes that were sent.
//! Pure code: a target and the options in, the request text out.

use base64::Engine;

use super::Options;
use crate::target::Target;

#[derive(Debug, Clone)]
pub struct Request {
    /// The whole head, CRLFs included, exactly as written to the socket.
    pub text: String,
    /// Our Sec-WebSocket-Key, or the user's when given with -H.
    pub key: String,
    pub offered_protocols: Vec<String>,
    pub offered_extensions: Vec<String>,
    /// The header fields of `text`, in order.
    pub headers: crate::http::Headers,
}

pub fn build(target: &Target, args: &Options, key: String) -> Request {
    let mut headers: Vec<(String, String)> = vec![
        ("Host".into(), target.host_header.clone()),
        ("Upgrade".into(), "websocket".into()),
        ("Connection".into(), "Upgrade".into()),
        ("Sec-WebSocket-Key".into(), key),
        (
            "Sec-WebSocket-Version".into(),
            args.protocol_version.to_string(),
        ),
    ];
    if !args.subprotocols.is_empty() {
        headers.push((
            "Sec-WebSocket-Protocol".into(),
            args.subprotocols.join(", "),
        ));
    }
    if let Some(offer) = &args.deflate {
        headers.push(("Sec-WebSocket-Extensions".into(), offer.header_value()));
    }
    if let Some(origin) = &args.origin {
        headers.push(("Origin".into(), origin.clone()));
    }
    let auth = args.auth.clone().or_else(|| target.auth.clone());
    if let Some((user, pass)) = auth {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        headers.push(("Authorization".into(), format!("Basic {token}")));
    }
    headers.push((
        "User-Agent".into(),
        concat!("wscope/", env!("CARGO_PKG_VERSION")).into(),
    ));
    for (name, value) in args.headers.iter() {
        // A user header replaces ours of the same name, in place, keeping the user's spelling.
        let field = (name.to_string(), value.to_string());
        match headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(slot) => *slot = field,
            None => headers.push(field),
        }
    }
    let get = |n: &str| {
        headers
            .iter()
            .find(|(h, _)| h.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.as_str())
    };
    let key = get("Sec-WebSocket-Key").unwrap_or_default().to_string();
    let offered_protocols = get("Sec-WebSocket-Protocol")
        .map(|v| crate::http::list(v).map(String::from).collect())
        .unwrap_or_default();
    let offered_extensions = get("Sec-WebSocket-Extensions")
        .map(|v| crate::http::list(v).map(String::from).collect())
        .unwrap_or_default();
    let mut text = format!("GET {} HTTP/1.1\r\n", target.resource);
    for (n, v) in &headers {
        text.push_str(n);
        text.push_str(": ");
        text.push_str(v);
        text.push_str("\r\n");
    }
    text.push_str("\r\n");
    Request {
        headers: headers.into_iter().collect(),
        text,
        key,
        offered_protocols,
        offered_extensions,
    }
}
