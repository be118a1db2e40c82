//! Unit tests of the command parser: every command, every refusal and its wording.
use super::*;
use crate::wire::close::NAMES as CLOSE_CODE_NAMES;

fn err(line: &str) -> CommandError {
    match parse(line) {
        Err(e) => e,
        Ok(c) => panic!("{line:?} parsed as {c:?}"),
    }
}

fn close(code: u16, reason: &str) -> Command {
    Command::Close {
        code,
        reason: reason.to_owned(),
    }
}

#[test]
fn plain_lines_are_text_verbatim() {
    assert_eq!(parse(""), Ok(Command::Nothing));
    assert_eq!(parse("hello"), Ok(Command::Text("hello".into())));
    assert_eq!(parse("  padded  "), Ok(Command::Text("  padded  ".into())));
    assert_eq!(parse(" /ping"), Ok(Command::Text(" /ping".into())));
    assert_eq!(parse("{\"a\":1}"), Ok(Command::Text("{\"a\":1}".into())));
}

#[test]
fn double_slash_sends_the_line_minus_one_slash() {
    assert_eq!(parse("//x"), Ok(Command::Text("/x".into())));
    assert_eq!(parse("//text hi"), Ok(Command::Text("/text hi".into())));
    assert_eq!(parse("//"), Ok(Command::Text("/".into())));
    assert_eq!(parse("///"), Ok(Command::Text("//".into())));
}

#[test]
fn text_keeps_everything_after_one_separator() {
    assert_eq!(parse("/text"), Ok(Command::Text(String::new())));
    assert_eq!(parse("/text "), Ok(Command::Text(String::new())));
    assert_eq!(
        parse("/text hi there"),
        Ok(Command::Text("hi there".into()))
    );
    assert_eq!(parse("/text  two "), Ok(Command::Text(" two ".into())));
    assert_eq!(parse("/text /quit"), Ok(Command::Text("/quit".into())));
}

#[test]
fn binary_hex() {
    assert_eq!(
        parse("/binary 00 ff 10"),
        Ok(Command::Binary(vec![0, 255, 16]))
    );
    assert_eq!(
        parse("/binary 00ff10"),
        Ok(Command::Binary(vec![0, 255, 16]))
    );
    assert_eq!(parse("/binary 0 0f f"), Ok(Command::Binary(vec![0, 255])));
    assert_eq!(
        parse("/binary 0x48 0X65 0x6c6c"),
        Ok(Command::Binary(vec![0x48, 0x65, 0x6c, 0x6c]))
    );
    assert_eq!(
        parse("/binary DEADbeef"),
        Ok(Command::Binary(vec![0xde, 0xad, 0xbe, 0xef]))
    );
    assert_eq!(parse("/binary"), Ok(Command::Binary(vec![])));
    assert_eq!(parse("/binary   "), Ok(Command::Binary(vec![])));
}

#[test]
fn binary_refusals_name_the_problem() {
    let e = err("/binary zz");
    assert_eq!(
        e,
        CommandError::InvalidHexDigit {
            found: 'z',
            position: 1
        }
    );
    assert_eq!(
        e.to_string(),
        "invalid hex digit 'z' at position 1 of the hex argument"
    );
    assert!(e.hint().is_some_and(|h| h.contains("/binary HEX")));

    assert_eq!(
        err("/binary 00 1g"),
        CommandError::InvalidHexDigit {
            found: 'g',
            position: 5
        }
    );
    // An "x" is only a prefix right after a leading 0 of a group.
    assert_eq!(
        err("/binary 00x1"),
        CommandError::InvalidHexDigit {
            found: 'x',
            position: 3
        }
    );
    assert_eq!(
        err("/binary é0"),
        CommandError::InvalidHexDigit {
            found: 'é',
            position: 1
        }
    );

    let e = err("/binary abc");
    assert_eq!(e, CommandError::OddHexDigits { count: 3 });
    assert!(e.to_string().contains("3 digits"));
}

