//! `probe --fingerprint`: names the server's library or product from how it answers odd and
//! illegal inputs ([`signals`] collects them), by comparing them with a table of known peers
//! (`fingerprints.json`, built by `scripts/fingerprint.sh --regenerate` from real runs of this
//! code against each peer, and read only when the check runs). Each signal has a weight; a peer's
//! score is the weight of the signals that match over the weight of those both sides have. The
//! best score at or above [`NAMED`] names the peer; below it the answer is "unknown" with the
//! closest candidate. The evidence (which signals matched, which did not, and what was seen)
//! goes in the check's detail and, whole, in `--json`.

mod raw;
mod signals;

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::json;

use super::Probe;
use crate::probe_checks::{CheckId, Outcome, Status};
use signals::Signals;

/// The table of known peers.
const TABLE: &str = include_str!("fingerprints.json");

/// The score from which a peer is named.
const NAMED: f64 = 0.8;

#[derive(Deserialize)]
struct Table {
    peers: Vec<Peer>,
}

#[derive(Deserialize)]
struct Peer {
    name: String,
    signals: BTreeMap<String, String>,
}

/// How much a signal says: what a product writes itself (Server, header spelling, an unasked
/// message) says more than how it reacts to a violation, which libraries share.
fn weight(signal: &str) -> f64 {
    match signal {
        "server" => 3.0,
        "upgrade-headers" | "greeting" | "version8-headers" | "version8-body" => 2.0,
        _ => 1.0,
    }
}

/// One peer against what was seen.
struct Score {
    name: String,
    score: f64,
    matched: Vec<String>,
    /// Signal, seen, expected.
    differed: Vec<(String, String, String)>,
}

fn score(peer: &Peer, seen: &Signals) -> Score {
    let (mut got, mut total) = (0.0, 0.0);
    let (mut matched, mut differed) = (Vec::new(), Vec::new());
    // A signal this run could not collect says nothing either way; one the peer never gave
    // (an answer it does not send) counts against it.
    let absent = "(absent)".to_string();
    for (signal, value) in seen {
        let expected = peer.signals.get(signal).unwrap_or(&absent);
        total += weight(signal);
        if value == expected {
            got += weight(signal);
            matched.push(signal.clone());
        } else {
            differed.push((signal.clone(), value.clone(), expected.clone()));
        }
    }
    Score {
        name: peer.name.clone(),
        score: if total > 0.0 { got / total } else { 0.0 },
        matched,
        differed,
    }
}

/// Every peer's score, best first (table order breaks ties, so the answer is deterministic).
fn rank(table: &Table, seen: &Signals) -> Vec<Score> {
    let mut all: Vec<Score> = table.peers.iter().map(|p| score(p, seen)).collect();
    all.sort_by(|a, b| b.score.total_cmp(&a.score));
    all
}

fn pct(score: f64) -> u32 {
    (score * 100.0).round() as u32
}

pub async fn check(p: &Probe) -> Outcome {
    let id = CheckId::Fingerprint;
    let table: Table = match serde_json::from_str(TABLE) {
        Ok(t) => t,
        Err(e) => {
            return Outcome::new(
                id,
                Status::NotApplicable,
                format!("the fingerprint table in this build is unreadable: {e}"),
            )
        }
    };
    let seen = signals::collect(p).await;
    verdict(&table, seen)
}

