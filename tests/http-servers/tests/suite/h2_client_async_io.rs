//! Our RFC 8441 client on async-std and smol (`ws_h2::async_std`) against
//! the axum server of `ws-axum` (hosted on tokio, as axum is): the client
//! runs on a thread of its own under the runtime's `block_on`, its
//! sockets and timers are async-io's, and the HTTP/2 connection's task
//! runs on the runtime's spawner. The same scenarios as the tokio suite
//! (`h2_client.rs`): an echo over h2c and over TLS with ALPN `h2`, three
//! WebSockets on one connection, messages over the flow-control window,
//! the fallback to HTTP/1.1 and the typed refusal without it, the
//! reconnecting client.

use std::time::Duration;

use http::Version;
use http_servers_tests::h2_client::{self, LARGE, close, config, echo};
use http_servers_tests::servers::{
    Seen, SeenRx, Server, axum_app, next, serve_axum_tls, serve_axum_tls_with,
    serve_axum_without_rfc8441, start,
};
use test_support::{AsyncStd, Rt, Smol};
use ws_h2::H2Error;
use ws_h2::async_std::{AsyncIoRuntime, H2Connector};
use ws_tokio::Message;

/// A runtime the client runs on: the suite's `block_on`, and the
/// connector's runtime with that executor's spawner.
trait Client: Rt {
    fn h2_runtime() -> AsyncIoRuntime;
}

impl Client for AsyncStd {
    fn h2_runtime() -> AsyncIoRuntime {
        AsyncIoRuntime::with_spawner(|task| drop(async_std::task::spawn(task)))
    }
}

impl Client for Smol {
    fn h2_runtime() -> AsyncIoRuntime {
        // smol's global executor: the adapter's default.
        AsyncIoRuntime::new()
    }
}

/// The client thread's stack: a main thread's (8 MiB). In a debug build
/// the TLS scenario under async-std's `block_on` overflows 2 MiB (tokio's
/// blocking threads, a spawned thread's default); its parts alone (the
/// connects over TLS, h2 or HTTP/1.1) fit, and under smol it fits.
const CLIENT_STACK: usize = 8 * 1024 * 1024;

/// Runs `client` on a thread of its own under `R`'s `block_on` while the
/// tokio-hosted servers go on serving.
async fn on<R: Client, T: Send + 'static>(
    client: impl AsyncFnOnce(H2Connector) -> T + Send + 'static,
) -> T {
    let (done, result) = tokio::sync::oneshot::channel();
    let thread = std::thread::Builder::new()
        .name(format!("{} client", R::NAME))
        .stack_size(CLIENT_STACK)
        .spawn(move || {
            let connector = H2Connector::with_runtime(R::h2_runtime()).config(config());
            let _ = done.send(R::block_on(within(client(connector))));
        })
        .unwrap();
    match result.await {
        Ok(value) => value,
        // The client panicked: its panic is the failure.
        Err(_) => std::panic::resume_unwind(thread.join().unwrap_err()),
    }
}

/// `future` within 30 s, on async-io's timer.
async fn within<F: Future>(future: F) -> F::Output {
    let limit = async {
        smol::Timer::after(Duration::from_secs(30)).await;
        panic!("not within 30 s");
    };
    smol::future::or(future, limit).await
}

async fn upgraded_over(seen: &mut SeenRx, version: Version) {
    let upgrade = next(seen).await;
    assert!(
        matches!(&upgrade, Seen::Upgrade { version: v, .. } if *v == version),
        "{upgrade:?}"
    );
}

async fn one_socket_echo<R: Client>() {
    let (addr, mut seen) = start(Server::Axum, config()).await;
    on::<R, _>(async move |connector| h2_client::one_socket_echo(connector, addr).await).await;
    upgraded_over(&mut seen, Version::HTTP_2).await;
}

async fn three_multiplexed<R: Client>() {
    let (addr, mut seen) = start(Server::Axum, config()).await;
    on::<R, _>(async move |connector| h2_client::three_multiplexed(connector, addr).await).await;
    for _ in 0..3 {
        upgraded_over(&mut seen, Version::HTTP_2).await;
    }
}

async fn large_messages<R: Client>() {
    let (addr, _seen) = start(Server::Axum, config()).await;
    on::<R, _>(async move |connector| h2_client::large_messages(connector, addr).await).await;
}

