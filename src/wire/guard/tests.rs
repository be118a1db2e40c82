//! The guard's unit tests: the watch fed in every split, and the stream wrapper.

use super::*;

fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![first];
    match payload.len() {
        n if n < 126 => f.push(n as u8),
        n => {
            f.push(126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
    }
    f.extend_from_slice(payload);
    f
}

/// Feed `bytes` one at a time; the index of the byte that failed, if any.
fn fails_at(bytes: &[u8]) -> Option<usize> {
    let mut w = Watch::default();
    bytes.iter().position(|b| !w.feed(std::slice::from_ref(b)))
}

/// What the library is handed when `bytes` arrive one at a time, and whether a message was
/// dropped as too big.
fn emitted(limit: usize, bytes: &[u8]) -> (Vec<u8>, bool) {
    let mut w = Watch::with_limit(limit);
    let mut out = Vec::new();
    let mut big = false;
    for b in bytes {
        let mut rest = std::slice::from_ref(b);
        while let Fed::TooBig(n) = w.feed_with(rest, &mut |e| out.extend_from_slice(e)) {
            big |= w.take_too_big().is_some();
            rest = &rest[n..];
        }
    }
    (out, big)
}

#[test]
fn a_message_over_the_limit_is_dropped_and_the_stream_stays_in_step() {
    let mut bytes = frame(0x81, b"ok");
    bytes.extend(frame(0x01, &[b'x'; 300])); // over 200: dropped...
    bytes.extend(frame(0x89, b"p")); // ...and, the session closing with 1009, what follows
    bytes.extend(frame(0x80, &[b'y'; 10])); // (its continuation, a ping, a message)...
    bytes.extend(frame(0x81, b"later"));
    bytes.extend(frame(0x88, &[0x03, 0xe8])); // ...but the close, which the close handshake needs
    let (out, big) = emitted(200, &bytes);
    let mut want = frame(0x81, b"ok");
    want.extend(frame(0x88, &[0x03, 0xe8]));
    assert_eq!(out, want);
    assert!(big);
    // Under the limit, everything passes as it came.
    assert_eq!(emitted(1 << 20, &bytes), (bytes.clone(), false));
}

#[test]
fn valid_text_split_anywhere_passes() {
    let f = frame(0x81, "κόσμε hello €𝄞".as_bytes());
    assert_eq!(fails_at(&f), None);
    let mut w = Watch::default();
    assert!(w.feed(&f));
}

#[test]
fn fails_on_the_first_bad_byte_inside_one_frame() {
    // Autobahn 6.4.4: \xf4\x90 can never start a valid character; fail at the \x90.
    let payload = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80edited";
    let f = frame(0x81, payload);
    assert_eq!(fails_at(&f), Some(2 + 12));
}

#[test]
fn fragments_and_control_frames_between_them() {
    let mut bytes = frame(0x01, b"\xce");
    bytes.extend(frame(0x89, b"\xff\xfe")); // a ping's payload is not text
    bytes.extend(frame(0x80, b"\xba ok"));
    assert_eq!(fails_at(&bytes), None);
    let mut bad = frame(0x01, b"ok");
    bad.extend(frame(0x80, b"\xc0\xaf"));
    assert!(fails_at(&bad).is_some());
}

#[test]
fn binary_and_masked_frames() {
    assert_eq!(fails_at(&frame(0x82, b"\xff\xff")), None);
    let key = [1u8, 2, 3, 4];
    let masked: Vec<u8> = b"\xff"
        .iter()
        .enumerate()
        .map(|(i, b)| b ^ key[i % 4])
        .collect();
    let mut f = vec![0x81, 0x80 | 1];
    f.extend_from_slice(&key);
    f.extend_from_slice(&masked);
    assert!(fails_at(&f).is_some());
}

#[test]
fn keeps_the_close_code_as_it_was_on_the_wire() {
    let mut w = Watch::default();
    // 1005 may never be sent; tungstenite would show it as 1002. Split inside the code.
    let f = frame(0x88, &[0x03, 0xed, b'x']);
    assert!(w.feed(&f[..3]));
    assert_eq!(w.close_code(), None);
    assert!(w.feed(&f[3..]));
    assert_eq!(w.close_code(), Some(1005));
    // A masked close, then a close without a body (no code at all).
    let key = [9u8, 8, 7, 6];
    let mut masked = vec![0x88, 0x80 | 2];
    masked.extend_from_slice(&key);
    masked.extend_from_slice(&[0x13 ^ 9, 0x88 ^ 8]);
    assert!(w.feed(&masked));
    assert_eq!(w.close_code(), Some(0x1388));
    assert!(w.feed(&[0x88, 0x00]));
    assert_eq!(w.close_code(), None);
}

#[test]
fn close_reasons_are_checked_too() {
    let mut ok = vec![0x03, 0xe8];
    ok.extend_from_slice("bye – à bientôt".as_bytes());
    let ok = frame(0x88, &ok);
    assert_eq!(fails_at(&ok), None);
    // The bad byte is the reason's third: header 2 + code 2 + "ok" 2 + 0xc3, then 0x28.
    let bad = frame(0x88, &[0x03, 0xe8, b'o', b'k', 0xc3, 0x28]);
    assert_eq!(fails_at(&bad), Some(7));
    let mut w = Watch::default();
    assert!(!w.feed(&bad));
    assert_eq!(w.failure(), Some(InvalidUtf8::CloseReason));
    // A reason may not stop half-way through a character.
    let cut = frame(0x88, &[0x03, 0xe8, 0xc3]);
    let mut w = Watch::default();
    assert!(!w.feed(&cut));
    assert_eq!(w.failure(), Some(InvalidUtf8::CloseReason));
    // A masked reason is unmasked first (the code's two bytes count for the mask).
    let key = [7u8, 1, 2, 3];
    let plain = [0x03, 0xe8, 0xc3, 0xa9];
    let mut masked = vec![0x88, 0x80 | 4];
    masked.extend_from_slice(&key);
    masked.extend(plain.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    assert_eq!(fails_at(&masked), None);
}

#[test]
fn invalid_text_behind_the_handshake_is_named_before_any_read() {
    let wire = WireFacts::default();
    let _g = Guard::new(
        &b""[..],
        &frame(0x88, &[0x03, 0xe8, 0xff]),
        wire.clone(),
        1 << 20,
    );
    assert_eq!(wire.invalid_utf8(), Some(InvalidUtf8::CloseReason));
    assert_eq!(wire.close_code(), Some(1000));
}

#[test]
fn a_close_between_fragments_keeps_the_text_s_split_character() {
    // "é" split across two fragments with a close in between: neither spoils the other.
    let mut bytes = frame(0x01, b"\xc3");
    bytes.extend(frame(0x88, &[0x03, 0xe8, 0xc3, 0xa9]));
    bytes.extend(frame(0x80, b"\xa9"));
    assert_eq!(fails_at(&bytes), None);
    let mut w = Watch::default();
    assert!(!w.feed(&frame(0x81, b"\xff")));
    assert_eq!(w.failure(), Some(InvalidUtf8::TextMessage));
}

#[test]
fn long_frames_and_absurd_lengths() {
    let text = "é".repeat(1000);
    assert_eq!(fails_at(&frame(0x81, text.as_bytes())), None);
    let mut w = Watch::default();
    assert!(w.feed(&[0x81, 127, 0x80, 0, 0, 0, 0, 0, 0, 0, 0xff]));
}

#[tokio::test]
async fn raises_a_marked_error_before_handing_up_the_bad_bytes() {
    use tokio::io::AsyncReadExt;
    let bytes = frame(0x81, b"ok\xff");
    let mut g = Guard::new(&bytes[..], &[], WireFacts::default(), 1 << 20);
    let mut out = Vec::new();
    let e = g.read_to_end(&mut out).await.unwrap_err();
    assert_eq!(invalid_utf8(&e), Some(InvalidUtf8::TextMessage));
    assert!(out.is_empty());
}

/// Autobahn 3.4: a message, then a frame with reserved bits, in one read: the message goes up
/// first, and the read after it fails.
#[tokio::test]
async fn the_frames_before_a_reserved_bit_frame_are_handed_up_first() {
    use tokio::io::AsyncReadExt;
    let mut bytes = frame(0x81, b"hello");
    bytes.extend(frame(0xF1, b"bad"));
    let mut g = Guard::new(&bytes[..], &[], WireFacts::default(), 1 << 20);
    let mut buf = [0u8; 64];
    let n = g.read(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], &frame(0x81, b"hello")[..]);
    let e = g.read(&mut buf).await.unwrap_err();
    assert!(
        matches!(unexpected(&e), Some(Unexpected::ReservedBits(0x70))),
        "{e}"
    );
}

/// A header begun in the bytes that came with the handshake response belongs to the library
/// already: the rest of it, and no more, is handed up after it.
#[tokio::test]
async fn a_header_begun_in_the_leftover_is_not_handed_up_twice() {
    use tokio::io::AsyncReadExt;
    let big = frame(0x81, &[b'a'; 300]);
    let mut rest = big[3..].to_vec();
    rest.extend(frame(0x81, b"one"));
    for limit in [1 << 20, 100] {
        let mut g = Guard::new(&rest[..], &big[..3], WireFacts::default(), limit);
        let mut out = Vec::new();
        g.read_to_end(&mut out).await.unwrap();
        assert_eq!(out, rest, "limit {limit}");
    }
}

/// A message over the limit is dropped whole, the session is told, and only a close follows.
#[tokio::test]
async fn a_message_over_the_limit_never_reaches_the_library() {
    use tokio::io::AsyncReadExt;
    let mut bytes = frame(0x82, &[7; 500]);
    bytes.extend(frame(0x81, b"next"));
    bytes.extend(frame(0x88, &[0x03, 0xe8]));
    let wire = WireFacts::default();
    let mut g = Guard::new(&bytes[..], &[], wire.clone(), 200);
    let mut out = Vec::new();
    g.read_to_end(&mut out).await.unwrap();
    // The session closes with 1009: only the peer's close is handed up after it.
    assert_eq!(out, frame(0x88, &[0x03, 0xe8]));
    let t = wire.too_big().await;
    assert_eq!((t.size, t.limit), (500, 200));
}

#[test]
fn reserved_bits_fail_before_the_payload_is_judged_as_text() {
    // Compressed "Hello" in a text frame with RSV1: the bit is the violation, not UTF-8.
    let mut w = Watch::default();
    assert!(!w.feed(&frame(0xC1, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00])));
    assert_eq!(w.failure(), None);
    assert_eq!(w.unexpected(), Some(&Unexpected::ReservedBits(0x40)));
    let mut w = Watch::default();
    assert!(w.feed(&frame(0x81, b"ok")));
    assert!(!w.feed(&frame(0xA2, b"x")));
    assert!(w.unexpected().unwrap().to_string().contains("RSV2"));
}

