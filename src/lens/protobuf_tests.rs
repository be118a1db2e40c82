//! The protobuf lens: raw decoding like `protoc --decode_raw`, the schema compiled by protox, and
//! hostile input.

use std::path::Path;

use serde_json::json;

use super::*;

const CHAT: &str = "syntax = \"proto3\";\npackage demo;\n\nmessage Chat {\n  string user = 1;\n  int32 n = 2;\n  Meta meta = 3;\n  repeated string tags = 4;\n}\nmessage Meta { bool urgent = 1; }\n";

fn chat() -> MessageDescriptor {
    crate::lens::compile_proto(
        Path::new("/nonexistent/chat.proto"),
        CHAT,
        Some("demo.Chat"),
    )
    .unwrap()
}

#[test]
fn raw_decoding_guesses_like_protoc_decode_raw() {
    // 1: 150, 2: "testing", 3 { 1: 1 }, 4: "a", 4: "b", 5: fixed32 1.0, 6: bytes ff00
    let mut b = vec![0x08, 0x96, 0x01, 0x12, 7];
    b.extend_from_slice(b"testing");
    b.extend_from_slice(&[0x1a, 2, 0x08, 1, 0x22, 1, b'a', 0x22, 1, b'b']);
    b.extend_from_slice(&[0x2d, 0, 0, 0x80, 0x3f, 0x32, 2, 0xff, 0x00]);
    let d = decode_raw(&b).unwrap();
    assert_eq!(
        d.json,
        json!({"1": 150, "2": "testing", "3": {"1": 1}, "4": ["a", "b"],
               "5": {"$fixed32": 0x3f80_0000u32, "float": 1.0}, "6": {"$bytes": "ff00"}})
    );
    // What the decoder shows, /send-json encodes back to the same bytes.
    assert_eq!(
        decode_raw(&encode_raw(&d.json).unwrap()).unwrap().json,
        d.json
    );
    // A group (start 7, a varint, end 7).
    let d = decode_raw(&[0x3b, 0x08, 5, 0x3c]).unwrap();
    assert_eq!(d.json, json!({"7": {"$group": {"1": 5}}}));
}

#[test]
fn hostile_raw_input_is_refused_not_fatal() {
    for bad in [
        &[0x08][..],                           // a varint cut short
        &[0x12, 0xff, 0xff, 0xff, 0xff, 0x0f], // a 4 GiB length in 6 bytes
        &[0x0b],                               // a group never ended
        &[0x0c],                               // an end without a start
        &[0x0e, 0],                            // wire type 6
        &[0x00, 0],                            // field 0
        &[
            0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01,
        ],
    ] {
        assert!(decode_raw(bad).is_err(), "{bad:?}");
    }
    // Deep nesting: each level a message of one length-delimited field; past MAX_DEPTH it is
    // shown as bytes, not recursed into.
    let mut m: Vec<u8> = vec![0x08, 1];
    for _ in 0..200 {
        let mut outer = vec![0x0a];
        super::put_varint(&mut outer, m.len() as u64);
        outer.extend_from_slice(&m);
        m = outer;
    }
    let d = decode_raw(&m).unwrap();
    assert!(d.json.to_string().contains("$bytes"));
    // Groups nested past the bound.
    let deep = [vec![0x0bu8; 100], vec![0x0c; 100]].concat();
    assert!(decode_raw(&deep).is_err());
    assert_eq!(decode_raw(&[]).unwrap().json, json!({}));
}

#[test]
fn a_schema_decodes_and_encodes_by_field_names() {
    let desc = chat();
    let v = json!({"user": "ann", "n": 7, "meta": {"urgent": true}, "tags": ["x", "y"]});
    let bytes = encode_with(&desc, &v).unwrap();
    let d = decode_with(&desc, &bytes).unwrap();
    assert_eq!(d.json, v);
    assert!(d.summary.starts_with("demo.Chat {"), "{}", d.summary);
    // The same bytes schema-less: numbers for names.
    assert_eq!(
        decode_raw(&bytes).unwrap().json,
        json!({"1": "ann", "2": 7, "3": {"1": 1}, "4": ["x", "y"]})
    );
    assert!(encode_with(&desc, &json!({"nope": 1}))
        .unwrap_err()
        .contains("demo.Chat"));
    assert!(decode_with(&desc, &[0x0a, 9]).is_err());
    // The short name finds it too; a missing one lists what there is.
    let short = compile_proto(Path::new("chat.proto"), CHAT, Some("Chat")).unwrap();
    assert_eq!(short.full_name(), "demo.Chat");
    let e = compile_proto(Path::new("chat.proto"), CHAT, Some("Nope")).unwrap_err();
    assert!(e.contains("demo.Chat, demo.Meta"), "{e}");
    assert!(compile_proto(Path::new("chat.proto"), CHAT, None)
        .unwrap_err()
        .contains("--message"));
}

#[test]
fn a_broken_proto_names_its_file_and_line() {
    let bad = "syntax = \"proto3\";\n\nmessage A {\n  int32 x = 1\n}\n";
    let e = compile_proto(Path::new("dir/bad.proto"), bad, None).unwrap_err();
    assert!(e.starts_with("bad.proto:5: "), "{e}");
    let unknown = "syntax = \"proto3\";\nmessage A {\n  Missing m = 1;\n}\n";
    let e = compile_proto(Path::new("u.proto"), unknown, None).unwrap_err();
    assert!(e.starts_with("u.proto:3: "), "{e}");
}

#[test]
fn the_fuzz_schema_compiles_and_hostile_nesting_is_refused_with_it() {
    let desc = super::fuzz_schema().expect("the fuzz target's schema compiles");
    // child { child { ... } } 10 000 deep: prost's recursion limit refuses it.
    let mut m: Vec<u8> = Vec::new();
    for _ in 0..10_000 {
        let mut outer = vec![0x0a];
        super::put_varint(&mut outer, m.len() as u64);
        outer.extend_from_slice(&m);
        m = outer;
    }
    assert!(decode_with(desc, &m).is_err());
    crate::lens::decode_all(&m);
}

use crate::lens::compile_proto;
