//! Taking over a request that hyper parsed: check it with the core's
//! negotiation, answer it, and start a session once hyper hands over the
//! connection (`hyper::upgrade::on`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode, Version};
use http_body_util::Full;
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use ws_tokio::ws_session::{AdmitError, MaybeTls, SessionGuard, start_server_session};
use ws_tokio::wsproto_core::handshake::{
    AcceptErrorKind, AcceptOptions, RequestError, ServerUpgrade, UpgradeRequest, Via,
};
use ws_tokio::{AcceptedRequest, Compat, Config, TokioRuntime};

/// The body of every response this crate gives to hyper: the refusal's
/// text, or nothing for an accepted upgrade.
pub type Body = Full<Bytes>;

/// The session over the connection hyper handed over (HTTP/1.1: the TCP or
/// TLS stream after the 101, starting with any bytes hyper read ahead;
/// HTTP/2: the extended CONNECT stream).
pub type WebSocket = ws_tokio::WebSocket<TokioIo<Upgraded>>;

/// Why a request was not upgraded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpgradeError {
    /// The request is not a WebSocket upgrade the server may accept: the
    /// core's verdict (400, 426 with `Sec-WebSocket-Version: 13`, 403 for
    /// a refused Origin).
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The application refused it with this status.
    #[error("the application refused the upgrade with {0}")]
    Rejected(StatusCode),
    /// The application's accept options were wrong (a subprotocol the
    /// client did not offer, a reserved header); answered 500.
    #[error("the accept options were refused: {0}")]
    Accept(AcceptErrorKind),
    /// hyper gave the request no upgrade handle (answered 500): serve
    /// HTTP/1 connections with `with_upgrades()` (hyper-util's auto builder:
    /// `serve_connection_with_upgrades`) and enable RFC 8441 on HTTP/2
    /// (`http2().enable_connect_protocol()`; `axum::serve` does both).
    #[error(
        "the HTTP server cannot hand over this connection: serve it with upgrades enabled (hyper: with_upgrades(); HTTP/2: enable_connect_protocol())"
    )]
    NotUpgradable,
    /// hyper could not complete the upgrade after the response (the
    /// connection ended first, for example).
    #[error("the upgrade did not complete: {0}")]
    Upgrade(#[source] hyper::Error),
    /// The server is at its connection cap or shutting down: answered 503
    /// (with `Retry-After` when full), no session.
    #[error("{0} (answered 503)")]
    Unavailable(AdmitError),
}

/// A request that is not upgraded, with the response that says why.
#[derive(Debug)]
pub struct Refusal(Box<Refused>);

#[derive(Debug)]
struct Refused {
    error: UpgradeError,
    response: Response<Body>,
}

impl Refusal {
    fn new(error: UpgradeError, response: Response<Bytes>) -> Self {
        Refusal(Box::new(Refused {
            error,
            response: response.map(Full::new),
        }))
    }

    fn from_request_error(error: RequestError) -> Self {
        let response = error.to_response();
        Self::new(error.into(), response)
    }

    /// Why.
    #[must_use]
    pub fn error(&self) -> &UpgradeError {
        &self.0.error
    }

    /// The response to give back to hyper.
    #[must_use]
    pub fn into_response(self) -> Response<Body> {
        self.0.response
    }

    /// The 503 for a server that is full (with `Retry-After`) or shutting
    /// down ([`SessionGuard::admit`]'s error), for a request of `version`:
    /// `Connection: close` only on HTTP/1 (HTTP/2 forbids the header; the
    /// stream ends there).
    #[must_use]
    pub fn unavailable(refused: AdmitError, version: Version) -> Self {
        let mut headers = refused.headers();
        if version >= Version::HTTP_2 {
            headers.remove(http::header::CONNECTION);
        }
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        let mut response = Response::new(Bytes::from_static(refused.body()));
        *response.status_mut() = refused.status();
        *response.headers_mut() = headers;
        Self::new(UpgradeError::Unavailable(refused), response)
    }
}