#[test]
fn base64_standard_alphabet_padding_optional() {
    assert_eq!(
        parse("/base64 SGVsbG8="),
        Ok(Command::Binary(b"Hello".to_vec()))
    );
    assert_eq!(
        parse("/base64 SGVsbG8"),
        Ok(Command::Binary(b"Hello".to_vec()))
    );
    assert_eq!(
        parse("/base64 SGVs bG8=\t"),
        Ok(Command::Binary(b"Hello".to_vec()))
    );
    assert_eq!(parse("/base64 +/8="), Ok(Command::Binary(vec![0xfb, 0xff])));
    assert_eq!(parse("/base64"), Ok(Command::Binary(vec![])));
}

#[test]
fn base64_refusals_name_the_problem() {
    let e = err("/base64 SGV!bG8=");
    assert_eq!(
        e.to_string(),
        "invalid base64: character '!' at position 4 is not in the base64 alphabet"
    );
    assert!(e.hint().is_some_and(|h| h.contains("standard alphabet")));
    assert!(err("/base64 -_8").to_string().contains("base64url"));
    assert!(err("/base64 SGVsb")
        .to_string()
        .contains("length 5 is impossible"));
    assert!(err("/base64 SG=sbG8")
        .to_string()
        .contains("padding '=' at position 3"));
    // "SGVsbG9" ends in a symbol whose low bits would be thrown away.
    assert!(err("/base64 SGVsbG9").to_string().contains("position 7"));
    // Positions count what was typed, including spaces.
    assert!(err("/base64 SG Vs b")
        .to_string()
        .contains("length 5 is impossible"));
    assert!(err("/base64 SG V= sbG8").to_string().contains("position 5"));
}

#[test]
fn file_path_and_force_binary() {
    let file = |path: &str, force_binary| Command::File {
        path: PathBuf::from(path),
        force_binary,
    };
    assert_eq!(parse("/file a.json"), Ok(file("a.json", false)));
    assert_eq!(
        parse("/file  my file.txt  "),
        Ok(file("my file.txt", false))
    );
    assert_eq!(parse("/file --binary a.bin"), Ok(file("a.bin", true)));
    assert_eq!(parse("/file -- --binary"), Ok(file("--binary", false)));
    assert_eq!(parse("/file --binary -- --x"), Ok(file("--x", true)));
    assert_eq!(parse("/file -x"), Ok(file("-x", false)));
    assert_eq!(
        err("/file"),
        CommandError::MissingArgument {
            command: "file",
            what: "a PATH"
        }
    );
    assert_eq!(
        err("/file --binary"),
        CommandError::MissingArgument {
            command: "file",
            what: "a PATH"
        }
    );
    assert_eq!(
        err("/file --bin x"),
        CommandError::UnknownFileOption {
            given: "--bin".into()
        }
    );
    assert!(err("/file")
        .hint()
        .is_some_and(|h| h.contains("/file [--binary] PATH")));
}

#[test]
fn ping_and_pong_payloads() {
    assert_eq!(parse("/ping"), Ok(Command::Ping(vec![])));
    assert_eq!(
        parse("/ping  hi there "),
        Ok(Command::Ping(b"hi there".to_vec()))
    );
    assert_eq!(parse("/pong x"), Ok(Command::Pong(b"x".to_vec())));

    let max = "a".repeat(125);
    assert_eq!(
        parse(&format!("/ping {max}")),
        Ok(Command::Ping(max.clone().into_bytes()))
    );
    assert_eq!(
        parse(&format!("/pong {max}")),
        Ok(Command::Pong(max.into_bytes()))
    );

    let over = "a".repeat(126);
    let e = err(&format!("/ping {over}"));
    assert_eq!(
        e.to_string(),
        "ping payload is 126 bytes; control frames carry at most 125 (RFC 6455 §5.5)"
    );
    assert!(err(&format!("/pong {over}"))
        .to_string()
        .starts_with("pong payload is 126"));
    // The limit is in bytes: 63 two-byte characters are 126 bytes.
    assert_eq!(
        err(&format!("/ping {}", "é".repeat(63))),
        CommandError::ControlPayloadTooLong {
            frame: "ping",
            len: 126
        }
    );
}

