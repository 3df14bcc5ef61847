//! SPEC §3 rows for the core: every protocol violation ends with the right
//! close code on the wire, a typed error in the close reason, and no panic.

use crate::util;

use util::{client_frame, close_code_in, server_frame};
use wsproto_core::{CloseReason, Config, Connection, Event, MaskRng, Message, Mode, ProtocolError};

/// Feeds `wire` to a fresh server and returns its events, the close code it
/// wrote, and whether it wants the transport closed.
fn server_fed(config: Config, wire: &[u8]) -> (Vec<Event>, Option<u16>, bool) {
    let now = util::epoch();
    let mut server = Connection::server(config, now);
    server.handle_data(now, wire);
    let events = std::iter::from_fn(|| server.poll_event()).collect();
    let out = server.poll_transmit().to_vec();
    server.advance_transmit(out.len());
    (events, close_code_in(&out), server.should_close_transport())
}

fn client_fed(wire: &[u8]) -> (Vec<Event>, Vec<u8>) {
    let now = util::epoch();
    let mut client = Connection::client(Config::default(), MaskRng::from_seed([0; 32]), now);
    client.handle_data(now, wire);
    let events = std::iter::from_fn(|| client.poll_event()).collect();
    (events, client.poll_transmit().to_vec())
}

fn assert_failed(events: &[Event], code: Option<u16>, expected: &ProtocolError, wire_code: u16) {
    assert_eq!(
        util::closed_reason(events),
        CloseReason::Error(expected.clone())
    );
    assert_eq!(
        code,
        Some(wire_code),
        "close code on the wire for {expected}"
    );
    assert_eq!(expected.close_code().0, wire_code);
}

#[test]
fn protocol_violation_closes_1002_with_reason() {
    let cases: Vec<(Vec<u8>, ProtocolError)> = vec![
        (client_frame(0x83, b""), ProtocolError::ReservedOpcode(3)),
        (client_frame(0x8F, b""), ProtocolError::ReservedOpcode(0xF)),
        (
            client_frame(0xC1, b"rsv1"),
            ProtocolError::UnexpectedRsv(0b100),
        ),
        (
            client_frame(0xA1, b"rsv2"),
            ProtocolError::UnexpectedRsv(0b010),
        ),
        (
            client_frame(0x91, b"rsv3"),
            ProtocolError::UnexpectedRsv(0b001),
        ),
        (client_frame(0x09, b""), ProtocolError::FragmentedControl),
        (client_frame(0x89, &[0; 126]), ProtocolError::ControlTooLong),
        (
            server_frame(0x81, b"unmasked"),
            ProtocolError::UnmaskedFrame,
        ),
        (
            client_frame(0x80, b"cont"),
            ProtocolError::UnexpectedContinuation,
        ),
        (
            [client_frame(0x01, b"a"), client_frame(0x81, b"b")].concat(),
            ProtocolError::ExpectedContinuation,
        ),
        (client_frame(0x88, &[3]), ProtocolError::CloseTooShort),
        (
            client_frame(0x88, &[0x03, 0xED]),
            ProtocolError::InvalidCloseCode(1005),
        ),
        (
            client_frame(0x88, &[0x00, 0x00]),
            ProtocolError::InvalidCloseCode(0),
        ),
        (
            client_frame(0x88, &[0x13, 0x88]),
            ProtocolError::InvalidCloseCode(5000),
        ),
        (
            client_frame(0x82, &[])
                .iter()
                .chain(&[0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0])
                .copied()
                .collect(),
            ProtocolError::InvalidLength,
        ),
    ];
    for (wire, expected) in cases {
        let (events, code, close_transport) = server_fed(Config::default(), &wire);
        assert_failed(&events, code, &expected, 1002);
        assert!(
            close_transport,
            "{expected}: the transport closes after the Close is written"
        );
        let CloseReason::Error(err) = util::closed_reason(&events) else {
            unreachable!()
        };
        assert!(
            err.to_string().contains("RFC 6455"),
            "the error names the rule: {err}"
        );
    }
}

