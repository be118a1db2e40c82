//! `max-message`: the largest message the server takes. Binary messages grow four-fold from
//! 1 KiB to `--probe-max`, each followed by a ping, on one connection: the pong says the message
//! was taken; a close (1009 is the code for it) or a drop says where the limit is. Every step has
//! its own deadline, longer for bigger messages.

use std::time::Duration;

use super::wire::{short_token, Answer};
use super::Probe;
use crate::probe_checks::{CheckId, Outcome, Status};
use crate::wire::craft::{self, Crafted};

const FIRST: usize = 1024;
const GROWTH: usize = 4;

/// The sizes tried, in order: powers of four KiB below `max`, then `max` itself.
pub fn steps(max: usize) -> Vec<usize> {
    let mut v = Vec::new();
    let mut n = FIRST.min(max);
    while n < max {
        v.push(n);
        n = n.saturating_mul(GROWTH);
    }
    v.push(max);
    v
}

/// A step's deadline: two seconds, and one more for every 2 MiB sent (a server that is slow to
/// take 16 MiB has not refused it).
fn step_time(size: usize) -> Duration {
    Duration::from_secs(2) + Duration::from_millis((size / (2 << 10)) as u64)
}

pub async fn max_message(p: &Probe) -> Outcome {
    let id = CheckId::MaxMessage;
    let mut w = match p.open_plain(id).await {
        Ok(w) => w,
        Err(o) => return o,
    };
    let mut accepted = None;
    for size in steps(p.max) {
        // Short: a server that cuts pongs short still echoes it whole.
        let t = short_token();
        // A zero masking key: the frame is masked as a client's must be, and a message of
        // megabytes is not XORed byte by byte (what it carries is of no interest to anyone).
        let message = Crafted {
            mask: craft::Mask::Key([0; 4]),
            ..Crafted::new(craft::BINARY, vec![0x5A; size])
        };
        let mut bytes = message.encode();
        bytes.extend(Crafted::new(craft::PING, t.clone()).encode());
        let deadline = tokio::time::Instant::now() + step_time(size);
        // Written and read at once: an echoing server must be able to send while we write.
        let answer = send_and_ping(&mut w, &bytes, &t, deadline).await;
        let taken = |a: Option<usize>| match a {
            Some(n) => format!("largest accepted {}", size_name(n)),
            None => "not even the first message was accepted".into(),
        };
        let refused = match answer {
            Answer::Pong => {
                accepted = Some(size);
                continue;
            }
            Answer::Closed(c) if c.code == Some(1009) => {
                let o = Outcome::new(
                    id,
                    Status::Pass,
                    format!("{}; {} refused with {c}", taken(accepted), size_name(size)),
                );
                w.leave().await;
                return o;
            }
            Answer::Closed(c) => format!(
                "{} refused with {c} (1009 is the code for a message too big, RFC 6455 §7.4.1)",
                size_name(size)
            ),
            Answer::Dropped => format!(
                "{} dropped the connection without a close 1009",
                size_name(size)
            ),
            Answer::Timeout => format!(
                "no answer within {} to a {} message",
                crate::error::secs(step_time(size)),
                size_name(size)
            ),
        };
        let status = if accepted.is_some() {
            Status::Warn
        } else {
            Status::Fail
        };
        return Outcome::new(id, status, format!("{}; {refused}", taken(accepted)));
    }
    w.leave().await;
    Outcome::new(
        id,
        Status::Pass,
        format!(
            "accepted {} (--probe-max): no limit at or below it",
            size_name(p.max)
        ),
    )
}

/// Write a message and its ping while reading: an echoing server must be able to send while we
/// write. Once the server has answered, what is left of the write no longer matters.
pub async fn send_and_ping(
    w: &mut super::wire::Wire,
    bytes: &[u8],
    token: &[u8],
    deadline: tokio::time::Instant,
) -> Answer {
    let super::wire::Wire { reader, wr } = w;
    let write = tokio::time::timeout_at(deadline, super::wire::write(wr, bytes));
    let read = reader.pong(token, deadline);
    tokio::pin!(write, read);
    let mut written = false;
    loop {
        tokio::select! {
            _ = &mut write, if !written => written = true,
            a = &mut read => return a,
        }
    }
}

/// 1 KiB, 16 MiB, 1500 bytes.
pub fn size_name(n: usize) -> String {
    const UNITS: [(usize, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (unit, name) in UNITS {
        if n >= unit && n % unit == 0 {
            return format!("{} {name}", n / unit);
        }
    }
    format!("{n} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_grow_four_fold_up_to_the_maximum() {
        assert_eq!(steps(16 << 20).len(), 8);
        assert_eq!(steps(16 << 20).last(), Some(&(16 << 20)));
        assert_eq!(steps(5000), vec![1024, 4096, 5000]);
        assert_eq!(steps(200), vec![200]);
        assert_eq!(size_name(16 << 20), "16 MiB");
        assert_eq!(size_name(1500), "1500 bytes");
    }
}
