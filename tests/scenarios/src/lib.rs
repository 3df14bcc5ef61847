//! The session scenarios every adapter must pass, written once, generic
//! over [`Rt`], and run on three runtimes: tokio (`ws-tokio`), and
//! async-std and smol (`ws-async-std`). Each runtime brings its own
//! executor, listener, TCP stream and spawner; the scenario bodies do not
//! know which one they run on.
//!
//! `tests/{tokio,async_std,smol}.rs` instantiate every scenario with
//! [`scenarios!`]. Adding an adapter is one [`Rt`] impl and one such line.
//!
//! - [`session`]: messages, frames, Stream/Sink, close, terminate, drop,
//!   conversion, the in-memory pair, raw mode, cancellation.
//! - [`split`]: the driver task on the runtime's spawner.
//! - [`timers`]: heartbeat, close timeout, backpressure on real timers.
//! - [`handshake`]: request inspection, rejection, malformed requests,
//!   timeouts, connect errors, the caller's own stream.
//! - [`tls`]: `wss://` with a certificate made at test time.
#![forbid(unsafe_code)]
// Every scenario is a test body: it panics on failure, by design.
#![allow(clippy::missing_panics_doc)]

mod runtimes;

pub mod handshake;
pub mod session;
pub mod split;
pub mod timers;
pub mod tls;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};
use ws_session::{
    AcceptedRequest, ClientBuilder, ClientResponse, Config, ConnectError, Decision, HandshakeError,
    Mode, Session, UpgradeRequest,
};

pub use runtimes::{AsyncStd, Smol, Tokio};

/// The README's code blocks (tokio, async-std, smol, the bare core),
/// compiled, and the runnable ones run, as doctests of this package, which
/// depends on every crate they use: `cargo test -p adapter-scenarios --doc`.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

/// A client's options, as each adapter's `Connector` takes them.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// The session configuration.
    pub config: Config,
    /// TLS for `wss://` (`None`: the adapter's default, webpki roots).
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// The TCP connect timeout.
    pub connect_timeout: Option<Duration>,
    /// The TLS + WebSocket handshake timeout.
    pub handshake_timeout: Option<Duration>,
}

impl Default for ClientOptions {
    /// The adapters' defaults: 30 s to connect, 30 s for the handshakes.
    fn default() -> Self {
        ClientOptions {
            config: Config::default(),
            tls: None,
            connect_timeout: Some(Duration::from_secs(30)),
            handshake_timeout: Some(Duration::from_secs(30)),
        }
    }
}

/// A server's options, as each adapter's `Acceptor` takes them.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The session configuration.
    pub config: Config,
    /// TLS (`None`: plain TCP).
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// The TLS + WebSocket handshake timeout.
    pub handshake_timeout: Option<Duration>,
}

impl Default for ServerOptions {
    /// The adapters' defaults: a 30 s handshake timeout, no TLS.
    fn default() -> Self {
        ServerOptions {
            config: Config::default(),
            tls: None,
            handshake_timeout: Some(Duration::from_secs(30)),
        }
    }
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

/// One runtime with its adapter, as far as the scenarios are concerned.
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
    /// The in-memory pipe of the adapter's `pair`.
    type Pipe: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// Runs a future to completion on this thread.
    fn block_on<T>(future: impl Future<Output = T>) -> T;
    /// Runs `future` in the background; the returned future waits for it.
    fn spawn<T: Send + 'static>(
        future: impl Future<Output = T> + Send + 'static,
    ) -> Pin<Box<dyn Future<Output = T> + Send>>;
    /// Runs `future` in the background, unwatched, until it ends.
    fn spawn_detached(future: impl Future<Output = ()> + Send + 'static);
    /// A listener on 127.0.0.1, port 0, and its `ws://` base URL.
    fn listen() -> impl Future<Output = (Self::Listener, String)> + Send;
    /// The next TCP connection, with nodelay set.
    fn accept_tcp(listener: &Self::Listener) -> impl Future<Output = Self::Tcp> + Send;
    /// A plain TCP connection to `addr` (`host:port`).
    fn connect_tcp(addr: &str) -> impl Future<Output = Self::Tcp> + Send;

    /// The adapter's `Connector::connect_request`.
    fn connect_request(
        builder: ClientBuilder,
        options: ClientOptions,
    ) -> impl Future<Output = Result<(Session<Self::Client>, ClientResponse), ConnectError>> + Send;
    /// The adapter's `Acceptor::accept_tcp` (TLS first when configured).
    fn accept<F>(
        tcp: Self::Tcp,
        options: ServerOptions,
        decide: F,
    ) -> impl Future<Output = Result<(Session<Self::Server>, AcceptedRequest), HandshakeError>> + Send
    where
        F: FnOnce(&UpgradeRequest) -> Decision + Send;
    /// The adapter's `Connector::client_over` on the runtime's own stream.
    fn client_over(
        tcp: Self::Tcp,
        builder: ClientBuilder,
    ) -> impl Future<Output = Result<(Session<Self::Tcp>, ClientResponse), HandshakeError>> + Send;
    /// The adapter's in-memory `pair`.
    fn pair(
        config: Config,
    ) -> impl Future<Output = Result<SessionPair<Self>, HandshakeError>> + Send;
}

