//! Lenses: the protocol inside the WebSocket (SPEC.md "Lenses"). A lens decodes each data message
//! into a JSON view plus a one-line summary (for the printer, `--json`, `--record` and the
//! `/expect-json`/`/let` of scripts), adds commands that encode the protocol's messages, and keeps
//! the protocol's session duties (a handshake, answering pings, a deadline) as a small state
//! machine the session drives with each message and a timer. Nothing here does I/O: the session
//! sends what a lens returns, and every decode is bounded by the message's own size and a depth.
//!
//! # Adding a lens
//! 1. Write `src/lens/NAME.rs` with a type implementing [`Lens`] and a `pub const ENTRY: Entry`
//!    (its name, its commands for `/help`, and a constructor). Keep the codec pure functions with
//!    unit tests: decode never panics, never allocates past the input's size, bounds nesting.
//! 2. Add `mod NAME;` and `NAME::ENTRY` to [`TABLE`] below. If the handshake can choose it (a URL
//!    path, a subprotocol), add that to [`choose`].
//! 3. Add a test in `tests/it/lens.rs` (an in-process raw server) and a line to the README.
//!
//! The seams it plugs into: `session` calls [`Lens::decode`] on every data message sent and
//! received and puts the [`View`] on the `sent`/`received` event; a command line whose written name
//! is a lens command (`crate::script` reads it before its values go in) goes to
//! [`Lens::command`]; it calls [`Lens::start`], [`Lens::after`] and [`Lens::on_deadline`] for the
//! duties. `connect` calls [`choose`] with the handshake's outcome and [`adjust_url`] before
//! dialing.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::event::DataKind;
use crate::slash::CommandHelp;

mod cbor;
mod connection;
mod graphql;
mod jsonrpc;
mod mqtt;
mod mqtt5;
mod msgpack;
mod proto_schema;
mod protobuf;
mod socketio;
mod stomp;
mod text;
mod view;

pub use connection::{adjust_target, for_connection};
pub use proto_schema::compile as compile_proto;
pub use text::{parse_json, short as short_json};
pub use view::{Decoded, View};

/// Every lens wscope knows, in the order `--lens` lists them.
pub const TABLE: &[Entry] = &[
    socketio::ENTRY,
    graphql::ENTRY,
    stomp::ENTRY,
    mqtt::ENTRY,
    jsonrpc::ENTRY,
    msgpack::ENTRY,
    cbor::ENTRY,
    protobuf::ENTRY,
];

/// Nesting deeper than this is refused by every decoder (a hostile `[[[[...]]]]`).
pub const MAX_DEPTH: usize = 64;

/// One lens in the [`TABLE`].
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub name: &'static str,
    /// The commands it adds, as `/help` lists them.
    pub commands: &'static [CommandHelp],
    pub make: fn(&Config) -> Box<dyn Lens>,
}

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Sent,
    Received,
}

/// A message to send: what a command or a duty produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Out {
    Text(String),
    Binary(Vec<u8>),
}

/// What the duties came to: messages to send, and a failure that ends the connection.
#[derive(Debug, Default, PartialEq)]
pub struct Step {
    pub send: Vec<Out>,
    /// The protocol failed (no `connection_ack` in time, the peer stopped pinging): the session
    /// closes and exits 6 with this message.
    pub fail: Option<String>,
    /// Something the user should know (a namespace connected, a refusal).
    pub note: Option<String>,
    /// The failure is the peer refusing us (an MQTT CONNACK refusal): exit 5, not 6.
    pub refused: bool,
}

impl Step {
    pub fn send(out: Out) -> Step {
        Step {
            send: vec![out],
            ..Step::default()
        }
    }
    pub fn fail(why: impl Into<String>) -> Step {
        Step {
            fail: Some(why.into()),
            ..Step::default()
        }
    }
}

