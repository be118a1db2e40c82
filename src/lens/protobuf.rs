//! The protobuf lens. Without a schema a binary message is decoded like `protoc --decode_raw`:
//! an object keyed by field number (an array when a number repeats), varints as numbers,
//! fixed32/fixed64 as tagged values, and each length-delimited field guessed: printable UTF-8 is
//! a string, else a nested message when it parses as one, else `{"$bytes": "hex"}`. With
//! `--proto FILE --message NAME` (compiled at start-up, `proto_schema`) the message is decoded by
//! its schema into protobuf's JSON mapping. `/send-json JSON` encodes with the schema, or without
//! one from the same field-number view the decoder shows.
//!
//! Bounds: nesting past [`MAX_DEPTH`] is refused; each level is checked for structure before its
//! children are guessed, so the work is at most the message's size times the depth, and what is
//! built is proportional to the message.

use prost_reflect::{DynamicMessage, MessageDescriptor};
use serde_json::{json, Map, Value as Json};

use super::msgpack::{float, COMMANDS};
use super::text;
use super::{Config, Decoded, Dir, Entry, Lens, Out, MAX_DEPTH};
use crate::event::DataKind;
use crate::wire::hexdump::hex_plain;

pub const ENTRY: Entry = Entry {
    name: "protobuf",
    commands: COMMANDS,
    make,
};

fn make(cfg: &Config) -> Box<dyn Lens> {
    Box::new(Protobuf {
        schema: cfg.proto.clone(),
    })
}

struct Protobuf {
    schema: Option<MessageDescriptor>,
}

impl Lens for Protobuf {
    fn name(&self) -> &'static str {
        ENTRY.name
    }

    fn decode(&mut self, _dir: Dir, _kind: DataKind, data: &[u8]) -> Result<Decoded, String> {
        match &self.schema {
            Some(desc) => decode_with(desc, data),
            None => decode_raw(data),
        }
    }

    fn command(&mut self, name: &str, arg: &str) -> Option<Result<Vec<Out>, String>> {
        (name == "send-json").then(|| {
            let v = text::json_arg(arg, "the argument")?.ok_or("/send-json needs JSON")?;
            let bytes = match &self.schema {
                Some(desc) => encode_with(desc, &v)?,
                None => encode_raw(&v)?,
            };
            Ok(vec![Out::Binary(bytes)])
        })
    }
}

/// The message decoded by its schema, as protobuf's JSON mapping.
pub fn decode_with(desc: &MessageDescriptor, data: &[u8]) -> Result<Decoded, String> {
    // prost refuses nesting past its own recursion limit (100) and lengths past the buffer.
    let msg = DynamicMessage::decode(desc.clone(), data)
        .map_err(|e| format!("not a {}: {e}", desc.full_name()))?;
    let j = serde_json::to_value(&msg).map_err(|e| format!("{e}"))?;
    Ok(Decoded::new(
        format!("{} {}", desc.full_name(), text::short(&j)),
        j,
    ))
}

/// JSON (protobuf's JSON mapping) encoded as the schema's message.
pub fn encode_with(desc: &MessageDescriptor, v: &Json) -> Result<Vec<u8>, String> {
    let msg = DynamicMessage::deserialize(desc.clone(), v)
        .map_err(|e| format!("not a {} in JSON: {e}", desc.full_name()))?;
    Ok(prost_reflect::prost::Message::encode_to_vec(&msg))
}

