//! The HTTP/2 connection preface on a plain listen connection (h2c prior knowledge, RFC 9113
//! §3.4): [`sniff_preface`] reads no further than the bytes match it, and [`Prefixed`] reads them
//! again in front of the stream, for whichever side (HTTP/1.1 or HTTP/2) then serves it.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};

use crate::dial::BoxStream;

/// The client connection preface (RFC 9113 §3.4).
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Read the first bytes of a plain connection, no further than they match the HTTP/2 preface:
/// whether they are the preface, and the bytes read (to be read again, [`Prefixed`]).
pub(super) async fn sniff_preface(stream: &mut BoxStream) -> Result<(bool, Vec<u8>), String> {
    let mut seen = Vec::with_capacity(PREFACE.len());
    while seen.len() < PREFACE.len() {
        let mut buf = [0u8; 24];
        let want = PREFACE.len() - seen.len();
        let n = stream
            .read(&mut buf[..want])
            .await
            .map_err(|e| format!("reading the request failed: {e}"))?;
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
        if !PREFACE.starts_with(&seen) {
            return Ok((false, seen));
        }
    }
    Ok((seen == PREFACE, seen))
}

/// A stream whose first bytes were already read: they are read again, first.
pub(super) struct Prefixed {
    head: Bytes,
    inner: BoxStream,
}

impl Prefixed {
    pub(super) fn new(head: Vec<u8>, inner: BoxStream) -> Prefixed {
        Prefixed {
            head: head.into(),
            inner,
        }
    }
}

impl AsyncRead for Prefixed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.head.is_empty() {
            return Pin::new(&mut self.inner).poll_read(cx, buf);
        }
        let n = self.head.len().min(buf.remaining());
        let head = self.head.split_to(n);
        buf.put_slice(&head);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Prefixed {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
