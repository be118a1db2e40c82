//! What MQTT 5 adds to the MQTT lens (`mqtt.rs`): the properties of a packet decoded into JSON
//! (by identifier: integers, strings, binary as hex, user properties as pairs), and the names of
//! the v5 reason codes a CONNACK, PUBACK or DISCONNECT carries. Bounded by the property length,
//! which the caller has already checked against the packet.

use serde_json::{json, Map, Value};

use crate::wire::hexdump::hex_plain;

/// The properties of one packet (their bytes, the length prefix already read).
pub fn properties(mut b: &[u8]) -> Result<Value, String> {
    let mut out = Map::new();
    let mut users = Vec::new();
    while !b.is_empty() {
        let id = varint(&mut b)?;
        let (name, v) = match id {
            0x01 => ("payload_format", json!(take(&mut b, 1)?[0])),
            0x17 => ("request_problem_info", json!(take(&mut b, 1)?[0])),
            0x19 => ("request_response_info", json!(take(&mut b, 1)?[0])),
            0x24 => ("maximum_qos", json!(take(&mut b, 1)?[0])),
            0x25 => ("retain_available", json!(take(&mut b, 1)?[0])),
            0x28 => (
                "wildcard_subscription_available",
                json!(take(&mut b, 1)?[0]),
            ),
            0x29 => (
                "subscription_identifier_available",
                json!(take(&mut b, 1)?[0]),
            ),
            0x2a => ("shared_subscription_available", json!(take(&mut b, 1)?[0])),
            0x13 => ("server_keep_alive", json!(u16_of(&mut b)?)),
            0x21 => ("receive_maximum", json!(u16_of(&mut b)?)),
            0x22 => ("topic_alias_maximum", json!(u16_of(&mut b)?)),
            0x23 => ("topic_alias", json!(u16_of(&mut b)?)),
            0x02 => ("message_expiry_interval", json!(u32_of(&mut b)?)),
            0x11 => ("session_expiry_interval", json!(u32_of(&mut b)?)),
            0x18 => ("will_delay_interval", json!(u32_of(&mut b)?)),
            0x27 => ("maximum_packet_size", json!(u32_of(&mut b)?)),
            0x0b => ("subscription_identifier", json!(varint(&mut b)?)),
            0x03 => ("content_type", json!(string(&mut b)?)),
            0x08 => ("response_topic", json!(string(&mut b)?)),
            0x12 => ("assigned_client_identifier", json!(string(&mut b)?)),
            0x15 => ("authentication_method", json!(string(&mut b)?)),
            0x1a => ("response_information", json!(string(&mut b)?)),
            0x1c => ("server_reference", json!(string(&mut b)?)),
            0x1f => ("reason_string", json!(string(&mut b)?)),
            0x09 => ("correlation_data", json!(hex_plain(binary(&mut b)?))),
            0x16 => ("authentication_data", json!(hex_plain(binary(&mut b)?))),
            0x26 => {
                users.push(json!([string(&mut b)?, string(&mut b)?]));
                continue;
            }
            other => return Err(format!("unknown MQTT 5 property {other:#04x}")),
        };
        out.insert(name.into(), v);
    }
    if !users.is_empty() {
        out.insert("user_properties".into(), Value::Array(users));
    }
    Ok(Value::Object(out))
}

/// The name of a reason code of MQTT 5 (CONNACK, PUBACK..., DISCONNECT), or of a 3.1.1 CONNACK
/// return code (1-5; MQTT 5 codes below 0x80 are successes).
pub fn reason(code: u8) -> &'static str {
    match code {
        0 => "accepted",
        1 => "unacceptable protocol version",
        2 => "identifier rejected",
        3 => "server unavailable",
        4 => "bad user name or password",
        5 => "not authorized",
        0x10 => "no matching subscribers",
        0x80 => "unspecified error",
        0x81 => "malformed packet",
        0x82 => "protocol error",
        0x83 => "implementation specific error",
        0x84 => "unsupported protocol version",
        0x85 => "client identifier not valid",
        0x86 => "bad user name or password",
        0x87 => "not authorized",
        0x88 => "server unavailable",
        0x89 => "server busy",
        0x8a => "banned",
        0x8b => "server shutting down",
        0x8c => "bad authentication method",
        0x8d => "keep alive timeout",
        0x8e => "session taken over",
        0x90 => "topic name invalid",
        0x91 => "packet identifier in use",
        0x92 => "packet identifier not found",
        0x95 => "packet too large",
        0x97 => "quota exceeded",
        0x99 => "payload format invalid",
        0x9a => "retain not supported",
        0x9b => "QoS not supported",
        0x9c => "use another server",
        0x9d => "server moved",
        0x9f => "connection rate exceeded",
        _ => "refused",
    }
}

fn take<'a>(b: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
    if b.len() < n {
        return Err("a property ends early".into());
    }
    let (a, rest) = b.split_at(n);
    *b = rest;
    Ok(a)
}

fn u16_of(b: &mut &[u8]) -> Result<u16, String> {
    let s = take(b, 2)?;
    Ok(u16::from_be_bytes([s[0], s[1]]))
}

fn u32_of(b: &mut &[u8]) -> Result<u32, String> {
    let s = take(b, 4)?;
    Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn binary<'a>(b: &mut &'a [u8]) -> Result<&'a [u8], String> {
    let n = usize::from(u16_of(b)?);
    take(b, n)
}

fn string(b: &mut &[u8]) -> Result<String, String> {
    String::from_utf8(binary(b)?.to_vec()).map_err(|_| "a property string is not UTF-8".into())
}

fn varint(b: &mut &[u8]) -> Result<u64, String> {
    let mut n = 0u64;
    for i in 0..4 {
        let byte = take(b, 1)?[0];
        n |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(n);
        }
    }
    Err("a property varint longer than 4 bytes".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_decode_and_hostile_ones_are_refused() {
        // receive maximum 20, assigned client id "c1", a user property, topic alias max 10.
        let b = [
            0x21, 0, 20, 0x12, 0, 2, b'c', b'1', 0x26, 0, 1, b'k', 0, 1, b'v', 0x22, 0, 10,
        ];
        assert_eq!(
            properties(&b).unwrap(),
            json!({"receive_maximum": 20, "assigned_client_identifier": "c1",
                   "topic_alias_maximum": 10, "user_properties": [["k", "v"]]})
        );
        for bad in [
            &[0x21, 0][..],
            &[0x12, 0, 9, b'a'],
            &[0x7f],
            &[0x0b, 0x80, 0x80, 0x80, 0x80],
        ] {
            assert!(properties(bad).is_err(), "{bad:?}");
        }
        assert_eq!(reason(0x87), "not authorized");
        assert_eq!(reason(0x9f), "connection rate exceeded");
    }
}
