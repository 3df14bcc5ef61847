//! [`MaybeTls`]: the transport of a session a connector or acceptor made,
//! plain or (with the `rustls` feature) TLS over it, as one type whichever
//! it is.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

/// A stream `S`, or TLS over it (`wss://`, or an acceptor with a TLS
/// config). The session over either is the same type, so one
/// `WebSocket<S>` serves both.
#[derive(Debug)]
#[non_exhaustive]
pub enum MaybeTls<S> {
    /// The stream itself.
    Plain(S),
    /// TLS over it (client or server side). Boxed: a TLS stream is large
    /// (over 1 KiB with rustls), and every plain session would otherwise
    /// carry that size too (idle connections are counted in bytes).
    #[cfg(feature = "rustls")]
    Tls(Box<futures_rustls::TlsStream<S>>),
    /// Through an `https://` proxy: TLS to the proxy over the stream, and
    /// for `wss://` TLS to the origin inside it.
    #[cfg(feature = "rustls")]
    HttpsProxy(Box<HttpsProxied<S>>),
}

/// The transport of a session made through an `https://` proxy (TLS to
/// the proxy), with or without TLS to the origin inside that.
#[cfg(feature = "rustls")]
#[derive(Debug)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)] // boxed whole in `MaybeTls::HttpsProxy`
pub enum HttpsProxied<S> {
    /// `ws://`: the tunnel is TLS to the proxy only.
    Plain(futures_rustls::TlsStream<S>),
    /// `wss://`: TLS to the origin (its name checked) inside TLS to the
    /// proxy (the proxy's name checked).
    Tls(futures_rustls::TlsStream<futures_rustls::TlsStream<S>>),
}

#[cfg(feature = "rustls")]
macro_rules! proxied {
    ($self:expr, $s:ident => $e:expr) => {
        match $self {
            HttpsProxied::Plain($s) => $e,
            HttpsProxied::Tls($s) => $e,
        }
    };
}

impl<S> MaybeTls<S> {
    /// The stream under TLS, or the stream itself.
    pub fn get_ref(&self) -> &S {
        match self {
            MaybeTls::Plain(s) => s,
            #[cfg(feature = "rustls")]
            MaybeTls::Tls(s) => s.get_ref().0,
            #[cfg(feature = "rustls")]
            MaybeTls::HttpsProxy(s) => match &**s {
                HttpsProxied::Plain(s) => s.get_ref().0,
                HttpsProxied::Tls(s) => s.get_ref().0.get_ref().0,
            },
        }
    }

    /// Whether TLS runs over the stream (to the server, or to an
    /// `https://` proxy).
    pub fn is_tls(&self) -> bool {
        !matches!(self, MaybeTls::Plain(_))
    }

    /// The TLS session with the server, when there is one (to see the
    /// negotiated protocol, the peer's certificates, whether it resumed);
    /// `None` for `ws://`, through an `https://` proxy too.
    #[cfg(feature = "rustls")]
    pub fn tls_connection(&self) -> Option<&rustls::CommonState> {
        match self {
            MaybeTls::Plain(_) => None,
            MaybeTls::Tls(s) => Some(s.get_ref().1),
            MaybeTls::HttpsProxy(s) => match &**s {
                HttpsProxied::Plain(_) => None,
                HttpsProxied::Tls(s) => Some(s.get_ref().1),
            },
        }
    }
}

macro_rules! both {
    ($self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            MaybeTls::Plain($s) => $e,
            #[cfg(feature = "rustls")]
            MaybeTls::Tls($s) => $e,
            #[cfg(feature = "rustls")]
            MaybeTls::HttpsProxy(p) => proxied!(&mut **p, $s => $e),
        }
    };
}

impl<S> AsyncRead for MaybeTls<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        both!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl<S> AsyncWrite for MaybeTls<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        both!(self, s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        both!(self, s => Pin::new(s).poll_write_vectored(cx, bufs))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        both!(self, s => Pin::new(s).poll_flush(cx))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        both!(self, s => Pin::new(s).poll_close(cx))
    }
}