async fn fallback_and_refusal<R: Client>() {
    let (router, mut seen) = axum_app(config());
    let addr = serve_axum_without_rfc8441(router).await;
    on::<R, _>(async move |connector| h2_client::fallback_and_refusal(connector, addr).await).await;
    upgraded_over(&mut seen, Version::HTTP_11).await;
}

/// TLS (ws-session's rustls over async-io's socket) with ALPN `h2`; then
/// a server whose ALPN has no `h2`: `NoH2` with the fallback off, the
/// HTTP/1.1 upgrade on the same TLS connection with it on.
async fn over_tls<R: Client>() {
    let cert = test_support::TestCert::new();
    let (router, mut seen) = axum_app(config());
    let h2_addr = serve_axum_tls(router, (*cert.server_config()).clone()).await;
    let (router, mut seen_http1) = axum_app(config());
    let http1_addr = serve_axum_tls_with(
        router,
        (*cert.server_config()).clone(),
        &[b"http/1.1"],
        true,
    )
    .await;
    let client_config = cert.client_config();
    on::<R, _>(async move |connector| {
        let connector = connector.tls_config(client_config);
        let url = format!("wss://localhost:{}/ws", h2_addr.port());
        let (mut ws, _) = connector.connect(url.as_str()).await.unwrap();
        assert_eq!(ws.get_ref().version(), Version::HTTP_2);
        echo(&mut ws, Message::binary(vec![7u8; LARGE])).await;
        close(ws).await;

        let url = format!("wss://localhost:{}/ws", http1_addr.port());
        let error = connector.connect(url.as_str()).await.unwrap_err();
        assert!(
            matches!(&error, H2Error::NoH2 { alpn: Some(chosen), .. } if chosen == "http/1.1"),
            "{error}"
        );
        let (mut ws, _) = connector
            .fallback_to_http1(true)
            .connect(url.as_str())
            .await
            .unwrap();
        assert_eq!(ws.get_ref().version(), Version::HTTP_11);
        echo(&mut ws, Message::text("over TLS and HTTP/1.1")).await;
        close(ws).await;
    })
    .await;
    upgraded_over(&mut seen, Version::HTTP_2).await;
    upgraded_over(&mut seen_http1, Version::HTTP_11).await;
}

/// The reconnecting client over h2c: its backoff and driver on this
/// runtime, the hook's message out on the extended CONNECT stream and back
/// through the events, a send through the handle, a clean stop.
async fn reconnecting<R: Client>() {
    use ws_tokio::{End, ReconnectEvent, ReconnectOptions};

    let (addr, mut seen) = start(Server::Axum, config()).await;
    on::<R, _>(async move |connector| {
        let (client, mut events) = connector
            .prior_knowledge(true)
            .reconnecting(format!("ws://{addr}/ws"), ReconnectOptions::new().seed(1))
            .unwrap()
            .on_connect(test_support::subscribe_hook())
            .start();
        assert!(matches!(
            events.next_event().await,
            Some(ReconnectEvent::Connected { attempts: 1 })
        ));
        let Some(ReconnectEvent::Message(echo)) = events.next_event().await else {
            panic!("expected the hook's echo");
        };
        assert_eq!(echo, Message::text("subscribe #0"));
        client.send_text("through the handle").await.unwrap();
        let Some(ReconnectEvent::Message(echo)) = events.next_event().await else {
            panic!("expected the echo");
        };
        assert_eq!(echo, Message::text("through the handle"));
        client.stop().await;
        assert!(matches!(
            events.next_event().await,
            Some(ReconnectEvent::Ended(End::Stopped))
        ));
    })
    .await;
    upgraded_over(&mut seen, Version::HTTP_2).await;
}

/// Each scenario on async-std and on smol.
macro_rules! on_async_io {
    ($($name:ident => $scenario:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn async_std() {
                    super::$scenario::<test_support::AsyncStd>().await;
                }

                #[tokio::test]
                async fn smol() {
                    super::$scenario::<test_support::Smol>().await;
                }
            }
        )*
    };
}

on_async_io! {
    echo_on_one_stream => one_socket_echo,
    three_websockets_on_one_connection => three_multiplexed,
    messages_over_the_flow_control_window => large_messages,
    fallback_to_http1_and_refusal_without_it => fallback_and_refusal,
    tls_with_alpn_h2_and_fallback => over_tls,
    reconnecting_over_http2 => reconnecting,
}