#[test]
fn close_defaults_numbers_and_names() {
    assert_eq!(parse("/close"), Ok(close(1000, "")));
    assert_eq!(parse("/close   "), Ok(close(1000, "")));
    assert_eq!(parse("/close 1001"), Ok(close(1001, "")));
    assert_eq!(
        parse("/close 4000  see you later "),
        Ok(close(4000, "see you later"))
    );
    assert_eq!(parse("/close away brb"), Ok(close(1001, "brb")));
    assert_eq!(parse("/close Too-Big"), Ok(close(1009, "")));
    for (name, code) in CLOSE_CODE_NAMES {
        assert_eq!(
            parse(&format!("/close {name}")),
            Ok(close(*code, "")),
            "{name}"
        );
    }
    assert_eq!(parse("/close 1014"), Ok(close(1014, "")));
    assert_eq!(parse("/close 3000"), Ok(close(3000, "")));
    assert_eq!(parse("/close 4999"), Ok(close(4999, "")));
}

#[test]
fn close_code_refusals_say_why() {
    let cases: &[(u16, &str)] = &[
        (0, "codes 0-999 are unused"),
        (999, "codes 0-999 are unused"),
        (1004, "1004 is reserved"),
        (1005, "close code 1005 (no status received) is reserved: it must never be sent on the wire (RFC 6455 §7.4.1)"),
        (1006, "(abnormal closure) is reserved"),
        (1015, "(TLS handshake failure) is reserved"),
        (1016, "1016 is unassigned"),
        (2999, "2999 is unassigned"),
        (5000, "5000 is out of range"),
        (u16::MAX, "65535 is out of range"),
    ];
    for (code, expected) in cases {
        let e = err(&format!("/close {code}"));
        assert_eq!(e, CommandError::CloseCodeRefused { code: *code });
        assert!(e.to_string().contains(expected), "{code}: {e}");
        assert_eq!(check_close_code(*code), Err(e.clone()));
        assert_eq!(e.hint().as_deref(), Some(CLOSE_USAGE));
    }
    for code in (1000..=1003).chain(1007..=1014).chain(3000..=4999) {
        assert_eq!(check_close_code(code), Ok(()), "{code}");
    }
}

#[test]
fn close_code_that_is_no_code() {
    for given in ["goodbye", "70000", "-1", "1000x"] {
        let e = err(&format!("/close {given}"));
        assert_eq!(
            e,
            CommandError::BadCloseCode {
                given: given.into()
            }
        );
        assert!(e.hint().is_some_and(|h| h.contains("bad-gateway")));
    }
}

#[test]
fn close_reason_limit_is_123_bytes() {
    let ok = "r".repeat(123);
    assert_eq!(check_close_reason(&ok), Ok(()));
    assert_eq!(parse(&format!("/close 1000 {ok}")), Ok(close(1000, &ok)));
    let over = "r".repeat(124);
    let e = err(&format!("/close normal {over}"));
    assert_eq!(e, CommandError::CloseReasonTooLong { len: 124 });
    assert_eq!(
        e.to_string(),
        "close reason is 124 bytes; at most 123 fit in a close frame"
    );
    assert_eq!(check_close_reason(&over), Err(e));
}

#[test]
fn switches() {
    assert_eq!(parse("/dump on"), Ok(Command::Dump(true)));
    assert_eq!(parse("/dump  off "), Ok(Command::Dump(false)));
    assert_eq!(parse("/verbose on"), Ok(Command::Verbose(true)));
    assert_eq!(parse("/verbose off"), Ok(Command::Verbose(false)));
    assert_eq!(
        err("/dump maybe"),
        CommandError::BadSwitch {
            command: "dump",
            given: "maybe".into()
        }
    );
    assert_eq!(
        err("/verbose"),
        CommandError::MissingArgument {
            command: "verbose",
            what: "on or off"
        }
    );
    assert!(err("/dump")
        .hint()
        .is_some_and(|h| h.contains("/dump on|off")));
}

#[test]
fn argumentless_commands() {
    assert_eq!(parse("/status"), Ok(Command::Status));
    assert_eq!(parse("/status  "), Ok(Command::Status));
    assert_eq!(parse("/help"), Ok(Command::Help));
    assert_eq!(parse("/help close"), Ok(Command::Help));
    assert_eq!(parse("/quit"), Ok(Command::Quit));
    assert_eq!(parse("/exit"), Ok(Command::Quit));
    assert_eq!(parse("/clients"), Ok(Command::Clients));
    assert_eq!(
        err("/quit now"),
        CommandError::UnexpectedArgument {
            command: "quit",
            given: "now".into()
        }
    );
    assert_eq!(err("/exit 1").hint().as_deref(), Some("usage: /quit"));
}

