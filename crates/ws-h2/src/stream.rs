//! The bytes under a session: an HTTP/2 stream read and written as a
//! byte stream ([`H2Stream`]), or, after a fallback, the HTTP/1.1
//! connection ([`Stream`] holds either).
//!
//! ```text
//!  Session ── poll_write ──► H2Stream ── reserve_capacity / poll_capacity ──► SendStream::send_data (DATA)
//!          ◄── poll_read ───          ◄── release_capacity(n) as n bytes are read ── RecvStream::poll_data
//! ```
//!
//! Flow control both ways: a write waits until the peer's window gives
//! room and writes as much as it gives; a received DATA frame's bytes are
//! released to the peer's window only as the session reads them, so a
//! session that stops reading stops the peer at its window, not at our
//! memory.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf as _, Bytes, BytesMut};
use futures_io::{AsyncRead, AsyncWrite};
use h2::{RecvStream, SendStream};

/// One HTTP/2 stream as a byte stream: what an extended CONNECT carries.
#[derive(Debug)]
pub struct H2Stream {
    send: SendStream<Bytes>,
    recv: RecvStream,
    /// Received bytes the session has not read yet (their flow-control
    /// capacity is still held).
    pending: Bytes,
    /// The peer ended its side (`END_STREAM`).
    eof: bool,
    /// Our side was ended.
    finished: bool,
}

impl H2Stream {
    /// The stream's two halves, as `h2` gives them after the response.
    #[must_use]
    pub fn new(send: SendStream<Bytes>, recv: RecvStream) -> Self {
        H2Stream {
            send,
            recv,
            pending: Bytes::new(),
            eof: false,
            finished: false,
        }
    }

    /// The HTTP/2 stream id.
    #[must_use]
    pub fn stream_id(&self) -> u32 {
        self.send.stream_id().into()
    }
}

impl H2Stream {
    /// Writes as much of `bufs` as the peer's window allows (at least one
    /// byte, waiting for room), as one DATA frame.
    fn poll_send(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        if total == 0 {
            return Poll::Ready(Ok(0));
        }
        if self.finished {
            return Poll::Ready(Err(stream_closed()));
        }
        self.send.reserve_capacity(total);
        loop {
            // `poll_capacity` reports changes only: use what is there first.
            let available = self.send.capacity();
            if available > 0 {
                let n = available.min(total);
                let mut data = BytesMut::with_capacity(n);
                for buf in bufs {
                    let room = n - data.len();
                    if room == 0 {
                        break;
                    }
                    data.extend_from_slice(&buf[..buf.len().min(room)]);
                }
                self.send.send_data(data.freeze(), false).map_err(h2_io)?;
                return Poll::Ready(Ok(n));
            }
            match ready!(self.send.poll_capacity(cx)) {
                Some(Ok(_)) => {}
                Some(Err(error)) => return Poll::Ready(Err(h2_io(error))),
                None => return Poll::Ready(Err(stream_closed())),
            }
        }
    }
}

/// An `h2` error as the session's transport error.
pub(crate) fn h2_io(error: h2::Error) -> io::Error {
    if error.is_io() {
        if let Some(io) = error.into_io() {
            return io;
        }
        return io::Error::other("HTTP/2 transport error");
    }
    let kind = if error.is_reset() || error.is_go_away() {
        io::ErrorKind::ConnectionReset
    } else {
        io::ErrorKind::Other
    };
    io::Error::new(kind, error)
}

fn stream_closed() -> io::Error {
    io::Error::new(
        io::ErrorKind::BrokenPipe,
        "the HTTP/2 stream is closed for sending",
    )
}

impl AsyncRead for H2Stream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        // Empty DATA frames are possible; read on until bytes or the end.
        while this.pending.is_empty() {
            if this.eof {
                return Poll::Ready(Ok(0));
            }
            match ready!(this.recv.poll_data(cx)) {
                Some(Ok(data)) => this.pending = data,
                Some(Err(error)) => return Poll::Ready(Err(h2_io(error))),
                None => this.eof = true,
            }
        }
        let n = buf.len().min(this.pending.len());
        buf[..n].copy_from_slice(&this.pending[..n]);
        this.pending.advance(n);
        this.recv
            .flow_control()
            .release_capacity(n)
            .map_err(h2_io)?;
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for H2Stream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_send(cx, &[io::IoSlice::new(buf)])
    }

    /// The session writes a frame's header and payload as separate slices:
    /// they go out in one DATA frame where the window allows.
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_send(cx, bufs)
    }

    /// The connection task writes queued DATA frames as the socket takes
    /// them; nothing is buffered here.
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Ends our side of the stream (an empty DATA frame with `END_STREAM`).
    fn poll_close(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if !this.finished {
            this.finished = true;
            this.send.send_data(Bytes::new(), true).map_err(h2_io)?;
        }
        Poll::Ready(Ok(()))
    }
}

/// The transport of a [`WebSocket`](crate::WebSocket): an HTTP/2 stream,
/// or the HTTP/1.1 connection of a fallback (plain or TLS, over the
/// runtime's TCP stream). The same type on every runtime.
#[derive(Debug)]
pub struct Stream(Inner);

/// A fallback's connection: the runtime's TCP stream, or TLS over it.
pub(crate) trait Http1Io: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Http1Io for T {}

enum Inner {
    H2(H2Stream),
    Http1(Box<dyn Http1Io>),
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Inner::H2(stream) => f.debug_tuple("H2").field(stream).finish(),
            Inner::Http1(_) => f.write_str("Http1"),
        }
    }
}

impl Stream {
    pub(crate) fn h2(stream: H2Stream) -> Self {
        Stream(Inner::H2(stream))
    }

    pub(crate) fn http1(io: impl Http1Io + 'static) -> Self {
        Stream(Inner::Http1(Box::new(io)))
    }

    /// The HTTP version the WebSocket was opened with: `HTTP_2` for an
    /// extended CONNECT stream, `HTTP_11` after a fallback.
    #[must_use]
    pub fn version(&self) -> http::Version {
        if matches!(self.0, Inner::H2(_)) {
            http::Version::HTTP_2
        } else {
            http::Version::HTTP_11
        }
    }

    /// The HTTP/2 stream, when the WebSocket is on one.
    #[must_use]
    pub fn as_h2(&self) -> Option<&H2Stream> {
        if let Inner::H2(stream) = &self.0 {
            Some(stream)
        } else {
            None
        }
    }
}

/// Forwards a poll method to whichever stream is inside.
macro_rules! each {
    ($self:ident, $s:ident => $call:expr) => {
        match &mut $self.get_mut().0 {
            Inner::H2($s) => $call,
            Inner::Http1($s) => $call,
        }
    };
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        each!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        each!(self, s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        each!(self, s => Pin::new(s).poll_write_vectored(cx, bufs))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, s => Pin::new(s).poll_flush(cx))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, s => Pin::new(s).poll_close(cx))
    }
}
