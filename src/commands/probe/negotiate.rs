//! What the server agrees to when offered more than one thing, or something odd: which of
//! several subprotocols it picks (`subprotocol-choice`), each extension offered alone
//! (`extensions`), and permessage-deflate parameters at and beyond their edges
//! (`deflate-params`). Each offer is a hand-written request of its own; the verdicts read the
//! response's headers. RFC 6455 §4.2.2: the server selects one offered subprotocol or none, and
//! only extensions offered; RFC 7692 §7.1: an offer with an invalid or unknown parameter is
//! declined (101 without the extension), not accepted and not refused.

use futures_util::future::join_all;

use super::requests::{ask_head, head_with, Answer};
use super::Probe;
use crate::handshake::response::Response;
use crate::printer::escape::escape;
use crate::probe_checks::{CheckId, Outcome, Status};

/// Subprotocol names no server implements, offered before the user's.
const INVENTED: [&str; 2] = ["wscope-probe-a.invalid", "wscope-probe-b.invalid"];

/// An extension no server implements.
const UNKNOWN_EXTENSION: &str = "x-wscope-probe";

/// Send a request whose `name` header is `value` (replacing wscope's own).
async fn offer(p: &Probe, id: CheckId, name: &str, value: &str) -> Result<Response, Answer> {
    let head = head_with(p, "HTTP/1.1", |fields| {
        fields.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        fields.push((name.to_string(), value.to_string()));
    });
    let r = ask_head(p, &head).await;
    p.note_contact(id, matches!(r, Err(Answer::Unreached(_) | Answer::Dropped)));
    r
}

fn no_answer(id: CheckId, a: Answer) -> Outcome {
    match a {
        Answer::Unreached(e) => super::no_connection(id, &e),
        Answer::Dropped => {
            Outcome::new(id, Status::Warn, "closed the connection without an answer")
        }
        Answer::Timeout => Outcome::new(id, Status::Warn, "no answer to the upgrade request"),
        Answer::Status(s, _) => Outcome::new(id, Status::Warn, format!("answered {s}")),
    }
}

pub async fn subprotocol_choice(p: &Probe) -> Outcome {
    let id = CheckId::SubprotocolChoice;
    let mut offered: Vec<String> = INVENTED.iter().map(|s| s.to_string()).collect();
    offered.extend(p.conn.subprotocols.iter().cloned());
    let list = offered.join(", ");
    let resp = match offer(p, id, "Sec-WebSocket-Protocol", &list).await {
        Ok(r) => r,
        Err(a) => return no_answer(id, a),
    };
    let picked = resp.header("Sec-WebSocket-Protocol").map(str::to_string);
    let yours = match p.conn.subprotocols.is_empty() {
        true => "two invented ones".to_string(),
        false => format!(
            "two invented ones, then yours ({})",
            p.conn.subprotocols.join(", ")
        ),
    };
    match (resp.status, picked) {
        (101, Some(sel)) if !offered.contains(&sel) => Outcome::new(
            id,
            Status::Fail,
            format!(
                "offered {yours}, it selected '{}', which was not offered (RFC 6455 §4.2.2)",
                escape(&sel)
            ),
        ),
        (101, Some(sel)) if INVENTED.contains(&sel.as_str()) => Outcome::new(
            id,
            Status::Warn,
            format!(
                "offered {yours}, it selected '{}', a name no server implements: it echoes \
                 the client's first choice instead of choosing from its own",
                escape(&sel)
            ),
        ),
        (101, Some(sel)) => Outcome::new(
            id,
            Status::Pass,
            format!("offered {yours}, it selected '{}'", escape(&sel)),
        ),
        (101, None) => Outcome::new(
            id,
            Status::Pass,
            format!("offered {yours}, it selected none"),
        ),
        (s, _) => Outcome::new(
            id,
            Status::Pass,
            format!("offered {yours}, it refused the upgrade ({s}): it requires one of its own"),
        ),
    }
}

/// The extensions the response agreed to, by name.
fn agreed(resp: &Response) -> Vec<String> {
    resp.header_all("Sec-WebSocket-Extensions")
        .iter()
        .flat_map(|v| crate::http::list(v).map(str::to_string).collect::<Vec<_>>())
        .collect()
}

