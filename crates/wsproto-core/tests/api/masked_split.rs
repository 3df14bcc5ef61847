//! The server unmasks a payload as it copies it in (`handle_data`) or in
//! place (`recv_buffer`), wherever the reads happen to split it: splitting
//! the same masked input at every byte offset, and mixing both read paths,
//! gives the same events as one read.

use std::time::Instant;

use wsproto_core::{Config, Connection, Event, MaskRng, Message};

/// Masked client frames: a fragmented text message with multi-byte
/// characters across fragment boundaries, a ping, binary messages.
fn wire(now: Instant) -> Vec<u8> {
    let mut client = Connection::client(Config::default(), MaskRng::from_seed([5; 32]), now);
    let text: String = "añ€😀".repeat(60);
    client
        .send_fragmented(Message::Text(text.into()), 101)
        .unwrap();
    client.send_ping(&b"ping"[..]).unwrap();
    let binary: Vec<u8> = (0..1500u32).map(|i| (i * 7) as u8).collect();
    client.send_binary(binary).unwrap();
    client.send_binary(vec![9u8; 3]).unwrap();
    let mut wire = Vec::new();
    loop {
        let out = client.poll_transmit();
        if out.is_empty() {
            return wire;
        }
        let n = out.len();
        wire.extend_from_slice(out);
        client.advance_transmit(n);
    }
}

/// One reading for the virtual clock; the connection only compares it.
#[allow(clippy::disallowed_methods)]
fn epoch() -> Instant {
    Instant::now()
}

fn read_into(server: &mut Connection, now: Instant, piece: &[u8], zero_copy: bool) {
    if zero_copy {
        let mut rest = piece;
        while !rest.is_empty() {
            let mut buf = server.recv_buffer();
            let n = buf.len().min(rest.len());
            buf[..n].copy_from_slice(&rest[..n]);
            rest = &rest[n..];
            server.handle_received(now, n);
        }
    } else {
        server.handle_data(now, piece);
    }
}

fn events(config: &Config, now: Instant, pieces: &[&[u8]], zero_copy: &[bool]) -> Vec<Event> {
    let mut server = Connection::server(config.clone(), now);
    let mut events = Vec::new();
    for (piece, zc) in pieces.iter().zip(zero_copy.iter().cycle()) {
        read_into(&mut server, now, piece, *zc);
        while let Some(event) = server.poll_event() {
            events.push(event);
        }
    }
    events
}

fn check(config: &Config) {
    let now = epoch();
    let wire = wire(now);
    let whole = events(config, now, &[&wire], &[false]);
    assert!(whole.len() >= 4, "{whole:?}");
    for cut in 0..=wire.len() {
        let (a, b) = wire.split_at(cut);
        for paths in [[false, false], [false, true], [true, false]] {
            assert_eq!(
                events(config, now, &[a, b], &paths),
                whole,
                "cut at {cut}, {paths:?}"
            );
        }
    }
    // Three pieces, the middle one short, across the frame headers too.
    for first in (0..wire.len()).step_by(37) {
        for len in [1, 2, 7, 13] {
            let second = (first + len).min(wire.len());
            let pieces = [&wire[..first], &wire[first..second], &wire[second..]];
            assert_eq!(
                events(config, now, &pieces, &[false]),
                whole,
                "{first}+{len}"
            );
        }
    }
}

#[test]
fn reassembled_messages_do_not_depend_on_read_boundaries() {
    check(&Config::default());
}

#[test]
fn streamed_chunks_carry_the_same_bytes_whatever_the_reads() {
    // Streamed messages are delivered as chunks whose boundaries follow
    // the reads; compare the bytes, not the chunking.
    let config = Config::default().with_stream_threshold(Some(64));
    let now = epoch();
    let wire = wire(now);
    let flatten = |events: Vec<Event>| -> Vec<u8> {
        let mut bytes = Vec::new();
        for event in events {
            match event {
                Event::Chunk(chunk) => bytes.extend_from_slice(&chunk.data),
                Event::Message(message) => bytes.extend_from_slice(message.as_bytes()),
                Event::Ping(payload) => bytes.extend_from_slice(&payload),
                other => panic!("unexpected {other:?}"),
            }
        }
        bytes
    };
    let whole = flatten(events(&config, now, &[&wire], &[false]));
    for cut in 0..=wire.len() {
        let (a, b) = wire.split_at(cut);
        for paths in [[false, false], [false, true]] {
            assert_eq!(
                flatten(events(&config, now, &[a, b], &paths)),
                whole,
                "cut at {cut}"
            );
        }
    }
}
