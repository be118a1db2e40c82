//! The CBOR lens: a binary message decoded (ciborium, nesting bounded) into JSON, with the types
//! JSON lacks shown as tagged values (`{"$bytes": "hex"}`, `{"$tag": [n, value]}`, big integers
//! as `{"$int": "digits"}`); `/send-json JSON` encodes JSON as CBOR.

use ciborium::value::Value as Cbor;
use serde_json::{json, Map, Value as Json};

use super::msgpack::{float, COMMANDS};
use super::text;
use super::{Config, Decoded, Dir, Entry, Lens, Out, MAX_DEPTH};
use crate::event::DataKind;
use crate::wire::hexdump::hex_plain;

pub const ENTRY: Entry = Entry {
    name: "cbor",
    commands: COMMANDS,
    make,
};

fn make(_cfg: &Config) -> Box<dyn Lens> {
    Box::new(CborLens)
}

struct CborLens;

impl Lens for CborLens {
    fn name(&self) -> &'static str {
        ENTRY.name
    }

    fn decode(&mut self, _dir: Dir, _kind: DataKind, data: &[u8]) -> Result<Decoded, String> {
        decode(data)
    }

    fn command(&mut self, name: &str, arg: &str) -> Option<Result<Vec<Out>, String>> {
        (name == "send-json").then(|| {
            let v = text::json_arg(arg, "the argument")?.ok_or("/send-json needs JSON")?;
            Ok(vec![Out::Binary(encode(&v)?)])
        })
    }
}

/// One CBOR item filling the message exactly.
pub fn decode(data: &[u8]) -> Result<Decoded, String> {
    let mut rd = data;
    let v: Cbor = ciborium::de::from_reader_with_recursion_limit(&mut rd, MAX_DEPTH)
        .map_err(|e| format!("{e:?}"))?;
    if !rd.is_empty() {
        return Err(format!("{} bytes left after the first item", rd.len()));
    }
    let j = to_json(&v);
    Ok(Decoded::new(text::short(&j), j))
}

fn to_json(v: &Cbor) -> Json {
    match v {
        Cbor::Null => Json::Null,
        Cbor::Bool(b) => json!(b),
        Cbor::Integer(i) => {
            let n = i128::from(*i);
            match (u64::try_from(n), i64::try_from(n)) {
                (Ok(u), _) => json!(u),
                (_, Ok(s)) => json!(s),
                _ => json!({"$int": n.to_string()}),
            }
        }
        Cbor::Float(f) => float(*f),
        Cbor::Text(s) => json!(s),
        Cbor::Bytes(b) => json!({"$bytes": hex_plain(b)}),
        Cbor::Array(a) => Json::Array(a.iter().map(to_json).collect()),
        Cbor::Map(m) => {
            let mut o = Map::new();
            for (k, val) in m {
                let key = match k {
                    Cbor::Text(s) => s.clone(),
                    other => to_json(other).to_string(),
                };
                o.insert(key, to_json(val));
            }
            Json::Object(o)
        }
        Cbor::Tag(t, inner) => json!({"$tag": [t, to_json(inner)]}),
        _ => json!({"$unknown": format!("{v:?}")}),
    }
}

/// JSON as CBOR (the JSON came through `text::json_arg`, so its nesting is bounded).
pub fn encode(j: &Json) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(j, &mut out).map_err(|e| format!("cannot encode as CBOR: {e}"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tagged_types() {
        let j = json!({"op": "sub", "ch": [1, -2, 2.5, null, true, "x"]});
        let d = decode(&encode(&j).unwrap()).unwrap();
        assert_eq!(d.json, j);
        // [h'abcd', 1(1000), -(2^64)]
        let d = decode(&[
            0x83, 0x42, 0xab, 0xcd, 0xc1, 0x19, 0x03, 0xe8, 0x3b, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff, 0xff,
        ])
        .unwrap();
        assert_eq!(
            d.json,
            json!([{"$bytes": "abcd"}, {"$tag": [1, 1000]}, {"$int": "-18446744073709551616"}])
        );
    }

    #[test]
    fn hostile_input_is_refused_not_fatal() {
        for bad in [
            // an array of 2^64-1 items, a byte string of 4 GiB, truncated, trailing bytes
            &[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff][..],
            &[0x5a, 0xff, 0xff, 0xff, 0xff, 0x00],
            &[0x82, 0x01],
            &[0x01, 0x02],
            &[],
            &[0xff],
        ] {
            assert!(decode(bad).is_err(), "{bad:?}");
        }
        let deep = vec![0x81u8; 100_000];
        assert!(decode(&deep).is_err());
    }
}