/// One field of a message, before its value is guessed.
enum Raw<'a> {
    Varint(u64),
    Fixed64(u64),
    Fixed32(u32),
    Len(&'a [u8]),
    Group(&'a [u8]),
}

/// Schema-less decoding, as `protoc --decode_raw` does.
pub fn decode_raw(data: &[u8]) -> Result<Decoded, String> {
    let j = message(data, 0)?;
    Ok(Decoded::new(text::short(&j), j))
}

/// The fields of one level, checked for structure only (children are guessed afterwards).
fn fields(mut data: &[u8]) -> Result<Vec<(u64, Raw<'_>)>, String> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let key = varint(&mut data)?;
        let (num, wire) = (key >> 3, key & 7);
        if num == 0 || num > 536_870_911 {
            return Err(format!("field number {num} is out of range"));
        }
        let raw = match wire {
            0 => Raw::Varint(varint(&mut data)?),
            1 => Raw::Fixed64(u64::from_le_bytes(
                take(&mut data, 8)?.try_into().unwrap_or([0; 8]),
            )),
            5 => Raw::Fixed32(u32::from_le_bytes(
                take(&mut data, 4)?.try_into().unwrap_or([0; 4]),
            )),
            2 => {
                let len = varint(&mut data)?;
                let len = usize::try_from(len).map_err(|_| "a length past the message")?;
                Raw::Len(take(&mut data, len)?)
            }
            3 => Raw::Group(group(&mut data, num)?),
            w => {
                return Err(format!(
                    "wire type {w} of field {num} is not one protobuf has"
                ))
            }
        };
        out.push((num, raw));
    }
    Ok(out)
}

/// The bytes of a group up to its end tag (nested groups skipped over, depth bounded).
fn group<'a>(data: &mut &'a [u8], num: u64) -> Result<&'a [u8], String> {
    let start = *data;
    let mut open = vec![num];
    loop {
        let before = data.len();
        let key = varint(data)?;
        let (n, wire) = (key >> 3, key & 7);
        match wire {
            0 => {
                varint(data)?;
            }
            1 => {
                take(data, 8)?;
            }
            5 => {
                take(data, 4)?;
            }
            2 => {
                let len =
                    usize::try_from(varint(data)?).map_err(|_| "a length past the message")?;
                take(data, len)?;
            }
            3 if open.len() < MAX_DEPTH => open.push(n),
            3 => return Err(format!("groups nested deeper than {MAX_DEPTH} levels")),
            4 if open.last() == Some(&n) => {
                open.pop();
                if open.is_empty() {
                    let used = start.len() - before;
                    return Ok(&start[..used]);
                }
            }
            4 => return Err(format!("end of group {n} where none was open")),
            w => {
                return Err(format!(
                    "wire type {w} of field {n} is not one protobuf has"
                ))
            }
        }
    }
}

fn message(data: &[u8], depth: usize) -> Result<Json, String> {
    if depth >= MAX_DEPTH {
        return Err(format!("nested deeper than {MAX_DEPTH} levels"));
    }
    let mut by_num: std::collections::BTreeMap<u64, Vec<Json>> = Default::default();
    for (num, raw) in fields(data)? {
        let v = match raw {
            Raw::Varint(n) => json!(n),
            Raw::Fixed64(n) => json!({"$fixed64": n, "double": float(f64::from_bits(n))}),
            Raw::Fixed32(n) => json!({"$fixed32": n, "float": float(f64::from(f32::from_bits(n)))}),
            Raw::Len(b) => guess(b, depth),
            Raw::Group(b) => json!({"$group": message(b, depth + 1)?}),
        };
        by_num.entry(num).or_default().push(v);
    }
    // A number seen once is its value; a repeated one the array of its values.
    let mut obj = Map::new();
    for (num, mut vals) in by_num {
        let v = match vals.len() {
            1 => vals.pop().unwrap_or(Json::Null),
            _ => Json::Array(vals),
        };
        obj.insert(num.to_string(), v);
    }
    Ok(Json::Object(obj))
}

/// A length-delimited field: a printable string, else a nested message, else bytes.
fn guess(b: &[u8], depth: usize) -> Json {
    if let Ok(s) = std::str::from_utf8(b) {
        if s.chars()
            .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
        {
            return json!(s);
        }
    }
    match message(b, depth + 1) {
        Ok(m) => m,
        Err(_) => json!({"$bytes": hex_plain(b)}),
    }
}

fn varint(data: &mut &[u8]) -> Result<u64, String> {
    let mut v = 0u64;
    for i in 0..10 {
        let (&b, rest) = data.split_first().ok_or("a varint cut short")?;
        *data = rest;
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err("a varint longer than 10 bytes".into())
}

fn take<'a>(data: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
    if data.len() < n {
        return Err(format!("a field of {n} bytes where {} remain", data.len()));
    }
    let (head, rest) = data.split_at(n);
    *data = rest;
    Ok(head)
}

