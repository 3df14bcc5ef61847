//! Attacks on our server: a raw TCP client writing hand-built bytes at the
//! echo server, while a bystander keeps echoing through the same server.
//! Each ends with the close code read back from the bytes the attacker
//! receives (or the handshake status / the socket closing), the reason the
//! server recorded, the heap within its allowance, and the bystander
//! unaffected.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use ws_session::{CloseReason, HandshakeError};
use wsproto_core::handshake::RequestError;
use wsproto_core::{ExtensionError, ProtocolError};

use crate::adapter::Adapter;
use crate::harness::{
    CLOSE_TIMEOUT, EARLY, HANDSHAKE_TIMEOUT, PING_INTERVAL, PING_TIMEOUT, SEND_TIMEOUT, SLACK,
};
use crate::harness::{ServerOutcome, config};
use crate::heap::{allowance, exclusive};
use crate::peer::{End, RawPeer};
use crate::scene::Scene;
use crate::wire::{self, FIN, MASK, RSV1, opcode};

/// What a compression bomb inflates to, in units of `max_frame_size`.
pub const BOMB_FACTOR: usize = 64;

/// A deadline `d` from now.
fn within(d: Duration) -> Instant {
    Instant::now() + d
}

/// A flood of empty continuation frames after an unfinished binary frame:
/// more fragments than `max_fragments` (131 072, about 790 KB on the wire)
/// ends the connection with 1009 at the first fragment over the limit,
/// without the fragments costing memory each.
pub fn continuation_flood_empty<A: Adapter>() {
    let limit = config().max_fragments();
    fragment_flood::<A>(
        "continuation flood (empty)",
        b"",
        limit,
        ProtocolError::TooManyFragments { limit },
    );
}

/// A flood of 16-byte continuation frames: the message grows 16 bytes a
/// frame until it passes `max_message_size` (1 MiB, at 65 536 fragments:
/// half the fragment limit, so the size limit is the one hit), then 1009.
pub fn continuation_flood_bytes<A: Adapter>() {
    const FRAGMENT: usize = 16;
    let config = config();
    let limit = config.max_message_size();
    assert!(
        limit / FRAGMENT < config.max_fragments(),
        "the size limit hits first"
    );
    fragment_flood::<A>(
        "continuation flood (16-byte fragments)",
        &[b'y'; FRAGMENT],
        limit / FRAGMENT,
        ProtocolError::MessageTooLarge { limit },
    );
}

/// Sends a non-final binary frame, then continuation frames carrying
/// `fragment` (1 024 per write) until `limit` of them, plus two batches,
/// have gone or the server has closed; expects close 1009 for `expected`.
fn fragment_flood<A: Adapter>(
    attack: &'static str,
    fragment: &[u8],
    limit: usize,
    expected: ProtocolError,
) {
    let _one_at_a_time = exclusive();
    let mut scene = Scene::<A>::new(attack);
    scene.attack_starts();
    let (mut peer, _) = RawPeer::upgrade(scene.server.addr, "", HANDSHAKE_TIMEOUT);
    let first = wire::client_frame(opcode::BINARY, b"x");
    let batch = wire::client_frame(opcode::CONTINUATION, fragment).repeat(1024);
    let batches = std::iter::repeat_n(batch, limit / 1024 + 2);
    let (_, stopped) = peer.flood(std::iter::once(first).chain(batches));
    let transcript = peer.read_to_end(within(SLACK));
    let reason = scene
        .server
        .close_reason_of(peer.local_addr(), CLOSE_TIMEOUT + SLACK);
    assert_eq!(transcript.close_code(), 1009, "{transcript:?}");
    assert!(transcript.end.is_some_and(End::is_closed), "{transcript:?}");
    assert_eq!(reason, CloseReason::Error(expected));
    scene.finish(
        allowance(&config(), true),
        &format!(
            "close {} at limit {limit} (flood stopped by: {:?})",
            transcript.close_code(),
            stopped.map(|e| e.kind())
        ),
    );
}

