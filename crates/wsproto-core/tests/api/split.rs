//! The same input split at every byte offset gives the same events, and
//! proptest round-trips of messages through a pair.

use crate::util;

use proptest::prelude::*;
use util::{Pair, client_frame};
use wsproto_core::{Config, Connection, DeflateConfig, Event, Message};

/// A conversation's worth of client frames: a ping between fragments,
/// binary, text with multi-byte characters, a pong, then Close.
fn conversation() -> Vec<u8> {
    [
        client_frame(0x01, "frag".as_bytes()),
        client_frame(0x89, b"ping"),
        client_frame(0x00, "ment ☃".as_bytes()),
        client_frame(0x80, "ed".as_bytes()),
        client_frame(0x82, &[0u8; 300]),
        client_frame(0x81, "κόσμε".as_bytes()),
        client_frame(0x8A, b"pong"),
        client_frame(0x88, &[0x03, 0xE8, b'o', b'k']),
    ]
    .concat()
}

fn run(config: &Config, pieces: &[&[u8]]) -> (Vec<Event>, Vec<u8>) {
    let now = util::epoch();
    let mut server = Connection::server(config.clone(), now);
    let mut events = Vec::new();
    let mut out = Vec::new();
    for piece in pieces {
        server.handle_data(now, piece);
        events.extend(std::iter::from_fn(|| server.poll_event()));
    }
    loop {
        let bytes = server.poll_transmit().to_vec();
        if bytes.is_empty() {
            break;
        }
        server.advance_transmit(bytes.len());
        out.extend(bytes);
        events.extend(std::iter::from_fn(|| server.poll_event()));
    }
    (events, out)
}

#[test]
fn every_split_point_gives_the_same_events() {
    let wire = conversation();
    for config in [
        Config::default(),
        Config::default().with_stream_threshold(Some(100)),
    ] {
        let (whole, whole_out) = run(&config, &[&wire]);
        assert!(matches!(whole.last(), Some(Event::Closed(r)) if r.is_clean()));
        for cut in 0..=wire.len() {
            let (a, b) = wire.split_at(cut);
            let (events, out) = run(&config, &[a, b]);
            if config.stream_threshold().is_none() {
                assert_eq!(events, whole, "split at {cut}");
            } else {
                // Streamed chunks may be cut differently; their bytes and the
                // other events may not.
                assert_eq!(flatten(&events), flatten(&whole), "split at {cut}");
            }
            // The only reply that depends on timing is the latest-wins pong,
            // which is the same here: one ping.
            assert_eq!(out, whole_out, "split at {cut}");
        }
        let bytes: Vec<&[u8]> = wire.chunks(1).collect();
        let (events, _) = run(&config, &bytes);
        assert_eq!(flatten(&events), flatten(&whole), "byte by byte");
    }
}

/// Joins consecutive chunks so different chunkings compare equal.
fn flatten(events: &[Event]) -> Vec<String> {
    let mut out = Vec::new();
    let mut data = Vec::new();
    for event in events {
        match event {
            Event::Chunk(c) => {
                data.extend_from_slice(&c.data);
                if c.fin {
                    out.push(format!("chunked {:?} {:?}", c.kind, data));
                    data.clear();
                }
            }
            other => out.push(format!("{other:?}")),
        }
    }
    out
}

fn message_strategy() -> impl Strategy<Value = Message> {
    prop_oneof![
        ".{0,300}".prop_map(|s| Message::Text(s.into())),
        proptest::collection::vec(any::<u8>(), 0..3000).prop_map(|v| Message::Binary(v.into())),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn messages_round_trip_whatever_the_fragmentation_and_compression(
        messages in proptest::collection::vec((message_strategy(), 1usize..500), 1..8),
        compress: bool,
        read_size in 1usize..2000,
    ) {
        let mut config = Config::default();
        if compress {
            config = config.with_compression(DeflateConfig::default());
        }
        let mut pair = handshaken_pair(&config);
        for (message, fragment) in &messages {
            pair.client.send_fragmented(message.clone(), *fragment).unwrap();
        }
        let wire = pair.client.poll_transmit().to_vec();
        pair.client.advance_transmit(wire.len());
        let now = pair.now;
        for piece in wire.chunks(read_size) {
            pair.server.handle_data(now, piece);
        }
        let got: Vec<Message> = std::iter::from_fn(|| pair.server.poll_event())
            .map(|e| match e { Event::Message(m) => m, other => panic!("{other:?}") })
            .collect();
        let sent: Vec<Message> = messages.into_iter().map(|(m, _)| m).collect();
        prop_assert_eq!(got, sent);
    }
}

/// A pair whose extensions were negotiated by a real handshake.
fn handshaken_pair(config: &Config) -> Pair {
    use wsproto_core::handshake::{AcceptOptions, ClientBuilder, Progress, ServerHandshake};
    let mut pair = Pair::new(config.clone());
    let mut client_hs = ClientBuilder::new("ws://localhost/")
        .unwrap()
        .build([5; 16], config)
        .unwrap();
    let mut server_hs = ServerHandshake::new(config);
    let Ok(Progress::Complete(request)) = server_hs.handle_data(client_hs.request_bytes()) else {
        panic!()
    };
    let mut accepted = request.accept(&AcceptOptions::new()).unwrap();
    let Ok(Progress::Complete(upgrade)) = client_hs.handle_data(&accepted.response_bytes()) else {
        panic!()
    };
    pair.server = accepted.into_connection(config.clone(), pair.now);
    pair.client = upgrade.into_connection(
        config.clone(),
        wsproto_core::MaskRng::from_seed([9; 32]),
        pair.now,
    );
    pair
}
