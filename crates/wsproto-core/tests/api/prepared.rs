//! Prepared messages: byte-identical to a normal send on every connection,
//! for every combination of negotiated permessage-deflate parameters, with
//! the shared path used exactly where it is valid (our side without context
//! takeover) and the per-connection fallback elsewhere; round trips through
//! the receiving side; the queue limit, the close state, fragmentation,
//! the compression threshold, clients and raw mode.

use crate::util;

use wsproto_core::{
    Config, Connection, DeflateConfig, DeflateExtension, DeflateParams, Event, MaskRng, Message,
    Mode, PreparedMessage, Role, SendError,
};

/// Messages of each interesting size: empty, below a threshold, small,
/// several fragments, above the zero-copy size and the transmit batch.
fn messages() -> Vec<Message> {
    let text: String = (0..40_000)
        .map(|i| ["alpha ", "beta ", "gamma ", "δέλτα "][i % 4])
        .collect::<String>();
    vec![
        Message::Text("".into()),
        Message::Text("hi".into()),
        Message::Text(text.chars().take(300).collect::<String>().into()),
        Message::Binary((0..=255u8).cycle().take(20_000).collect::<Vec<_>>().into()),
        Message::Text(text.into()),
        Message::Binary(vec![7; 300_000].into()),
    ]
}

fn server(
    params: Option<DeflateParams>,
    deflate: &DeflateConfig,
    fragment: Option<usize>,
) -> Connection {
    let config = Config::default().with_auto_fragment_size(fragment);
    let conn = Connection::server(config, util::epoch());
    match params {
        Some(params) => conn.with_extensions(vec![Box::new(DeflateExtension::new(
            Role::Server,
            params,
            deflate,
        ))]),
        None => conn,
    }
}

fn client(params: Option<DeflateParams>, deflate: &DeflateConfig) -> Connection {
    let config = Config::default()
        .with_max_message_size(1 << 30)
        .with_max_fragments(1 << 20);
    let conn = Connection::client(config, MaskRng::from_seed([3; 32]), util::epoch());
    match params {
        Some(params) => conn.with_extensions(vec![Box::new(DeflateExtension::new(
            Role::Client,
            params,
            deflate,
        ))]),
        None => conn,
    }
}

/// Everything `conn` has to send, through the vectored path (which
/// references large payloads) when `vectored`.
fn drain(conn: &mut Connection, vectored: bool) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let n = if vectored {
            let mut bufs = [&[][..]; wsproto_core::MAX_TRANSMIT_SLICES];
            let n = conn.poll_transmit_vectored(&mut bufs);
            for buf in &bufs[..n] {
                out.extend_from_slice(buf);
            }
            bufs[..n].iter().map(|b| b.len()).sum()
        } else {
            let bytes = conn.poll_transmit();
            out.extend_from_slice(bytes);
            bytes.len()
        };
        if n == 0 {
            return out;
        }
        conn.advance_transmit(n);
    }
}

/// Every agreed parameter set: both context takeover flags, every server
/// window, and a few client windows (they do not touch our direction).
fn every_params() -> Vec<DeflateParams> {
    let mut all = Vec::new();
    for server_no_context_takeover in [false, true] {
        for client_no_context_takeover in [false, true] {
            for server_max_window_bits in 8..=15 {
                for client_max_window_bits in [8, 15] {
                    all.push(DeflateParams {
                        server_no_context_takeover,
                        client_no_context_takeover,
                        server_max_window_bits,
                        client_max_window_bits,
                    });
                }
            }
        }
    }
    all
}

/// Sends every message on a normal connection and, prepared, on another
/// with the same parameters (after one normal message on each, so context
/// takeover has a context); the bytes must be identical and the receiving
/// side must get every message back. Returns the prepared messages.
fn check_identical(
    params: Option<DeflateParams>,
    deflate: &DeflateConfig,
    fragment: Option<usize>,
) -> Vec<PreparedMessage> {
    let messages = messages();
    let prepared: Vec<_> = messages.iter().cloned().map(PreparedMessage::new).collect();
    for vectored in [false, true] {
        let mut normal = server(params, deflate, fragment);
        let mut shared = server(params, deflate, fragment);
        let mut peer = client(params, deflate);
        let context = Message::Text("alpha beta gamma alpha beta gamma".into());
        normal.send_message(context.clone()).unwrap();
        shared.send_message(context.clone()).unwrap();
        for (message, prepared) in messages.iter().zip(&prepared) {
            normal.send_message(message.clone()).unwrap();
            shared.send_prepared(prepared).unwrap();
        }
        let want = drain(&mut normal, vectored);
        let got = drain(&mut shared, vectored);
        assert!(
            want == got,
            "{params:?} fragment {fragment:?} threshold {:?}: prepared frames differ",
            deflate.compress_if_bigger_than()
        );
        peer.handle_data(util::epoch(), &got);
        let mut received = Vec::new();
        while let Some(event) = peer.poll_event() {
            if let Event::Message(message) = event {
                received.push(message);
            }
        }
        assert_eq!(received.len(), messages.len() + 1, "{params:?}");
        assert_eq!(received[0], context);
        assert!(received[1..] == messages[..], "{params:?}: round trip");
    }
    prepared
}