#[test]
fn an_http_response_after_the_101_is_named_with_its_status_line() {
    let http = b"HTTP/1.1 400 Bad \x1b[31mRequest\r\nContent-Length: 0\r\n\r\n";
    // The verdict comes with the frame header's two bytes; the line is what came with them
    // (a read that ends inside the line shows it cut, marked so).
    let whole = "HTTP/1.1 400 Bad \\u{1b}[31mRequest";
    for (split, shown) in [(http.len(), whole), (1, whole), (2, "HT…"), (3, "HTT…")] {
        let mut w = Watch::default();
        let ok = w.feed(&http[..split]) && w.feed(&http[split..]);
        assert!(!ok);
        match w.unexpected() {
            Some(Unexpected::HttpResponse(line)) => assert_eq!(line, shown, "split {split}"),
            other => panic!("split {split}: {other:?}"),
        }
    }
    // Later in the stream, the same bytes are only reserved bits.
    let mut w = Watch::default();
    assert!(w.feed(&frame(0x81, b"ok")));
    assert!(!w.feed(http));
    assert!(matches!(w.unexpected(), Some(Unexpected::ReservedBits(_))));
}

#[test]
fn unexpected_bytes_behind_the_handshake_are_known_before_any_read() {
    let wire = WireFacts::default();
    let _g = Guard::new(
        &b""[..],
        b"HTTP/1.1 400 Bad Request\r\n\r\n",
        wire.clone(),
        1 << 20,
    );
    assert_eq!(
        wire.unexpected(),
        Some(Unexpected::HttpResponse("HTTP/1.1 400 Bad Request".into()))
    );
}

