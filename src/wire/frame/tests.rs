//! The frame decoder's unit and property tests.

use super::*;
use proptest::prelude::*;

/// Encodes a frame; `form` forces a length encoding (None = minimal).
fn encode(b0: u8, mask: Option<[u8; 4]>, payload: &[u8], form: Option<LengthForm>) -> Vec<u8> {
    let len = payload.len() as u64;
    let form = form.unwrap_or(match len {
        0..=125 => LengthForm::Seven,
        126..=0xffff => LengthForm::Sixteen,
        _ => LengthForm::SixtyFour,
    });
    let mbit = if mask.is_some() { 0x80 } else { 0 };
    let mut v = vec![b0];
    match form {
        LengthForm::Seven => v.push(mbit | len as u8),
        LengthForm::Sixteen => {
            v.push(mbit | 126);
            v.extend_from_slice(&(len as u16).to_be_bytes());
        }
        LengthForm::SixtyFour => {
            v.push(mbit | 127);
            v.extend_from_slice(&len.to_be_bytes());
        }
    }
    match mask {
        Some(k) => {
            v.extend_from_slice(&k);
            v.extend(payload.iter().zip(k.iter().cycle()).map(|(b, k)| b ^ k));
        }
        None => v.extend_from_slice(payload),
    }
    v
}

fn decode(limit: usize, bytes: &[u8]) -> Vec<Frame> {
    let mut d = FrameDecoder::new(limit);
    let mut out = Vec::new();
    d.feed(bytes, &mut out);
    out.extend(d.finish());
    out
}

fn one(limit: usize, bytes: &[u8]) -> Frame {
    let mut frames = decode(limit, bytes);
    assert_eq!(frames.len(), 1, "{frames:?}");
    frames.remove(0)
}

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

#[test]
fn masked_hello_matches_rfc_example() {
    let bytes = encode(0x81, Some(KEY), b"Hello", None);
    assert_eq!(
        bytes,
        [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
    );
    let f = one(256, &bytes);
    assert!(f.fin && f.complete && !f.is_control());
    assert_eq!(f.opcode_name(), "text");
    assert_eq!(f.mask, Some(KEY));
    assert_eq!(f.payload, b"Hello");
    assert_eq!(f.raw_payload, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    assert_eq!(f.header.len(), 6);
    assert!(f.problems().is_empty());
}

#[test]
fn length_forms_at_boundaries() {
    for (len, form, header) in [
        (0usize, LengthForm::Seven, 2),
        (125, LengthForm::Seven, 2),
        (126, LengthForm::Sixteen, 4),
        (65535, LengthForm::Sixteen, 4),
        (65536, LengthForm::SixtyFour, 10),
    ] {
        let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let f = one(100, &encode(0x82, None, &payload, None));
        assert_eq!(
            (f.payload_len, f.length_form, f.header.len()),
            (len as u64, form, header)
        );
        assert_eq!(f.payload, payload[..len.min(100)]);
        assert_eq!(f.elided, len.saturating_sub(100) as u64);
        assert!(f.complete && !f.non_minimal_length && f.problems().is_empty());
    }
    assert_eq!(LengthForm::Sixteen.bits(), 16);
}

#[test]
fn non_minimal_lengths_are_flagged() {
    let f = one(
        256,
        &encode(0x81, None, b"hello", Some(LengthForm::Sixteen)),
    );
    assert_eq!((f.length_form, f.payload_len), (LengthForm::Sixteen, 5));
    assert!(f.non_minimal_length);
    assert_eq!(f.problems(), ["non-minimal payload length encoding"]);
    let f = one(
        256,
        &encode(0x82, None, &[0; 300], Some(LengthForm::SixtyFour)),
    );
    assert!(f.non_minimal_length && f.complete);
    let f = one(
        256,
        &encode(0x82, Some(KEY), &[0; 126], Some(LengthForm::Sixteen)),
    );
    assert!(!f.non_minimal_length);
    assert_eq!(f.payload, [0; 126]);
}

#[test]
fn unmasking_continues_across_split_reads_and_the_limit() {
    let payload: Vec<u8> = (0..50).collect();
    let bytes = encode(0x82, Some(KEY), &payload, None);
    let mut d = FrameDecoder::new(10);
    let mut out = Vec::new();
    for chunk in bytes.chunks(3) {
        d.feed(chunk, &mut out);
    }
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].payload, payload[..10]);
    assert_eq!(out[0].raw_payload, bytes[6..16]);
    assert_eq!(out[0].elided, 40);
}

