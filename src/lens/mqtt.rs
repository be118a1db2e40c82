//! The MQTT lens (3.1.1, and 5 with `--mqtt-version 5`; decoding follows the level the CONNECT
//! names, properties and v5 reason codes in `mqtt5.rs`; subprotocols `mqtt`/`mqttv3.1`): a codec
//! of every control packet (CONNECT ... AUTH) written here, bounded by the message (the remaining
//! length must match it, 4 length bytes at most, 64 packets a message); `/publish` and
//! `/subscribe` encode; the duties are CONNECT (`--auth` as username/password), CONNACK within
//! the connect timeout (a refusal is exit 5 with its reason code), PINGREQ at the keep-alive,
//! PUBACK/PUBREC/PUBREL/PUBCOMP for QoS 1 and 2 publishes, and DISCONNECT before our close frame.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::mqtt5::reason;
use super::socketio::lens_cmd;
use super::text::{self, Word};
use super::{Config, Decoded, Dir, Entry, Lens, Out, Step};
use crate::event::DataKind;
use crate::slash::CommandHelp;

pub const ENTRY: Entry = Entry {
    name: "mqtt",
    commands: COMMANDS,
    make,
};

const COMMANDS: &[CommandHelp] = &[
    lens_cmd(
        "publish",
        "TOPIC PAYLOAD [--qos 0|1|2] [--retain]",
        "an MQTT PUBLISH",
        "/publish sensors/t 21.5 --qos 1",
    ),
    lens_cmd(
        "subscribe",
        "TOPIC [--qos N]",
        "an MQTT SUBSCRIBE (also: graphql-ws, stomp)",
        "/subscribe sensors/# --qos 1",
    ),
];

const KEEP_ALIVE: u16 = 30;
const MAX_PACKETS: usize = 64;
const NAMES: [&str; 16] = [
    "reserved",
    "CONNECT",
    "CONNACK",
    "PUBLISH",
    "PUBACK",
    "PUBREC",
    "PUBREL",
    "PUBCOMP",
    "SUBSCRIBE",
    "SUBACK",
    "UNSUBSCRIBE",
    "UNSUBACK",
    "PINGREQ",
    "PINGRESP",
    "DISCONNECT",
    "AUTH",
];

fn make(cfg: &Config) -> Box<dyn Lens> {
    Box::new(Mqtt {
        v5: false,
        level5: cfg.mqtt5,
        active: !cfg.passive,
        login: cfg.login.clone(),
        timeout: cfg.timeout,
        connack_by: None,
        next_ping: None,
        next_id: 1,
    })
}

struct Mqtt {
    /// The CONNECT said protocol level 5: properties follow the variable headers.
    v5: bool,
    /// `--mqtt-version 5`: our CONNECT says level 5.
    level5: bool,
    active: bool,
    login: Option<(String, String)>,
    timeout: Duration,
    connack_by: Option<Instant>,
    next_ping: Option<Instant>,
    next_id: u16,
}

