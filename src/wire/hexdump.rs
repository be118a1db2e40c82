//! Hex both ways, the crate's one place for it: rendering for the frame dump (an
//! `xxd`-compatible multi-line dump, so output can be compared with, or reversed by, `xxd -r`,
//! and compact one-line forms for headers, masks and JSON) and the one decoder, [`decode`], that
//! `/binary`, `/raw`, `/frame --mask` and the transcripts' binary payloads read hex with.

const PER_LINE: usize = 16;
/// Width of a full line's hex column: 8 groups of 4 digits plus 7 spaces.
const HEX_WIDTH: usize = PER_LINE / 2 * 5 - 1;
/// Where the ASCII column starts, after "00000000: " and the hex column plus two spaces.
const ASCII_AT: usize = 10 + HEX_WIDTH + 2;
const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Appends an `xxd`-style dump of `bytes` to `out`, one `\n`-terminated line
/// per 16 bytes. The ASCII column stays aligned on a short last line, and
/// anything outside printable ASCII shows as `.` so terminal control bytes
/// from the peer can never reach the terminal raw.
#[cfg(test)]
fn xxd(bytes: &[u8], out: &mut String) {
    xxd_indented(&[bytes], "", out);
}

/// [`xxd`] of `parts` as if they were one slice (a frame's header and payload, say), every line
/// after `indent`. Table-driven and written as bytes, checked as text once: the dump runs for every
/// frame of a busy connection.
pub fn xxd_indented(parts: &[&[u8]], indent: &str, out: &mut String) {
    let total: usize = parts.iter().map(|p| p.len()).sum();
    let mut buf =
        Vec::with_capacity(total.div_ceil(PER_LINE) * (indent.len() + ASCII_AT + PER_LINE + 1));
    let mut parts = parts.iter().copied().filter(|p| !p.is_empty());
    let mut part: &[u8] = parts.next().unwrap_or_default();
    let mut chunk = [0u8; PER_LINE];
    let mut offset = 0;
    while offset < total {
        let n = (total - offset).min(PER_LINE);
        let mut filled = 0;
        while filled < n {
            if part.is_empty() {
                part = parts.next().unwrap_or_default();
                if part.is_empty() {
                    break;
                }
            }
            let take = part.len().min(n - filled);
            chunk[filled..filled + take].copy_from_slice(&part[..take]);
            part = &part[take..];
            filled += take;
        }
        buf.extend_from_slice(indent.as_bytes());
        push_line(offset, &chunk[..filled], &mut buf);
        offset += n;
    }
    // Only hex digits, spaces, printable ASCII and '.' were written (and the caller's indent).
    out.push_str(std::str::from_utf8(&buf).unwrap_or("?"));
}

/// One dump line: offset, hex pairs in groups of two bytes, the ASCII column.
fn push_line(offset: usize, chunk: &[u8], out: &mut Vec<u8>) {
    let mut line = [b' '; ASCII_AT + PER_LINE + 1];
    if offset > 0xffff_ffff {
        // Past 4 GiB the offset needs more than xxd's 8 digits.
        out.extend_from_slice(format!("{offset:08x}").as_bytes());
    } else {
        for (i, d) in line[..8].iter_mut().enumerate() {
            *d = DIGITS[(offset >> (28 - 4 * i)) & 0xf];
        }
        out.extend_from_slice(&line[..8]);
    }
    line[8] = b':';
    let mut at = 10;
    for (i, &b) in chunk.iter().enumerate() {
        if i > 0 && i % 2 == 0 {
            at += 1;
        }
        line[at] = DIGITS[usize::from(b >> 4)];
        line[at + 1] = DIGITS[usize::from(b & 0xf)];
        at += 2;
    }
    for (i, &b) in chunk.iter().enumerate() {
        line[ASCII_AT + i] = printable(b);
    }
    let end = ASCII_AT + chunk.len();
    line[end] = b'\n';
    out.extend_from_slice(&line[8..=end]);
}

/// Why [`decode`] refused its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HexError {
    /// Not a hex digit, at this 1-based character position.
    InvalidDigit { found: char, position: usize },
    /// An odd number of digits cannot form whole bytes.
    OddDigits { count: usize },
}

