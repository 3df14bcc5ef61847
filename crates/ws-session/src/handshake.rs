//! The opening handshake over a transport: write the request or the
//! response the core built, read until the core has a complete HTTP head,
//! all within a timeout. The core checks everything; this only moves bytes.

use std::sync::Arc;
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};
use futures_util::{AsyncReadExt as _, AsyncWriteExt as _};
use http::{HeaderMap, StatusCode};
use wsproto_core::handshake::{
    ClientBuilder, ClientError, ClientHandshake, ClientUpgrade, Progress, ServerError,
    ServerHandshake, UpgradeRequest, response_bytes,
};
use wsproto_core::{Config, MaskRng};

use crate::decision::Decision;
use crate::error::HandshakeError;
use crate::request::IntoClientRequest;
use crate::runtime::{Runtime, timeout_at};
use crate::session::Session;

/// Bytes read per call while waiting for an HTTP head.
const HEAD_READ: usize = 4096;

/// `subprotocol()` and `extensions()`, for both ends' view of a handshake.
macro_rules! negotiated_accessors {
    () => {
        /// The subprotocol the server chose, if any.
        #[must_use]
        pub fn subprotocol(&self) -> Option<&str> {
            self.subprotocol.as_deref()
        }

        /// The names of the negotiated extensions (for example
        /// `permessage-deflate`); the parameters are in the
        /// `Sec-WebSocket-Extensions` header.
        #[must_use]
        pub fn extensions(&self) -> &[String] {
            &self.extensions
        }
    };
}

/// The server's answer to a successful client handshake: the
/// `101 Switching Protocols` response and what it negotiated.
#[derive(Debug, Clone)]
pub struct ClientResponse {
    response: http::Response<()>,
    subprotocol: Option<String>,
    extensions: Vec<String>,
    url: Option<http::Uri>,
    redirected_from: Vec<http::Uri>,
}

impl ClientResponse {
    /// The status (101).
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.response.status()
    }

    /// The response's headers.
    #[must_use]
    pub fn headers(&self) -> &HeaderMap {
        self.response.headers()
    }

    /// The whole response head.
    #[must_use]
    pub fn response(&self) -> &http::Response<()> {
        &self.response
    }

    negotiated_accessors!();

    /// The URL of the server that answered: the one asked for, or where
    /// the redirects led. `None` after [`client`] or `connect_over`, which
    /// open nothing themselves.
    #[must_use]
    pub fn url(&self) -> Option<&http::Uri> {
        self.url.as_ref()
    }

    /// The URLs that redirected, in order (empty when none did).
    #[must_use]
    pub fn redirected_from(&self) -> &[http::Uri] {
        &self.redirected_from
    }

    /// Records the URL that answered and the chain that led there (the
    /// last URL of `chain` is `url`).
    pub(crate) fn set_url(&mut self, url: http::Uri, chain: &[http::Uri]) {
        self.url = Some(url);
        self.redirected_from = chain[..chain.len().saturating_sub(1)].to_vec();
    }

    /// The response head, for code that wants `http`'s type.
    #[must_use]
    pub fn into_response(self) -> http::Response<()> {
        self.response
    }
}

/// What a server accepted: the client's request and what was negotiated.
#[derive(Debug, Clone)]
pub struct AcceptedRequest {
    request: http::Request<()>,
    subprotocol: Option<String>,
    extensions: Vec<String>,
}

impl AcceptedRequest {
    /// The client's upgrade request (method, URI, headers).
    #[must_use]
    pub fn request(&self) -> &http::Request<()> {
        &self.request
    }

    /// The request's URI (path and query).
    #[must_use]
    pub fn uri(&self) -> &http::Uri {
        self.request.uri()
    }

    /// The request's headers.
    #[must_use]
    pub fn headers(&self) -> &HeaderMap {
        self.request.headers()
    }

    negotiated_accessors!();

    /// The request, for code that wants `http`'s type.
    #[must_use]
    pub fn into_request(self) -> http::Request<()> {
        self.request
    }
}