/// A lens at work on one connection.
pub trait Lens: Send + Sync {
    fn name(&self) -> &'static str;
    /// Decode one data message. Bounded by the message's size and [`MAX_DEPTH`]; never panics.
    fn decode(&mut self, dir: Dir, kind: DataKind, data: &[u8]) -> Result<Decoded, String>;
    /// A command line this lens owns (`/emit ...`): None when the command is not one of its.
    fn command(&mut self, name: &str, arg: &str) -> Option<Result<Vec<Out>, String>>;
    /// The duties when the connection opens (nothing for a passive lens).
    fn start(&mut self, _now: Instant) -> Step {
        Step::default()
    }
    /// The duties after a received message was decoded.
    fn after(&mut self, _decoded: &Decoded, _now: Instant) -> Step {
        Step::default()
    }
    /// False while the protocol's handshake is under way (no `connection_ack`, no namespace
    /// answer yet): the user's input waits, as a server refuses messages sent before it.
    fn ready(&self) -> bool {
        true
    }
    /// What goes out just before our close frame (MQTT's DISCONNECT).
    fn closing(&mut self) -> Vec<Out> {
        Vec::new()
    }
    /// When [`Lens::on_deadline`] should be called next.
    fn deadline(&self) -> Option<Instant> {
        None
    }
    fn on_deadline(&mut self, _now: Instant) -> Step {
        Step::default()
    }
}

/// `--lens`: which lens, or none, or chosen by the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Auto,
    Off,
    Named(&'static Entry),
}

impl PartialEq for Entry {
    fn eq(&self, other: &Entry) -> bool {
        self.name == other.name
    }
}
impl Eq for Entry {}

/// The lens options of one run, checked (`--lens`, `--lens-passive`, `--lens-auth`).
#[derive(Debug, Clone)]
pub struct Config {
    pub choice: Choice,
    /// Decode only: no handshake, no answers.
    pub passive: bool,
    /// `--lens-auth JSON`: Socket.IO's namespace auth, graphql-ws's `connection_init` payload.
    pub auth: Option<Value>,
    /// How long a lens handshake may take (`--connect-timeout`).
    pub timeout: Duration,
    /// Set per connection by the caller: the request's path and query (`EIO=3`), and the
    /// negotiated subprotocol (`graphql-ws` is the legacy dialect).
    pub resource: String,
    pub subprotocol: Option<String>,
    /// STOMP's `host` header: `--lens-host`, else the URL's host.
    pub host: String,
    /// `--auth user:pass`, for STOMP's login and passcode.
    pub login: Option<(String, String)>,
    /// `--proto FILE --message NAME`: the protobuf lens's schema (none: decoded schema-less).
    pub proto: Option<prost_reflect::MessageDescriptor>,
    /// `--mqtt-version 5`: the MQTT lens's CONNECT says protocol level 5 (else 3.1.1).
    pub mqtt5: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            choice: Choice::Auto,
            passive: false,
            auth: None,
            timeout: Duration::from_secs(10),
            resource: String::new(),
            subprotocol: None,
            host: String::new(),
            login: None,
            proto: None,
            mqtt5: false,
        }
    }
}

/// The lens chosen for one connection, with its options: what the session makes its lens from.
#[derive(Debug, Clone)]
pub struct Chosen {
    pub entry: &'static Entry,
    pub config: Config,
}

impl Chosen {
    pub fn make(&self) -> Box<dyn Lens> {
        (self.entry.make)(&self.config)
    }
}

/// The command name of a line that is a lens command (`/emit ...` -> `emit`), of any lens.
pub fn command_of(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix('/').filter(|r| !r.starts_with('/'))?;
    let (name, arg) = text::first_word(rest);
    is_lens_command(name).then_some((name, arg))
}

/// Check a `-x`/`--script` line before connecting: a lens command of a lens other than the one
/// `--lens` names, or one its lens refuses, is an error (the lens of an automatic choice is
/// known only after the handshake: its commands are checked as they run).
pub fn check_line(cfg: &Config, line: &str) -> Result<(), String> {
    let Some((name, arg)) = command_of(line) else {
        return Ok(());
    };
    match cfg.choice {
        Choice::Auto => Ok(()),
        Choice::Off => Err(format!(
            "/{name} is a lens command, and --lens none turns lenses off"
        )),
        Choice::Named(e) if !e.commands.iter().any(|c| c.name == name) => {
            Err(format!("/{name} is not a command of the {} lens", e.name))
        }
        // Variables are known when the line runs.
        Choice::Named(_) if arg.contains("${") => Ok(()),
        Choice::Named(e) => {
            let mut lens = (e.make)(cfg);
            match lens.command(name, arg) {
                Some(Err(why)) => Err(format!("/{name}: {why}")),
                _ => Ok(()),
            }
        }
    }
}