/// A frame header declaring 2^63 payload bytes, then silence. RFC 6455
/// §5.2 requires the most significant bit of a 64-bit length to be 0, so
/// this is a protocol error: close 1002 at once, with no payload awaited
/// and nothing reserved for it. The largest valid length, 2^63 - 1, is
/// over `max_frame_size`: close 1009, equally at once.
pub fn huge_declared_length<A: Adapter>() {
    let _one_at_a_time = exclusive();
    let mut scene = Scene::<A>::new("declared 2^63-byte frame");
    scene.attack_starts();
    let mut outcomes = Vec::new();
    for (len, code) in [(1u64 << 63, 1002), ((1u64 << 63) - 1, 1009)] {
        let (mut peer, _) = RawPeer::upgrade(scene.server.addr, "", HANDSHAKE_TIMEOUT);
        let mut header = Vec::new();
        wire::push_header(&mut header, FIN | opcode::BINARY, len, Some(MASK));
        peer.write(&header).expect("send the header");
        // The answer must not wait for a payload that never comes: well
        // within the ping interval (a heartbeat would end it otherwise).
        let transcript = peer.read_to_end(within(PING_INTERVAL));
        assert_eq!(
            transcript.close_code(),
            code,
            "length {len}: {transcript:?}"
        );
        assert!(transcript.end.is_some_and(End::is_closed), "{transcript:?}");
        let reason = scene.server.close_reason_of(peer.local_addr(), SLACK);
        let expected = if code == 1002 {
            ProtocolError::InvalidLength
        } else {
            ProtocolError::FrameTooLarge {
                size: len,
                limit: scene.server.config.max_frame_size(),
            }
        };
        assert_eq!(reason, CloseReason::Error(expected));
        outcomes.push(format!("length {len:#x}: close {code}"));
    }
    scene.finish(allowance(&config(), true), &outcomes.join(", "));
}

/// Slowloris, scaled: a valid upgrade request written one byte every
/// 100 ms (the issue says one byte a second; against a 1 s handshake
/// timeout this is the same attack ten times faster). The server must
/// close the socket when the handshake timeout expires, not answer 101,
/// and report `HandshakeError::Timeout`.
pub fn slowloris<A: Adapter>() {
    const PACE: Duration = Duration::from_millis(100);
    let _one_at_a_time = exclusive();
    let mut scene = Scene::<A>::new("slowloris handshake");
    scene.attack_starts();
    let mut peer = RawPeer::connect(scene.server.addr);
    let request = wire::upgrade_request(&scene.server.addr.to_string(), "");
    let start = Instant::now();
    let mut sent = 0;
    // Each byte is followed by a read that waits up to PACE: the read is
    // both the pacing and the check for the server giving up.
    let end = loop {
        if sent < request.len() && peer.write(&request[sent..=sent]).is_ok() {
            sent += 1;
        }
        let end = peer.drain_to_end(Instant::now() + PACE);
        if end.is_closed() || start.elapsed() > HANDSHAKE_TIMEOUT + SLACK {
            break end;
        }
    };
    let closed_after = start.elapsed();
    assert!(end.is_closed(), "the server still holds the connection");
    assert!(
        sent < request.len(),
        "the whole request got through ({sent} bytes)"
    );
    assert!(
        closed_after >= HANDSHAKE_TIMEOUT.saturating_sub(EARLY)
            && closed_after <= HANDSHAKE_TIMEOUT + SLACK,
        "closed after {closed_after:?}"
    );
    let outcome = scene.server.outcome_of(peer.local_addr(), SLACK);
    assert!(
        matches!(outcome, ServerOutcome::Handshake(HandshakeError::Timeout(t)) if t == HANDSHAKE_TIMEOUT),
        "{outcome:?}"
    );
    scene.finish(
        allowance(&config(), true),
        &format!("socket closed ({end:?}) after {closed_after:?}, {sent} bytes sent"),
    );
}

/// Header floods: more header fields than `max_headers` (16) in a request
/// under `max_head_bytes`, and a head of `max_head_bytes` (4 KiB) that
/// never ends. Both are answered 431 and the socket closed.
pub fn header_flood<A: Adapter>() {
    let _one_at_a_time = exclusive();
    let mut scene = Scene::<A>::new("header flood");
    let limits = scene.server.config.handshake_limits();
    scene.attack_starts();
    let host = scene.server.addr.to_string();
    let many = (0..limits.max_headers * 2).fold(String::new(), |mut lines, i| {
        let _ = write!(lines, "X-Flood-{i}: {i}\r\n");
        lines
    });
    let many_fields = wire::upgrade_request(&host, &many);
    assert!(many_fields.len() < limits.max_head_bytes);
    // A head that fills the byte limit without ending: the server has read
    // all of it when it answers, so its close is a clean FIN.
    let mut endless = wire::upgrade_request(&host, "X-Endless: ");
    endless.truncate(endless.len() - 2);
    endless.resize(limits.max_head_bytes, b'a');
    let mut outcomes = Vec::new();
    for (what, request, expected) in [
        (
            "too many fields",
            many_fields,
            RequestError::TooManyHeaders {
                limit: limits.max_headers,
            },
        ),
        (
            "endless head",
            endless,
            RequestError::HeadTooLarge {
                limit: limits.max_head_bytes,
            },
        ),
    ] {
        let mut peer = RawPeer::connect(scene.server.addr);
        peer.write(&request).expect("send the request");
        let head = peer.read_head(within(SLACK)).expect("an HTTP answer");
        assert!(head.starts_with("HTTP/1.1 431 "), "{what}: {head}");
        let end = peer.drain_to_end(within(SLACK));
        assert!(end.is_closed(), "{what}: the socket stays open");
        let outcome = scene.server.outcome_of(peer.local_addr(), SLACK);
        assert!(
            matches!(&outcome, ServerOutcome::Handshake(HandshakeError::Request(e)) if *e == expected),
            "{what}: {outcome:?}"
        );
        outcomes.push(format!("{what}: 431 then {end:?}"));
    }
    scene.finish(allowance(&config(), true), &outcomes.join(", "));
}