#[test]
fn fragmented_text_message() {
    let mut bytes = encode(0x01, None, b"hel", None);
    bytes.extend(encode(0x80, None, b"lo", None));
    let frames = decode(256, &bytes);
    assert_eq!(frames.len(), 2);
    assert!(!frames[0].fin && frames[1].fin);
    assert_eq!(frames[1].opcode_name(), "continuation");
    assert!(frames.iter().all(|f| f.problems().is_empty()));
}

#[test]
fn split_at_every_boundary_and_many_frames_per_read() {
    let mut bytes = encode(0x81, Some(KEY), b"Hello", None);
    bytes.extend(encode(0x89, None, b"", None));
    bytes.extend(encode(0x82, None, &[7; 200], None));
    bytes.extend(encode(0x88, None, &[0x03, 0xe8], None));
    let whole = decode(64, &bytes);
    assert_eq!(whole.len(), 4);
    for i in 0..=bytes.len() {
        for j in i..=bytes.len() {
            let mut d = FrameDecoder::new(64);
            let mut out = Vec::new();
            d.feed(&bytes[..i], &mut out);
            d.feed(&bytes[i..j], &mut out);
            d.feed(&bytes[j..], &mut out);
            assert!(d.finish().is_none());
            assert_eq!(out, whole, "split at {i},{j}");
        }
    }
}

#[test]
fn reserved_opcodes() {
    let f = one(256, &[0x83, 0x00]);
    assert_eq!(f.opcode_name(), "reserved-non-control(0x3)");
    assert_eq!(f.problems(), ["reserved opcode 0x3"]);
    let f = one(256, &[0x8f, 0x00]);
    assert_eq!(f.opcode_name(), "reserved-control(0xf)");
    assert!(f.is_control());
    assert_eq!(f.problems(), ["reserved opcode 0xf"]);
}

#[test]
fn rsv_bits_are_reported() {
    let f = one(256, &[0xc1 | 0x30, 0x00]);
    assert!(f.rsv1 && f.rsv2 && f.rsv3);
    assert_eq!(f.problems().len(), 3);
}

#[test]
fn big_and_fragmented_control_frames() {
    let f = one(256, &encode(0x89, None, &[1; 126], None));
    assert_eq!(f.problems(), ["control frame payload > 125 bytes"]);
    let f = one(256, &encode(0x0a, None, b"x", None));
    assert_eq!(f.problems(), ["fragmented control frame (FIN=0)"]);
}

#[test]
fn absurd_length_is_skipped_without_allocating() {
    let mut d = FrameDecoder::new(16);
    let mut out = Vec::new();
    d.feed(&[0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0], &mut out);
    for _ in 0..100 {
        d.feed(&[0xaa; 4096], &mut out);
    }
    assert!(out.is_empty());
    let f = d.finish().unwrap();
    assert_eq!(f.payload_len, 1 << 63);
    assert!(f.raw_payload.capacity() < 1024 && f.payload.capacity() < 1024);
    assert_eq!((f.raw_payload.len(), f.elided), (16, 100 * 4096 - 16));
    assert_eq!(
        f.problems(),
        [
            "64-bit length with most significant bit set",
            "truncated: stream ended mid-frame"
        ]
    );
}

#[test]
fn close_frames() {
    let f = one(256, &encode(0x88, None, b"\x03\xe8bye", None));
    let c = f.close_info().unwrap();
    assert_eq!(
        (c.code, c.reason.as_str(), c.problem),
        (Some(1000), "bye", None)
    );
    assert!(f.problems().is_empty());

    let f = one(256, &encode(0x88, Some(KEY), &1005u16.to_be_bytes(), None));
    let c = f.close_info().unwrap();
    assert_eq!(c.code, Some(1005));
    assert_eq!(crate::wire::close::name(1005), "no status received");
    assert_eq!(f.problems(), ["close code not allowed on the wire"]);

    let f = one(256, &encode(0x88, None, &[0x03], None));
    assert_eq!(f.close_info().unwrap().code, None);
    assert_eq!(
        f.problems(),
        ["close body of 1 byte (a status code needs 2)"]
    );

    let f = one(256, &encode(0x88, None, b"\x03\xe8\xff", None));
    assert_eq!(f.close_info().unwrap().reason, "\u{fffd}");
    assert_eq!(f.problems(), ["close reason is not valid UTF-8"]);

    let f = one(256, &[0x88, 0x00]);
    let c = f.close_info().unwrap();
    assert_eq!((c.code, c.problem), (None, None));
    assert!(one(256, &[0x81, 0x00]).close_info().is_none());
}

