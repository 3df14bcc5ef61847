//! The connection cap and the graceful shutdown of `ws_axum` in a real
//! axum app (`axum::serve` with `with_graceful_shutdown`): over the cap a
//! 503 with `Retry-After` before any upgrade, on HTTP/1.1 and HTTP/2,
//! while the plain routes keep serving; at shutdown, queued messages then
//! Close 1001, a peer that never answers forced at the deadline, and the
//! HTTP server stopping with the sessions.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::Extension;
use axum::response::Response;
use axum::routing::get;
use futures_util::StreamExt as _;
use http_servers_tests::h2ws::H2Client;
use http_servers_tests::raw::exchange;
use http_servers_tests::servers::bind;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use ws_axum::{
    CloseCode, Config, ConnectionLimit, Message, Shutdown, ShutdownReport, WebSocketUpgrade,
};
use ws_tokio::{Connector, Mode};

/// Messages queued by `/queue` for each client (under the 1 MiB send
/// queue limit: they all wait in the session, unwritten).
const QUEUED: usize = 7;
const SIZE: usize = 128 * 1024;

/// Every wait in these tests is bounded.
async fn within<F: std::future::Future>(future: F) -> F::Output {
    // Boxed: a test body holds several sessions and clients.
    tokio::time::timeout(Duration::from_secs(30), Box::pin(future))
        .await
        .expect("done within 30 s")
}

/// The app: `/plain`, `/ws` (echo), `/queue` (queues [`QUEUED`] messages,
/// reports on `queued`, then reads until the end), with `limit` and
/// `shutdown` as extensions; served by `axum::serve` until the shutdown
/// begins. The address and the server's task.
async fn app(
    limit: Option<ConnectionLimit>,
    shutdown: &Shutdown,
    queued: mpsc::UnboundedSender<()>,
) -> (SocketAddr, JoinHandle<std::io::Result<()>>) {
    let mut router = Router::new()
        .route("/plain", get(|| async { "plain ok" }))
        .route("/ws", get(echo).connect(echo))
        .route("/queue", get(queue))
        .layer(Extension(queued))
        .layer(Extension(shutdown.clone()));
    if let Some(limit) = limit {
        router = router.layer(Extension(limit));
    }
    let listener = bind().await;
    let addr = listener.local_addr().unwrap();
    let stop = shutdown.signalled();
    let server = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(stop)
            .await
    });
    (addr, server)
}

async fn echo(ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(|mut socket| async move {
        while let Ok(message) = socket.recv().await {
            if socket.send_message(message).await.is_err() {
                break;
            }
        }
    })
}

async fn queue(
    Extension(queued): Extension<mpsc::UnboundedSender<()>>,
    ws: WebSocketUpgrade,
) -> Response {
    ws.on_upgrade(move |mut socket| async move {
        for i in 0..QUEUED {
            socket
                .feed_message(Message::Binary(payload(i)))
                .await
                .unwrap();
        }
        queued.send(()).unwrap();
        while socket.recv().await.is_ok() {}
    })
}

fn payload(i: usize) -> ws_axum::Bytes {
    ws_axum::Bytes::from(vec![u8::try_from(i).unwrap(); SIZE])
}

async fn round_trip(ws: &mut ws_tokio::WebSocket, text: &str) {
    ws.send_text(text.to_owned()).await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), Message::text(text));
}

