//! `wscope proxy [ADDR:]PORT URL`, checked: where to listen, the upstream URL and the upgrade
//! options of the upstream hop (every connection flag of connect applies there), the accept
//! policy of the client hop, and the jq maps compiled before anything is bound.

use std::io::IsTerminal;
use std::sync::Arc;

use super::{lens, parse_addr, reads_stdin, session, upgrade, Output};
use crate::cli::ProxyArgs;
use crate::config::Proxy;
use crate::error::{Error, Result};
use crate::handshake::accept::Policy;
use crate::printer::Style;
use crate::script::matcher::Jq;

pub fn proxy(a: &ProxyArgs) -> (Output, Result<Proxy>) {
    let reads_stdin = reads_stdin();
    // A REPL when we own a terminal; lines from a pipe otherwise (as listen).
    let interactive = std::io::stdin().is_terminal()
        && std::io::stdout().is_terminal()
        && !a.output.json
        && reads_stdin;
    let style = Style {
        show_ping_pong: true,
        verbose: a.conn.verbose,
        ..Style::default()
    };
    let output = super::output::streaming(&a.output, style, interactive);
    let checked = (|| {
        let addr = parse_addr(&a.addr)?;
        // Checked now, dialed once per client.
        crate::target::Target::parse(&a.url)?;
        let upgrade = upgrade::handshake(&a.conn)?;
        Ok(Proxy {
            addr,
            url: a.url.clone(),
            fixed_path: a.fixed_path,
            policy: Policy {
                max_clients: a.max_clients,
                no_deflate: a.conn.no_deflate,
                ..Policy::default()
            },
            upgrade,
            tls: a.tls_cert.clone().zip(a.tls_key.clone()),
            session: crate::session::Options {
                lens: lens::passive_lens(a.lens.as_deref())?,
                ..session::server(false, a.conn.max_message_size)
            },
            verbose: a.conn.verbose,
            dump: a.dump,
            dump_limit: a.dump_limit,
            map_client: map(a.map_client.as_deref(), "--map-client")?,
            map_server: map(a.map_server.as_deref(), "--map-server")?,
            history: !a.no_history,
            interactive,
            reads_stdin,
            output: output.clone(),
        })
    })();
    (output, checked)
}

/// A `--map-*` filter, compiled (a bad one is a usage error naming the flag).
fn map(code: Option<&str>, flag: &str) -> Result<Option<Arc<Jq>>> {
    let Some(code) = code else { return Ok(None) };
    Jq::compile(code).map(|jq| Some(Arc::new(jq))).map_err(|e| {
        Error::usage_hint(
            format!("{flag} '{}': {e}", code.escape_debug()),
            format!("{flag} takes a jq filter, e.g. {flag} '.n += 1' (`empty` drops the message)"),
        )
    })
}