/// A compression bomb: permessage-deflate negotiated, then one frame of
/// about 64 KiB (under `max_frame_size`) that inflates to 64 times
/// `max_frame_size` (64 MiB) of zeros. Inflation stops at the inflation
/// cap (1 MiB): close 1009, the heap never holds the inflated size.
pub fn compression_bomb<A: Adapter>() {
    let _one_at_a_time = exclusive();
    let mut scene = Scene::<A>::new("compression bomb");
    let config = config();
    let bomb = wire::deflate_bomb(BOMB_FACTOR * config.max_frame_size());
    assert!(
        bomb.len() <= config.max_frame_size(),
        "{} bytes",
        bomb.len()
    );
    scene.attack_starts();
    let (mut peer, head) =
        RawPeer::upgrade(scene.server.addr, wire::DEFLATE_HEADER, HANDSHAKE_TIMEOUT);
    assert!(
        head.contains("permessage-deflate"),
        "not negotiated: {head}"
    );
    peer.write(&wire::client_frame(FIN | RSV1 | opcode::BINARY, &bomb))
        .expect("send the bomb");
    let transcript = peer.read_to_end(within(SLACK));
    let reason = scene.server.close_reason_of(peer.local_addr(), SLACK);
    assert_eq!(transcript.close_code(), 1009, "{transcript:?}");
    assert_eq!(
        reason,
        CloseReason::Error(ProtocolError::Extension {
            extension: "permessage-deflate",
            error: ExtensionError::TooLarge {
                limit: config.inflate_limit()
            },
        })
    );
    scene.finish(
        allowance(&config, true),
        &format!(
            "close {} for {} compressed bytes inflating to {} MiB",
            transcript.close_code(),
            bomb.len(),
            (BOMB_FACTOR * config.max_frame_size()) >> 20
        ),
    );
}

/// A ping flood: 4 MiB of 125-byte pings as fast as the socket takes them,
/// while the attacker reads what comes back but never answers our
/// heartbeat. Every ping may be answered (at most 16 pongs wait; the
/// latest is always sent), memory stays bounded, and the heartbeat ends
/// the connection: close 1011 "ping timeout".
pub fn ping_flood<A: Adapter>() {
    const VOLUME: usize = 4 << 20;
    let _one_at_a_time = exclusive();
    let mut scene = Scene::<A>::new("ping flood");
    scene.attack_starts();
    let (mut peer, _) = RawPeer::upgrade(scene.server.addr, "", HANDSHAKE_TIMEOUT);
    let mut reader = RawPeer::new(peer.tcp.try_clone().expect("clone the socket"));
    let deadline = within(PING_INTERVAL + PING_TIMEOUT + CLOSE_TIMEOUT + SLACK);
    let reading = std::thread::spawn(move || reader.read_to_end(deadline));
    let count = VOLUME / 131;
    let pings = (0..count).map(|i| {
        let mut payload = [b'p'; 125];
        payload[..8].copy_from_slice(&(i as u64).to_be_bytes());
        wire::client_frame(FIN | opcode::PING, &payload)
    });
    let (written, stopped) = peer.flood(pings);
    let transcript = reading.join().expect("reader");
    let reason = scene.server.close_reason_of(peer.local_addr(), SLACK);
    let answers = transcript.counts[usize::from(opcode::PONG)];
    assert!(answers > 0, "no ping was answered: {transcript:?}");
    let last = transcript.last_pong.as_ref().expect("a pong");
    assert!(
        last.len() == 125 && last[8..].iter().all(|&b| b == b'p'),
        "{last:?}"
    );
    assert!(
        transcript.counts[usize::from(opcode::PING)] > 0,
        "no heartbeat"
    );
    assert_eq!(
        reason,
        CloseReason::PingTimeout {
            timeout: PING_TIMEOUT
        }
    );
    // Known issue (reported, not fixed here): the server closes its socket
    // while pings of the flood are still unread in it, so the kernel resets
    // the connection and drops the output it had not transmitted yet; on a
    // loaded machine that can include the Close. Until the session driver
    // lingers (drains input until the peer's EOF, bounded by the close
    // timeout, before dropping the socket), a reset is the one accepted
    // reason for the Close to be missing.
    match &transcript.close {
        Some(close) => assert_eq!(*close, (1011, "ping timeout".to_owned())),
        None => assert!(
            matches!(transcript.end, Some(End::Reset(_))),
            "neither a Close nor a reset: {transcript:?}"
        ),
    }
    assert_eq!(transcript.after_close, 0);
    scene.finish(
        allowance(&config(), true),
        &format!(
            "{} pings ({written} bytes) answered by {answers} pongs, then close {:?}, {:?} \
             (flood stopped by: {:?})",
            written / 131,
            transcript.close,
            transcript.end,
            stopped.map(|e| e.kind())
        ),
    );
}

