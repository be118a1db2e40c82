//! Presentation of decoded wire frames for `--dump`: a compact, aligned
//! human form (header line, hex dump, unmasked payload) and a JSON object
//! for `--json` output. Pure functions; printing and colour policy belong to
//! the caller (the `colored` global override decides whether styles show).

use std::fmt::Write as _;
use std::time::Duration;

use colored::{ColoredString, Colorize};
use serde_json::{json, Value};

use crate::wire::close;
use crate::wire::frame::{Direction, Frame};
use crate::wire::hexdump::{hex_plain, push_hex, xxd_indented};

const INDENT: &str = "    ";

/// Appends the human rendering of `frame` to `out`, every line `\n`-ended. Written straight into
/// `out`, without a format string per field: with --dump this runs for every frame.
pub fn render_frame(frame: &Frame, dir: Direction, elapsed: Duration, out: &mut String) {
    let colour = colored::control::SHOULD_COLORIZE.should_colorize();
    header_line(frame, dir, elapsed, colour, out);
    xxd_indented(&[&frame.header, &frame.raw_payload], INDENT, out);
    payload_line(frame, out);
    if frame.elided > 0 {
        let _ = writeln!(
            out,
            "{INDENT}… {} more payload bytes elided (--dump-limit)",
            frame.elided
        );
    }
    if let Some(inflated) = &frame.inflated {
        inflated_lines(inflated, colour, out);
    }
    if !frame.complete && frame.header_complete() {
        let _ = writeln!(
            out,
            "{INDENT}… stream ended after {} of {} payload bytes",
            frame.received_payload(),
            frame.payload_len
        );
    }
}

/// The frame's first line: direction, time, flags, opcode, mask, length, close code, problems.
fn header_line(frame: &Frame, dir: Direction, elapsed: Duration, colour: bool, out: &mut String) {
    match dir {
        Direction::Outgoing => paint(out, colour, ">>", |t| t.green().bold()),
        Direction::Incoming => paint(out, colour, "<<", |t| t.cyan().bold()),
    }
    // Milliseconds, truncated like any clock.
    let _ = write!(
        out,
        " {}.{:03}s  ",
        elapsed.as_secs(),
        elapsed.subsec_millis()
    );
    // "---" keeps columns aligned with "FIN" on non-final fragments.
    out.push_str(if frame.fin { "FIN" } else { "---" });
    for (set, name) in [
        (frame.rsv1, "RSV1"),
        (frame.rsv2, "RSV2"),
        (frame.rsv3, "RSV3"),
    ] {
        if set {
            out.push(' ');
            paint(out, colour, name, |t| t.yellow());
        }
    }
    out.push(' ');
    if frame.is_control() {
        paint(out, colour, frame.opcode_name(), |t| t.magenta().bold());
    } else {
        paint(out, colour, frame.opcode_name(), |t| t.bold());
    }
    if let Some(key) = frame.mask {
        out.push_str("  MASK ");
        push_hex(&key, out);
    }
    if frame.header_complete() {
        let _ = write!(
            out,
            "  len {} ({}-bit{})",
            frame.payload_len,
            frame.length_form.bits(),
            if frame.non_minimal_length {
                ", non-minimal"
            } else {
                ""
            }
        );
    } else {
        out.push_str("  len ?");
    }
    if let Some(close) = frame.close_info() {
        match close.code {
            Some(code) => {
                let _ = write!(out, "  code {code} {}", close::name(code));
            }
            None if frame.payload_len == 0 => out.push_str("  no status code"),
            None => {}
        }
        if !close.reason.is_empty() {
            let _ = write!(out, "  reason {:?}", close.reason);
        }
    }
    let problems = frame.problems();
    if !problems.is_empty() {
        out.push_str("  ");
        let text = format!("! {}", problems.join("; "));
        paint(out, colour, &text, |t| t.red().bold());
    }
    out.push('\n');
}

/// The payload as text when it is, or unmasked bytes (the dump above shows them masked).
fn payload_line(frame: &Frame, out: &mut String) {
    let wants_payload_line = frame.mask.is_some() || matches!(frame.opcode, 0x0 | 0x1);
    if wants_payload_line && !frame.payload.is_empty() {
        match text_prefix(frame).filter(|t| is_printable(t)) {
            Some(text) => {
                out.push_str(INDENT);
                out.push_str("payload: ");
                push_quoted(text, out);
                out.push('\n');
            }
            // Masked bytes in the dump above are unreadable, so show the
            // unmasked ones; unmasked bytes are already there.
            None if frame.mask.is_some() => {
                out.push_str(INDENT);
                out.push_str("payload (unmasked):\n");
                xxd_indented(&[&frame.payload], INDENT, out);
            }
            None if frame.inflated.is_some() => {
                out.push_str(INDENT);
                out.push_str("payload: (compressed; bytes above)\n");
            }
            None => {
                out.push_str(INDENT);
                out.push_str("payload: (not printable UTF-8; bytes above)\n");
            }
        }
    }
}

