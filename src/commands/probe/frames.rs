//! The checks on an open connection: `ping` and `close` (does the server answer?), and the
//! violations (invalid UTF-8, an unmasked frame, RSV2, a reserved opcode, a fragmented or
//! oversized ping), each sent as a crafted frame followed by a ping: a conforming server closes
//! with the code RFC 6455 names before it gets to the ping; one that answers the ping let the
//! violation through.

use std::time::{Duration, Instant};

use futures_util::future::join_all;

use super::violations::{self, Violation};
use super::wire::{describe_pongs, short_token, token, Answer};
use super::Probe;
use super::REACT;
use crate::error::secs;
use crate::probe_checks::{CheckId, Outcome, Status};
use crate::wire::craft::{self, Crafted, Mask};

/// How long a close may come after the pong to the ping behind a violation.
const LATE: Duration = Duration::from_millis(500);

pub async fn ping(p: &Probe) -> Outcome {
    let id = CheckId::Ping;
    let mut w = match p.open_plain(id).await {
        Ok(w) => w,
        Err(o) => return o,
    };
    let t = token("ping");
    let sent = Instant::now();
    if !w.send(&Crafted::new(craft::PING, t.clone()).encode()).await {
        return Outcome::new(
            id,
            Status::Fail,
            "dropped the connection instead of answering the ping",
        );
    }
    let (answer, others) = w.reader.pongs(&t, deadline()).await;
    let o = match answer {
        Answer::Pong => Outcome::new(
            id,
            Status::Pass,
            format!("pong echoed the payload, RTT {}", rtt(sent.elapsed())),
        ),
        // Pongs came, none with the ping's payload whole.
        _ if !others.is_empty() => Outcome::new(
            id,
            Status::Fail,
            format!(
                "answered, but no pong echoed the payload: {} (RFC 6455 §5.5.3 wants it whole)",
                describe_pongs(&others, &t)
            ),
        ),
        Answer::Closed(c) => Outcome::new(
            id,
            Status::Fail,
            format!("closed with {c} instead of answering the ping"),
        ),
        Answer::Dropped => Outcome::new(
            id,
            Status::Fail,
            "dropped the connection instead of answering the ping",
        ),
        Answer::Timeout => Outcome::new(
            id,
            Status::Fail,
            format!(
                "no pong with the ping's payload within {} (RFC 6455 §5.5.2)",
                secs(REACT)
            ),
        ),
    };
    w.leave().await;
    o
}

pub async fn close(p: &Probe) -> Outcome {
    let id = CheckId::Close;
    let mut w = match p.open_plain(id).await {
        Ok(w) => w,
        Err(o) => return o,
    };
    let sent = Instant::now();
    if !w.send(&Crafted::close(1000, "wscope probe").encode()).await {
        return Outcome::new(id, Status::Fail, "dropped the connection before our close");
    }
    match w.closed(deadline()).await {
        Answer::Closed(c) => Outcome::new(
            id,
            Status::Pass,
            format!("answered our 1000 with {c} in {}", rtt(sent.elapsed())),
        ),
        Answer::Pong | Answer::Dropped => Outcome::new(
            id,
            Status::Warn,
            "dropped the connection without a close frame of its own (RFC 6455 §5.5.1 wants one back)",
        ),
        Answer::Timeout => Outcome::new(
            id,
            Status::Fail,
            format!("no close frame within {} of ours, and the connection stayed open", secs(REACT)),
        ),
    }
}

/// The frame each violation check sends and the close code RFC 6455 wants for it.
pub fn violation_frame(id: CheckId) -> Option<(Crafted, u16, &'static str)> {
    let v = match id {
        // A lone continuation byte and an overlong encoding: never valid UTF-8.
        CheckId::Utf8 => (
            Crafted::new(craft::TEXT, vec![b'h', b'i', 0xC0, 0xAF, 0xFF]),
            1007,
            "§8.1",
        ),
        CheckId::Unmasked => (
            Crafted {
                mask: Mask::None,
                ..Crafted::new(craft::TEXT, "unmasked")
            },
            1002,
            "§5.1",
        ),
        CheckId::Rsv => (
            Crafted {
                rsv2: true,
                ..Crafted::new(craft::TEXT, "rsv2")
            },
            1002,
            "§5.2",
        ),
        CheckId::Opcode => (Crafted::new(0x3, "reserved"), 1002, "§5.2"),
        CheckId::ControlFragmented => (
            Crafted {
                fin: false,
                ..Crafted::new(craft::PING, "fragment")
            },
            1002,
            "§5.5",
        ),
        CheckId::ControlOversized => (Crafted::new(craft::PING, vec![b'x'; 126]), 1002, "§5.5"),
        _ => return None,
    };
    Some(v)
}

/// A violation check: the first round's single frames and [`violations::of`]'s, each try on
/// its own connection, at once.
pub async fn violation(p: &Probe, id: CheckId) -> Outcome {
    let v = match (violations::of(id), violation_frame(id)) {
        (Some(v), _) => v,
        (None, Some((frame, want, section))) => Violation {
            tries: vec![(String::new(), frame.encode())],
            want: if want == 1007 { &[1007] } else { &[1002] },
            section,
            through: Status::Fail,
            react: REACT,
            drop_ok: false,
            pinged: true,
        },
        (None, None) => return Outcome::new(id, Status::NotApplicable, "not a violation check"),
    };
    let results = join_all(v.tries.iter().map(|(_, bytes)| attempt(p, id, &v, bytes))).await;
    let labelled: Vec<(&str, Outcome)> = v
        .tries
        .iter()
        .map(|(l, _)| l.as_str())
        .zip(results)
        .collect();
    summarize(id, labelled)
}

