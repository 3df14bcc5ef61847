//! A transport wrapper that keeps a copy of the HTTP heads that cross it
//! (the upgrade request and the response), so that `-v` shows the bytes
//! that were really sent and received, `Sec-WebSocket-Key` included.
//! After both heads it only passes bytes through.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A tokio byte stream of any kind (TCP, TLS over TCP).
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// The transport every session of this crate runs over.
pub type Io = Box<dyn Stream>;

/// A head is cut off here (the library's default head limit is 16 KiB).
const HEAD_LIMIT: usize = 16 * 1024;

/// The bytes seen in one direction until the end of the HTTP head.
#[derive(Debug, Default)]
struct Head {
    bytes: Vec<u8>,
    done: bool,
}

impl Head {
    fn record(&mut self, data: &[u8]) {
        if self.done {
            return;
        }
        let room = HEAD_LIMIT.saturating_sub(self.bytes.len());
        self.bytes.extend_from_slice(&data[..data.len().min(room)]);
        if let Some(end) = find_head_end(&self.bytes) {
            self.bytes.truncate(end);
            self.done = true;
        } else if self.bytes.len() >= HEAD_LIMIT {
            self.done = true;
        }
    }

    fn text(&self) -> Option<String> {
        (!self.bytes.is_empty()).then(|| String::from_utf8_lossy(&self.bytes).into_owned())
    }
}

/// Where the head ends: just after the blank line that closes it.
fn find_head_end(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
}

/// The heads a [`Tap`] saw; cheap to clone, readable after the stream
/// has been handed on.
#[derive(Debug, Clone, Default)]
pub struct Heads(Arc<Mutex<(Head, Head)>>);

impl Heads {
    /// The head sent and the head received so far, as text.
    #[must_use]
    pub fn get(&self) -> (Option<String>, Option<String>) {
        let heads = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        (heads.0.text(), heads.1.text())
    }

    fn is_done(&self) -> bool {
        let heads = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        heads.0.done && heads.1.done
    }

    fn sent(&self, data: &[u8]) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .0
            .record(data);
    }

    fn received(&self, data: &[u8]) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .1
            .record(data);
    }
}

/// A stream that records its heads when asked to (`-v`).
pub struct Tap<S> {
    inner: S,
    heads: Option<Heads>,
}

impl<S> std::fmt::Debug for Tap<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tap")
            .field("recording", &self.heads.is_some())
            .finish_non_exhaustive()
    }
}

impl<S> Tap<S> {
    /// Wraps `inner`; with `record`, the heads go there.
    pub fn new(inner: S, record: Option<Heads>) -> Self {
        Tap {
            inner,
            heads: record,
        }
    }

    /// Stops recording once both heads are complete.
    fn settle(&mut self) {
        if self.heads.as_ref().is_some_and(Heads::is_done) {
            self.heads = None;
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tap<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Some(heads) = &self.heads {
            heads.received(&buf.filled()[before..]);
            self.settle();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tap<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if let (Some(heads), Poll::Ready(Ok(n))) = (&self.heads, &polled) {
            heads.sent(&data[..*n]);
            self.settle();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.heads.is_some() {
            // Recording: one slice at a time, so what was written is known.
            let first = bufs.iter().find(|b| !b.is_empty()).map_or(&[][..], |b| b);
            return self.poll_write(cx, first);
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    #[tokio::test]
    async fn both_heads_are_kept_and_what_follows_is_not() {
        let (ours, mut theirs) = tokio::io::duplex(1024);
        let heads = Heads::default();
        let mut tap = Tap::new(ours, Some(heads.clone()));
        tap.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n\x81\x00")
            .await
            .unwrap();
        theirs
            .write_all(b"HTTP/1.1 101 Switching Protocols\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 64];
        let _ = tap.read(&mut buf).await.unwrap();
        assert_eq!(
            heads.get().1.as_deref(),
            Some("HTTP/1.1 101 Switching Protocols\r\n")
        );
        theirs
            .write_all(b"Upgrade: websocket\r\n\r\n\x81\x02hi")
            .await
            .unwrap();
        let _ = tap.read(&mut buf).await.unwrap();
        let (sent, received) = heads.get();
        assert_eq!(sent.as_deref(), Some("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
        assert_eq!(
            received.as_deref(),
            Some("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n")
        );
        assert!(tap.heads.is_none(), "recording stops after both heads");
    }
}
