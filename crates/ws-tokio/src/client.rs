//! The client: TCP connect (with a timeout), TLS for `wss://`, the upgrade.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_util::compat::TokioAsyncReadCompatExt as _;
use ws_session::{ClientBuilder, ClientResponse, Config, HandshakeError, HandshakeOptions};
use wsproto_core::handshake::Scheme;

use crate::{MaybeTlsStream, TokioRuntime, WebSocket};

/// Why connecting failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The TCP connection could not be made.
    #[error("could not connect to {host}:{port}: {source} (is the server running and reachable?)")]
    Connect {
        /// The host from the URL.
        host: String,
        /// The port.
        port: u16,
        /// The system's error.
        source: io::Error,
    },
    /// The TCP connection was not made within the connect timeout.
    #[error("connecting to {host}:{port} timed out after {timeout:?}")]
    ConnectTimeout {
        /// The host from the URL.
        host: String,
        /// The port.
        port: u16,
        /// The timeout.
        timeout: Duration,
    },
    /// The host is not a valid TLS server name.
    #[error("{0:?} is not a valid TLS server name")]
    InvalidServerName(String),
    /// The TLS handshake failed (certificate not trusted, name mismatch,
    /// protocol mismatch).
    #[error("TLS handshake with {host} failed: {source}")]
    Tls {
        /// The host from the URL.
        host: String,
        /// What rustls said.
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
    pub fn rejection(&self) -> Option<&http::Response<wsproto_core::Bytes>> {
        match self {
            ConnectError::Handshake(e) => e.rejection(),
            _ => None,
        }
    }
}

/// Connects to `url` (`ws://` or `wss://`) with the default [`Connector`].
///
/// Returns the session and the server's response (status, headers,
/// negotiated subprotocol and extensions).
pub async fn connect(url: &str) -> Result<(WebSocket, ClientResponse), ConnectError> {
    Connector::new().connect(url).await
}

/// Client options: the session [`Config`], TLS, and timeouts (Ktor's
/// `webSocket { … }` client setup).
#[derive(Debug, Clone)]
pub struct Connector {
    config: Config,
    tls: Option<Arc<ClientConfig>>,
    connect_timeout: Option<Duration>,
    handshake: HandshakeOptions,
}

impl Default for Connector {
    fn default() -> Self {
        Self::new()
    }
}

impl Connector {
    /// Default config, webpki roots, a 30 s connect timeout and a 30 s
    /// handshake timeout.
    #[must_use]
    pub fn new() -> Self {
        Connector {
            config: Config::default(),
            tls: None,
            connect_timeout: Some(Duration::from_secs(30)),
            handshake: HandshakeOptions::default(),
        }
    }

    /// The session configuration (limits, heartbeat, compression, mode).
    #[must_use]
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
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
        self.connect_timeout = timeout;
        self
    }

    /// How long the TLS and WebSocket handshakes may take (`None`: no
    /// limit).
    #[must_use]
    pub fn handshake_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.handshake.timeout = timeout;
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
        let handshake = ws_session::build_request(builder, &self.config)?;
        let host = handshake
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = handshake.port();
        let connecting = TcpStream::connect((host.as_str(), port));
        let tcp = match self.connect_timeout {
            Some(timeout) => tokio::time::timeout(timeout, connecting)
                .await
                .map_err(|_| ConnectError::ConnectTimeout {
                    host: host.clone(),
                    port,
                    timeout,
                })?,
            None => connecting.await,
        }
        .map_err(|source| ConnectError::Connect {
            host: host.clone(),
            port,
            source,
        })?;
        let _ = tcp.set_nodelay(true);
        let started = tokio::time::Instant::now();
        let stream = if handshake.scheme() == Scheme::Wss {
            let tls = self
                .tls
                .clone()
                .unwrap_or_else(crate::default_client_config);
            let name = ServerName::try_from(host.clone())
                .map_err(|_| ConnectError::InvalidServerName(host.clone()))?;
            let connecting = tokio_rustls::TlsConnector::from(tls).connect(name, tcp);
            let tls_stream = match self.handshake.timeout {
                Some(timeout) => tokio::time::timeout(timeout, connecting)
                    .await
                    .map_err(|_| HandshakeError::Timeout(timeout))?,
                None => connecting.await,
            }
            .map_err(|source| ConnectError::Tls {
                host: host.clone(),
                source,
            })?;
            MaybeTlsStream::ClientTls(Box::new(tls_stream))
        } else {
            MaybeTlsStream::Plain(tcp)
        };
        // The TLS handshake used part of the handshake timeout.
        let mut options = self.handshake;
        options.timeout = options.timeout.map(|t| t.saturating_sub(started.elapsed()));
        Ok(ws_session::client(
            Arc::new(TokioRuntime),
            stream.compat(),
            handshake,
            self.config.clone(),
            options,
        )
        .await?)
    }

    /// Runs the WebSocket handshake over a stream the caller already has
    /// (a proxy tunnel, a Unix socket, an in-memory pipe, a TLS stream of
    /// its own). The URL in `builder` gives the `Host` and path; no
    /// connection is made.
    pub async fn client_over<S>(
        &self,
        stream: S,
        builder: ClientBuilder,
    ) -> Result<(WebSocket<S>, ClientResponse), HandshakeError>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        let handshake = ws_session::build_request(builder, &self.config)?;
        ws_session::client(
            Arc::new(TokioRuntime),
            stream.compat(),
            handshake,
            self.config.clone(),
            self.handshake,
        )
        .await
    }
}
