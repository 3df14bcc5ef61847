//! The client: TCP connect, TLS for `wss://`, then `ws_session`'s connect
//! flow (timeouts, errors, the upgrade).

use std::sync::Arc;
use std::time::Duration;

use rustls::ClientConfig;
use tokio::net::TcpStream;
use ws_session::{
    ClientBuilder, ClientResponse, Config, ConnectError, ConnectOptions, HandshakeError,
};

use crate::{Compat, TokioRuntime, WebSocket};

/// Connects to `url` (`ws://` or `wss://`) with the default [`Connector`].
///
/// Returns the session and the server's response (status, headers,
/// negotiated subprotocol and extensions). A refusal carries the server's
/// answer:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use ws_tokio::{Acceptor, Decision, http::StatusCode};
///
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let url = format!("ws://{}/admin", listener.local_addr()?);
/// tokio::spawn(async move {
///     let (tcp, _) = listener.accept().await.unwrap();
///     let reject = |_: &_| Decision::reject(StatusCode::FORBIDDEN, "admins only");
///     let _ = Acceptor::new().accept_with(tcp, reject).await;
/// });
/// let err = ws_tokio::connect(&url).await.unwrap_err();
/// assert_eq!(err.rejection().unwrap().status(), StatusCode::FORBIDDEN);
/// assert!(err.to_string().contains("\"HTTP/1.1 403 Forbidden\""));
/// assert!(err.to_string().contains("admins only"));
/// # Ok(())
/// # }
/// ```
pub async fn connect(url: &str) -> Result<(WebSocket, ClientResponse), ConnectError> {
    Connector::new().connect(url).await
}

/// Client options: the session [`Config`], TLS, and timeouts (Ktor's
/// `webSocket { … }` client setup).
#[derive(Debug, Clone)]
pub struct Connector {
    /// Shared by every connection made here (cloning this is cheap).
    config: Arc<Config>,
    tls: Option<Arc<ClientConfig>>,
    options: ConnectOptions,
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
            config: Arc::default(),
            tls: None,
            options: ConnectOptions::default(),
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

    /// Connects to a `ws://` or `wss://` URL.
    pub async fn connect(&self, url: &str) -> Result<(WebSocket, ClientResponse), ConnectError> {
        self.connect_request(ClientBuilder::new(url)?).await
    }

    /// Connects with a request built by `builder`: from a URL or an
    /// `http::Request` (`ClientBuilder::from_request`), with extra headers
    /// and subprotocols; extension offers come from the config.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use ws_tokio::{AcceptOptions, Acceptor, ClientBuilder, Connector, Decision};
    /// use ws_tokio::http::{HeaderName, HeaderValue};
    ///
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let url = format!("ws://{}/rooms/1?user=ann", listener.local_addr()?);
    /// tokio::spawn(async move {
    ///     let (tcp, _) = listener.accept().await.unwrap();
    ///     // The server sees the path, query, headers and offered subprotocols.
    ///     let _ = Acceptor::new()
    ///         .accept_with(tcp, |request| {
    ///             assert_eq!(request.request().headers()["x-trace"], "42");
    ///             Decision::accept_with(AcceptOptions::new().subprotocol("chat.v2"))
    ///         })
    ///         .await;
    /// });
    ///
    /// let builder = ClientBuilder::new(&url)?
    ///     .header(HeaderName::from_static("x-trace"), HeaderValue::from_static("42"))
    ///     .subprotocol("chat.v2")
    ///     .subprotocol("chat.v1");
    /// let (_ws, response) = Connector::new().connect_request(builder).await?;
    /// assert_eq!(response.subprotocol.as_deref(), Some("chat.v2"));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect_request(
        &self,
        builder: ClientBuilder,
    ) -> Result<(WebSocket, ClientResponse), ConnectError> {
        let tls = self
            .tls
            .clone()
            .unwrap_or_else(crate::default_client_config);
        Box::pin(ws_session::connect(
            Arc::new(TokioRuntime),
            builder,
            self.config.clone(),
            self.options,
            |host, port| async move {
                let tcp = TcpStream::connect((host.as_str(), port)).await?;
                let _ = tcp.set_nodelay(true);
                Ok(Compat::new(tcp))
            },
            |host, tcp| async move {
                let name = ws_session::tls::server_name(host)?;
                let stream = tokio_rustls::TlsConnector::from(tls)
                    .connect(name, tcp.into_inner())
                    .await?;
                Ok(Compat::new(tokio_rustls::TlsStream::Client(stream)))
            },
        ))
        .await
    }

    /// Runs the WebSocket handshake over a stream the caller already has
    /// (a proxy tunnel, a Unix socket, an in-memory pipe, a TLS stream of
    /// its own). The URL in `builder` gives the `Host` and path; no
    /// connection is made.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use ws_tokio::{ClientBuilder, Connector, Message};
    ///
    /// // Any tokio stream will do: here an in-memory pipe to a server.
    /// let (client_end, server_end) = tokio::io::duplex(64 * 1024);
    /// tokio::spawn(async move {
    ///     let mut ws = ws_tokio::accept(server_end).await.unwrap();
    ///     let message = ws.recv().await.unwrap();
    ///     ws.send_message(message).await.unwrap();
    /// });
    /// let builder = ClientBuilder::new("ws://tunnel.invalid/echo")?;
    /// let (mut ws, _) = Connector::new().client_over(client_end, builder).await?;
    /// ws.send_text("through the pipe").await?;
    /// assert_eq!(ws.recv().await?, Message::Text("through the pipe".into()));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn client_over<S>(
        &self,
        stream: S,
        builder: ClientBuilder,
    ) -> Result<(WebSocket<Compat<S>>, ClientResponse), HandshakeError>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        let handshake = ws_session::build_request(builder, &self.config)?;
        ws_session::client(
            Arc::new(TokioRuntime),
            Compat::new(stream),
            handshake,
            self.config.clone(),
            self.options.handshake,
        )
        .await
    }
}