/// Takes a place under `limit` and registers with `shutdown` for a
/// request of `version` (bare hyper: before [`upgrade`]; the extractor
/// does it itself with the ones in the request's extensions). Give the
/// guard to [`PendingWebSocket::guard`].
///
/// # Errors
/// The 503 [`Refusal`] when the server is full (with `Retry-After`) or
/// shutting down.
pub fn admit(
    limit: Option<&ws_tokio::ConnectionLimit>,
    shutdown: Option<&ws_tokio::Shutdown>,
    version: Version,
) -> Result<SessionGuard, Refusal> {
    SessionGuard::admit(limit, shutdown).map_err(|refusal| Refusal::unavailable(refusal, version))
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.0.response.status(), self.0.error)
    }
}

impl std::error::Error for Refusal {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0.error)
    }
}

/// Checks a request hyper parsed and takes its upgrade handle: an HTTP/1.1
/// `GET` with `Upgrade: websocket`, or (HTTP/2) an extended CONNECT with
/// `:protocol websocket` (RFC 8441; the server must be built with
/// `enable_connect_protocol`). The checks, the Origin policy and the
/// extensions are `config`'s, run by the same negotiation as
/// `ws_tokio::Acceptor`'s.
///
/// Then look at [`Upgrade::request`] and answer with [`Upgrade::accept`]
/// or [`Upgrade::reject`]; on `Err`, give back [`Refusal::into_response`].
///
/// ```no_run
/// use std::convert::Infallible;
/// use hyper::{Request, Response, body::Incoming};
/// use ws_axum::{AcceptOptions, Body, Config};
///
/// async fn service(mut request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
///     let upgrade = match ws_axum::upgrade(&mut request, Config::default()) {
///         Ok(upgrade) => upgrade,
///         Err(refusal) => return Ok(refusal.into_response()),
///     };
///     Ok(match upgrade.accept(&AcceptOptions::new()) {
///         Ok((response, pending)) => {
///             tokio::spawn(async move {
///                 let Ok((mut ws, _)) = pending.await else { return };
///                 while let Ok(message) = ws.recv().await {
///                     if ws.send_message(message).await.is_err() {
///                         break;
///                     }
///                 }
///             });
///             response
///         }
///         Err(refusal) => refusal.into_response(),
///     })
/// }
/// ```
///
/// # Errors
/// A [`Refusal`] (400/426/403, or 500 when hyper offers no upgrade) with
/// its response.
pub fn upgrade<B>(
    request: &mut Request<B>,
    config: impl Into<Arc<Config>>,
) -> Result<Upgrade, Refusal> {
    let config = config.into();
    let protocol = request.extensions().get::<hyper::ext::Protocol>();
    let via = if request.version() >= Version::HTTP_2 {
        Via::ExtendedConnect {
            protocol: protocol.map(hyper::ext::Protocol::as_str),
        }
    } else {
        Via::Http11
    };
    let checked = UpgradeRequest::from_request(detached_head(request), via, &config)
        .map_err(Refusal::from_request_error)?;
    let Some(on_upgrade) = request.extensions_mut().remove::<OnUpgrade>() else {
        return Err(Refusal::new(
            UpgradeError::NotUpgradable,
            server_error(&UpgradeError::NotUpgradable),
        ));
    };
    Ok(Upgrade {
        request: checked,
        handle: on_upgrade,
        config,
    })
}

/// The request's head with its own copies of the URI and the header values.
/// hyper's values are slices of its read buffer (8 KiB or more): a clone
/// would keep that buffer alive for as long as the application keeps the
/// request (an [`AcceptedRequest`] held for the whole session), which
/// measured as 6 KiB more per idle connection than our own accept path.
fn detached_head<B>(request: &Request<B>) -> Request<()> {
    let mut head = Request::new(());
    *head.method_mut() = request.method().clone();
    *head.uri_mut() = request
        .uri()
        .to_string()
        .parse()
        .unwrap_or_else(|_| request.uri().clone());
    *head.version_mut() = request.version();
    let headers = head.headers_mut();
    headers.reserve(request.headers().len());
    for (name, value) in request.headers() {
        let mut copy = HeaderValue::from_bytes(value.as_bytes()).unwrap_or_else(|_| value.clone());
        copy.set_sensitive(value.is_sensitive());
        headers.append(name, copy);
    }
    head
}

/// A checked upgrade request and hyper's handle on its connection, waiting
/// for the application's answer.
#[derive(Debug)]
pub struct Upgrade {
    request: UpgradeRequest,
    /// hyper's handle on the connection.
    handle: OnUpgrade,
    config: Arc<Config>,
}

