//! [`Compat`]: a tokio stream seen through the futures-io traits that the
//! shared session driver speaks. Unlike `tokio_util::compat::Compat`, it
//! forwards vectored writes, so a large message leaves as one `writev` of
//! its header and its payload instead of a copy of both.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::ReadBuf;

/// A tokio `AsyncRead + AsyncWrite` stream as a futures-io one.
#[derive(Debug)]
pub struct Compat<S> {
    inner: S,
}

impl<S> Compat<S> {
    /// Wraps a tokio stream.
    pub fn new(inner: S) -> Self {
        Compat { inner }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped stream, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the stream.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: tokio::io::AsyncRead + Unpin> futures_io::AsyncRead for Compat<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut buf = ReadBuf::new(buf);
        match Pin::new(&mut self.inner).poll_read(cx, &mut buf) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(buf.filled().len())),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> futures_io::AsyncWrite for Compat<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_io::AsyncWrite as _;
    use futures_util::{AsyncReadExt as _, AsyncWriteExt as _};

    #[tokio::test]
    async fn vectored_writes_reach_the_stream_whole() {
        let (a, b) = tokio::io::duplex(1024);
        let (mut a, mut b) = (Compat::new(a), Compat::new(b));
        let bufs = [IoSlice::new(b"head"), IoSlice::new(b"-body")];
        let n = std::future::poll_fn(|cx| Pin::new(&mut a).poll_write_vectored(cx, &bufs))
            .await
            .unwrap();
        a.close().await.unwrap();
        let mut got = Vec::new();
        b.read_to_end(&mut got).await.unwrap();
        assert_eq!(&got[..], &b"head-body"[..n]);
        assert_eq!(n, got.len());
    }

    #[tokio::test]
    async fn vectored_writes_to_tcp_take_every_slice() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (client, server) =
            tokio::join!(tokio::net::TcpStream::connect(addr), listener.accept());
        let mut client = Compat::new(client.unwrap());
        let mut server = Compat::new(server.unwrap().0);
        let bufs = [IoSlice::new(b"ab"), IoSlice::new(b"cd")];
        let n = std::future::poll_fn(|cx| Pin::new(&mut client).poll_write_vectored(cx, &bufs))
            .await
            .unwrap();
        assert_eq!(n, 4, "one write took both slices");
        let mut got = [0u8; 4];
        server.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"abcd");
    }
}
