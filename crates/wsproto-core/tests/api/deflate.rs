//! permessage-deflate through the connection: RSV1 on the wire, context
//! takeover across messages, bombs bounded by `max_message_size`, RSV1 rules.

use crate::util;

use util::{Pair, close_code_in};
use wsproto_core::{
    CloseReason, Config, Connection, DeflateConfig, DeflateExtension, DeflateParams, Event,
    Message, ProtocolError, Role,
};

fn deflate_server(config: Config) -> Connection {
    let ext = DeflateExtension::new(
        Role::Server,
        DeflateParams::default(),
        &DeflateConfig::default(),
    );
    Connection::server(config, util::epoch()).with_extensions(vec![Box::new(ext)])
}

fn deflate_pair(config: &DeflateConfig, limits: Config) -> Pair {
    let mut pair = Pair::new(limits.clone());
    let params = DeflateParams::default();
    pair.client = pair.client_with(
        limits.clone(),
        DeflateExtension::new(Role::Client, params, config),
    );
    pair.server = Connection::server(limits, pair.now).with_extensions(vec![Box::new(
        DeflateExtension::new(Role::Server, params, config),
    )]);
    pair
}

trait ClientWith {
    fn client_with(&self, config: Config, ext: DeflateExtension) -> Connection;
}

impl ClientWith for Pair {
    fn client_with(&self, config: Config, ext: DeflateExtension) -> Connection {
        Connection::client(config, wsproto_core::MaskRng::from_seed([1; 32]), self.now)
            .with_extensions(vec![Box::new(ext)])
    }
}

#[test]
fn compressed_messages_carry_rsv1_and_shrink() {
    let mut pair = deflate_pair(&DeflateConfig::default(), Config::default());
    let text = "{\"event\":\"tick\",\"value\":42} ".repeat(200);
    pair.server.send_text(text.clone()).unwrap();
    let wire = pair.server.poll_transmit().to_vec();
    assert_eq!(wire[0], 0xC1, "FIN + RSV1 + Text");
    assert!(
        wire.len() < text.len() / 5,
        "{} bytes for {}",
        wire.len(),
        text.len()
    );
    pair.server.advance_transmit(wire.len());
    pair.client.handle_data(pair.now, &wire);
    assert_eq!(
        pair.client.poll_event(),
        Some(Event::Message(Message::Text(text.into())))
    );
}

#[test]
fn context_takeover_makes_repeated_messages_cheaper() {
    let mut pair = deflate_pair(&DeflateConfig::default(), Config::default());
    let text = "the same sentence, again and again, to be remembered";
    let mut sizes = Vec::new();
    for _ in 0..3 {
        pair.client.send_text(text).unwrap();
        let wire = pair.client.poll_transmit().to_vec();
        pair.client.advance_transmit(wire.len());
        sizes.push(wire.len());
        pair.server.handle_data(pair.now, &wire);
        assert_eq!(
            pair.server.poll_event(),
            Some(Event::Message(Message::Text(text.into())))
        );
    }
    assert!(sizes[1] < sizes[0] / 2, "{sizes:?}");
}

#[test]
fn control_frames_are_never_compressed() {
    let mut pair = deflate_pair(&DeflateConfig::default(), Config::default());
    pair.server
        .send_ping(&b"pingpingpingpingpingpingping"[..])
        .unwrap();
    let wire = pair.server.poll_transmit().to_vec();
    assert_eq!(wire[0], 0x89);
    assert_eq!(&wire[2..], b"pingpingpingpingpingpingping");
}

#[test]
fn fragmented_compressed_messages_round_trip() {
    let mut pair = deflate_pair(&DeflateConfig::default(), Config::default());
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    pair.client
        .send_fragmented(Message::Binary(data.clone().into()), 100)
        .unwrap();
    pair.drive();
    assert_eq!(
        pair.server_events,
        vec![Event::Message(Message::Binary(data.into()))]
    );
}

#[test]
fn threshold_sends_small_messages_uncompressed() {
    let config = DeflateConfig::default().with_compress_if_bigger_than(Some(64));
    let mut pair = deflate_pair(&config, Config::default());
    pair.server.send_text("tiny").unwrap();
    let wire = pair.server.poll_transmit().to_vec();
    assert_eq!(&wire, &[0x81, 4, b't', b'i', b'n', b'y']);
    pair.server.advance_transmit(wire.len());
    pair.client.handle_data(pair.now, &wire);
    assert_eq!(
        pair.client.poll_event(),
        Some(Event::Message(Message::Text("tiny".into())))
    );
}

