//! TLS for wss:// with native-tls: the only module that touches it. Builds the connector from
//! `--ca`, `--cert/--key` and `-k` (only when a wss URL asks for TLS, so ws:// never pays for loading
//! the system roots), runs the handshake, explains failures in terms of the flags that fix them, and
//! describes the session (version, peer certificate) for the report.
//!
//! Trust roots are read once and only where needed ([`pin_trust_roots`]): none with `-k`, only the
//! file with `--ca` (it replaces the system roots, as curl's `--cacert` does), else the system's.
//! Left alone, native-tls on OpenSSL reads the whole system bundle twice per connector (OpenSSL's
//! default paths, then openssl-probe's), ~45 ms each, even with `-k`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::Serialize;
use tokio::net::TcpStream;

use super::tls_sniff::HelloSniffer;
use super::BoxStream;
use crate::error::{Error, Result};
use crate::pem;

/// The TLS flags, checked: `--ca`, `--cert` with `--key`, `-k`. The files are read when a wss hop
/// first needs them ([`TlsConfig::new`]), so a ws:// connection never pays for TLS.
#[derive(Debug, Clone, Default)]
pub struct TlsSettings {
    pub ca: Option<PathBuf>,
    /// The client identity: certificate (chain) and private key.
    pub identity: Option<(PathBuf, PathBuf)>,
    pub insecure: bool,
    /// `-v`: a failure quotes OpenSSL's whole text (error code, function, source file).
    pub verbose: bool,
}

pub struct TlsConfig {
    connector: tokio_native_tls::TlsConnector,
    /// The same, offering ALPN h2 then http/1.1 (`--http2`); dropped after a fall back to HTTP/1.1.
    connector_h2: Option<tokio_native_tls::TlsConnector>,
    pub insecure: bool,
    /// What explains a failure in terms of what the user gave.
    given: Given,
    /// The roots added to the connector, and whether they are the only ones: the connection that
    /// learns a mismatched certificate's names trusts exactly the same.
    roots: Vec<native_tls::Certificate>,
    only_roots: bool,
}

/// Where the system's trust roots come from, decided before the runtime starts (not set: the
/// platform's defaults, untouched; so on platforms without OpenSSL).
#[derive(Debug, Clone, PartialEq, Eq)]
enum System {
    /// A hashed certificate directory (`c_rehash`), which OpenSSL reads lazily: only the
    /// certificates a chain asks for. No bundle is read.
    HashedDir,
    /// This PEM bundle, read once by us (no hashed directory, or `SSL_CERT_FILE` names it).
    Bundle(PathBuf),
}

static SYSTEM: OnceLock<System> = OnceLock::new();

/// Decide the trust roots for this process and stop OpenSSL from reading the system bundle by
/// itself (twice). It sets `SSL_CERT_FILE`, so it must run before the process starts a second
/// thread: `main_entry` calls it right after parsing the command line.
pub fn pin_trust_roots(args: &TlsSettings) {
    #[cfg(all(unix, not(target_vendor = "apple")))]
    {
        let system = if args.insecure || args.ca.is_some() {
            // -k needs no roots; --ca brings its own. Nothing of the system's is read.
            System::HashedDir
        } else {
            system_roots()
        };
        // Neither OpenSSL's default paths nor native-tls's probe may read a bundle now: an empty
        // file that exists (openssl-probe skips paths that do not). Hashed directories stay, lazy.
        std::env::set_var("SSL_CERT_FILE", "/dev/null");
        let _ = SYSTEM.set(system);
    }
    #[cfg(not(all(unix, not(target_vendor = "apple"))))]
    let _ = args;
}

/// The system roots as native-tls would find them, in the cheapest form that holds all of them.
#[cfg(all(unix, not(target_vendor = "apple")))]
fn system_roots() -> System {
    let found = openssl_probe::probe();
    // A bundle the user named in SSL_CERT_FILE is what they want trusted: read it (once).
    if std::env::var_os("SSL_CERT_FILE").is_some_and(|v| !v.is_empty()) {
        if let Some(file) = found.cert_file {
            return System::Bundle(file);
        }
    }
    if found.cert_dir.iter().any(|d| is_hashed_dir(d)) {
        return System::HashedDir;
    }
    match found.cert_file {
        Some(file) => System::Bundle(file),
        None => System::HashedDir,
    }
}

/// A directory with `c_rehash` links (`5ad8a5d6.0`): OpenSSL looks issuers up in it by name.
#[cfg(all(unix, not(target_vendor = "apple")))]
fn is_hashed_dir(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries
        .flatten()
        .any(|e| is_hash_name(&e.file_name().to_string_lossy()))
}

