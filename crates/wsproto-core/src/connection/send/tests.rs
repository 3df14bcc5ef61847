//! `poll_transmit_vectored` against `poll_transmit`: the same bytes in the
//! same order, without copying a server's large payloads (nor a client's
//! that only the connection holds), with the send queue accounting
//! unchanged.

use std::time::Instant;

use bytes::Bytes;

use crate::{CloseCode, Config, Connection, MAX_TRANSMIT_SLICES, MaskRng, SendError, State};

/// The tests' clock: any instant will do, nothing here waits.
#[allow(clippy::disallowed_methods)] // a test, not the core
fn t0() -> Instant {
    Instant::now()
}

fn server() -> Connection {
    Connection::server(Config::default(), t0())
}

fn client() -> Connection {
    Connection::client(Config::default(), MaskRng::from_seed([7; 32]), t0())
}

/// Takes everything with `poll_transmit`.
fn drain_contiguous(conn: &mut Connection) -> Vec<u8> {
    let mut wire = Vec::new();
    loop {
        let data = conn.poll_transmit();
        if data.is_empty() {
            return wire;
        }
        wire.extend_from_slice(data);
        let n = data.len();
        conn.advance_transmit(n);
    }
}

/// Takes everything with `poll_transmit_vectored`, `step` bytes per write
/// at most; returns the bytes and the largest slice count seen.
fn drain_vectored(conn: &mut Connection, step: usize) -> (Vec<u8>, usize) {
    let mut wire = Vec::new();
    let mut most = 0;
    loop {
        let mut bufs = [&[][..]; MAX_TRANSMIT_SLICES];
        let n = conn.poll_transmit_vectored(&mut bufs);
        if n == 0 {
            return (wire, most);
        }
        most = most.max(n);
        let all = bufs[..n].concat();
        let take = all.len().min(step);
        wire.extend_from_slice(&all[..take]);
        conn.advance_transmit(take);
    }
}

/// A mix of small and large messages with a ping between them.
fn queue_mix(conn: &mut Connection) {
    conn.send_text("small").unwrap();
    conn.send_binary(Bytes::from(vec![1u8; 70_000])).unwrap();
    conn.send_ping(&b"p"[..]).unwrap();
    conn.send_binary(Bytes::from(vec![2u8; 16 * 1024])).unwrap();
    conn.send_binary(Bytes::from(vec![3u8; 16 * 1024 - 1]))
        .unwrap();
    conn.send_binary(Bytes::from(vec![4u8; 300_000])).unwrap();
    conn.close(t0(), CloseCode::NORMAL, "bye").unwrap();
}

/// Two connections made by `make` with the same messages queued: the bytes
/// the first gives through `poll_transmit`, and the second, untouched.
fn twins(make: fn() -> Connection) -> (Vec<u8>, Connection) {
    let mut a = make();
    let mut b = make();
    queue_mix(&mut a);
    queue_mix(&mut b);
    (drain_contiguous(&mut a), b)
}

#[test]
fn a_servers_large_payload_is_referenced_not_copied() {
    let payload = Bytes::from(vec![9u8; 1 << 20]);
    let mut conn = server();
    conn.send_binary(payload.clone()).unwrap();
    let mut bufs = [&[][..]; MAX_TRANSMIT_SLICES];
    assert_eq!(conn.poll_transmit_vectored(&mut bufs), 2);
    assert_eq!(bufs[0], [0x82, 127, 0, 0, 0, 0, 0, 16, 0, 0]);
    assert_eq!(
        bufs[1].as_ptr(),
        payload.as_ptr(),
        "the payload is the message's own memory"
    );
    assert_eq!(bufs[1].len(), 1 << 20);
}

#[test]
fn vectored_and_contiguous_transmits_give_the_same_bytes() {
    for make in [server, client] {
        for step in [1, 7, 1000, 65_536, usize::MAX] {
            let (want, mut b) = twins(make);
            let (got, most) = drain_vectored(&mut b, step);
            assert_eq!(got, want, "write size {step}");
            // A server's large payloads, and a client's that it alone held
            // (masked in place), came as slices of their own.
            assert!(most >= 2);
            assert_eq!(b.queued_bytes(), 0);
            assert!(!b.wants_write());
            assert_eq!(b.state(), State::Closing, "our Close went out");
        }
    }
}

#[test]
fn a_clients_own_payload_is_masked_in_place() {
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let payload = Bytes::from(data.clone());
    let at = payload.as_ptr();
    let mut conn = client();
    conn.send_binary(payload).unwrap();
    let mut bufs = [&[][..]; MAX_TRANSMIT_SLICES];
    assert_eq!(conn.poll_transmit_vectored(&mut bufs), 2);
    assert_eq!(bufs[1].as_ptr(), at, "masked where it was, not copied");
    assert_ne!(bufs[1], &data[..], "and masked");
    let (wire, _) = drain_vectored(&mut conn, usize::MAX);
    let mut peer = server();
    peer.handle_data(t0(), &wire);
    assert_eq!(
        peer.poll_event(),
        Some(crate::Event::Message(crate::Message::Binary(data.into())))
    );
}