proptest::proptest! {
    #[test]
    fn any_split_gives_the_verdict_of_the_whole(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300), cut in 0usize..300) {
        let cut = cut.min(bytes.len());
        let mut whole = Watch::default();
        let mut split = Watch::default();
        let a = whole.feed(&bytes);
        let b = split.feed(&bytes[..cut]) && split.feed(&bytes[cut..]);
        proptest::prop_assert_eq!(a, b);
    }
}

/// R2: a connection's guard hands up nothing after the peer's close frame, neither from the
/// socket nor from the bytes behind the handshake; a plain watch still follows everything.
#[tokio::test]
async fn nothing_after_the_close_frame_is_handed_up() {
    use tokio::io::AsyncReadExt;
    let mut before = frame(0x81, b"one");
    before.extend(frame(0x88, &[0x03, 0xe8]));
    let junk = b"HTTP/1.1 200 OK\r\n\r\n\x82\x7f\x80\x00";
    let mut bytes = before.clone();
    bytes.extend_from_slice(junk);
    for cut in [0, 3, before.len(), bytes.len()] {
        let (left, rest) = bytes.split_at(cut);
        let wire = WireFacts::default();
        let mut g = Guard::new(rest, left, wire.clone(), 1 << 20);
        let mut out = left[..g.leftover_len()].to_vec();
        g.read_to_end(&mut out).await.unwrap();
        assert_eq!(out, before, "cut {cut}");
        assert_eq!(wire.unexpected(), None);
        assert_eq!(wire.close_code(), Some(1000));
    }
    let mut w = Watch::default();
    assert!(
        !w.feed(&bytes),
        "a watch of any bytes reads the junk as frames"
    );
}

