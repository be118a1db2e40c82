//! The MQTT lens's codec and duties, 3.1.1 and 5.
use super::*;

fn bin(o: &Out) -> Vec<u8> {
    match o {
        Out::Binary(b) => b.clone(),
        Out::Text(_) => vec![],
    }
}

#[test]
fn connect_connack_ping_and_qos_flows() {
    let cfg = Config {
        login: Some(("u".into(), "p".into())),
        timeout: Duration::from_millis(50),
        ..Config::default()
    };
    let mut l = make(&cfg);
    let now = Instant::now();
    let c = bin(&l.start(now).send[0]);
    let d = l.decode(Dir::Sent, DataKind::Binary, &c).unwrap();
    assert!(
        d.summary
            .starts_with("CONNECT MQTT level 4 client \"wscope-"),
        "{}",
        d.summary
    );
    assert_eq!(d.json["username"], true);
    assert!(!l.ready());
    let ack = l
        .decode(Dir::Received, DataKind::Binary, &[0x20, 2, 0, 0])
        .unwrap();
    assert_eq!(ack.summary, "CONNACK code 0 (accepted)");
    assert_eq!(l.after(&ack, now), Step::default());
    assert!(l.ready());
    let due = l.deadline().unwrap();
    assert_eq!(l.on_deadline(due).send, vec![Out::Binary(vec![0xc0, 0])]);
    assert_eq!(make(&Config::default()).closing(), vec![]);
    let p = bin(&l
        .command("publish", "sensors/t 21.5 --qos 1 --retain")
        .unwrap()
        .unwrap()[0]);
    let d = l.decode(Dir::Sent, DataKind::Binary, &p).unwrap();
    assert_eq!(d.summary, "PUBLISH sensors/t qos 1 id 1 \"21.5\"");
    assert_eq!(d.json["retain"], true);
    // A QoS 1 publish from the broker is acknowledged, a QoS 2 one goes through PUBREC/PUBREL.
    assert_eq!(
        l.after(&d, now).send,
        vec![Out::Binary(vec![0x40, 2, 0, 1])]
    );
    let q2 = l
        .decode(
            Dir::Received,
            DataKind::Binary,
            &packet(0x34, &[0, 1, b't', 0, 9, b'x']),
        )
        .unwrap();
    assert_eq!(
        l.after(&q2, now).send,
        vec![Out::Binary(vec![0x50, 2, 0, 9])]
    );
    let rel = l
        .decode(Dir::Received, DataKind::Binary, &[0x62, 2, 0, 9])
        .unwrap();
    assert_eq!(
        l.after(&rel, now).send,
        vec![Out::Binary(vec![0x70, 2, 0, 9])]
    );
    let s = bin(&l.command("subscribe", "a/# --qos 2").unwrap().unwrap()[0]);
    let d = l.decode(Dir::Sent, DataKind::Binary, &s).unwrap();
    assert_eq!(d.summary, r#"SUBSCRIBE id 2 [{"qos":2,"topic":"a/#"}]"#);
}

#[test]
fn a_refused_connect_is_exit_5_and_no_connack_times_out() {
    let mut l = make(&Config::default());
    let now = Instant::now();
    l.start(now);
    let no = l
        .decode(Dir::Received, DataKind::Binary, &[0x20, 2, 0, 5])
        .unwrap();
    let s = l.after(&no, now);
    assert!(s.refused && s.fail.unwrap().contains("code 5 (not authorized)"));
    let mut l = make(&Config {
        timeout: Duration::from_millis(1),
        ..Config::default()
    });
    l.start(now);
    assert!(l
        .on_deadline(now + Duration::from_secs(1))
        .fail
        .unwrap()
        .contains("no CONNACK"));
}

#[test]
fn hostile_packets_are_refused() {
    let mut v5 = false;
    for bad in [
        &[][..],
        &[0x30],
        &[0x30, 0xff, 0xff, 0xff, 0xff, 0x7f],
        &[0x30, 0x05, 0, 9],
        &[0x36, 2, 0, 0],
        &[0x00, 0],
        &[0x30, 2, 0, 5],
    ] {
        assert!(decode(bad, &mut v5).is_err(), "{bad:?}");
    }
    let many: Vec<u8> = std::iter::repeat_n([0xc0u8, 0], 100).flatten().collect();
    assert!(decode(&many, &mut v5).is_err());
    assert_eq!(decode(&[0xc0, 0, 0xd0, 0], &mut v5).unwrap().len(), 2);
}

#[test]
fn mqtt_5_connects_with_properties_and_names_its_reason_codes() {
    let cfg = Config {
        mqtt5: true,
        ..Config::default()
    };
    let mut l = (ENTRY.make)(&cfg);
    let now = Instant::now();
    let connect = bin(&l.start(now).send[0]);
    // "MQTT", level 5, clean session, keep-alive, then an empty property length.
    assert_eq!(&connect[2..12], b"\x00\x04MQTT\x05\x02\x00\x1e");
    assert_eq!(connect[12], 0, "{connect:?}");
    let sent = l.decode(Dir::Sent, DataKind::Binary, &connect).unwrap();
    assert!(sent.summary.contains("level 5"), "{}", sent.summary);
    // CONNACK success with receive maximum 10 and an assigned client id.
    let ack = [0x20, 10, 0, 0, 7, 0x21, 0, 10, 0x12, 0, 1, b'c'];
    let d = l.decode(Dir::Received, DataKind::Binary, &ack).unwrap();
    assert_eq!(d.json["properties"]["receive_maximum"], 10);
    assert_eq!(d.json["properties"]["assigned_client_identifier"], "c");
    assert!(l.after(&d, now).fail.is_none());
    // /publish and /subscribe carry an (empty) property length.
    let p = bin(&l.command("publish", "t x --qos 1").unwrap().unwrap()[0]);
    assert_eq!(p, vec![0x32, 7, 0, 1, b't', 0, 1, 0, b'x']);
    let s = bin(&l.command("subscribe", "t").unwrap().unwrap()[0]);
    assert_eq!(s, vec![0x82, 7, 0, 2, 0, 0, 1, b't', 0]);
    // A v5 PUBACK with a reason code, a PUBLISH with a content type.
    let d = l
        .decode(Dir::Received, DataKind::Binary, &[0x40, 4, 0, 1, 0x10, 0])
        .unwrap();
    assert_eq!(d.summary, "PUBACK id 1 code 16 (no matching subscribers)");
    let pb = [0x30, 10, 0, 1, b't', 5, 0x03, 0, 2, b'a', b'b', b'x'];
    let d = l.decode(Dir::Received, DataKind::Binary, &pb).unwrap();
    assert_eq!(d.json["properties"]["content_type"], "ab");
    assert_eq!(d.json["payload"], "x");

    // A refusal: 0x87 with a reason string.
    let mut l = (ENTRY.make)(&cfg);
    l.start(now);
    let no = [0x20, 9, 0, 0x87, 6, 0x1f, 0, 3, b'n', b'o', b'!'];
    let d = l.decode(Dir::Received, DataKind::Binary, &no).unwrap();
    assert_eq!(d.json["properties"]["reason_string"], "no!");
    let s = l.after(&d, now);
    assert!(s.refused, "{s:?}");
    assert!(s
        .fail
        .unwrap()
        .contains("CONNACK code 135 (not authorized)"));
}
