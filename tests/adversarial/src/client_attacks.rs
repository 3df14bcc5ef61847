//! Attacks on our client: a raw malicious server (std listener on
//! loopback port 0, 101 written by hand) against the adapter's client,
//! while the bystander keeps echoing through our own server on the same
//! runtime.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::FutureExt as _;
use ws_session::{CloseCode, CloseFrame, CloseReason, Error, Session};
use wsproto_core::{ExtensionError, ProtocolError};

use crate::adapter::Adapter;
use crate::harness::config;
use crate::harness::{CLOSE_TIMEOUT, EARLY, HANDSHAKE_TIMEOUT, PING_INTERVAL, PING_TIMEOUT, SLACK};
use crate::heap::{allowance, exclusive};
use crate::peer::{End, RawServer};
use crate::scene::Scene;
use crate::server_attacks::BOMB_FACTOR;
use crate::wire::{self, FIN, RSV1, opcode};

/// Waits for the client script's result.
fn result_of<T>(rx: &std::sync::mpsc::Receiver<T>, within: Duration) -> T {
    rx.recv_timeout(within)
        .expect("the client under test reported in time")
}

/// A compression bomb towards our client: the malicious server agrees to
/// permessage-deflate and sends one frame (under `max_frame_size`) that
/// inflates to 64 MiB. The client stops at `max_message_size`: it sends
/// Close 1009 (masked, as a client must) and its `recv` ends with that
/// reason.
pub fn compression_bomb_to_client<A: Adapter>() {
    let _one_at_a_time = exclusive();
    let mut scene = Scene::<A>::new("compression bomb towards the client");
    let config = config();
    let bomb = wire::deflate_bomb(BOMB_FACTOR * config.max_frame_size());
    assert!(bomb.len() <= config.max_frame_size());
    let raw = RawServer::new();
    scene.attack_starts();
    let outcome = scene.client_against(&raw, &config, |mut ws| async move {
        let received = ws.recv().await;
        (received.map(|m| m.len()), ws.close_reason().cloned())
    });
    let (mut peer, request) = raw.accept_upgrade(wire::DEFLATE_HEADER, HANDSHAKE_TIMEOUT);
    assert!(
        request.contains("permessage-deflate"),
        "not offered: {request}"
    );
    peer.write(&wire::server_frame(FIN | RSV1 | opcode::BINARY, &bomb))
        .expect("send the bomb");
    let transcript = peer.read_to_end(Instant::now() + CLOSE_TIMEOUT + SLACK);
    let (received, reason) = result_of(&outcome, SLACK);
    let expected = CloseReason::Error(ProtocolError::Extension {
        extension: "permessage-deflate",
        error: ExtensionError::TooLarge {
            limit: config.inflate_limit(),
        },
    });
    assert_eq!(transcript.close_code(), 1009, "{transcript:?}");
    assert_eq!(transcript.masked, 1, "the client's Close is masked");
    assert!(
        matches!(&received, Err(Error::Closed(r)) if *r == expected),
        "{received:?}"
    );
    assert_eq!(reason, Some(expected));
    scene.finish(
        allowance(&config, true),
        &format!(
            "client sent close {} for {} compressed bytes (transport {:?})",
            transcript.close_code(),
            bomb.len(),
            transcript.end
        ),
    );
}

/// What the never-reading scenario's client script saw.
#[derive(Debug)]
struct Backpressure {
    /// Messages `send` accepted before one waited past the probe time.
    accepted: usize,
    /// `close()` result and how long it took.
    close: Result<(), String>,
    close_took: Duration,
    reason: Option<CloseReason>,
}

/// How long a `send` must wait before the script counts it as held back.
const BLOCKED: Duration = Duration::from_millis(300);

/// Sends until `send` is held back, then closes.
async fn send_until_blocked<A: Adapter>(mut ws: Session<A::Stream>, max: usize) -> Backpressure {
    static MESSAGE: [u8; 16 * 1024] = [0x33; 16 * 1024];
    let mut accepted = 0;
    while accepted < max {
        let send = ws.send_binary(Bytes::from_static(&MESSAGE)).fuse();
        let timer = A::sleep(BLOCKED).fuse();
        futures_util::pin_mut!(send, timer);
        futures_util::select! {
            result = send => {
                result.expect("send");
                accepted += 1;
            }
            () = timer => break,
        }
    }
    let start = Instant::now();
    let close = ws
        .close(CloseFrame::new(CloseCode::NORMAL, "bye"))
        .await
        .map_err(|e| e.to_string());
    Backpressure {
        accepted,
        close,
        close_took: start.elapsed(),
        reason: ws.close_reason().cloned(),
    }
}

