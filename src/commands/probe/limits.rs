//! The limits a server keeps, found with manners (each asked for: `--only`, `--probe-idle`,
//! `--probe-conns`): `max-frame` (the largest single frame, grown four-fold then bisected to
//! within a sixteenth, never above `--probe-max`), `idle` (how long an idle connection lives,
//! up to `--probe-idle`), `server-ping` (whether and how often the server pings an idle client)
//! and `connections` (how many connections one client gets, up to `--probe-conns`). No more
//! than `--probe-rate` messages or new connections a second; every step has its deadline.

use std::time::Duration;

use tokio::time::{sleep, Instant};

use super::limit::{send_and_ping, size_name, steps};
use super::wire::{short_token, Answer, Seen, Wire};
use super::Probe;
use crate::error::secs;
use crate::probe_checks::{CheckId, Outcome, Status};
use crate::wire::craft::{self, Crafted};

/// At most this many bisection steps after the growth.
const BISECT: usize = 10;

impl Probe {
    /// The pause between two messages or connections at `--probe-rate`.
    fn gap(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.rate)
    }
}

/// How a frame of one size went.
enum Took {
    Yes,
    /// Refused: how, and whether that is the way RFC 6455 says (1009).
    No(String, bool),
}

async fn try_size(w: &mut Wire, size: usize) -> Took {
    let t = short_token();
    let message = Crafted {
        mask: craft::Mask::Key([0; 4]),
        ..Crafted::new(craft::BINARY, vec![0x5A; size])
    };
    let mut bytes = message.encode();
    bytes.extend(Crafted::new(craft::PING, t.clone()).encode());
    let wait = Duration::from_secs(2) + Duration::from_millis((size / (2 << 10)) as u64);
    match send_and_ping(w, &bytes, &t, Instant::now() + wait).await {
        Answer::Pong => Took::Yes,
        Answer::Closed(c) => Took::No(format!("refused with {c}"), c.code == Some(1009)),
        Answer::Dropped => Took::No("dropped the connection".into(), false),
        Answer::Timeout => Took::No(format!("no answer within {}", secs(wait)), false),
    }
}

pub async fn max_frame(p: &Probe) -> Outcome {
    let id = CheckId::MaxFrame;
    let mut w = match p.open_plain(id).await {
        Ok(w) => w,
        Err(o) => return o,
    };
    let mut taken = 0usize;
    let mut refused: Option<(usize, String, bool)> = None;
    for size in steps(p.max) {
        match try_size(&mut w, size).await {
            Took::Yes => taken = size,
            Took::No(how, ok) => {
                refused = Some((size, how, ok));
                break;
            }
        }
        sleep(p.gap()).await;
    }
    let Some((mut high, mut how, mut ok)) = refused else {
        w.leave().await;
        return Outcome::new(
            id,
            Status::Pass,
            format!(
                "accepted a {} frame (--probe-max): no limit at or below it",
                size_name(p.max)
            ),
        );
    };
    // The connection is closed after a refusal: each bisection step gets a new one.
    let mut tries = 0;
    while high - taken > (high / 16).max(1) && tries < BISECT {
        tries += 1;
        sleep(p.gap()).await;
        let mid = taken + (high - taken) / 2;
        let mut w = match p.open_plain(id).await {
            Ok(w) => w,
            Err(o) => return o,
        };
        match try_size(&mut w, mid).await {
            Took::Yes => {
                taken = mid;
                w.leave().await;
            }
            Took::No(h, o) => (high, how, ok) = (mid, h, o),
        }
    }
    let found = format!(
        "largest frame accepted {} bytes, {} bytes {how}",
        taken, high
    );
    match (taken, ok) {
        (0, _) => Outcome::new(
            id,
            Status::Fail,
            format!("{found}: not even the smallest frame"),
        ),
        (_, true) => Outcome::new(id, Status::Pass, found),
        (_, false) => Outcome::new(
            id,
            Status::Warn,
            format!("{found} (1009 is the code for a message too big, RFC 6455 §7.4.1)"),
        ),
    }
}

/// An idle connection watched for `--probe-idle`: the pings the server sent (answered with
/// pongs, as a client must) and how it ended.
struct Watched {
    pings: Vec<Duration>,
    end: Option<String>,
    after: Duration,
}