impl Upgrade {
    /// The request (path, query, headers, offered subprotocols and
    /// extensions).
    #[must_use]
    pub fn request(&self) -> &UpgradeRequest {
        &self.request
    }

    /// The config the session will run with.
    #[must_use]
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// The same request under another config (its Origin policy is checked
    /// again; its extensions and limits are used from here on).
    ///
    /// # Errors
    /// A 403 [`Refusal`] when `config`'s Origin policy refuses the request.
    pub fn with_config(self, config: impl Into<Arc<Config>>) -> Result<Self, Refusal> {
        let config = config.into();
        let request = self
            .request
            .with_config(&config)
            .map_err(Refusal::from_request_error)?;
        Ok(Upgrade {
            request,
            handle: self.handle,
            config,
        })
    }

    /// Accepts: the response to give back to hyper (101, or 200 for an
    /// extended CONNECT) and the session to come, which resolves once hyper
    /// has sent the response and handed over the connection.
    ///
    /// # Errors
    /// A 500 [`Refusal`] when `options` name a subprotocol the client did
    /// not offer or a header the handshake sets.
    pub fn accept(
        self,
        options: &AcceptOptions,
    ) -> Result<(Response<Body>, PendingWebSocket), Refusal> {
        let request = self.request.request().clone();
        match self.request.accept(options) {
            Ok(mut upgrade) => {
                let response = std::mem::take(&mut upgrade.response).map(|()| Body::default());
                let pending = PendingWebSocket {
                    on_upgrade: self.handle,
                    state: Some(Box::new((upgrade, self.config, request))),
                    guard: None,
                };
                Ok((response, pending))
            }
            Err(e) => {
                let error = UpgradeError::Accept(e.kind().clone());
                Err(Refusal::new(
                    error,
                    e.into_request().reject(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        &HeaderMap::new(),
                        b"the server could not accept this upgrade\n",
                    ),
                ))
            }
        }
    }

