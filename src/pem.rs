//! The PEM files the TLS flags name (`--ca`, `--cert`/`--key` for connect, `--tls-cert`/`--tls-key`
//! for listen), read in one place: read once, checked for what they must hold, and turned into
//! native-tls certificates and identities, with errors that name the flag and say how to fix the file.

use std::path::Path;

use crate::error::{Error, Result};

/// The bytes of a PEM file given with `flag`.
pub fn read(path: &Path, flag: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        Error::usage_hint(
            format!("cannot read {flag} file '{}': {e}", path.display()),
            format!("{flag} takes the path of a PEM file"),
        )
    })
}

fn holds(pem: &[u8], label: &str) -> bool {
    let needle = format!("-----BEGIN {label}-----");
    pem.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Every certificate in `pem` (a bundle, or a chain leaf first); at least one.
pub fn certificates(pem: &[u8], path: &Path, flag: &str) -> Result<Vec<native_tls::Certificate>> {
    let what = |problem: &str| {
        Error::usage_hint(
            format!("{flag} '{}' {problem}", path.display()),
            format!("{flag} takes a PEM file of one or more '-----BEGIN CERTIFICATE-----' blocks"),
        )
    };
    if !holds(pem, "CERTIFICATE") {
        return Err(what("holds no PEM certificate"));
    }
    let certs = native_tls::Certificate::stack_from_pem(pem)
        .map_err(|e| what(&format!("is not a PEM certificate file: {e}")))?;
    if certs.is_empty() {
        return Err(what("holds no PEM certificate"));
    }
    Ok(certs)
}

/// A certificate (chain) and its private key, which native-tls wants as unencrypted PKCS#8.
pub struct IdentityFiles<'a> {
    pub cert: &'a Path,
    pub cert_flag: &'a str,
    pub key: &'a Path,
    pub key_flag: &'a str,
}

impl IdentityFiles<'_> {
    pub fn load(&self) -> Result<native_tls::Identity> {
        let cert_pem = read(self.cert, self.cert_flag)?;
        let key_pem = read(self.key, self.key_flag)?;
        certificates(&cert_pem, self.cert, self.cert_flag)?;
        if !holds(&key_pem, "PRIVATE KEY") {
            let hint = if holds(&key_pem, "RSA PRIVATE KEY") || holds(&key_pem, "EC PRIVATE KEY") {
                "convert it to PKCS#8: openssl pkcs8 -topk8 -nocrypt -in KEY -out key.pem"
                    .to_string()
            } else {
                format!(
                    "{} takes an unencrypted PKCS#8 PEM key ('-----BEGIN PRIVATE KEY-----')",
                    self.key_flag
                )
            };
            return Err(Error::usage_hint(
                format!(
                    "{} '{}' holds no PKCS#8 private key for {} '{}'",
                    self.key_flag,
                    self.key.display(),
                    self.cert_flag,
                    self.cert.display()
                ),
                hint,
            ));
        }
        native_tls::Identity::from_pkcs8(&cert_pem, &key_pem).map_err(|e| {
            Error::usage_hint(
                format!(
                    "cannot use {} '{}' with {} '{}': {e}",
                    self.cert_flag,
                    self.cert.display(),
                    self.key_flag,
                    self.key.display()
                ),
                format!(
                    "the key must be the unencrypted PKCS#8 private key of the first certificate in {}",
                    self.cert_flag
                ),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_that_hold_the_wrong_thing_name_the_flag() {
        let dir = std::env::temp_dir().join(format!("wscope-pem-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        std::fs::write(&cert, "not a certificate").unwrap();
        std::fs::write(&key, "-----BEGIN RSA PRIVATE KEY-----\n").unwrap();
        let e = certificates(b"nothing", &cert, "--ca").err().unwrap();
        assert!(e.to_string().contains("--ca"), "{e}");
        let files = IdentityFiles {
            cert: &cert,
            cert_flag: "--tls-cert",
            key: &key,
            key_flag: "--tls-key",
        };
        let e = files.load().err().unwrap();
        assert!(e.to_string().contains("--tls-cert"), "{e}");
        let e = read(&dir.join("missing.pem"), "--key").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("--key"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
