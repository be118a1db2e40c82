//! The arguments of the commands other than connect (`inspect`, `probe`, `listen`, `replay`,
//! `bench`), as clap parses them; the connection, session and output groups they flatten in are in
//! the parent module.

use super::*;

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The server: ws://, wss://, http(s):// or host[:port][/path]
    #[arg(value_name = "URL")]
    pub url: String,

    #[command(flatten)]
    pub conn: ConnectArgs,

    /// Print one JSON object with the whole report
    #[arg(long)]
    pub json: bool,

    /// Show the frames of the close (and any the server sent before it), decoded, with a hex dump
    #[arg(long, help_heading = "Frame dump")]
    pub dump: bool,

    /// Bytes of each payload shown by --dump before the rest is elided
    #[arg(long, value_name = "BYTES", default_value = "256", value_parser = parse_size, help_heading = "Frame dump", hide_short_help = true)]
    pub dump_limit: usize,

    /// Write the frame dump to FILE instead of stderr (implies --dump)
    #[arg(long, value_name = "FILE", help_heading = "Frame dump")]
    pub dump_file: Option<PathBuf>,

    /// When to use colours
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Same as --color never
    #[arg(long, overrides_with = "color", hide_short_help = true)]
    pub no_color: bool,
}

impl InspectArgs {
    /// `--color`, or never with `--no-color`.
    pub fn color(&self) -> ColorChoice {
        color(self.color, self.no_color)
    }
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// The server: ws://, wss://, http(s):// or host[:port][/path]
    #[arg(value_name = "URL")]
    pub url: String,

    #[command(flatten)]
    pub conn: ConnectArgs,

    /// Run only these checks (comma-separated ids, repeatable); the expensive ones only run so
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        value_name = "ID,ID",
        help_heading = "Probe",
        hide_possible_values = true,
        long_help = crate::probe_checks::only_help()
    )]
    pub only: Vec<crate::probe_checks::CheckId>,

    /// Leave these checks out (comma-separated ids, repeatable)
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        value_name = "ID",
        help_heading = "Probe",
        hide_possible_values = true
    )]
    pub skip: Vec<crate::probe_checks::CheckId>,

    /// Largest message max-message tries (K, M, G suffixes)
    #[arg(long, value_parser = parse_probe_max, default_value = "16M", value_name = "BYTES", help_heading = "Probe")]
    pub probe_max: usize,

    /// At most this many messages (and new connections) a second in the limit searches
    #[arg(long, value_parser = parse_rate, default_value = "50", value_name = "N", help_heading = "Probe")]
    pub probe_rate: f64,

    /// Run idle and server-ping, waiting up to this long for the server to close or ping
    #[arg(long, value_parser = parse_secs, value_name = "SECS", help_heading = "Probe")]
    pub probe_idle: Option<std::time::Duration>,

    /// Run connections: open up to N connections at once to find the server's per-client limit
    #[arg(long, default_value_t = 0, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=1000), help_heading = "Probe")]
    pub probe_conns: u32,

    /// Also name the server's library or product, with a confidence and the evidence
    #[arg(long, help_heading = "Probe")]
    pub fingerprint: bool,

    /// Send this cookie with every check, and run cookie-only ('name=value; ...')
    #[arg(long, value_name = "COOKIE", help_heading = "Probe")]
    pub cookie: Option<String>,

    /// Also write the failed and warned checks as SARIF 2.1.0 (code-scanning dashboards)
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub sarif: Option<std::path::PathBuf>,

    /// Print one JSON object: url, checks (id, status, title, detail), summary
    #[arg(long, help_heading = "Output")]
    pub json: bool,

    /// When to use colours
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN", help_heading = "Output")]
    pub color: ColorChoice,

    /// Same as --color never
    #[arg(
        long,
        overrides_with = "color",
        hide_short_help = true,
        help_heading = "Output"
    )]
    pub no_color: bool,
}

