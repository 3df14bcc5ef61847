//! The servers under test: an axum app and a bare hyper service, each with
//! a page, a plain HTTP route and an echo WebSocket route, on loopback
//! port 0, over plain TCP (HTTP/1.1 and h2c) or TLS (ALPN `h2` and
//! `http/1.1`). Every upgrade and every message the echo route sees is
//! reported on a channel, so tests can assert what the server saw.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::Extension;
use axum::response::{Html, Response};
use axum::routing::get;
use http::{Method, Request, StatusCode, Version};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use ws_axum::{AcceptOptions, Body, Config, Message, WebSocket, WebSocketUpgrade};

/// Which server a test runs against: the axum app or the bare hyper
/// service (the same routes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    /// [`axum_app`] under `axum::serve`.
    Axum,
    /// [`hyper_service`] under hyper-util's server.
    Hyper,
}

/// Starts `server` with `config` on a loopback port: its address and the
/// reports of its echo route.
pub async fn start(server: Server, config: Config) -> (SocketAddr, SeenRx) {
    match server {
        Server::Axum => {
            let (router, seen) = axum_app(config);
            (serve_axum(router).await, seen)
        }
        Server::Hyper => {
            let (service, seen) = hyper_service(config);
            (serve_hyper(service).await, seen)
        }
    }
}

/// The echo route's next report, within 10 s.
///
/// # Panics
/// When none comes in time or the server is gone.
pub async fn next(seen: &mut SeenRx) -> Seen {
    tokio::time::timeout(std::time::Duration::from_secs(10), seen.recv())
        .await
        .expect("the server reports within 10 s")
        .expect("the server is running")
}

/// What the echo route saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// An accepted upgrade: the request's method and HTTP version (an
    /// extended CONNECT is `CONNECT` over HTTP/2), path, the chosen
    /// subprotocol and the negotiated extensions.
    Upgrade {
        /// `GET` (HTTP/1.1) or `CONNECT` (HTTP/2).
        method: Method,
        /// The HTTP version.
        version: Version,
        /// The request path.
        path: String,
        /// The chosen subprotocol.
        protocol: Option<String>,
        /// The negotiated extensions.
        extensions: Vec<String>,
    },
    /// A message, echoed.
    Message(Message),
}

/// The reports of a server's echo route.
pub type SeenRx = mpsc::UnboundedReceiver<Seen>;

/// The page served at `/`: it opens a WebSocket to `/ws` on the server it
/// came from, sends `hello from the page`, and when the echo comes back
/// sends `echoed: ` and what came back.
pub const PAGE: &str = r#"<!doctype html>
<html><head><title>ws-axum test</title></head><body><p id="state">loading</p>
<script>
const state = document.getElementById("state");
const scheme = location.protocol === "https:" ? "wss://" : "ws://";
const ws = new WebSocket(scheme + location.host + "/ws", ["echo.v1"]);
ws.onopen = () => { state.textContent = "open"; ws.send("hello from the page"); };
ws.onmessage = (event) => { state.textContent = "echoed"; ws.send("echoed: " + event.data); };
ws.onerror = () => { state.textContent = "error"; };
</script></body></html>
"#;

/// The axum app: `/` the page, `/plain` a plain route, `/ws` the echo
/// WebSocket (HTTP/1.1 `GET` and HTTP/2 `CONNECT`), subprotocol `echo.v1`
/// when offered; sessions start from `config` (an extension layer).
pub fn axum_app(config: Config) -> (Router, SeenRx) {
    let (tx, rx) = mpsc::unbounded_channel();
    let router = Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route("/plain", get(|| async { "plain ok" }))
        .route("/ws", get(ws_route).connect(ws_route))
        .layer(Extension(tx))
        .layer(Extension(Arc::new(config)));
    (router, rx)
}

