//! Messages both ways: text, binary, fragmentation, ordering, control frames
//! ahead of data, backpressure, exact bytes.

use crate::util;

use bytes::Bytes;
use util::{Pair, client_frame};
use wsproto_core::{Config, Connection, Event, MaskRng, Message, SendError};

fn messages(events: &[Event]) -> Vec<Message> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn text_and_binary_both_ways() {
    let mut pair = Pair::new(Config::default());
    pair.client.send_text("hello").unwrap();
    pair.client.send_binary(vec![0u8, 1, 2]).unwrap();
    pair.server.send_text("héllo wörld").unwrap();
    pair.server.send_binary(Bytes::new()).unwrap();
    pair.drive();
    assert_eq!(
        messages(&pair.server_events),
        vec![
            Message::Text("hello".into()),
            Message::Binary(vec![0u8, 1, 2].into())
        ]
    );
    assert_eq!(
        messages(&pair.client_events),
        vec![
            Message::Text("héllo wörld".into()),
            Message::Binary(Bytes::new())
        ]
    );
}

#[test]
fn large_messages_both_ways() {
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7) as u8).collect();
    // Over the 1 MiB defaults on purpose: the limits are raised as a
    // trusted deployment would.
    let mut pair = Pair::new(
        Config::default()
            .with_max_frame_size(4 << 20)
            .with_max_message_size(4 << 20),
    );
    pair.client.send_binary(big.clone()).unwrap();
    pair.server.send_binary(big.clone()).unwrap();
    pair.drive();
    assert_eq!(
        messages(&pair.server_events),
        vec![Message::Binary(big.clone().into())]
    );
    assert_eq!(
        messages(&pair.client_events),
        vec![Message::Binary(big.into())]
    );
}

#[test]
fn fragmented_send_is_reassembled() {
    let text = "a fragmented message, sent in pieces of five bytes ✓";
    let mut pair = Pair::new(Config::default());
    pair.client
        .send_fragmented(Message::Text(text.into()), 5)
        .unwrap();
    // The wire carries many frames: first Text without FIN, then
    // continuations.
    let wire = pair.client.poll_transmit().to_vec();
    assert_eq!(wire[0], 0x01, "first frame: Text, FIN clear");
    pair.client.advance_transmit(wire.len());
    pair.server.handle_data(pair.now, &wire);
    pair.drive();
    assert_eq!(
        messages(&pair.server_events),
        vec![Message::Text(text.into())]
    );
}

#[test]
fn auto_fragment_size_splits_outgoing_messages() {
    let config = Config::default().with_auto_fragment_size(Some(10));
    let mut pair = Pair::new(config);
    pair.server.send_binary(vec![9u8; 35]).unwrap();
    let wire = pair.server.poll_transmit().to_vec();
    // 4 frames of 10, 10, 10, 5 bytes with 2-byte headers.
    assert_eq!(wire.len(), 35 + 4 * 2);
    assert_eq!(&wire[..2], &[0x02, 10]);
    assert_eq!(&wire[12..14], &[0x00, 10]);
    assert_eq!(&wire[36..38], &[0x80, 5]);
    pair.server.advance_transmit(wire.len());
    pair.client.handle_data(pair.now, &wire);
    pair.drive();
    assert_eq!(
        messages(&pair.client_events),
        vec![Message::Binary(vec![9u8; 35].into())]
    );
}

#[test]
fn server_frames_match_rfc6455_section_5_7_bytes() {
    let mut pair = Pair::new(Config::default());
    pair.server.send_text("Hello").unwrap();
    assert_eq!(
        pair.server.poll_transmit(),
        &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]
    );
}