/// A compressed frame's inflated bytes: sizes and ratio, then the text or a hex dump.
fn inflated_lines(inflated: &crate::deflate::mirror::Inflated, colour: bool, out: &mut String) {
    out.push_str(INDENT);
    paint(out, colour, &inflated.summary(), |t| t.yellow());
    if let Some(note) = &inflated.note {
        out.push_str(", ");
        out.push_str(note);
    }
    out.push('\n');
    if inflated.kept.is_empty() {
        return;
    }
    match std::str::from_utf8(&inflated.kept) {
        Ok(text) if is_printable(text) => {
            out.push_str(INDENT);
            out.push_str("inflated: ");
            push_quoted(text, out);
            out.push('\n');
        }
        _ => {
            out.push_str(INDENT);
            out.push_str("inflated:\n");
            xxd_indented(&[&inflated.kept], INDENT, out);
        }
    }
    let more = inflated.size.saturating_sub(inflated.kept.len() as u64);
    if more > 0 {
        let _ = writeln!(
            out,
            "{INDENT}… {more} more inflated bytes elided (--dump-limit)"
        );
    }
}

/// `text` quoted as `{:?}` would, without the formatter for the common case of plain ASCII.
fn push_quoted(text: &str, out: &mut String) {
    if text
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    {
        out.push('"');
        out.push_str(text);
        out.push('"');
    } else {
        let _ = write!(out, "{text:?}");
    }
}

/// `text` in a style when colours are on; plain (and without building a styled copy) when off.
fn paint(out: &mut String, colour: bool, text: &str, style: impl FnOnce(&str) -> ColoredString) {
    if colour {
        let _ = write!(out, "{}", style(text));
    } else {
        out.push_str(text);
    }
}

/// JSON form of a frame, one object per frame (`"event": "frame"`).
pub fn frame_json(frame: &Frame, dir: Direction, elapsed: Duration) -> Value {
    let mut v = json!({
        "event": "frame",
        "dir": dir,
        "t": (elapsed.as_secs_f64() * 1e6).round() / 1e6,
        "fin": frame.fin,
        "rsv": [frame.rsv1, frame.rsv2, frame.rsv3],
        "opcode": frame.opcode,
        "opcode_name": frame.opcode_name(),
        "masked": frame.mask.is_some(),
        "mask": frame.mask.map(|k| hex_plain(&k)),
        "len": frame.payload_len,
        "len_form": frame.length_form.bits(),
        "header_hex": hex_plain(&frame.header),
        "payload_hex": hex_plain(&frame.payload),
        "elided": frame.elided,
        "complete": frame.complete,
        "problems": frame.problems(),
    });
    if let Value::Object(map) = &mut v {
        if frame.opcode != 0x8 {
            if let Some(text) = text_prefix(frame) {
                map.insert("text".into(), Value::from(text));
            }
        }
        if let Some(i) = &frame.inflated {
            map.insert(
                "inflated".into(),
                json!({
                    "size": i.size,
                    "wire_size": i.wire,
                    "payload_hex": hex_plain(&i.kept),
                    "text": std::str::from_utf8(&i.kept).ok(),
                    "note": i.note,
                }),
            );
        }
        if let Some(close) = frame.close_info() {
            map.insert(
                "close".into(),
                json!({
                    "code": close.code,
                    "name": close.code.map(close::name),
                    "reason": close.reason,
                }),
            );
        }
    }
    v
}

/// The kept payload as text, tolerating a character split by the dump
/// limit or by EOF (that tail is dropped); `None` if not UTF-8.
fn text_prefix(frame: &Frame) -> Option<&str> {
    match std::str::from_utf8(&frame.payload) {
        Ok(text) => Some(text),
        Err(e) if e.error_len().is_none() && (frame.elided > 0 || !frame.complete) => frame
            .payload
            .get(..e.valid_up_to())
            .and_then(|b| std::str::from_utf8(b).ok()),
        Err(_) => None,
    }
}

