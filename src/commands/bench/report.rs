//! The final report: what the connections did, the percentiles of the HDR histograms, the
//! throughput each way and the errors by kind, as aligned text or one JSON object; and the
//! report of `--merge`. Numbers only here: the verdict (exit code) is `mod.rs`'s.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::options::Bench;
use super::stats::{Outcomes, Tally};

/// Percentiles of a histogram of microseconds, in milliseconds.
#[derive(Debug, Serialize)]
pub struct Percentiles {
    pub count: u64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    #[serde(rename = "p99_9")]
    pub p999: f64,
    pub max: f64,
}

impl Percentiles {
    pub fn of(h: &Histogram<u64>) -> Percentiles {
        let q = |q: f64| {
            if h.is_empty() {
                0.0
            } else {
                to_ms(h.value_at_quantile(q))
            }
        };
        Percentiles {
            count: h.len(),
            mean: if h.is_empty() {
                0.0
            } else {
                (h.mean() / 1000.0 * 1000.0).round() / 1000.0
            },
            p50: q(0.5),
            p90: q(0.9),
            p99: q(0.99),
            p999: q(0.999),
            max: if h.is_empty() { 0.0 } else { to_ms(h.max()) },
        }
    }
}

fn to_ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

/// Microseconds as milliseconds for a person: `0.041 ms`.
pub fn ms(micros: u64) -> String {
    format!("{:.3} ms", to_ms(micros))
}

#[derive(Debug, Serialize)]
pub struct Flow {
    pub messages: u64,
    pub bytes: u64,
    pub messages_per_sec: f64,
    pub mib_per_sec: f64,
}

impl Flow {
    fn new(messages: u64, bytes: u64, secs: f64) -> Flow {
        let per = |v: f64| {
            if secs > 0.0 {
                (v / secs * 100.0).round() / 100.0
            } else {
                0.0
            }
        };
        Flow {
            messages,
            bytes,
            messages_per_sec: per(messages as f64),
            mib_per_sec: per(bytes as f64 / (1024.0 * 1024.0)),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Connections {
    pub requested: u32,
    pub opened: u64,
    pub failed: u64,
    /// Failures by class: connect (exit 3), tls (4), handshake (5), other.
    pub failed_by_class: BTreeMap<&'static str, u64>,
    pub closed_early: u64,
}

#[derive(Debug, Serialize)]
pub struct Replies {
    pub expected: u64,
    pub answered: u64,
    pub missing: u64,
    /// Messages that answered nothing in flight.
    pub unpaired: u64,
}

/// `--http2`: the WebSockets opened as RFC 8441 streams and the HTTP/2 connections under them.
#[derive(Debug, Serialize)]
pub struct Http2 {
    pub connections: u64,
    pub websockets: u64,
}

/// The whole report of a run.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub url: String,
    pub mode: &'static str,
    pub mode_detail: String,
    pub threads: usize,
    pub elapsed_s: f64,
    pub connections: Connections,
    pub connect_ms: Percentiles,
    pub upgrade_ms: Percentiles,
    pub round_trip_ms: Percentiles,
    pub sent: Flow,
    pub received: Flow,
    pub replies: Replies,
    /// What `--lens` made of the messages received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lens: Option<super::stats::LensTally>,
    /// With `--http2`: how many HTTP/2 connections carried how many WebSockets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http2: Option<Http2>,
    pub errors: BTreeMap<String, u64>,
}

/// The name of a failure class, by exit code.
pub fn class(code: u8) -> &'static str {
    match code {
        crate::error::exit::CONNECT => "connect",
        crate::error::exit::TLS => "tls",
        crate::error::exit::HANDSHAKE => "handshake",
        _ => "other",
    }
}

pub struct Measured<'a> {
    pub outcomes: &'a Outcomes,
    pub connect: &'a Histogram<u64>,
    pub upgrade: &'a Histogram<u64>,
    pub rtt: &'a Histogram<u64>,
    pub tally: Tally,
    pub elapsed: Duration,
}

pub fn summary(cfg: &Bench, m: &Measured<'_>) -> Summary {
    let secs = m.elapsed.as_secs_f64();
    let mut failed_by_class = BTreeMap::new();
    for (code, n) in &m.outcomes.failed {
        *failed_by_class.entry(class(*code)).or_default() += n;
    }
    Summary {
        url: cfg.target.url.to_string(),
        mode: if cfg.rate.is_some() { "open" } else { "closed" },
        mode_detail: cfg.mode(),
        threads: cfg.threads,
        elapsed_s: (secs * 1000.0).round() / 1000.0,
        connections: Connections {
            requested: cfg.connections,
            opened: m.outcomes.opened,
            failed: m.outcomes.failed_total(),
            failed_by_class,
            closed_early: m.outcomes.closed_early,
        },
        connect_ms: Percentiles::of(m.connect),
        upgrade_ms: Percentiles::of(m.upgrade),
        round_trip_ms: Percentiles::of(m.rtt),
        sent: Flow::new(m.tally.sent, m.tally.sent_bytes, secs),
        received: Flow::new(m.tally.received, m.tally.received_bytes, secs),
        replies: Replies {
            expected: m.tally.sent,
            answered: m.tally.answered,
            missing: m.tally.missing,
            unpaired: m.tally.unpaired,
        },
        lens: m.outcomes.lens.name.map(|_| m.outcomes.lens),
        http2: None,
        errors: m.outcomes.errors.clone(),
    }
}

