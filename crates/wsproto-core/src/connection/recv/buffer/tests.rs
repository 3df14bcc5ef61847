//! The pooled receive chunks: reuse, slices that outlive the connection,
//! frames spanning chunks and reads, masks across reads, and the bounds.

use std::time::Instant;

use bytes::Bytes;
use proptest::prelude::*;

use super::{KEEP_CAPACITY, MIN_READ};
use crate::frame::{FrameHeader, MAX_HEADER_LEN, OpCode, Rsv, apply_mask};
use crate::{Config, Connection, Event, Message};

#[allow(clippy::disallowed_methods)] // one reading for the virtual clock
fn t0() -> Instant {
    Instant::now()
}

/// A binary frame, masked with `key` if there is one.
fn frame(payload: &[u8], key: Option<[u8; 4]>) -> Vec<u8> {
    let header = FrameHeader {
        fin: true,
        rsv: Rsv::NONE,
        opcode: OpCode::Binary,
        mask: key,
        payload_len: payload.len() as u64,
    };
    let mut head = [0; MAX_HEADER_LEN];
    let n = header.encode(&mut head);
    let mut out = head[..n].to_vec();
    let start = out.len();
    out.extend_from_slice(payload);
    if let Some(key) = key {
        apply_mask(&mut out[start..], key, 0);
    }
    out
}

/// A client's frame.
fn masked(payload: &[u8], key: [u8; 4]) -> Vec<u8> {
    frame(payload, Some(key))
}

/// A server's frame.
fn plain(payload: &[u8]) -> Vec<u8> {
    frame(payload, None)
}

