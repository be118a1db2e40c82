//! What a refused handshake most likely means, and the flag that fixes it: the hint for a
//! non-101 answer by its status, its body and its challenges, with the reverse-proxy mistake
//! named first. Pure functions over the request we sent and the response we read; `checks`
//! decides what failed and attaches the hint.

use super::request::Request;
use super::response::Response;
use crate::http::list;

/// What a refusal most likely means, and the flag to try.
pub(super) fn hint_for_status(req: &Request, resp: &Response) -> Option<String> {
    let s = resp.status;
    if lost_upgrade(req, resp) {
        return Some(PROXY_DROPS_UPGRADE.into());
    }
    Some(match s {
        101 => return None,
        200..=299 => format!("status {s}: this is a plain HTTP endpoint, not a WebSocket one; check the path in the URL"),
        300..=399 => match resp.header("Location") {
            Some(loc) => format!("the server redirects to {loc}: follow it with -L/--location"),
            None => "the server redirects (without a Location header); -L/--location follows redirects".into(),
        },
        // nginx: "The plain HTTP request was sent to HTTPS port".
        400 if String::from_utf8_lossy(&resp.body).to_ascii_lowercase().contains("https port") => {
            "this port serves TLS: connect with wss:// instead of ws://".into()
        }
        // e.g. Tornado's "400 Cross origin websockets not allowed", Go's "origin not allowed".
        400 if names_origin(resp) => "the server refused the request's Origin: send the one it expects with -o/--origin".into(),
        400 => "the server rejected the request: check the -H headers, -s subprotocols and --protocol-version".into(),
        401 if challenges(resp, "bearer") => "the server wants a bearer token: -H 'Authorization: Bearer TOKEN'".into(),
        401 => "the server wants credentials: --auth user:pass or -H 'Authorization: ...'".into(),
        403 => "the server refused access: check credentials (--auth, -H) and the Origin it expects (-o/--origin)".into(),
        404 => "nothing at this path: check the path in the URL".into(),
        426 => match resp.header("Sec-WebSocket-Version") {
            Some(v) => format!("the server wants WebSocket version {v}: try --protocol-version {}", list(v).next().unwrap_or("13")),
            None => "the server wants another protocol version (--protocol-version)".into(),
        },
        429 => "the server is rate limiting: wait and retry".into(),
        500..=599 => format!("status {s}: a server-side error; the body may say more"),
        _ => format!("status {s} instead of 101 Switching Protocols"),
    })
}

/// The status line or body of a refusal names the Origin as the reason.
fn names_origin(resp: &Response) -> bool {
    let body = String::from_utf8_lossy(&resp.body);
    [resp.reason.as_str(), &body]
        .iter()
        .any(|t| t.to_ascii_lowercase().contains("origin"))
}

/// The most common reverse-proxy mistake, with the nginx lines that fix it.
const PROXY_DROPS_UPGRADE: &str = "the server did not see an upgrade request: a reverse proxy in \
     front of it probably drops the Upgrade/Connection headers (hop-by-hop headers are not \
     forwarded by default); in nginx: proxy_http_version 1.1; proxy_set_header Upgrade \
     $http_upgrade; proxy_set_header Connection \"upgrade\";";

/// A refusal that says the upgrade headers never arrived: a 426 that names no version or only
/// the one we sent (so changing --protocol-version cannot help), a 505 (a backend reached over
/// HTTP/1.0 by a proxy), or a 400 that complains about the upgrade.
fn lost_upgrade(req: &Request, resp: &Response) -> bool {
    match resp.status {
        426 => {
            let wanted: Vec<&str> = resp
                .header_all("Sec-WebSocket-Version")
                .into_iter()
                .flat_map(list)
                .collect();
            let sent = sent_version(req);
            wanted.is_empty() || sent.is_some_and(|v| wanted.contains(&v))
        }
        505 => true,
        400 => {
            let body = String::from_utf8_lossy(&resp.body);
            [resp.reason.as_str(), &body]
                .iter()
                .any(|t| t.to_ascii_lowercase().contains("upgrade"))
        }
        _ => false,
    }
}

/// The Sec-WebSocket-Version our request carried.
fn sent_version(req: &Request) -> Option<&str> {
    req.text.split("\r\n").find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("Sec-WebSocket-Version")
            .then(|| value.trim())
    })
}

/// The response challenges with this authentication scheme (WWW-Authenticate).
fn challenges(resp: &Response, scheme: &str) -> bool {
    resp.header_all("WWW-Authenticate").iter().any(|v| {
        v.split(',')
            .filter_map(|c| c.split_whitespace().next())
            .any(|word| word.eq_ignore_ascii_case(scheme))
    })
}
