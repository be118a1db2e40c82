//! Terminal safety (SPEC "Terminal safety"): the one owner of the rule that text from the peer never
//! reaches a terminal as a control sequence. ESC, the other C0 controls but TAB and LF, DEL, the C1
//! controls (U+0080-U+009F), the bidi overrides and isolates (U+202A-U+202E, U+2066-U+2069) and
//! the invisible or line-breaking marks (soft hyphen, ALM, ZWSP/ZWNJ/ZWJ, LRM/RLM, U+2028/2029, the
//! word joiner and invisible operators, BOM) are made visible: `\e`, `\r`, `\x07`, `\x7f`, `\u{9b}`, `\u{202e}`; bytes that are not UTF-8 become
//! `\xff`. Everything else, a backslash included, stays as it is, so escaping is idempotent and a
//! line may be escaped again after peer text was escaped into it.
//!
//! How the printer uses it, in two layers (so that a forgotten call site is not an injection):
//! - At the entry points of peer text, strictly: [`escape`], [`escape_into`], [`escape_bytes_into`]
//!   or the [`Shown`] wrapper in a format string, BEFORE our own colour is put around it. Message
//!   bodies, control payloads, close reasons, the handshake report, error messages and hints.
//! - At the exits to the screen (every human line, documents, errors), [`escape_line`]: the same
//!   rule, except that when colour is on it keeps SGR sequences (`ESC [ digits/';' m`), which is
//!   all the `colored` crate writes. A peer's SGR that slipped past the first layer can therefore
//!   at worst colour text; it can never move the cursor, clear the screen, set the title or the
//!   clipboard. With colour off nothing is kept: every ESC is escaped.
//!
//! Data written to a stdout that is not a terminal is not passed through here at all (pipes stay
//! lossless); the printer decides that once, at start-up.

use std::borrow::Cow;
use std::fmt;

/// Bytes that may start something to escape. Anything else (printable ASCII, TAB, LF, and the lead
/// bytes of characters outside U+0080-U+009F and U+2000-U+2FFF) is clean without a closer look.
#[inline]
fn suspicious(b: u8) -> bool {
    (b < 0x20 && b != b'\t' && b != b'\n') || b == 0x7f || matches!(b, 0xc2 | 0xd8 | 0xe2 | 0xef)
}

/// The visible form of `c`, or None when `c` is shown as itself.
#[inline]
fn visible(c: char) -> Option<Visible> {
    match c {
        '\t' | '\n' => None,
        '\x1b' => Some(Visible::Str("\\e")),
        '\r' => Some(Visible::Str("\\r")),
        '\0'..='\x1f' | '\x7f' => Some(Visible::Byte(c as u8)),
        '\u{80}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
            Some(Visible::Char(c))
        }
        // Invisible and line-breaking marks: a soft hyphen, the Arabic letter mark, zero-width
        // space/joiners, LRM/RLM, the line and paragraph separators, the word joiner and
        // invisible operators, and a BOM. They hide or reorder text as the bidi overrides do.
        '\u{ad}' | '\u{61c}' | '\u{200b}'..='\u{200f}' | '\u{2028}' | '\u{2029}' => {
            Some(Visible::Char(c))
        }
        '\u{2060}'..='\u{2064}' | '\u{feff}' => Some(Visible::Char(c)),
        _ => None,
    }
}

enum Visible {
    Str(&'static str),
    /// `\xNN`: a C0 control or DEL, or a byte that is not UTF-8.
    Byte(u8),
    /// `\u{NN}`: a C1 control, a bidi override/isolate or an invisible mark.
    Char(char),
}

impl Visible {
    fn push(&self, out: &mut String) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        match self {
            Visible::Str(s) => out.push_str(s),
            Visible::Byte(b) => {
                out.push_str("\\x");
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 0xf)] as char);
            }
            Visible::Char(c) => {
                use fmt::Write as _;
                let _ = write!(out, "\\u{{{:x}}}", u32::from(*c));
            }
        }
    }
}

/// Index of the first character of `text` that must be escaped.
fn first_unsafe(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(i) = bytes[from..].iter().position(|&b| suspicious(b)) {
        let at = from + i;
        // `at` is a char boundary: every suspicious byte is ASCII or a UTF-8 lead byte.
        let c = text[at..].chars().next()?;
        if visible(c).is_some() {
            return Some(at);
        }
        from = at + c.len_utf8();
    }
    None
}

