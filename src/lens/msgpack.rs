//! The MessagePack lens: a binary message decoded (rmpv, nesting bounded) into JSON, with the
//! types JSON lacks shown as tagged values (`{"$bytes": "hex"}`, `{"$ext": [type, "hex"]}`,
//! non-string map keys as their JSON text); `/send-json JSON` encodes JSON as MessagePack.

use serde_json::{json, Map, Value as Json};

use super::socketio::lens_cmd;
use super::text;
use super::{Config, Decoded, Dir, Entry, Lens, Out, MAX_DEPTH};
use crate::event::DataKind;
use crate::slash::CommandHelp;
use crate::wire::hexdump::hex_plain;

pub const ENTRY: Entry = Entry {
    name: "msgpack",
    commands: COMMANDS,
    make,
};

pub(super) const COMMANDS: &[CommandHelp] = &[lens_cmd(
    "send-json",
    "JSON",
    "send JSON encoded by the lens (MessagePack, CBOR, protobuf)",
    "/send-json {\"op\":\"sub\",\"ch\":[1,2]}",
)];

fn make(_cfg: &Config) -> Box<dyn Lens> {
    Box::new(MsgPack)
}

struct MsgPack;

impl Lens for MsgPack {
    fn name(&self) -> &'static str {
        ENTRY.name
    }

    fn decode(&mut self, _dir: Dir, _kind: DataKind, data: &[u8]) -> Result<Decoded, String> {
        decode(data)
    }

    fn command(&mut self, name: &str, arg: &str) -> Option<Result<Vec<Out>, String>> {
        (name == "send-json").then(|| {
            let v = text::json_arg(arg, "the argument")?.ok_or("/send-json needs JSON")?;
            Ok(vec![Out::Binary(encode(&v))])
        })
    }
}

/// One MessagePack value filling the message exactly.
pub fn decode(data: &[u8]) -> Result<Decoded, String> {
    // rmpv reads the never-used byte 0xc1 as nil; MessagePack says it is not a value.
    if data.first() == Some(&0xc1) {
        return Err("0xc1 is never used in MessagePack".into());
    }
    let mut rd = data;
    let v =
        rmpv::decode::read_value_with_max_depth(&mut rd, MAX_DEPTH).map_err(|e| format!("{e}"))?;
    if !rd.is_empty() {
        return Err(format!("{} bytes left after the first value", rd.len()));
    }
    let j = to_json(&v);
    Ok(Decoded::new(text::short(&j), j))
}

fn to_json(v: &rmpv::Value) -> Json {
    use rmpv::Value as V;
    match v {
        V::Nil => Json::Null,
        V::Boolean(b) => json!(b),
        V::Integer(i) => match (i.as_u64(), i.as_i64()) {
            (Some(u), _) => json!(u),
            (_, Some(s)) => json!(s),
            _ => Json::Null,
        },
        V::F32(f) => float(f64::from(*f)),
        V::F64(f) => float(*f),
        V::String(s) => match s.as_str() {
            Some(s) => json!(s),
            None => json!({"$bytes": hex_plain(s.as_bytes())}),
        },
        V::Binary(b) => json!({"$bytes": hex_plain(b)}),
        V::Array(a) => Json::Array(a.iter().map(to_json).collect()),
        V::Map(m) => {
            let mut o = Map::new();
            for (k, val) in m {
                let key = match k {
                    V::String(s) if s.as_str().is_some() => s.as_str().unwrap_or("").to_string(),
                    other => to_json(other).to_string(),
                };
                o.insert(key, to_json(val));
            }
            Json::Object(o)
        }
        V::Ext(t, data) => json!({"$ext": [t, hex_plain(data)]}),
    }
}

/// A float as JSON; NaN and the infinities as tagged strings.
pub(super) fn float(f: f64) -> Json {
    serde_json::Number::from_f64(f)
        .map(Json::Number)
        .unwrap_or_else(|| json!({ "$float": f.to_string() }))
}

fn from_json(j: &Json) -> rmpv::Value {
    use rmpv::Value as V;
    match j {
        Json::Null => V::Nil,
        Json::Bool(b) => V::Boolean(*b),
        Json::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => V::from(u),
            (_, Some(i), _) => V::from(i),
            (_, _, f) => V::F64(f.unwrap_or(0.0)),
        },
        Json::String(s) => V::from(s.as_str()),
        Json::Array(a) => V::Array(a.iter().map(from_json).collect()),
        Json::Object(o) => V::Map(
            o.iter()
                .map(|(k, v)| (V::from(k.as_str()), from_json(v)))
                .collect(),
        ),
    }
}

/// JSON as MessagePack (the JSON came through `text::json_arg`, so its nesting is bounded).
pub fn encode(j: &Json) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = rmpv::encode::write_value(&mut out, &from_json(j));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tagged_types() {
        let j = json!({"op": "sub", "ch": [1, -2, 2.5, null, true, "x"]});
        let d = decode(&encode(&j)).unwrap();
        assert_eq!(d.json, j);
        // bin 8 of 2 bytes, then an ext 1 of type 5.
        let d = decode(&[0x92, 0xc4, 0x02, 0xab, 0xcd, 0xd4, 0x05, 0x07]).unwrap();
        assert_eq!(d.json, json!([{"$bytes": "abcd"}, {"$ext": [5, "07"]}]));
    }

    #[test]
    fn hostile_input_is_refused_not_fatal() {
        // array32 claiming 4 billion items, a str32 of 4 GiB, truncated, trailing bytes.
        for bad in [
            &[0xdd, 0xff, 0xff, 0xff, 0xff][..],
            &[0xdb, 0xff, 0xff, 0xff, 0xff, b'a'],
            &[0x92, 0x01],
            &[0x01, 0x02],
            &[0xc1],
            &[],
        ] {
            assert!(decode(bad).is_err(), "{bad:?}");
        }
        let deep = vec![0x91u8; 100_000];
        assert!(decode(&deep).is_err());
    }
}
