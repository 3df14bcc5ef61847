//! The harness every test suite shares, so that a suite adds cases, not
//! harnesses (like h2's `tests/h2-support`):
//!
//! - [`Rt`]: one runtime with its adapter (tokio with `ws-tokio`,
//!   async-std and smol with `ws-async-std`): block on, spawn, listen,
//!   connect, accept, the in-memory pair. A test written against `Rt` runs
//!   on all three.
//! - servers ([`echo_server`], [`silent_server`]) and the bounded waits
//!   ([`within`], [`finishes_within`], [`run`]);
//! - [`TestCert`]: a certificate made at test time, as configs and as PEM
//!   files for other processes;
//! - [`install`] and [`process`]: real peers (Python packages in a venv,
//!   Node packages with `npm ci`, installed once per target directory)
//!   and their processes, killed by PID when dropped.
//!
//! ```text
//!  suite (scenarios, interop, …) ──► Rt ──► Tokio    ──► ws-tokio
//!                                       ├─► AsyncStd ──► ws-async-std (async-std's executor and sockets)
//!                                       └─► Smol     ──► ws-async-std (smol's)
//! ```
#![forbid(unsafe_code)]
// Every helper here serves a test: it panics on failure, by design.
#![allow(clippy::missing_panics_doc)]

mod cert;
pub mod example_servers;
pub mod install;
pub mod nats;
pub mod process;
mod runtimes;

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};
use ws_session::proxy::{DialOptions, ProxyConfig};
use ws_session::{
    AcceptedRequest, ClientResponse, Config, ConnectError, ConnectionLimit, Decision,
    HandshakeError, IntoClientRequest, MaybeTls, Mode, Runtime, Session, Shutdown, UpgradeRequest,
};

pub use cert::TestCert;
pub use runtimes::{AsyncStd, Smol, Tokio};

/// A client's options, as each adapter's `Connector` takes them.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// The session configuration.
    pub config: Config,
    /// TLS for `wss://` (`None`: the adapter's default, webpki roots).
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// The connect timeout (`None`: the adapter's default).
    pub connect_timeout: Option<Duration>,
    /// The TLS + WebSocket handshake timeout (`None`: the adapter's
    /// default).
    pub handshake_timeout: Option<Duration>,
    /// The proxy setting (`None`: the adapter's default, the proxy
    /// environment variables).
    pub proxy: Option<ProxyConfig>,
    /// How many redirects to follow (the adapters' default: 0).
    pub redirects: usize,
    /// Names answered without the resolver (the connector's `resolve`).
    pub resolve: Vec<(String, Vec<IpAddr>)>,
    /// How addresses are raced (`None`: the adapter's default).
    pub dial: Option<DialOptions>,
}

impl Default for ClientOptions {
    /// The adapters' defaults.
    fn default() -> Self {
        ClientOptions {
            config: Config::default(),
            tls: None,
            connect_timeout: None,
            handshake_timeout: None,
            proxy: None,
            redirects: 0,
            resolve: Vec::new(),
            dial: None,
        }
    }
}

/// A server's options, as each adapter's `Acceptor` takes them.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// The session configuration.
    pub config: Config,
    /// TLS (`None`: plain TCP).
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// The TLS + WebSocket handshake timeout (`None`: the adapter's
    /// default).
    pub handshake_timeout: Option<Duration>,
    /// The Origins allowed (`None`: any).
    pub allowed_origins: Option<Vec<String>>,
    /// A cap on concurrent connections (`None`: none).
    pub limit: Option<ConnectionLimit>,
    /// A graceful-shutdown handle (`None`: none).
    pub shutdown: Option<Shutdown>,
}

impl ServerOptions {
    /// The defaults with `config`.
    #[must_use]
    pub fn with_config(config: Config) -> Self {
        ServerOptions {
            config,
            ..ServerOptions::default()
        }
    }
}

