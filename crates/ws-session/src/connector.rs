//! The client side, once for every runtime: [`Connector`] opens the
//! stream to the server (its [`Transport`]: TCP, or a proxy tunnel), sets
//! the TCP options, runs TLS for `wss://` and then the WebSocket
//! handshake, within the connect and handshake timeouts.
//!
//! ```text
//!  connect(request) ─► Transport::open(host, port) ─► TcpOptions ─(wss)─► TLS ─► handshake::client ─► Session
//!                      └──────── connect timeout ──┘               └──── handshake timeout ────────┘
//! ```

use std::sync::Arc;
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};
use wsproto_core::Config;
use wsproto_core::handshake::Scheme;

use crate::error::{ConnectError, HandshakeError};
use crate::handshake::{ClientResponse, HandshakeOptions};
use crate::net::{DirectTcp, Net, TcpOptions, Transport};
use crate::request::IntoClientRequest;
use crate::runtime::{Runtime, timeout_at};
use crate::session::Session;
use crate::stream::MaybeTls;

/// How long opening the stream to the server may take by default (the
/// [`Transport`]'s whole work: name resolution, TCP connect, a proxy's
/// tunnel): a host that does not answer in 30 s is down for a person
/// waiting on it.
const DEFAULT_CONNECT_TIMEOUT: Option<Duration> = Some(Duration::from_secs(30));

/// Timeouts and socket options of a client connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectOptions {
    connect_timeout: Option<Duration>,
    handshake: HandshakeOptions,
    tcp: TcpOptions,
}

impl Default for ConnectOptions {
    /// 30 s to connect, the [`HandshakeOptions`] and [`TcpOptions`]
    /// defaults.
    fn default() -> Self {
        ConnectOptions {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            handshake: HandshakeOptions::default(),
            tcp: TcpOptions::default(),
        }
    }
}

impl ConnectOptions {
    /// The defaults.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How long opening the stream may take (`None`: no limit).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The TLS and WebSocket handshakes.
    #[must_use]
    pub fn handshake(mut self, handshake: HandshakeOptions) -> Self {
        self.handshake = handshake;
        self
    }

    /// The options set on the TCP socket.
    #[must_use]
    pub fn tcp(mut self, tcp: TcpOptions) -> Self {
        self.tcp = tcp;
        self
    }

    /// The connect timeout.
    #[must_use]
    pub fn get_connect_timeout(&self) -> Option<Duration> {
        self.connect_timeout
    }

    /// The handshake options.
    #[must_use]
    pub fn get_handshake(&self) -> HandshakeOptions {
        self.handshake
    }

    /// The TCP options.
    #[must_use]
    pub fn get_tcp(&self) -> TcpOptions {
        self.tcp
    }
}

/// A client: the session [`Config`], TLS, timeouts, TCP options, and how
/// the stream to the server is opened, for runtime `R`. Cloning is cheap
/// (the config and TLS config are shared), and connections made by one
/// connector and its clones share one TLS session cache.
///
/// Each adapter wraps it (`ws_tokio::Connector`, `ws_async_std::Connector`).
pub struct Connector<R: Net> {
    runtime: Arc<R>,
    config: Arc<Config>,
    connect_timeout: Option<Duration>,
    handshake: HandshakeOptions,
    tcp: TcpOptions,
    transport: Arc<dyn Transport<R>>,
    #[cfg(feature = "rustls")]
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl<R: Net> Clone for Connector<R> {
    fn clone(&self) -> Self {
        Connector {
            runtime: self.runtime.clone(),
            config: self.config.clone(),
            connect_timeout: self.connect_timeout,
            handshake: self.handshake,
            tcp: self.tcp,
            transport: self.transport.clone(),
            #[cfg(feature = "rustls")]
            tls: self.tls.clone(),
        }
    }
}

impl<R: Net> std::fmt::Debug for Connector<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("runtime", &self.runtime)
            .field("options", &self.get_options())
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

impl<R: Net + Default> Default for Connector<R> {
    fn default() -> Self {
        Self::with_runtime(R::default())
    }
}

impl<R: Net> Connector<R> {
    /// The defaults ([`Config::default`], [`ConnectOptions::default`],
    /// direct TCP, webpki roots for `wss://`) on `runtime`.
    #[must_use]
    pub fn with_runtime(runtime: R) -> Self {
        let options = ConnectOptions::default();
        Connector {
            runtime: Arc::new(runtime),
            config: Arc::default(),
            connect_timeout: options.connect_timeout,
            handshake: options.handshake,
            tcp: options.tcp,
            transport: Arc::new(DirectTcp),
            #[cfg(feature = "rustls")]
            tls: None,
        }
    }

    crate::builder::shared_builder_methods!(rustls::ClientConfig);

    /// Timeouts and TCP options at once.
    #[must_use]
    pub fn options(mut self, options: ConnectOptions) -> Self {
        self.connect_timeout = options.connect_timeout;
        self.handshake = options.handshake;
        self.tcp = options.tcp;
        self
    }