async fn plain_still_serves(addr: SocketAddr) {
    let request = format!("GET /plain HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let response = exchange(addr, request.as_bytes()).await.unwrap();
    assert_eq!(response.status, 200);
}

#[tokio::test]
async fn over_the_cap_503_with_retry_after_before_upgrading_on_both_http_versions() {
    within(async {
        let limit = ConnectionLimit::new(2).retry_after(Duration::from_secs(3));
        let shutdown = ws_axum::shutdown_handle();
        let (tx, _rx) = mpsc::unbounded_channel();
        let (addr, _server) = app(Some(limit.clone()), &shutdown, tx).await;
        let url = format!("ws://{addr}/ws");
        let (mut first, _) = ws_tokio::connect(&url).await.unwrap();
        let (mut second, _) = ws_tokio::connect(&url).await.unwrap();
        round_trip(&mut first, "one").await;
        round_trip(&mut second, "two").await;
        assert_eq!(limit.active(), 2);

        // HTTP/1.1: 503, Retry-After, Connection: close; no upgrade.
        let err = ws_tokio::connect(&url).await.unwrap_err();
        let response = err.rejection().expect("a refusal");
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()["retry-after"], "3");
        assert_eq!(response.headers()["connection"], "close");
        // HTTP/2 extended CONNECT: 503 too, on a connection that goes on.
        let mut h2 = H2Client::connect(addr).await.unwrap();
        let refused = h2.websocket("/ws", Config::default(), &[]).await;
        assert_eq!(
            refused.err().as_deref(),
            Some("status 503 Service Unavailable")
        );
        plain_still_serves(addr).await;
        round_trip(&mut first, "still one").await;
        assert_eq!(limit.active(), 2, "the refusals took no place");

        // A place freed by a closed session (given back before the
        // server closed the connection) is taken by the next client, over
        // either version.
        first.close(None).await.unwrap();
        assert_eq!(limit.active(), 1);
        let (_, mut over_h2) = h2.websocket("/ws", Config::default(), &[]).await.unwrap();
        over_h2.connection().send_text("over h2").unwrap();
        assert_eq!(
            over_h2.next_message().await.unwrap(),
            ws_tokio::wsproto_core::Message::Text("over h2".into())
        );
        round_trip(&mut second, "two again").await;
        assert!(
            ws_tokio::connect(&url)
                .await
                .unwrap_err()
                .rejection()
                .is_some()
        );
    })
    .await;
}

#[tokio::test]
async fn shutdown_delivers_the_queued_messages_then_1001_and_stops_the_http_server() {
    within(async {
        let shutdown = ws_axum::shutdown_handle();
        let (tx, mut queued) = mpsc::unbounded_channel();
        let (addr, server) = app(None, &shutdown, tx).await;
        let (mut ws, _) = ws_tokio::connect(format!("ws://{addr}/queue"))
            .await
            .unwrap();
        queued.recv().await.unwrap();
        assert_eq!(shutdown.live(), 1);
        let shutting = tokio::spawn({
            let shutdown = shutdown.clone();
            async move { shutdown.shutdown(Duration::from_secs(20)).await }
        });
        for i in 0..QUEUED {
            match ws.next().await {
                Some(Ok(Message::Binary(data))) => assert_eq!(data, payload(i), "message {i}"),
                other => panic!("message {i} is {other:?}"),
            }
        }
        match ws.next().await {
            Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::GOING_AWAY),
            other => panic!("expected Close 1001, got {other:?}"),
        }
        assert!(ws.next().await.is_none());
        let report: ShutdownReport = shutting.await.unwrap();
        assert_eq!(
            (report.sessions, report.closed, report.ended, report.forced),
            (1, 1, 0, 0),
            "{report:?}"
        );
        // axum's own graceful shutdown ran with ours: the server is done
        // and the port refuses new connections.
        server.await.unwrap().unwrap();
        assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    })
    .await;
}

#[tokio::test]
async fn a_peer_that_never_answers_is_forced_at_the_deadline_and_reported() {
    within(async {
        let limit = ConnectionLimit::new(10);
        let shutdown = ws_axum::shutdown_handle();
        let (tx, _rx) = mpsc::unbounded_channel();
        let (addr, server) = app(Some(limit.clone()), &shutdown, tx).await;
        let url = format!("ws://{addr}/ws");
        // Raw mode answers nothing by itself; it is not polled until
        // after the deadline.
        let (mut silent, _) = Connector::new()
            .config(Config::default().with_mode(Mode::Raw))
            .connect(&url)
            .await
            .unwrap();
        let (mut polite, _) = ws_tokio::connect(&url).await.unwrap();
        round_trip(&mut polite, "hello").await;
        let deadline = Duration::from_millis(300);
        let shutting = tokio::spawn({
            let shutdown = shutdown.clone();
            async move { shutdown.shutdown(deadline).await }
        });
        assert!(matches!(
            polite.next().await,
            Some(Ok(Message::Close(Some(frame)))) if frame.code == CloseCode::GOING_AWAY
        ));
        assert!(polite.next().await.is_none());
        let report = shutting.await.unwrap();
        assert_eq!(
            (report.sessions, report.closed, report.ended, report.forced),
            (2, 1, 0, 1),
            "{report:?}"
        );
        assert!(report.elapsed >= deadline);
        server.await.unwrap().unwrap();
        // The forced session's task was aborted: the connection dropped
        // after the Close it was sent, and its place given back first.
        let frame = silent.recv_frame().await.unwrap();
        assert_eq!(frame.payload[..2], 1001u16.to_be_bytes());
        assert!(silent.recv_frame().await.is_err());
        assert_eq!(limit.active(), 0);
    })
    .await;
}