fn verdict(table: &Table, seen: Signals) -> Outcome {
    let id = CheckId::Fingerprint;
    let ranked = rank(table, &seen);
    let Some(best) = ranked.first() else {
        // Still the signals: what `scripts/fingerprint.sh --regenerate` builds a table from.
        let mut o = Outcome::new(id, Status::NotApplicable, "the fingerprint table is empty");
        o.data = Some(json!({ "product": null, "signals": seen }));
        return o;
    };
    let named = best.score >= NAMED;
    let evidence = evidence(best, &seen, table);
    let (status, detail) = match named {
        true => (
            Status::Pass,
            format!(
                "{}, confidence {}% ({evidence})",
                best.name,
                pct(best.score)
            ),
        ),
        false => (
            Status::NotApplicable,
            format!(
                "unknown: closest is {} at {}% ({evidence})",
                best.name,
                pct(best.score)
            ),
        ),
    };
    let data = json!({
        "product": named.then(|| best.name.clone()),
        "confidence": (best.score * 100.0).round() / 100.0,
        "closest": best.name,
        "matched": best.matched,
        "differed": best.differed.iter().map(|(s, seen, want)| json!({
            "signal": s, "seen": seen, "expected": want,
        })).collect::<Vec<_>>(),
        "candidates": ranked.iter().take(3).map(|s| json!({
            "name": s.name, "score": (s.score * 100.0).round() / 100.0,
        })).collect::<Vec<_>>(),
        "signals": seen,
    });
    let mut o = Outcome::new(id, status, detail);
    o.data = Some(data);
    o
}

/// "16 of 16 signals match, among them server "TornadoServer", upgrade-headers "Server,..."":
/// the two matches fewest other peers share (the weightier first among equals; not "-" or
/// "none"), then the first few differences with their values and the rest by name. Values are
/// the server's text, escaped.
fn evidence(s: &Score, seen: &Signals, table: &Table) -> String {
    let n = s.matched.len() + s.differed.len();
    let mut text = format!("{} of {n} signals match", s.matched.len());
    let shared = |signal: &str, value: &str| {
        let same = |p: &&Peer| p.signals.get(signal).is_some_and(|v| v == value);
        table.peers.iter().filter(same).count()
    };
    let mut telling: Vec<(&String, &String, usize)> = s
        .matched
        .iter()
        .filter_map(|m| seen.get(m).map(|v| (m, v, shared(m, v))))
        .filter(|(_, v, _)| !matches!(v.as_str(), "-" | "none"))
        .collect();
    // Stable: `matched` is in name order.
    telling.sort_by(|a, b| a.2.cmp(&b.2).then(weight(b.0).total_cmp(&weight(a.0))));
    let among: Vec<String> = telling
        .iter()
        .take(2)
        .map(|(m, v, _)| format!("{m} \"{v}\""))
        .collect();
    if !among.is_empty() {
        text.push_str(", among them ");
        text.push_str(&among.join(", "));
    }
    if !s.differed.is_empty() {
        let each: Vec<String> = s
            .differed
            .iter()
            .enumerate()
            .map(|(i, (signal, seen, want))| match i < 3 {
                true => format!("{signal} \"{seen}\" (expected \"{want}\")"),
                false => signal.clone(),
            })
            .collect();
        text.push_str("; differ: ");
        text.push_str(&each.join(", "));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        serde_json::from_str(TABLE).expect("the table in the source parses")
    }

    /// Each peer's own signals name it, whatever else the table holds (two peers with the same
    /// signals would make one of them unnameable: the table must tell them apart).
    #[test]
    fn every_peer_is_named_by_its_own_signals() {
        let t = table();
        assert!(t.peers.len() >= 2, "a table of peers");
        for peer in &t.peers {
            let seen: Signals = peer.signals.clone();
            let o = verdict(&t, seen);
            assert_eq!(o.status, Status::Pass, "{}: {}", peer.name, o.detail);
            assert!(
                o.detail
                    .starts_with(&format!("{}, confidence 100%", peer.name)),
                "{}: {}",
                peer.name,
                o.detail
            );
        }
    }

    #[test]
    fn signals_nobody_has_are_unknown_with_the_closest() {
        let t = table();
        let seen: Signals = [("server", "nobody"), ("ping", "silence")]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        let o = verdict(&t, seen);
        assert_eq!(o.status, Status::NotApplicable);
        assert!(o.detail.starts_with("unknown: closest is "), "{}", o.detail);
        let data = o.data.expect("evidence");
        assert!(data["product"].is_null());
    }
}
