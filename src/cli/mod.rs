//! The command line as the user typed it, declared with clap derive. Only shapes and defaults live here;
//! turning a URL into a target, or a header into a name and value, happens in the modules that own
//! those concerns. House rule: every flag's help says its default, and wscat's spellings are aliases.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser};

pub use crate::printer::style::ColorChoice;
pub use crate::session::Wait;
use crate::units::{
    parse_interval, parse_max_message, parse_probe_max, parse_rate, parse_secs, parse_size,
    parse_speed, parse_wait,
};

pub mod argv;
mod commands;

pub use commands::*;

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
    /// Check a server: handshake, Origin policy, negotiation, frame rules, limits, TLS
    ///
    /// Each check runs on its own short connection; it talks only to the URL given.
    Probe(ProbeArgs),
    /// Run a WebSocket server for testing: prints what clients send, --echo echoes it back
    Listen(ListenArgs),
    /// Replay a recording (a --record transcript or a browser HAR export) against a server
    Replay(Box<ReplayArgs>),
    /// An inspecting relay: clients connect here, each is relayed to URL, both sides shown
    #[command(after_long_help = PROXY_EXAMPLES)]
    Proxy(Box<ProxyArgs>),
    /// Load and latency: many connections, messages, round-trip percentiles (HDR histogram)
    // -n is bench's --messages, not wscat's --insecure.
    // -v is connect's: bench shows no handshake.
    #[command(
        mut_arg("insecure", |a| a.short_alias(None)),
        mut_arg("verbose", |a| a.hide(true)),
        mut_arg("origin", |a| a.hide_short_help(true)),
        mut_arg("auth", |a| a.hide_short_help(true)),
        mut_arg("location", |a| a.hide_short_help(true)),
        mut_arg("connect_timeout", |a| a.hide_short_help(true)),
        mut_arg("no_deflate", |a| a.hide(true)),
        mut_arg("deflate", |a| a.help("Offer permessage-deflate with these parameters, e.g. 'client_max_window_bits' [default: none; each compressing connection holds ~300 KiB of zlib state]")),
        after_long_help = BENCH_EXAMPLES
    )]
    Bench(Box<BenchArgs>),
    /// Print a shell completion script to stdout
    Completions {
        /// The shell to generate for
        shell: clap_complete::Shell,
    },
}

/// How to reach the server and what to say in the upgrade request (connect and inspect).
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Connection")]
pub struct ConnectArgs {
    #[arg(
        help = "Extra request header 'Name: value' (repeatable)",
        long_help = "Extra request header, 'Name: value' (repeatable; replaces a default header of the same name)",
        short = 'H',
        long = "header",
        value_name = "NAME: VALUE"
    )]
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
    #[arg(hide_short_help = true, long, value_name = "USER:PASS")]
    pub auth: Option<String>,

    /// Sec-WebSocket-Version to send, to see how a server answers other versions
    #[arg(long, value_name = "N", default_value_t = 13, hide_short_help = true)]
    pub protocol_version: u16,

    /// Give up connecting after SECS (DNS, TCP, proxy, TLS and the upgrade together)
    #[arg(hide_short_help = true, long, value_name = "SECS", default_value = "10", value_parser = parse_interval)]
    pub connect_timeout: Duration,

    /// Follow 3xx redirects, printing each hop
    #[arg(hide_short_help = true, short = 'L', long)]
    pub location: bool,

    /// Most redirects to follow with --location
    #[arg(long, value_name = "N", default_value_t = 5, hide_short_help = true)]
    pub max_redirects: u32,

    /// Proxy: http://[user:pass@]host:port (CONNECT) or socks5[h]://... [default: from HTTPS_PROXY, HTTP_PROXY, ALL_PROXY]
    #[arg(hide_short_help = true, long, value_name = "URL")]
    pub proxy: Option<String>,

    /// Ignore proxy settings from the environment
    #[arg(long, conflicts_with = "proxy", hide_short_help = true)]
    pub no_proxy: bool,

    /// Trust the certificate authorities in this PEM file instead of the system roots (as curl --cacert)
    #[arg(
        hide_short_help = true,
        long,
        value_name = "FILE",
        help_heading = "TLS"
    )]
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
        hide_short_help = true,
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
    #[arg(
        hide_short_help = true,
        long,
        conflicts_with = "deflate",
        help_heading = "Compression"
    )]
    pub no_deflate: bool,

    /// Offer permessage-deflate with exactly these parameters, e.g. 'server_no_context_takeover; client_max_window_bits=10' [default: 'client_max_window_bits']
    #[arg(long, value_name = "PARAMS", value_parser = parse_deflate, help_heading = "Compression", hide_short_help = true)]
    pub deflate: Option<crate::deflate::Offer>,

    /// Open the WebSocket over HTTP/2 (RFC 8441): ALPN h2 on wss, h2c prior knowledge on ws; falls back to HTTP/1.1 with a note when the server cannot
    #[arg(long, help_heading = "HTTP/2", hide_short_help = true)]
    pub http2: bool,

    /// Like --http2, but fail (exit 5) instead of falling back to HTTP/1.1
    #[arg(long, help_heading = "HTTP/2", hide_short_help = true)]
    pub http2_only: bool,

    #[arg(
        help = "Show the handshake in full, its checks and timings",
        long_help = "Show the request and response in full, the handshake checks and timings (inspect always shows them)",
        short,
        long
    )]
    pub verbose: bool,
}

