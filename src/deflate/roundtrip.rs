//! The property that permessage-deflate rests on: whatever sequence of messages our sender
//! compresses (empty, 1 byte, at each length-form boundary, text and binary, with and without
//! context takeover, every window size), our receiver's inflating layer hands up the same
//! messages, in both roles.

use proptest::prelude::*;
use tokio::io::AsyncReadExt;
use tokio_tungstenite::tungstenite::Message;

use super::stream::Inflate;
use super::{Agreed, Link};
use crate::session::Role;
use crate::wire::frame::FrameDecoder;
use crate::wire::guard::WireFacts;
use crate::wire::header::Header;

const SIZES: [usize; 7] = [0, 1, 125, 126, 65535, 65536, 3];

/// Message `i`: `SIZES[size]` bytes, text or binary, compressible or not as `seed` says.
fn message(size: usize, text: bool, seed: u8) -> Message {
    let n = SIZES[size % SIZES.len()];
    let bytes: Vec<u8> = (0..n)
        .map(|i| match seed % 3 {
            0 => b'a' + (i % 7) as u8,
            1 => (i as u32).wrapping_mul(2_654_435_761).to_be_bytes()[0] % 128,
            _ => seed,
        })
        .collect();
    if text {
        // Every byte above is ASCII.
        Message::text(String::from_utf8(bytes).unwrap_or_default())
    } else {
        Message::binary(bytes)
    }
}

/// The wire bytes of what `sender` writes for `messages` (masked as a client's are).
fn sent(link: &Link, sender: Role, messages: &[Message]) -> Vec<u8> {
    let mut wire = Vec::new();
    for m in messages {
        let (frame, _) = link.outgoing(m.clone());
        let (rsv, opcode, payload) = match &frame {
            Message::Frame(f) => (0x40, u8::from(f.header().opcode), f.payload().to_vec()),
            Message::Text(t) => (0, 1, t.as_bytes().to_vec()),
            Message::Binary(b) => (0, 2, b.to_vec()),
            _ => continue,
        };
        let key = (sender == Role::Client).then_some([9, 8, 7, 6]);
        Header::new(true, rsv, opcode, key, payload.len() as u64).encode(&mut wire);
        match key {
            Some(k) => wire.extend(payload.iter().zip(k.iter().cycle()).map(|(b, k)| b ^ k)),
            None => wire.extend_from_slice(&payload),
        }
    }
    wire
}

/// What the receiver's inflating layer hands up, as (opcode, payload) per frame.
fn received(agreed: Agreed, receiver: Role, wire: Vec<u8>) -> Vec<(u8, Vec<u8>)> {
    let link = Link::new(agreed, receiver);
    let fresh = agreed.receiving_fresh(receiver);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let plain = rt.block_on(async {
        let mut s = Inflate::new(
            &wire[..],
            Vec::new(),
            fresh,
            1 << 20,
            WireFacts::default(),
            link,
        );
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.map(|_| out)
    });
    let plain = plain.unwrap_or_else(|e| panic!("the receiver failed: {e}"));
    let mut frames = Vec::new();
    FrameDecoder::new(1 << 20).feed(&plain, &mut frames);
    frames
        .into_iter()
        .map(|f| {
            assert!(!f.rsv1 && f.complete, "{f:?}");
            (f.opcode, f.payload)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_sequence_inflates_to_the_messages_sent(
        messages in proptest::collection::vec((0usize..7, any::<bool>(), any::<u8>()), 1..7),
        bits in 8u8..=15,
        takeover in any::<bool>(),
        client_sends in any::<bool>(),
    ) {
        let agreed = Agreed {
            server_no_context_takeover: !takeover,
            client_no_context_takeover: !takeover,
            server_max_window_bits: bits,
            client_max_window_bits: bits,
        };
        let (sender, receiver) = if client_sends {
            (Role::Client, Role::Server)
        } else {
            (Role::Server, Role::Client)
        };
        let messages: Vec<Message> =
            messages.iter().map(|(s, t, seed)| message(*s, *t, *seed)).collect();
        let link = Link::new(agreed, sender);
        let got = received(agreed, receiver, sent(&link, sender, &messages));
        let want: Vec<(u8, Vec<u8>)> = messages
            .iter()
            .map(|m| match m {
                Message::Text(t) => (1, t.as_bytes().to_vec()),
                other => (2, other.clone().into_data().to_vec()),
            })
            .collect();
        prop_assert_eq!(got, want);
    }
}
