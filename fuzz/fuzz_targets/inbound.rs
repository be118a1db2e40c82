//! Fuzz target for the fail-fast UTF-8 watch under the WebSocket library:
//! the verdict on a byte stream does not depend on how the socket split it,
//! and it matches what the `--dump` frame decoder's view of the same bytes
//! says about the text messages in them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wscope::wire::frame::FrameDecoder;
use wscope::wire::guard::Watch;

/// Feed pieces in order; false from the first piece that makes a text message invalid.
fn watch(pieces: &[&[u8]]) -> bool {
    let mut w = Watch::default();
    pieces.iter().all(|p| w.feed(p))
}

/// The same question answered from whole decoded frames: is some text
/// message (fragments concatenated, control frames skipped) invalid UTF-8
/// in the bytes that arrived? A cut-off last character is not yet invalid.
fn reference(wire: &[u8]) -> bool {
    let mut decoder = FrameDecoder::new(wire.len());
    let mut frames = Vec::new();
    decoder.feed(wire, &mut frames);
    frames.extend(decoder.finish());
    let mut in_text = false;
    let mut message = Vec::new();
    for f in &frames {
        if !f.header_complete() || f.payload_len > i64::MAX as u64 {
            // The watch stops watching a length tungstenite will refuse.
            break;
        }
        let text = match f.opcode {
            0x1 => {
                message.clear();
                in_text = !f.fin;
                true
            }
            0x0 => {
                let text = in_text;
                if f.fin {
                    in_text = false;
                }
                text
            }
            0x2 => {
                in_text = false;
                false
            }
            _ => false,
        };
        if text {
            message.extend_from_slice(&f.payload);
            if let Err(e) = std::str::from_utf8(&message) {
                if e.error_len().is_some() {
                    return false;
                }
            }
        }
    }
    true
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks a split point; a second split exercises a
    // three-piece read.
    let [a, wire @ ..] = data else {
        return;
    };
    let split = usize::from(*a) % (wire.len() + 1);
    let (head, tail) = wire.split_at(split);
    let whole = watch(&[wire]);
    assert_eq!(
        whole,
        watch(&[head, tail]),
        "split at {split} changed the verdict"
    );
    let mid = tail.len() / 2;
    assert_eq!(whole, watch(&[head, &tail[..mid], &tail[mid..]]));
    let bytewise: Vec<&[u8]> = wire.chunks(1).collect();
    assert_eq!(whole, watch(&bytewise), "byte-by-byte changed the verdict");
    assert_eq!(whole, reference(wire), "the frame decoder disagrees");
});