/// The report as aligned text.
pub fn text(s: &Summary) -> String {
    let mut o = String::new();
    let c = &s.connections;
    let _ = writeln!(o, "wscope bench {}", s.url);
    let _ = writeln!(o, "  {}", s.mode_detail);
    let _ = writeln!(
        o,
        "  {} connection{}, {} thread{}, {:.2} s\n",
        c.requested,
        plural(u64::from(c.requested)),
        s.threads,
        plural(s.threads as u64),
        s.elapsed_s
    );
    let _ = writeln!(
        o,
        "Connections    opened {}   failed {}   closed early {}",
        c.opened, c.failed, c.closed_early
    );
    for (class, n) in &c.failed_by_class {
        let _ = writeln!(
            o,
            "  failed ({class}){:>w$}",
            n,
            w = 14usize.saturating_sub(class.len())
        );
    }
    if let Some(h) = &s.http2 {
        let _ = writeln!(
            o,
            "  HTTP/2       {} WebSocket{} over {} connection{}",
            h.websockets,
            plural(h.websockets),
            h.connections,
            plural(h.connections)
        );
    }
    row(&mut o, "  connect", &s.connect_ms);
    row(&mut o, "  upgrade", &s.upgrade_ms);
    let r = &s.round_trip_ms;
    let _ = writeln!(
        o,
        "\nRound trip     {} replies, mean {:.3} ms",
        r.count, r.mean
    );
    for (name, v) in [
        ("p50", r.p50),
        ("p90", r.p90),
        ("p99", r.p99),
        ("p99.9", r.p999),
        ("max", r.max),
    ] {
        let _ = writeln!(o, "  {name:<8}{v:>12.3} ms");
    }
    let _ = writeln!(
        o,
        "\nThroughput     {:>14} {:>12} {:>12}",
        "messages", "msg/s", "MiB/s"
    );
    for (name, f) in [("sent", &s.sent), ("received", &s.received)] {
        let _ = writeln!(
            o,
            "  {name:<12} {:>14} {:>12.1} {:>12.2}",
            f.messages, f.messages_per_sec, f.mib_per_sec
        );
    }
    let p = &s.replies;
    let _ = writeln!(
        o,
        "\nReplies        expected {}   answered {}   missing {}   unpaired {}",
        p.expected, p.answered, p.missing, p.unpaired
    );
    if let Some(l) = &s.lens {
        let _ = writeln!(
            o,
            "\nLens {:<9} decoded {}   not its packets {}   its own duties {}",
            l.name.unwrap_or_default(),
            l.decoded,
            l.undecoded,
            l.duties
        );
    }
    if !s.errors.is_empty() {
        let _ = writeln!(o, "\nErrors");
        for (kind, n) in &s.errors {
            let _ = writeln!(o, "  {n:>8}  {kind}");
        }
    }
    o
}

fn row(o: &mut String, name: &str, p: &Percentiles) {
    if p.count == 0 {
        return;
    }
    let _ = writeln!(
        o,
        "{name:<13}  p50 {:.3} ms   p99 {:.3} ms   max {:.3} ms",
        p.p50, p.p99, p.max
    );
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The report of `--merge`.
#[derive(Debug, Serialize)]
pub struct MergeSummary {
    pub logs: usize,
    pub intervals: u64,
    pub span_s: f64,
    pub round_trip_ms: Percentiles,
}

pub fn merge_text(m: &MergeSummary) -> String {
    let mut o = String::new();
    let r = &m.round_trip_ms;
    let _ = writeln!(
        o,
        "wscope bench --merge: {} log{}, {} intervals, longest {:.1} s\n",
        m.logs,
        plural(m.logs as u64),
        m.intervals,
        m.span_s
    );
    let _ = writeln!(
        o,
        "Round trip     {} replies, mean {:.3} ms",
        r.count, r.mean
    );
    for (name, v) in [
        ("p50", r.p50),
        ("p90", r.p90),
        ("p99", r.p99),
        ("p99.9", r.p999),
        ("max", r.max),
    ] {
        let _ = writeln!(o, "  {name:<8}{v:>12.3} ms");
    }
    o
}

#[cfg(test)]
mod tests {
    use super::super::stats::histogram;
    use super::*;

    #[test]
    fn percentiles_of_a_known_distribution() {
        // 1..=10000 microseconds, once each: the p-th percentile is p% of 10 ms, within the
        // histogram's 3 significant digits.
        let mut h = histogram();
        for v in 1..=10_000u64 {
            h.record(v).unwrap();
        }
        let p = Percentiles::of(&h);
        assert_eq!(p.count, 10_000);
        for (got, want) in [
            (p.p50, 5.0),
            (p.p90, 9.0),
            (p.p99, 9.9),
            (p.p999, 9.99),
            (p.max, 10.0),
        ] {
            assert!(
                (got - want).abs() <= want / 1000.0 + 0.001,
                "{got} vs {want}"
            );
        }
        assert!((p.mean - 5.0).abs() < 0.01, "{}", p.mean);
        let empty = Percentiles::of(&histogram());
        assert_eq!((empty.count, empty.p99, empty.max), (0, 0.0, 0.0));
    }
}