/// How long a whole opening handshake may take by default (writing the
/// request and reading the response, or the reverse; TLS included where a
/// connector or acceptor runs it): long enough for a slow link, short
/// enough that a peer that never answers does not hold a connection (or a
/// place under a connection cap) long: 10 s, Python `websockets`'
/// `open_timeout`. A slowloris client holds a server's socket no longer.
const DEFAULT_HANDSHAKE_TIMEOUT: Option<Duration> = Some(Duration::from_secs(10));

/// Handshake options shared by client and server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct HandshakeOptions {
    timeout: Option<Duration>,
}

impl Default for HandshakeOptions {
    /// A 10-second handshake timeout.
    fn default() -> Self {
        HandshakeOptions {
            timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }
}

impl HandshakeOptions {
    /// The defaults: a 10-second handshake timeout.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The whole handshake (writing the request, reading the response, or
    /// the reverse; TLS first where it runs) must finish within this.
    /// `None`: no limit.
    #[must_use]
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// The handshake timeout.
    #[must_use]
    pub fn get_timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// What is left of the timeout once `spent` has gone (on TLS).
    pub(crate) fn after(self, spent: Duration) -> Self {
        HandshakeOptions {
            timeout: self.timeout.map(|t| t.saturating_sub(spent)),
        }
    }

    /// A timeout of the rest of the handshake (see [`after`](Self::after))
    /// is reported as the whole configured one.
    pub(crate) fn whole_timeout(self, error: HandshakeError) -> HandshakeError {
        match error {
            HandshakeError::Timeout(_) => HandshakeError::Timeout(self.timeout.unwrap_or_default()),
            other => other,
        }
    }

    /// The error of a handshake that did not finish in time.
    pub(crate) fn timed_out(self) -> HandshakeError {
        HandshakeError::Timeout(self.timeout.unwrap_or_default())
    }

    /// The deadline of a handshake that starts at `start`.
    pub(crate) fn deadline(self, start: std::time::Instant) -> Option<std::time::Instant> {
        self.timeout.map(|t| start + t)
    }
}

fn map_client_error(error: ClientError) -> HandshakeError {
    match error {
        ClientError::Response(e) => HandshakeError::Response(e),
        other => HandshakeError::Io(std::io::Error::other(other)),
    }
}

/// Builds the client's upgrade request with a fresh `Sec-WebSocket-Key`
/// from the operating system's RNG, and the extension offers of `config`.
/// Its `host()`, `port()` and `scheme()` say where to connect.
pub fn build_request(
    request: impl IntoClientRequest,
    config: &Config,
) -> Result<ClientHandshake, HandshakeError> {
    let builder = ClientBuilder::from_request(request.into_client_request()?);
    let key = ClientHandshake::random_key()
        .map_err(|e| HandshakeError::Io(std::io::Error::other(e.to_string())))?;
    Ok(builder.build(key, config)?)
}

/// Runs the client handshake over `io` (an established transport: TCP,
/// TLS, a proxy tunnel, a Unix socket, an in-memory pipe) and starts the
/// session. Build `handshake` with [`build_request`]; the mask generator's
/// seed comes from the operating system's RNG.
pub async fn client<S>(
    runtime: Arc<dyn Runtime>,
    io: S,
    handshake: ClientHandshake,
    config: impl Into<Arc<Config>>,
    options: HandshakeOptions,
) -> Result<(Session<S>, ClientResponse), HandshakeError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let result = async move {
        let mut io = io;
        let deadline = options.deadline(runtime.now());
        let upgrade = timeout_at(&*runtime, deadline, async {
            let mut handshake = handshake;
            io.write_all(handshake.request_bytes()).await?;
            io.flush().await?;
            let mut buf = vec![0u8; HEAD_READ];
            loop {
                let n = io.read(&mut buf).await?;
                if n == 0 {
                    return Err(map_client_error(handshake.handle_eof()));
                }
                if let Progress::Complete(upgrade) =
                    handshake.handle_data(&buf[..n]).map_err(map_client_error)?
                {
                    return Ok(upgrade);
                }
            }
        })
        .await
        .ok_or(options.timed_out())??;
        start_client_session(upgrade, config, io, runtime)
    }
    .await;
    crate::trace::client_handshake(result.as_ref().map(|(_, response)| response));
    result
}

