//! The lens table and the choice from the handshake.

use super::*;

fn cfg(choice: Choice) -> Config {
    Config {
        choice,
        ..Config::default()
    }
}

#[test]
fn the_handshake_chooses_only_when_asked_to() {
    let auto = cfg(Choice::Auto);
    let name = |c: &Config, p: &str, s: Option<&str>| choose(c, p, s).map(|e| e.name);
    assert_eq!(name(&auto, "/socket.io/?EIO=4", None), Some("socketio"));
    assert_eq!(
        name(&auto, "/chat", Some("graphql-transport-ws")),
        Some("graphql-ws")
    );
    assert_eq!(name(&auto, "/chat", Some("graphql-ws")), Some("graphql-ws"));
    assert_eq!(name(&auto, "/ws", Some("v12.stomp")), Some("stomp"));
    assert_eq!(name(&auto, "/mqtt", Some("mqtt")), Some("mqtt"));
    assert_eq!(name(&auto, "/chat?x=/socket.io/", None), None);
    assert_eq!(name(&cfg(Choice::Off), "/socket.io/", None), None);
    let rpc = cfg(Choice::Named(by_name("jsonrpc").unwrap()));
    assert_eq!(name(&rpc, "/socket.io/", None), Some("jsonrpc"));
}

#[test]
fn lens_lines_are_checked_against_the_named_lens() {
    let sio = cfg(Choice::Named(by_name("socketio").unwrap()));
    assert_eq!(check_line(&sio, "/emit chat 1"), Ok(()));
    assert_eq!(check_line(&sio, "/text x"), Ok(()));
    assert_eq!(check_line(&sio, "/emit ${e}"), Ok(()));
    assert!(check_line(&sio, "/emit").unwrap_err().contains("EVENT"));
    assert!(check_line(&sio, "/call x")
        .unwrap_err()
        .contains("not a command of the socketio lens"));
    assert!(check_line(&cfg(Choice::Off), "/emit x").is_err());
    assert_eq!(check_line(&cfg(Choice::Auto), "/emit"), Ok(()));
}

#[test]
fn socketio_urls_get_the_engine_io_query() {
    let auto = cfg(Choice::Auto);
    let u = url::Url::parse("ws://h/socket.io/").unwrap();
    assert_eq!(
        adjust_url(&auto, &u).unwrap().as_str(),
        "ws://h/socket.io/?EIO=4&transport=websocket"
    );
    let u = url::Url::parse("ws://h/socket.io/?EIO=3&transport=websocket").unwrap();
    assert_eq!(adjust_url(&auto, &u), None);
    let u = url::Url::parse("ws://h/other").unwrap();
    assert_eq!(adjust_url(&auto, &u), None);
}

#[test]
fn every_lens_is_in_the_table_once_with_its_commands() {
    let mut names: Vec<&str> = TABLE.iter().map(|e| e.name).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), TABLE.len());
    for e in TABLE {
        let lens = (e.make)(&Config::default());
        assert_eq!(lens.name(), e.name);
        assert!(!e.commands.is_empty());
        assert!(help(e).contains(&format!("/{}", e.commands[0].name)));
    }
    assert!(is_lens_command("emit") && is_lens_command("send-json"));
    assert!(!is_lens_command("text"));
}

#[test]
fn command_words_take_json_bare_words_and_flags() {
    use text::{words, Word};
    let w = words(r#"chat "a b" {"n":[1]} hi 3 --ack --ns /x"#).unwrap();
    assert_eq!(
        w,
        vec![
            Word::Value("chat".into()),
            Word::Value("a b".into()),
            Word::Value(serde_json::json!({"n":[1]})),
            Word::Value("hi".into()),
            Word::Value(3.into()),
            Word::Flag("ack".into()),
            Word::Flag("ns".into()),
            Word::Value("/x".into()),
        ]
    );
    assert!(words("{bad").is_err());
    assert!(words(&"[".repeat(1000)).is_err());
    assert_eq!(text::cut("ééé", 3), "é…");
}

proptest::proptest! {
    /// No input makes a lens panic (the fuzz target runs the same on a fuzzer's inputs).
    #[test]
    fn no_input_panics_a_lens(data in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
        decode_all(&data);
    }

    #[test]
    fn no_text_panics_a_lens(text in "[0-9/,\\[\\]{}\"a-z:\\n\\x00-]{0,64}") {
        decode_all(text.as_bytes());
        decode_all(format!("4{text}").as_bytes());
        decode_all(format!("SEND\n{text}").as_bytes());
    }
}