/// A reader that hands its bytes out in the given piece sizes (cycled).
struct Pieces {
    bytes: Vec<u8>,
    at: usize,
    sizes: Vec<usize>,
    turn: usize,
}

impl tokio::io::AsyncRead for Pieces {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let size = self.sizes[self.turn % self.sizes.len()].max(1);
        self.turn += 1;
        let n = size.min(buf.remaining()).min(self.bytes.len() - self.at);
        let at = self.at;
        buf.put_slice(&self.bytes[at..at + n]);
        self.at += n;
        std::task::Poll::Ready(Ok(()))
    }
}

proptest::proptest! {
    /// The guard follows bytes where they were read (no copy unless it must hand up something
    /// else): whatever the read sizes and the library's buffer, it hands up exactly what the
    /// watch emits fed a byte at a time, dropped messages and held headers included.
    #[test]
    fn the_guard_hands_up_what_the_watch_emits_whatever_the_reads(
        msgs in proptest::collection::vec((0usize..400, proptest::bool::ANY), 1..12),
        sizes in proptest::collection::vec(1usize..40, 1..6),
        room in 1usize..64,
        limit in 50usize..500,
    ) {
        let mut bytes = Vec::new();
        for (len, text) in &msgs {
            bytes.extend(frame(if *text { 0x81 } else { 0x82 }, &vec![b'a'; *len]));
        }
        let (want, _) = emitted(limit, &bytes);
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let got = rt.block_on(async {
            use tokio::io::AsyncReadExt;
            let reader = Pieces { bytes: bytes.clone(), at: 0, sizes, turn: 0 };
            let mut g = Guard::new(reader, &[], WireFacts::default(), limit);
            let mut got = Vec::new();
            let mut buf = vec![0u8; room];
            loop {
                let n = g.read(&mut buf).await.unwrap();
                if n == 0 { break; }
                got.extend_from_slice(&buf[..n]);
            }
            got
        });
        proptest::prop_assert_eq!(got, want);
    }
}
