//! The opening handshake over a transport: write the request or the
//! response the core built, read until the core has a complete HTTP head,
//! all within a timeout. The core checks everything; this only moves bytes.

use std::sync::Arc;
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};
use futures_util::{AsyncReadExt as _, AsyncWriteExt as _};
use http::{HeaderMap, StatusCode};
use wsproto_core::handshake::{
    AcceptOptions, ClientBuilder, ClientError, ClientHandshake, Progress, ServerError,
    ServerHandshake, UpgradeRequest, response_bytes,
};
use wsproto_core::{Config, MaskRng};

use crate::error::HandshakeError;
use crate::runtime::{Runtime, timeout_at};
use crate::session::Session;

/// Bytes read per call while waiting for an HTTP head.
const HEAD_READ: usize = 4096;

/// The server's answer to a successful client handshake.
#[derive(Debug, Clone)]
pub struct ClientResponse {
    /// The `101 Switching Protocols` response: status and headers.
    pub response: http::Response<()>,
    /// The subprotocol the server chose, if any.
    pub subprotocol: Option<String>,
    /// The names of the negotiated extensions (for example
    /// `permessage-deflate`); the parameters are in the response's
    /// `Sec-WebSocket-Extensions` header.
    pub extensions: Vec<String>,
}

/// What a server accepted.
#[derive(Debug, Clone)]
pub struct AcceptedRequest {
    /// The client's upgrade request (path, query, headers).
    pub request: http::Request<()>,
    /// The subprotocol chosen, if any.
    pub subprotocol: Option<String>,
    /// The names of the negotiated extensions.
    pub extensions: Vec<String>,
}

/// A server's answer to an upgrade request, chosen by the application's
/// callback after looking at the [`UpgradeRequest`].
#[derive(Debug)]
#[non_exhaustive]
pub enum Decision {
    /// Accept, with a subprotocol and extra response headers.
    Accept(AcceptOptions),
    /// Refuse with an HTTP status, headers and a body.
    Reject {
        /// The status (for example 401, 403, 404).
        status: StatusCode,
        /// Extra response headers.
        headers: HeaderMap,
        /// The response body.
        body: Vec<u8>,
    },
}

impl Decision {
    /// Accept with default options (no subprotocol, no extra headers).
    #[must_use]
    pub fn accept() -> Self {
        Decision::Accept(AcceptOptions::new())
    }

    /// Accept with `options`.
    #[must_use]
    pub fn accept_with(options: AcceptOptions) -> Self {
        Decision::Accept(options)
    }

    /// Refuse with `status`, no extra headers, and `body`.
    #[must_use]
    pub fn reject(status: StatusCode, body: impl Into<Vec<u8>>) -> Self {
        Decision::Reject {
            status,
            headers: HeaderMap::new(),
            body: body.into(),
        }
    }
}

/// Handshake options shared by client and server.
#[derive(Debug, Clone, Copy)]
pub struct HandshakeOptions {
    /// The whole handshake (writing the request, reading the response, or
    /// the reverse) must finish within this. `None`: no limit.
    pub timeout: Option<Duration>,
}

impl Default for HandshakeOptions {
    /// A 30-second handshake timeout.
    fn default() -> Self {
        HandshakeOptions {
            timeout: Some(Duration::from_secs(30)),
        }
    }
}

fn map_client_error(error: ClientError) -> HandshakeError {
    match error {
        ClientError::Response(e) => HandshakeError::Response(e),
        other => HandshakeError::Io(std::io::Error::other(other)),
    }
}

/// Builds the client's upgrade request with a fresh `Sec-WebSocket-Key`
/// from the operating system's RNG. Its `host()`, `port()` and `scheme()`
/// say where to connect.
pub fn build_request(
    builder: ClientBuilder,
    config: &Config,
) -> Result<ClientHandshake, HandshakeError> {
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
        let deadline = options.timeout.map(|t| runtime.now() + t);
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
        .ok_or(HandshakeError::Timeout(options.timeout.unwrap_or_default()))??;

        let rng = MaskRng::from_os()
            .map_err(|e| HandshakeError::Io(std::io::Error::other(e.to_string())))?;
        let response = upgrade.response.clone();
        let subprotocol = upgrade.subprotocol.clone();
        let now = runtime.now();
        let conn = upgrade.into_connection(config, rng, now);
        let extensions = conn.extension_names().map(str::to_owned).collect();
        Ok((
            Session::from_connection(conn, io, runtime),
            ClientResponse {
                response,
                subprotocol,
                extensions,
            },
        ))
    }
    .await;
    crate::trace::client_handshake(result.as_ref().map(|(_, response)| response));
    result
}

/// Runs the server handshake over `io`: reads the request, asks `decide`
/// (which sees the path, query, headers, offered subprotocols and
/// extensions) to accept or reject it, writes the answer, and starts the
/// session. Invalid requests are answered 400/426/431 by the core.
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
/// use ws_session::{ClientBuilder, Config, Decision, HandshakeOptions, Message};
///
/// futures_executor::block_on(async {
///     let (a, b) = ws_session::duplex(64 * 1024);
///     let config = Config::default();
///     let request = ws_session::build_request(ClientBuilder::new("ws://localhost/feed")?, &config)?;
///     let (client, server) = futures_util::future::join(
///         ws_session::client(runtime.clone(), a, request, config.clone(), HandshakeOptions::default()),
///         ws_session::server(runtime, b, config, HandshakeOptions::default(), |request| {
///             assert_eq!(request.request().uri().path(), "/feed");
///             Decision::accept()
///         }),
///     )
///     .await;
///     let ((mut client, response), (mut server, accepted)) = (client?, server?);
///     assert_eq!(response.response.status(), 101);
///     assert_eq!(accepted.request.uri().path(), "/feed");
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
    F: FnOnce(&UpgradeRequest) -> Decision,
{
    let config: Arc<Config> = config.into();
    let result = async move {
        let mut io = io;
        let deadline = options.timeout.map(|t| runtime.now() + t);
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
            let (reply, result) = answer(request, decide);
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
        .ok_or(HandshakeError::Timeout(options.timeout.unwrap_or_default()))??;

        let (mut upgrade, request) = outcome;
        let now = runtime.now();
        let subprotocol = upgrade.subprotocol.clone();
        let conn = upgrade.into_connection(config, now);
        let extensions = conn.extension_names().map(str::to_owned).collect();
        Ok((
            Session::from_connection(conn, io, runtime),
            AcceptedRequest {
                request,
                subprotocol,
                extensions,
            },
        ))
    }
    .await;
    crate::trace::server_handshake(result.as_ref().map(|(_, accepted)| accepted));
    result
}

type Answer = Result<(wsproto_core::handshake::ServerUpgrade, http::Request<()>), HandshakeError>;

/// Applies the application's decision: the bytes to write and the outcome.
fn answer<F>(request: UpgradeRequest, decide: F) -> (Vec<u8>, Answer)
where
    F: FnOnce(&UpgradeRequest) -> Decision,
{
    match decide(&request) {
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
/// pipe (Ktor's test conversation), after a real handshake (so the
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
    let handshake = build_request(ClientBuilder::new("ws://localhost/")?, &config)?;
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
            |_| Decision::accept(),
        ),
    )
    .await;
    Ok((client_side?.0, server_side?.0))
}