#[test]
fn client_frames_are_masked_with_keys_from_the_seeded_generator() {
    let now = util::epoch();
    let seed = [3; 32];
    let mut client = Connection::client(Config::default(), MaskRng::from_seed(seed), now);
    client.send_text("Hello").unwrap();
    client.send_text("Hello").unwrap();
    let wire = client.poll_transmit().to_vec();
    let mut keys = MaskRng::from_seed(seed);
    let mut expected = Vec::new();
    for _ in 0..2 {
        let key = keys.next_mask();
        expected.extend_from_slice(&[0x81, 0x85]);
        expected.extend_from_slice(&key);
        expected.extend(b"Hello".iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    }
    assert_eq!(wire, expected);
    assert_ne!(wire[2..6], wire[13..17], "each frame gets a fresh key");
}

#[test]
fn rfc6455_section_5_7_masked_hello_from_a_client() {
    let mut server = Connection::server(Config::default(), util::epoch());
    server.handle_data(
        util::epoch(),
        &[
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ],
    );
    assert_eq!(
        server.poll_event(),
        Some(Event::Message(Message::Text("Hello".into())))
    );
}

#[test]
fn ping_is_answered_automatically_and_reported() {
    let mut pair = Pair::new(Config::default());
    pair.client.send_ping(&b"are you there"[..]).unwrap();
    pair.drive();
    assert_eq!(
        pair.server_events,
        vec![Event::Ping(Bytes::from_static(b"are you there"))]
    );
    assert_eq!(
        pair.client_events,
        vec![Event::Pong(Bytes::from_static(b"are you there"))]
    );
}

#[test]
fn every_ping_of_a_burst_is_answered_in_order() {
    // Autobahn 2.10: ten pings in one read, ten pongs back.
    let now = util::epoch();
    let mut server = Connection::server(Config::default(), now);
    let mut wire = Vec::new();
    for i in 0..10u8 {
        wire.extend(client_frame(0x89, &[i]));
    }
    server.handle_data(now, &wire);
    assert_eq!(std::iter::from_fn(|| server.poll_event()).count(), 10);
    let expected: Vec<u8> = (0..10u8).flat_map(|i| [0x8A, 1, i]).collect();
    assert_eq!(server.poll_transmit(), &expected[..]);
}

#[test]
fn input_is_parsed_as_events_are_taken() {
    // A message is handed over, and can be answered, before a violation
    // that follows it in the same read ends the connection (Autobahn 3.2).
    let now = util::epoch();
    let mut server = Connection::server(Config::default(), now);
    let wire = [
        client_frame(0x81, b"echo me"),
        client_frame(0xA1, b"bad rsv"),
        client_frame(0x89, b""),
    ]
    .concat();
    server.handle_data(now, &wire);
    assert_eq!(
        server.poll_event(),
        Some(Event::Message(Message::Text("echo me".into())))
    );
    server.send_text("echo me").unwrap();
    assert!(matches!(server.poll_event(), Some(Event::Closed(_))));
    assert_eq!(server.poll_event(), None);
    let out = server.poll_transmit();
    assert_eq!(
        &out[..9],
        &[0x81, 7, b'e', b'c', b'h', b'o', b' ', b'm', b'e']
    );
    assert_eq!(
        &out[9..13],
        &[0x88, out[10], 0x03, 0xEA],
        "then Close 1002; the ping is not answered"
    );
}

#[test]
fn control_frames_go_out_between_data_frames() {
    let config = Config::default().with_auto_fragment_size(Some(4));
    let now = util::epoch();
    let mut server = Connection::server(config, now);
    server.send_binary(vec![1u8; 8]).unwrap();
    server.send_ping(&b"p"[..]).unwrap();
    let wire = server.poll_transmit().to_vec();
    // The ping was queued after the message, but control frames go first.
    assert_eq!(&wire[..3], &[0x89, 1, b'p']);
    assert_eq!(&wire[3..5], &[0x02, 4]);
}

#[test]
fn a_ping_never_splits_a_frame_in_progress() {
    // A frame bigger than one transmit batch is written in several pieces;
    // a ping queued meanwhile waits for the frame boundary.
    let now = util::epoch();
    let mut server = Connection::server(Config::default(), now);
    let big = vec![7u8; 3 << 20];
    server.send_binary(big.clone()).unwrap();
    let mut wire = server.poll_transmit().to_vec();
    server.advance_transmit(wire.len());
    assert!(
        wire.len() < big.len(),
        "the first batch holds part of the frame"
    );
    server.send_ping(&b"p"[..]).unwrap();
    loop {
        let out = server.poll_transmit().to_vec();
        if out.is_empty() {
            break;
        }
        server.advance_transmit(out.len());
        wire.extend(out);
    }
    let header = 10;
    assert!(wire[header..header + big.len()].iter().all(|&b| b == 7));
    assert_eq!(&wire[header + big.len()..], &[0x89, 1, b'p']);
}

#[test]
fn send_queue_is_bounded_with_visible_backpressure() {
    let config = Config::default().with_send_queue_limit(1000);
    let mut pair = Pair::new(config);
    assert!(pair.client.can_send());
    pair.client.send_binary(vec![0u8; 600]).unwrap();
    pair.client.send_binary(vec![0u8; 600]).unwrap();
    assert!(!pair.client.can_send());
    assert_eq!(
        pair.client.send_binary(vec![0u8; 1]),
        Err(SendError::QueueFull)
    );
    assert!(pair.client.queued_bytes() >= 1200);
    pair.drive();
    assert!(pair.client.can_send());
    assert_eq!(pair.client.queued_bytes(), 0);
    assert_eq!(messages(&pair.server_events).len(), 2);
}

#[test]
fn ping_and_pong_payloads_over_125_bytes_are_refused() {
    let mut pair = Pair::new(Config::default());
    assert_eq!(
        pair.client.send_ping(vec![0u8; 126]),
        Err(SendError::ControlTooLong(126))
    );
    assert_eq!(
        pair.client.send_pong(vec![0u8; 126]),
        Err(SendError::ControlTooLong(126))
    );
    assert!(pair.client.send_ping(vec![0u8; 125]).is_ok());
}

#[test]
fn send_frame_is_only_for_raw_mode() {
    let mut pair = Pair::new(Config::default());
    let frame = wsproto_core::Frame::new(wsproto_core::OpCode::Text, "x");
    assert_eq!(
        pair.client.send_frame(pair.now, frame),
        Err(SendError::NotRawMode)
    );
}

#[test]
fn a_partial_write_is_resumed_where_it_stopped() {
    let mut pair = Pair::new(Config::default());
    pair.client.send_text("split write").unwrap();
    let wire = pair.client.poll_transmit().to_vec();
    pair.client.advance_transmit(3);
    assert_eq!(pair.client.poll_transmit(), &wire[3..]);
}
