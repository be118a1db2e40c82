//! Lenses, second part: protobuf (raw and with --proto), the lens view in --dump, MQTT 5, lens
//! command values as data, and a lens's recording replayed. The in-process peer is `lens.rs`'s.

use tokio_tungstenite::tungstenite::Message;

use crate::lens::{echo, has_line, serve, Peer};
use crate::support::{args, run};

const CHAT: &str = "syntax = \"proto3\";\npackage demo;\n\nmessage Chat {\n  int32 n = 1;\n  string user = 2;\n}\n";

fn got_bytes(peer: &crate::lens::Running) -> Vec<Vec<u8>> {
    peer.got
        .lock()
        .unwrap()
        .iter()
        .map(|m| m.clone().into_data().to_vec())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn protobuf_decodes_raw_and_by_a_proto_schema_and_encodes_send_json() {
    let peer = serve(Peer {
        subprotocol: None,
        greeting: vec![Message::binary(vec![0x08, 0x96, 0x01, 0x12, 2, b'h', b'i'])],
        every: None,
        answer: echo,
    })
    .await;
    let out = run(args(&[
        &peer.url("/"),
        "--lens",
        "protobuf",
        "-x",
        r#"/expect-json .["2"] == "hi""#,
        "-x",
        r#"/send-json {"1":5,"3":{"1":"x"}}"#,
        "-x",
        r#"/expect-json .["3"]["1"] == "x""#,
    ]))
    .await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        has_line(&out, r#"[protobuf] {"1":150,"2":"hi"}"#),
        "{}",
        out.stdout
    );
    assert_eq!(got_bytes(&peer)[0], vec![0x08, 5, 0x1a, 3, 0x0a, 1, b'x']);

    let dir = tempfile::tempdir().unwrap();
    let proto = dir.path().join("chat.proto");
    std::fs::write(&proto, CHAT).unwrap();
    let out = run(args(&[
        &peer.url("/"),
        "--proto",
        proto.to_str().unwrap(),
        "--message",
        "demo.Chat",
        "-x",
        r#"/expect-json .user == "hi" and .n == 150"#,
        "-x",
        r#"/send-json {"user":"ann","n":2}"#,
        "-x",
        r#"/expect-json .user == "ann""#,
    ]))
    .await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains(", lens protobuf"), "{}", out.stderr);
    assert!(
        has_line(&out, r#"[protobuf] demo.Chat {"n":150,"user":"hi"}"#),
        "{}",
        out.stdout
    );
    assert_eq!(
        got_bytes(&peer).last().unwrap(),
        &vec![0x08, 2, 0x12, 3, b'a', b'n', b'n']
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_proto_is_a_usage_error_naming_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let proto = dir.path().join("bad.proto");
    std::fs::write(
        &proto,
        "syntax = \"proto3\";\nmessage A {\n  int32 x = 1;\n  Nope y = 2;\n}\n",
    )
    .unwrap();
    let out = run(args(&[
        "ws://127.0.0.1:9/",
        "--proto",
        proto.to_str().unwrap(),
    ]))
    .await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("--proto bad.proto:4: "),
        "{}",
        out.stderr
    );
    let out = run(args(&[
        "ws://127.0.0.1:9/",
        "--proto",
        proto.with_file_name("missing.proto").to_str().unwrap(),
    ]))
    .await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("missing.proto"), "{}", out.stderr);
    let out = run(args(&["ws://127.0.0.1:9/", "--message", "A"])).await;
    assert_eq!(out.code, 2, "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn dump_shows_the_lens_view_under_each_frame() {
    let peer = serve(Peer {
        subprotocol: None,
        greeting: vec![Message::binary(vec![0x81, 0xa1, b'a', 0x01])],
        every: None,
        answer: echo,
    })
    .await;
    let out = run(args(&[
        &peer.url("/"),
        "--lens",
        "msgpack",
        "--dump",
        "-x",
        "/expect-json .a == 1",
        "-x",
        "/text \x1b[31mred",
        "-x",
        "/expect red",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let lines: Vec<&str> = out.stderr.lines().collect();
    // The received frame's dump, then the view under it.
    let at = lines
        .iter()
        .position(|l| l.trim_start() == r#"lens [msgpack] {"a":1}"#)
        .unwrap_or_else(|| panic!("{}", out.stderr));
    assert_eq!(
        lines[at + 1].trim_start(),
        r#"view {"a":1}"#,
        "{}",
        out.stderr
    );
    assert!(
        lines[..at].iter().any(|l| l.contains("8204 81a1 6101")),
        "{}",
        out.stderr
    );
    // A message the lens cannot decode says so in the dump, its text escaped.
    assert!(
        out.stderr.contains("lens [msgpack] not a msgpack packet: "),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains('\x1b'), "{}", out.stderr);
    // A sent message's view comes under its own frame, not above it.
    let sent = lines
        .iter()
        .position(|l| l.starts_with(">> ") && l.contains("FIN text"))
        .unwrap_or_else(|| panic!("{}", out.stderr));
    let view = lines[sent..]
        .iter()
        .position(|l| l.contains("lens [msgpack] not a msgpack"))
        .unwrap_or_else(|| panic!("{}", out.stderr));
    assert!(
        lines[sent + 1..sent + view]
            .iter()
            .any(|l| l.contains("payload (unmasked)")),
        "{}",
        out.stderr
    );
    assert!(
        !lines[..sent].iter().any(|l| l.contains("not a msgpack")),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_value_in_a_lens_command_is_data_whatever_quotes_it_holds() {
    let peer = serve(Peer {
        subprotocol: None,
        greeting: vec![Message::text(r#"name=a","admin":true,"x":"b"#)],
        every: None,
        answer: |_| vec![],
    })
    .await;
    let out = run(args(&[
        &peer.url("/"),
        "--lens",
        "msgpack",
        "-x",
        "/expect name=(?<n>.+)",
        "-x",
        r#"/send-json {"user":"${n}"}"#,
        "-x",
        "/send-json ${n}",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let got = got_bytes(&peer);
    let value = r#"a","admin":true,"x":"b"#;
    // {"user": VALUE}: one key, the value whole (no "admin" key made of it).
    let mut want = vec![0x81, 0xa4];
    want.extend_from_slice(b"user");
    want.extend([0xa0 | value.len() as u8]);
    want.extend_from_slice(value.as_bytes());
    assert_eq!(got[0], want);
    let mut want = vec![0xa0 | value.len() as u8];
    want.extend_from_slice(value.as_bytes());
    assert_eq!(got[1], want);
}

/// An MQTT 5 broker: CONNACK with properties; the user "bad" is refused with 0x87 and a reason
/// string; SUBSCRIBE gets a SUBACK (with an empty property length).
fn mqtt5_answer(m: &Message) -> Vec<Message> {
    let b = m.clone().into_data().to_vec();
    match b.first().map(|f| f >> 4) {
        Some(1) if b.get(8) == Some(&5) => {
            if b.ends_with(b"\x00\x03bad\x00\x02pw") {
                vec![Message::binary(vec![
                    0x20, 9, 0, 0x87, 6, 0x1f, 0, 3, b'n', b'o', b'!',
                ])]
            } else {
                vec![Message::binary(vec![0x20, 6, 0, 0, 3, 0x21, 0, 10])]
            }
        }
        Some(8) => vec![Message::binary(vec![0x90, 4, b[2], b[3], 0, 1])],
        _ => vec![],
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mqtt_5_is_asked_for_shows_properties_and_a_v5_refusal_is_exit_5_by_name() {
    let peer = serve(Peer {
        subprotocol: Some("mqtt"),
        greeting: vec![],
        every: None,
        answer: mqtt5_answer,
    })
    .await;
    let out = run(args(&[
        &peer.url("/mqtt"),
        "-s",
        "mqtt",
        "--mqtt-version",
        "5",
        "--json",
        "-x",
        "/subscribe s/t --qos 1",
        "-x",
        r#"/expect-json .type == "SUBACK" and .codes == [1]"#,
    ]))
    .await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains(r#""properties":{"receive_maximum":10}"#),
        "{}",
        out.stdout
    );
    let out = run(args(&[
        &peer.url("/mqtt"),
        "-s",
        "mqtt",
        "--mqtt-version",
        "5",
        "--auth",
        "bad:pw",
        "-w",
        "inf",
    ]))
    .await;
    assert_eq!(out.code, 5, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("MQTT: the broker refused CONNECT: CONNACK code 135 (not authorized)"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_socketio_recording_keeps_the_lens_view_and_replays_its_events() {
    let peer = serve(crate::lens::socketio(true)).await;
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("sio.jsonl");
    let out = run(args(&[
        &peer.url("/socket.io/"),
        "--record",
        rec.to_str().unwrap(),
        "-x",
        r#"/expect-json .name == "welcome""#,
        "-x",
        r#"/emit chat "hi""#,
        "-x",
        r#"/expect-json .name == "echo""#,
        "-x",
        "/sleep 0.4",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let text = std::fs::read_to_string(&rec).unwrap();
    assert!(
        text.lines().any(|l| l.contains(r#""event":"received""#)
            && l.contains(r#""lens":{"name":"socketio""#)
            && l.contains(r#""name":"echo""#)),
        "{text}"
    );
    let first = peer.texts();
    assert!(first.iter().filter(|t| *t == "3").count() >= 1, "{first:?}");
    peer.got.lock().unwrap().clear();

    let out = run(args(&["replay", rec.to_str().unwrap(), "--fast"])).await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let got = peer.texts();
    // The event is replayed once, after one namespace connect; the recorded pongs are the
    // lens's duties, answered afresh, not replayed blind.
    assert_eq!(got.iter().filter(|t| *t == "40").count(), 1, "{got:?}");
    assert_eq!(
        got.iter().filter(|t| *t == r#"42["chat","hi"]"#).count(),
        1,
        "{got:?}"
    );
    assert!(
        has_line(&out, r#"[socketio] event "echo" ["chat","hi"]"#),
        "{}",
        out.stdout
    );
}