/// A lens by its `--lens` name.
pub fn by_name(name: &str) -> Option<&'static Entry> {
    TABLE.iter().find(|e| e.name == name)
}

/// The names `--lens` takes, for its error message.
pub fn names() -> String {
    let mut v: Vec<&str> = TABLE.iter().map(|e| e.name).collect();
    v.push("none");
    v.join(", ")
}

/// The lens for a connection: the one asked for, else the one the handshake points to (a
/// `/socket.io/` path, a negotiated subprotocol). Only what the user asked for and what the
/// handshake settled choose: nothing in the messages does.
pub fn choose(cfg: &Config, path: &str, subprotocol: Option<&str>) -> Option<&'static Entry> {
    match cfg.choice {
        Choice::Off => None,
        Choice::Named(e) => Some(e),
        Choice::Auto => {
            let by_sub = match subprotocol {
                Some("graphql-transport-ws" | "graphql-ws") => by_name("graphql-ws"),
                Some("v10.stomp" | "v11.stomp" | "v12.stomp") => by_name("stomp"),
                Some("mqtt" | "mqttv3.1") => by_name("mqtt"),
                _ => None,
            };
            by_sub.or_else(|| {
                is_socketio_path(path)
                    .then(|| by_name("socketio"))
                    .flatten()
            })
        }
    }
}

fn is_socketio_path(path: &str) -> bool {
    let path = path.split('?').next().unwrap_or("");
    path.contains("/socket.io/") || path.ends_with("/socket.io")
}

/// The URL to dial: a Socket.IO one gets `EIO=4&transport=websocket` when its query lacks them.
pub fn adjust_url(cfg: &Config, url: &url::Url) -> Option<url::Url> {
    let socketio = match cfg.choice {
        Choice::Off => false,
        Choice::Named(e) => e.name == "socketio",
        Choice::Auto => is_socketio_path(url.path()),
    };
    if !socketio {
        return None;
    }
    let has = |k: &str| url.query_pairs().any(|(n, _)| n == k);
    let (eio, transport) = (has("EIO"), has("transport"));
    if eio && transport {
        return None;
    }
    let mut u = url.clone();
    {
        let mut q = u.query_pairs_mut();
        if !eio {
            q.append_pair("EIO", "4");
        }
        if !transport {
            q.append_pair("transport", "websocket");
        }
    }
    Some(u)
}

/// The lens commands of every lens, for checking `-x` lines before the lens is known.
pub fn is_lens_command(name: &str) -> bool {
    TABLE
        .iter()
        .any(|e| e.commands.iter().any(|c| c.name == name))
}

/// The `/help` section of a lens.
pub fn help(entry: &Entry) -> String {
    let mut out = format!("Lens {} commands:\n", entry.name);
    for c in entry.commands {
        let usage = format!("/{} {}", c.name, c.args);
        out.push_str(&format!("  {usage:<44} {}\n", c.summary));
    }
    out
}

/// Every lens's decoder on `data`, sent and received, as text and as binary, then its duties:
/// the fuzz target's entry (`fuzz/fuzz_targets/lens_decoders.rs`). Nothing may panic.
pub fn decode_all(data: &[u8]) {
    let now = Instant::now();
    for e in TABLE {
        let mut lens = (e.make)(&Config::default());
        lens.start(now);
        for kind in [DataKind::Text, DataKind::Binary] {
            for dir in [Dir::Sent, Dir::Received] {
                if let Ok(d) = lens.decode(dir, kind, data) {
                    lens.after(&d, now);
                }
            }
        }
        lens.on_deadline(now);
        if let Ok(text) = std::str::from_utf8(data) {
            let (name, arg) = text::first_word(text);
            for c in e.commands.iter().filter(|c| c.name == name) {
                let _ = lens.command(c.name, arg);
            }
        }
    }
    // The protobuf lens with a schema (`--proto`): decoding, and encoding JSON.
    if let Some(desc) = protobuf::fuzz_schema() {
        let _ = protobuf::decode_with(desc, data);
        if let Some(Ok(v)) = std::str::from_utf8(data).ok().map(parse_json) {
            let _ = protobuf::encode_with(desc, &v);
        }
    }
}

#[cfg(test)]
mod tests;
