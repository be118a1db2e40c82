//! TLS for wss:// with native-tls: the only module that touches it. Builds the connector from
//! `--ca`, `--cert/--key` and `-k` (only when a wss URL asks for TLS, so ws:// never pays for loading
//! the system roots), runs the handshake, explains failures in terms of the flags that fix them, and
//! describes the session (version, peer certificate) for the report.

use std::path::{Path, PathBuf};

use serde::Serialize;
use tokio::net::TcpStream;

use super::tls_sniff::HelloSniffer;
use super::BoxStream;
use crate::cli::ConnectArgs;
use crate::error::{Error, Result};

pub struct TlsConfig {
    connector: tokio_native_tls::TlsConnector,
    pub insecure: bool,
    /// What explains a failure in terms of what the user gave.
    given: Given,
}

/// The TLS flags the user gave, as failures need to name them.
#[derive(Debug, Clone, Default)]
struct Given {
    /// `--ca FILE` and how many certificates it held.
    ca: Option<(PathBuf, usize)>,
    /// Its PEM text, for the connection that learns a mismatched certificate's names.
    ca_pem: Option<Vec<u8>>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct TlsInfo {
    /// "TLSv1.3", read from the ServerHello (native-tls has no getter for it).
    pub version: Option<String>,
    pub subject: Option<String>,
    pub issuer: Option<String>,
    pub not_before: Option<String>,
    pub not_after: Option<String>,
    /// The names the certificate is valid for (its subjectAltName DNS names and IP addresses).
    pub names: Vec<String>,
    /// Certificate and host name checks were skipped (-k).
    pub insecure: bool,
}

fn read_file(path: &Path, flag: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        Error::usage_hint(
            format!("cannot read {flag} file '{}': {e}", path.display()),
            format!("{flag} takes the path of a PEM file"),
        )
    })
}

impl TlsConfig {
    pub fn from_args(args: &ConnectArgs) -> Result<TlsConfig> {
        let mut b = native_tls::TlsConnector::builder();
        let mut given = Given::default();
        if let Some(ca) = &args.ca {
            let pem = read_file(ca, "--ca")?;
            // A CA file is often a bundle: every certificate in it is trusted, not just the first.
            let certs = native_tls::Certificate::stack_from_pem(&pem).map_err(|e| {
                Error::usage(format!(
                    "--ca '{}' is not a PEM certificate file: {e}",
                    ca.display()
                ))
            })?;
            if certs.is_empty() {
                return Err(Error::usage_hint(
                    format!("--ca '{}' holds no certificate", ca.display()),
                    "--ca takes a PEM file of one or more 'BEGIN CERTIFICATE' blocks",
                ));
            }
            given.ca = Some((ca.clone(), certs.len()));
            given.ca_pem = Some(pem.clone());
            for cert in certs {
                b.add_root_certificate(cert);
            }
        }
        if let (Some(cert), Some(key)) = (&args.cert, &args.key) {
            let cert_pem = read_file(cert, "--cert")?;
            let key_pem = read_file(key, "--key")?;
            let id = native_tls::Identity::from_pkcs8(&cert_pem, &key_pem).map_err(|e| {
                Error::usage_hint(
                    format!("cannot use --cert '{}' with --key '{}': {e}", cert.display(), key.display()),
                    "--key must be an unencrypted PKCS#8 PEM key ('BEGIN PRIVATE KEY'); convert with `openssl pkcs8 -topk8 -nocrypt`",
                )
            })?;
            b.identity(id);
        }
        if args.insecure {
            b.danger_accept_invalid_certs(true);
            b.danger_accept_invalid_hostnames(true);
        }
        let connector = b.build().map_err(|e| match (&args.cert, &args.key) {
            // OpenSSL checks the pair only here, when it is put into the context.
            (Some(cert), Some(key)) if e.to_string().contains("key values mismatch") => {
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
        Ok(TlsConfig {
            connector: connector.into(),
            insecure: args.insecure,
            given,
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
        .connector
        .connect(host, sniffer)
        .await
        .map_err(|e| explain(host, &e.to_string(), &cfg.given))?;
    let mut info = TlsInfo {
        version: version.get().cloned(),
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
    if let Some(pem) = &cfg.given.ca_pem {
        for cert in native_tls::Certificate::stack_from_pem(pem).unwrap_or_default() {
            b.add_root_certificate(cert);
        }
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
            "its chain leads neither to a system root nor to any of the {n} certificate{} in \
             --ca '{}': is that the CA that issued the server's certificate? \
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
    let message = if what.is_empty() {
        raw.to_string()
    } else {
        format!("{what} ({})", raw.trim())
    };
    Error::Tls {
        host: host.to_string(),
        message,
        hint: Some(hint.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