/// Starts the session of a client upgrade that was checked elsewhere: an
/// HTTP/2 extended CONNECT (RFC 8441) whose answer went through
/// [`ClientHandshake::handle_extended_connect_response`], with `io` the
/// stream's bytes. The same last step as [`client`]'s; the mask
/// generator's seed comes from the operating system's RNG.
pub fn start_client_session<S>(
    upgrade: ClientUpgrade,
    config: impl Into<Arc<Config>>,
    io: S,
    runtime: Arc<dyn Runtime>,
) -> Result<(Session<S>, ClientResponse), HandshakeError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let rng =
        MaskRng::from_os().map_err(|e| HandshakeError::Io(std::io::Error::other(e.to_string())))?;
    let response = upgrade.response.clone();
    let subprotocol = upgrade.subprotocol.clone();
    let conn = upgrade.into_connection(config, rng, runtime.now());
    let extensions = conn.extension_names().map(str::to_owned).collect();
    Ok((
        Session::from_connection(conn, io, runtime),
        ClientResponse {
            response,
            subprotocol,
            extensions,
            url: None,
            redirected_from: Vec::new(),
        },
    ))
}

/// Runs the server handshake over `io`: reads the request, asks `decide`
/// (an async closure that sees the path, query, headers, offered
/// subprotocols and extensions, and may look things up before it answers)
/// to accept or reject it, writes the answer, and starts the session. Invalid requests are answered 400/426/431 by the core.
///
/// Both ends over an in-memory pipe, with an adapter's [`Runtime`] (here
/// one without timers, hidden):
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
/// use ws_session::{Config, Decision, HandshakeOptions, Message};
///
/// futures_executor::block_on(async {
///     let (a, b) = ws_session::duplex(64 * 1024);
///     let config = Config::default();
///     let request = ws_session::build_request("ws://localhost/feed", &config)?;
///     let (client, server) = futures_util::future::join(
///         ws_session::client(runtime.clone(), a, request, config.clone(), HandshakeOptions::default()),
///         ws_session::server(runtime, b, config, HandshakeOptions::default(), async |request| {
///             assert_eq!(request.request().uri().path(), "/feed");
///             Decision::accept()
///         }),
///     )
///     .await;
///     let ((mut client, response), (mut server, accepted)) = (client?, server?);
///     assert_eq!(response.status(), 101);
///     assert_eq!(accepted.uri().path(), "/feed");
///     server.send_text("first item").await?;
///     assert_eq!(client.recv().await?, Message::Text("first item".into()));
///     Ok::<(), Box<dyn std::error::Error>>(())
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn server<S, F>(
    runtime: Arc<dyn Runtime>,
    io: S,
    config: impl Into<Arc<Config>>,
    options: HandshakeOptions,
    decide: F,
) -> Result<(Session<S>, AcceptedRequest), HandshakeError>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: AsyncFnOnce(&UpgradeRequest) -> Decision,
{
    let config: Arc<Config> = config.into();
    let result = async move {
        let mut io = io;
        let deadline = options.deadline(runtime.now());
        let outcome = timeout_at(&*runtime, deadline, async {
            let mut handshake = ServerHandshake::new(&config);
            let mut buf = vec![0u8; HEAD_READ];
            let mut received = 0;
            let request = loop {
                let n = io.read(&mut buf).await?;
                if n == 0 {
                    return Err(HandshakeError::UnexpectedEof(received));
                }
                received += n;
                match handshake.handle_data(&buf[..n]) {
                    Ok(Progress::Partial) => {}
                    Ok(Progress::Complete(request)) => break request,
                    Err(ServerError::Request(e)) => {
                        let _ = io.write_all(&e.response_bytes()).await;
                        let _ = io.close().await;
                        return Err(HandshakeError::Request(e));
                    }
                    Err(other) => return Err(HandshakeError::Io(std::io::Error::other(other))),
                }
            };
            let (reply, result) = answer(request, decide).await;
            io.write_all(&reply).await?;
            io.flush().await?;
            match result {
                Ok(accepted) => Ok(accepted),
                Err(e) => {
                    let _ = io.close().await;
                    Err(e)
                }
            }
        })
        .await
        .ok_or(options.timed_out())??;

        let (mut upgrade, request) = outcome;
        Ok(start_server_session(
            &mut upgrade,
            request,
            config,
            io,
            runtime,
        ))
    }
    .await;
    crate::trace::server_handshake(result.as_ref().map(|(_, accepted)| accepted));
    result
}