async fn watch(p: &Probe, id: CheckId) -> Result<Watched, Outcome> {
    let Some(limit) = p.idle else {
        return Err(Outcome::new(
            id,
            Status::NotApplicable,
            "not run: give --probe-idle SECS, the longest wait",
        ));
    };
    let mut w = p.open_plain(id).await?;
    let start = Instant::now();
    let deadline = start + limit;
    let mut pings = Vec::new();
    let end = loop {
        match w.reader.next(deadline).await {
            Seen::Frame(f) if f.opcode == craft::PING => {
                pings.push(start.elapsed());
                let pong = Crafted::new(craft::PONG, f.payload.clone()).encode();
                if !w.send(&pong).await {
                    break Some("dropped the connection".to_string());
                }
            }
            Seen::Frame(f) if f.opcode == craft::CLOSE => {
                let c = super::wire::Close::of(&f);
                break Some(format!("closed with {c}"));
            }
            Seen::Frame(_) => continue,
            Seen::Dropped => break Some("dropped the connection".to_string()),
            Seen::Timeout => break None,
        }
    };
    let after = start.elapsed();
    if end.is_none() {
        w.leave().await;
    }
    Ok(Watched { pings, end, after })
}

pub async fn idle(p: &Probe) -> Outcome {
    let id = CheckId::Idle;
    let w = match watch(p, id).await {
        Ok(w) => w,
        Err(o) => return o,
    };
    let pinged = match w.pings.len() {
        0 => String::new(),
        n => format!(" (it pinged {n} times, answered)"),
    };
    match w.end {
        Some(how) => Outcome::new(
            id,
            Status::Pass,
            format!("{how} after {} idle{pinged}", secs(w.after)),
        ),
        None => Outcome::new(
            id,
            Status::Warn,
            format!(
                "kept an idle connection open for {} (--probe-idle){pinged}: idle clients hold \
                 its resources for as long as they like",
                secs(w.after)
            ),
        ),
    }
}

pub async fn server_ping(p: &Probe) -> Outcome {
    let id = CheckId::ServerPing;
    let w = match watch(p, id).await {
        Ok(w) => w,
        Err(o) => return o,
    };
    let ended = w.end.map(|e| format!("; then it {e}")).unwrap_or_default();
    match w.pings.as_slice() {
        [] => Outcome::new(
            id,
            Status::Warn,
            format!(
                "no ping in {}{ended}: a dead client is found only when TCP gives up",
                secs(w.after)
            ),
        ),
        [first] => Outcome::new(
            id,
            Status::Pass,
            format!("pinged once, after {}{ended}", secs(*first)),
        ),
        [first, .., last] => {
            let every = (*last - *first) / (w.pings.len() as u32 - 1);
            Outcome::new(
                id,
                Status::Pass,
                format!(
                    "pinged {} times, first after {}, then every {}{ended}",
                    w.pings.len(),
                    secs(*first),
                    secs(every)
                ),
            )
        }
    }
}

pub async fn connections(p: &Probe) -> Outcome {
    let id = CheckId::Connections;
    if p.conns == 0 {
        return Outcome::new(
            id,
            Status::NotApplicable,
            "not run: give --probe-conns N, the most connections to open",
        );
    }
    // Held as upgraded streams only: no reading buffer per connection.
    let mut held = Vec::new();
    let mut refusal = None;
    for n in 1..=p.conns {
        let (report, opened) = crate::handshake::open(&p.target, &p.conn).await;
        match (opened, report.response.as_ref()) {
            (Ok(up), _) => held.push(up),
            (Err(_), Some(r)) => {
                refusal = Some((n, Ok(r.status)));
                break;
            }
            (Err(e), None) => {
                refusal = Some((
                    n,
                    Err(crate::printer::escape::escape(&e.to_string()).into_owned()),
                ));
                break;
            }
        }
        sleep(p.gap()).await;
    }
    let open = held.len();
    drop(held);
    match refusal {
        Some((n, Ok(status))) => Outcome::new(
            id,
            Status::Pass,
            format!("connection {n} refused with {status}, with {open} open: a per-client limit"),
        ),
        // No HTTP answer: the server's backlog, a firewall, or our own limit on open files.
        Some((n, Err(why))) => Outcome::new(
            id,
            Status::Warn,
            format!("connection {n} could not be opened, with {open} open, and the server said nothing: {why}"),
        ),
        None => Outcome::new(
            id,
            Status::Warn,
            format!(
                "accepted all {open} connections at once (--probe-conns): no per-client limit up to {open}"
            ),
        ),
    }
}
