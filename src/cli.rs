//! The command line as the user typed it, declared with clap derive. Only shapes and defaults live here;
//! turning a URL into a target, or a header into a name and value, happens in the modules that own
//! those concerns. House rule: every flag's help says its default, and wscat's spellings are aliases.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, ValueEnum};

pub use crate::session::Wait;

/// The examples of `--help`, also the man page's EXAMPLES.
pub const EXAMPLES: &str = "\
Examples:
  Talk to a server interactively (a REPL on a terminal):
    wscope ws://localhost:8080/chat

  Send one message, print the first reply, exit:
    wscope ws://localhost:8080 -x 'hello' --once

  Pipe lines in, one message each; replies go to stdout:
    seq 10 | wscope ws://localhost:8080 --count 10

  Inspect a handshake (request, response, Accept check, timings, TLS):
    wscope inspect wss://example.test/socket -s chat.v1

  Probe a server: Origin policy, protocol violations, limits (one line per check):
    wscope probe ws://localhost:8080/

  Watch every frame on the wire, decoded field by field:
    wscope ws://localhost:8080 -x hello --once --dump

  A test server that echoes, then a client to it:
    wscope listen 8080 --echo &  wscope ws://localhost:8080

  Record a session, replay it later (a browser's HAR export works too):
    wscope ws://localhost:8080 -x hello --record s.jsonl;  wscope replay s.jsonl";

#[derive(Debug, Parser)]
#[command(
    name = "wscope",
    version,
    about = "A WebSocket client and debugger: REPL, scripted sends, handshake inspection, frame dumps",
    after_help = "See 'wscope --help' for every option and worked examples.",
    after_long_help = EXAMPLES,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Subcommand>,

    /// The server: ws://, wss://, http(s):// (mapped to ws/wss) or host[:port][/path] (ws://)
    #[arg(value_name = "URL", required_unless_present = "connect")]
    pub url: Option<String>,

    /// wscat's spelling of the URL argument
    #[arg(
        short = 'c',
        long = "connect",
        value_name = "URL",
        conflicts_with = "url",
        hide_short_help = true
    )]
    pub connect: Option<String>,

    /// wscat's spelling of `wscope listen PORT`
    #[arg(
        short = 'l',
        long = "listen",
        value_name = "PORT",
        hide_short_help = true
    )]
    pub listen: Option<String>,

    /// wscat's switch for slash commands: accepted, they are always on
    #[arg(long, hide = true)]
    pub slash: bool,

    #[command(flatten)]
    pub conn: ConnectArgs,

    #[command(flatten)]
    pub live: LiveArgs,

    #[command(flatten)]
    pub session: SessionArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum Subcommand {
    /// Show the opening handshake in full, close cleanly, exit 0 only if every check passed
    Inspect(InspectArgs),
    /// Check a server: Origin policy, versions, protocol violations, limits, TLS (one line each)
    Probe(ProbeArgs),
    /// Run a WebSocket server for testing: prints what clients send, --echo echoes it back
    Listen(ListenArgs),
    /// Replay a recording (a --record transcript or a browser HAR export) against a server
    Replay(Box<ReplayArgs>),
    /// Print a shell completion script to stdout
    Completions {
        /// The shell to generate for
        shell: clap_complete::Shell,
    },
}

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

    /// Run only these checks (comma-separated ids, repeatable)
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        value_name = "ID,ID",
        help_heading = "Probe"
    )]
    pub only: Vec<crate::commands::probe::CheckId>,

    /// Leave these checks out (comma-separated ids, repeatable)
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        value_name = "ID",
        help_heading = "Probe"
    )]
    pub skip: Vec<crate::commands::probe::CheckId>,

    /// Largest message max-message tries (K, M, G suffixes)
    #[arg(long, value_parser = parse_probe_max, default_value = "16M", value_name = "BYTES", help_heading = "Probe")]
    pub probe_max: usize,

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