/// True when `text` would be shown as it is.
#[cfg(test)]
fn is_clean(text: &str) -> bool {
    first_unsafe(text).is_none()
}

/// `text` as it may be shown on a terminal; borrowed (no allocation) when it is clean.
pub fn escape(text: &str) -> Cow<'_, str> {
    match first_unsafe(text) {
        None => Cow::Borrowed(text),
        Some(at) => {
            let mut out = String::with_capacity(text.len() + 16);
            out.push_str(&text[..at]);
            escape_tail(&mut out, &text[at..]);
            Cow::Owned(out)
        }
    }
}

/// Append `text` to `out` as it may be shown on a terminal.
pub fn escape_into(out: &mut String, text: &str) {
    match first_unsafe(text) {
        None => out.push_str(text),
        Some(at) => {
            out.push_str(&text[..at]);
            escape_tail(out, &text[at..]);
        }
    }
}

fn escape_tail(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(at) = first_unsafe(rest) {
        out.push_str(&rest[..at]);
        let Some(c) = rest[at..].chars().next() else {
            return;
        };
        if let Some(v) = visible(c) {
            v.push(out);
        }
        rest = &rest[at + c.len_utf8()..];
    }
    out.push_str(rest);
}

/// Append peer bytes that should be text: valid UTF-8 as [`escape_into`], any other byte as `\xNN`
/// (never raw, and never silently replaced: this is a debugger).
pub fn escape_bytes_into(out: &mut String, bytes: &[u8]) {
    for chunk in bytes.utf8_chunks() {
        escape_into(out, chunk.valid());
        for &b in chunk.invalid() {
            Visible::Byte(b).push(out);
        }
    }
}

/// [`escape_bytes_into`] as a value; borrowed when the bytes are clean UTF-8.
pub fn escape_bytes(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => escape(text),
        Err(_) => {
            let mut out = String::with_capacity(bytes.len() + 16);
            escape_bytes_into(&mut out, bytes);
            Cow::Owned(out)
        }
    }
}

/// Peer text in a format string: `format!("{} from {}", "connected".green(), Shown(path))`.
pub struct Shown<'a>(pub &'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Padding (`{:<12}`) is honoured for the common clean case.
        match escape(self.0) {
            Cow::Borrowed(s) => f.pad(s),
            Cow::Owned(s) => f.pad(&s),
        }
    }
}

/// What each line of peer text after its first begins with, on the screen: a peer's LF (in a
/// message, a close reason, an error that quotes one) can then never start a line that passes for
/// one of ours (`* closed by the server ... clean`, `error:`, `  hint:`).
pub const CONTINUED: &str = "  | ";

/// Peer bytes that may span lines, as [`escape_bytes_into`], each line after the first prefixed
/// with [`CONTINUED`].
pub fn escape_continued_into(out: &mut String, bytes: &[u8]) {
    let mut first = true;
    for line in bytes.split(|&b| b == b'\n') {
        if !first {
            out.push('\n');
            out.push_str(CONTINUED);
        }
        first = false;
        escape_bytes_into(out, line);
    }
}

/// Peer text in a format string that may span lines: [`Shown`], continued as
/// [`escape_continued_into`].
pub struct ShownLines<'a>(pub &'a str);

impl fmt::Display for ShownLines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.0.contains('\n') {
            return Shown(self.0).fmt(f);
        }
        let mut out = String::with_capacity(self.0.len() + 16);
        escape_continued_into(&mut out, self.0.as_bytes());
        f.write_str(&out)
    }
}

/// Length of an SGR sequence (`ESC [ [0-9;]* m`) at the start of `s`, if one is there.
fn sgr_len(s: &[u8]) -> Option<usize> {
    if s.get(1) != Some(&b'[') {
        return None;
    }
    let params = s[2..]
        .iter()
        .take_while(|b| b.is_ascii_digit() || **b == b';')
        .count();
    (s.get(2 + params) == Some(&b'm')).then_some(3 + params)
}

