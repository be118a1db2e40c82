//! The proxy hop of a dial: reads `--proxy` or the `*_PROXY` environment
//! variables (curl's conventions, including `NO_PROXY`), and opens a raw TCP
//! tunnel to the WebSocket server through an HTTP CONNECT or SOCKS5 proxy.
//! TLS (for wss) and the WebSocket handshake run over the returned stream as if
//! it were a direct connection; what the proxy said is kept in a [`ProxyTrace`]
//! for `-v`, and every failure carries a hint naming the flag that fixes it.

/// Port used when a `socks5://`/`socks5h://` URL names none (the SOCKS convention, as curl).
pub const DEFAULT_SOCKS_PORT: u16 = 1080;
/// Port used when an `http://` proxy URL names none. curl assumes 1080 for every
/// scheme, but HTTP proxies almost never listen there; 3128 (Squid's port) is the
/// most common default in the wild, so a bare `--proxy myproxy` is likelier to work.
pub const DEFAULT_HTTP_PORT: u16 = 3128;

#[derive(Debug, Clone, PartialEq)]
pub enum ProxyKind {
    HttpConnect,
    /// `remote_dns`: socks5h, where the proxy resolves the target name.
    Socks5 {
        remote_dns: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Proxy {
    pub kind: ProxyKind,
    /// Without brackets, even for IPv6 literals, so it can be handed to connect().
    pub host: String,
    pub port: u16,
    /// Percent-decoded user and password; the password may be empty for HTTP.
    pub auth: Option<(String, String)>,
    /// For display: scheme, user, host and the effective port, with the password as `***`.
    pub url: String,
}

/// What happened on the proxy hop, for the -v report.
#[derive(Debug, Clone, Default)]
pub struct ProxyTrace {
    /// The CONNECT request head as sent (credentials shown as `***`), or a SOCKS5 summary line.
    pub request: String,
    /// The proxy's response head as received, or a SOCKS5 summary line.
    pub response: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("invalid --proxy URL '{url}': {why}")]
    BadUrl { url: String, why: String },
    #[error("cannot reach proxy {proxy}: {source}")]
    Connect {
        proxy: String,
        #[source]
        source: std::io::Error,
    },
    #[error("proxy {proxy} refused the tunnel: {status_line}")]
    Refused {
        proxy: String,
        status: u16,
        status_line: String,
        headers: String,
        /// The CONNECT request as shown in the report (credentials as `***`).
        request: String,
    },
    #[error("SOCKS5 proxy {proxy}: {message}")]
    Socks {
        proxy: String,
        failure: SocksFailure,
        message: String,
    },
    #[error("proxy {proxy} sent a malformed answer: {why}")]
    Malformed { proxy: String, why: String },
}

/// What went wrong in a SOCKS5 exchange: what the hint is chosen by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocksFailure {
    WantsAuth,
    BadAuth,
    NotSocks,
    /// socks5:// resolves the target name here, and that failed.
    LocalDns,
    /// The proxy could not reach the target.
    Target,
    Other,
}

// The words of ProxyError::Socks messages.
const SOCKS_WANTS_AUTH: &str = "the proxy wants a username and password";
const SOCKS_BAD_AUTH: &str = "the proxy rejected the username/password";
const SOCKS_NOT_SOCKS: &str = "the proxy does not speak SOCKS5";
const SOCKS_LOCAL_DNS: &str = "cannot resolve the target locally";
const SOCKS_TARGET: &str = "the proxy could not connect to";