    /// How long opening the stream may take (`None`: no limit).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How the stream to the server is opened: [`DirectTcp`] by default,
    /// or a proxy's tunnel.
    #[must_use]
    pub fn transport(mut self, transport: impl Transport<R>) -> Self {
        self.transport = Arc::new(transport);
        self
    }

    /// The timeouts and TCP options.
    #[must_use]
    pub fn get_options(&self) -> ConnectOptions {
        ConnectOptions {
            connect_timeout: self.connect_timeout,
            handshake: self.handshake,
            tcp: self.tcp,
        }
    }

    /// Connects to the server of `request` (a `ws://` or `wss://` URL, an
    /// `http::Request`, a [`ClientRequestBuilder`](crate::ClientRequestBuilder)):
    /// opens the stream, runs TLS for `wss://`, then the upgrade.
    pub async fn connect(
        &self,
        request: impl IntoClientRequest,
    ) -> Result<(Session<MaybeTls<R::Tcp>>, ClientResponse), ConnectError> {
        let result = self.connect_inner(request).await;
        if let Err(error) = &result {
            crate::trace::connect_failed(error);
        }
        result
    }

    async fn connect_inner(
        &self,
        request: impl IntoClientRequest,
    ) -> Result<(Session<MaybeTls<R::Tcp>>, ClientResponse), ConnectError> {
        let handshake = crate::handshake::build_request(request, &self.config)?;
        let host = handshake
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = handshake.port();
        crate::trace::trace_debug!(host = %host, port, scheme = ?handshake.scheme(), "WebSocket connecting");
        if handshake.scheme() == Scheme::Wss && !cfg!(feature = "rustls") {
            return Err(ConnectError::TlsDisabled { host, port });
        }
        let runtime: &R = &self.runtime;
        let deadline = self.connect_timeout.map(|t| runtime.now() + t);
        let tcp = timeout_at(runtime, deadline, self.transport.open(runtime, &host, port))
            .await
            .ok_or_else(|| ConnectError::ConnectTimeout {
                host: host.clone(),
                port,
                timeout: self.connect_timeout.unwrap_or_default(),
            })??;
        // A socket option the platform refuses is no reason to fail.
        let _ = R::configure_tcp(&tcp, &self.tcp);
        let handshake_options = self.handshake;
        let started = runtime.now();
        let stream = if handshake.scheme() == Scheme::Wss {
            self.tls_connect(tcp, host, port, handshake_options.deadline(started))
                .await?
        } else {
            MaybeTls::Plain(tcp)
        };
        let remaining = handshake_options.after(runtime.now().saturating_duration_since(started));
        let runtime: Arc<dyn Runtime> = self.runtime.clone();
        crate::handshake::client(runtime, stream, handshake, self.config.clone(), remaining)
            .await
            .map_err(|e| ConnectError::Handshake(handshake_options.whole_timeout(e)))
    }

    #[cfg(feature = "rustls")]
    async fn tls_connect(
        &self,
        tcp: R::Tcp,
        host: String,
        port: u16,
        deadline: Option<std::time::Instant>,
    ) -> Result<MaybeTls<R::Tcp>, ConnectError> {
        let tls = self
            .tls
            .clone()
            .unwrap_or_else(crate::tls::default_client_config);
        let stream = timeout_at(
            &*self.runtime,
            deadline,
            crate::tls::connect(tls, &host, tcp),
        )
        .await
        .ok_or(self.handshake.timed_out())?
        .map_err(|source| ConnectError::Tls { host, port, source })?;
        Ok(MaybeTls::Tls(Box::new(stream)))
    }

    /// Without the `rustls` feature a `wss://` URL is refused before
    /// anything is opened (see `connect_inner`).
    #[cfg(not(feature = "rustls"))]
    #[allow(clippy::unused_async)]
    async fn tls_connect(
        &self,
        _tcp: R::Tcp,
        host: String,
        port: u16,
        _deadline: Option<std::time::Instant>,
    ) -> Result<MaybeTls<R::Tcp>, ConnectError> {
        Err(ConnectError::TlsDisabled { host, port })
    }

    /// Runs the WebSocket handshake over a stream the caller already has
    /// (a Unix socket, an in-memory pipe, a TLS stream of its own, an
    /// upgraded HTTP connection): no connect, no TLS, no socket options;
    /// the URL in `request` gives the `Host` and the path.
    pub async fn connect_over<S>(
        &self,
        stream: S,
        request: impl IntoClientRequest,
    ) -> Result<(Session<MaybeTls<S>>, ClientResponse), HandshakeError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let handshake = crate::handshake::build_request(request, &self.config)?;
        let runtime: Arc<dyn Runtime> = self.runtime.clone();
        crate::handshake::client(
            runtime,
            MaybeTls::Plain(stream),
            handshake,
            self.config.clone(),
            self.handshake,
        )
        .await
    }
}
