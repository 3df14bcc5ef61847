//! Our RFC 8441 client (`ws-h2`) against the axum and hyper servers of
//! `ws-axum`: an echo over an extended CONNECT stream (h2c with prior
//! knowledge, and TLS with ALPN `h2`), three WebSockets at once on one
//! connection, messages far over HTTP/2's 64 KiB flow-control window, the
//! fallback to HTTP/1.1 from a server without extended CONNECT and from
//! one without HTTP/2 at all, and the typed refusals with the fallback
//! off.

use std::time::Duration;

use http::{StatusCode, Version};
use http_servers_tests::h2_client::{self, LARGE, config};
use http_servers_tests::servers::{
    Seen, SeenRx, Server, axum_app, next, serve_axum_killable, serve_axum_tls, serve_axum_tls_with,
    serve_axum_without_rfc8441, start,
};
use ws_h2::{H2Connector, H2Error, WebSocket};
use ws_tokio::{ClientResponse, CloseCode, CloseFrame, Message};

fn h2c() -> H2Connector {
    H2Connector::new().config(config()).prior_knowledge(true)
}

async fn within<F: Future>(future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(30), future)
        .await
        .expect("within 30 s")
}

async fn echo(ws: &mut WebSocket, message: Message) {
    within(h2_client::echo(ws, message)).await;
}

async fn close(mut ws: WebSocket) {
    within(ws.close(CloseFrame::new(CloseCode::NORMAL, "done")))
        .await
        .unwrap();
}

/// A WebSocket that `opened` over `version`: the status it was answered
/// with (200 over HTTP/2, 101 over HTTP/1.1), its transport, the upgrade
/// the server saw; then an echo of `message` and a clean close.
async fn converse_over(
    version: Version,
    opened: Result<(WebSocket, ClientResponse), H2Error>,
    seen: &mut SeenRx,
    message: Message,
) {
    let (mut ws, response) = opened.unwrap();
    let status = if version == Version::HTTP_2 {
        StatusCode::OK
    } else {
        StatusCode::SWITCHING_PROTOCOLS
    };
    assert_eq!(response.status(), status);
    assert_eq!(ws.get_ref().version(), version);
    upgraded_over(seen, version).await;
    echo(&mut ws, message).await;
    close(ws).await;
}

async fn one_socket_echo(server: Server) {
    let (addr, mut seen) = start(server, config()).await;
    within(Box::pin(h2_client::one_socket_echo(h2c(), addr))).await;
    upgraded_over(&mut seen, Version::HTTP_2).await;
}

async fn three_multiplexed(server: Server) {
    let (addr, mut seen) = start(server, config()).await;
    within(Box::pin(h2_client::three_multiplexed(h2c(), addr))).await;
    for _ in 0..3 {
        upgraded_over(&mut seen, Version::HTTP_2).await;
    }
}

async fn large_messages(server: Server) {
    let (addr, _seen) = start(server, config()).await;
    within(Box::pin(h2_client::large_messages(h2c(), addr))).await;
}

async fn upgraded_over(seen: &mut SeenRx, version: Version) {
    let upgrade = next(seen).await;
    assert!(
        matches!(&upgrade, Seen::Upgrade { version: v, .. } if *v == version),
        "{upgrade:?}"
    );
}

/// A refusal of the extended CONNECT is typed, with the status and body.
async fn refused_path(server: Server) {
    let (addr, _seen) = start(server, config()).await;
    let error = h2c()
        .connect(format!("ws://{addr}/nowhere"))
        .await
        .unwrap_err();
    let rejection = error.rejection().expect("a refusal");
    assert_eq!(rejection.status(), StatusCode::NOT_FOUND);
    // A URL of another origin is not sent on the connection.
    let connection = h2c().connect_h2(format!("ws://{addr}/")).await.unwrap();
    let error = connection.open("ws://other.example/ws").await.unwrap_err();
    assert!(matches!(error, H2Error::OtherOrigin { .. }), "{error}");
}

http_servers_tests::on_both_servers! {
    echo_on_one_stream => one_socket_echo,
    three_websockets_on_one_connection => three_multiplexed,
    messages_over_the_flow_control_window => large_messages,
    refusals_are_typed => refused_path,
}