impl ProxyError {
    /// One line naming what to change on the command line, when we can tell.
    pub fn hint(&self) -> Option<String> {
        let go_direct = "or go direct with --no-proxy";
        Some(match self {
            ProxyError::BadUrl { .. } => format!(
                "write it as http://[user:pass@]host:port, socks5://[user:pass@]host:port or \
                 socks5h://[user:pass@]host:port (in --proxy or the *_PROXY environment variable), {go_direct}"
            ),
            ProxyError::Connect { .. } => format!(
                "check the host and port in --proxy (or in the HTTPS_PROXY/HTTP_PROXY/ALL_PROXY \
                 environment variables), {go_direct}"
            ),
            ProxyError::Refused {
                proxy,
                status,
                headers,
                ..
            } => match status {
                407 if !asks_for_basic(headers) => format!(
                    "the proxy wants {} authentication; wscope only does Basic \
                     (--proxy http://user:pass@host:port): use another --proxy, {go_direct}",
                    auth_schemes(headers).join("/")
                ),
                407 if url_has_credentials(proxy) => {
                    "the proxy rejected the credentials: check the user and password in \
                     --proxy http://user:pass@host:port"
                        .to_string()
                }
                407 => "the proxy wants credentials: put them in --proxy http://user:pass@host:port"
                    .to_string(),
                403 => format!(
                    "the proxy forbids a tunnel to this target (many only allow port 443): \
                     use another --proxy, {go_direct}"
                ),
                400 | 405 | 501 => {
                    "this proxy does not do CONNECT tunnels: point --proxy at one that does, \
                     or at a socks5:// proxy"
                        .to_string()
                }
                502..=504 => format!(
                    "the proxy could not reach the target: check the target URL, {go_direct}"
                ),
                _ => format!("check --proxy, {go_direct}"),
            },
            ProxyError::Socks { failure, .. } => match failure {
                SocksFailure::WantsAuth => {
                    "the proxy wants credentials: put them in --proxy socks5://user:pass@host:port"
                        .to_string()
                }
                SocksFailure::BadAuth => {
                    "check the user and password in --proxy socks5://user:pass@host:port".to_string()
                }
                SocksFailure::NotSocks => {
                    "if it is an HTTP proxy, write --proxy http://host:port".to_string()
                }
                SocksFailure::LocalDns => {
                    "use --proxy socks5h://… to let the proxy resolve the name".to_string()
                }
                SocksFailure::Target => format!("check the target URL, {go_direct}"),
                SocksFailure::Other => format!("check --proxy, {go_direct}"),
            },
            ProxyError::Malformed { .. } => format!(
                "is --proxy pointing at a real proxy? (a SOCKS proxy needs socks5://), {go_direct}"
            ),
        })
    }
}

/// What a proxy URL's scheme asks for; the schemes we do not do, said as such.
fn proxy_kind(scheme: &str) -> Result<ProxyKind, String> {
    Ok(match scheme {
        "http" => ProxyKind::HttpConnect,
        "socks5" => ProxyKind::Socks5 { remote_dns: false },
        "socks5h" => ProxyKind::Socks5 { remote_dns: true },
        "https" => {
            return Err(
                "TLS to the proxy (https://) is not supported; use http:// for a CONNECT proxy"
                    .into(),
            )
        }
        "socks" | "socks4" | "socks4a" => {
            return Err("SOCKS4 is not supported; use socks5:// or socks5h://".into())
        }
        other => {
            return Err(format!(
                "unsupported scheme '{other}'; use http://, socks5:// or socks5h://"
            ))
        }
    })
}

/// The user and password of a proxy URL, percent-decoded and checked for what the protocol allows.
fn credentials(parsed: &url::Url, kind: &ProxyKind) -> Result<Option<(String, String)>, String> {
    if parsed.username().is_empty() && parsed.password().is_none() {
        return Ok(None);
    }
    let user = percent_decode(parsed.username())?;
    let pass = percent_decode(parsed.password().unwrap_or(""))?;
    if let ProxyKind::Socks5 { .. } = kind {
        // RFC 1929 fields are 1..=255 bytes (and tokio-socks enforces it).
        if user.is_empty() || user.len() > 255 || pass.is_empty() || pass.len() > 255 {
            return Err("SOCKS5 needs both a user name and a password, each 1 to 255 bytes".into());
        }
    } else if user.contains(':') {
        return Err("the user name cannot contain ':' in Basic auth".into());
    }
    Ok(Some((user, pass)))
}

/// The schemes a 407 offers in its `Proxy-Authenticate` headers (`Basic`, `NTLM`, ...).
fn auth_schemes(headers: &str) -> Vec<String> {
    headers
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(name, _)| name.trim().eq_ignore_ascii_case("proxy-authenticate"))
        .filter_map(|(_, value)| value.split_whitespace().next())
        .map(|scheme| scheme.trim_end_matches(',').to_string())
        .collect()
}