#[test]
fn identical_to_a_normal_send_for_every_deflate_parameter_set() {
    for level in [1, 6] {
        for threshold in [None, Some(100)] {
            let deflate = DeflateConfig::default()
                .with_level(level)
                .with_compress_if_bigger_than(threshold);
            for params in every_params() {
                let prepared = check_identical(Some(params), &deflate, None);
                let forms = prepared[1].wire_forms();
                if params.server_no_context_takeover {
                    // Compressed once and shared; at or below the
                    // threshold, the plain frames are shared instead.
                    assert!(prepared.iter().all(|p| p.wire_forms() >= 1), "{params:?}");
                    let expect = if threshold.is_some() { 2 } else { 1 };
                    assert_eq!(
                        forms, expect,
                        "{params:?}: 'hi' under threshold {threshold:?}"
                    );
                } else {
                    assert!(
                        prepared.iter().all(|p| p.wire_forms() == 0),
                        "{params:?}: context takeover must compress per connection"
                    );
                }
            }
        }
    }
}

#[test]
fn identical_without_compression_and_with_fragmentation() {
    for fragment in [None, Some(1), Some(1000), Some(20_000)] {
        let prepared = check_identical(None, &DeflateConfig::default(), fragment);
        assert!(prepared.iter().all(|p| p.wire_forms() == 1));
        let params = DeflateParams {
            server_no_context_takeover: true,
            ..DeflateParams::default()
        };
        check_identical(Some(params), &DeflateConfig::default(), fragment);
    }
}

#[test]
fn one_wire_form_per_parameter_set_shared_by_its_connections() {
    let message = PreparedMessage::text("the same text, the same text, the same text");
    let deflate = DeflateConfig::default();
    let mut first_bytes = Vec::new();
    for bits in [15, 10, 15, 10, 15] {
        let params = DeflateParams {
            server_no_context_takeover: true,
            server_max_window_bits: bits,
            ..DeflateParams::default()
        };
        let mut conn = server(Some(params), &deflate, None);
        conn.send_prepared(&message).unwrap();
        first_bytes.push((bits, drain(&mut conn, true)));
    }
    assert_eq!(message.wire_forms(), 2, "one per window size");
    let fifteen: Vec<_> = first_bytes.iter().filter(|(b, _)| *b == 15).collect();
    assert!(fifteen.windows(2).all(|w| w[0].1 == w[1].1));
    let mut plain = server(None, &deflate, None);
    plain.send_prepared(&message).unwrap();
    assert_eq!(message.wire_forms(), 3);
}

#[test]
fn clients_fall_back_to_a_normal_masked_send() {
    let message = PreparedMessage::text("from a client");
    let mut conn = client(None, &DeflateConfig::default());
    conn.send_prepared(&message).unwrap();
    let wire = drain(&mut conn, false);
    assert_eq!(wire[1] & 0x80, 0x80, "masked");
    assert_eq!(message.wire_forms(), 0, "nothing shared");
    let mut server = server(None, &DeflateConfig::default(), None);
    server.handle_data(util::epoch(), &wire);
    assert_eq!(
        server.poll_event(),
        Some(Event::Message(Message::Text("from a client".into())))
    );
}

#[test]
fn the_queue_limit_the_close_state_and_raw_mode_are_respected() {
    let config = Config::default().with_send_queue_limit(1000);
    let mut conn = Connection::server(config, util::epoch());
    let big = PreparedMessage::binary(vec![1u8; 800]);
    conn.send_prepared(&big).unwrap();
    conn.send_prepared(&big).unwrap();
    assert_eq!(conn.send_prepared(&big), Err(SendError::QueueFull));
    assert_eq!(conn.queued_bytes(), 2 * (800 + 4));
    conn.close(util::epoch(), wsproto_core::CloseCode::NORMAL, "")
        .unwrap();
    assert_eq!(conn.send_prepared(&big), Err(SendError::Closed));
    let wire = drain(&mut conn, true);
    assert_eq!(wire.len(), 2 * 804 + 4, "both messages, then the Close");
    assert_eq!(&wire[wire.len() - 4..], [0x88, 0x02, 0x03, 0xe8]);

    let raw = Config::default().with_mode(Mode::Raw);
    let mut raw = Connection::server(raw, util::epoch());
    assert_eq!(raw.send_prepared(&big), Err(SendError::MessageInRawMode));
}

#[test]
fn control_frames_go_out_between_prepared_fragments() {
    let config = Config::default().with_auto_fragment_size(Some(200_000));
    let mut conn = Connection::server(config, util::epoch());
    conn.send_prepared(&PreparedMessage::binary(vec![5u8; 600_000]))
        .unwrap();
    // The first batch holds the first fragment and part of the second.
    let first = conn.poll_transmit().len();
    assert!(first > 200_010 && first < 400_020, "{first}");
    conn.advance_transmit(first);
    conn.send_ping(&b"p"[..]).unwrap();
    let rest = drain(&mut conn, false);
    // Each fragment is a 10-byte header and 200,000 bytes: the ping goes
    // out after the second fragment, ahead of the third.
    let at = 2 * 200_010 - first;
    assert_eq!(&rest[at..at + 3], b"\x89\x01p");
    assert_eq!(&rest[at + 3..at + 5], [0x80, 127], "the last fragment, FIN");
    assert_eq!(rest.len() + first, 3 * 200_010 + 3);
}