#[test]
fn masked_frame_from_a_server_closes_1002() {
    let (events, out) = client_fed(&client_frame(0x81, b"masked"));
    assert_eq!(
        util::closed_reason(&events),
        CloseReason::Error(ProtocolError::MaskedFrame)
    );
    // The client's Close is masked: unmask to read the code.
    assert_eq!(out[0], 0x88);
    let key = [out[2], out[3], out[4], out[5]];
    assert_eq!(u16::from_be_bytes([out[6] ^ key[0], out[7] ^ key[1]]), 1002);
}

#[test]
fn invalid_utf8_closes_1007() {
    let cases = [
        client_frame(0x81, &[0xFF]),
        client_frame(0x81, b"\xed\xa0\x80"), // a surrogate
        [
            client_frame(0x01, b"ok \xe2\x82"),
            client_frame(0x80, b"\x28"),
        ]
        .concat(),
        [client_frame(0x01, b"\xce"), client_frame(0x80, b"")].concat(), // ends inside a character
    ];
    for wire in cases {
        let (events, code, _) = server_fed(Config::default(), &wire);
        assert_failed(&events, code, &ProtocolError::InvalidUtf8, 1007);
    }
    let (events, code, _) = server_fed(Config::default(), &client_frame(0x88, b"\x03\xe8\xff"));
    assert_failed(&events, code, &ProtocolError::InvalidCloseReason, 1007);
}

#[test]
fn invalid_utf8_fails_fast_before_the_frame_or_message_ends() {
    // Autobahn 6.4.*: the first invalid byte ends the connection even though
    // the rest of the frame (or message) never arrives.
    let now = util::epoch();
    let mut server = Connection::server(Config::default(), now);
    let frame = client_frame(
        0x81,
        b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80hello",
    );
    server.handle_data(now, &frame[..6 + 13]); // header + up to the bad 0xF4 0x90
    assert!(matches!(
        server.poll_event(),
        Some(Event::Closed(CloseReason::Error(
            ProtocolError::InvalidUtf8
        )))
    ));

    let mut server = Connection::server(Config::default(), now);
    server.handle_data(now, &client_frame(0x01, b"valid so far \xf4"));
    assert_eq!(server.poll_event(), None);
    server.handle_data(now, &client_frame(0x00, b"\x90")); // not FIN: more would follow
    assert!(matches!(
        server.poll_event(),
        Some(Event::Closed(CloseReason::Error(
            ProtocolError::InvalidUtf8
        )))
    ));
}

#[test]
fn text_split_inside_a_character_across_fragments_is_valid() {
    let euro = "€".as_bytes();
    let wire = [
        client_frame(0x01, &euro[..1]),
        client_frame(0x00, &euro[1..2]),
        client_frame(0x80, &euro[2..]),
    ]
    .concat();
    let (events, code, _) = server_fed(Config::default(), &wire);
    assert_eq!(events, vec![Event::Message(Message::Text("€".into()))]);
    assert_eq!(code, None);
}

#[test]
fn data_accepted_before_a_violation_is_still_delivered() {
    let wire = [client_frame(0x81, b"first"), client_frame(0x83, b"")].concat();
    let (events, code, _) = server_fed(Config::default(), &wire);
    assert_eq!(events[0], Event::Message(Message::Text("first".into())));
    assert_eq!(code, Some(1002));
}

