//! The connect and accept flows over any runtime's TCP and TLS: the
//! adapter passes in how to open a TCP stream and how to run TLS over it;
//! the URL, the timeouts, the order of steps and the errors are here once.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};
use wsproto_core::Config;
use wsproto_core::handshake::{ClientBuilder, Scheme, UpgradeRequest};

use crate::error::HandshakeError;
use crate::handshake::{AcceptedRequest, ClientResponse, Decision, HandshakeOptions};
use crate::runtime::{Runtime, timeout_at};
use crate::session::Session;

/// Why connecting failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The TCP connection could not be made (the host name did not
    /// resolve, the connection was refused or unreachable).
    #[error(
        "could not connect to {host}:{port}: {source} (check that the host name resolves, the server is running and the port is right)"
    )]
    Connect {
        /// The host from the URL.
        host: String,
        /// The port.
        port: u16,
        /// The system's error.
        source: io::Error,
    },
    /// The TCP connection was not made within the connect timeout.
    #[error(
        "connecting to {host}:{port} timed out after {timeout:?} (the connect timeout): is a firewall dropping packets, or the host down?"
    )]
    ConnectTimeout {
        /// The host from the URL.
        host: String,
        /// The port.
        port: u16,
        /// The timeout.
        timeout: Duration,
    },
    /// The TLS handshake failed (certificate not trusted, name mismatch,
    /// protocol mismatch, a host that is not a valid server name).
    #[error(
        "TLS handshake with {host}:{port} failed: {source} (check that the server's certificate is trusted and issued for {host}, and that the port serves TLS)"
    )]
    Tls {
        /// The host from the URL.
        host: String,
        /// The port.
        port: u16,
        /// What the TLS library said.
        source: io::Error,
    },
    /// The WebSocket handshake failed; a refusal by the server carries its
    /// status, headers and the start of the body
    /// ([`HandshakeError::rejection`]).
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
}

impl From<wsproto_core::handshake::BuildError> for ConnectError {
    fn from(e: wsproto_core::handshake::BuildError) -> Self {
        ConnectError::Handshake(HandshakeError::Build(e))
    }
}

impl ConnectError {
    /// The server's refusal (status, headers, start of the body), if it
    /// answered the upgrade with something other than 101.
    #[must_use]
    pub fn rejection(&self) -> Option<&http::Response<bytes::Bytes>> {
        match self {
            ConnectError::Handshake(e) => e.rejection(),
            _ => None,
        }
    }
}

/// A plain or a TLS stream (`ws://` or `wss://`).
#[derive(Debug)]
pub enum MaybeTls<P, T> {
    /// Plain TCP (or whatever the adapter connected).
    Plain(P),
    /// TLS over it. Boxed: a TLS stream is large (over 1 KiB with rustls),
    /// and every plain session would otherwise carry that size too (idle
    /// connections are counted in bytes).
    Tls(Box<T>),
}

macro_rules! both {
    ($self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            MaybeTls::Plain($s) => $e,
            MaybeTls::Tls($s) => $e,
        }
    };
}

impl<P, T> AsyncRead for MaybeTls<P, T>
where
    P: AsyncRead + Unpin,
    T: AsyncRead + Unpin,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        both!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl<P, T> AsyncWrite for MaybeTls<P, T>
where
    P: AsyncWrite + Unpin,
    T: AsyncWrite + Unpin,
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

/// Timeouts of a client connection.
#[derive(Debug, Clone, Copy)]
pub struct ConnectOptions {
    /// How long the TCP connect may take (`None`: no limit).
    pub connect_timeout: Option<Duration>,
    /// How long the TLS and WebSocket handshakes may take together.
    pub handshake: HandshakeOptions,
}

impl Default for ConnectOptions {
    /// 30 s to connect, 30 s for the handshakes.
    fn default() -> Self {
        ConnectOptions {
            connect_timeout: Some(Duration::from_secs(30)),
            handshake: HandshakeOptions::default(),
        }
    }
}