/// `--probe-max`: at least one byte, at most 1 GiB (the message is built in memory).
fn parse_probe_max(s: &str) -> Result<usize, String> {
    let n = parse_size(s)?;
    if n == 0 || n > 1 << 30 {
        return Err(format!("'{s}' is not between 1 byte and 1G"));
    }
    Ok(n)
}

/// How to reach the server and what to say in the upgrade request (connect and inspect).
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Connection")]
pub struct ConnectArgs {
    /// Extra request header, 'Name: value' (repeatable; replaces a default header of the same name)
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,

    /// Offer a subprotocol (repeatable; offered in order)
    #[arg(short = 's', long = "subprotocol", value_name = "NAME")]
    pub subprotocols: Vec<String>,

    /// Fail unless the server selects one of the offered subprotocols
    #[arg(long, requires = "subprotocols", hide_short_help = true)]
    pub require_subprotocol: bool,

    /// Origin header to send
    #[arg(short = 'o', long, value_name = "URL")]
    pub origin: Option<String>,

    /// Basic credentials 'user:pass' (also taken from user:pass@ in the URL)
    #[arg(long, value_name = "USER:PASS")]
    pub auth: Option<String>,

    /// Sec-WebSocket-Version to send, to see how a server answers other versions
    #[arg(long, value_name = "N", default_value_t = 13, hide_short_help = true)]
    pub protocol_version: u16,

    /// Give up connecting after SECS (DNS, TCP, proxy, TLS and the upgrade together)
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_interval)]
    pub connect_timeout: Duration,

    /// Follow 3xx redirects, printing each hop
    #[arg(short = 'L', long)]
    pub location: bool,

    /// Most redirects to follow with --location
    #[arg(long, value_name = "N", default_value_t = 5, hide_short_help = true)]
    pub max_redirects: u32,

    /// Proxy: http://[user:pass@]host:port (CONNECT) or socks5[h]://... [default: from HTTPS_PROXY, HTTP_PROXY, ALL_PROXY]
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,

    /// Ignore proxy settings from the environment
    #[arg(long, conflicts_with = "proxy", hide_short_help = true)]
    pub no_proxy: bool,

    /// Trust the certificate authorities in this PEM file instead of the system roots (as curl --cacert)
    #[arg(long, value_name = "FILE", help_heading = "TLS")]
    pub ca: Option<PathBuf>,

    /// Client certificate, PEM (with --key)
    #[arg(
        long,
        value_name = "FILE",
        requires = "key",
        help_heading = "TLS",
        hide_short_help = true
    )]
    pub cert: Option<PathBuf>,

    /// Client private key, PEM PKCS#8 'BEGIN PRIVATE KEY' (with --cert)
    #[arg(
        long,
        value_name = "FILE",
        requires = "cert",
        help_heading = "TLS",
        hide_short_help = true
    )]
    pub key: Option<PathBuf>,

    /// Skip certificate and host name verification (a warning is printed)
    #[arg(
        short = 'k',
        long,
        short_alias = 'n',
        alias = "no-check",
        help_heading = "TLS"
    )]
    pub insecure: bool,

    /// Largest message or frame accepted from the server; bigger closes with 1009 [at least 125; suffixes: K, M, G]
    #[arg(long, value_name = "BYTES", default_value = "64M", value_parser = parse_max_message, hide_short_help = true)]
    pub max_message_size: usize,

    /// Read each message the moment it arrives. By default a fast stream is read in batches, each message waiting at most 2 ms (far less CPU for both ends)
    #[arg(long, hide_short_help = true)]
    pub no_coalesce: bool,

    // permessage-deflate (RFC 7692): offered by default as browsers offer it.
    /// Offer no compression (by default wscope offers permessage-deflate as browsers do)
    #[arg(long, conflicts_with = "deflate", help_heading = "Compression")]
    pub no_deflate: bool,

    /// Offer permessage-deflate with exactly these parameters, e.g. 'server_no_context_takeover; client_max_window_bits=10' [default: 'client_max_window_bits']
    #[arg(long, value_name = "PARAMS", value_parser = parse_deflate, help_heading = "Compression", hide_short_help = true)]
    pub deflate: Option<crate::deflate::Offer>,

    /// Show the request and response in full, the handshake checks and timings
    #[arg(short, long)]
    pub verbose: bool,
}

