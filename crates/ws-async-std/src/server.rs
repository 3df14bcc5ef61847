//! The server: the upgrade over any futures-io stream, with a callback, a
//! handshake timeout, and a TLS accept path (`ws_session`'s accept flow).

use std::sync::Arc;
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};
use rustls::ServerConfig;
use ws_session::{
    AcceptedRequest, Config, Decision, HandshakeError, HandshakeOptions, UpgradeRequest,
};

use crate::{AsyncIoRuntime, MaybeTlsStream, WebSocket};

/// Accepts a WebSocket upgrade on `stream` with the default config, no
/// subprotocol and a 30 s handshake timeout.
pub async fn accept<S>(stream: S) -> Result<WebSocket<S>, HandshakeError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    Ok(Acceptor::new().accept(stream).await?.0)
}

/// Server options: the session [`Config`], the handshake timeout, TLS and
/// the runtime.
#[derive(Debug, Clone)]
pub struct Acceptor {
    /// Shared by every connection made here (cloning this is cheap).
    config: Arc<Config>,
    handshake: HandshakeOptions,
    tls: Option<Arc<ServerConfig>>,
    runtime: AsyncIoRuntime,
}

impl Default for Acceptor {
    fn default() -> Self {
        Self::new()
    }
}

impl Acceptor {
    /// Default config, a 30 s handshake timeout, no TLS, the default
    /// [`AsyncIoRuntime`].
    #[must_use]
    pub fn new() -> Self {
        Acceptor {
            config: Arc::default(),
            handshake: HandshakeOptions::default(),
            tls: None,
            runtime: AsyncIoRuntime::new(),
        }
    }

    /// The session configuration (limits, heartbeat, compression, mode).
    #[must_use]
    pub fn config(mut self, config: Config) -> Self {
        self.config = Arc::new(config);
        self
    }

    /// How long the (TLS and) WebSocket handshake may take (`None`: no
    /// limit).
    #[must_use]
    pub fn handshake_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.handshake.timeout = timeout;
        self
    }

    /// Serve TLS on [`accept_tcp`](Self::accept_tcp) (see
    /// [`server_config`](crate::server_config)).
    #[must_use]
    pub fn tls_config(mut self, tls: Arc<ServerConfig>) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Where a [`split`](ws_session::Session::split) session's driver task
    /// runs (see [`AsyncIoRuntime::with_spawner`]).
    #[must_use]
    pub fn runtime(mut self, runtime: AsyncIoRuntime) -> Self {
        self.runtime = runtime;
        self
    }

    /// Accepts every valid upgrade request on `stream`.
    pub async fn accept<S>(
        &self,
        stream: S,
    ) -> Result<(WebSocket<S>, AcceptedRequest), HandshakeError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        self.accept_with(stream, |_| Decision::accept()).await
    }

    /// Reads the upgrade request on `stream` and lets `decide` accept it
    /// (subprotocol, extra headers) or reject it (status, headers, body).
    pub async fn accept_with<S, F>(
        &self,
        stream: S,
        decide: F,
    ) -> Result<(WebSocket<S>, AcceptedRequest), HandshakeError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
        F: FnOnce(&UpgradeRequest) -> Decision,
    {
        ws_session::server(
            Arc::new(self.runtime.clone()),
            stream,
            self.config.clone(),
            self.handshake,
            decide,
        )
        .await
    }

    /// Accepts on a freshly accepted TCP connection (`smol::net`'s,
    /// `async_net`'s or `async_std::net`'s `TcpStream`; set `nodelay` on it
    /// first for low latency): the TLS handshake first when a TLS config is
    /// set, then the upgrade; both within the handshake timeout.
    pub async fn accept_tcp<S, F>(
        &self,
        tcp: S,
        decide: F,
    ) -> Result<(WebSocket<MaybeTlsStream<S>>, AcceptedRequest), HandshakeError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
        F: FnOnce(&UpgradeRequest) -> Decision,
    {
        let tls = self.tls.clone().map(|tls| {
            move |tcp: S| async move {
                let stream = futures_rustls::TlsAcceptor::from(tls).accept(tcp).await?;
                Ok(futures_rustls::TlsStream::Server(stream))
            }
        });
        Box::pin(ws_session::accept(
            Arc::new(self.runtime.clone()),
            tcp,
            tls,
            self.config.clone(),
            self.handshake,
            decide,
        ))
        .await
    }
}