/// The last line of defence, for a whole line on its way to the screen: escape like [`escape`],
/// but keep SGR colour sequences when `keep_colour` (colour is on, so they are ours).
pub fn escape_line(line: &str, keep_colour: bool) -> Cow<'_, str> {
    if !keep_colour {
        return escape(line);
    }
    let Some(first) = first_unsafe(line) else {
        return Cow::Borrowed(line);
    };
    let bytes = line.as_bytes();
    let mut out: Option<String> = None;
    let mut done = 0; // bytes of `line` already accounted for in `out`
    let mut at = first;
    loop {
        // `at` is the start of a character that needs escaping, or of an ESC.
        let len = if bytes[at] == 0x1b {
            sgr_len(&bytes[at..])
        } else {
            None
        };
        match len {
            Some(n) => at += n, // ours: keep it, carry on scanning
            None => {
                let o = out.get_or_insert_with(|| String::with_capacity(line.len() + 16));
                o.push_str(&line[done..at]);
                let Some(c) = line[at..].chars().next() else {
                    break;
                };
                if let Some(v) = visible(c) {
                    v.push(o);
                }
                at += c.len_utf8();
                done = at;
            }
        }
        match first_unsafe(&line[at..]) {
            Some(i) => at += i,
            None => break,
        }
    }
    match out {
        None => Cow::Borrowed(line),
        Some(mut o) => {
            o.push_str(&line[done..]);
            Cow::Owned(o)
        }
    }
}