/// Starts the session of an upgrade that was answered elsewhere: an HTTP
/// server (hyper, axum) parsed the request, sent the response of
/// `upgrade` itself and handed over `io`, the connection after it. The
/// same last step as [`server`]'s, so a session is the same whichever
/// path accepted it.
pub fn start_server_session<S>(
    upgrade: &mut wsproto_core::handshake::ServerUpgrade,
    request: http::Request<()>,
    config: Arc<Config>,
    io: S,
    runtime: Arc<dyn Runtime>,
) -> (Session<S>, AcceptedRequest)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let subprotocol = upgrade.subprotocol.clone();
    let conn = upgrade.into_connection(config, runtime.now());
    let extensions = conn.extension_names().map(str::to_owned).collect();
    (
        Session::from_connection(conn, io, runtime),
        AcceptedRequest {
            request,
            subprotocol,
            extensions,
        },
    )
}

type Answer = Result<(wsproto_core::handshake::ServerUpgrade, http::Request<()>), HandshakeError>;

/// Applies the application's decision: the bytes to write and the outcome.
async fn answer<F>(request: UpgradeRequest, decide: F) -> (Vec<u8>, Answer)
where
    F: AsyncFnOnce(&UpgradeRequest) -> Decision,
{
    match decide(&request).await {
        Decision::Accept(options) => {
            let http_request = request.request().clone();
            match request.accept(&options) {
                Ok(upgrade) => (upgrade.response_bytes(), Ok((upgrade, http_request))),
                Err(e) => {
                    let kind = e.kind().clone();
                    let reply = response_bytes(&e.into_request().reject(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        &HeaderMap::new(),
                        b"the server could not accept this upgrade\n",
                    ));
                    (reply, Err(HandshakeError::Accept(kind)))
                }
            }
        }
        Decision::Reject {
            status,
            headers,
            body,
        } => {
            let reply = response_bytes(&request.reject(status, &headers, &body));
            (reply, Err(HandshakeError::Rejected(status)))
        }
    }
}

/// A connected client/server session pair over two ends of an in-memory
/// pipe, for testing code that uses sessions, after a real handshake (so the
/// config's extensions, such as permessage-deflate, are negotiated).
pub async fn pair<C, S>(
    runtime: Arc<dyn Runtime>,
    client_io: C,
    server_io: S,
    config: impl Into<Arc<Config>>,
) -> Result<(Session<C>, Session<S>), HandshakeError>
where
    C: AsyncRead + AsyncWrite + Unpin,
    S: AsyncRead + AsyncWrite + Unpin,
{
    let config: Arc<Config> = config.into();
    let handshake = build_request("ws://localhost/", &config)?;
    let (client_side, server_side) = futures_util::future::join(
        client(
            runtime.clone(),
            client_io,
            handshake,
            config.clone(),
            HandshakeOptions::default(),
        ),
        server(
            runtime,
            server_io,
            config,
            HandshakeOptions::default(),
            async |_| Decision::accept(),
        ),
    )
    .await;
    Ok((client_side?.0, server_side?.0))
}
