//! wss for `listen`: the server's TLS with native-tls, from `--tls-cert` (PEM chain) and `--tls-key`
//! (PEM PKCS#8). The only listen module that touches native_tls. Errors name the flag to fix; note
//! that native-tls's OpenSSL acceptor speaks TLS 1.2 only.

use std::path::Path;

use tokio::net::TcpStream;

use crate::dial::BoxStream;
use crate::error::{Error, Result};

pub struct Acceptor(tokio_native_tls::TlsAcceptor);

fn read_pem(path: &Path, flag: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        Error::usage_hint(
            format!("cannot read {flag} file '{}': {e}", path.display()),
            format!("{flag} takes the path of a PEM file"),
        )
    })
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

impl Acceptor {
    pub fn from_files(cert: &Path, key: &Path) -> Result<Acceptor> {
        let cert_pem = read_pem(cert, "--tls-cert")?;
        let key_pem = read_pem(key, "--tls-key")?;
        if !contains(&cert_pem, "-----BEGIN CERTIFICATE-----") {
            return Err(Error::usage_hint(
                format!(
                    "--tls-cert '{}' holds no PEM certificate",
                    cert.display()
                ),
                "--tls-cert takes a file with '-----BEGIN CERTIFICATE-----' blocks (the chain, leaf first)",
            ));
        }
        if !contains(&key_pem, "-----BEGIN PRIVATE KEY-----") {
            let hint = if contains(&key_pem, "-----BEGIN RSA PRIVATE KEY-----")
                || contains(&key_pem, "-----BEGIN EC PRIVATE KEY-----")
            {
                "convert it to PKCS#8: openssl pkcs8 -topk8 -nocrypt -in KEY -out key.pem"
            } else {
                "--tls-key takes an unencrypted PKCS#8 PEM key ('-----BEGIN PRIVATE KEY-----')"
            };
            return Err(Error::usage_hint(
                format!("--tls-key '{}' holds no PKCS#8 private key", key.display()),
                hint,
            ));
        }
        let identity = native_tls::Identity::from_pkcs8(&cert_pem, &key_pem).map_err(|e| {
            Error::usage_hint(
                format!(
                    "cannot use --tls-cert '{}' with --tls-key '{}': {e}",
                    cert.display(),
                    key.display()
                ),
                "the key must be the private key of the first certificate in --tls-cert",
            )
        })?;
        let acceptor = native_tls::TlsAcceptor::new(identity).map_err(|e| {
            Error::usage(format!(
                "cannot set up TLS with --tls-cert '{}': {e}",
                cert.display()
            ))
        })?;
        Ok(Acceptor(acceptor.into()))
    }

    /// The TLS handshake with one client; the error says why it failed (for that client's line).
    pub async fn accept(&self, tcp: TcpStream) -> std::result::Result<BoxStream, String> {
        match self.0.accept(tcp).await {
            Ok(s) => Ok(Box::new(s)),
            Err(e) => Err(format!("TLS handshake failed: {e}")),
        }
    }
}