#[test]
fn a_violation_in_a_later_read_waits_behind_events_not_yet_taken() {
    // `handle_data` begins a frame that starts a read itself (one unmasking
    // pass), but only when nothing is waiting to be taken: the message of
    // the first read is handed over, and can be answered, before the second
    // read's bad frame ends the connection, as if both had come in one read.
    let now = util::epoch();
    let mut server = Connection::server(Config::default(), now);
    server.handle_data(now, &client_frame(0x81, b"first"));
    server.handle_data(now, &client_frame(0x80, b"orphan"));
    assert_eq!(
        server.poll_event(),
        Some(Event::Message(Message::Text("first".into())))
    );
    server.send_text("answer").expect("still open");
    let events: Vec<Event> = std::iter::from_fn(|| server.poll_event()).collect();
    let out = server.poll_transmit().to_vec();
    assert_eq!(&out[..8], &server_frame(0x81, b"answer")[..]);
    assert_failed(
        &events,
        close_code_in(&out),
        &ProtocolError::UnexpectedContinuation,
        1002,
    );
    // Taken first, then the bad frame at the start of the next read: the
    // connection fails at once.
    let mut server = Connection::server(Config::default(), now);
    server.handle_data(now, &client_frame(0x81, b"first"));
    assert_eq!(
        server.poll_event(),
        Some(Event::Message(Message::Text("first".into())))
    );
    assert_eq!(server.poll_event(), None);
    server.handle_data(now, &client_frame(0x80, b"orphan"));
    let events: Vec<Event> = std::iter::from_fn(|| server.poll_event()).collect();
    let out = server.poll_transmit().to_vec();
    assert_failed(
        &events,
        close_code_in(&out),
        &ProtocolError::UnexpectedContinuation,
        1002,
    );
}

#[test]
fn raw_mode_still_enforces_frame_rules() {
    let config = Config::default().with_mode(Mode::Raw);
    let (events, code, _) = server_fed(config.clone(), &client_frame(0xC2, b""));
    assert_failed(&events, code, &ProtocolError::UnexpectedRsv(0b100), 1002);
    let (events, code, _) = server_fed(config, &server_frame(0x82, b""));
    assert_failed(&events, code, &ProtocolError::UnmaskedFrame, 1002);
}

#[test]
fn arbitrary_garbage_never_panics() {
    // A cheap deterministic sweep; the fuzz targets go much further.
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    for _ in 0..2_000 {
        let mut wire = Vec::new();
        for _ in 0..(state % 64) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            wire.push(state as u8);
        }
        for mode in [Mode::Default, Mode::Raw] {
            let config = Config::default().with_mode(mode).with_max_frame_size(1024);
            let _ = server_fed(config, &wire);
            let _ = client_fed(&wire);
        }
    }
}

/// A batch (`poll_event_ahead`): the messages before a violation in the
/// same read are taken and answered, and the answers go out before the
/// Close, as when each message is answered in turn (Autobahn 3.2, 4.1.3,
/// 5.15); the violation ends the connection at the next `poll_event`.
#[test]
fn a_violation_found_ahead_waits_for_the_answers_before_it() {
    let now = util::epoch();
    let mut server = Connection::server(Config::default(), now);
    let mut wire = client_frame(0x81, b"one");
    wire.extend(client_frame(0x81, b"two"));
    wire.extend(client_frame(0xA1, b"rsv2"));
    wire.extend(client_frame(0x81, b"never"));
    server.handle_data(now, &wire);
    let mut batch = Vec::new();
    while let Some(event) = match batch.len() {
        0 => server.poll_event(),
        _ => server.poll_event_ahead(),
    } {
        batch.push(event);
    }
    let texts: Vec<_> = batch
        .iter()
        .map(|event| match event {
            Event::Message(Message::Text(text)) => text.to_string(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(texts, ["one", "two"]);
    assert_eq!(server.state(), wsproto_core::State::Open, "not failed yet");
    server.send_text("ONE").unwrap();
    server.send_text("TWO").unwrap();
    let events: Vec<_> = std::iter::from_fn(|| server.poll_event()).collect();
    assert_eq!(
        util::closed_reason(&events),
        CloseReason::Error(ProtocolError::UnexpectedRsv(0b010))
    );
    let out = server.poll_transmit().to_vec();
    let mut expected = server_frame(0x81, b"ONE");
    expected.extend(server_frame(0x81, b"TWO"));
    assert!(out.starts_with(&expected), "answers first: {out:?}");
    assert_eq!(close_code_in(&out[expected.len()..]), Some(1002));
}
