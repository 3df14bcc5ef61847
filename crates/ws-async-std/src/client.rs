//! The client: TCP connect (async-net, with DNS), TLS for `wss://`
//! (futures-rustls), then `ws_session`'s connect flow (timeouts, errors, the
//! upgrade).

use std::sync::Arc;
use std::time::Duration;

use async_net::TcpStream;
use futures_io::{AsyncRead, AsyncWrite};
use rustls::ClientConfig;
use ws_session::{
    ClientBuilder, ClientResponse, Config, ConnectError, ConnectOptions, HandshakeError,
};

use crate::{AsyncIoRuntime, WebSocket};

/// Connects to `url` (`ws://` or `wss://`) with the default [`Connector`].
///
/// Returns the session and the server's response (status, headers,
/// negotiated subprotocol and extensions).
pub async fn connect(url: &str) -> Result<(WebSocket, ClientResponse), ConnectError> {
    Connector::new().connect(url).await
}

/// Client options: the session [`Config`], TLS, timeouts and the runtime
/// (Ktor's `webSocket { … }` client setup).
#[derive(Debug, Clone)]
pub struct Connector {
    /// Shared by every connection made here (cloning this is cheap).
    config: Arc<Config>,
    tls: Option<Arc<ClientConfig>>,
    options: ConnectOptions,
    runtime: AsyncIoRuntime,
}

impl Default for Connector {
    fn default() -> Self {
        Self::new()
    }
}

impl Connector {
    /// Default config, webpki roots, a 30 s connect timeout, a 30 s
    /// handshake timeout, the default [`AsyncIoRuntime`].
    #[must_use]
    pub fn new() -> Self {
        Connector {
            config: Arc::default(),
            tls: None,
            options: ConnectOptions::default(),
            runtime: AsyncIoRuntime::new(),
        }
    }

    /// The session configuration (limits, heartbeat, compression, mode).
    #[must_use]
    pub fn config(mut self, config: Config) -> Self {
        self.config = Arc::new(config);
        self
    }

    /// The TLS configuration for `wss://` (default:
    /// [`default_client_config`](crate::default_client_config)).
    #[must_use]
    pub fn tls_config(mut self, tls: Arc<ClientConfig>) -> Self {
        self.tls = Some(tls);
        self
    }

    /// How long the TCP connect may take (`None`: no limit).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.options.connect_timeout = timeout;
        self
    }

    /// How long the TLS and WebSocket handshakes may take (`None`: no
    /// limit).
    #[must_use]
    pub fn handshake_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.options.handshake.timeout = timeout;
        self
    }

    /// Where a [`split`](ws_session::Session::split) session's driver task
    /// runs (see [`AsyncIoRuntime::with_spawner`]).
    #[must_use]
    pub fn runtime(mut self, runtime: AsyncIoRuntime) -> Self {
        self.runtime = runtime;
        self
    }

    /// Connects to a `ws://` or `wss://` URL.
    pub async fn connect(&self, url: &str) -> Result<(WebSocket, ClientResponse), ConnectError> {
        self.connect_request(ClientBuilder::new(url)?).await
    }

    /// Connects with a request built by `builder`: from a URL or an
    /// `http::Request` (`ClientBuilder::from_request`), with extra headers
    /// and subprotocols; extension offers come from the config.
    pub async fn connect_request(
        &self,
        builder: ClientBuilder,
    ) -> Result<(WebSocket, ClientResponse), ConnectError> {
        let tls = self
            .tls
            .clone()
            .unwrap_or_else(crate::default_client_config);
        Box::pin(ws_session::connect(
            Arc::new(self.runtime.clone()),
            builder,
            self.config.clone(),
            self.options,
            |host, port| async move {
                let tcp = TcpStream::connect((host.as_str(), port)).await?;
                let _ = tcp.set_nodelay(true);
                Ok(tcp)
            },
            |host, tcp| async move {
                let name = ws_session::tls::server_name(host)?;
                let stream = futures_rustls::TlsConnector::from(tls)
                    .connect(name, tcp)
                    .await?;
                Ok(futures_rustls::TlsStream::Client(stream))
            },
        ))
        .await
    }

    /// Runs the WebSocket handshake over a stream the caller already has
    /// (an `async_std::net::TcpStream`, a Unix socket, a proxy tunnel, a TLS
    /// stream of its own: anything with the futures-io traits). The URL in
    /// `builder` gives the `Host` and path; no connection is made.
    pub async fn client_over<S>(
        &self,
        stream: S,
        builder: ClientBuilder,
    ) -> Result<(WebSocket<S>, ClientResponse), HandshakeError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let handshake = ws_session::build_request(builder, &self.config)?;
        ws_session::client(
            Arc::new(self.runtime.clone()),
            stream,
            handshake,
            self.config.clone(),
            self.options.handshake,
        )
        .await
    }
}
