//! Hex rendering helpers for the frame dump: an `xxd`-compatible multi-line
//! dump (so output can be compared with, or reversed by, `xxd -r`) and a
//! compact one-line form for headers and log lines.

use std::fmt::Write as _;

const PER_LINE: usize = 16;
/// Width of a full line's hex column: 8 groups of 4 digits plus 7 spaces.
const HEX_WIDTH: usize = PER_LINE / 2 * 5 - 1;

/// Appends an `xxd`-style dump of `bytes` to `out`, one `\n`-terminated line
/// per 16 bytes. The ASCII column stays aligned on a short last line, and
/// anything outside printable ASCII shows as `.` so terminal control bytes
/// from the peer can never reach the terminal raw.
pub fn xxd(bytes: &[u8], out: &mut String) {
    for (line, chunk) in bytes.chunks(PER_LINE).enumerate() {
        // Writing to a String cannot fail.
        let _ = write!(out, "{:08x}: ", line * PER_LINE);
        let hex_start = out.len();
        for (i, b) in chunk.iter().enumerate() {
            if i > 0 && i % 2 == 0 {
                out.push(' ');
            }
            let _ = write!(out, "{b:02x}");
        }
        let hex_len = out.len() - hex_start;
        out.extend(std::iter::repeat_n(
            ' ',
            HEX_WIDTH.saturating_sub(hex_len) + 2,
        ));
        out.extend(chunk.iter().map(|&b| printable(b)));
        out.push('\n');
    }
}

/// Space-separated lowercase hex pairs, e.g. `81 85 37 fa`.
pub fn hex_compact(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Lowercase hex without separators (`37fa213d`), for masks and JSON.
pub fn hex_plain(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn printable(b: u8) -> char {
    if (0x20..0x7f).contains(&b) {
        char::from(b)
    } else {
        '.'
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
