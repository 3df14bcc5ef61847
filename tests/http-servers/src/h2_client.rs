//! The client halves of the `ws-h2` scenarios, written once over the
//! runtime (`ws_h2::generic::H2Connector<R>`): `tests/h2_client.rs` runs
//! them on tokio, `tests/h2_client_async_io.rs` on async-std and smol,
//! against the same tokio-hosted servers. Each takes a connector with
//! [`config`] and the server's address; the suites bound the whole run
//! with their runtime's timer and check what the server saw.

use std::net::SocketAddr;

use http::{StatusCode, Version};
use ws_h2::generic::H2Connector;
use ws_h2::ws_session::{CloseCode, CloseFrame, Config, Message, Net};
use ws_h2::{H2Error, WebSocket};

/// Far over the flow-control windows both ways: HTTP/2's 64 KiB default,
/// our client's 1 MiB stream window, hyper's windows.
pub const LARGE: usize = 3 * 1024 * 1024;

/// Room for [`LARGE`] messages.
#[must_use]
pub fn config() -> Config {
    Config::default()
        .with_max_message_size(4 * 1024 * 1024)
        .with_max_frame_size(4 * 1024 * 1024)
}

/// Sends `message` and expects it back.
///
/// # Panics
/// When the echo fails or differs.
pub async fn echo(ws: &mut WebSocket, message: Message) {
    ws.send_message(message.clone()).await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), message);
}

/// A clean close handshake.
///
/// # Panics
/// When the close fails or is not clean.
pub async fn close(mut ws: WebSocket) {
    ws.close(CloseFrame::new(CloseCode::NORMAL, "done"))
        .await
        .unwrap();
    assert!(ws.close_reason().unwrap().is_clean());
}

/// One WebSocket over h2c: answered 200 over HTTP/2, an echo, a close.
///
/// # Panics
/// When any of it fails.
pub async fn one_socket_echo<R: Net>(connector: H2Connector<R>, addr: SocketAddr) {
    let (mut ws, response) = connector
        .prior_knowledge(true)
        .connect(format!("ws://{addr}/ws"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(ws.get_ref().version(), Version::HTTP_2);
    echo(&mut ws, Message::text("over an extended CONNECT")).await;
    close(ws).await;
}

/// Three WebSockets on one h2c connection (streams 1, 3, 5), all talking
/// at once, a [`LARGE`] message each.
///
/// # Panics
/// When any of it fails.
pub async fn three_multiplexed<R: Net>(connector: H2Connector<R>, addr: SocketAddr) {
    let connection = connector
        .prior_knowledge(true)
        .connect_h2(format!("ws://{addr}/"))
        .await
        .unwrap();
    assert!(connection.extended_connect_enabled());
    let mut sockets = Vec::new();
    for _ in 0..3 {
        let (ws, _) = connection.open(format!("ws://{addr}/ws")).await.unwrap();
        sockets.push(ws);
    }
    // Streams of one connection: client stream ids 1, 3, 5 (RFC 9113 §5.1.1).
    let ids: Vec<u32> = sockets
        .iter()
        .map(|ws| ws.get_ref().as_h2().unwrap().stream_id())
        .collect();
    assert_eq!(ids, [1, 3, 5]);
    let conversations = sockets
        .into_iter()
        .zip(0u8..)
        .map(|(mut ws, i)| async move {
            for n in 0..20 {
                echo(&mut ws, Message::text(format!("socket {i} message {n}"))).await;
            }
            echo(&mut ws, Message::binary(vec![i; LARGE])).await;
            close(ws).await;
        });
    futures_util::future::join_all(conversations).await;
}

/// Messages far over the flow-control windows: one [`LARGE`] echo, then a
/// burst larger than the windows before anything is read back.
///
/// # Panics
/// When any of it fails.
pub async fn large_messages<R: Net>(connector: H2Connector<R>, addr: SocketAddr) {
    let (mut ws, _) = connector
        .prior_knowledge(true)
        .connect(format!("ws://{addr}/ws"))
        .await
        .unwrap();
    let pattern: Vec<u8> = (0..LARGE).map(|i| (i % 251) as u8).collect();
    echo(&mut ws, Message::binary(pattern)).await;
    for n in 0..4u8 {
        ws.send_message(Message::binary(vec![n; 512 * 1024]))
            .await
            .unwrap();
    }
    for n in 0..4u8 {
        assert_eq!(
            ws.recv().await.unwrap(),
            Message::binary(vec![n; 512 * 1024])
        );
    }
    close(ws).await;
}

/// A server without `SETTINGS_ENABLE_CONNECT_PROTOCOL` at `addr`: a typed
/// refusal naming the setting with the fallback off (from `connect` and
/// `connect_h2`), the HTTP/1.1 upgrade on a new connection with it on.
///
/// # Panics
/// When any of it fails.
pub async fn fallback_and_refusal<R: Net>(connector: H2Connector<R>, addr: SocketAddr) {
    let h2c = connector.prior_knowledge(true);
    let url = format!("ws://{addr}/ws");
    let error = h2c.connect(url.as_str()).await.unwrap_err();
    assert!(
        matches!(&error, H2Error::ExtendedConnectRefused { authority } if *authority == addr.to_string()),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("SETTINGS_ENABLE_CONNECT_PROTOCOL")
    );
    let error = h2c.connect_h2(url.as_str()).await.unwrap_err();
    assert!(
        matches!(error, H2Error::ExtendedConnectRefused { .. }),
        "{error}"
    );
    let (mut ws, response) = h2c
        .fallback_to_http1(true)
        .connect(url.as_str())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
    assert_eq!(ws.get_ref().version(), Version::HTTP_11);
    echo(&mut ws, Message::binary(vec![1u8; LARGE])).await;
    close(ws).await;
}
