//! What the upgrade request says and how it is made, checked ([`crate::config`] builds it from
//! the command line): headers, subprotocols, credentials, the permessage-deflate offer, the proxy
//! and TLS settings, timeouts and redirects.

use std::time::Duration;

use crate::deflate::Offer;
use crate::dial::{ProxyChoice, TlsSettings};
use crate::http::Headers;

#[derive(Debug, Clone)]
pub struct Options {
    /// `-H`, checked; each replaces a default header of the same name.
    pub headers: Headers,
    /// `-s`, in order; each a token.
    pub subprotocols: Vec<String>,
    pub require_subprotocol: bool,
    /// `-o`, free of control characters.
    pub origin: Option<String>,
    /// `--auth user:pass` (URL userinfo is the target's).
    pub auth: Option<(String, String)>,
    pub protocol_version: u16,
    /// The whole upgrade (DNS, TCP, proxy, TLS, redirects) must be done within this.
    pub connect_timeout: Duration,
    /// `-L`: follow 3xx redirects, at most `max_redirects`.
    pub follow_redirects: bool,
    pub max_redirects: u32,
    pub proxy: ProxyChoice,
    pub tls: TlsSettings,
    /// The permessage-deflate offer; None with `--no-deflate`.
    pub deflate: Option<Offer>,
    /// `--http2` / `--http2-only`: RFC 8441 first.
    pub http2: Http2,
    /// A shared HTTP/2 connection to open the WebSocket on (`bench --h2-connections`).
    pub h2_slot: Option<std::sync::Arc<crate::dial::h2mux::H2Slot>>,
    /// `--dump-h2`: keep the HTTP/2 frame headers crossing the connection for the dump.
    pub dump_h2: bool,
}

/// Whether to open the WebSocket as an HTTP/2 extended CONNECT stream (RFC 8441).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Http2 {
    /// HTTP/1.1 Upgrade only (the default).
    #[default]
    Off,
    /// `--http2`: HTTP/2 when the server can, else HTTP/1.1 with a note saying why.
    Prefer,
    /// `--http2-only`: HTTP/2 or fail (exit 5) with the reason.
    Only,
}

impl Options {
    /// Request headers that carry credentials.
    fn is_credential_header(name: &str) -> bool {
        ["authorization", "cookie", "proxy-authorization"]
            .iter()
            .any(|c| name.eq_ignore_ascii_case(c))
    }

    pub fn has_credentials(&self) -> bool {
        self.auth.is_some()
            || self
                .headers
                .iter()
                .any(|(n, _)| Self::is_credential_header(n))
    }

    /// The same options without credentials: for a server other than the one the user named.
    pub fn without_credentials(&self) -> Options {
        let mut o = self.clone();
        o.auth = None;
        o.headers.retain_names(|n| !Self::is_credential_header(n));
        o
    }
}