/// One line for several tries: the worst verdict, the tries that did worse than pass by name.
fn summarize(id: CheckId, mut tries: Vec<(&str, Outcome)>) -> Outcome {
    if tries.len() == 1 {
        return tries.remove(0).1;
    }
    let rank = |s: Status| match s {
        Status::Fail => 3,
        Status::Warn => 2,
        Status::Pass => 1,
        Status::NotApplicable => 0,
    };
    let worst = tries.iter().map(|(_, o)| o.status).max_by_key(|&s| rank(s));
    let worst = worst.unwrap_or(Status::NotApplicable);
    let (good, bad): (Vec<_>, Vec<_>) = tries.iter().partition(|(_, o)| o.status == Status::Pass);
    let mut parts: Vec<String> = bad
        .iter()
        .map(|(l, o)| format!("{l}: {}", o.detail))
        .collect();
    if !good.is_empty() {
        let labels: Vec<&str> = good.iter().map(|(l, _)| *l).collect();
        // Each pass closed with a wanted code: the server's reasons differ per try.
        parts.push(format!(
            "{}: each closed as RFC 6455 wants",
            labels.join(", ")
        ));
    }
    Outcome::new(id, worst, parts.join("; "))
}

/// One try of a violation: its bytes, then a ping (when one can still be read as such), and
/// what the server did.
async fn attempt(p: &Probe, id: CheckId, v: &Violation, frame: &[u8]) -> Outcome {
    let mut w = match p.open_plain(id).await {
        Ok(w) => w,
        Err(o) => return o,
    };
    let (want, section) = (v.want[0], v.section);
    let t = short_token();
    let mut bytes = frame.to_vec();
    if v.pinged {
        bytes.extend(Crafted::new(craft::PING, t.clone()).encode());
    }
    if !w.send(&bytes).await {
        return Outcome::new(
            id,
            Status::Warn,
            format!("dropped the connection without a close {want} (RFC 6455 {section})"),
        );
    }
    let until = tokio::time::Instant::now() + v.react;
    let mut answer = match v.pinged {
        true => w.pong(&t, until).await,
        false => w.closed(until).await,
    };
    let mut late = "";
    if matches!(answer, Answer::Pong) {
        // Some servers judge a message only when the application reads it, after their
        // library has answered the ping: give the close a moment to follow.
        answer = match w.closed(tokio::time::Instant::now() + LATE).await {
            Answer::Timeout => Answer::Pong,
            other => other,
        };
        late = " (after answering the ping behind it)";
    }
    let o = match answer {
        Answer::Closed(c) if c.code.is_some_and(|code| v.want.contains(&code)) => {
            Outcome::new(id, Status::Pass, format!("closed with {c}{late}"))
        }
        Answer::Closed(c) => Outcome::new(
            id,
            Status::Warn,
            format!("closed with {c}{late}; RFC 6455 {section} wants {want}"),
        ),
        Answer::Dropped if v.drop_ok => Outcome::new(
            id,
            Status::Pass,
            format!("dropped the connection{late} (a close {want} is politer)"),
        ),
        Answer::Dropped => Outcome::new(
            id,
            Status::Warn,
            format!("dropped the connection without a close {want}{late} (RFC 6455 {section})"),
        ),
        Answer::Pong => Outcome::new(
            id,
            v.through,
            format!("let it through: answered the ping behind it and did not close with {want} (RFC 6455 {section})"),
        ),
        Answer::Timeout if !v.pinged => Outcome::new(
            id,
            Status::Warn,
            format!("no reaction within {}: it waits for the payload instead of closing with {want} (RFC 6455 {section})", secs(v.react)),
        ),
        Answer::Timeout => Outcome::new(
            id,
            Status::Fail,
            format!("no reaction within {}: neither a close {want} nor a pong", secs(v.react)),
        ),
    };
    w.leave().await;
    o
}

fn deadline() -> tokio::time::Instant {
    tokio::time::Instant::now() + REACT
}

/// An RTT as it reads best: 0.3 ms, 12 ms, 1.2 s.
pub fn rtt(d: Duration) -> String {
    if d < Duration::from_millis(10) {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    } else {
        secs(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::frame::FrameDecoder;

    /// Each violation frame breaks exactly the rule its check names, as the decoder reads it.
    #[test]
    fn each_violation_frame_breaks_its_rule() {
        let decode = |id| {
            let (c, want, _) = violation_frame(id).expect("a violation check");
            let mut out = Vec::new();
            FrameDecoder::new(256).feed(&c.encode(), &mut out);
            (out.pop().expect("one whole frame"), want)
        };
        let (f, want) = decode(CheckId::Utf8);
        assert!(std::str::from_utf8(&f.payload).is_err() && want == 1007);
        assert_eq!(decode(CheckId::Unmasked).0.mask, None);
        assert!(decode(CheckId::Rsv).0.rsv2);
        assert_eq!(decode(CheckId::Opcode).0.opcode, 3);
        let (f, _) = decode(CheckId::ControlFragmented);
        assert_eq!((f.opcode, f.fin), (craft::PING, false));
        let (f, _) = decode(CheckId::ControlOversized);
        assert_eq!((f.opcode, f.payload_len), (craft::PING, 126));
        assert!(violation_frame(CheckId::Ping).is_none());
    }
}