/// The decoder's field-number view back to bytes: numbers as varints (negative ones as int64),
/// strings, `{"$bytes": hex}`, `{"$fixed32": n}`, `{"$fixed64": n}`, objects as nested messages,
/// arrays as repeated fields.
pub fn encode_raw(v: &Json) -> Result<Vec<u8>, String> {
    let Json::Object(obj) = v else {
        return Err("without --proto, /send-json takes an object of field numbers, e.g. {\"1\":150,\"2\":\"hi\"}".into());
    };
    let mut out = Vec::new();
    for (k, val) in obj {
        let num: u64 = k
            .parse()
            .ok()
            .filter(|n| (1..=536_870_911).contains(n))
            .ok_or_else(|| format!("key {} is not a field number", text::quoted(k)))?;
        match val {
            Json::Array(items) => {
                for item in items {
                    field(&mut out, num, item)?;
                }
            }
            one => field(&mut out, num, one)?,
        }
    }
    Ok(out)
}

fn field(out: &mut Vec<u8>, num: u64, v: &Json) -> Result<(), String> {
    let tag = |wire: u64| num << 3 | wire;
    let len = |out: &mut Vec<u8>, b: &[u8]| {
        put_varint(out, tag(2));
        put_varint(out, b.len() as u64);
        out.extend_from_slice(b);
    };
    match v {
        Json::Bool(b) => {
            put_varint(out, tag(0));
            put_varint(out, u64::from(*b));
        }
        Json::Number(n) => {
            let n = n
                .as_u64()
                .or_else(|| n.as_i64().map(|i| i as u64))
                .ok_or_else(|| {
                    format!("field {num}: {n} is not an integer (use {{\"$fixed64\": bits}})")
                })?;
            put_varint(out, tag(0));
            put_varint(out, n);
        }
        Json::String(s) => len(out, s.as_bytes()),
        Json::Object(o) if o.contains_key("$bytes") => {
            let hex = o["$bytes"].as_str().unwrap_or("");
            len(
                out,
                &from_hex(hex).ok_or_else(|| format!("field {num}: $bytes is not hex"))?,
            );
        }
        Json::Object(o) if o.contains_key("$fixed32") => {
            let n = o["$fixed32"].as_u64().and_then(|n| u32::try_from(n).ok());
            put_varint(out, tag(5));
            out.extend_from_slice(
                &n.ok_or(format!("field {num}: $fixed32 is not a u32"))?
                    .to_le_bytes(),
            );
        }
        Json::Object(o) if o.contains_key("$fixed64") => {
            let n = o["$fixed64"].as_u64();
            put_varint(out, tag(1));
            out.extend_from_slice(
                &n.ok_or(format!("field {num}: $fixed64 is not a u64"))?
                    .to_le_bytes(),
            );
        }
        Json::Object(_) => len(out, &encode_raw(v)?),
        Json::Null | Json::Array(_) => {
            return Err(format!(
                "field {num}: null and nested arrays have no wire form"
            ))
        }
    }
    Ok(())
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A recursive schema with every kind of field, for the fuzz target ([`super::decode_all`]).
pub(super) fn fuzz_schema() -> Option<&'static MessageDescriptor> {
    static SCHEMA: std::sync::OnceLock<Option<MessageDescriptor>> = std::sync::OnceLock::new();
    const NODE: &str = "syntax = \"proto3\";\npackage fuzz;\nenum E { A = 0; B = 1; }\n\
        message Node { Node child = 1; repeated Node kids = 2; map<string, Node> m = 3; \
        bytes b = 4; double d = 5; sint64 s = 6; E e = 7; repeated fixed32 f = 8; string t = 9; \
        oneof o { uint64 u = 10; float x = 11; } }\n";
    SCHEMA
        .get_or_init(|| {
            super::compile_proto(std::path::Path::new("fuzz.proto"), NODE, Some("fuzz.Node")).ok()
        })
        .as_ref()
}

#[cfg(test)]
#[path = "protobuf_tests.rs"]
mod tests;