/// `8 hex digits . digits`, the name `openssl rehash` gives a certificate.
fn is_hash_name(name: &str) -> bool {
    match name.split_once('.') {
        Some((hash, n)) => {
            hash.len() == 8
                && hash.bytes().all(|b| b.is_ascii_hexdigit())
                && !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// The TLS flags the user gave, as failures need to name them.
#[derive(Debug, Clone, Default)]
struct Given {
    /// `--ca FILE` and how many certificates it held.
    ca: Option<(PathBuf, usize)>,
    /// Its PEM text, for the connection that learns a mismatched certificate's names.
    ca_pem: Option<Vec<u8>>,
    /// `-v`: quote OpenSSL's whole text, not only its reason.
    verbose: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct TlsInfo {
    /// "TLSv1.3", read from the ServerHello (native-tls has no getter for it).
    pub version: Option<String>,
    pub subject: Option<String>,
    pub issuer: Option<String>,
    pub not_before: Option<String>,
    pub not_after: Option<String>,
    /// `not_after` as a Unix time, for the days left (probe's tls check).
    #[serde(skip)]
    pub not_after_unix: Option<i64>,
    /// The names the certificate is valid for (its subjectAltName DNS names and IP addresses).
    pub names: Vec<String>,
    /// Certificate and host name checks were skipped (-k).
    pub insecure: bool,
    /// The protocol ALPN chose (only asked for with `--http2`).
    pub alpn: Option<String>,
}

impl TlsConfig {
    /// Offer only HTTP/1.1 from now on (after HTTP/2 was tried and fell back).
    pub fn without_h2(&mut self) {
        self.connector_h2 = None;
    }

    pub fn new(args: &TlsSettings, h2: bool) -> Result<TlsConfig> {
        let mut b = native_tls::TlsConnector::builder();
        let mut given = Given {
            verbose: args.verbose,
            ..Given::default()
        };
        let mut roots = Vec::new();
        // -k verifies nothing, --ca replaces the system roots: neither wants those.
        let only_roots = args.insecure || args.ca.is_some();
        if let Some(ca) = &args.ca {
            let pem = pem::read(ca, "--ca")?;
            // A CA file is often a bundle: every certificate in it is trusted, not just the first.
            let certs = pem::certificates(&pem, ca, "--ca")?;
            given.ca = Some((ca.clone(), certs.len()));
            given.ca_pem = Some(pem.clone());
            roots = certs;
        } else if let (false, Some(System::Bundle(file))) = (only_roots, SYSTEM.get()) {
            // What OpenSSL would have read itself; an unreadable bundle trusts nothing, as there.
            if let Ok(pem) = std::fs::read(file) {
                roots = native_tls::Certificate::stack_from_pem(&pem).unwrap_or_default();
            }
        }
        b.disable_built_in_roots(only_roots);
        for cert in &roots {
            b.add_root_certificate(cert.clone());
        }
        if let Some((cert, key)) = &args.identity {
            let id = pem::IdentityFiles {
                cert,
                cert_flag: "--cert",
                key,
                key_flag: "--key",
            }
            .load()?;
            b.identity(id);
        }
        if args.insecure {
            b.danger_accept_invalid_certs(true);
            b.danger_accept_invalid_hostnames(true);
        }
        let connector = b.build().map_err(|e| match &args.identity {
            // OpenSSL checks the pair only here, when it is put into the context.
            Some((cert, key)) if e.to_string().contains("key values mismatch") => {
                Error::usage_hint(
                    format!(
                        "--key '{}' does not match --cert '{}': it is not that certificate's private key",
                        key.display(),
                        cert.display()
                    ),
                    "give the private key the certificate was issued for",
                )
            }
            _ => Error::Runtime(format!("cannot set up TLS: {e}")),
        })?;
        let connector_h2 = if h2 {
            b.request_alpns(&["h2", "http/1.1"]);
            let c = b
                .build()
                .map_err(|e| Error::Runtime(format!("cannot set up TLS with ALPN h2: {e}")))?;
            Some(c.into())
        } else {
            None
        };
        Ok(TlsConfig {
            connector: connector.into(),
            connector_h2,
            insecure: args.insecure,
            given,
            roots,
            only_roots,
        })
    }
}

pub async fn handshake(
    cfg: &TlsConfig,
    host: &str,
    tcp: TcpStream,
) -> Result<(BoxStream, TlsInfo)> {
    let (sniffer, version) = HelloSniffer::new(tcp);
    let tls = cfg
        .connector_h2
        .as_ref()
        .unwrap_or(&cfg.connector)
        .connect(host, sniffer)
        .await
        .map_err(|e| explain(host, &e.to_string(), &cfg.given))?;
    let alpn = tls.get_ref().negotiated_alpn().ok().flatten();
    let mut info = TlsInfo {
        version: version.get().cloned(),
        alpn: alpn.map(|a| String::from_utf8_lossy(&a).into_owned()),
        insecure: cfg.insecure,
        ..TlsInfo::default()
    };
    if let Ok(Some(cert)) = tls.get_ref().peer_certificate() {
        if let Ok(der) = cert.to_der() {
            describe_certificate(&der, &mut info);
        }
    }
    Ok((Box::new(tls), info))
}

/// The certificate does not name the host (the error [`explain`] made).
pub fn is_name_mismatch(e: &Error) -> bool {
    matches!(e, Error::Tls { message, .. } if message.contains("(hostname mismatch)"))
}

/// The names of the certificate a server presents, learnt on a second connection that checks
/// the chain but not the name; nothing is sent on it. Empty when that fails too.
pub async fn peer_names(cfg: &TlsConfig, host: &str, tcp: TcpStream) -> Vec<String> {
    let mut b = native_tls::TlsConnector::builder();
    b.disable_built_in_roots(cfg.only_roots);
    for cert in &cfg.roots {
        b.add_root_certificate(cert.clone());
    }
    b.danger_accept_invalid_hostnames(true);
    let Ok(connector) = b.build() else {
        return Vec::new();
    };
    let connector = tokio_native_tls::TlsConnector::from(connector);
    let Ok(tls) = connector.connect(host, tcp).await else {
        return Vec::new();
    };
    let mut info = TlsInfo::default();
    if let Ok(Some(cert)) = tls.get_ref().peer_certificate() {
        if let Ok(der) = cert.to_der() {
            describe_certificate(&der, &mut info);
        }
    }
    info.names
}

/// A TLS alert that arrived after the handshake, where the upgrade was being sent or read: TLS
/// 1.3 servers judge the client certificate only then. OpenSSL's error text is all that says
/// which alert it was.
pub fn alert_after_handshake(e: &std::io::Error, host: &str) -> Option<Error> {
    let text = e.to_string();
    if !text.contains("certificate required") {
        return None;
    }
    Some(Error::Tls {
        host: host.to_string(),
        message: "the server requires a client certificate (TLS alert 'certificate required')"
            .into(),
        hint: Some("pass your client certificate with --cert FILE --key FILE (PEM)".into()),
    })
}

/// A hostname mismatch, with the names the certificate does have.
pub fn with_names(e: Error, names: &[String]) -> Error {
    match e {
        Error::Tls {
            host,
            message,
            hint,
        } if !names.is_empty() => Error::Tls {
            message: format!("{message}; the certificate names: {}", names.join(", ")),
            host,
            hint,
        },
        other => other,
    }
}

fn describe_certificate(der: &[u8], info: &mut TlsInfo) {
    if let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) {
        info.subject = Some(cert.subject().to_string());
        info.issuer = Some(cert.issuer().to_string());
        info.names = names(&cert);
        let v = cert.validity();
        info.not_before = Some(v.not_before.to_string());
        info.not_after = Some(v.not_after.to_string());
        info.not_after_unix = Some(v.not_after.timestamp());
    }
}

/// The subjectAltName DNS names and IP addresses of a certificate, in its order.
fn names(cert: &x509_parser::certificate::X509Certificate<'_>) -> Vec<String> {
    use x509_parser::extensions::GeneralName;
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|n| match n {
            GeneralName::DNSName(d) => Some(d.to_string()),
            GeneralName::IPAddress(b) => match b.len() {
                4 => <[u8; 4]>::try_from(*b)
                    .ok()
                    .map(|a| std::net::IpAddr::from(a).to_string()),
                16 => <[u8; 16]>::try_from(*b)
                    .ok()
                    .map(|a| std::net::IpAddr::from(a).to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// The hint for a chain we could not verify: what to give, or what was given and did not help.
fn untrusted_hint(given: &Given) -> String {
    match &given.ca {
        None => {
            "trust its CA with --ca FILE, or skip verification with -k/--insecure (testing only)"
                .into()
        }
        Some((path, n)) => format!(
            "its chain leads to none of the {n} certificate{} in --ca '{}', which are trusted \
             instead of the system roots: is that the CA that issued the server's certificate? \
             -k/--insecure skips verification (testing only)",
            if *n == 1 { "" } else { "s" },
            path.display()
        ),
    }
}

/// Turn OpenSSL's wording into what went wrong and the flag that fixes it.
fn explain(host: &str, raw: &str, given: &Given) -> Error {
    let untrusted = untrusted_hint(given);
    let lower = raw.to_ascii_lowercase();
    let (what, hint) = if lower.contains("expired") {
        (
            "the server's certificate has expired",
            "-k/--insecure skips the check (testing only)",
        )
    } else if lower.contains("not yet valid") {
        (
            "the server's certificate is not valid yet",
            "-k/--insecure skips the check (testing only)",
        )
    } else if lower.contains("hostname mismatch")
        || lower.contains("host name mismatch")
        || lower.contains("ip address mismatch")
    {
        (
            "the server's certificate does not name this host (hostname mismatch)",
            "connect with the name the certificate was issued for, or -k/--insecure (testing only)",
        )
    } else if lower.contains("self-signed")
        || lower.contains("self signed")
        || lower.contains("local issuer")
        || lower.contains("unknown ca")
        || lower.contains("verify failed")
    {
        (
            "the server's certificate is not trusted (self-signed or unknown issuer)",
            untrusted.as_str(),
        )
    } else if lower.contains("wrong version number")
        || lower.contains("unexpected eof")
        || lower.contains("packet length too long")
    {
        (
            "the server did not answer in TLS",
            "is it a plain ws:// server? try ws:// instead of wss://",
        )
    } else if lower.contains("certificate required") || lower.contains("handshake failure") {
        (
            "the server refused the TLS handshake (it may want a client certificate)",
            "give a client identity with --cert FILE --key FILE",
        )
    } else {
        (
            "",
            "check the server's TLS setup; --ca, --cert/--key and -k adjust ours",
        )
    };
    let said = if given.verbose {
        raw.trim().to_string()
    } else {
        short_reason(raw)
    };
    let message = if what.is_empty() {
        said
    } else {
        format!("{what} ({said})")
    };
    Error::Tls {
        host: host.to_string(),
        message,
        hint: Some(hint.to_string()),
    }
}

/// OpenSSL's reason without its internals: `error:0A000086:SSL routines:FUNCTION:REASON:FILE:LINE:
/// (DETAIL)` becomes `REASON (DETAIL)`; any other text is kept.
fn short_reason(raw: &str) -> String {
    let raw = raw.trim();
    let Some(rest) = raw.strip_prefix("error:") else {
        return raw.to_string();
    };
    let fields: Vec<&str> = rest.splitn(5, ':').collect();
    let Some(reason) = fields.get(3).map(|r| r.trim()).filter(|r| !r.is_empty()) else {
        return raw.to_string();
    };
    // The verify detail, when OpenSSL gave one, ends the text in parentheses.
    let detail = raw
        .rfind(" (")
        .filter(|_| raw.ends_with(')'))
        .map(|i| raw[i..].to_string())
        .unwrap_or_default();
    format!("{reason}{detail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_short_reason_drops_openssls_internals() {
        assert_eq!(
            short_reason("error:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify failed:../ssl/statem/statem_clnt.c:1889: (self-signed certificate)"),
            "certificate verify failed (self-signed certificate)"
        );
        assert_eq!(
            short_reason("error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../ssl/record/ssl3_record.c:354:"),
            "wrong version number"
        );
        assert_eq!(short_reason("unexpected EOF"), "unexpected EOF");
    }

    #[test]
    fn hash_names_are_recognised() {
        for yes in ["5ad8a5d6.0", "002C0B4F.12"] {
            assert!(is_hash_name(yes), "{yes}");
        }
        for no in [
            "ca-certificates.crt",
            "5ad8a5d6",
            "5ad8a5d6.pem",
            "5ad8a5d.0",
            "x.0",
            "",
        ] {
            assert!(!is_hash_name(no), "{no}");
        }
    }

    #[test]
    fn failures_name_the_fix() {
        let none = Given::default();
        let e = explain("h", "error:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify failed:../ssl/statem/statem_clnt.c:1889: (self-signed certificate)", &none);
        assert_eq!(e.exit_code(), 4);
        assert!(e.to_string().contains("not trusted"));
        assert!(e.hint().unwrap().contains("--ca"));
        let e = explain("h", "certificate verify failed: (Hostname mismatch)", &none);
        assert!(e.to_string().contains("hostname mismatch"), "{e}");
        let e = explain(
            "h",
            "certificate verify failed (certificate has expired)",
            &none,
        );
        assert!(e.to_string().contains("expired"));
    }
}