/// Binary data that happens to be UTF-8 (runs of NULs, say) reads better as
/// hex, so only ordinary text with line-oriented whitespace counts.
fn is_printable(text: &str) -> bool {
    text.chars()
        .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::frame::FrameDecoder;

    proptest::proptest! {
        #[test]
        fn quoting_matches_debug(text in "\\PC*|[ -~]*") {
            let mut quoted = String::new();
            push_quoted(&text, &mut quoted);
            proptest::prop_assert_eq!(quoted, format!("{text:?}"));
        }
    }

    fn frames(limit: usize, bytes: &[u8]) -> Vec<Frame> {
        let mut d = FrameDecoder::new(limit);
        let mut out = Vec::new();
        d.feed(bytes, &mut out);
        out.extend(d.finish());
        out
    }

    fn render(limit: usize, bytes: &[u8], dir: Direction) -> String {
        colored::control::set_override(false);
        let mut out = String::new();
        for f in frames(limit, bytes) {
            render_frame(&f, dir, Duration::from_millis(12), &mut out);
        }
        out
    }

    const HELLO: [u8; 11] = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x5f, 0x9f, 0x4d, 0x51, 0x58,
    ];

    #[test]
    fn masked_text_frame() {
        assert_eq!(
            render(256, &HELLO, Direction::Outgoing),
            "\
>> 0.012s  FIN text  MASK 37fa213d  len 5 (7-bit)
    00000000: 8185 37fa 213d 5f9f 4d51 58              ..7.!=_.MQX
    payload: \"hello\"
"
        );
    }

    #[test]
    fn close_frame() {
        assert_eq!(
            render(256, b"\x88\x05\x03\xe8bye", Direction::Incoming),
            "\
<< 0.012s  FIN close  len 5 (7-bit)  code 1000 normal closure  reason \"bye\"
    00000000: 8805 03e8 6279 65                        ....bye
"
        );
        assert_eq!(
            render(256, b"\x88\x00", Direction::Incoming),
            "<< 0.012s  FIN close  len 0 (7-bit)  no status code\n    00000000: 8800                                     ..\n"
        );
    }

    #[test]
    fn problems_elision_and_odd_frames() {
        let out = render(4, b"\x43\x7e\x00\x06abcdef", Direction::Incoming);
        assert_eq!(
            out,
            "\
<< 0.012s  --- RSV1 reserved-non-control(0x3)  len 6 (16-bit, non-minimal)  \
! reserved opcode 0x3; RSV1 set (needs a negotiated extension); non-minimal payload length encoding
    00000000: 437e 0006 6162 6364                      C~..abcd
    … 2 more payload bytes elided (--dump-limit)
"
        );
        let out = render(
            256,
            b"\x82\x83\x01\x02\x03\x04\x01\x02\x03",
            Direction::Outgoing,
        );
        assert!(
            out.ends_with(
                "payload (unmasked):\n    00000000: 0000 00                                  ...\n"
            ),
            "{out}"
        );
        let out = render(256, b"\x81\x05he", Direction::Incoming);
        assert!(out.contains("payload: \"he\"\n"), "{out}");
        assert!(
            out.ends_with("    … stream ended after 2 of 5 payload bytes\n"),
            "{out}"
        );
        assert!(out.contains("! truncated: stream ended mid-frame"));
        let out = render(256, b"\x81", Direction::Incoming);
        assert!(
            out.starts_with("<< 0.012s  FIN text  len ?  ! truncated"),
            "{out}"
        );
        let out = render(256, b"\x81\x02\xff\xfe", Direction::Incoming);
        assert!(
            out.contains("payload: (not printable UTF-8; bytes above)"),
            "{out}"
        );
    }

    /// Terminal safety: the dump goes to the screen (or a file someone will `cat`): a close reason
    /// is shown quoted with its controls escaped, a text payload with controls only as hex.
    #[test]
    fn hostile_payloads_and_reasons_are_escaped() {
        let evil = "\x1b]0;t\x07\u{9b}2J\u{202e}\rX";
        let frame = |b0: u8, payload: &[u8]| {
            let mut f = vec![b0, payload.len() as u8];
            f.extend_from_slice(payload);
            f
        };
        let mut bytes = frame(0x81, evil.as_bytes());
        let mut reason = vec![0x0f, 0xa0];
        reason.extend_from_slice(evil.as_bytes());
        bytes.extend(frame(0x88, &reason));
        let out = render(256, &bytes, Direction::Incoming);
        let bad = |c: char| {
            matches!(c, '\0'..='\x08' | '\x0b'..='\x1f' | '\x7f' | '\u{80}'..='\u{9f}'
                | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        };
        assert!(!out.chars().any(bad), "{out:?}");
        // Text with controls is left to the hex column.
        assert!(
            out.contains("payload: (not printable UTF-8; bytes above)"),
            "{out}"
        );
        assert!(out.contains("reason \"\\u{1b}]0;t"), "{out}");
    }

    #[test]
    fn json_for_masked_text() {
        let f = frames(256, &HELLO).remove(0);
        let v = frame_json(&f, Direction::Outgoing, Duration::from_millis(12));
        assert_eq!(
            v,
            json!({
                "event": "frame", "dir": "outgoing", "t": 0.012, "fin": true,
                "rsv": [false, false, false], "opcode": 1, "opcode_name": "text",
                "masked": true, "mask": "37fa213d", "len": 5, "len_form": 7,
                "header_hex": "818537fa213d", "payload_hex": "68656c6c6f", "elided": 0,
                "complete": true, "problems": [], "text": "hello",
            })
        );
    }

    #[test]
    fn json_for_close_frames() {
        let f = frames(256, b"\x88\x02\x03\xed").remove(0);
        let v = frame_json(&f, Direction::Incoming, Duration::ZERO);
        assert_eq!(
            v["close"],
            json!({"code": 1005, "name": "no status received", "reason": ""})
        );
        assert_eq!(v["problems"], json!(["close code not allowed on the wire"]));
        assert!(v.get("text").is_none());
        let f = frames(256, b"\x88\x00").remove(0);
        let v = frame_json(&f, Direction::Incoming, Duration::ZERO);
        assert_eq!(
            v["close"],
            json!({"code": null, "name": null, "reason": ""})
        );
        assert_eq!(v["mask"], Value::Null);
    }
}
