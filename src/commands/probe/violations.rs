//! The frame violations, each as the bytes that commit it and what RFC 6455 wants in answer.
//! A violation may be tried several ways (every reserved opcode, every invalid close code), each
//! on its own connection; its line is the worst of them. The frames are written by the one
//! header encoder (`wire::header`, through `wire::craft`), also the ones that break its rules:
//! a non-minimal length form, a 64-bit length with the top bit set.

use std::time::Duration;

use crate::probe_checks::{CheckId, Status};
use crate::wire::craft::{self, Crafted};
use crate::wire::header::LengthForm;

/// One violation: the tries (a label and the bytes of each), the close codes that pass, the
/// section, and what letting it through is.
pub struct Violation {
    pub tries: Vec<(String, Vec<u8>)>,
    pub want: &'static [u16],
    pub section: &'static str,
    pub through: Status,
    /// How long the server gets to react.
    pub react: Duration,
    /// Whether a dropped connection (no close frame) is a pass: for a frame whose length cannot
    /// be read, closing the TCP connection is an answer.
    pub drop_ok: bool,
    /// Whether a ping after the frame can be answered at all (not when it is swallowed as the
    /// payload of a frame whose length never ends).
    pub pinged: bool,
}

use super::REACT;

/// The reserved opcodes: 0x3-0x7 (data) and 0xB-0xF (control), RFC 6455 §5.2.
pub const RESERVED_OPCODES: [u8; 10] = [0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF];
/// Close codes a client must never send (RFC 6455 §7.4.1, §7.4.2).
pub const INVALID_CLOSE_CODES: [u16; 7] = [0, 999, 1004, 1005, 1006, 1015, 5000];

fn one(frames: &[Crafted]) -> Vec<u8> {
    frames.iter().flat_map(|f| f.encode()).collect()
}

fn frag(opcode: u8, fin: bool, payload: &[u8]) -> Crafted {
    Crafted {
        fin,
        ..Crafted::new(opcode, payload.to_vec())
    }
}

fn plain(want: &'static [u16], section: &'static str, tries: Vec<(String, Vec<u8>)>) -> Violation {
    Violation {
        tries,
        want,
        section,
        through: Status::Fail,
        react: REACT,
        drop_ok: false,
        pinged: true,
    }
}

/// The violation check `id` commits, or None when it is not one of the new ones (the frames of
/// the first round are `frames::violation_frame`).
pub fn of(id: CheckId) -> Option<Violation> {
    const P: &[u16] = &[1002];
    let single = |f: Crafted| vec![(String::new(), f.encode())];
    let v = match id {
        CheckId::Rsv1 => plain(
            P,
            "§5.2",
            single(Crafted {
                rsv1: true,
                ..Crafted::new(craft::TEXT, "rsv1")
            }),
        ),
        CheckId::Rsv3 => plain(
            P,
            "§5.2",
            single(Crafted {
                rsv3: true,
                ..Crafted::new(craft::TEXT, "rsv3")
            }),
        ),
        CheckId::Opcode => plain(
            P,
            "§5.2",
            RESERVED_OPCODES
                .iter()
                .map(|&op| (format!("0x{op:X}"), Crafted::new(op, "reserved").encode()))
                .collect(),
        ),
        CheckId::ContinuationStart => plain(
            P,
            "§5.4",
            single(Crafted::new(craft::CONTINUATION, "orphan")),
        ),
        CheckId::FragmentInterleaved => plain(
            P,
            "§5.4",
            vec![(
                String::new(),
                one(&[
                    frag(craft::TEXT, false, b"first "),
                    frag(craft::TEXT, true, b"second"),
                ]),
            )],
        ),
        // F0 9F 98 starts a 4-byte sequence; the next fragment ends it with ASCII.
        CheckId::Utf8Fragmented => plain(
            &[1007],
            "§8.1",
            vec![(
                String::new(),
                one(&[
                    frag(craft::TEXT, false, b"ok \xF0\x9F"),
                    frag(craft::CONTINUATION, false, b"\x98"),
                    frag(craft::CONTINUATION, true, b"A"),
                ]),
            )],
        ),
        CheckId::CloseCodes => plain(
            P,
            "§7.4",
            INVALID_CLOSE_CODES
                .iter()
                .map(|&c| (c.to_string(), Crafted::close(c, "").encode()))
                .collect(),
        ),
        CheckId::CloseShort => plain(P, "§5.5.1", single(Crafted::new(craft::CLOSE, vec![0x03]))),
        CheckId::LengthNonminimal | CheckId::Length64bit => return lengths(id),
        _ => return None,
    };
    Some(v)
}

/// The two length encodings RFC 6455 §5.2 forbids, written by the one header encoder.
fn lengths(id: CheckId) -> Option<Violation> {
    const P: &[u16] = &[1002];
    let v = match id {
        CheckId::LengthNonminimal => Violation {
            // Harmless when read right: letting it through is a warning.
            through: Status::Warn,
            ..plain(
                P,
                "§5.2",
                vec![(
                    String::new(),
                    Crafted::new(craft::TEXT, "short").encode_in(LengthForm::SixtyFour),
                )],
            )
        },
        CheckId::Length64bit => Violation {
            drop_ok: true,
            pinged: false,
            react: Duration::from_secs(1),
            ..plain(
                &[1002, 1009],
                "§5.2",
                vec![(
                    String::new(),
                    Crafted {
                        len: Some((1 << 63) | 5),
                        ..Crafted::new(craft::BINARY, "hello")
                    }
                    .encode(),
                )],
            )
        },
        _ => return None,
    };
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::header::{parse, Parsed};

    fn first_header(bytes: &[u8]) -> crate::wire::header::Header {
        match parse(bytes) {
            Parsed::Header(h, _) => h,
            Parsed::Need(_) => panic!("no header"),
        }
    }

    #[test]
    fn each_frame_breaks_the_rule_it_names() {
        let h = |id| first_header(&of(id).expect("a violation").tries[0].1);
        assert_eq!(h(CheckId::Rsv1).rsv, 0x40);
        assert_eq!(h(CheckId::Rsv3).rsv, 0x10);
        assert_eq!(h(CheckId::ContinuationStart).opcode, 0);
        assert!(h(CheckId::LengthNonminimal).non_minimal());
        assert_eq!(h(CheckId::Length64bit).len >> 63, 1);
        let ops: Vec<u8> = of(CheckId::Opcode)
            .unwrap()
            .tries
            .iter()
            .map(|t| first_header(&t.1).opcode)
            .collect();
        assert_eq!(ops, RESERVED_OPCODES);
        let codes = of(CheckId::CloseCodes).unwrap();
        assert_eq!(codes.tries.len(), 7);
        assert!(of(CheckId::Ping).is_none());
    }
}