fn payload(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn messages(conn: &mut Connection) -> Vec<Bytes> {
    std::iter::from_fn(|| conn.poll_event())
        .filter_map(|event| match event {
            Event::Message(Message::Binary(data)) => Some(data),
            _ => None,
        })
        .collect()
}

/// Reads `wire` the way a driver does: into `recv_buffer`, as much as the
/// room takes (at most `step`).
fn read_in_place(conn: &mut Connection, now: Instant, mut wire: &[u8], step: usize) {
    while !wire.is_empty() {
        let mut room = conn.recv_buffer();
        let n = room.len().min(wire.len()).min(step);
        room[..n].copy_from_slice(&wire[..n]);
        conn.handle_received(now, n);
        wire = &wire[n..];
    }
}

#[test]
fn a_chunk_is_reused_once_its_messages_are_dropped() {
    let now = t0();
    let mut server = Connection::server(Config::default(), now);
    server.handle_data(now, &masked(&payload(100, 1), [1, 2, 3, 4]));
    let first = messages(&mut server);
    let at = first[0].as_ptr();
    assert_eq!(&first[0][..], &payload(100, 1)[..]);
    drop(first);
    for round in 0..4 {
        server.handle_data(now, &masked(&payload(100, round), [9, 8, 7, 6]));
        let got = messages(&mut server);
        // The same chunk, from its start again: no allocation.
        assert_eq!(got[0].as_ptr(), at);
        assert_eq!(&got[0][..], &payload(100, round)[..]);
    }
    assert_eq!(server.recv_capacity(), MIN_READ);
}

#[test]
fn a_held_message_makes_the_next_read_take_a_new_chunk() {
    let now = t0();
    let mut server = Connection::server(Config::default(), now);
    server.handle_data(now, &masked(&payload(100, 1), [1, 2, 3, 4]));
    let kept = messages(&mut server);
    server.handle_data(now, &masked(&payload(100, 2), [1, 2, 3, 4]));
    let next = messages(&mut server);
    assert_ne!(kept[0].as_ptr(), next[0].as_ptr());
    // Neither was written over.
    assert_eq!(&kept[0][..], &payload(100, 1)[..]);
    assert_eq!(&next[0][..], &payload(100, 2)[..]);
}

#[test]
fn messages_outlive_the_connection() {
    let now = t0();
    let mut server = Connection::server(Config::default(), now);
    let mut wire = Vec::new();
    for i in 0..20 {
        wire.extend(masked(&payload(500, i), [i, 2, 3, 4]));
    }
    read_in_place(&mut server, now, &wire, usize::MAX);
    let got = messages(&mut server);
    drop(server);
    assert_eq!(got.len(), 20);
    for (i, message) in (0..).zip(&got) {
        assert_eq!(&message[..], &payload(500, i)[..]);
    }
}

#[test]
fn a_frame_spanning_reads_and_chunks_is_whole_and_unmasked() {
    let now = t0();
    let mut server = Connection::server(Config::default(), now);
    // A small message first fills the first chunk partly and is kept, so
    // the large frame behind it must move to a new chunk as it grows.
    let mut wire = masked(&payload(3000, 1), [5, 6, 7, 8]);
    wire.extend(masked(&payload(50_000, 2), [0xde, 0xad, 0xbe, 0xef]));
    wire.extend(masked(&payload(7, 3), [1, 1, 1, 1]));
    let (head, tail) = wire.split_at(3000 + 8 + 5000);
    read_in_place(&mut server, now, head, 1000);
    let kept = messages(&mut server);
    read_in_place(&mut server, now, tail, 1000);
    let rest = messages(&mut server);
    assert_eq!(&kept[0][..], &payload(3000, 1)[..]);
    assert!(rest[0][..] == payload(50_000, 2)[..]);
    assert_eq!(&rest[1][..], &payload(7, 3)[..]);
    // The chunks grew by doubling from 8 KiB, no further than needed.
    assert!(server.recv_capacity() <= KEEP_CAPACITY);
}

#[test]
fn a_large_frame_reserves_no_more_than_has_arrived_allows() {
    let now = t0();
    let mut server = Connection::server(Config::default(), now);
    let wire = masked(&payload(1 << 20, 4), [1, 2, 3, 4]);
    read_in_place(&mut server, now, &wire[..20], usize::MAX);
    assert!(server.recv_capacity() <= KEEP_CAPACITY + MIN_READ);
    let mut at = 20;
    for piece in wire[20..].chunks(16 << 10) {
        read_in_place(&mut server, now, piece, usize::MAX);
        at += piece.len();
        let capacity = server.recv_capacity();
        assert!(
            capacity <= 4 * at + KEEP_CAPACITY + MIN_READ,
            "{capacity} for {at}"
        );
    }
    let got = messages(&mut server);
    assert!(got[0][..] == payload(1 << 20, 4)[..]);
    // Kept for a next large frame, but a read that a small chunk takes
    // gets one, and trimming releases a large one.
    assert!(server.recv_capacity() > 1 << 20);
    assert_eq!(server.recv_buffer().capacity(), MIN_READ);
    let big = payload(300 << 10, 5);
    server.handle_data(now, &masked(&big, [4, 3, 2, 1]));
    assert!(server.recv_capacity() > 300 << 10);
    let got = messages(&mut server);
    assert!(got[0][..] == big[..]);
    drop(got);
    server.trim_buffers();
    assert_eq!(server.recv_capacity(), 0, "released by a trim");
}

#[test]
fn shrink_releases_the_chunk() {
    let now = t0();
    let mut server = Connection::server(Config::default(), now);
    assert_eq!(server.recv_capacity(), 0, "nothing before input");
    server.handle_data(now, &masked(b"hello", [1, 2, 3, 4]));
    let kept = messages(&mut server);
    assert_eq!(kept[0], &b"hello"[..]);
    assert_eq!(server.recv_capacity(), MIN_READ);
    server.trim_buffers();
    assert_eq!(
        server.recv_capacity(),
        MIN_READ,
        "a chunk a kept message shares stays"
    );
    server.shrink_buffers();
    assert_eq!(server.recv_capacity(), 0);
    assert_eq!(kept[0], &b"hello"[..], "the message outlives the storage");
}

#[test]
fn a_connection_between_messages_gives_its_small_chunk_to_the_next() {
    let now = t0();
    let mut first = Connection::server(Config::default(), now);
    first.handle_data(now, &masked(b"one", [1, 2, 3, 4]));
    let got = messages(&mut first);
    let at = got[0].as_ptr();
    drop(got);
    first.trim_buffers();
    assert_eq!(first.recv_capacity(), 0, "nothing held between messages");
    // The next input on this thread (this connection's or another's)
    // takes the same chunk back: no allocation, no zero fill.
    let mut second = Connection::server(Config::default(), now);
    second.handle_data(now, &masked(b"two", [5, 6, 7, 8]));
    let got = messages(&mut second);
    assert_eq!(got[0], &b"two"[..]);
    assert_eq!(got[0].as_ptr(), at, "the spare chunk reused");
}

proptest! {
    /// Frames of any sizes, masked with any keys, split into reads
    /// anywhere, through either path, with messages kept or dropped: the
    /// server gets every payload back, unmasked.
    #[test]
    fn any_split_gives_the_payloads_back(
        sizes in prop::collection::vec(0usize..20_000, 1..12),
        keys in prop::collection::vec(any::<[u8; 4]>(), 12),
        cuts in prop::collection::vec(1usize..9000, 1..40),
        in_place in prop::collection::vec(any::<bool>(), 40),
        keep in any::<bool>(),
    ) {
        let now = t0();
        let mut server = Connection::server(Config::default(), now);
        let mut client = Connection::client(Config::default(), crate::MaskRng::from_seed([1; 32]), now);
        let mut wire = Vec::new();
        let mut plain_wire = Vec::new();
        for (i, size) in sizes.iter().enumerate() {
            let data = payload(*size, u8::try_from(i).unwrap());
            wire.extend(masked(&data, keys[i]));
            plain_wire.extend(plain(&data));
        }
        let mut got = Vec::new();
        let mut kept = Vec::new();
        for (conn, wire) in [(&mut server, &wire), (&mut client, &plain_wire)] {
            let mut rest = &wire[..];
            let mut turn = 0;
            while !rest.is_empty() {
                let n = cuts[turn % cuts.len()].min(rest.len());
                if in_place[turn % in_place.len()] {
                    read_in_place(conn, now, &rest[..n], usize::MAX);
                } else {
                    conn.handle_data(now, &rest[..n]);
                }
                rest = &rest[n..];
                turn += 1;
                for message in messages(conn) {
                    if keep {
                        kept.push(message.clone());
                    }
                    got.push(message);
                }
            }
        }
        let want: Vec<Vec<u8>> = (0..2)
            .flat_map(|_| sizes.iter().enumerate().map(|(i, size)| payload(*size, u8::try_from(i).unwrap())))
            .collect();
        prop_assert_eq!(got.len(), want.len());
        for (got, want) in got.iter().zip(&want) {
            prop_assert_eq!(&got[..], &want[..]);
        }
    }
}