impl Lens for Mqtt {
    fn name(&self) -> &'static str {
        ENTRY.name
    }

    fn decode(&mut self, _dir: Dir, kind: DataKind, data: &[u8]) -> Result<Decoded, String> {
        if kind == DataKind::Text {
            return Err("MQTT travels in binary messages, this is text".into());
        }
        let packets = decode(data, &mut self.v5)?;
        if packets.len() == 1 {
            return Ok(packets
                .into_iter()
                .next()
                .unwrap_or_else(|| Decoded::new("", Value::Null)));
        }
        let summary = packets
            .iter()
            .map(|d| d.summary.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        let json = Value::Array(packets.iter().map(|d| d.json.clone()).collect());
        Ok(Decoded::new(summary, json))
    }

    fn command(&mut self, name: &str, arg: &str) -> Option<Result<Vec<Out>, String>> {
        match name {
            "publish" => Some(self.publish(arg)),
            "subscribe" => Some(self.subscribe(arg)),
            _ => None,
        }
    }

    fn start(&mut self, now: Instant) -> Step {
        if !self.active {
            return Step::default();
        }
        self.connack_by = Some(now + self.timeout);
        let client = format!("wscope-{:08x}", fastrand::u32(..));
        let mut flags = 0x02; // clean session
        let mut payload = string(&client);
        if let Some((user, pass)) = &self.login {
            flags |= 0x80;
            payload.extend(string(user));
            if !pass.is_empty() {
                flags |= 0x40;
                payload.extend(string(pass));
            }
        }
        let mut body = string("MQTT");
        body.extend([if self.level5 { 5 } else { 4 }, flags]);
        body.extend(KEEP_ALIVE.to_be_bytes());
        if self.level5 {
            body.push(0); // no properties
        }
        body.extend(payload);
        Step::send(Out::Binary(packet(0x10, &body)))
    }

    fn after(&mut self, d: &Decoded, now: Instant) -> Step {
        if !self.active {
            return Step::default();
        }
        let t = d.json["type"].as_str().unwrap_or("");
        let id = d.json["id"].as_u64().unwrap_or(0) as u16;
        match t {
            "CONNACK" => {
                self.connack_by = None;
                let code = d.json["code"].as_u64().unwrap_or(0);
                if code != 0 {
                    let mut s =
                        Step::fail(format!("MQTT: the broker refused CONNECT: {}", d.summary));
                    s.refused = true;
                    return s;
                }
                self.next_ping = Some(now + Duration::from_secs(KEEP_ALIVE.into()));
                Step::default()
            }
            "PUBLISH" => match d.json["qos"].as_u64() {
                Some(1) => Step::send(Out::Binary(packet(0x40, &id.to_be_bytes()))),
                Some(2) => Step::send(Out::Binary(packet(0x50, &id.to_be_bytes()))),
                _ => Step::default(),
            },
            "PUBREC" => Step::send(Out::Binary(packet(0x62, &id.to_be_bytes()))),
            "PUBREL" => Step::send(Out::Binary(packet(0x70, &id.to_be_bytes()))),
            _ => Step::default(),
        }
    }

    fn ready(&self) -> bool {
        self.connack_by.is_none()
    }

    fn closing(&mut self) -> Vec<Out> {
        // Connected (CONNACK came, so the keep-alive runs): say goodbye as MQTT does.
        if self.active && self.next_ping.take().is_some() {
            return vec![Out::Binary(vec![0xe0, 0])];
        }
        Vec::new()
    }

    fn deadline(&self) -> Option<Instant> {
        self.connack_by.or(self.next_ping)
    }

    fn on_deadline(&mut self, now: Instant) -> Step {
        if self.connack_by.is_some_and(|at| now >= at) {
            self.connack_by = None;
            return Step::fail(format!(
                "MQTT: no CONNACK within {} s of CONNECT (--connect-timeout)",
                self.timeout.as_secs_f64()
            ));
        }
        if self.next_ping.is_some_and(|at| now >= at) {
            self.next_ping = Some(now + Duration::from_secs(KEEP_ALIVE.into()));
            return Step::send(Out::Binary(vec![0xc0, 0]));
        }
        Step::default()
    }
}

impl Mqtt {
    fn id(&mut self) -> u16 {
        let id = self.next_id;
        self.next_id = self.next_id.checked_add(1).unwrap_or(1);
        id
    }

    fn publish(&mut self, arg: &str) -> Result<Vec<Out>, String> {
        let (topic, rest) = text::first_arg(arg);
        let (mut qos, mut retain, mut payload) = (0u8, false, None);
        let mut it = text::words(rest)?.into_iter();
        while let Some(w) = it.next() {
            match w {
                Word::Flag(f) if f == "qos" => qos = qos_of(it.next())?,
                Word::Flag(f) if f == "retain" => retain = true,
                Word::Flag(f) => return Err(format!("unknown option --{f}")),
                Word::Value(Value::String(s)) if payload.is_none() => payload = Some(s),
                Word::Value(v) if payload.is_none() => payload = Some(v.to_string()),
                Word::Value(_) => return Err("one PAYLOAD (quote it to keep spaces)".into()),
            }
        }
        if topic.is_empty() {
            return Err("needs a TOPIC".into());
        }
        let mut body = string(&topic);
        if qos > 0 {
            body.extend(self.id().to_be_bytes());
        }
        if self.v5 {
            body.push(0); // no properties
        }
        body.extend(payload.unwrap_or_default().into_bytes());
        let first = 0x30 | (qos << 1) | u8::from(retain);
        Ok(vec![Out::Binary(packet(first, &body))])
    }

