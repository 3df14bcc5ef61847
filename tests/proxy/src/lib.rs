//! The client through real proxies: pproxy (HTTP `CONNECT`, HTTPS, SOCKS5;
//! with and without auth) in front of our echo server and of a Python
//! websockets one, `ws://` and `wss://`, on each runtime.
//!
//! ```text
//!  ws_session::proxy::connect_through(runtime TCP + resolver, futures-rustls to an https:// proxy)
//!     └─► Tunnel ─► [futures-rustls to the origin, wss://] ─► WebSocket handshake ─► echo
//! ```
//!
//! This is the composition the connect builder will do; the scenarios
//! ([`cases`]) are written once over [`Rt`] and instantiated for tokio,
//! async-std and smol by [`proxy_tests!`].
#![forbid(unsafe_code)]

pub mod cases;
pub mod peers;
mod runtimes;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};
use futures_rustls::client::TlsStream;
use ws_session::proxy::{DialOptions, Proxy, ProxyError, Tunnel, connect_through};
use ws_session::{
    ClientBuilder, ClientResponse, Config, HandshakeError, HandshakeOptions, MaybeTls, Runtime,
    Session,
};

pub use runtimes::{AsyncStd, Smol, Tokio};

/// What a runtime gives the client: TCP, a resolver, timers, `block_on`.
pub trait Rt {
    /// Shown in failures.
    const NAME: &'static str;
    /// Its TCP stream, as futures-io.
    type Tcp: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// `block_on` and the session runtime (clock, timers, spawn).
    type Adapter: interop_tests::Adapter;

    /// Runs a test body.
    fn block_on<F: Future>(future: F) -> F::Output {
        <Self::Adapter as interop_tests::Adapter>::block_on(future)
    }
    /// Its clock and timers.
    #[must_use]
    fn runtime() -> Arc<dyn Runtime> {
        <Self::Adapter as interop_tests::Adapter>::runtime()
    }
    /// Opens TCP to `addr`.
    fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Tcp>>;
    /// Resolves a name with the runtime's resolver.
    fn resolve(host: String, port: u16) -> impl Future<Output = io::Result<Vec<SocketAddr>>>;
    /// The WebSocket handshake over a stream, on this runtime's timers
    /// (what the adapters' `client_over` does).
    fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
        stream: S,
        builder: ClientBuilder,
    ) -> impl Future<Output = Result<(Session<S>, ClientResponse), HandshakeError>> {
        async move {
            let config = Arc::new(Config::default());
            let request = ws_session::build_request(builder, &config)?;
            let options = HandshakeOptions::default();
            ws_session::client(Self::runtime(), stream, request, config, options).await
        }
    }
}

/// The stream to the proxy: TCP, or TLS for an `https://` proxy.
pub type ToProxy<R> = MaybeTls<<R as Rt>::Tcp, TlsStream<<R as Rt>::Tcp>>;
/// The stream to the origin: through the tunnel, TLS inside it for `wss://`.
pub type ToOrigin<R> = MaybeTls<Tunnel<ToProxy<R>>, TlsStream<Tunnel<ToProxy<R>>>>;

/// Why a connection through a proxy failed.
#[derive(Debug)]
pub enum Failure {
    /// Reaching the proxy or opening the tunnel.
    Proxy(ProxyError),
    /// TLS with the origin inside the tunnel.
    Tls(io::Error),
    /// The WebSocket handshake.
    Handshake(HandshakeError),
}

/// Connects to `url` through `proxy`, trusting `tls` for TLS with the
/// proxy and the origin; `resolve` is the client's resolver (the proxy's
/// name and a `socks5://` target go through it).
///
/// # Panics
/// If `url` is not a valid WebSocket URL.
pub async fn connect_via<R, F, RF>(
    proxy: &Proxy,
    url: &str,
    tls: Arc<rustls::ClientConfig>,
    resolve: F,
) -> Result<Session<ToOrigin<R>>, Failure>
where
    R: Rt,
    F: Fn(String, u16) -> RF,
    RF: Future<Output = io::Result<Vec<SocketAddr>>>,
{
    let builder = || ClientBuilder::new(url).expect("a valid URL");
    let request =
        ws_session::build_request(builder(), &Config::default()).expect("a valid request");
    let (host, port) = (
        request.host().trim_matches(['[', ']']).to_owned(),
        request.port(),
    );
    let runtime = R::runtime();
    let connector = futures_rustls::TlsConnector::from(tls);
    let to_proxy = connector.clone();
    let tunnel = connect_through(
        &*runtime,
        proxy,
        &host,
        port,
        &DialOptions::default().timeout(Some(Duration::from_secs(10))),
        resolve,
        R::connect,
        |proxy_host, tcp| async move {
            to_proxy
                .connect(ws_session::tls::server_name(proxy_host)?, tcp)
                .await
        },
    )
    .await
    .map_err(Failure::Proxy)?;
    let stream = if url.starts_with("wss:") {
        let name = ws_session::tls::server_name(host).map_err(Failure::Tls)?;
        let tls = connector
            .connect(name, tunnel)
            .await
            .map_err(Failure::Tls)?;
        MaybeTls::Tls(Box::new(tls))
    } else {
        MaybeTls::Plain(tunnel)
    };
    let (session, _) = R::handshake(stream, builder())
        .await
        .map_err(Failure::Handshake)?;
    Ok(session)
}

/// Runs `future` on `R`, failing the test after `seconds`.
///
/// # Panics
/// On the timeout.
pub fn run<R: Rt, F: Future>(seconds: u64, future: F) -> F::Output {
    R::block_on(async {
        let runtime = R::runtime();
        let mut timer = runtime.new_timer(runtime.now() + Duration::from_secs(seconds));
        let mut future = std::pin::pin!(future);
        std::future::poll_fn(|cx| {
            if let std::task::Poll::Ready(out) = future.as_mut().poll(cx) {
                return std::task::Poll::Ready(out);
            }
            assert!(
                timer.as_mut().poll_expired(cx).is_pending(),
                "{}: the test did not finish within {seconds} s",
                R::NAME
            );
            std::task::Poll::Pending
        })
        .await
    })
}

/// Instantiates every scenario of [`cases`] for a runtime.
#[macro_export]
macro_rules! proxy_tests {
    ($rt:ty) => {
        $crate::proxy_tests!(@each $rt,
            http_proxy_ws_to_ours, http_proxy_with_auth_wss_to_python,
            https_proxy_wss_to_ours, socks5_resolves_locally_ws_to_python,
            socks5h_with_auth_resolves_remotely_wss_to_ours,
            http_proxy_wrong_credentials, http_proxy_missing_credentials,
            socks5_wrong_credentials, http_proxy_refuses_a_closed_port,
            environment_selects_and_no_proxy_bypasses);
    };
    (@each $rt:ty, $($case:ident),*) => {
        $(
            #[test]
            fn $case() {
                $crate::cases::$case::<$rt>(::std::path::Path::new(env!("CARGO_TARGET_TMPDIR")));
            }
        )*
    };
}
