//! `deflate-bomb` (asked for by name: it sends about a megabyte): one message that inflates to
//! 1 GiB of zeros, sent as ~1 MiB of permessage-deflate data, then a ping. A server with a
//! limit on the inflated size closes (1009) or drops the connection before it is done: the pass.
//! One that answers the ping took the whole gigabyte: the fail. wscope never holds the gigabyte:
//! one megabyte of zeros is compressed once (a sync-flushed piece whose back-references reach
//! only zeros) and the piece is repeated, which is a valid deflate stream of the whole.

use flate2::{Compress, Compression, FlushCompress};

use super::wire::{self, short_token, Answer};
use super::Probe;
use crate::probe_checks::{CheckId, Outcome, Status};
use crate::wire::craft::{self, Crafted, Mask};

const INFLATED: usize = 1 << 30;
const PIECE: usize = 1 << 20;
/// Pieces per frame: the message goes as a few dozen frames of ~64 KiB.
const PER_FRAME: usize = 64;
/// How long the server gets to inflate (or refuse) it all.
const WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// One megabyte of zeros, raw-deflated and sync-flushed (it ends in 00 00 FF FF).
pub fn piece() -> Vec<u8> {
    let zeros = vec![0u8; PIECE];
    let mut c = Compress::new(Compression::best(), false);
    let mut out = Vec::with_capacity(64 << 10);
    while (c.total_in() as usize) < PIECE || !out.ends_with(&[0, 0, 0xFF, 0xFF]) {
        let fed = c.total_in() as usize;
        if out.len() == out.capacity() {
            out.reserve(64 << 10);
        }
        if c.compress_vec(&zeros[fed..], &mut out, FlushCompress::Sync)
            .is_err()
        {
            break;
        }
    }
    out
}

/// The frames of the bomb: the first binary with RSV1 (compressed), continuations after it,
/// the last without the sync marker (RFC 7692 §7.2.1). Masked with a zero key: legal, and no
/// byte-by-byte pass over a megabyte.
pub fn frames(piece: &[u8]) -> Vec<u8> {
    let count = INFLATED / PIECE;
    let mut out = Vec::with_capacity(piece.len() * count + 16 * count / PER_FRAME);
    let mut sent = 0;
    while sent < count {
        let n = PER_FRAME.min(count - sent);
        let mut payload = piece.repeat(n);
        let last = sent + n == count;
        if last {
            payload.truncate(payload.len() - 4);
        }
        let f = Crafted {
            fin: last,
            rsv1: sent == 0,
            mask: Mask::Key([0; 4]),
            ..Crafted::new(
                if sent == 0 {
                    craft::BINARY
                } else {
                    craft::CONTINUATION
                },
                payload,
            )
        };
        out.extend(f.encode());
        sent += n;
    }
    out
}

pub async fn bomb(p: &Probe) -> Outcome {
    let id = CheckId::DeflateBomb;
    let piece = piece();
    let bytes = frames(&piece);
    if bytes.len() > p.max {
        return Outcome::new(
            id,
            Status::NotApplicable,
            format!(
                "not sent: the bomb is {} bytes on the wire, over --probe-max ({}); raise it",
                bytes.len(),
                super::limit::size_name(p.max)
            ),
        );
    }
    let mut conn = p.conn.clone();
    if conn.deflate.is_none() {
        conn.deflate = Some(crate::deflate::Offer::browser());
    }
    let opened = wire::open(&p.target, &conn).await;
    p.contact(id, opened.as_ref().err());
    let (report, mut w) = match opened {
        Ok(o) => o,
        Err((_, e)) => return super::no_connection(id, &e),
    };
    if report.verdict.as_ref().and_then(|v| v.deflate).is_none() {
        w.leave().await;
        return Outcome::new(
            id,
            Status::NotApplicable,
            "declined permessage-deflate: nothing inflates what it receives",
        );
    }
    let t = short_token();
    let mut all = bytes;
    all.extend(Crafted::new(craft::PING, t.clone()).encode());
    let sent = super::limit::size_name(all.len());
    let deadline = tokio::time::Instant::now() + WAIT;
    let answer = super::limit::send_and_ping(&mut w, &all, &t, deadline).await;
    let o = match answer {
        Answer::Pong => Outcome::new(
            id,
            Status::Fail,
            format!(
                "took a message that inflates to 1 GiB ({sent} of deflate data) and answered the \
                 ping behind it: it inflates without a limit (set a maximum message size that \
                 applies after inflation)"
            ),
        ),
        Answer::Closed(c) => Outcome::new(
            id,
            Status::Pass,
            format!("closed with {c} on a message that inflates to 1 GiB ({sent} sent)"),
        ),
        Answer::Dropped => Outcome::new(
            id,
            Status::Pass,
            format!("dropped the connection on a message that inflates to 1 GiB ({sent} sent); a close 1009 is politer"),
        ),
        Answer::Timeout => Outcome::new(
            id,
            Status::Warn,
            format!(
                "no answer within {} to a message that inflates to 1 GiB: still inflating it?",
                crate::error::secs(WAIT)
            ),
        ),
    };
    w.leave().await;
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Repeated pieces are one deflate stream of zeros, a thousand times smaller.
    #[test]
    fn the_pieces_inflate_to_zeros() {
        let piece = piece();
        assert!(piece.len() < PIECE / 500, "{} bytes", piece.len());
        let stream = piece.repeat(3);
        let mut d = flate2::Decompress::new(false);
        let mut out = Vec::with_capacity(4 * PIECE);
        d.decompress_vec(&stream, &mut out, flate2::FlushDecompress::Sync)
            .unwrap();
        assert_eq!(out.len(), 3 * PIECE);
        assert!(out.iter().all(|&b| b == 0));
        let frames = frames(&piece);
        assert!(frames.len() < 2 << 20, "{} bytes on the wire", frames.len());
        assert_eq!(frames[0], 0x40 | 0x02, "RSV1, binary, not final");
    }
}