/// Hex digits two per byte; whitespace anywhere is ignored and each whitespace-separated group
/// may start with `0x`, so dumps from most tools (and our own [`hex_plain`]) paste straight in.
pub fn decode(text: &str) -> Result<Vec<u8>, HexError> {
    let mut nibbles = Vec::with_capacity(text.len());
    let mut group_start = true;
    let mut chars = text.chars().enumerate().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_whitespace() {
            group_start = true;
            continue;
        }
        if group_start && c == '0' && matches!(chars.peek(), Some((_, 'x' | 'X'))) {
            chars.next();
            group_start = false;
            continue;
        }
        group_start = false;
        match c.to_digit(16) {
            // to_digit(16) is below 16, so the cast cannot truncate.
            Some(d) => nibbles.push(d as u8),
            None => {
                return Err(HexError::InvalidDigit {
                    found: c,
                    position: i + 1,
                })
            }
        }
    }
    if nibbles.len() % 2 != 0 {
        return Err(HexError::OddDigits {
            count: nibbles.len(),
        });
    }
    Ok(nibbles.chunks_exact(2).map(|p| p[0] << 4 | p[1]).collect())
}

/// Space-separated lowercase hex pairs, e.g. `81 85 37 fa`.
pub fn hex_compact(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, &b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        push_hex_byte(b, &mut s);
    }
    s
}

/// Lowercase hex without separators (`37fa213d`), for masks and JSON.
pub fn hex_plain(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    push_hex(bytes, &mut s);
    s
}

/// [`hex_plain`] appended to `out`.
pub fn push_hex(bytes: &[u8], out: &mut String) {
    for &b in bytes {
        push_hex_byte(b, out);
    }
}

fn push_hex_byte(b: u8, out: &mut String) {
    out.push(char::from(DIGITS[usize::from(b >> 4)]));
    out.push(char::from(DIGITS[usize::from(b & 0xf)]));
}

fn printable(b: u8) -> u8 {
    if (0x20..0x7f).contains(&b) {
        b
    } else {
        b'.'
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dump(bytes: &[u8]) -> String {
        let mut s = String::new();
        xxd(bytes, &mut s);
        s
    }

    #[test]
    fn short_line_matches_xxd() {
        let bytes = [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x5f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        assert_eq!(
            dump(&bytes),
            "00000000: 8185 37fa 213d 5f9f 4d51 58              ..7.!=_.MQX\n"
        );
    }

    #[test]
    fn multi_line_matches_xxd() {
        let mut bytes = vec![
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x5f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        bytes.extend(b'a'..=b'z');
        // Reference output captured from `xxd`.
        let expected = "\
00000000: 8185 37fa 213d 5f9f 4d51 5861 6263 6465  ..7.!=_.MQXabcde
00000010: 6667 6869 6a6b 6c6d 6e6f 7071 7273 7475  fghijklmnopqrstu
00000020: 7677 7879 7a                             vwxyz
";
        assert_eq!(dump(&bytes), expected);
    }

    #[test]
    fn ascii_column_is_aligned_for_every_length() {
        for n in 1..=PER_LINE {
            let d = dump(&vec![0x41; n]);
            assert_eq!(d.find('A'), Some(10 + HEX_WIDTH + 2), "n={n}");
            assert!(d.ends_with(&format!("{}\n", "A".repeat(n))));
        }
    }

    #[test]
    fn non_printables_become_dots() {
        let d = dump(&[0x00, 0x1b, 0x7f, 0xff, b' ', b'~']);
        assert!(d.ends_with("  .... ~\n"), "{d:?}");
    }

    #[test]
    fn parts_dump_as_one_slice_under_an_indent() {
        let all: Vec<u8> = (0u8..=40).collect();
        let (head, tail) = all.split_at(3);
        let mut parts = String::new();
        xxd_indented(&[head, tail], "  ", &mut parts);
        let indented: String = dump(&all).lines().map(|l| format!("  {l}\n")).collect();
        assert_eq!(parts, indented);
    }

    #[test]
    fn offsets_past_4_gib_keep_every_digit() {
        let mut b = Vec::new();
        push_line(0x1_0000_0010, b"AB", &mut b);
        let s = String::from_utf8(b).unwrap();
        assert!(s.starts_with("100000010: 4142 "), "{s:?}");
        assert!(s.ends_with("  AB\n"), "{s:?}");
    }

    #[test]
    fn empty_input_prints_nothing() {
        assert_eq!(dump(&[]), "");
        assert_eq!(hex_compact(&[]), "");
    }

    #[test]
    fn compact_and_plain_hex() {
        assert_eq!(hex_compact(&[0x81, 0x85, 0x37, 0xfa]), "81 85 37 fa");
        assert_eq!(hex_plain(&[0x37, 0xfa, 0x21, 0x3d]), "37fa213d");
    }
}