#[test]
fn compression_bomb_closes_1009_within_the_limit() {
    // 8 MiB of zeros compress to a few KiB; the limit is 1 MiB.
    let mut sender = deflate_pair(&DeflateConfig::default(), Config::default());
    sender.client.send_binary(vec![0u8; 8 << 20]).unwrap();
    let mut wire = Vec::new();
    loop {
        let out = sender.client.poll_transmit().to_vec();
        if out.is_empty() {
            break;
        }
        sender.client.advance_transmit(out.len());
        wire.extend(out);
    }
    assert!(
        wire.len() < (8 << 20) / 50,
        "the bomb is small on the wire: {}",
        wire.len()
    );
    let mut server = deflate_server(Config::default().with_max_message_size(1 << 20));
    server.handle_data(util::epoch(), &wire);
    let events: Vec<_> = std::iter::from_fn(|| server.poll_event()).collect();
    let Some(Event::Closed(CloseReason::Error(ProtocolError::Extension { error, .. }))) =
        events.last()
    else {
        panic!("{events:?}")
    };
    assert_eq!(error.close_code().0, 1009);
    assert_eq!(close_code_in(server.poll_transmit()), Some(1009));
}

#[test]
fn rsv1_on_a_continuation_frame_is_1002() {
    let mut server = deflate_server(Config::default());
    let wire = [
        util::client_frame(0x02, b"a"),
        util::client_frame(0xC0, b"b"),
    ]
    .concat();
    server.handle_data(util::epoch(), &wire);
    assert_eq!(
        server.poll_event(),
        Some(Event::Closed(CloseReason::Error(
            ProtocolError::UnexpectedRsv(0b100)
        )))
    );
    assert_eq!(close_code_in(server.poll_transmit()), Some(1002));
}

#[test]
fn rsv1_on_a_control_frame_is_1002() {
    let mut server = deflate_server(Config::default());
    server.handle_data(util::epoch(), &util::client_frame(0xC9, b""));
    assert_eq!(close_code_in(server.poll_transmit()), Some(1002));
}

#[test]
fn an_uncompressed_message_on_a_deflate_connection_is_delivered_as_is() {
    let mut server = deflate_server(Config::default());
    server.handle_data(util::epoch(), &util::client_frame(0x81, b"plain"));
    assert_eq!(
        server.poll_event(),
        Some(Event::Message(Message::Text("plain".into())))
    );
}

#[test]
fn corrupt_compressed_data_fails_the_connection() {
    let mut server = deflate_server(Config::default());
    server.handle_data(
        util::epoch(),
        &util::client_frame(0xC2, &[0xFF, 0xFF, 0xFF, 0xFF]),
    );
    let Some(Event::Closed(CloseReason::Error(err))) = server.poll_event() else {
        panic!()
    };
    assert!(matches!(err, ProtocolError::Extension { .. }), "{err}");
    assert!(close_code_in(server.poll_transmit()).is_some());
}

#[test]
fn invalid_utf8_inside_compressed_text_is_1007() {
    let mut pair = deflate_pair(&DeflateConfig::default(), Config::default());
    // A compressed *binary* message with invalid UTF-8, then relabel it Text.
    pair.client.send_binary(vec![0xFFu8; 50]).unwrap();
    let mut wire = pair.client.poll_transmit().to_vec();
    wire[0] = (wire[0] & 0xF0) | 0x1;
    pair.server.handle_data(pair.now, &wire);
    assert_eq!(
        pair.server.poll_event(),
        Some(Event::Closed(CloseReason::Error(
            ProtocolError::InvalidUtf8
        )))
    );
}

#[test]
fn compressed_messages_stream_when_large() {
    let limits = Config::default().with_stream_threshold(Some(1000));
    let mut pair = deflate_pair(&DeflateConfig::default(), limits);
    let text = "stream me ".repeat(10_000);
    pair.client
        .send_fragmented(Message::Text(text.clone().into()), 200)
        .unwrap();
    pair.drive();
    let mut joined = String::new();
    for event in &pair.server_events {
        let Event::Chunk(chunk) = event else {
            panic!("{event:?}")
        };
        joined.push_str(std::str::from_utf8(&chunk.data).unwrap());
    }
    assert_eq!(joined, text);
}