#[tokio::test]
async fn tls_with_alpn_h2() {
    let cert = test_support::TestCert::new();
    let (router, mut seen) = axum_app(config());
    let addr = serve_axum_tls(router, (*cert.server_config()).clone()).await;
    let connector = H2Connector::new()
        .config(config())
        .tls_config(cert.client_config());
    let url = format!("wss://localhost:{}/ws", addr.port());
    let (mut ws, _) = connector.connect(url.as_str()).await.unwrap();
    assert_eq!(ws.get_ref().version(), Version::HTTP_2);
    assert!(matches!(
        next(&mut seen).await,
        Seen::Upgrade {
            version: Version::HTTP_2,
            ..
        }
    ));
    echo(&mut ws, Message::binary(vec![7u8; LARGE])).await;
    // A second WebSocket on a shared connection over TLS.
    let connection = connector.connect_h2(url.as_str()).await.unwrap();
    let (mut a, _) = connection.open(url.as_str()).await.unwrap();
    let (mut b, _) = connection.open(url.as_str()).await.unwrap();
    echo(&mut a, Message::text("a")).await;
    echo(&mut b, Message::text("b")).await;
    close(ws).await;
}

#[tokio::test]
async fn fallback_from_a_server_without_extended_connect() {
    let (router, mut seen) = axum_app(config());
    let addr = serve_axum_without_rfc8441(router).await;
    within(Box::pin(h2_client::fallback_and_refusal(h2c(), addr))).await;
    upgraded_over(&mut seen, Version::HTTP_11).await;
}

/// Over TLS: a server whose ALPN has no `h2` (the fallback upgrades on
/// the same TLS connection) and one with HTTP/2 but no extended CONNECT
/// (the fallback opens a new connection offering only `http/1.1`).
#[tokio::test]
async fn fallbacks_over_tls() {
    let cert = test_support::TestCert::new();
    let connector = |fallback| {
        H2Connector::new()
            .config(config())
            .tls_config(cert.client_config())
            .fallback_to_http1(fallback)
    };
    let cases: [(&[&[u8]], bool); 2] = [(&[b"http/1.1"], true), (&[b"h2", b"http/1.1"], false)];
    for (alpn, rfc8441) in cases {
        let (router, mut seen) = axum_app(config());
        let addr =
            serve_axum_tls_with(router, (*cert.server_config()).clone(), alpn, rfc8441).await;
        let url = format!("wss://localhost:{}/ws", addr.port());
        let error = connector(false).connect(url.as_str()).await.unwrap_err();
        if alpn.contains(&b"h2".as_slice()) {
            assert!(
                matches!(error, H2Error::ExtendedConnectRefused { .. }),
                "{error}"
            );
        } else {
            assert!(
                matches!(&error, H2Error::NoH2 { alpn: Some(chosen), .. } if chosen == "http/1.1"),
                "{error}"
            );
        }
        let opened = connector(true).connect(url.as_str()).await;
        let message = Message::text("over TLS and HTTP/1.1");
        converse_over(Version::HTTP_11, opened, &mut seen, message).await;
    }
}

#[tokio::test]
async fn fallback_from_a_server_without_http2() {
    // ws-tokio's own accept loop speaks HTTP/1.1 only.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(mut ws) = ws_tokio::accept(tcp).await else {
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
    let url = format!("ws://{addr}/");
    let error = h2c().connect(url.as_str()).await.unwrap_err();
    assert!(matches!(error, H2Error::Http2 { .. }), "{error}");
    let (mut ws, _) = h2c()
        .fallback_to_http1(true)
        .connect(url.as_str())
        .await
        .unwrap();
    assert_eq!(ws.get_ref().version(), Version::HTTP_11);
    echo(&mut ws, Message::text("over HTTP/1.1")).await;
    close(ws).await;

    // Without prior knowledge a ws:// URL is HTTP/1.1 (fallback on) or
    // a typed error (off).
    let error = H2Connector::new().connect(url.as_str()).await.unwrap_err();
    assert!(
        matches!(error, H2Error::CleartextNeedsPriorKnowledge { .. }),
        "{error}"
    );
    let (ws, _) = H2Connector::new()
        .fallback_to_http1(true)
        .connect(url.as_str())
        .await
        .unwrap();
    assert_eq!(ws.get_ref().version(), Version::HTTP_11);
}

