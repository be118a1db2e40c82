//! Bytes the WebSocket library never sees (`/raw`, `/frame`): a layer at the top of the stream
//! stack, right under tungstenite, that the writer task fills between two flushes. Everything
//! queued before the bytes has been flushed through tungstenite when they go down, so they reach
//! the socket in the order the commands ran; below this layer the tap records them like any
//! other write, so `--dump` decodes them. Reads pass through untouched.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::dial::BoxStream;

/// The writer's handle on the layer.
#[derive(Clone, Default)]
pub struct Injector(Arc<Mutex<Pending>>);

#[derive(Default)]
struct Pending {
    bytes: Vec<u8>,
    written: usize,
}

impl std::fmt::Debug for Injector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Injector")
    }
}

impl Injector {
    /// Put the layer on top of `inner`.
    pub fn layer(&self, inner: BoxStream) -> BoxStream {
        Box::new(Inject {
            inner,
            pending: self.clone(),
        })
    }

    /// Queue bytes for the next write or flush through the layer. The writer puts one batch at a
    /// time and flushes it out before the next, so this holds at most one command's bytes.
    pub(super) fn put(&self, bytes: Vec<u8>) {
        let mut p = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let written = p.written;
        p.bytes.drain(..written);
        p.written = 0;
        p.bytes.extend_from_slice(&bytes);
    }
}

struct Inject {
    inner: BoxStream,
    pending: Injector,
}

impl Inject {
    /// Write what is pending before anything else goes down.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut p = self
            .pending
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while p.written < p.bytes.len() {
            let at = p.written;
            match Pin::new(&mut self.inner).poll_write(cx, &p.bytes[at..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => p.written += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        p.bytes.clear();
        p.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for Inject {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Inject {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match this.drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_write(cx, buf),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_flush(cx),
            other => other,
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn injected_bytes_go_down_before_the_next_write_and_on_flush() {
        let (a, mut b) = tokio::io::duplex(64);
        let inj = Injector::default();
        let mut s = inj.layer(Box::new(a));
        s.write_all(b"one").await.unwrap();
        inj.put(b"<raw>".to_vec());
        s.flush().await.unwrap();
        inj.put(b"<two>".to_vec());
        s.write_all(b"three").await.unwrap();
        s.flush().await.unwrap();
        let mut got = vec![0u8; 18];
        b.read_exact(&mut got).await.unwrap();
        assert_eq!(got, b"one<raw><two>three");
    }
}
