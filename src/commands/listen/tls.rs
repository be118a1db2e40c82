//! wss for `listen`: the server's TLS, from `--tls-cert` (PEM chain) and `--tls-key` (PEM PKCS#8).
//! The only listen module that touches a TLS library. It is openssl's `mozilla_intermediate_v5`
//! profile (TLS 1.2 and 1.3) through tokio-openssl, not native-tls: native-tls's acceptor is the
//! older `mozilla_intermediate`, which turns TLS 1.3 off whatever its version bounds say. The files
//! are checked by [`pem`] first, so their errors name the flag to fix. With `--http2` it offers
//! ALPN `h2` beside `http/1.1` (the client's choice among them; no ALPN at all is HTTP/1.1).

use std::path::Path;
use std::pin::Pin;

use openssl::pkey::PKey;
use openssl::ssl::{Ssl, SslAcceptor, SslMethod};
use openssl::x509::X509;
use tokio::net::TcpStream;

use crate::dial::BoxStream;
use crate::error::{Error, Result};
use crate::pem;

pub struct Acceptor(SslAcceptor);

impl Acceptor {
    pub fn from_files(cert: &Path, key: &Path, http2: bool) -> Result<Acceptor> {
        // The checks and their messages (no certificate, not PKCS#8, a key of another cert).
        pem::IdentityFiles {
            cert,
            cert_flag: "--tls-cert",
            key,
            key_flag: "--tls-key",
        }
        .load()?;
        let cert_pem = pem::read(cert, "--tls-cert")?;
        let key_pem = pem::read(key, "--tls-key")?;
        build(&cert_pem, &key_pem, http2).map_err(|e| {
            Error::usage(format!(
                "cannot set up TLS with --tls-cert '{}' and --tls-key '{}': {e}",
                cert.display(),
                key.display()
            ))
        })
    }

    /// The TLS handshake with one client, and whether ALPN chose `h2` (only ever offered with
    /// `--http2`); the error says why it failed (for that client's line).
    pub async fn accept_alpn(
        &self,
        tcp: TcpStream,
    ) -> std::result::Result<(BoxStream, bool), String> {
        let failed = |e: &dyn std::fmt::Display| format!("TLS handshake failed: {e}");
        let ssl = Ssl::new(self.0.context()).map_err(|e| failed(&e))?;
        let mut stream = tokio_openssl::SslStream::new(ssl, tcp).map_err(|e| failed(&e))?;
        match Pin::new(&mut stream).accept().await {
            Ok(()) => {
                let h2 = stream.ssl().selected_alpn_protocol() == Some(b"h2".as_slice());
                Ok((Box::new(stream), h2))
            }
            Err(e) => Err(failed(&e)),
        }
    }
}

/// The acceptor for a PEM chain (leaf first) and its key.
fn build(
    cert_pem: &[u8],
    key_pem: &[u8],
    http2: bool,
) -> std::result::Result<Acceptor, openssl::error::ErrorStack> {
    let chain = X509::stack_from_pem(cert_pem)?;
    let key = PKey::private_key_from_pem(key_pem)?;
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())?;
    b.set_private_key(&key)?;
    let mut certs = chain.into_iter();
    if let Some(leaf) = certs.next() {
        b.set_certificate(&leaf)?;
    }
    for extra in certs {
        b.add_extra_chain_cert(extra)?;
    }
    b.check_private_key()?;
    if http2 {
        // h2 when the client offers it, else http/1.1; no protocol in common: no ALPN (HTTP/1.1).
        b.set_alpn_select_callback(|_, offered| {
            openssl::ssl::select_next_proto(b"\x02h2\x08http/1.1", offered)
                .ok_or(openssl::ssl::AlpnError::NOACK)
        });
    }
    Ok(Acceptor(b.build()))
}
