//! The core's timers driven through the adapter on real loopback sockets:
//! heartbeat against a peer that never answers, close timeout against a
//! peer that never answers Close, and backpressure against a peer that
//! never reads.

mod common;

use std::time::Duration;

use common::{listen, within};
use tokio::sync::oneshot;
use tokio::time::Instant;
use ws_tokio::{Acceptor, CloseCode, CloseReason, Config, Connector, Error, Mode};

/// A server that completes the handshake (raw mode: no automatic pongs)
/// and then never touches the session again until `release` fires.
async fn silent_server() -> (String, oneshot::Sender<()>) {
    let (listener, url) = listen().await;
    let (release, released) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let (ws, _) = Acceptor::new()
            .config(Config::default().with_mode(Mode::Raw))
            .accept(tcp)
            .await
            .unwrap();
        let _ = released.await;
        drop(ws);
    });
    (url, release)
}

#[tokio::test]
async fn heartbeat_ends_the_session_when_no_pong_comes() {
    within(10, async {
        let (url, _release) = silent_server().await;
        let config = Config::default()
            .with_ping_interval(Some(Duration::from_millis(200)))
            .with_ping_timeout(Duration::from_millis(300));
        let (mut ws, _) = Connector::new().config(config).connect(&url).await.unwrap();
        let started = Instant::now();
        // The application only awaits recv(): that drives the heartbeat.
        let end = ws.recv().await.unwrap_err();
        let elapsed = started.elapsed();
        assert!(
            matches!(end, Error::Closed(CloseReason::PingTimeout { .. })),
            "{end:?}"
        );
        assert!(end.to_string().contains("ping timeout"), "{end}");
        assert!(
            elapsed >= Duration::from_millis(480) && elapsed < Duration::from_millis(1500),
            "ended after {elapsed:?}, expected about 500 ms"
        );
        assert_eq!(ws.close_reason().unwrap().code(), CloseCode::INTERNAL_ERROR);
    })
    .await;
}

#[tokio::test]
async fn close_times_out_when_the_peer_never_answers() {
    within(10, async {
        let (url, _release) = silent_server().await;
        let config = Config::default().with_close_timeout(Duration::from_millis(300));
        let (mut ws, _) = Connector::new().config(config).connect(&url).await.unwrap();
        let started = Instant::now();
        ws.close(CloseCode::NORMAL, "anyone?").await.unwrap();
        let elapsed = started.elapsed();
        assert_eq!(
            ws.close_reason(),
            Some(&CloseReason::CloseTimeout {
                timeout: Duration::from_millis(300)
            })
        );
        assert!(
            elapsed >= Duration::from_millis(290) && elapsed < Duration::from_millis(1500),
            "closed after {elapsed:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn send_waits_when_the_peer_never_reads() {
    within(20, async {
        let (url, _release) = silent_server().await;
        let limit = 64 * 1024;
        let config = Config::default().with_send_queue_limit(limit);
        let (mut ws, _) = Connector::new().config(config).connect(&url).await.unwrap();
        let chunk = vec![7u8; 16 * 1024];
        let mut sent = 0usize;
        let blocked = tokio::time::timeout(Duration::from_millis(500), async {
            loop {
                ws.send_binary(chunk.clone()).await.unwrap();
                sent += chunk.len();
                assert!(sent < 256 << 20, "send never waited");
            }
        })
        .await;
        assert!(blocked.is_err(), "send should be waiting");
        // Memory is bounded: the core holds at most the limit plus one
        // message; the rest is in the kernel's socket buffers.
        assert!(ws.connection().queued_bytes() <= limit + chunk.len());
        assert!(sent < 64 << 20, "{sent} bytes accepted");
        ws.terminate().await;
    })
    .await;
}

#[tokio::test]
async fn split_writer_waits_when_the_peer_never_reads() {
    within(20, async {
        let (url, _release) = silent_server().await;
        let config = Config::default().with_send_queue_limit(64 * 1024);
        let (ws, _) = Connector::new().config(config).connect(&url).await.unwrap();
        let (_reader, mut writer) = ws.split_with_capacity(4);
        let chunk = vec![7u8; 16 * 1024];
        let mut sent = 0usize;
        let blocked = tokio::time::timeout(Duration::from_millis(500), async {
            loop {
                writer.send_binary(chunk.clone()).await.unwrap();
                sent += chunk.len();
                assert!(sent < 256 << 20, "send never waited");
            }
        })
        .await;
        assert!(blocked.is_err(), "send should be waiting");
        assert!(sent < 64 << 20, "{sent} bytes accepted");
        writer.terminate();
    })
    .await;
}
