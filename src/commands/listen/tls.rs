//! wss for `listen`: the server's TLS with native-tls, from `--tls-cert` (PEM chain) and `--tls-key`
//! (PEM PKCS#8). The only listen module that touches native_tls. Errors name the flag to fix; note
//! that native-tls's OpenSSL acceptor speaks TLS 1.2 only.

use std::path::Path;

use tokio::net::TcpStream;

use crate::dial::BoxStream;
use crate::error::{Error, Result};
use crate::pem;

pub struct Acceptor(tokio_native_tls::TlsAcceptor);

impl Acceptor {
    pub fn from_files(cert: &Path, key: &Path) -> Result<Acceptor> {
        let identity = pem::IdentityFiles {
            cert,
            cert_flag: "--tls-cert",
            key,
            key_flag: "--tls-key",
        }
        .load()?;
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