    /// Refuses with `status`, `headers` and `body` (for example 401 with
    /// `WWW-Authenticate`, or 503 with `Retry-After`); the connection stays
    /// with hyper.
    #[must_use]
    pub fn reject(self, status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Response<Body> {
        self.request.reject(status, headers, body).map(Full::new)
    }
}

/// A 500 saying what is wrong with the server's setup.
fn server_error(error: &UpgradeError) -> Response<Bytes> {
    let body = Bytes::from(format!("{error}\n"));
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// What an accepted upgrade keeps until hyper hands over the connection:
/// the negotiation's outcome, the config and the request head.
type Accepted = (ServerUpgrade, Arc<Config>, Request<()>);

/// The session to come: resolves once hyper has sent the accepting
/// response and handed over the connection. Poll it from a spawned task
/// (it cannot resolve before the service has returned the response). Once
/// resolved it is spent: polled again, it answers
/// [`UpgradeError::NotUpgradable`].
#[derive(Debug)]
#[must_use = "the session starts only when this is awaited"]
pub struct PendingWebSocket {
    on_upgrade: OnUpgrade,
    /// Boxed: this future is kept (at its size) in the task that awaits
    /// it for as long as the session runs.
    state: Option<Box<Accepted>>,
    /// Handed to the session (its place under a cap, its shutdown
    /// registration).
    guard: Option<SessionGuard>,
}

impl PendingWebSocket {
    /// The session will hold `guard` (from [`admit`]): its place under the
    /// connection cap until it ends, and its shutdown registration.
    pub fn guard(mut self, guard: SessionGuard) -> Self {
        self.guard = Some(guard);
        self
    }
}

impl Future for PendingWebSocket {
    type Output = Result<(WebSocket, AcceptedRequest), UpgradeError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.state.is_none() {
            // Polled again after it resolved: hyper's handle is spent.
            return Poll::Ready(Err(UpgradeError::NotUpgradable));
        }
        let upgraded = ready!(Pin::new(&mut self.on_upgrade).poll(cx));
        let Some(state) = self.state.take() else {
            return Poll::Ready(Err(UpgradeError::NotUpgradable));
        };
        let upgraded = upgraded.map_err(UpgradeError::Upgrade)?;
        let (mut upgrade, config, request) = *state;
        let io = MaybeTls::Plain(Compat::new(TokioIo::new(upgraded)));
        let (mut session, accepted) =
            start_server_session(&mut upgrade, request, config, io, Arc::new(TokioRuntime));
        if let Some(guard) = self.guard.take() {
            session.set_guard(guard);
        }
        Poll::Ready(Ok((WebSocket::from_session(session), accepted)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ws_tokio::wsproto_core::handshake::OriginPolicy;

    fn h1() -> http::request::Builder {
        Request::builder()
            .uri("/ws")
            .header("host", "example.com")
            .header("upgrade", "websocket")
            .header("connection", "upgrade")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-protocol", "a, b")
    }

    fn h2() -> http::request::Builder {
        Request::builder()
            .method("CONNECT")
            .version(Version::HTTP_2)
            .uri("https://example.com/ws")
            .header("sec-websocket-version", "13")
            .extension(hyper::ext::Protocol::from_static("websocket"))
    }

    /// A request with hyper's upgrade handle (one that never upgrades:
    /// there is no connection behind it).
    fn with_handle(builder: http::request::Builder) -> Request<()> {
        let handle = hyper::upgrade::on(Request::new(()));
        builder.extension(handle).body(()).unwrap()
    }

    #[test]
    fn faults_are_answered_with_the_cores_status() {
        let cases = [
            (h1().header("sec-websocket-version", "8"), 426),
            (h1().method("POST"), 400),
            (h1().header("content-length", "3"), 400),
            (h2().method("GET"), 400),
            (
                Request::builder()
                    .method("CONNECT")
                    .version(Version::HTTP_2)
                    .uri("https://example.com/ws")
                    .header("sec-websocket-version", "13"),
                400,
            ),
        ];
        for (builder, status) in cases {
            let mut request = with_handle(builder);
            let refusal = upgrade(&mut request, Config::default()).unwrap_err();
            assert!(
                matches!(refusal.error(), UpgradeError::Request(_)),
                "{refusal}"
            );
            let response = refusal.into_response();
            assert_eq!(response.status(), status);
            if status == 426 {
                assert_eq!(response.headers()["sec-websocket-version"], "13");
            }
        }
        let foreign = Config::default().with_origin_policy(OriginPolicy::same_host());
        for builder in [h1(), h2()] {
            let mut request = with_handle(builder.header("origin", "https://evil.example"));
            let refusal = upgrade(&mut request, foreign.clone()).unwrap_err();
            assert_eq!(refusal.into_response().status(), StatusCode::FORBIDDEN);
        }
    }

    #[test]
    fn a_request_hyper_cannot_hand_over_is_a_500_that_says_why() {
        let mut request = h1().body(()).unwrap();
        let refusal = upgrade(&mut request, Config::default()).unwrap_err();
        assert!(matches!(refusal.error(), UpgradeError::NotUpgradable));
        let response = refusal.into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[tokio::test]
    async fn accept_answers_101_or_200_and_reports_a_failed_handover() {
        let mut request = with_handle(h1());
        let checked = upgrade(&mut request, Config::default()).unwrap();
        assert!(request.extensions().get::<OnUpgrade>().is_none(), "taken");
        assert_eq!(checked.request().subprotocols(), ["a", "b"]);
        let (response, pending) = checked
            .accept(&AcceptOptions::new().subprotocol("b"))
            .unwrap();
        assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
        assert_eq!(
            response.headers()["sec-websocket-accept"],
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert_eq!(response.headers()["sec-websocket-protocol"], "b");
        assert!(matches!(pending.await, Err(UpgradeError::Upgrade(_))));

        let mut request = with_handle(h2());
        let (response, _) = upgrade(&mut request, Config::default())
            .unwrap()
            .accept(&AcceptOptions::new())
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers().is_empty());
    }

    #[test]
    fn misuse_and_rejection() {
        let mut request = with_handle(h1());
        let refusal = upgrade(&mut request, Config::default())
            .unwrap()
            .accept(&AcceptOptions::new().subprotocol("c"))
            .unwrap_err();
        assert!(matches!(
            refusal.error(),
            UpgradeError::Accept(AcceptErrorKind::UnofferedSubprotocol(_))
        ));
        assert_eq!(
            refusal.into_response().status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        let mut request = with_handle(h1());
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_static("3"),
        );
        let response = upgrade(&mut request, Config::default()).unwrap().reject(
            StatusCode::SERVICE_UNAVAILABLE,
            &headers,
            b"busy",
        );
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()["retry-after"], "3");
        assert_eq!(response.headers()["content-length"], "4");
    }
}