/// Whether Basic would help; a 407 that names no scheme at all gets the benefit of the doubt.
fn asks_for_basic(headers: &str) -> bool {
    let schemes = auth_schemes(headers);
    schemes.is_empty() || schemes.iter().any(|s| s.eq_ignore_ascii_case("basic"))
}

impl From<ProxyError> for crate::error::Error {
    fn from(e: ProxyError) -> Self {
        crate::error::Error::Proxy {
            hint: e.hint(),
            message: e.to_string(),
        }
    }
}

impl ProxyError {
    /// What was said on a refused CONNECT, so -v can show the proxy's answer in full.
    pub fn refused_trace(&self) -> Option<ProxyTrace> {
        match self {
            ProxyError::Refused {
                status_line,
                headers,
                request,
                ..
            } => Some(ProxyTrace {
                request: request.clone(),
                response: format!("{status_line}\r\n{headers}"),
            }),
            _ => None,
        }
    }
}

fn url_has_credentials(display_url: &str) -> bool {
    authority_of(display_url).contains('@')
}

impl Proxy {
    /// Parse a proxy URL; a missing scheme means `http://`, as in curl.
    pub fn parse(url: &str) -> Result<Proxy, ProxyError> {
        let raw = url.trim();
        let bad = |why: &str| ProxyError::BadUrl {
            url: redact_raw(raw),
            why: why.to_string(),
        };
        if raw.is_empty() {
            return Err(bad("it is empty"));
        }
        // "host:port" would otherwise parse as scheme "host".
        let full = if raw.contains("://") {
            raw.to_string()
        } else {
            format!("http://{raw}")
        };
        let parsed = url::Url::parse(&full).map_err(|e| bad(&e.to_string()))?;
        let scheme = parsed.scheme().to_string();
        let kind = proxy_kind(&scheme).map_err(|why| bad(&why))?;

        let host = match parsed.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => {
                let d = percent_decode(d).map_err(|why| bad(&why))?;
                if d.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    return Err(bad("the host contains spaces or control characters"));
                }
                d.to_ascii_lowercase()
            }
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err(bad("it names no host")),
        };

        // The url crate hides an explicit port equal to the scheme's default
        // (http://h:80 reports no port), so look at the text to tell "none" from ":80".
        let port = match parsed.port() {
            Some(p) => p,
            None if kind == ProxyKind::HttpConnect && has_explicit_port(&full) => 80,
            None if kind == ProxyKind::HttpConnect => DEFAULT_HTTP_PORT,
            None => DEFAULT_SOCKS_PORT,
        };
        if port == 0 {
            return Err(bad("port 0 is not a valid proxy port"));
        }

        let auth = credentials(&parsed, &kind).map_err(|why| bad(&why))?;

        let host_shown = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.clone()
        };
        let userinfo = match &auth {
            None => String::new(),
            Some((_, pass)) if pass.is_empty() => format!("{}@", parsed.username()),
            Some(_) => format!("{}:***@", parsed.username()),
        };
        let url = format!("{scheme}://{userinfo}{host_shown}:{port}");
        Ok(Proxy {
            kind,
            host,
            port,
            auth,
            url,
        })
    }
}

/// The part between `://` and the path; the whole string when there is no scheme.
fn authority_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    &rest[..end]
}

fn has_explicit_port(url: &str) -> bool {
    let authority = authority_of(url);
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let after_host = match hostport.strip_prefix('[') {
        Some(v6) => v6.split_once(']').map_or("", |(_, rest)| rest),
        None => hostport.find(':').map_or("", |i| &hostport[i..]),
    };
    after_host.len() > 1 && after_host.starts_with(':')
}

/// Hide the password of a URL we could not parse, since error messages get logged.
fn redact_raw(raw: &str) -> String {
    let authority = authority_of(raw);
    let Some((userinfo, _)) = authority.rsplit_once('@') else {
        return raw.to_string();
    };
    let Some((user, _)) = userinfo.split_once(':') else {
        return raw.to_string();
    };
    let start = authority.as_ptr() as usize - raw.as_ptr() as usize;
    let pass_start = start + user.len() + 1;
    let pass_end = start + userinfo.len();
    format!("{}***{}", &raw[..pass_start], &raw[pass_end..])
}

fn percent_decode(s: &str) -> Result<String, String> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|text| text.into_owned())
        .map_err(|_| "percent-encoded text is not UTF-8".to_string())
}