/// Serialized JSON with DEL, its C1 and bidi controls and invisible marks (which serde_json
/// leaves raw) written as `\uXXXX`. They can only occur inside strings, so the result is the same
/// JSON value.
pub fn json_controls(json: Vec<u8>) -> Vec<u8> {
    if !json
        .iter()
        .any(|&b| b == 0x7f || suspicious(b) && b >= 0x80)
    {
        return json;
    }
    // serde_json writes UTF-8; anything else is handed back as it was.
    let text = match String::from_utf8(json) {
        Ok(t) => t,
        Err(e) => return e.into_bytes(),
    };
    let raw = |c: char| c == '\x7f' || matches!(visible(c), Some(Visible::Char(_)));
    if !text.chars().any(raw) {
        return text.into_bytes();
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match visible(c) {
            _ if raw(c) => {
                use fmt::Write as _;
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            _ => out.push(c),
        }
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the rule forbids in output: C0 but TAB/LF, DEL, C1, bidi overrides and isolates.
    fn forbidden(c: char) -> bool {
        matches!(c, '\0'..='\x08' | '\x0b'..='\x1f' | '\x7f' | '\u{80}'..='\u{9f}'
            | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    }

    #[test]
    fn controls_are_made_visible() {
        assert_eq!(escape("\x1b]0;pwned\x07"), "\\e]0;pwned\\x07");
        assert_eq!(escape("\x1b[2J"), "\\e[2J");
        assert_eq!(escape("abc\rXY"), "abc\\rXY");
        assert_eq!(escape("a\0b\x7fc\x08"), "a\\x00b\\x7fc\\x08");
        assert_eq!(escape("\u{9b}31m \u{9d}0;t"), "\\u{9b}31m \\u{9d}0;t");
        assert_eq!(
            escape("abc\u{202e}fed\u{2066}x\u{2069}"),
            "abc\\u{202e}fed\\u{2066}x\\u{2069}"
        );
    }

    /// Issue 25: invisible and line-breaking marks reached the terminal raw.
    #[test]
    fn invisible_and_line_breaking_marks_are_made_visible() {
        for c in [
            '\u{200e}', '\u{200f}', '\u{61c}', '\u{200b}', '\u{200d}', '\u{2060}', '\u{2028}',
            '\u{2029}', '\u{feff}', '\u{ad}',
        ] {
            let shown = format!("a\\u{{{:x}}}b", u32::from(c));
            assert_eq!(escape(&format!("a{c}b")), shown, "{c:?}");
        }
        // Their neighbours in the same blocks stay as they are.
        let kept = "\u{a0}\u{600}\u{2010}\u{ff21}";
        assert_eq!(escape(kept), kept);
    }

    /// Issue 25 D9: `--json` on a terminal wrote DEL raw inside strings.
    #[test]
    fn json_for_a_terminal_escapes_del_and_invisible_marks() {
        let raw = serde_json::to_vec(&serde_json::json!({"data": "a\u{7f}b\u{200f}c"})).unwrap();
        let text = String::from_utf8(json_controls(raw)).unwrap();
        assert_eq!(text, r#"{"data":"a\u007fb\u200fc"}"#);
    }

    #[test]
    fn clean_text_is_borrowed_and_unchanged() {
        for s in [
            "",
            "hello",
            "tab\there\nnew line",
            "é ü € 例え \u{202f} \u{2065} \u{a0}",
            "back\\slash \\e",
        ] {
            assert!(matches!(escape(s), Cow::Borrowed(_)), "{s:?}");
            assert_eq!(escape(s), s);
            assert!(is_clean(s));
            assert!(matches!(escape_line(s, true), Cow::Borrowed(_)));
        }
    }

    #[test]
    fn escaping_twice_changes_nothing() {
        let once = escape("\x1b[2J\r\u{9b}\u{202e}\x07").into_owned();
        assert_eq!(escape(&once), once);
    }

    #[test]
    fn bytes_that_are_not_utf8_are_shown_as_hex() {
        let mut out = String::new();
        escape_bytes_into(&mut out, b"ok\xff\xc2\x9b\xc2 \x1b");
        assert_eq!(out, "ok\\xff\\u{9b}\\xc2 \\e");
        assert_eq!(escape_bytes(b"plain"), "plain");
        assert!(matches!(escape_bytes(b"plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn shown_escapes_and_pads() {
        assert_eq!(format!("[{}]", Shown("a\x1bb")), "[a\\eb]");
        assert_eq!(format!("[{:<4}]", Shown("ab")), "[ab  ]");
    }

    #[test]
    fn a_line_keeps_our_colour_only_when_colour_is_on() {
        let line = "\x1b[31;1merror:\x1b[0m peer \x1b[2J\x1b]0;t\x07 \x1b[m\u{9b}1m \x1b[";
        assert_eq!(
            escape_line(line, true),
            "\x1b[31;1merror:\x1b[0m peer \\e[2J\\e]0;t\\x07 \x1b[m\\u{9b}1m \\e["
        );
        assert_eq!(
            escape_line(line, false),
            "\\e[31;1merror:\\e[0m peer \\e[2J\\e]0;t\\x07 \\e[m\\u{9b}1m \\e["
        );
        assert_eq!(escape_line("\x1b[1mok\x1b[0m", true), "\x1b[1mok\x1b[0m");
    }

    #[test]
    fn json_keeps_its_value_without_raw_c1_or_bidi() {
        let v = serde_json::json!({"data": "a\u{9b}b\u{202e}c\u{1b}é"});
        let raw = serde_json::to_vec(&v).unwrap();
        let safe = json_controls(raw);
        let text = String::from_utf8(safe.clone()).unwrap();
        assert!(!text.chars().any(forbidden), "{text:?}");
        assert!(
            text.contains("\\u009b") && text.contains("\\u202e"),
            "{text}"
        );
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&safe).unwrap(),
            v
        );
    }

    proptest::proptest! {
        #[test]
        fn output_never_holds_a_control(text in "(\\PC|[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\u{202a}-\\u{202e}\\u{2066}-\\u{2069}])*") {
            let out = escape(&text);
            proptest::prop_assert!(!out.chars().any(forbidden), "{:?} -> {:?}", text, out);
            let line = escape_line(&text, false);
            proptest::prop_assert!(!line.chars().any(forbidden));
            // With colour kept, the only control left is ESC at the start of an SGR sequence.
            let coloured = escape_line(&text, true);
            let b = coloured.as_bytes();
            for (i, c) in coloured.char_indices() {
                if c == '\x1b' {
                    proptest::prop_assert!(sgr_len(&b[i..]).is_some(), "{:?}", coloured);
                } else {
                    proptest::prop_assert!(!forbidden(c), "{:?}", coloured);
                }
            }
            // Clean text passes as it is; escaping is idempotent.
            if !text.chars().any(forbidden) {
                proptest::prop_assert_eq!(&*out, &*text);
            }
            proptest::prop_assert_eq!(&*escape(&out), &*out);
        }

        #[test]
        fn bytes_never_pass_raw(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let mut out = String::new();
            escape_bytes_into(&mut out, &bytes);
            proptest::prop_assert!(!out.chars().any(forbidden));
            proptest::prop_assert_eq!(&*escape_bytes(&bytes), &*out);
        }
    }
}