#[test]
fn truncated_header_and_payload() {
    let f = one(256, &[0x81, 0xfe, 0x01]);
    assert!(!f.complete && !f.header_complete() && f.mask.is_none());
    assert_eq!((f.header.len(), f.payload_len), (3, 0));
    let f = one(256, &[0x81, 0x05, b'h', b'e']);
    assert!(!f.complete && f.header_complete());
    assert_eq!((f.payload_len, f.payload.as_slice()), (5, &b"he"[..]));
    assert!(decode(256, &[]).is_empty());
}

/// Header bytes, kept payload and elided counts add up to the input.
fn accounted(frames: &[Frame]) -> u64 {
    frames
        .iter()
        .map(|f| f.header.len() as u64 + f.raw_payload.len() as u64 + f.elided)
        .sum()
}

#[test]
fn a_frame_in_progress_when_the_dump_goes_off_is_dropped_whole() {
    let a = encode(0x81, None, b"first frame", None);
    let b = encode(0x81, None, b"second", None);
    let mut d = FrameDecoder::new(1000);
    let mut out = Vec::new();
    d.feed(&a[..5], &mut out);
    d.skip(&a[5..]);
    d.feed(&b, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].payload, b"second");
    assert!(out[0].complete);
}

proptest! {
    #[test]
    fn chunking_never_changes_the_result(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
        limit in 0usize..300,
    ) {
        let whole = decode(limit, &bytes);
        prop_assert_eq!(accounted(&whole), bytes.len() as u64);
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        cuts.sort_unstable();
        let mut d = FrameDecoder::new(limit);
        let mut out = Vec::new();
        let mut prev = 0;
        for c in cuts.into_iter().chain([bytes.len()]) {
            d.feed(&bytes[prev..c], &mut out);
            prev = c;
        }
        out.extend(d.finish());
        prop_assert_eq!(out, whole);
    }

    /// Skipping a prefix (the dump was off) and then decoding shows exactly the frames whose
    /// header was not complete at the switch, whatever the frames and wherever it falls.
    #[test]
    fn skip_then_feed_shows_the_frames_that_start_after_the_switch(
        payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 1..6),
        masked in any::<bool>(),
        cut in any::<usize>(),
        split in any::<usize>(),
    ) {
        let key = masked.then_some([1, 2, 3, 4]);
        let frames: Vec<Vec<u8>> = payloads.iter().map(|p| encode(0x82, key, p, None)).collect();
        let bytes: Vec<u8> = frames.concat();
        let cut = cut % (bytes.len() + 1);
        let mut header_ends = Vec::new();
        let mut at = 0;
        for (f, p) in frames.iter().zip(&payloads) {
            header_ends.push(at + f.len() - p.len());
            at += f.len();
        }
        let want: Vec<Vec<u8>> = header_ends.iter().zip(&payloads)
            .filter(|(end, _)| **end > cut)
            .map(|(_, p)| p.clone())
            .collect();
        let mut d = FrameDecoder::new(1000);
        // The skipped part in two calls, as a tap gets it.
        let split = split % (cut + 1);
        d.skip(&bytes[..split]);
        d.skip(&bytes[split..cut]);
        let mut out = Vec::new();
        d.feed(&bytes[cut..], &mut out);
        let got: Vec<Vec<u8>> = out.into_iter().map(|f| f.payload).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn encoded_frames_round_trip(
        payload in proptest::collection::vec(any::<u8>(), 0..400),
        b0 in any::<u8>(),
        key in proptest::option::of(any::<[u8; 4]>()),
    ) {
        let f = one(1000, &encode(b0, key, &payload, None));
        prop_assert!(f.complete);
        prop_assert_eq!(&f.payload, &payload);
        prop_assert_eq!(f.mask, key);
        let _ = f.problems();
    }
}
