//! `wscope bench`: the load, the payload and the pairing rule checked, the connection built as
//! connect's is (`handshake::Options` from the same flags); or the logs of `--merge`.

use super::{handshake, output, Command, Output};
use crate::cli::{BenchArgs, ColorChoice};
use crate::commands::bench::options::{Bench, Mode};
use crate::commands::bench::pairing::{self, Pairing};
use crate::commands::bench::payload::{parse_template, Generator, Payload};
use crate::error::{Error, Result};

/// bench's checked configuration; its report and errors go to stderr (`--json`: stdout).
pub(super) fn bench(args: &BenchArgs) -> (Output, Result<Command>) {
    // The report is bench's own (`--json`: one object on stdout); its notes, warnings and errors
    // stay human lines on stderr, so that object stays the only thing on stdout.
    let mut output = output::oneshot(args.json, ColorChoice::Auto, true);
    output.style.format = crate::printer::Format::Human;
    let cmd = mode(args).map(|m| Command::Bench(Box::new(m), output.clone()));
    (output, cmd)
}

/// `wscope bench`: the load, the payload and the pairing rule checked, the connection built as
/// connect's is; or the logs of `--merge`.
fn mode(args: &BenchArgs) -> Result<Mode> {
    if !args.merge.is_empty() {
        return Ok(Mode::Merge {
            files: args.merge.clone(),
            json: args.json,
        });
    }
    let url = args
        .url
        .as_deref()
        .ok_or_else(|| Error::usage("a URL is required (or --merge FILE...)"))?;
    let mut target = crate::target::Target::parse(url)?;
    refuse_live_flags(args)?;
    let mut handshake = handshake(&args.conn)?;
    let lens = super::lens::lens(&args.live, &args.conn, handshake.auth.clone())?;
    crate::lens::adjust_target(&lens, &mut target);
    if args.h2_connections.is_some() && handshake.http2 == crate::handshake::Http2::Off {
        return Err(Error::usage_hint(
            "--h2-connections needs --http2 (or --http2-only)",
            "add --http2: the WebSockets then travel as RFC 8441 streams",
        ));
    }
    // No permessage-deflate unless --deflate PARAMS asks: each compressing connection holds some
    // 300 KiB of zlib state, and 10,000 of them would be 3 GiB.
    handshake.deflate = args.conn.deflate.clone();
    let payload = match &args.template {
        Some(t) => Payload::Template {
            parts: parse_template(t).map_err(Error::usage)?,
            binary: args.binary,
        },
        None => Payload::Random {
            size: args.size.unwrap_or(64),
            binary: args.binary,
        },
    };
    let pairing = match (&args.match_filter, args.any_reply) {
        (Some(f), _) => {
            let jq = crate::script::matcher::Jq::compile(f)
                .map_err(|e| Error::usage(format!("--match '{}': {e}", f.escape_debug())))?;
            // The key must be in what we send, or no reply could ever be paired.
            let first = Generator::new(&payload, 1).message(1);
            if crate::commands::bench::payload::body(&first)
                .and_then(|b| pairing::key(&jq, b))
                .is_none()
            {
                return Err(Error::usage_hint(
                    format!(
                        "--match '{}' finds nothing in the first message sent",
                        f.escape_debug()
                    ),
                    "send JSON that holds the key, e.g. -x '{\"id\":${seq}}' --match .id",
                ));
            }
            Pairing::Match(std::sync::Arc::new(jq))
        }
        (None, true) => Pairing::Any,
        (None, false) => Pairing::Echo,
    };
    Ok(Mode::Run(Box::new(Bench {
        target,
        handshake,
        session: session(args),
        lens,
        max_message_size: args.conn.max_message_size,
        connections: args.connections,
        ramp: args.ramp,
        messages: args.messages,
        duration: args.duration.unwrap_or(std::time::Duration::from_secs(10)),
        rate: args.rate,
        payload,
        pairing,
        reply_timeout: args.reply_timeout,
        threads: threads(args),
        h2_connections: args.h2_connections,
        json: args.json,
        hist: args.hist.clone(),
    })))
}

/// `--threads`, or the number of cores.
fn threads(args: &BenchArgs) -> usize {
    args.threads.map(usize::from).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(std::num::NonZeroUsize::get)
            .unwrap_or(1)
    })
}

/// `--reconnect` and `--dump` belong to one watched connection, not to a load.
fn refuse_live_flags(args: &BenchArgs) -> Result<()> {
    let live = &args.live;
    let refused = if live.reconnect.is_some() {
        Some("--reconnect")
    } else if live.dump || live.dump_file.is_some() {
        Some("--dump")
    } else if live.dump_h2 {
        Some("--dump-h2")
    } else {
        None
    };
    match refused {
        Some(flag) => Err(Error::usage_hint(
            format!("{flag} is not for bench"),
            "bench counts closed connections in its report; watch one with `wscope URL --dump`",
        )),
        None => Ok(()),
    }
}

/// A load connection's session: the engine as connect runs it, minus what watches one
/// connection (no script, no idle wait): the end of the load's input closes it at once with
/// 1000, and Ctrl-C reaches it through bench's own stop, not the session's.
fn session(args: &BenchArgs) -> crate::session::Options {
    use crate::session::{Options, Role, Wait};
    Options {
        role: Role::Client,
        shutdown: crate::shutdown::Shutdown::none(),
        count_unsent: false,
        wait: Wait::Secs(std::time::Duration::ZERO),
        idle: None,
        script: crate::script::Options::default(),
        once: false,
        count: None,
        close_code: 1000,
        close_reason: String::new(),
        echo: false,
        ping_interval: args.live.ping_interval,
        ping_timeout: args.live.ping_timeout,
        max_message_size: args.conn.max_message_size,
        dump: None,
        wire: None,
        deflate: None,
        raw: None,
        lens: None,
    }
}