impl ProbeArgs {
    /// `--color`, or never with `--no-color`.
    pub fn color(&self) -> ColorChoice {
        color(self.color, self.no_color)
    }
}

#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Where to listen: PORT or ADDR:PORT (default address 127.0.0.1)
    #[arg(value_name = "[ADDR:]PORT")]
    pub addr: String,

    /// Echo every message back to the client that sent it
    #[arg(long)]
    pub echo: bool,

    /// Subprotocol to accept (repeatable; the first one a client offers that is listed here wins)
    #[arg(short = 's', long = "subprotocol", value_name = "NAME")]
    pub subprotocols: Vec<String>,

    /// Refuse clients that offer none of the -s subprotocols (400)
    #[arg(long, requires = "subprotocols")]
    pub require_subprotocol: bool,

    /// Accept only these Origins (repeatable; '*' wildcards); others get 403
    #[arg(long, value_name = "PATTERN")]
    pub origin_allow: Vec<String>,

    /// Extra response header, 'Name: value' (repeatable)
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,

    /// Certificate chain for wss, PEM (with --tls-key)
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// Private key for wss, PEM PKCS#8 (with --tls-cert)
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Also serve WebSockets over HTTP/2 (RFC 8441) on the same port: h2c prior knowledge, or ALPN h2 with --tls-cert
    #[arg(long)]
    pub http2: bool,

    /// Most clients at once; more are refused with 503
    #[arg(long, value_name = "N")]
    pub max_clients: Option<usize>,

    /// Largest message accepted from a client [suffixes: K, M, G]
    #[arg(long, value_name = "BYTES", default_value = "64M", value_parser = parse_size)]
    pub max_message_size: usize,

    /// Decline permessage-deflate (by default a client's offer is accepted, within what it allows)
    #[arg(long)]
    pub no_deflate: bool,

    /// Show each client's handshake
    #[arg(short, long)]
    pub verbose: bool,

    /// Show every frame on the wire
    #[arg(long)]
    pub dump: bool,

    /// Bytes of each payload shown by --dump before the rest is elided
    #[arg(long, value_name = "BYTES", default_value = "256", value_parser = parse_size)]
    pub dump_limit: usize,

    /// Do not read or write the REPL history file
    #[arg(long)]
    pub no_history: bool,

    /// A mock server: answer each client with the server messages of this recording (a --record transcript or a HAR export), each after the client message that preceded it
    #[arg(long, value_name = "FILE", conflicts_with = "echo")]
    pub replay: Option<PathBuf>,

    // Lenses (SPEC.md "Lenses"): listen decodes only (no session duties); checked in config.
    /// Decode what clients send with a lens: socketio, graphql-ws, stomp, mqtt, jsonrpc, msgpack, cbor, protobuf
    #[arg(long, value_name = "NAME")]
    pub lens: Option<String>,
    // End of lenses.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `wscope replay FILE [URL]`: the client messages of a recording, sent again with their gaps.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The recording: a transcript written by --record, or a browser HAR export (DevTools "Save all as HAR")
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Connect here instead of the recorded URL
    #[arg(value_name = "URL")]
    pub url: Option<String>,

    /// Which WebSocket of the recording to replay, counted from 0 (see --list) [default: 0]
    #[arg(long, value_name = "N", help_heading = "Replay")]
    pub entry: Option<usize>,

    /// List the recording's WebSockets (index, URL, messages each way) and exit
    #[arg(long, help_heading = "Replay")]
    pub list: bool,

    /// Play the recorded gaps between messages X times faster (0.5 is half speed) [default: 1]
    #[arg(long, value_name = "X", value_parser = parse_speed, help_heading = "Replay")]
    pub speed: Option<f64>,

    /// Send the messages one after the other, without the recorded gaps
    #[arg(long, conflicts_with = "speed", help_heading = "Replay")]
    pub fast: bool,

    /// Also send the Cookie header of a HAR entry (left out by default)
    #[arg(long, help_heading = "Replay")]
    pub har_cookies: bool,

    #[command(flatten)]
    pub conn: ConnectArgs,

    #[command(flatten)]
    pub live: LiveArgs,

    #[command(flatten)]
    pub session: SessionArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// The examples of `wscope bench --help`.
