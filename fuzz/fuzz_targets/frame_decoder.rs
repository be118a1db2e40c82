//! Fuzz target for the `--dump` frame decoder: arbitrary bytes, fed whole
//! and split at a derived point, must decode identically, account for every
//! input byte, and never panic or keep more than `limit` payload bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wscope::wire::frame::{Frame, FrameDecoder};

fn decode(limit: usize, pieces: &[&[u8]]) -> Vec<Frame> {
    let mut decoder = FrameDecoder::new(limit);
    let mut out = Vec::new();
    for piece in pieces {
        decoder.feed(piece, &mut out);
    }
    out.extend(decoder.finish());
    out
}

fuzz_target!(|data: &[u8]| {
    // The first two bytes steer the run so the fuzzer can explore limits
    // and split points; the rest is the wire data.
    let [a, b, wire @ ..] = data else {
        return;
    };
    let limit = usize::from(*a);
    let split = usize::from(*b) % (wire.len() + 1);
    let (head, tail) = wire.split_at(split);

    let whole = decode(limit, &[wire]);
    let pieces = decode(limit, &[head, tail]);
    assert_eq!(whole, pieces, "split at {split} changed the result");

    let mut accounted = 0u64;
    for frame in &whole {
        assert!(frame.raw_payload.len() <= limit);
        assert_eq!(frame.raw_payload.len(), frame.payload.len());
        assert!(frame.header.len() <= 14);
        accounted += frame.header.len() as u64 + frame.raw_payload.len() as u64 + frame.elided;
        let _ = frame.problems();
        let _ = frame.close_info();
        let _ = frame.opcode_name();
    }
    assert_eq!(accounted, wire.len() as u64, "bytes not accounted for");
});