async fn ws_route(
    Extension(seen): Extension<mpsc::UnboundedSender<Seen>>,
    ws: WebSocketUpgrade,
) -> Response {
    let method = ws.request().request().method().clone();
    let version = ws.request().request().version();
    let path = ws.request().request().uri().path().to_owned();
    let ws = ws.protocols(["echo.v1"]);
    let protocol = ws.selected_protocol().map(str::to_owned);
    ws.on_upgrade(move |socket| async move {
        let extensions = socket
            .connection()
            .extension_names()
            .map(str::to_owned)
            .collect();
        let _ = seen.send(Seen::Upgrade {
            method,
            version,
            path,
            protocol,
            extensions,
        });
        echo(socket, &seen).await;
    })
}

/// Echoes every message until the session ends, reporting each.
async fn echo(mut socket: WebSocket, seen: &mpsc::UnboundedSender<Seen>) {
    while let Ok(message) = socket.recv().await {
        let _ = seen.send(Seen::Message(message.clone()));
        if socket.send_message(message).await.is_err() {
            break;
        }
    }
}

/// Serves `router` on a loopback port with `axum::serve` (HTTP/1.1 and
/// h2c with prior knowledge, RFC 8441 enabled); returns its address.
///
/// # Panics
/// If loopback cannot be bound.
pub async fn serve_axum(router: Router) -> SocketAddr {
    serve_axum_on(bind().await, router)
}

/// [`serve_axum`] on a listener of the caller's.
///
/// # Panics
/// If the listener has no local address.
pub fn serve_axum_on(listener: TcpListener, router: Router) -> SocketAddr {
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    addr
}

/// A listener on a free loopback port.
///
/// # Panics
/// If loopback cannot be bound.
pub async fn bind() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").await.expect("bind")
}

/// A hyper service as the tests write them: a function of the request
/// that answers at once.
pub trait HyperService:
    Fn(Request<Incoming>) -> std::future::Ready<Result<http::Response<Body>, Infallible>>
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<S> HyperService for S where
    S: Fn(Request<Incoming>) -> std::future::Ready<Result<http::Response<Body>, Infallible>>
        + Clone
        + Send
        + Sync
        + 'static
{
}

/// The bare hyper service: `/plain` a plain route, `/ws` the echo
/// WebSocket through [`ws_axum::upgrade`], anything else 404.
#[must_use]
pub fn hyper_service(config: Config) -> (impl HyperService, SeenRx) {
    let (tx, rx) = mpsc::unbounded_channel();
    let config = Arc::new(config);
    let service = move |mut request: Request<Incoming>| {
        let response = match request.uri().path() {
            "/plain" => http::Response::new(Body::from("plain ok")),
            "/ws" => hyper_ws(&mut request, &config, &tx),
            _ => {
                let mut response = http::Response::new(Body::default());
                *response.status_mut() = StatusCode::NOT_FOUND;
                response
            }
        };
        std::future::ready(Ok(response))
    };
    (service, rx)
}

fn hyper_ws(
    request: &mut Request<Incoming>,
    config: &Arc<Config>,
    seen: &mpsc::UnboundedSender<Seen>,
) -> http::Response<Body> {
    let upgrade = match ws_axum::upgrade(request, Arc::clone(config)) {
        Ok(upgrade) => upgrade,
        Err(refusal) => return refusal.into_response(),
    };
    let protocol = upgrade
        .request()
        .select_subprotocol(["echo.v1"])
        .map(str::to_owned);
    let options = protocol
        .clone()
        .map_or_else(AcceptOptions::new, |p| AcceptOptions::new().subprotocol(p));
    match upgrade.accept(&options) {
        Ok((response, pending)) => {
            let seen = seen.clone();
            tokio::spawn(async move {
                let Ok((socket, accepted)) = pending.await else {
                    return;
                };
                let _ = seen.send(Seen::Upgrade {
                    method: accepted.request().method().clone(),
                    version: accepted.request().version(),
                    path: accepted.request().uri().path().to_owned(),
                    protocol,
                    extensions: accepted.extensions().to_vec(),
                });
                echo(socket, &seen).await;
            });
            response
        }
        Err(refusal) => refusal.into_response(),
    }
}

/// Serves a hyper service on a loopback port: hyper-util's auto builder
/// (HTTP/1.1 with upgrades, h2c with RFC 8441 enabled); returns its
/// address.
///
/// # Panics
/// If loopback cannot be bound.
pub async fn serve_hyper<S>(service: S) -> SocketAddr
where
    S: HyperService,
{
    serve_hyper_on(bind().await, service)
}