#[test]
fn a_clients_shared_payload_is_copied_and_left_as_it_was() {
    let payload = Bytes::from(vec![5u8; 100_000]);
    let mut conn = client();
    conn.send_binary(payload.clone()).unwrap();
    let mut bufs = [&[][..]; MAX_TRANSMIT_SLICES];
    assert_eq!(
        conn.poll_transmit_vectored(&mut bufs),
        1,
        "one copied batch"
    );
    let (wire, _) = drain_vectored(&mut conn, usize::MAX);
    assert_eq!(wire.len(), 100_000 + 14);
    assert!(
        payload.iter().all(|&b| b == 5),
        "the application's copy is untouched"
    );
}

#[test]
fn switching_to_poll_transmit_midway_keeps_the_order() {
    let (want, mut b) = twins(server);
    let mut got = Vec::new();
    let mut bufs = [&[][..]; MAX_TRANSMIT_SLICES];
    let n = b.poll_transmit_vectored(&mut bufs);
    let first = bufs[..n].concat();
    got.extend_from_slice(&first[..20]);
    b.advance_transmit(20);
    got.extend_from_slice(&drain_contiguous(&mut b));
    assert_eq!(got, want);
}

#[test]
fn referenced_payloads_count_against_the_send_queue() {
    let config = Config::default().with_send_queue_limit(100_000);
    let mut conn = Connection::server(config, t0());
    conn.send_binary(Bytes::from(vec![0u8; 150_000])).unwrap();
    let mut bufs = [&[][..]; MAX_TRANSMIT_SLICES];
    let n = conn.poll_transmit_vectored(&mut bufs);
    let pending: usize = bufs[..n].iter().map(|b| b.len()).sum();
    assert_eq!(conn.queued_bytes(), pending);
    assert!(!conn.can_send(), "unwritten payload bytes still count");
    conn.advance_transmit(pending - 50_001);
    assert_eq!(conn.queued_bytes(), 50_001);
    assert!(conn.can_send());
    conn.advance_transmit(50_001);
    assert_eq!(conn.queued_bytes(), 0);
    assert!(!conn.wants_write());
}

#[test]
fn at_most_max_bodies_are_referenced_at_once() {
    let mut conn = server();
    for _ in 0..40 {
        conn.send_binary(Bytes::from(vec![5u8; 20_000])).unwrap();
    }
    let mut bufs = [&[][..]; MAX_TRANSMIT_SLICES];
    let n = conn.poll_transmit_vectored(&mut bufs);
    assert!(n <= MAX_TRANSMIT_SLICES);
    assert_eq!(n, MAX_TRANSMIT_SLICES - 1, "16 headers and 16 payloads");
    // A shorter array takes a prefix; the rest comes next time.
    let mut few = [&[][..]; 3];
    assert_eq!(conn.poll_transmit_vectored(&mut few), 3);
    let (wire, _) = drain_vectored(&mut conn, usize::MAX);
    assert_eq!(wire.len(), 40 * (20_000 + 4));
}

#[test]
fn terminate_drops_referenced_payloads() {
    let mut conn = server();
    conn.send_binary(Bytes::from(vec![0u8; 100_000])).unwrap();
    let mut bufs = [&[][..]; MAX_TRANSMIT_SLICES];
    assert_eq!(conn.poll_transmit_vectored(&mut bufs), 2);
    conn.advance_transmit(10);
    conn.terminate();
    assert_eq!(conn.queued_bytes(), 0);
    assert!(!conn.wants_write());
    assert_eq!(conn.poll_transmit_vectored(&mut [&[][..]; 4]), 0);
}

#[test]
fn empty_messages_cannot_queue_without_bound() {
    let config = Config::default().with_send_queue_limit(4096);
    let mut conn = Connection::server(config, t0());
    let mut accepted = 0;
    while conn.send_binary(Bytes::new()).is_ok() {
        accepted += 1;
        assert!(accepted <= 4096, "empty messages kept being accepted");
    }
    assert_eq!(conn.send_text(""), Err(SendError::QueueFull));
    assert!(!conn.can_send());
    assert_eq!(conn.queued_bytes(), 0, "no payload bytes are queued");
    // Once written out, the queue takes messages again, and every one of
    // the accepted ones went out as an empty frame.
    let wire = drain_contiguous(&mut conn);
    assert_eq!(wire.len(), accepted * 2);
    assert!(wire.chunks(2).all(|frame| frame == [0x82, 0x00]));
    assert!(conn.can_send());
    conn.send_binary(Bytes::new()).unwrap();
}

#[test]
fn a_small_message_with_nothing_ahead_is_framed_as_it_is_sent() {
    let mut conn = server();
    conn.send_binary(&b"one"[..]).unwrap();
    // Framed at once: two header bytes and the payload wait in the
    // transmit buffer, no entry in the queue.
    assert_eq!(conn.queued_bytes(), 5);
    assert!(conn.wants_write());
    // A ping queued now follows it; a message queued behind the ping
    // waits for it (control frames go first at a frame boundary), and so
    // does everything after that.
    conn.send_ping(&b"p"[..]).unwrap();
    conn.send_binary(&b"two"[..]).unwrap();
    conn.send_text("3").unwrap();
    let wire = drain_contiguous(&mut conn);
    assert_eq!(
        wire,
        [
            0x82, 3, b'o', b'n', b'e', 0x89, 1, b'p', 0x82, 3, b't', b'w', b'o', 0x81, 1, b'3'
        ]
    );
    // Drained: the next one is framed at once again.
    conn.send_binary(&b"four"[..]).unwrap();
    assert_eq!(conn.queued_bytes(), 6);
    assert_eq!(
        drain_contiguous(&mut conn),
        [0x82, 4, b'f', b'o', b'u', b'r']
    );
}