/// What happens on a connection that stays open (connect only: `inspect` closes right after the
/// handshake, so it does not take these and clap refuses them there).
#[derive(Debug, Args, Clone)]
pub struct LiveArgs {
    /// Send a ping every SECS and show its round-trip time [at least 0.1]
    #[arg(long, value_name = "SECS", value_parser = parse_interval, help_heading = "Connection")]
    pub ping_interval: Option<Duration>,

    /// Close the connection as dead when no pong arrives within SECS of a ping [at least 0.1]
    #[arg(long, value_name = "SECS", value_parser = parse_interval, help_heading = "Connection", hide_short_help = true)]
    pub ping_timeout: Option<Duration>,

    /// Connect again when the connection drops or the server closes with 1001, 1011, 1012 or 1013 (backoff 0.5 s to 30 s), up to MAX attempts in a row ['inf': no limit; default: none in the REPL, 5 otherwise]
    #[arg(long, value_name = "MAX", num_args = 0..=1, require_equals = true, default_missing_value = "default", value_parser = crate::reconnect::parse_max, help_heading = "Connection")]
    pub reconnect: Option<crate::reconnect::Max>,

    /// Show every frame on the wire, decoded field by field, with a hex dump
    #[arg(long, help_heading = "Frame dump")]
    pub dump: bool,

    /// Bytes of each payload shown by --dump before the rest is elided
    #[arg(long, value_name = "BYTES", default_value = "256", value_parser = parse_size, help_heading = "Frame dump", hide_short_help = true)]
    pub dump_limit: usize,

    /// Write the frame dump to FILE instead of stderr (implies --dump)
    #[arg(long, value_name = "FILE", help_heading = "Frame dump")]
    pub dump_file: Option<PathBuf>,

    // Lenses (SPEC.md "Lenses"): --lens, --lens-passive, --lens-auth; checked in config::lens.
    /// Decode and speak the protocol inside: socketio, graphql-ws, stomp, mqtt, jsonrpc, msgpack, cbor, or none [default: chosen from a /socket.io/ path or a graphql-ws subprotocol]
    #[arg(long, value_name = "NAME", help_heading = "Lenses")]
    pub lens: Option<String>,

    /// Decode only: the lens sends nothing by itself (no protocol handshake, no answers to its pings)
    #[arg(long, help_heading = "Lenses", hide_short_help = true)]
    pub lens_passive: bool,

    /// JSON the lens authenticates with: Socket.IO's namespace auth, graphql-ws's connection_init payload
    #[arg(
        long,
        value_name = "JSON",
        help_heading = "Lenses",
        hide_short_help = true
    )]
    pub lens_auth: Option<String>,

    /// STOMP's host header (RabbitMQ reads it as the virtual host) [default: the URL's host]
    #[arg(
        long,
        value_name = "VHOST",
        help_heading = "Lenses",
        hide_short_help = true
    )]
    pub lens_host: Option<String>,
    // End of lenses.
}

/// What to send and when to stop (connect mode).
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Sending")]
pub struct SessionArgs {
    /// Send MSG after connecting (repeatable, in order; slash commands allowed: -x '/ping', -x '/close 4000 done')
    #[arg(short = 'x', long = "execute", value_name = "MSG")]
    pub execute: Vec<String>,

    /// With -x on a terminal, exit after the -x messages instead of opening the REPL
    #[arg(long, hide_short_help = true)]
    pub no_repl: bool,

    /// After the input ends, close SECS later, whatever arrives (wscat's -w; '-1' or 'inf' waits for the server, 0 closes at once)
    #[arg(short, long, value_name = "SECS", value_parser = parse_wait, allow_hyphen_values = true)]
    pub wait: Option<Wait>,