/// The reconnecting client over HTTP/2: the hook's message goes out on
/// the extended CONNECT stream and comes back through the events; a
/// server restart on the same port is reconnected to.
#[tokio::test]
async fn reconnecting_over_http2() {
    use ws_tokio::{Backoff, End, ReconnectEvent, ReconnectOptions};

    let listener = http_servers_tests::servers::bind().await;
    let addr = listener.local_addr().unwrap();
    let (router, mut seen) = axum_app(config());
    let server = serve_axum_killable(listener, router);
    let options = ReconnectOptions::new()
        .backoff(Backoff::new().initial(Duration::from_millis(50)))
        .seed(1);
    let (client, mut events) = h2c()
        .reconnecting(format!("ws://{addr}/ws"), options)
        .unwrap()
        .on_connect(test_support::subscribe_hook())
        .start();
    assert!(matches!(
        within(events.next_event()).await,
        Some(ReconnectEvent::Connected { attempts: 1 })
    ));
    assert!(matches!(
        next(&mut seen).await,
        Seen::Upgrade {
            version: Version::HTTP_2,
            ..
        }
    ));
    let Some(ReconnectEvent::Message(echo)) = within(events.next_event()).await else {
        panic!("expected the echo");
    };
    assert_eq!(echo, Message::text("subscribe #0"));

    // Kill the server and its connections, then serve again on the same
    // port.
    server.abort();
    let _ = server.await;
    loop {
        match within(events.next_event()).await {
            Some(ReconnectEvent::Disconnected(_) | ReconnectEvent::AttemptFailed { .. }) => {}
            other => panic!("expected the loss, got {other:?}"),
        }
        if !client.is_connected() {
            break;
        }
    }
    let listener = tokio::net::TcpListener::from_std({
        let std = test_support::rebind(addr);
        std.set_nonblocking(true).unwrap();
        std
    })
    .unwrap();
    let (router, _seen) = axum_app(config());
    let _server = serve_axum_killable(listener, router);
    let reconnected = loop {
        match within(events.next_event()).await {
            Some(ReconnectEvent::Reconnected { attempts, gap }) => break (attempts, gap),
            Some(ReconnectEvent::Disconnected(_) | ReconnectEvent::AttemptFailed { .. }) => {}
            other => panic!("expected the reconnect, got {other:?}"),
        }
    };
    assert!(
        reconnected.0 >= 1 && reconnected.1 < Duration::from_secs(10),
        "{reconnected:?}"
    );
    let Some(ReconnectEvent::Message(echo)) = within(events.next_event()).await else {
        panic!("expected the echo");
    };
    assert_eq!(echo, Message::text("subscribe #1"));
    client.stop().await;
    assert!(matches!(
        within(events.next_event()).await,
        Some(ReconnectEvent::Ended(End::Stopped))
    ));
}

/// The port in the peer's `{"event": "listening", "port": N}` line.
fn announced_port(line: &str) -> Option<u16> {
    let rest = line.strip_prefix(r#"{"event": "listening", "port": "#)?;
    rest.strip_suffix('}')?.parse().ok()
}

/// An RFC 8441 server that is not ours: Hypercorn (Python, the `h2`
/// library) with an ASGI echo app, over h2c. Installed into a venv on
/// first use (needs the Python package registry).
#[tokio::test]
async fn against_hypercorn() {
    let peers = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/hypercorn");
    let venv = test_support::install::python_venv(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")),
        "hypercorn",
        &peers.join("requirements.txt"),
    )
    .expect("Hypercorn installed");
    let mut command = std::process::Command::new(venv.join("bin").join("python"));
    command.arg(peers.join("echo.py"));
    let peer =
        test_support::process::PeerProcess::spawn(command, announced_port).expect("Hypercorn");
    let port = peer
        .wait_listening(Duration::from_secs(30))
        .expect("Hypercorn listening");
    let url = format!("ws://127.0.0.1:{port}/echo");

    // Hypercorn 0.18 does not end its side of the stream after the close
    // handshake (it forgets the stream), so a client waits its close
    // timeout for that end: short here. (Frames that then arrive on the
    // forgotten stream make it drop the whole connection, so both
    // WebSockets are closed last.)
    let connector = h2c().config(config().with_close_timeout(Duration::from_millis(300)));
    let connection = connector.connect_h2(url.as_str()).await.unwrap();
    assert!(connection.extended_connect_enabled());
    let (mut a, response) = connection.open(url.as_str()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (mut b, _) = connection.open(url.as_str()).await.unwrap();
    echo(&mut a, Message::text("to hypercorn over h2")).await;
    echo(&mut b, Message::binary(vec![3u8; LARGE])).await;
    echo(&mut a, Message::binary(vec![4u8; LARGE])).await;
    echo(&mut b, Message::text("both streams alive")).await;
    within(futures_util::future::join(close(a), close(b))).await;
    drop(connection);
    // Hypercorn saw both as HTTP/2 WebSockets.
    let reports = peer.stdout();
    let websockets: Vec<&String> = reports
        .iter()
        .filter(|l| l.contains(r#""event": "websocket""#))
        .collect();
    assert_eq!(websockets.len(), 2, "{reports:?}");
    assert!(
        websockets
            .iter()
            .all(|l| l.contains(r#""http_version": "2""#)),
        "{reports:?}"
    );
}