/// What happens on a connection that stays open (connect only: `inspect` closes right after the
/// handshake, so it does not take these and clap refuses them there).
#[derive(Debug, Args, Clone)]
pub struct LiveArgs {
    /// Send a ping every SECS and show its round-trip time [at least 0.1]
    #[arg(hide_short_help = true, long, value_name = "SECS", value_parser = parse_interval, help_heading = "Connection")]
    pub ping_interval: Option<Duration>,

    /// Close the connection as dead when no pong arrives within SECS of a ping [at least 0.1]
    #[arg(long, value_name = "SECS", value_parser = parse_interval, help_heading = "Connection", hide_short_help = true)]
    pub ping_timeout: Option<Duration>,

    /// Connect again when the connection drops or the server closes with 1001, 1011, 1012 or 1013 (backoff 0.5 s to 30 s), up to MAX attempts in a row ['inf': no limit; default: none in the REPL, 5 otherwise]
    #[arg(hide_short_help = true, long, value_name = "MAX", num_args = 0..=1, require_equals = true, default_missing_value = "default", value_parser = crate::reconnect::parse_max, help_heading = "Connection")]
    pub reconnect: Option<crate::reconnect::Max>,

    /// Show every frame on the wire, decoded field by field, with a hex dump
    #[arg(long, help_heading = "Frame dump")]
    pub dump: bool,

    /// Bytes of each payload shown by --dump before the rest is elided
    #[arg(long, value_name = "BYTES", default_value = "256", value_parser = parse_size, help_heading = "Frame dump", hide_short_help = true)]
    pub dump_limit: usize,

    /// Write the frame dump to FILE instead of stderr (implies --dump)
    #[arg(
        hide_short_help = true,
        long,
        value_name = "FILE",
        help_heading = "Frame dump"
    )]
    pub dump_file: Option<PathBuf>,

    /// With --dump and --http2: also show each HTTP/2 frame header on the connection (type, flags, stream, length)
    #[arg(long, help_heading = "Frame dump", hide_short_help = true)]
    pub dump_h2: bool,

    // Lenses (SPEC.md "Lenses"): --lens, --lens-passive, --lens-auth; checked in config::lens.
    /// Decode and speak the protocol inside: socketio, graphql-ws, stomp, mqtt, jsonrpc, msgpack, cbor, protobuf, or none [default: chosen from a /socket.io/ path or a graphql-ws subprotocol]
    #[arg(
        long,
        value_name = "NAME",
        help_heading = "Lenses",
        hide_short_help = true
    )]
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

    /// A .proto file for the protobuf lens (compiled at start-up; implies --lens protobuf) [default: schema-less decoding]
    #[arg(
        long,
        value_name = "FILE",
        help_heading = "Lenses",
        hide_short_help = true
    )]
    pub proto: Option<PathBuf>,

    /// The message of --proto that each binary message is (pkg.Name) [default: the file's only message]
    #[arg(
        long,
        value_name = "NAME",
        requires = "proto",
        help_heading = "Lenses",
        hide_short_help = true
    )]
    pub message: Option<String>,

    /// The MQTT lens's CONNECT: 3.1.1, or 5 (properties, reason codes)
    #[arg(
        long,
        value_name = "VERSION",
        value_parser = ["3.1.1", "5"],
        default_value = "3.1.1",
        help_heading = "Lenses",
        hide_short_help = true
    )]
    pub mqtt_version: String,
    // End of lenses.
}

