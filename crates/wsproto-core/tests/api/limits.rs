//! Limits are enforced before anything is buffered (SPEC §3: 1009, no
//! unbounded buffering), and fragment floods are bounded.

use crate::util;

use util::{Pair, client_frame, close_code_in};
use wsproto_core::{CloseReason, Config, Connection, Event, Message, ProtocolError};

#[test]
fn oversize_frame_closes_1009_before_its_payload_arrives() {
    let config = Config::default().with_max_frame_size(1000);
    let now = util::epoch();
    let mut server = Connection::server(config, now);
    // Only the header of a 2^62-byte frame: no payload is ever buffered.
    server.handle_data(now, &[0x82, 0xFF, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
    assert_eq!(
        server.poll_event(),
        Some(Event::Closed(CloseReason::Error(
            ProtocolError::FrameTooLarge {
                size: 1 << 62,
                limit: 1000
            }
        )))
    );
    assert_eq!(close_code_in(server.poll_transmit()), Some(1009));
    assert_eq!(server.buffered_input(), 0);
}

#[test]
fn oversize_message_across_fragments_closes_1009() {
    let config = Config::default().with_max_message_size(100);
    let now = util::epoch();
    let mut server = Connection::server(config, now);
    server.handle_data(now, &client_frame(0x02, &[0; 60]));
    assert_eq!(server.poll_event(), None);
    // The second header alone (60 + 41 > 100) is enough to refuse.
    let second = client_frame(0x80, &[0; 41]);
    server.handle_data(now, &second[..6]);
    assert_eq!(
        server.poll_event(),
        Some(Event::Closed(CloseReason::Error(
            ProtocolError::MessageTooLarge { limit: 100 }
        )))
    );
    assert_eq!(close_code_in(server.poll_transmit()), Some(1009));
}

#[test]
fn messages_exactly_at_the_limits_are_accepted() {
    let config = Config::default()
        .with_max_frame_size(64)
        .with_max_message_size(128);
    let mut pair = Pair::new(config);
    let now = pair.now;
    pair.server.handle_data(
        now,
        &[client_frame(0x02, &[1; 64]), client_frame(0x80, &[2; 64])].concat(),
    );
    pair.drive();
    let mut expected = vec![1u8; 64];
    expected.extend([2u8; 64]);
    assert_eq!(
        pair.server_events,
        vec![Event::Message(Message::Binary(expected.into()))]
    );
}

#[test]
fn a_flood_of_empty_fragments_is_bounded() {
    let config = Config::default().with_max_fragments(1000);
    let now = util::epoch();
    let mut server = Connection::server(config, now);
    let mut wire = client_frame(0x01, b"");
    for _ in 0..5000 {
        wire.extend(client_frame(0x00, b""));
    }
    server.handle_data(now, &wire);
    assert_eq!(
        server.poll_event(),
        Some(Event::Closed(CloseReason::Error(
            ProtocolError::TooManyFragments { limit: 1000 }
        )))
    );
    assert_eq!(close_code_in(server.poll_transmit()), Some(1009));
}

#[test]
fn a_ping_flood_gets_a_bounded_number_of_pongs_ending_with_the_latest() {
    let now = util::epoch();
    let mut server = Connection::server(Config::default(), now);
    let mut wire = Vec::new();
    for i in 0..10_000u32 {
        wire.extend(client_frame(0x89, &i.to_be_bytes()));
    }
    server.handle_data(now, &wire);
    assert_eq!(std::iter::from_fn(|| server.poll_event()).count(), 10_000);
    // At most 16 pongs wait; the oldest are dropped, the latest ping is
    // always answered (RFC 6455 §5.5.3), so the reply does not grow with the
    // flood.
    let out = server.poll_transmit();
    assert_eq!(out.len(), 16 * 6);
    assert_eq!(&out[out.len() - 6..], &[0x8A, 4, 0, 0, 0x27, 0x0F]);
    assert_eq!(&out[..6], &[0x8A, 4, 0, 0, 0x27, 0x00]);
}

#[test]
fn the_read_buffer_is_released_after_a_large_message() {
    let now = util::epoch();
    let mut server = Connection::server(Config::default(), now);
    server.handle_data(now, &client_frame(0x82, &vec![0u8; 1 << 20]));
    assert!(matches!(server.poll_event(), Some(Event::Message(_))));
    assert_eq!(server.buffered_input(), 0);
    assert!(
        server.recv_buffer().capacity() <= 256 * 1024,
        "the 1 MiB buffer is not kept"
    );
}

#[test]
fn an_idle_connection_can_release_all_its_buffers() {
    let mut pair = Pair::new(Config::default());
    pair.client.send_binary(vec![1u8; 100_000]).unwrap();
    pair.server.send_binary(vec![1u8; 100_000]).unwrap();
    pair.drive();
    pair.server.shrink_buffers();
    assert_eq!(
        pair.server.recv_buffer().capacity(),
        8 * 1024,
        "only what the next read asks for"
    );
    pair.server.shrink_buffers();
    // And it still works afterwards.
    pair.client.send_text("again").unwrap();
    pair.drive();
    assert_eq!(
        pair.server_events.last(),
        Some(&Event::Message(Message::Text("again".into())))
    );
}

#[test]
fn a_connection_is_small() {
    // The per-connection state without buffers: what an idle connection
    // costs in the core (the adapters add their socket and futures).
    let size = std::mem::size_of::<Connection>();
    println!("size_of::<Connection>() = {size}");
    assert!(size <= 1024, "{size} bytes");
}