    fn subscribe(&mut self, arg: &str) -> Result<Vec<Out>, String> {
        let (topic, rest) = text::first_arg(arg);
        if topic.is_empty() {
            return Err("needs a TOPIC".into());
        }
        let mut qos = 0;
        let mut it = text::words(rest)?.into_iter();
        while let Some(w) = it.next() {
            match w {
                Word::Flag(f) if f == "qos" => qos = qos_of(it.next())?,
                _ => return Err("takes TOPIC [--qos N]".into()),
            }
        }
        let mut body = self.id().to_be_bytes().to_vec();
        if self.v5 {
            body.push(0); // no properties
        }
        body.extend(string(&topic));
        body.push(qos);
        Ok(vec![Out::Binary(packet(0x82, &body))])
    }
}

fn qos_of(w: Option<Word>) -> Result<u8, String> {
    match w {
        Some(Word::Value(v)) if v.as_u64().is_some_and(|q| q <= 2) => {
            Ok(v.as_u64().unwrap_or(0) as u8)
        }
        _ => Err("--qos takes 0, 1 or 2".into()),
    }
}

fn string(s: &str) -> Vec<u8> {
    let b = &s.as_bytes()[..s.len().min(u16::MAX as usize)];
    let mut v = (b.len() as u16).to_be_bytes().to_vec();
    v.extend(b);
    v
}

/// A packet: the first byte, the remaining length, the rest.
pub fn packet(first: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![first];
    let mut n = body.len();
    loop {
        let mut b = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            b |= 0x80;
        }
        v.push(b);
        if n == 0 {
            break;
        }
    }
    v.extend(body);
    v
}

/// A cursor over one packet's bytes; every read is checked.
struct Rd<'a>(&'a [u8]);

impl<'a> Rd<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err("the packet ends early".into());
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, String> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn string(&mut self) -> Result<String, String> {
        let n = self.u16()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| "a string is not UTF-8".into())
    }
    fn varint(&mut self) -> Result<usize, String> {
        let (mut n, mut mult) = (0usize, 1usize);
        for _ in 0..4 {
            let b = self.u8()?;
            n += (b & 0x7f) as usize * mult;
            if b & 0x80 == 0 {
                return Ok(n);
            }
            mult *= 128;
        }
        Err("a length of more than 4 bytes".into())
    }
    /// MQTT 5 properties, decoded into `v["properties"]` when there are any.
    fn props(&mut self, v5: bool, v: &mut Value) -> Result<(), String> {
        if !v5 {
            return Ok(());
        }
        let n = self.varint()?;
        let p = super::mqtt5::properties(self.take(n)?)?;
        if p.as_object().is_some_and(|o| !o.is_empty()) {
            v["properties"] = p;
        }
        Ok(())
    }
}

/// Every packet of one message.
pub fn decode(data: &[u8], v5: &mut bool) -> Result<Vec<Decoded>, String> {
    let mut rd = Rd(data);
    let mut out = Vec::new();
    while !rd.0.is_empty() {
        if out.len() == MAX_PACKETS {
            return Err(format!("more than {MAX_PACKETS} packets in one message"));
        }
        let first = rd.u8()?;
        let len = rd.varint()?;
        let body = rd
            .take(len)
            .map_err(|_| format!("remaining length {len} is past the message's end"))?;
        out.push(one(first, body, v5)?);
    }
    if out.is_empty() {
        return Err("an empty message".into());
    }
    Ok(out)
}