/// Connects to the URL of `builder`: `tcp(host, port)` opens the
/// transport (within the connect timeout), `tls(host, stream)` wraps it for
/// `wss://`, then the WebSocket handshake runs (TLS and WebSocket
/// handshakes share the handshake timeout). This is the whole client side
/// of an adapter: it passes its runtime and how to open TCP and TLS.
///
/// ```
/// # use std::{pin::Pin, sync::Arc, task::{Context, Poll}, time::Instant};
/// # use ws_session::{Runtime, Timer};
/// # #[derive(Debug)] struct NoTimers(Instant);
/// # #[derive(Debug)] struct Never;
/// # impl Timer for Never {
/// #     fn reset(self: Pin<&mut Self>, _: Instant) {}
/// #     fn poll_expired(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> { Poll::Pending }
/// # }
/// # impl Runtime for NoTimers {
/// #     fn now(&self) -> Instant { self.0 }
/// #     fn new_timer(&self, _: Instant) -> Pin<Box<dyn Timer>> { Box::pin(Never) }
/// #     fn spawn(&self, _: Pin<Box<dyn std::future::Future<Output = ()> + Send>>) {}
/// # }
/// # #[allow(clippy::disallowed_methods)]
/// # let runtime: Arc<dyn Runtime> = Arc::new(NoTimers(Instant::now()));
/// use ws_session::{ClientBuilder, Config, ConnectError, ConnectOptions, MemoryStream};
///
/// futures_executor::block_on(async {
///     // "TCP" that refuses, to show what the caller gets back.
///     let refused = ws_session::connect(
///         runtime,
///         ClientBuilder::new("ws://db.internal:9000/")?,
///         Config::default(),
///         ConnectOptions::default(),
///         |_host, _port| async {
///             Err::<MemoryStream, _>(std::io::Error::from(std::io::ErrorKind::ConnectionRefused))
///         },
///         |_host, stream: MemoryStream| async move { Ok(stream) },
///     )
///     .await;
///     let Err(error @ ConnectError::Connect { .. }) = refused else { panic!() };
///     assert!(error.to_string().starts_with("could not connect to db.internal:9000"));
///     Ok::<(), Box<dyn std::error::Error>>(())
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn connect<P, T, C, CF, L, LF>(
    runtime: Arc<dyn Runtime>,
    builder: ClientBuilder,
    config: impl Into<Arc<Config>>,
    options: ConnectOptions,
    tcp: C,
    tls: L,
) -> Result<(Session<MaybeTls<P, T>>, ClientResponse), ConnectError>
where
    P: AsyncRead + AsyncWrite + Unpin,
    T: AsyncRead + AsyncWrite + Unpin,
    C: FnOnce(String, u16) -> CF,
    CF: Future<Output = io::Result<P>>,
    L: FnOnce(String, P) -> LF,
    LF: Future<Output = io::Result<T>>,
{
    let config: Arc<Config> = config.into();
    let result = async move {
        let handshake = crate::handshake::build_request(builder, &config)?;
        let host = handshake
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = handshake.port();
        crate::trace::trace_debug!(host = %host, port, scheme = ?handshake.scheme(), "WebSocket connecting");
        let deadline = options.connect_timeout.map(|t| runtime.now() + t);
        let stream = timeout_at(&*runtime, deadline, tcp(host.clone(), port))
            .await
            .ok_or_else(|| ConnectError::ConnectTimeout {
                host: host.clone(),
                port,
                timeout: options.connect_timeout.unwrap_or_default(),
            })?
            .map_err(|source| ConnectError::Connect {
                host: host.clone(),
                port,
                source,
            })?;
        let started = runtime.now();
        let stream = if handshake.scheme() == Scheme::Wss {
            let deadline = options.handshake.timeout.map(|t| started + t);
            let tls_stream = timeout_at(&*runtime, deadline, tls(host.clone(), stream))
                .await
                .ok_or(HandshakeError::Timeout(
                    options.handshake.timeout.unwrap_or_default(),
                ))?
                .map_err(|source| ConnectError::Tls { host, port, source })?;
            MaybeTls::Tls(Box::new(tls_stream))
        } else {
            MaybeTls::Plain(stream)
        };
        let mut remaining = options.handshake;
        let spent = runtime.now().saturating_duration_since(started);
        remaining.timeout = remaining.timeout.map(|t| t.saturating_sub(spent));
        crate::handshake::client(runtime, stream, handshake, config, remaining)
            .await
            .map_err(|e| ConnectError::Handshake(whole_timeout(e, options.handshake.timeout)))
    }
    .await;
    if let Err(error) = &result {
        crate::trace::connect_failed(error);
    }
    result
}

/// The upgrade ran in what the TLS handshake left of the handshake
/// timeout; a timeout is reported as the whole configured one.
fn whole_timeout(error: HandshakeError, timeout: Option<std::time::Duration>) -> HandshakeError {
    match error {
        HandshakeError::Timeout(_) => HandshakeError::Timeout(timeout.unwrap_or_default()),
        other => other,
    }
}

/// Accepts on a transport: `tls` (if given) runs the TLS handshake first,
/// then the WebSocket upgrade with `decide`; both within the handshake
/// timeout.
pub async fn accept<P, T, L, LF, F>(
    runtime: Arc<dyn Runtime>,
    stream: P,
    tls: Option<L>,
    config: impl Into<Arc<Config>>,
    options: HandshakeOptions,
    decide: F,
) -> Result<(Session<MaybeTls<P, T>>, AcceptedRequest), HandshakeError>
where
    P: AsyncRead + AsyncWrite + Unpin,
    T: AsyncRead + AsyncWrite + Unpin,
    L: FnOnce(P) -> LF,
    LF: Future<Output = io::Result<T>>,
    F: FnOnce(&UpgradeRequest) -> Decision,
{
    let started = runtime.now();
    let stream = match tls {
        Some(tls) => {
            let deadline = options.timeout.map(|t| started + t);
            let tls_stream = timeout_at(&*runtime, deadline, tls(stream))
                .await
                .ok_or(HandshakeError::Timeout(options.timeout.unwrap_or_default()))??;
            MaybeTls::Tls(Box::new(tls_stream))
        }
        None => MaybeTls::Plain(stream),
    };
    let mut remaining = options;
    let spent = runtime.now().saturating_duration_since(started);
    remaining.timeout = remaining.timeout.map(|t| t.saturating_sub(spent));
    crate::handshake::server(runtime, stream, config, remaining, decide)
        .await
        .map_err(|e| whole_timeout(e, options.timeout))
}