pub const BENCH_EXAMPLES: &str = "\
Examples:
  50 connections for 10 s, each sending the next message when the last came back:
    wscope bench ws://localhost:8080 -c 50

  100 messages a second on each of 10 connections (open loop), 1000 each, as JSON:
    wscope bench ws://localhost:8080 -c 10 --rate 100 -n 1000 --json

  A server that answers with another body: pair by the request's id:
    wscope bench ws://localhost:8080/rpc -x '{\"id\":${seq},\"method\":\"ping\"}' --match .id

  Runs on two machines, merged into one report:
    wscope bench URL -c 5000 --hist a.hlog   (on A)    wscope bench URL -c 5000 --hist b.hlog   (on B)
    wscope bench --merge a.hlog b.hlog

Exit status: 0 every connection opened and every message was answered; 7 replies or connections
were missing (the report says how many); 3, 4 or 5 no connection could be opened (connect, TLS,
handshake).";

/// `wscope bench URL`: many connections, messages, round-trip percentiles.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The server: ws://, wss://, http(s):// or host[:port][/path]
    #[arg(value_name = "URL", required_unless_present = "merge")]
    pub url: Option<String>,

    /// Connections to open
    #[arg(short = 'c', long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1_000_000), help_heading = "Load")]
    pub connections: u32,

    /// Open connections at this many per second [default: all at once]
    #[arg(long, value_name = "PER_SEC", value_parser = parse_rate, help_heading = "Load")]
    pub ramp: Option<f64>,

    /// Messages per connection (then stop) instead of a duration
    #[arg(short = 'n', long, value_name = "N", conflicts_with = "duration", value_parser = clap::value_parser!(u64).range(1..), help_heading = "Load")]
    pub messages: Option<u64>,

    /// How long to send [default: 10]
    #[arg(short = 'd', long, value_name = "SECS", value_parser = parse_interval, help_heading = "Load")]
    pub duration: Option<Duration>,

    /// Messages a second per connection (open loop) [default: closed loop]
    ///
    /// Messages leave on schedule whatever the replies do, and each round trip counts from when
    /// its message was due (no coordinated omission). Without it the next message leaves when the
    /// reply to the last one came.
    #[arg(long, value_name = "MSGS_PER_SEC", value_parser = parse_rate, help_heading = "Load")]
    pub rate: Option<f64>,

    /// Payload size in bytes [default: 64]
    ///
    /// Random printable text (random bytes with --binary), made once per connection [default: 64;
    /// suffixes: K, M].
    #[arg(long, value_name = "BYTES", value_parser = parse_size, help_heading = "Load")]
    pub size: Option<usize>,

    /// Send binary messages
    #[arg(long, help_heading = "Load", hide_short_help = true)]
    pub binary: bool,

    /// Payload template with ${seq}, ${conn}, ${now_ms}
    ///
    /// ${seq} is the message number on its connection (from 1), ${conn} the connection number
    /// (from 1), ${now_ms} the Unix time in milliseconds.
    #[arg(
        short = 'x',
        long = "template",
        value_name = "TEMPLATE",
        conflicts_with = "size",
        help_heading = "Load"
    )]
    pub template: Option<String>,

    /// Pair replies by this jq key, e.g. .id [default: echo equality]
    ///
    /// The filter runs on both the request and the reply (JSON); a reply answers the request in
    /// flight whose key is the same.
    #[arg(long = "match", value_name = "FILTER", help_heading = "Load")]
    pub match_filter: Option<String>,

    /// Take the next message received as the reply
    #[arg(
        long,
        conflicts_with = "match_filter",
        help_heading = "Load",
        hide_short_help = true
    )]
    pub any_reply: bool,

    /// A message without a reply after SECS counts as missing
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = parse_interval, help_heading = "Load", hide_short_help = true)]
    pub reply_timeout: Duration,

    /// Worker threads [default: the number of cores]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024), help_heading = "Load", hide_short_help = true)]
    pub threads: Option<u16>,

    /// Multiplex the WebSockets over K HTTP/2 connections (with --http2)
    ///
    /// Each WebSocket is an RFC 8441 stream; connection number i uses HTTP/2 connection i mod K
    /// [default: one HTTP/2 connection per WebSocket].
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..), help_heading = "Load")]
    pub h2_connections: Option<u32>,

    /// Print the report as one JSON object
    #[arg(long, help_heading = "Report")]
    pub json: bool,

    /// Write the round trips to FILE as an HdrHistogram interval log
    ///
    /// One histogram a second, values in microseconds; `--merge` adds up the logs of several runs.
    #[arg(long, value_name = "FILE", help_heading = "Report")]
    pub hist: Option<PathBuf>,

    /// Print the combined report of --hist logs and exit
    #[arg(long, value_name = "FILE", num_args = 1.., conflicts_with = "url", help_heading = "Report")]
    pub merge: Vec<PathBuf>,

    #[command(flatten)]
    pub conn: ConnectArgs,

    /// --lens and pings apply; --reconnect and --dump are refused by `config::bench`.
    #[command(flatten)]
    pub live: super::LiveArgs,
}