    // Expect scripting (SPEC.md "Expect scripting"): --idle, --script, --expect-timeout.
    /// After the input ends, close after SECS without a message from the server [default: 2, none with -w]
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub idle: Option<Duration>,

    /// Run the commands in FILE, one per line as with -x ('#' comments and blank lines skipped), after the -x ones
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,

    /// How long /expect, /expect-json and /expect-close wait for a match unless given --timeout
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_secs)]
    pub expect_timeout: Duration,
    // End of expect scripting.
    /// Exit after the first data message received
    #[arg(short = '1', long)]
    pub once: bool,

    /// Exit after N data messages received
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,

    /// Close code we send when we end the connection
    #[arg(
        long,
        value_name = "CODE",
        default_value_t = 1000,
        hide_short_help = true
    )]
    pub close_code: u16,

    /// Close reason we send when we end the connection
    #[arg(long, value_name = "TEXT", default_value = "", hide_short_help = true)]
    pub close_reason: String,

    /// Echo every data message received back to the server (a mirror client)
    #[arg(long)]
    pub echo: bool,

    /// Binary mode: each stdin line is a binary message, and binary replies are written raw
    #[arg(long)]
    pub binary: bool,

    /// Send all of stdin as one message
    #[arg(long, hide_short_help = true)]
    pub stdin_whole: bool,

    /// Do not read or write the REPL history file
    #[arg(long, hide_short_help = true)]
    pub no_history: bool,
}

/// How received data is shown.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// One JSON object per event (sent, received, ping, pong, close, error) on stdout
    #[arg(long)]
    pub json: bool,

    /// Prefix every event with the time
    #[arg(short = 'T', long)]
    pub timestamps: bool,

    /// Pretty-print received JSON text
    #[arg(long)]
    pub pretty: bool,

    /// Show ping and pong frames in pipe mode (always shown in the REPL)
    #[arg(short = 'P', long)]
    pub show_ping_pong: bool,

    /// When to use colours (NO_COLOR is honoured)
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Same as --color never (wscat's spelling)
    #[arg(long, overrides_with = "color", hide_short_help = true)]
    pub no_color: bool,

    /// Record the session to FILE as JSON Lines (the --json events with a first `session` line; mode 0600)
    #[arg(long, value_name = "FILE", help_heading = "Recording")]
    pub record: Option<PathBuf>,

    /// Keep Authorization, Cookie and Proxy-Authorization values in the --record file (redacted by default)
    #[arg(long, requires = "record", help_heading = "Recording")]
    pub record_secrets: bool,
}

impl OutputArgs {
    /// `--color`, or never with `--no-color`.
    pub fn color(&self) -> ColorChoice {
        color(self.color, self.no_color)
    }
}

