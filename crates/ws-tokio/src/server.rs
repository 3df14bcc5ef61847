//! The server: the upgrade over any stream, with a callback, a handshake
//! timeout, and a TLS accept path (`ws_session`'s accept flow).

use std::sync::Arc;
use std::time::Duration;

use crate::Compat;
use rustls::ServerConfig;
use ws_session::{
    AcceptedRequest, Config, Decision, HandshakeError, HandshakeOptions, UpgradeRequest,
};

use crate::{TokioRuntime, WebSocket};

/// Accepts a WebSocket upgrade on `stream` with the default config, no
/// subprotocol and a 30 s handshake timeout.
pub async fn accept<S>(stream: S) -> Result<WebSocket<Compat<S>>, HandshakeError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    Ok(Acceptor::new().accept(stream).await?.0)
}

/// Server options: the session [`Config`], the handshake timeout and TLS.
#[derive(Debug, Clone)]
pub struct Acceptor {
    /// Shared by every connection made here (cloning this is cheap).
    config: Arc<Config>,
    handshake: HandshakeOptions,
    tls: Option<Arc<ServerConfig>>,
}

impl Default for Acceptor {
    fn default() -> Self {
        Self::new()
    }
}

impl Acceptor {
    /// Default config, a 30 s handshake timeout, no TLS.
    #[must_use]
    pub fn new() -> Self {
        Acceptor {
            config: Arc::default(),
            handshake: HandshakeOptions::default(),
            tls: None,
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

    /// Accepts every valid upgrade request on `stream`.
    pub async fn accept<S>(
        &self,
        stream: S,
    ) -> Result<(WebSocket<Compat<S>>, AcceptedRequest), HandshakeError>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        self.accept_with(stream, |_| Decision::accept()).await
    }

    /// Reads the upgrade request on `stream` and lets `decide` accept it
    /// (subprotocol, extra headers) or reject it (status, headers, body).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use ws_tokio::{Acceptor, ClientBuilder, Connector, Decision, http::StatusCode};
    ///
    /// let (client_end, server_end) = tokio::io::duplex(64 * 1024);
    /// let server = tokio::spawn(async move {
    ///     Acceptor::new()
    ///         .accept_with(server_end, |request| {
    ///             if request.request().uri().path() == "/chat" {
    ///                 Decision::accept()
    ///             } else {
    ///                 Decision::reject(StatusCode::NOT_FOUND, "no such room")
    ///             }
    ///         })
    ///         .await
    ///         .map(|(_, accepted)| accepted.request.uri().to_string())
    /// });
    /// let builder = ClientBuilder::new("ws://localhost/chat")?;
    /// let _client = Connector::new().client_over(client_end, builder).await?;
    /// assert_eq!(server.await?.unwrap(), "/chat");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn accept_with<S, F>(
        &self,
        stream: S,
        decide: F,
    ) -> Result<(WebSocket<Compat<S>>, AcceptedRequest), HandshakeError>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
        F: FnOnce(&UpgradeRequest) -> Decision,
    {
        ws_session::server(
            Arc::new(TokioRuntime),
            Compat::new(stream),
            self.config.clone(),
            self.handshake,
            decide,
        )
        .await
    }

    /// Accepts on a TCP connection: the TLS handshake first when a TLS
    /// config is set, then the upgrade; both within the handshake timeout.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use ws_tokio::{Acceptor, Connector, Decision, Message};
    ///
    /// // A certificate for "localhost", made here; a real server loads its own.
    /// let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()])?;
    /// let key = rustls_pki_types::PrivateKeyDer::Pkcs8(cert.key_pair.serialize_der().into());
    /// let tls = ws_tokio::server_config(vec![cert.cert.der().clone()], key)?;
    ///
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let port = listener.local_addr()?.port();
    /// let acceptor = Acceptor::new().tls_config(tls);
    /// tokio::spawn(async move {
    ///     let (tcp, _) = listener.accept().await.unwrap();
    ///     let (mut ws, _) = acceptor.accept_tcp(tcp, |_| Decision::accept()).await.unwrap();
    ///     let message = ws.recv().await.unwrap();
    ///     ws.send_message(message).await.unwrap();
    /// });
    ///
    /// // The client trusts exactly that certificate.
    /// let mut roots = ws_tokio::rustls::RootCertStore::empty();
    /// roots.add(cert.cert.der().clone())?;
    /// let connector = Connector::new().tls_config(ws_tokio::client_config_with_roots(roots));
    /// let (mut ws, _) = connector.connect(&format!("wss://localhost:{port}/")).await?;
    /// ws.send_text("secret").await?;
    /// assert_eq!(ws.recv().await?, Message::Text("secret".into()));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn accept_tcp<F>(
        &self,
        tcp: tokio::net::TcpStream,
        decide: F,
    ) -> Result<(WebSocket, AcceptedRequest), HandshakeError>
    where
        F: FnOnce(&UpgradeRequest) -> Decision,
    {
        let _ = tcp.set_nodelay(true);
        let tls = self.tls.clone().map(|tls| {
            move |tcp: Compat<tokio::net::TcpStream>| async move {
                let stream = tokio_rustls::TlsAcceptor::from(tls)
                    .accept(tcp.into_inner())
                    .await?;
                Ok(Compat::new(tokio_rustls::TlsStream::Server(stream)))
            }
        });
        Box::pin(ws_session::accept(
            Arc::new(TokioRuntime),
            Compat::new(tcp),
            tls,
            self.config.clone(),
            self.handshake,
            decide,
        ))
        .await
    }
}