mod env;
mod tunnel;

pub use env::{from_env, no_proxy_matches};
pub use tunnel::{socks5_first_reachable, tunnel};

#[cfg(test)]
mod tests {
    use super::*;

    fn p(url: &str) -> Proxy {
        match Proxy::parse(url) {
            Ok(p) => p,
            Err(e) => panic!("{url}: {e}"),
        }
    }

    fn bad(url: &str) -> String {
        match Proxy::parse(url) {
            Ok(p) => panic!("{url} parsed as {p:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn parse_http_forms() {
        let x = p("http://proxy.example:8080");
        assert_eq!(x.kind, ProxyKind::HttpConnect);
        assert_eq!((x.host.as_str(), x.port), ("proxy.example", 8080));
        assert_eq!(x.auth, None);
        assert_eq!(x.url, "http://proxy.example:8080");

        let x = p("proxy.example:8080");
        assert_eq!((x.kind, x.port), (ProxyKind::HttpConnect, 8080));
        assert_eq!(p("proxy.example").port, DEFAULT_HTTP_PORT);
        assert_eq!(p("http://proxy.example").port, DEFAULT_HTTP_PORT);
        assert_eq!(p("http://proxy.example/").port, DEFAULT_HTTP_PORT);
        assert_eq!(p("http://proxy.example:80").port, 80);
        assert_eq!(p("HTTP://Proxy.Example:81/").host, "proxy.example");
        assert_eq!(p("  http://h:1  ").port, 1);
    }

    #[test]
    fn parse_socks_forms() {
        let x = p("socks5://127.0.0.1");
        assert_eq!(x.kind, ProxyKind::Socks5 { remote_dns: false });
        assert_eq!(x.port, DEFAULT_SOCKS_PORT);
        assert_eq!(x.url, "socks5://127.0.0.1:1080");
        let x = p("socks5h://Tor.Local:9050");
        assert_eq!(x.kind, ProxyKind::Socks5 { remote_dns: true });
        assert_eq!((x.host.as_str(), x.port), ("tor.local", 9050));
        assert_eq!(
            p("SOCKS5H://h").kind,
            ProxyKind::Socks5 { remote_dns: true }
        );
    }

    #[test]
    fn parse_ipv6_hosts_are_unbracketed_but_displayed_bracketed() {
        let x = p("http://[::1]:3128");
        assert_eq!(x.host, "::1");
        assert_eq!(x.url, "http://[::1]:3128");
        let x = p("socks5://[::1]");
        assert_eq!((x.host.as_str(), x.port), ("::1", 1080));
        assert_eq!(p("[::1]:8080").port, 8080);
        assert_eq!(p("http://[::1]:80").port, 80);
        assert_eq!(p("http://[::1]").port, DEFAULT_HTTP_PORT);
    }

    #[test]
    fn parse_credentials_are_decoded_and_hidden() {
        let x = p("http://al%40ice:p%3Ass@h:1");
        assert_eq!(x.auth, Some(("al@ice".into(), "p:ss".into())));
        assert_eq!(x.url, "http://al%40ice:***@h:1");
        let x = p("http://user@h:1");
        assert_eq!(x.auth, Some(("user".into(), String::new())));
        assert_eq!(x.url, "http://user@h:1");
        let x = p("socks5h://u:p@h");
        assert_eq!(x.auth, Some(("u".into(), "p".into())));
        assert_eq!(x.url, "socks5h://u:***@h:1080");
        assert!(!format!("{x:?}").is_empty());
    }

    #[test]
    fn parse_rejections() {
        assert!(bad("").contains("empty"));
        assert!(bad("https://h:1").contains("not supported"));
        assert!(bad("socks4://h").contains("SOCKS4"));
        assert!(bad("socks://h").contains("SOCKS4"));
        assert!(bad("ftp://h").contains("unsupported scheme 'ftp'"));
        assert!(bad("http://h:0").contains("port 0"));
        assert!(bad("http://h:99999").starts_with("invalid --proxy URL"));
        assert!(bad("socks5://:1080").starts_with("invalid --proxy URL"));
        assert!(bad("socks5://").contains("no host"));
        assert!(bad("socks5://user@h").contains("SOCKS5 needs"));
        assert!(bad("socks5://:pw@h").contains("SOCKS5 needs"));
        assert!(bad("http://").starts_with("invalid --proxy URL"));
    }

    #[test]
    fn bad_url_errors_do_not_leak_passwords() {
        let msg = bad("ftp://bob:hunter2@h:1");
        assert!(!msg.contains("hunter2"), "{msg}");
        assert!(msg.contains("bob:***@h:1"), "{msg}");
        assert_eq!(redact_raw("http://h:1"), "http://h:1");
        assert_eq!(redact_raw("u:pw@h:1"), "u:***@h:1");
        assert_eq!(redact_raw("http://u@h"), "http://u@h");
    }

    #[test]
    fn explicit_port_detection() {
        assert!(has_explicit_port("http://h:80"));
        assert!(has_explicit_port("http://u:p@h:80/x"));
        assert!(has_explicit_port("http://[::1]:80"));
        assert!(!has_explicit_port("http://h"));
        assert!(!has_explicit_port("http://h:"));
        assert!(!has_explicit_port("http://u:p@h/x:80"));
        assert!(!has_explicit_port("http://[::1]"));
    }

    fn refused(proxy: &str, status: u16) -> ProxyError {
        ProxyError::Refused {
            proxy: proxy.into(),
            status,
            status_line: format!("HTTP/1.1 {status} X"),
            headers: String::new(),
            request: String::new(),
        }
    }

    #[test]
    fn hints_name_the_fix() {
        let h = |e: ProxyError| e.hint().unwrap_or_default();
        assert_eq!(
            h(refused("http://h:1", 407)),
            "the proxy wants credentials: put them in --proxy http://user:pass@host:port"
        );
        assert!(h(refused("http://u:***@h:1", 407)).contains("rejected the credentials"));
        assert!(h(refused("http://h:1", 403)).contains("--no-proxy"));
        assert!(h(refused("http://h:1", 502)).contains("could not reach the target"));
        assert!(h(refused("http://h:1", 405)).contains("CONNECT"));
        assert!(h(refused("http://h:1", 418)).contains("--proxy"));
        let socks = |failure| ProxyError::Socks {
            proxy: "socks5://h:1".into(),
            failure,
            message: "m".into(),
        };
        assert!(h(socks(SocksFailure::WantsAuth)).contains("socks5://user:pass@"));
        assert!(h(socks(SocksFailure::BadAuth)).contains("check the user"));
        assert!(h(socks(SocksFailure::NotSocks)).contains("http://"));
        assert!(h(socks(SocksFailure::LocalDns)).contains("socks5h://"));
        let connect = ProxyError::Connect {
            proxy: "http://h:1".into(),
            source: std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
        };
        assert!(connect
            .to_string()
            .starts_with("cannot reach proxy http://h:1: "));
        assert!(h(connect).contains("--proxy"));
    }

    #[test]
    fn a_407_for_another_scheme_says_only_basic_is_done() {
        let with = |headers: &str| ProxyError::Refused {
            proxy: "http://h:1".into(),
            status: 407,
            status_line: "HTTP/1.1 407 X".into(),
            headers: headers.into(),
            request: String::new(),
        };
        let h = with("Proxy-Authenticate: NTLM\r\nproxy-authenticate: Negotiate\r\n")
            .hint()
            .unwrap_or_default();
        assert!(h.contains("wants NTLM/Negotiate authentication"), "{h}");
        assert!(h.contains("only does Basic"), "{h}");
        let h = with("Proxy-Authenticate: Negotiate\r\nProxy-Authenticate: Basic realm=\"x\"\r\n")
            .hint()
            .unwrap_or_default();
        assert!(h.contains("put them in --proxy"), "{h}");
    }

    #[test]
    fn refused_displays_the_status_line() {
        let e = refused("http://h:1", 407);
        assert_eq!(
            e.to_string(),
            "proxy http://h:1 refused the tunnel: HTTP/1.1 407 X"
        );
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b").as_deref(), Ok("a b"));
        assert_eq!(percent_decode("100%").as_deref(), Ok("100%"));
        assert_eq!(percent_decode("%zz").as_deref(), Ok("%zz"));
        assert!(percent_decode("%ff").is_err());
    }
}
