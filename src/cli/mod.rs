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
    /// Check a server: Origin policy, versions, protocol violations, limits, TLS
    Probe(ProbeArgs),
    /// Run a WebSocket server for testing: prints what clients send, --echo echoes it back
    Listen(ListenArgs),
    /// Replay a recording (a --record transcript or a browser HAR export) against a server
    Replay(Box<ReplayArgs>),
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

    /// Run only these checks (comma-separated ids, repeatable)
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        value_name = "ID,ID",
        help_heading = "Probe"
    )]
    pub only: Vec<crate::probe_checks::CheckId>,

    /// Leave these checks out (comma-separated ids, repeatable)
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        value_name = "ID",
        help_heading = "Probe"
    )]
    pub skip: Vec<crate::probe_checks::CheckId>,

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

    // Lenses (SPEC.md "Lenses"): --lens, --lens-passive, --lens-auth; checked in config::lens.
    /// Decode and speak the protocol inside: socketio, graphql-ws, stomp, mqtt, jsonrpc, msgpack, cbor, or none [default: chosen from a /socket.io/ path or a graphql-ws subprotocol]
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