fn one(first: u8, body: &[u8], v5: &mut bool) -> Result<Decoded, String> {
    let kind = (first >> 4) as usize;
    let name = NAMES[kind];
    let mut r = Rd(body);
    let mut v = json!({"type": name});
    let summary = match kind {
        1 => connect(&mut r, v5, &mut v)?,
        2 => {
            let flags = r.u8()?;
            let code = r.u8()?;
            // A v5 CONNACK carries properties: a 3.1.1 one is exactly two bytes.
            if !r.0.is_empty() {
                r.props(true, &mut v)?;
            }
            v["session_present"] = json!(flags & 1 != 0);
            v["code"] = json!(code);
            v["reason"] = json!(reason(code));
            format!("CONNACK code {code} ({})", reason(code))
        }
        3 => publish(first, &mut r, *v5, &mut v)?,
        4..=7 | 11 => {
            let id = r.u16()?;
            v["id"] = json!(id);
            // MQTT 5: a reason code and properties may follow (absent: success).
            match (*v5, r.0.first().copied()) {
                (true, Some(code)) => {
                    r.u8()?;
                    if !r.0.is_empty() {
                        r.props(true, &mut v)?;
                    }
                    v["code"] = json!(code);
                    format!("{name} id {id} code {code} ({})", reason(code))
                }
                _ => format!("{name} id {id}"),
            }
        }
        8..=10 => {
            let id = r.u16()?;
            r.props(*v5, &mut v)?;
            v["id"] = json!(id);
            let mut items = Vec::new();
            while !r.0.is_empty() {
                if kind == 9 {
                    items.push(json!(r.u8()?));
                } else {
                    let t = r.string()?;
                    let opt = if kind == 8 { Some(r.u8()?) } else { None };
                    items.push(json!({"topic": t, "qos": opt.map(|o| o & 3)}));
                }
            }
            let s = format!(
                "{name} id {id} {}",
                text::short(&Value::Array(items.clone()))
            );
            v[if kind == 9 { "codes" } else { "topics" }] = Value::Array(items);
            s
        }
        12 | 13 => name.to_string(),
        14 | 15 => match r.0.first().copied() {
            Some(code) => {
                r.u8()?;
                if !r.0.is_empty() {
                    r.props(true, &mut v)?;
                }
                v["code"] = json!(code);
                format!("{name} code {code} ({})", reason(code))
            }
            None => name.to_string(),
        },
        _ => return Err("reserved packet type 0".into()),
    };
    let d = Decoded::new(summary, v);
    Ok(match kind {
        1 | 2 | 4..=7 | 12 | 13 => d.duty(),
        _ => d,
    })
}

/// CONNECT: the protocol level it names decides whether later packets carry v5 properties.
fn connect(r: &mut Rd<'_>, v5: &mut bool, v: &mut Value) -> Result<String, String> {
    let proto = r.string()?;
    let level = r.u8()?;
    *v5 = level == 5;
    let flags = r.u8()?;
    let keep = r.u16()?;
    r.props(*v5, v)?;
    let client = r.string()?;
    v["protocol"] = json!(proto);
    v["level"] = json!(level);
    v["keep_alive"] = json!(keep);
    v["client_id"] = json!(client);
    v["clean"] = json!(flags & 0x02 != 0);
    v["username"] = json!(flags & 0x80 != 0);
    Ok(format!(
        "CONNECT {proto} level {level} client {} keep-alive {keep}",
        text::quoted(&client)
    ))
}

/// PUBLISH: its topic, QoS, id and payload (text, or hex when not UTF-8).
fn publish(first: u8, r: &mut Rd<'_>, v5: bool, v: &mut Value) -> Result<String, String> {
    let qos = (first >> 1) & 3;
    if qos == 3 {
        return Err("PUBLISH with QoS 3".into());
    }
    let topic = r.string()?;
    let id = if qos > 0 { Some(r.u16()?) } else { None };
    r.props(v5, v)?;
    let payload = r.0;
    v["topic"] = json!(topic);
    v["qos"] = json!(qos);
    v["retain"] = json!(first & 1 != 0);
    v["dup"] = json!(first & 8 != 0);
    if let Some(id) = id {
        v["id"] = json!(id);
    }
    let shown = match std::str::from_utf8(payload) {
        Ok(t) => {
            v["payload"] = json!(t);
            text::quoted(t)
        }
        Err(_) => {
            v["payload_hex"] = json!(crate::wire::hexdump::hex_plain(payload));
            format!("({} bytes)", payload.len())
        }
    };
    let id = id.map(|i| format!(" id {i}")).unwrap_or_default();
    Ok(format!(
        "PUBLISH {} qos {qos}{id} {shown}",
        text::cut(&topic, 200)
    ))
}

#[cfg(test)]
#[path = "mqtt_tests.rs"]
mod tests;