/// What to send and when to stop (connect mode).
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Sending")]
pub struct SessionArgs {
    #[arg(
        help = "Send MSG after connecting (repeatable; slash commands allowed)",
        long_help = "Send MSG after connecting (repeatable, in order; slash commands allowed: -x '/ping', -x '/close 4000 done')",
        short = 'x',
        long = "execute",
        value_name = "MSG"
    )]
    pub execute: Vec<String>,

    /// With -x on a terminal, exit after the -x messages instead of opening the REPL
    #[arg(long, hide_short_help = true)]
    pub no_repl: bool,

    #[arg(help = "After the input ends, close SECS later (wscat's -w; -1 waits for ever)", long_help = "After the input ends, close SECS later, whatever arrives (wscat's -w; '-1' or 'inf' waits for the server, 0 closes at once)", short, long, value_name = "SECS", value_parser = parse_wait, allow_hyphen_values = true)]
    pub wait: Option<Wait>,

    // Expect scripting (SPEC.md "Expect scripting"): --idle, --script, --expect-timeout.
    /// After the input ends, close after SECS without a message from the server [default: 2, none with -w]
    #[arg(hide_short_help = true, long, value_name = "SECS", value_parser = parse_secs)]
    pub idle: Option<Duration>,

    /// Run the commands in FILE, one per line as with -x ('#' comments and blank lines skipped), after the -x ones
    #[arg(hide_short_help = true, long, value_name = "FILE")]
    pub script: Option<PathBuf>,

    /// How long /expect, /expect-json and /expect-close wait for a match unless given --timeout
    #[arg(hide_short_help = true, long, value_name = "SECS", default_value = "10", value_parser = parse_secs)]
    pub expect_timeout: Duration,
    // End of expect scripting.
    /// Exit after the first data message received
    #[arg(short = '1', long)]
    pub once: bool,

    /// Exit after N data messages received
    #[arg(hide_short_help = true, long, value_name = "N")]
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
    #[arg(hide_short_help = true, long)]
    pub echo: bool,

    /// Binary mode: each stdin line is a binary message, and binary replies are written raw
    #[arg(hide_short_help = true, long)]
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
    #[arg(hide_short_help = true, short = 'T', long)]
    pub timestamps: bool,

    /// Pretty-print received JSON text
    #[arg(hide_short_help = true, long)]
    pub pretty: bool,

    /// Show ping and pong frames in pipe mode (always shown in the REPL)
    #[arg(hide_short_help = true, short = 'P', long)]
    pub show_ping_pong: bool,

    /// When to use colours (NO_COLOR is honoured)
    #[arg(hide_short_help = true, long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Same as --color never (wscat's spelling)
    #[arg(long, overrides_with = "color", hide_short_help = true)]
    pub no_color: bool,

    /// Record the session to FILE as JSON Lines (the --json events with a first `session` line; mode 0600)
    #[arg(
        hide_short_help = true,
        long,
        value_name = "FILE",
        help_heading = "Recording"
    )]
    pub record: Option<PathBuf>,

    /// Keep Authorization, Cookie and Proxy-Authorization values in the --record file (redacted by default)
    #[arg(
        hide_short_help = true,
        long,
        requires = "record",
        help_heading = "Recording"
    )]
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

#[cfg(test)]
mod tests;
