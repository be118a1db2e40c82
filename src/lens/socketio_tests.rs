//! The Socket.IO codec and duties, without a socket.

use std::time::{Duration, Instant};

use serde_json::json;

use super::*;

fn lens(resource: &str, auth: Option<Value>) -> Box<dyn Lens> {
    make(&Config {
        resource: resource.into(),
        auth,
        timeout: Duration::from_secs(5),
        ..Config::default()
    })
}

fn recv(l: &mut Box<dyn Lens>, text: &str) -> Decoded {
    l.decode(Dir::Received, DataKind::Text, text.as_bytes())
        .unwrap()
}

#[test]
fn packets_decode_in_the_lens_words() {
    let d = decode_engine(r#"42["chat","hi",{"n":1}]"#).unwrap();
    assert_eq!(d.summary, r#"event "chat" ["hi",{"n":1}]"#);
    assert_eq!(
        d.json,
        json!({"type":"event","ns":"/","name":"chat","args":["hi",{"n":1}]})
    );
    let d = decode_engine(r#"42/admin,7["x"]"#).unwrap();
    assert_eq!(d.summary, r#"event "x" [] ns /admin ack 7"#);
    assert_eq!(d.json["id"], 7);
    let d = decode_engine(r#"43/admin,7["ok"]"#).unwrap();
    assert_eq!(d.summary, r#"ack 7 ["ok"] ns /admin"#);
    let d = decode_engine(r#"40{"sid":"abc"}"#).unwrap();
    assert_eq!(d.summary, r#"connect {"sid":"abc"} ns /"#);
    assert!(d.duty);
    let d = decode_engine(r#"451-["up",{"_placeholder":true,"num":0}]"#).unwrap();
    assert_eq!(d.json["attachments"], 1);
    assert!(
        d.summary.ends_with("(+1 binary attachment)"),
        "{}",
        d.summary
    );
    let d = decode_engine(r#"0{"sid":"s","pingInterval":25000,"pingTimeout":20000}"#).unwrap();
    assert_eq!(
        d.summary,
        r#"open sid "s" pingInterval 25000 pingTimeout 20000"#
    );
    assert_eq!(d.json["pingInterval"], 25000);
    assert_eq!(decode_engine("2").unwrap().json, json!({"type":"ping"}));
}

#[test]
fn hostile_packets_are_refused_with_a_reason() {
    for (bad, why) in [
        ("", "empty"),
        ("9", "unknown Engine.IO packet type"),
        ("4", "empty Socket.IO packet"),
        ("49", "unknown Socket.IO packet type"),
        ("42{\"a\":1}", "not an array"),
        ("42[1]", "without a name"),
        ("42[", "bad JSON"),
        ("4299999999999999999999[\"a\"]", "too large"),
        ("45x-[\"a\"]", "attachment count"),
        ("4599999-[\"a\"]", "too many attachments"),
        ("0nope", "open packet"),
    ] {
        let e = decode_engine(bad).unwrap_err();
        assert!(e.contains(why), "{bad}: {e}");
    }
    let deep = format!("42[\"a\",{}]", "[".repeat(10_000));
    assert!(decode_engine(&deep).unwrap_err().contains("nested"));
    // Multi-byte characters where ASCII is expected never split a character.
    assert!(decode_engine("4é").is_err());
    assert!(decode_engine("42/é").is_ok() || decode_engine("42/é").is_err());
}

#[test]
fn duties_connect_answer_pings_and_call_a_silent_server_dead() {
    let mut l = lens(
        "/socket.io/?EIO=4&transport=websocket",
        Some(json!({"t":1})),
    );
    let now = Instant::now();
    assert!(l.start(now).send.is_empty());
    assert!(l.deadline().is_some());
    let open = recv(
        &mut l,
        r#"0{"sid":"s","pingInterval":100,"pingTimeout":50}"#,
    );
    assert_eq!(
        l.after(&open, now).send,
        vec![Out::Text(r#"40{"t":1}"#.into())]
    );
    // An event before the namespace's answer is fine.
    let ev = recv(&mut l, r#"42["early"]"#);
    assert_eq!(l.after(&ev, now), Step::default());
    let ok = recv(&mut l, r#"40{"sid":"x"}"#);
    l.after(&ok, now);
    let ping = recv(&mut l, "2");
    assert_eq!(l.after(&ping, now).send, vec![Out::Text("3".into())]);
    let due = l.deadline().unwrap();
    assert_eq!(due, now + Duration::from_millis(150));
    assert!(l.on_deadline(now).fail.is_none());
    let f = l.on_deadline(due).fail.unwrap();
    assert!(f.contains("stopped pinging"), "{f}");
}

#[test]
fn a_refused_default_namespace_fails_and_no_open_packet_times_out() {
    let mut l = lens("/socket.io/", None);
    let now = Instant::now();
    l.start(now);
    let f = l.on_deadline(now + Duration::from_secs(6)).fail.unwrap();
    assert!(f.contains("no Engine.IO open packet"), "{f}");
    let mut l = lens("/socket.io/", None);
    let open = recv(
        &mut l,
        r#"0{"sid":"s","pingInterval":100,"pingTimeout":50}"#,
    );
    l.after(&open, now);
    let err = recv(&mut l, r#"44{"message":"Not authorized"}"#);
    let f = l.after(&err, now).fail.unwrap();
    assert!(f.contains("Not authorized"), "{f}");
}

#[test]
fn emit_and_ns_encode_and_acks_pair() {
    let mut l = lens("/socket.io/", None);
    let out = l
        .command("emit", r#"chat "hi" {"n":1} --ack"#)
        .unwrap()
        .unwrap();
    assert_eq!(out, vec![Out::Text(r#"420["chat","hi",{"n":1}]"#.into())]);
    let out = l.command("emit", "chat --ns /admin").unwrap().unwrap();
    assert_eq!(out, vec![Out::Text(r#"42/admin,["chat"]"#.into())]);
    let d = recv(&mut l, r#"430["ok"]"#);
    assert!(d.summary.starts_with("ack 0 [\"ok\"] ("), "{}", d.summary);
    assert!(d.json["latency_ms"].is_number());
    assert!(l.command("emit", "").unwrap().is_err());
    assert!(l.command("emit", "x --ns").unwrap().is_err());
    assert!(l.command("emit", "x --bogus").unwrap().is_err());
    let out = l.command("ns", r#"/admin {"token":"t"}"#).unwrap().unwrap();
    assert_eq!(out, vec![Out::Text(r#"40/admin,{"token":"t"}"#.into())]);
    assert!(l.command("ns", "admin").unwrap().is_err());
    assert!(l.command("call", "x").is_none());
}

#[test]
fn binary_attachments_are_counted_and_sized() {
    let mut l = lens("/socket.io/", None);
    recv(
        &mut l,
        r#"452-["up",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
    );
    let a = l
        .decode(Dir::Received, DataKind::Binary, &[1, 2, 3])
        .unwrap();
    assert_eq!(a.summary, r#"attachment 1/2 of "up" (3 bytes)"#);
    let b = l.decode(Dir::Received, DataKind::Binary, &[]).unwrap();
    assert_eq!(b.summary, r#"attachment 2/2 of "up" (0 bytes)"#);
    let c = l.decode(Dir::Received, DataKind::Binary, &[9]).unwrap();
    assert!(c.summary.contains("no binary packet announced it"));
    // EIO 3 prefixes binary with a 4.
    let mut l3 = lens("/socket.io/?EIO=3", None);
    let d = l3
        .decode(Dir::Received, DataKind::Binary, &[4, 1, 2])
        .unwrap();
    assert_eq!(d.json["size"], 2);
}

#[test]
fn eio3_client_pings() {
    let mut l = lens("/socket.io/?EIO=3&transport=websocket", None);
    let now = Instant::now();
    l.start(now);
    let open = recv(
        &mut l,
        r#"0{"sid":"s","pingInterval":100,"pingTimeout":50}"#,
    );
    // The server connects the default namespace itself in Socket.IO 2.
    assert!(l.after(&open, now).send.is_empty());
    assert!(!l.ready());
    let ok = recv(&mut l, "40");
    l.after(&ok, now);
    assert!(l.ready());
    let due = l.deadline().unwrap();
    let s = l.on_deadline(due);
    assert_eq!(s.send, vec![Out::Text("2".into())]);
    let pong = recv(&mut l, "3");
    l.after(&pong, due);
    assert!(l.deadline().unwrap() >= due + Duration::from_millis(100));
}
