//! The checks that send an upgrade request no conforming client would write, by hand, on a
//! connection made as every other check's (proxy, TLS): no Host, HTTP/1.0, no key, a malformed
//! or doubled key, a head of 256 KiB, 10 000 header fields. Each request starts from the one
//! wscope would send with the user's options, changed in one place. A conforming server refuses
//! each (RFC 6455 §4.2.1: 400; RFC 9110/9112: a Host is required, HTTP/1.1 is needed for
//! Upgrade); one that answers 101 accepted what it should not, and one that takes a head
//! without a limit can be made to hold memory by anyone.

use tokio::io::AsyncWriteExt;

use super::Probe;
use crate::handshake::{request, response};
use crate::printer::escape::escape;
use crate::probe_checks::{CheckId, Outcome, Status};

/// The size of `headers-large`'s head (capped at `--probe-max`).
const LARGE: usize = 256 << 10;
/// The header fields of `headers-many`.
const MANY: usize = 10_000;

/// How the server answered a hand-written request.
pub enum Answer {
    Status(u16, String),
    /// Closed or reset before a whole response head.
    Dropped,
    Timeout,
    /// Not even connected: the evidence.
    Unreached(crate::error::Error),
}

/// The request head for check `id`: wscope's own, changed where the check says.
pub fn request_for(p: &Probe, id: CheckId) -> Vec<u8> {
    let head = head_with(p, "HTTP/1.1", |fields| {
        let is = |n: &str, want: &str| n.eq_ignore_ascii_case(want);
        match id {
            CheckId::HostMissing => fields.retain(|(n, _)| !is(n, "Host")),
            CheckId::KeyMissing => fields.retain(|(n, _)| !is(n, "Sec-WebSocket-Key")),
            CheckId::KeyMalformed => {
                for (n, v) in fields.iter_mut() {
                    if is(n, "Sec-WebSocket-Key") {
                        // Base64 of 12 bytes, not 16 (RFC 6455 §4.1 item 7).
                        *v = "d3Njb3BlLXByb2Jl".into();
                    }
                }
            }
            CheckId::KeyDuplicate => fields.push(("Sec-WebSocket-Key".into(), new_key())),
            CheckId::HeadersLarge => {
                let size = LARGE.min(p.max);
                fields.push(("X-Wscope-Probe".into(), "a".repeat(size)));
            }
            CheckId::HeadersMany => {
                fields.extend((0..MANY).map(|i| (format!("X-Wscope-{i}"), "1".to_string())));
            }
            _ => {}
        }
    });
    match id {
        CheckId::Http10 => head_with(p, "HTTP/1.0", |_| {}),
        _ => head,
    }
}

fn new_key() -> String {
    tokio_tungstenite::tungstenite::handshake::client::generate_key()
}

/// The upgrade request wscope would send with the user's options (without a deflate offer),
/// its header fields changed by `edit`, as bytes.
pub fn head_with(
    p: &Probe,
    version: &str,
    edit: impl FnOnce(&mut Vec<(String, String)>),
) -> Vec<u8> {
    let mut conn = p.conn.clone();
    conn.deflate = None;
    let req = request::build(&p.target, &conn, new_key());
    let mut fields: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    edit(&mut fields);
    let mut head = format!("GET {} {version}\r\n", p.target.resource);
    for (n, v) in &fields {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// Send check `id`'s request and judge the answer.
pub async fn check(p: &Probe, id: CheckId) -> Outcome {
    let answer = ask(p, &request_for(p, id)).await;
    p.note_contact(id, matches!(answer, Answer::Unreached(_) | Answer::Dropped));
    judge(id, answer, LARGE.min(p.max))
}

pub async fn ask(p: &Probe, head: &[u8]) -> Answer {
    match ask_head(p, head).await {
        Ok(resp) => Answer::Status(resp.status, resp.reason),
        Err(a) => a,
    }
}

/// Send a hand-written request head; the response head, or how it went otherwise.
pub async fn ask_head(p: &Probe, head: &[u8]) -> Result<response::Response, Answer> {
    let deadline = tokio::time::Instant::now() + p.conn.connect_timeout;
    let mut stream = match crate::handshake::connect(&p.target, &p.conn, deadline).await {
        Ok(s) => s,
        Err(e) => return Err(Answer::Unreached(e)),
    };
    let talk = async {
        // A server may answer (and close) before it has read all of a big head: what it says
        // counts, not whether the rest could be written.
        let _ = stream.write_all(head).await;
        let _ = stream.flush().await;
        response::read_head(&mut stream).await
    };
    match tokio::time::timeout_at(deadline, talk).await {
        Err(_) => Err(Answer::Timeout),
        Ok(Ok((resp, _))) => Ok(resp),
        Ok(Err(_)) => Err(Answer::Dropped),
    }
}

/// What a conforming server does, and how bad accepting is.
fn judge(id: CheckId, answer: Answer, large: usize) -> Outcome {
    let (what, want, accepted) = match id {
        CheckId::HostMissing => (
            "a request without Host".to_string(),
            "400 (RFC 9112 §3.2)",
            // A lax parser, not a hole: a warning (Node's and Python's servers refuse it).
            Status::Warn,
        ),
        CheckId::Http10 => (
            "an HTTP/1.0 upgrade request".into(),
            "a refusal (RFC 6455 §4.1 wants HTTP/1.1 or higher)",
            Status::Warn,
        ),
        CheckId::KeyMissing => (
            "a request without Sec-WebSocket-Key".into(),
            "400 (RFC 6455 §4.2.1)",
            Status::Fail,
        ),
        CheckId::KeyMalformed => (
            "a Sec-WebSocket-Key of 12 bytes, not 16".into(),
            "400 (RFC 6455 §4.2.1)",
            Status::Warn,
        ),
        CheckId::KeyDuplicate => (
            "two Sec-WebSocket-Key headers".into(),
            "400 (RFC 6455 §11.3.1: the header may appear once)",
            Status::Warn,
        ),
        CheckId::HeadersLarge => (
            format!("a request head of {}", super::limit::size_name(large)),
            "431 or 400: a limit on the head's size",
            Status::Warn,
        ),
        CheckId::HeadersMany => (
            format!("a request with {MANY} header fields"),
            "431 or 400: a limit on the number of fields",
            Status::Warn,
        ),
        _ => return Outcome::new(id, Status::NotApplicable, "not a handshake check"),
    };
    match answer {
        Answer::Status(101, _) => Outcome::new(
            id,
            accepted,
            format!("accepted {what} (101); a conforming server answers {want}"),
        ),
        Answer::Status(s, reason) if (400..500).contains(&s) || id == CheckId::Http10 => {
            Outcome::new(
                id,
                Status::Pass,
                format!("refused {what} with {s} {}", escape(reason.trim())),
            )
        }
        Answer::Status(s, reason) => Outcome::new(
            id,
            Status::Warn,
            format!(
                "answered {what} with {s} {}; {want} is the answer",
                escape(reason.trim())
            ),
        ),
        // A server that cuts off a head it will not take has refused it.
        Answer::Dropped => Outcome::new(
            id,
            Status::Pass,
            format!("closed the connection on {what} without an answer ({want} is politer)"),
        ),
        Answer::Timeout => Outcome::new(
            id,
            Status::Warn,
            format!("no answer to {what}: it waits for more, and holds the connection open"),
        ),
        Answer::Unreached(e) => super::no_connection(id, &e),
    }
}