/// One runtime with its adapter, as far as the suites are concerned.
pub trait Rt: 'static {
    /// Printed in failures.
    const NAME: &'static str;
    /// The runtime's own TCP listener.
    type Listener: Send + Sync + 'static;
    /// The runtime's own TCP stream, seen through futures-io.
    type Tcp: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// The transport of a session the adapter's client connected.
    type Client: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// The transport of a session the adapter's server accepted on a
    /// [`Tcp`](Self::Tcp).
    type Server: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// The transport of the adapter's in-memory `pair`.
    type Pipe: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// The transport of a session the adapter's `serve` accepted.
    type Served: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// Runs a future to completion on this thread.
    fn block_on<T>(future: impl Future<Output = T>) -> T;
    /// Runs `future` in the background; the returned future waits for it.
    fn spawn<T: Send + 'static>(
        future: impl Future<Output = T> + Send + 'static,
    ) -> Pin<Box<dyn Future<Output = T> + Send>>;
    /// Runs `future` in the background, unwatched, until it ends.
    fn spawn_detached(future: impl Future<Output = ()> + Send + 'static);
    /// The adapter's runtime (clock, timers, spawner) as the session
    /// layer sees it.
    fn runtime() -> Arc<dyn Runtime>;
    /// A listener on 127.0.0.1, port 0, and its `ws://` base URL.
    fn listen() -> impl Future<Output = (Self::Listener, String)> + Send;
    /// The runtime's listener over a bound std one (in blocking mode).
    fn listener_from_std(listener: std::net::TcpListener) -> Self::Listener;
    /// The next TCP connection, with nodelay set.
    fn accept_tcp(listener: &Self::Listener) -> impl Future<Output = Self::Tcp> + Send;
    /// A plain TCP connection to `addr` (`host:port`).
    fn connect_tcp(addr: &str) -> impl Future<Output = Self::Tcp> + Send;

    /// The adapter's `Connector::connect`.
    fn connect(
        request: http::Request<()>,
        options: ClientOptions,
    ) -> impl Future<Output = Result<(Session<Self::Client>, ClientResponse), ConnectError>> + Send;
    /// The adapter's `Acceptor::accept_with` (TLS first when configured).
    fn accept<F>(
        tcp: Self::Tcp,
        options: ServerOptions,
        decide: F,
    ) -> impl Future<Output = Result<(Session<Self::Server>, AcceptedRequest), HandshakeError>> + Send
    where
        F: FnOnce(&UpgradeRequest) -> Decision + Send;
    /// The adapter's `Acceptor::accept_with_async`.
    fn accept_async<F>(
        tcp: Self::Tcp,
        options: ServerOptions,
        decide: F,
    ) -> impl Future<Output = Result<(Session<Self::Server>, AcceptedRequest), HandshakeError>>
    where
        F: AsyncFnOnce(&UpgradeRequest) -> Decision;
    /// The adapter's `Connector::connect_over` on the runtime's own stream.
    fn connect_over(
        tcp: Self::Tcp,
        request: http::Request<()>,
    ) -> impl Future<Output = Result<(OverTcp<Self>, ClientResponse), HandshakeError>> + Send;
    /// The adapter's in-memory `pair`.
    fn pair(
        config: Config,
    ) -> impl Future<Output = Result<SessionPair<Self>, HandshakeError>> + Send;
    /// The adapter's `Connector::reconnecting` to `url` with `options`
    /// (not started).
    fn reconnecting(
        url: &str,
        options: ws_session::ReconnectOptions,
    ) -> Result<ws_session::Reconnect<Self::Client>, HandshakeError>;
    /// The adapter's accept loop (`serve`) on a new listener on
    /// 127.0.0.1, port 0, with `options` (cap and shutdown handle
    /// included): the `ws://` base URL and the loop, to spawn.
    fn serve<H, Fut>(
        options: ServerOptions,
        handler: H,
    ) -> impl Future<Output = (String, ServeLoop)> + Send
    where
        H: Fn(Session<Self::Served>, AcceptedRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static;
    /// The adapter's `shutdown_handle()`.
    fn shutdown_handle() -> Shutdown;
}

/// A reconnecting client's hook that sends `subscribe #N`, N the
/// session's number (0 for the first): a server that sees it knows the
/// hook ran, and on which session.
pub fn subscribe_hook<S>() -> impl for<'a> FnMut(
    &'a mut Session<S>,
    ws_session::reconnect::Connected,
) -> ws_session::reconnect::HookFuture<'a>
+ Send
+ 'static
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    |ws, connected| {
        Box::pin(async move {
            ws.send_text(format!("subscribe #{}", connected.reconnects))
                .await
        })
    }
}

