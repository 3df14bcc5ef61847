//! The core's timers driven by each runtime's timers on real loopback
//! sockets: heartbeat against a peer that never answers, close timeout
//! against a peer that never answers Close, and backpressure against a peer
//! that never reads.

use std::time::{Duration, Instant};

use ws_session::{CloseCode, CloseFrame, CloseReason, Config, Error};

use crate::{Rt, connect_config, finishes_within, silent_server};

#[allow(clippy::disallowed_methods)] // measuring the adapter's real timers
fn now() -> Instant {
    Instant::now()
}

/// Scenario (see the module docs).
pub async fn heartbeat_ends_the_session_when_no_pong_comes<R: Rt>() {
    let (url, _release) = silent_server::<R>().await;
    let config = Config::default()
        .with_ping_interval(Some(Duration::from_millis(200)))
        .with_ping_timeout(Duration::from_millis(300));
    let (mut ws, _) = connect_config::<R>(&url, config).await.unwrap();
    let started = now();
    // The application only awaits recv(): that drives the heartbeat.
    let end = ws.recv().await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(end, Error::Closed(CloseReason::PingTimeout { .. })),
        "{end:?}"
    );
    assert!(end.to_string().contains("ping timeout"), "{end}");
    // The ping goes out at 200 ms and its pong is due 300 ms later: not
    // before that (an upper bound would only measure the machine's load).
    assert!(
        elapsed >= Duration::from_millis(480),
        "{}: ended after {elapsed:?}, expected about 500 ms",
        R::NAME
    );
    assert_eq!(ws.close_reason().unwrap().code(), CloseCode::INTERNAL_ERROR);
}

/// Scenario (see the module docs).
pub async fn close_times_out_when_the_peer_never_answers<R: Rt>() {
    let (url, _release) = silent_server::<R>().await;
    let config = Config::default().with_close_timeout(Duration::from_millis(300));
    let (mut ws, _) = connect_config::<R>(&url, config).await.unwrap();
    let started = now();
    ws.close(CloseFrame::new(CloseCode::NORMAL, "anyone?"))
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(
        ws.close_reason(),
        Some(&CloseReason::CloseTimeout {
            timeout: Duration::from_millis(300)
        })
    );
    assert!(
        elapsed >= Duration::from_millis(290),
        "{}: closed after {elapsed:?}",
        R::NAME
    );
}

/// Scenario (see the module docs).
pub async fn send_waits_when_the_peer_never_reads<R: Rt>() {
    let (url, _release) = silent_server::<R>().await;
    let limit = 64 * 1024;
    let config = Config::default().with_send_queue_limit(limit);
    let (mut ws, _) = connect_config::<R>(&url, config).await.unwrap();
    let chunk = vec![7u8; 16 * 1024];
    let mut sent = 0usize;
    let blocked = finishes_within(Duration::from_millis(500), async {
        loop {
            ws.send_binary(chunk.clone()).await.unwrap();
            sent += chunk.len();
            assert!(sent < 256 << 20, "send never waited");
        }
    })
    .await;
    assert!(blocked.is_none(), "send should be waiting");
    // Memory is bounded: the core holds at most the limit plus one message;
    // the rest is in the kernel's socket buffers.
    assert!(ws.connection().queued_bytes() <= limit + chunk.len());
    assert!(sent < 64 << 20, "{sent} bytes accepted");
    ws.terminate().await;
}

/// Scenario (see the module docs).
pub async fn split_writer_waits_when_the_peer_never_reads<R: Rt>() {
    let (url, _release) = silent_server::<R>().await;
    let config = Config::default().with_send_queue_limit(64 * 1024);
    let (ws, _) = connect_config::<R>(&url, config).await.unwrap();
    let (mut writer, _reader) = ws.spawn_split_with_capacity(4);
    let chunk = vec![7u8; 16 * 1024];
    let mut sent = 0usize;
    let blocked = finishes_within(Duration::from_millis(500), async {
        loop {
            writer.send_binary(chunk.clone()).await.unwrap();
            sent += chunk.len();
            assert!(sent < 256 << 20, "send never waited");
        }
    })
    .await;
    assert!(blocked.is_none(), "send should be waiting");
    assert!(sent < 64 << 20, "{sent} bytes accepted");
    writer.terminate();
}