fn color(choice: ColorChoice, no_color: bool) -> ColorChoice {
    if no_color {
        ColorChoice::Never
    } else {
        choice
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
    /// Decode what clients send with a lens: socketio, graphql-ws, stomp, mqtt, jsonrpc, msgpack, cbor
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

/// `--speed X`: a positive factor.
fn parse_speed(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 1e6 => Ok(v),
        _ => Err(format!(
            "'{s}' is not a speed: use a number above 0, e.g. 2 (twice as fast) or 0.5"
        )),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

pub(crate) fn parse_secs(s: &str) -> Result<Duration, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a number of seconds"))?;
    if !v.is_finite() || !(0.0..=1e9).contains(&v) {
        return Err(format!(
            "'{s}' is not a number of seconds between 0 and 1e9"
        ));
    }
    Ok(Duration::from_secs_f64(v))
}

/// The shortest `--ping-interval`, `--ping-timeout` and `--connect-timeout`: 0 meant a ping storm
/// (~900/s) or a timeout before anything could happen.
const MIN_INTERVAL: f64 = 0.1;

fn parse_interval(s: &str) -> Result<Duration, String> {
    let d = parse_secs(s)?;
    if d.as_secs_f64() < MIN_INTERVAL {
        return Err(format!(
            "'{s}' is too short: use {MIN_INTERVAL} to 1e9 seconds"
        ));
    }
    Ok(d)
}

/// Control frames (a close, a ping) carry up to 125 bytes and must always get through: a smaller
/// limit would refuse the server's close.
pub const MIN_MESSAGE_SIZE: usize = 125;

fn parse_max_message(s: &str) -> Result<usize, String> {
    let n = parse_size(s)?;
    if n < MIN_MESSAGE_SIZE {
        return Err(format!(
            "'{s}' is below {MIN_MESSAGE_SIZE} bytes: control frames (close, ping, pong) carry up \
             to {MIN_MESSAGE_SIZE} bytes and must always be accepted; use at least {MIN_MESSAGE_SIZE}"
        ));
    }
    Ok(n)
}

/// `--deflate PARAMS`: known parameter names, window sizes 8 to 15.
fn parse_deflate(s: &str) -> Result<crate::deflate::Offer, String> {
    crate::deflate::Offer::parse(s).map_err(|e| {
        format!(
            "'{s}': {e}; the parameters are server_no_context_takeover, \
             client_no_context_takeover, server_max_window_bits=8..15 and \
             client_max_window_bits[=8..15]"
        )
    })
}

fn parse_wait(s: &str) -> Result<Wait, String> {
    match s.trim() {
        "-1" | "inf" | "infinite" | "forever" => Ok(Wait::Forever),
        other => parse_secs(other).map(Wait::Secs),
    }
}

/// Bytes with an optional K/M/G suffix (powers of 1024), e.g. `64M`, `256`, `1.5K`.
pub fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        None => (t, 1u64),
        Some((i, _)) => {
            let unit = t[i..].to_ascii_lowercase();
            let mult = match unit.trim_end_matches("ib").trim_end_matches('b') {
                "" => 1,
                "k" => 1 << 10,
                "m" => 1 << 20,
                "g" => 1 << 30,
                _ => return Err(format!("'{s}': unknown size unit (use K, M or G)")),
            };
            (&t[..i], mult)
        }
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a size in bytes"))?;
    let bytes = v * mult as f64;
    if !bytes.is_finite() || bytes < 0.0 || bytes > usize::MAX as f64 {
        return Err(format!("'{s}' is out of range"));
    }
    Ok(bytes as usize)
}

/// Turn wscat's `-l PORT` (also `-lPORT`, `--listen PORT`, `--listen=PORT`) into our
/// `listen PORT`, so muscle memory works without a second copy of the listen options at the top
/// level.
pub fn rewrite_wscat_listen(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut out = Vec::with_capacity(args.len() + 1);
    let mut it = args.into_iter();
    if let Some(bin) = it.next() {
        out.push(bin);
    }
    let rest: Vec<_> = it.collect();
    let mut rewritten = false;
    let mut i = 0;
    while i < rest.len() {
        let a = rest[i].to_str().unwrap_or("");
        if !rewritten && (a == "-l" || a == "--listen") {
            out.insert(1, "listen".into());
            rewritten = true;
        } else if let Some(v) = a
            .strip_prefix("--listen=")
            .or_else(|| attached_listen_value(a))
            .filter(|_| !rewritten)
        {
            out.insert(1, "listen".into());
            out.push(v.into());
            rewritten = true;
        } else if a == "--" {
            out.extend(rest[i..].iter().cloned());
            break;
        } else {
            out.push(rest[i].clone());
        }
        i += 1;
    }
    out
}

/// The `8080` of `-l8080` (an address follows: a digit, `[` or `:`), not some other `-l...`.
fn attached_listen_value(arg: &str) -> Option<&str> {
    let v = arg.strip_prefix("-l")?;
    v.starts_with(|c: char| c.is_ascii_digit() || c == '[' || c == ':')
        .then_some(v)
}

/// Words people type for things wscope does another way, with where that is.
const ELSEWHERE: &[(&str, &str)] = &[
    (
        "man",
        "the manual is `man wscope` (man/wscope.1), and `wscope --help` lists every option",
    ),
    (
        "manual",
        "the manual is `man wscope` (man/wscope.1), and `wscope --help` lists every option",
    ),
    ("version", "the version is `wscope --version`"),
    (
        "connect",
        "connecting takes no command: `wscope URL` (or wscat's `wscope -c URL`)",
    ),
];

/// A first argument that is no URL but a mistyped command (`wscope lisen 8080`) or a word for
/// something wscope does another way (`wscope man`) is a usage error, found before anything is
/// dialed: taken as a host name it would cost a DNS lookup and say "cannot resolve host".
pub fn check_first_word(args: &[std::ffi::OsString]) -> crate::error::Result<()> {
    use clap::CommandFactory;
    let Some(word) = args.get(1).and_then(|a| a.to_str()) else {
        return Ok(());
    };
    // Anything with a scheme, port, path, dot or userinfo is meant as an address.
    if word.starts_with('-') || word.is_empty() || word.contains([':', '/', '.', '[', '@']) {
        return Ok(());
    }
    let cmd = Cli::command();
    let names: Vec<String> = cmd
        .get_subcommands()
        .flat_map(|c| std::iter::once(c.get_name()).chain(c.get_all_aliases()))
        .map(str::to_string)
        .collect();
    // `help` is clap's; it is not offered as a guess (`hello` is a fine host name).
    if word == "help" || names.iter().any(|n| n == word) {
        return Ok(());
    }
    let host_hint =
        format!("to connect to a host of that name, write ws://{word} (or wss://{word})");
    if let Some((_, where_)) = ELSEWHERE.iter().find(|(w, _)| w.eq_ignore_ascii_case(word)) {
        return Err(crate::error::Error::usage_hint(
            format!("'{word}' is not a command of wscope"),
            format!("{where_}; {host_hint}"),
        ));
    }
    let lower = word.to_ascii_lowercase();
    let close = names
        .iter()
        .map(|n| (strsim::damerau_levenshtein(&lower, n), n))
        .filter(|(d, n)| {
            *d <= 2.min(n.len() / 3 + 1) || (lower.len() >= 3 && n.starts_with(&lower))
        })
        .min_by_key(|(d, _)| *d);
    match close {
        Some((_, meant)) => Err(crate::error::Error::usage_hint(
            format!("'{word}' is not a command of wscope: did you mean '{meant}'?"),
            format!("`wscope {meant} ...` (see `wscope --help`); {host_hint}"),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        let v = rewrite_wscat_listen(args.iter().map(Into::into).collect());
        Cli::try_parse_from(v)
    }

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn bare_url_is_connect() {
        let cli = parse(&["wscope", "ws://h/", "-H", "A: b", "-s", "x", "-s", "y"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.url.as_deref(), Some("ws://h/"));
        assert_eq!(cli.conn.subprotocols, ["x", "y"]);
        assert_eq!(cli.session.wait, None);
        assert_eq!(cli.session.idle, None);
        assert_eq!(cli.session.expect_timeout, Duration::from_secs(10));
        assert_eq!(cli.conn.max_message_size, 64 << 20);
    }

    #[test]
    fn wscat_aliases() {
        let cli = parse(&["wscope", "-n", "wss://h/"]).unwrap();
        assert!(cli.conn.insecure);
        let cli = parse(&["wscope", "-l", "8080", "--echo"]).unwrap();
        match cli.command {
            Some(Subcommand::Listen(l)) => {
                assert_eq!(l.addr, "8080");
                assert!(l.echo);
            }
            other => panic!("expected listen, got {other:?}"),
        }
    }

    #[test]
    fn wscat_listen_forms_and_first_words() {
        for form in [&["-l8080"][..], &["--listen=8080"], &["--listen", "8080"]] {
            let mut v = vec!["wscope"];
            v.extend_from_slice(form);
            assert!(
                matches!(parse(&v).unwrap().command, Some(Subcommand::Listen(l)) if l.addr == "8080"),
                "{form:?}"
            );
        }
        // Only an address is taken from `-l...`.
        assert_eq!(attached_listen_value("-lfoo"), None);
        assert_eq!(attached_listen_value("-l[::1]:80"), Some("[::1]:80"));
        let first = |w: &str| check_first_word(&["wscope".into(), w.into()]);
        for ok in [
            "localhost",
            "ws://lisen",
            "lisen:80",
            "listen",
            "help",
            "hello",
            "-v",
            "db",
        ] {
            assert!(first(ok).is_ok(), "{ok}");
        }
        for typo in ["lisen", "Inspct", "completion", "insp", "man"] {
            assert_eq!(first(typo).map_err(|e| e.exit_code()), Err(2), "{typo}");
        }
        let cli = parse(&[
            "wscope",
            "ws://h/",
            "--color",
            "always",
            "--no-color",
            "--slash",
        ])
        .unwrap();
        assert_eq!(cli.output.color(), ColorChoice::Never);
    }

    #[test]
    fn inspect_takes_connection_options() {
        let cli = parse(&["wscope", "inspect", "ws://h/", "--json", "-o", "http://o"]).unwrap();
        match cli.command {
            Some(Subcommand::Inspect(i)) => {
                assert!(i.json);
                assert_eq!(i.conn.origin.as_deref(), Some("http://o"));
            }
            other => panic!("expected inspect, got {other:?}"),
        }
    }

    #[test]
    fn wait_and_sizes() {
        assert_eq!(parse_wait("inf").unwrap(), Wait::Forever);
        assert_eq!(parse_wait("0").unwrap(), Wait::Secs(Duration::ZERO));
        assert_eq!(parse_wait("-1").unwrap(), Wait::Forever);
        assert!(parse_wait("-2").is_err());
        let cli = parse(&["wscope", "ws://h/", "-w", "-1", "--idle", "0.5"]).unwrap();
        assert_eq!(cli.session.wait, Some(Wait::Forever));
        assert_eq!(cli.session.idle, Some(Duration::from_millis(500)));
        assert_eq!(parse_size("1K").unwrap(), 1024);
        assert_eq!(parse_size("2MiB").unwrap(), 2 << 20);
        assert!(parse_size("3Q").is_err());
    }

    #[test]
    fn intervals_and_limits_have_a_floor() {
        assert!(parse_interval("0").unwrap_err().contains("0.1 to 1e9"));
        assert!(parse_interval("0.05").is_err());
        assert_eq!(parse_interval("0.1").unwrap(), Duration::from_millis(100));
        assert!(parse_max_message("124")
            .unwrap_err()
            .contains("at least 125"));
        assert_eq!(parse_max_message("125").unwrap(), 125);
        for flags in [
            &["--ping-interval", "0"][..],
            &["--connect-timeout", "0"][..],
            &["--max-message-size", "16"][..],
        ] {
            let mut v = vec!["wscope", "ws://h/"];
            v.extend_from_slice(flags);
            assert!(parse(&v).is_err(), "{flags:?}");
        }
    }

    #[test]
    fn inspect_does_not_take_what_it_would_ignore() {
        for flag in [
            "--dump",
            "--ping-interval=1",
            "--ping-timeout=1",
            "--dump-file=f",
        ] {
            assert!(
                parse(&["wscope", "inspect", "ws://h/", flag]).is_err(),
                "{flag}"
            );
            assert!(parse(&["wscope", "ws://h/", flag]).is_ok(), "{flag}");
        }
    }

    #[test]
    fn missing_url_is_an_error() {
        assert!(parse(&["wscope"]).is_err());
    }
}