/// A client and a server session connected in memory.
pub type SessionPair<R> = (Session<<R as Rt>::Pipe>, Session<<R as Rt>::Pipe>);

/// Connects to `url` with the adapter's defaults.
pub async fn connect<R: Rt>(
    url: &str,
) -> Result<(Session<R::Client>, ClientResponse), ConnectError> {
    connect_with::<R>(url, ClientOptions::default()).await
}

/// Connects to `url` with `options`.
pub async fn connect_with<R: Rt>(
    url: &str,
    options: ClientOptions,
) -> Result<(Session<R::Client>, ClientResponse), ConnectError> {
    R::connect_request(ClientBuilder::new(url)?, options).await
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

/// Every await in the scenarios is bounded: a hang is a failure, not a
/// stuck run.
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

/// Runs one scenario on runtime `R`, bounded to 60 s.
pub fn run<R: Rt, F: Future<Output = ()>>(scenario: impl FnOnce() -> F) {
    R::block_on(within(60, scenario()));
}

/// An echo server on runtime `R` for connections one after another, until
/// the test ends; its sessions use `options` (TLS included).
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

/// A self-signed certificate for `localhost`: the server config and the
/// roots a client needs to trust it.
///
/// # Panics
/// If rcgen or rustls refuse what the other made.
#[must_use]
pub fn certificate() -> (Arc<rustls::ServerConfig>, rustls::RootCertStore) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let der = cert.cert.der().clone();
    let key = rustls_pki_types::PrivateKeyDer::Pkcs8(cert.key_pair.serialize_der().into());
    let server = ws_session::tls::server_config(vec![der.clone()], key).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(der).unwrap();
    (server, roots)
}

/// Instantiates every scenario as a `#[test]` on the runtime type `$rt`.
#[macro_export]
macro_rules! scenarios {
    ($rt:ty) => {
        $crate::scenarios!(@each $rt;
            session: echo_text_and_binary_then_clean_close,
            deflate_is_negotiated_and_large_messages_round_trip,
            message_sent_before_close_is_delivered_first, stream_and_sink,
            frames_pings_and_pongs_in_default_mode,
            terminate_ends_without_handshake_and_peer_sees_1006,
            peer_vanishing_is_abnormal_not_a_hang, dropping_a_session_says_going_away,
            content_conversion_and_bad_values_keep_the_session,
            in_memory_pair_with_compression, raw_session_sees_frames_as_they_are,
            raw_session_answers_the_peers_close_itself,
            heartbeat_pings_are_answered_while_the_peer_only_receives,
            dropping_recv_in_a_race_loses_nothing,
            close_takes_what_arrives_before_the_peers_close,
            fragmented_send_flush_and_split_conversion,
            raw_recv_returns_whole_frames_as_messages_and_keeps_fragments;
            split: halves_in_two_tasks,
            pong_and_close_reply_go_out_while_only_the_reader_is_polled,
            heartbeat_runs_in_the_driver_of_a_split_session, terminate_through_the_writer,
            split_stream_and_sink, a_reader_that_does_not_read_stops_the_socket_reads,
            dropping_split_recv_in_a_race_loses_nothing;
            timers: heartbeat_ends_the_session_when_no_pong_comes,
            close_times_out_when_the_peer_never_answers, send_waits_when_the_peer_never_reads,
            split_writer_waits_when_the_peer_never_reads;
            handshake: request_subprotocols_and_headers_round_trip,
            rejection_reaches_the_client_with_status_headers_and_body,
            malformed_request_is_answered_400_and_wrong_version_426, server_handshake_timeout,
            client_handshake_timeout, connection_refused_is_a_connect_error,
            bad_urls_are_refused_before_connecting, client_over_the_runtimes_own_tcp_stream,
            invalid_accept_options_answer_500, decision_reject_shorthand;
            tls: wss_round_trip_with_a_caller_client_config,
            default_roots_refuse_a_self_signed_certificate;
        );
    };
    (@each $rt:ty; $($module:ident: $($name:ident),* ;)*) => {
        $(mod $module {
            $(#[test]
            fn $name() {
                $crate::run::<$rt, _>($crate::$module::$name::<$rt>);
            })*
        })*
    };
}