/// [`serve_hyper`] on a listener of the caller's.
///
/// # Panics
/// If the listener has no local address.
pub fn serve_hyper_on<S>(listener: TcpListener, service: S) -> SocketAddr
where
    S: HyperService,
{
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let service = hyper::service::service_fn(service.clone());
            tokio::spawn(async move {
                let _ = builder()
                    .serve_connection_with_upgrades(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    addr
}

/// Serves `router` over TLS (ALPN `h2`, then `http/1.1`) on a loopback
/// port, RFC 8441 enabled on HTTP/2; returns its address.
///
/// # Panics
/// If loopback cannot be bound or the certificate is refused.
pub async fn serve_axum_tls(router: Router, tls: rustls::ServerConfig) -> SocketAddr {
    serve_axum_tls_on(bind().await, router, tls)
}

/// [`serve_axum_tls`] on a listener of the caller's.
///
/// # Panics
/// If the listener has no local address.
pub fn serve_axum_tls_on(
    listener: TcpListener,
    router: Router,
    tls: rustls::ServerConfig,
) -> SocketAddr {
    serve_tls(listener, router, tls, &[b"h2", b"http/1.1"], true)
}

/// Serves `router` over TLS on a loopback port offering the ALPN
/// protocols `alpn` (the server's preference first), with RFC 8441 on
/// HTTP/2 or not: servers an HTTP/2 client has to fall back from (no `h2`
/// in ALPN, or HTTP/2 without extended CONNECT). Returns its address.
///
/// # Panics
/// If loopback cannot be bound.
pub async fn serve_axum_tls_with(
    router: Router,
    tls: rustls::ServerConfig,
    alpn: &[&[u8]],
    rfc8441: bool,
) -> SocketAddr {
    serve_tls(bind().await, router, tls, alpn, rfc8441)
}

fn serve_tls(
    listener: TcpListener,
    router: Router,
    tls: rustls::ServerConfig,
    alpn: &[&[u8]],
    rfc8441: bool,
) -> SocketAddr {
    let mut tls = tls;
    tls.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let service = hyper_util::service::TowerToHyperService::new(router.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let _ = http_builder(rfc8441)
                    .serve_connection_with_upgrades(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    addr
}

/// Serves `router` on a loopback port with hyper-util's server for both
/// versions (HTTP/1.1 with upgrades, h2c) but without RFC 8441: its
/// HTTP/2 SETTINGS do not enable extended CONNECT, so an HTTP/2 client
/// must fall back to HTTP/1.1 for a WebSocket. Returns its address.
///
/// # Panics
/// If loopback cannot be bound.
pub async fn serve_axum_without_rfc8441(router: Router) -> SocketAddr {
    let listener = bind().await;
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let service = hyper_util::service::TowerToHyperService::new(router.clone());
            tokio::spawn(async move {
                let _ = http_builder(false)
                    .serve_connection_with_upgrades(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    addr
}

/// Serves `router` on `listener` like [`serve_axum_on`] (HTTP/1.1 and
/// h2c, RFC 8441 on), but every connection is owned by the returned
/// task: aborting it kills the server, its connections included (a
/// server process dying, for reconnect tests).
#[must_use]
pub fn serve_axum_killable(listener: TcpListener, router: Router) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut connections = tokio::task::JoinSet::new();
        while let Ok((tcp, _)) = listener.accept().await {
            let service = hyper_util::service::TowerToHyperService::new(router.clone());
            connections.spawn(async move {
                let _ = builder()
                    .serve_connection_with_upgrades(TokioIo::new(tcp), service)
                    .await;
            });
        }
    })
}

/// hyper-util's server for both versions, with RFC 8441 on HTTP/2.
fn builder() -> auto::Builder<TokioExecutor> {
    http_builder(true)
}

/// hyper-util's server for both versions, RFC 8441 on HTTP/2 or not.
fn http_builder(rfc8441: bool) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    if rfc8441 {
        builder.http2().enable_connect_protocol();
    }
    builder
}
