//! Learns the negotiated TLS version by reading the ServerHello as it passes under the TLS library,
//! because native-tls has no getter for it. It watches only the first records from the server and
//! then gets out of the way; it never changes a byte.

use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Stop looking after this many bytes: a ServerHello comes first and is small.
const LOOK_LIMIT: usize = 16 * 1024;

pub struct HelloSniffer<S> {
    inner: S,
    seen: Option<Vec<u8>>,
    version: Arc<OnceLock<String>>,
}

impl<S> HelloSniffer<S> {
    pub fn new(inner: S) -> (Self, Arc<OnceLock<String>>) {
        let version = Arc::new(OnceLock::new());
        let s = HelloSniffer {
            inner,
            seen: Some(Vec::new()),
            version: version.clone(),
        };
        (s, version)
    }
}

/// The version a ServerHello selected, if `bytes` start with a complete one.
/// `None` means "not yet known"; `Some(None)` means "give up".
pub fn server_hello_version(bytes: &[u8]) -> Option<Option<String>> {
    // TLS record: type 22 (handshake), version, length; then handshake type 2 (ServerHello).
    if bytes.len() < 5 {
        return None;
    }
    if bytes[0] != 22 {
        return Some(None);
    }
    let rec_len = u16::from_be_bytes([bytes[3], bytes[4]]) as usize;
    let rec = bytes.get(5..5 + rec_len)?;
    let body = rec.get(4..).filter(|_| rec.first() == Some(&2));
    let Some(body) = body else {
        return Some(None);
    };
    let legacy = u16::from_be_bytes([*body.first()?, *body.get(1)?]);
    let mut version = legacy;
    // version(2) random(32) session_id(1+n) cipher(2) compression(1) extensions(2+...)
    let sid_len = *body.get(34)? as usize;
    let mut i = 35 + sid_len + 3;
    if let Some(ext) = body.get(i..i + 2) {
        let ext_total = u16::from_be_bytes([ext[0], ext[1]]) as usize;
        i += 2;
        let end = (i + ext_total).min(body.len());
        while i + 4 <= end {
            let ty = u16::from_be_bytes([body[i], body[i + 1]]);
            let len = u16::from_be_bytes([body[i + 2], body[i + 3]]) as usize;
            if ty == 43 && len == 2 {
                if let Some(v) = body.get(i + 4..i + 6) {
                    version = u16::from_be_bytes([v[0], v[1]]);
                }
            }
            i += 4 + len;
        }
    }
    let name = match version {
        0x0304 => "TLSv1.3",
        0x0303 => "TLSv1.2",
        0x0302 => "TLSv1.1",
        0x0301 => "TLSv1.0",
        _ => return Some(Some(format!("unknown (0x{version:04x})"))),
    };
    Some(Some(name.to_string()))
}

impl<S: AsyncRead + Unpin> AsyncRead for HelloSniffer<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let res = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Some(seen) = &mut this.seen {
            seen.extend_from_slice(&buf.filled()[before..]);
            match server_hello_version(seen) {
                None if seen.len() < LOOK_LIMIT => {}
                Some(Some(v)) => {
                    let _ = this.version.set(v);
                    this.seen = None;
                }
                _ => this.seen = None,
            }
        }
        res
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for HelloSniffer<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello(legacy: u16, supported: Option<u16>) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&legacy.to_be_bytes());
        body.extend_from_slice(&[0u8; 32]);
        body.push(0); // session id
        body.extend_from_slice(&[0x13, 0x01, 0]);
        let mut ext = Vec::new();
        if let Some(v) = supported {
            ext.extend_from_slice(&[0, 43, 0, 2]);
            ext.extend_from_slice(&v.to_be_bytes());
        }
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(&ext);
        let mut hs = vec![2, 0, 0, body.len() as u8];
        hs.extend_from_slice(&body);
        let mut rec = vec![22, 3, 3];
        rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
        rec.extend_from_slice(&hs);
        rec
    }

    #[test]
    fn reads_tls13_from_supported_versions() {
        assert_eq!(
            server_hello_version(&hello(0x0303, Some(0x0304))),
            Some(Some("TLSv1.3".into()))
        );
    }

    #[test]
    fn reads_tls12_from_legacy_version() {
        assert_eq!(
            server_hello_version(&hello(0x0303, None)),
            Some(Some("TLSv1.2".into()))
        );
    }

    #[test]
    fn waits_for_a_whole_record_and_gives_up_on_other_bytes() {
        let h = hello(0x0303, None);
        assert_eq!(server_hello_version(&h[..10]), None);
        assert_eq!(server_hello_version(b"HTTP/1.1 400"), Some(None));
    }
}