/// `wscope proxy [ADDR:]PORT URL`: clients connect here, each is relayed to URL, both sides shown.
#[derive(Debug, Args)]
pub struct ProxyArgs {
    /// Where to listen: PORT or ADDR:PORT (default address 127.0.0.1)
    #[arg(value_name = "[ADDR:]PORT")]
    pub addr: String,

    /// The server each client is relayed to (the client's path and query are appended to its path)
    #[arg(value_name = "URL")]
    pub url: String,

    /// Dial URL's path as it is, whatever path the client asked for
    #[arg(long)]
    pub fixed_path: bool,

    /// A jq filter applied to each JSON text message from the client; its output replaces the message, `empty` drops it
    #[arg(long, value_name = "FILTER")]
    pub map_client: Option<String>,

    /// A jq filter applied to each JSON text message from the server; its output replaces the message, `empty` drops it
    #[arg(long, value_name = "FILTER")]
    pub map_server: Option<String>,

    /// Certificate chain to serve wss to the clients, PEM (with --tls-key)
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// Private key for wss, PEM PKCS#8 (with --tls-cert)
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Most clients at once; more are refused with 503
    #[arg(long, value_name = "N")]
    pub max_clients: Option<usize>,

    /// Show every frame on both hops
    #[arg(long)]
    pub dump: bool,

    /// Bytes of each payload shown by --dump before the rest is elided
    #[arg(long, value_name = "BYTES", default_value = "256", value_parser = parse_size)]
    pub dump_limit: usize,

    /// Decode what is relayed with a lens: socketio, graphql-ws, stomp, mqtt, jsonrpc, msgpack, cbor
    #[arg(long, value_name = "NAME")]
    pub lens: Option<String>,

    /// Do not read or write the REPL history file
    #[arg(long)]
    pub no_history: bool,

    #[command(flatten)]
    pub conn: ConnectArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

pub const PROXY_EXAMPLES: &str = "\
Examples:
  Point a browser app at ws://localhost:8080 instead of its server, and watch both sides:
    wscope proxy 8080 wss://api.example.com

  Record every client (one transcript per client id: s.1.jsonl, s.2.jsonl, ...):
    wscope proxy 8080 wss://api.example.com --record s.jsonl
  then replay the client side against a new build, or serve the server side as a mock:
    wscope replay s.1.jsonl ws://localhost:9000;  wscope listen 9000 --replay s.1.jsonl

  Change traffic on the way: rename a field in what the client sends:
    wscope proxy 8080 ws://localhost:9000 --map-client '.user = \"test\"'";