/// A peer that never reads while the server sends: it sends 64 KiB
/// messages (echoed back) as fast as the socket takes them and never reads
/// a byte, so the echoes fill the socket buffers and the server's send
/// queue (`send_queue_limit`, 1 MiB): `send` waits instead of buffering
/// and the echo loop stops reading. The transport takes nothing more, and
/// the send timeout (the default 30 s, scaled) ends the session:
/// `CloseReason::SendTimeout`, the pending output dropped and the
/// transport closed, which stops the flood with a failed write. The heap
/// stays within the allowance, which holds the send queue once, though the
/// attacker pushes far more.
///
/// The server's heartbeat is off for this one: a peer that reads nothing
/// never answers a ping either, so with it on the ping timeout (40 s after
/// the last pong) and the send timeout (30 s after the transport last took
/// a byte) race, and which wins depends on how long the socket buffers
/// took to fill (both end the session; the core's scenario tests and
/// `tests/faults.rs` check each on its own).
pub fn never_reading_client<A: Adapter>() {
    let _one_at_a_time = exclusive();
    let config = config().with_ping_interval(None);
    let mut scene = Scene::<A>::with_config("client that never reads", config.clone());
    let message = vec![0x5a; 64 << 10];
    scene.attack_starts();
    let (mut peer, _) = RawPeer::upgrade(scene.server.addr, "", HANDSHAKE_TIMEOUT);
    let frame = wire::client_frame(FIN | opcode::BINARY, &message);
    let deadline = within(SEND_TIMEOUT + SLACK * 2);
    let frames = std::iter::repeat(&frame).take_while(|_| Instant::now() < deadline);
    let (written, stopped) = peer.flood(frames);
    let stopped = stopped.map(|e| e.kind());
    assert!(
        matches!(stopped, Some(k) if k != std::io::ErrorKind::TimedOut && k != std::io::ErrorKind::WouldBlock),
        "the server did not end the flood ({stopped:?} after {written} bytes)"
    );
    let reason = scene.server.close_reason_of(peer.local_addr(), SLACK);
    assert_eq!(
        reason,
        CloseReason::SendTimeout {
            timeout: SEND_TIMEOUT
        }
    );
    scene.finish(
        allowance(&config, true),
        &format!(
            "send timeout; the transport dropped after {} MiB written ({stopped:?})",
            written >> 20,
        ),
    );
}

/// Half-open TCP: the client completes the handshake and vanishes without
/// a FIN (it neither reads, writes nor closes; loopback cannot drop
/// packets without privileges, and to our server a silent socket and a
/// vanished host look the same until TCP gives up). The heartbeat ends it
/// after the ping interval plus the ping timeout: close 1011 "ping
/// timeout", recorded as `CloseReason::PingTimeout`.
pub fn half_open_client<A: Adapter>() {
    let _one_at_a_time = exclusive();
    let mut scene = Scene::<A>::new("half-open client");
    scene.attack_starts();
    let (mut peer, _) = RawPeer::upgrade(scene.server.addr, "", HANDSHAKE_TIMEOUT);
    let silent_since = Instant::now();
    let reason = scene
        .server
        .close_reason_of(peer.local_addr(), PING_INTERVAL + PING_TIMEOUT + SLACK);
    let ended_after = silent_since.elapsed();
    assert_eq!(
        reason,
        CloseReason::PingTimeout {
            timeout: PING_TIMEOUT
        }
    );
    assert!(
        ended_after >= (PING_INTERVAL + PING_TIMEOUT).saturating_sub(EARLY),
        "{ended_after:?}"
    );
    // Only now does the "vanished" peer look at what it was sent.
    let transcript = peer.read_to_end(within(SLACK));
    assert_eq!(
        transcript.counts[usize::from(opcode::PING)],
        1,
        "{transcript:?}"
    );
    assert_eq!(transcript.close, Some((1011, "ping timeout".to_owned())));
    assert_eq!(transcript.end, Some(End::Eof));
    scene.finish(
        allowance(&config(), true),
        &format!("one ping, then close 1011 \"ping timeout\" after {ended_after:?}"),
    );
}