fn ext_name(item: &str) -> String {
    item.split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

pub async fn extensions(p: &Probe) -> Outcome {
    let id = CheckId::Extensions;
    let offers = [
        "permessage-deflate",
        "x-webkit-deflate-frame",
        UNKNOWN_EXTENSION,
    ];
    let answers = join_all(
        offers
            .iter()
            .map(|o| offer(p, id, "Sec-WebSocket-Extensions", o)),
    )
    .await;
    let mut notes = Vec::new();
    let mut status = Status::Pass;
    for (o, a) in offers.iter().zip(answers) {
        let resp = match a {
            Ok(r) => r,
            Err(a) => return no_answer(id, a),
        };
        if resp.status != 101 {
            status = worse(status, Status::Warn);
            notes.push(format!(
                "{o}: refused the upgrade ({}); RFC 6455 §9.1 has a server ignore what it does not support",
                resp.status
            ));
            continue;
        }
        let got = agreed(&resp);
        let foreign: Vec<&String> = got.iter().filter(|g| ext_name(g) != *o).collect();
        if !foreign.is_empty() {
            status = Status::Fail;
            let names: Vec<String> = foreign.iter().map(|f| escape(f).into_owned()).collect();
            notes.push(format!(
                "{o}: answered with {}, which was not offered",
                names.join(", ")
            ));
        } else if got.is_empty() {
            notes.push(format!("{o}: declined"));
        } else if *o == UNKNOWN_EXTENSION {
            status = Status::Fail;
            notes.push(format!(
                "{o}: accepted an extension no server implements (it echoes offers)"
            ));
        } else {
            notes.push(format!("{o}: accepted ({})", escape(&got.join(", "))));
        }
    }
    Outcome::new(id, status, notes.join("; "))
}

/// The deflate offers at and beyond the edges, and whether each must be declined.
pub const DEFLATE_OFFERS: [(&str, &str, bool); 6] = [
    (
        "window bits 8",
        "permessage-deflate; server_max_window_bits=8",
        false,
    ),
    (
        "window bits 15",
        "permessage-deflate; server_max_window_bits=15",
        false,
    ),
    (
        "window bits 16",
        "permessage-deflate; server_max_window_bits=16",
        true,
    ),
    (
        "window bits 7",
        "permessage-deflate; client_max_window_bits=7",
        true,
    ),
    (
        "a duplicated parameter",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        true,
    ),
    (
        "an unknown parameter",
        "permessage-deflate; x_wscope_probe=1",
        true,
    ),
];

pub async fn deflate_params(p: &Probe) -> Outcome {
    let id = CheckId::DeflateParams;
    let answers = join_all(
        DEFLATE_OFFERS
            .iter()
            .map(|(_, v, _)| offer(p, id, "Sec-WebSocket-Extensions", v)),
    )
    .await;
    let mut bad = Vec::new();
    let mut odd = Vec::new();
    let mut fine = Vec::new();
    for ((what, _, invalid), a) in DEFLATE_OFFERS.iter().zip(answers) {
        let resp = match a {
            Ok(r) => r,
            Err(a) => return no_answer(id, a),
        };
        let got: Vec<String> = agreed(&resp)
            .into_iter()
            .filter(|g| ext_name(g) == "permessage-deflate")
            .collect();
        let bits_out_of_range = got
            .iter()
            .any(|g| window_bits(g).any(|b| !(8..=15).contains(&b)));
        match (resp.status, got.is_empty(), invalid) {
            (101, false, true) => bad.push(format!(
                "{what}: accepted ({}); RFC 7692 §7.1 wants it declined",
                escape(&got.join(", "))
            )),
            (101, false, false) if bits_out_of_range => bad.push(format!(
                "{what}: answered window bits out of 8-15 ({})",
                escape(&got.join(", "))
            )),
            (101, true, true) => fine.push(format!("{what}: declined")),
            (101, true, false) => fine.push(format!("{what}: declined")),
            (101, false, false) => fine.push(format!("{what}: accepted ({})", escape(&got.join(", ")))),
            (s, _, _) => odd.push(format!(
                "{what}: refused the upgrade ({s}); RFC 7692 §5 has a server decline an offer, not the connection"
            )),
        }
    }
    let status = match (bad.is_empty(), odd.is_empty()) {
        (false, _) => Status::Fail,
        (true, false) => Status::Warn,
        (true, true) => Status::Pass,
    };
    let all: Vec<String> = bad.into_iter().chain(odd).chain(fine).collect();
    Outcome::new(id, status, all.join("; "))
}

/// The values of the window-bits parameters of an agreed extension.
fn window_bits(item: &str) -> impl Iterator<Item = u32> + '_ {
    item.split(';').skip(1).filter_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .ends_with("_max_window_bits")
            .then(|| value.trim().trim_matches('"').parse().ok())?
    })
}

fn worse(a: Status, b: Status) -> Status {
    let rank = |s| match s {
        Status::Fail => 3,
        Status::Warn => 2,
        _ => 1,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}