#[test]
fn to_addresses_one_client() {
    let to = |client, command| Command::To {
        client,
        command: Box::new(command),
    };
    assert_eq!(
        parse("/to 3 hello world "),
        Ok(to(3, Command::Text("hello world ".into())))
    );
    assert_eq!(parse("/to  #3   hi"), Ok(to(3, Command::Text("hi".into()))));
    assert_eq!(
        parse("/to 3 /ping x"),
        Ok(to(3, Command::Ping(b"x".to_vec())))
    );
    assert_eq!(
        parse("/to 3 /text"),
        Ok(to(3, Command::Text(String::new())))
    );
    assert_eq!(parse("/to 3 //x"), Ok(to(3, Command::Text("/x".into()))));
    assert_eq!(parse("/to 3 /close away"), Ok(to(3, close(1001, ""))));
    assert_eq!(
        parse("/to 3 /binary 01"),
        Ok(to(3, Command::Binary(vec![1])))
    );
    assert!(parse("/to 3 hi").is_ok_and(|c| c.listen_only()));

    assert_eq!(err("/to 3 /to 4 hi"), CommandError::NestedTo);
    assert_eq!(
        err("/to 3 /status"),
        CommandError::NotAMessage { command: "status" }
    );
    assert_eq!(
        err("/to 3 /kick 4"),
        CommandError::NotAMessage { command: "kick" }
    );
    assert_eq!(
        err("/to 3 /close 1005"),
        CommandError::CloseCodeRefused { code: 1005 }
    );
    assert_eq!(
        err("/to x hi"),
        CommandError::BadClientId { given: "x".into() }
    );
    assert!(matches!(
        err("/to"),
        CommandError::MissingArgument { command: "to", .. }
    ));
    assert!(matches!(
        err("/to 3"),
        CommandError::MissingArgument { command: "to", .. }
    ));
    assert!(matches!(
        err("/to 3   "),
        CommandError::MissingArgument { command: "to", .. }
    ));
    assert!(err("/to 3 /to 4 x")
        .hint()
        .is_some_and(|h| h.contains("usage: /to ID MSG")));
}

#[test]
fn kick_closes_one_client() {
    let kick = |client, code, reason: &str| Command::Kick {
        client,
        code,
        reason: reason.into(),
    };
    assert_eq!(parse("/kick 7"), Ok(kick(7, 1000, "")));
    assert_eq!(
        parse("/kick 7 policy no spam"),
        Ok(kick(7, 1008, "no spam"))
    );
    assert_eq!(parse("/kick 7 4001"), Ok(kick(7, 4001, "")));
    assert_eq!(
        err("/kick 7 1006"),
        CommandError::CloseCodeRefused { code: 1006 }
    );
    assert_eq!(
        err("/kick seven"),
        CommandError::BadClientId {
            given: "seven".into()
        }
    );
    assert!(matches!(
        err("/kick"),
        CommandError::MissingArgument {
            command: "kick",
            ..
        }
    ));
}

#[test]
fn unknown_commands_suggest_the_closest() {
    let e = err("/foo");
    assert!(
        matches!(&e, CommandError::UnknownCommand { name, suggestion: Some(_) } if name == "foo")
    );
    assert_eq!(e.to_string(), "unknown command /foo");
    assert!(e.hint().is_some_and(|h| h.contains("type /help")));

    let suggestion = |line: &str| match err(line) {
        CommandError::UnknownCommand { suggestion, .. } => suggestion,
        other => panic!("{other:?}"),
    };
    assert_eq!(suggestion("/clsoe"), Some("close"));
    assert_eq!(suggestion("/pign"), Some("ping"));
    assert_eq!(suggestion("/bin"), Some("binary"));
    assert_eq!(suggestion("/PING"), Some("ping"));
    assert_eq!(suggestion("/exti"), Some("exit"));
    assert_eq!(suggestion("/textfoo"), Some("text"));
    assert_eq!(suggestion("/zzzzzzzzzzzzzzzzzzzzzz"), None);
    assert_eq!(
        err("/pign").hint().as_deref(),
        Some("did you mean /ping? type /help for the list of commands")
    );
    assert_eq!(
        err("/zzzzzzzzzzzzzzzzzzzzzz").hint().as_deref(),
        Some("type /help for the list of commands")
    );

    assert_eq!(err("/"), CommandError::EmptyCommand);
    assert_eq!(err("/ x"), CommandError::EmptyCommand);
    assert!(err("/").hint().is_some_and(|h| h.contains("//")));
}