/// A server that never reads while our client sends: the client sends
/// 16 KiB messages until one `send` waits (backpressure: the socket
/// buffers and the 1 MiB send queue are full), then closes. The Close
/// cannot be written either, so the close timeout ends the session
/// (`CloseReason::CloseTimeout`, with the configured timeout). The heap stays within the allowance,
/// which holds the send queue limit once, though the client offered far
/// more (64 MiB). The heartbeat and the send timeout are off here so
/// that the close timeout, not a ping or send timeout, is what ends it
/// (the server side's `never_reading_client` ends by the send timeout).
pub fn never_reading_server<A: Adapter>() {
    const OFFERED: usize = 64 << 20;
    let _one_at_a_time = exclusive();
    let mut scene = Scene::<A>::new("server that never reads");
    let config = config().with_ping_interval(None).with_send_timeout(None);
    let raw = RawServer::new();
    scene.attack_starts();
    let outcome = scene.client_against(&raw, &config, |ws| {
        send_until_blocked::<A>(ws, OFFERED / (16 * 1024))
    });
    let (mut peer, _) = raw.accept_upgrade("", HANDSHAKE_TIMEOUT);
    let report = result_of(&outcome, BLOCKED + CLOSE_TIMEOUT + 2 * SLACK);
    assert!(
        report.accepted * 16 * 1024 < OFFERED,
        "send never waited: {report:?}"
    );
    assert_eq!(report.close, Ok(()), "{report:?}");
    assert_eq!(
        report.reason,
        Some(CloseReason::CloseTimeout {
            timeout: CLOSE_TIMEOUT
        }),
        "{report:?}"
    );
    assert!(
        report.close_took >= CLOSE_TIMEOUT.saturating_sub(EARLY)
            && report.close_took <= CLOSE_TIMEOUT + SLACK,
        "{report:?}"
    );
    // The client dropped the transport: the server, reading at last, finds
    // the end after the data it was sent.
    let end = peer.drain_to_end(Instant::now() + SLACK);
    assert!(end.is_closed(), "the client still holds the connection");
    scene.finish(
        allowance(&config, true),
        &format!(
            "send waited after {} KiB accepted; close() ended by the close timeout after {:?} ({end:?})",
            report.accepted * 16,
            report.close_took
        ),
    );
}

/// Half-open TCP towards our client: the malicious server answers 101 and
/// vanishes without a FIN. The client's heartbeat ends it after the ping
/// interval plus the ping timeout: it sends close 1011 "ping timeout" and
/// its `recv` reports `CloseReason::PingTimeout`.
pub fn half_open_server<A: Adapter>() {
    let _one_at_a_time = exclusive();
    let mut scene = Scene::<A>::new("half-open server");
    let config = config();
    let raw = RawServer::new();
    scene.attack_starts();
    let outcome = scene.client_against(&raw, &config, |mut ws| async move {
        let start = Instant::now();
        let received = ws.recv().await.map(|m| m.len());
        (received, start.elapsed(), ws.close_reason().cloned())
    });
    let (mut peer, _) = raw.accept_upgrade("", HANDSHAKE_TIMEOUT);
    let (received, took, reason) = result_of(
        &outcome,
        PING_INTERVAL + PING_TIMEOUT + CLOSE_TIMEOUT + SLACK,
    );
    let expected = CloseReason::PingTimeout {
        timeout: PING_TIMEOUT,
    };
    assert!(
        matches!(&received, Err(Error::Closed(r)) if *r == expected),
        "{received:?}"
    );
    assert_eq!(reason, Some(expected));
    assert!(
        took >= (PING_INTERVAL + PING_TIMEOUT).saturating_sub(EARLY),
        "{took:?}"
    );
    // Only now does the vanished server look at what it was sent.
    let transcript = peer.read_to_end(Instant::now() + SLACK);
    assert_eq!(
        transcript.counts[usize::from(opcode::PING)],
        1,
        "{transcript:?}"
    );
    assert_eq!(transcript.close, Some((1011, "ping timeout".to_owned())));
    assert_eq!(transcript.masked, 2, "the client masks its frames");
    assert_eq!(transcript.end, Some(End::Eof));
    scene.finish(
        allowance(&config, true),
        &format!("one ping, then close 1011 \"ping timeout\" after {took:?}"),
    );
}