/// A listener on `addr` again (a port a test bound before and let go),
/// with `SO_REUSEADDR` so that connections of the previous listener left
/// in `TIME_WAIT` do not keep the port: a server restarting on its port.
///
/// # Panics
/// If the port cannot be bound again.
#[must_use]
pub fn rebind(addr: std::net::SocketAddr) -> std::net::TcpListener {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )
    .expect("a TCP socket");
    socket.set_reuse_address(true).expect("SO_REUSEADDR");
    socket.bind(&addr.into()).expect("the same port again");
    socket.listen(128).expect("listen");
    socket.into()
}

/// An accept loop, as `serve` returns it.
pub type ServeLoop = Pin<Box<dyn Future<Output = std::io::Result<()>> + Send>>;

/// A session over the runtime's own TCP stream.
pub type OverTcp<R> = Session<MaybeTls<<R as Rt>::Tcp>>;

/// A client and a server session connected in memory.
pub type SessionPair<R> = (Session<<R as Rt>::Pipe>, Session<<R as Rt>::Pipe>);

/// Connects to `url` with the adapter's defaults.
pub async fn connect<R: Rt>(
    url: &str,
) -> Result<(Session<R::Client>, ClientResponse), ConnectError> {
    connect_with::<R>(url, ClientOptions::default()).await
}

/// Connects to `request` (a URL, a request, a builder) with `options`.
pub async fn connect_with<R: Rt>(
    request: impl IntoClientRequest,
    options: ClientOptions,
) -> Result<(Session<R::Client>, ClientResponse), ConnectError> {
    let request = request
        .into_client_request()
        .map_err(ConnectError::Handshake)?;
    R::connect(request, options).await
}

/// Connects to `url` with the defaults but `config`.
pub async fn connect_config<R: Rt>(
    url: &str,
    config: Config,
) -> Result<(Session<R::Client>, ClientResponse), ConnectError> {
    connect_with::<R>(
        url,
        ClientOptions {
            config,
            ..ClientOptions::default()
        },
    )
    .await
}

/// Accepts every valid upgrade on `tcp` with `config`.
pub async fn accept<R: Rt>(
    tcp: R::Tcp,
    config: Config,
) -> Result<Session<R::Server>, HandshakeError> {
    Ok(R::accept(tcp, ServerOptions::with_config(config), |_| {
        Decision::accept()
    })
    .await?
    .0)
}

/// Every await in a test is bounded: a hang is a failure, not a stuck run.
/// The timer is async-io's, which runs under any executor.
pub async fn within<F: Future>(seconds: u64, future: F) -> F::Output {
    futures_lite::future::or(future, async move {
        async_io::Timer::after(Duration::from_secs(seconds)).await;
        panic!("timed out after {seconds} s")
    })
    .await
}

/// `Some(output)` if `future` finishes within `limit`, `None` if it is
/// still waiting then (for asserting that something waits).
pub async fn finishes_within<F: Future>(limit: Duration, future: F) -> Option<F::Output> {
    futures_lite::future::or(async { Some(future.await) }, async move {
        async_io::Timer::after(limit).await;
        None
    })
    .await
}

/// Runs one test body on runtime `R`, bounded to 60 s.
pub fn run<R: Rt, F: Future<Output = ()>>(body: impl FnOnce() -> F) {
    R::block_on(within(60, body()));
}

/// An echo server on runtime `R` for connections one after another, until
/// the test ends; its sessions use `options` (TLS included). Returns its
/// `ws://` base URL.
pub async fn echo_server<R: Rt>(options: ServerOptions) -> String {
    let (listener, url) = R::listen().await;
    R::spawn_detached(async move {
        loop {
            let tcp = R::accept_tcp(&listener).await;
            let options = options.clone();
            R::spawn_detached(async move {
                let Ok((mut ws, _)) = R::accept(tcp, options, |_| Decision::accept()).await else {
                    return;
                };
                while let Ok(message) = ws.recv().await {
                    if ws.send_message(message).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    url
}

/// A server that completes the handshake (raw mode: no automatic pongs)
/// and then never touches the session again until the returned sender is
/// dropped.
pub async fn silent_server<R: Rt>() -> (String, smol::channel::Sender<()>) {
    let (listener, url) = R::listen().await;
    let (release, released) = smol::channel::bounded::<()>(1);
    R::spawn_detached(async move {
        let tcp = R::accept_tcp(&listener).await;
        let ws = accept::<R>(tcp, Config::default().with_mode(Mode::Raw))
            .await
            .unwrap();
        let _ = released.recv().await;
        drop(ws);
    });
    (url, release)
}