#[test]
fn raw_takes_hex_bytes_and_nothing_else() {
    assert_eq!(parse("/raw 89 00"), Ok(Command::Raw(vec![0x89, 0x00])));
    assert_eq!(parse("/raw 0x8900"), Ok(Command::Raw(vec![0x89, 0x00])));
    assert!(matches!(
        parse("/raw"),
        Err(CommandError::MissingArgument { command: "raw", .. })
    ));
    assert!(matches!(
        parse("/raw 8"),
        Err(CommandError::OddHexDigits { count: 1 })
    ));
}

#[test]
fn frame_builds_what_its_options_say() {
    use crate::wire::craft::{Crafted, Mask};
    let Ok(Command::Frame(f)) =
        parse("/frame --fin 0 --rsv2 --opcode ping --no-mask --len 300 hi there")
    else {
        panic!("a frame");
    };
    assert_eq!(
        f,
        Crafted {
            fin: false,
            rsv1: false,
            rsv2: true,
            rsv3: false,
            opcode: 9,
            mask: Mask::None,
            len: Some(300),
            payload: b"hi there".to_vec(),
        }
    );
    // Text by default, binary with --hex; -- lets a payload start with --.
    assert_eq!(
        parse("/frame hi"),
        Ok(Command::Frame(Crafted::new(1, "hi")))
    );
    assert_eq!(
        parse("/frame --hex ff 00"),
        Ok(Command::Frame(Crafted::new(2, vec![0xff, 0])))
    );
    assert_eq!(
        parse("/frame -- --x"),
        Ok(Command::Frame(Crafted::new(1, "--x")))
    );
    let Ok(Command::Frame(k)) = parse("/frame --mask 01020304 --opcode 0xB x") else {
        panic!("a frame");
    };
    assert_eq!((k.mask, k.opcode), (Mask::Key([1, 2, 3, 4]), 0xB));
}

#[test]
fn frame_refuses_only_its_own_syntax_errors() {
    for bad in [
        "/frame --fin 2 x",
        "/frame --opcode 16 x",
        "/frame --opcode nope x",
        "/frame --mask 0102 x",
        "/frame --mask 01020304 --no-mask x",
        "/frame --len -1 x",
        "/frame --len",
        "/frame --wat x",
    ] {
        let e = parse(bad).expect_err(bad);
        assert!(
            matches!(e, CommandError::FrameOption { .. }),
            "{bad}: {e:?}"
        );
        assert!(e.hint().is_some_and(|h| h.contains("--opcode")), "{bad}");
    }
    assert!(matches!(
        parse("/frame --hex zz"),
        Err(CommandError::InvalidHexDigit { .. })
    ));
}

proptest::proptest! {
    /// Any line is a command or a refusal that says why and what to type instead.
    #[test]
    fn parse_never_panics_and_refusals_explain_themselves(line in proptest::prelude::any::<String>()) {
        if let Err(e) = parse(&line) {
            proptest::prop_assert!(!e.to_string().is_empty());
            proptest::prop_assert!(e.hint().is_some_and(|h| !h.is_empty()));
        }
    }

    /// The same for lines that start like commands, where the parser does its work.
    #[test]
    fn command_like_lines_never_panic(
        name in "(text|binary|base64|file|ping|pong|raw|frame|close|dump|verbose|status|help|quit|exit|to|clients|kick|[a-z]{0,6})",
        arg in "[ -~\u{a0}\u{3000}é€😀\t]{0,40}",
    ) {
        let line = format!("/{name} {arg}");
        if let Err(e) = parse(&line) {
            proptest::prop_assert!(!e.to_string().is_empty());
            proptest::prop_assert!(e.hint().is_some());
        }
    }

    /// `//` escapes a leading slash: the rest of the line is sent as text, verbatim.
    #[test]
    fn double_slash_is_text_of_the_rest(s in "[^\r\n]*") {
        proptest::prop_assert_eq!(parse(&format!("//{s}")), Ok(Command::Text(format!("/{s}"))));
    }
}
