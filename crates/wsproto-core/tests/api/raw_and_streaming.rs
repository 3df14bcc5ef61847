//! Raw mode and streaming delivery of large messages.

use crate::util;

use bytes::Bytes;
use util::{Pair, client_frame};
use wsproto_core::{
    CloseCode, CloseFrame, CloseReason, Config, Connection, Event, Frame, Message, MessageChunk,
    MessageKind, Mode, OpCode, SendError,
};

fn frames(events: &[Event]) -> Vec<Frame> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Frame(f) => Some(f.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn raw_mode_delivers_every_frame_as_it_is_and_answers_nothing() {
    let mut pair = Pair::new(Config::default().with_mode(Mode::Raw));
    let now = pair.now;
    pair.client
        .send_frame(now, Frame::new(OpCode::Text, "par").with_fin(false))
        .unwrap();
    pair.client
        .send_frame(now, Frame::new(OpCode::Ping, "p"))
        .unwrap();
    pair.client
        .send_frame(now, Frame::new(OpCode::Continuation, "ts"))
        .unwrap();
    pair.client
        .send_frame(now, Frame::new(OpCode::Pong, "unsolicited"))
        .unwrap();
    pair.drive();
    assert_eq!(
        frames(&pair.server_events),
        vec![
            Frame::new(OpCode::Text, "par").with_fin(false),
            Frame::new(OpCode::Ping, "p"),
            Frame::new(OpCode::Continuation, "ts"),
            Frame::new(OpCode::Pong, "unsolicited"),
        ]
    );
    // No automatic pong went back.
    assert!(pair.client_events.is_empty());
}

#[test]
fn raw_mode_close_handshake_is_done_by_the_application() {
    let mut pair = Pair::new(Config::default().with_mode(Mode::Raw));
    let now = pair.now;
    let close = Frame::new(
        OpCode::Close,
        CloseFrame::encode_payload(CloseCode::NORMAL, "raw bye"),
    );
    pair.client.send_frame(now, close.clone()).unwrap();
    pair.drive();
    assert_eq!(frames(&pair.server_events), vec![close]);
    assert!(
        pair.server.close_reason().is_none(),
        "no automatic reply in raw mode"
    );
    pair.server
        .send_frame(
            now,
            Frame::new(
                OpCode::Close,
                CloseFrame::encode_payload(CloseCode::NORMAL, ""),
            ),
        )
        .unwrap();
    pair.drive();
    assert!(pair.server.close_reason().unwrap().is_clean());
    assert!(pair.client.close_reason().unwrap().is_clean());
    assert!(pair.server.should_close_transport());
}

#[test]
fn raw_mode_checks_close_payloads_like_the_default_path() {
    let mut pair = Pair::new(Config::default().with_mode(Mode::Raw));
    let now = pair.now;
    let close = |payload: &'static [u8]| Frame::new(OpCode::Close, payload);
    // 1005 may not be sent: the same error `close(CloseCode(1005), ..)` gives.
    assert_eq!(
        pair.client.send_frame(now, close(b"\x03\xed")),
        Err(SendError::InvalidCloseCode(1005))
    );
    assert_eq!(
        pair.client.close(now, CloseCode(1005), ""),
        Err(SendError::InvalidCloseCode(1005))
    );
    // A lone byte, and a reason that is not UTF-8.
    for payload in [&b"\x03"[..], b"\x03\xe8\xff"] {
        assert!(matches!(
            pair.client.send_frame(now, close(payload)),
            Err(SendError::InvalidFrame(_))
        ));
    }
    // Nothing was queued and the close handshake has not started.
    assert!(pair.client.poll_transmit().is_empty());
    pair.client
        .send_frame(now, Frame::new(OpCode::Text, "still open"))
        .unwrap();
    pair.client.send_frame(now, close(b"")).unwrap();
    pair.drive();
    assert_eq!(
        frames(&pair.server_events),
        vec![Frame::new(OpCode::Text, "still open"), close(b"")]
    );
}

#[test]
fn raw_mode_refuses_fragmented_control_frames_from_the_application() {
    let mut pair = Pair::new(Config::default().with_mode(Mode::Raw));
    let now = pair.now;
    assert!(
        pair.client
            .send_frame(now, Frame::new(OpCode::Ping, "x").with_fin(false))
            .is_err()
    );
    assert!(pair.client.send_text("not in raw mode").is_err());
}

fn chunks(events: &[Event]) -> Vec<MessageChunk> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Chunk(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn large_messages_stream_as_chunks_while_small_ones_arrive_whole() {
    let config = Config::default().with_stream_threshold(Some(1000));
    let now = util::epoch();
    let mut server = Connection::server(config, now);
    server.handle_data(now, &client_frame(0x82, b"small"));
    assert_eq!(
        server.poll_event(),
        Some(Event::Message(Message::Binary(Bytes::from_static(
            b"small"
        ))))
    );

    let big: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
    let wire = client_frame(0x82, &big);
    let mut got = Vec::new();
    for piece in wire.chunks(1500) {
        server.handle_data(now, piece);
        while let Some(event) = server.poll_event() {
            let Event::Chunk(chunk) = event else {
                panic!("expected chunks, got {event:?}")
            };
            got.push(chunk);
        }
    }
    assert!(got.len() >= 4, "delivered as it arrived, not at the end");
    assert!(got[0].first && !got[0].fin);
    assert!(got.last().unwrap().fin);
    assert!(got.iter().all(|c| c.kind == MessageKind::Binary));
    let joined: Vec<u8> = got.iter().flat_map(|c| c.data.iter().copied()).collect();
    assert_eq!(joined, big);
}

#[test]
fn streamed_text_chunks_are_each_valid_utf8() {
    let config = Config::default().with_stream_threshold(Some(10));
    let mut pair = Pair::new(config);
    let text = "κόσμε €€€ ünïcödé ".repeat(50);
    pair.client
        .send_fragmented(Message::Text(text.clone().into()), 7)
        .unwrap();
    let wire = pair.client.poll_transmit().to_vec();
    let now = pair.now;
    for piece in wire.chunks(5) {
        pair.server.handle_data(now, piece);
    }
    let got = chunks(&std::iter::from_fn(|| pair.server.poll_event()).collect::<Vec<_>>());
    let mut joined = String::new();
    for chunk in &got {
        joined.push_str(std::str::from_utf8(&chunk.data).expect("each chunk is UTF-8"));
    }
    assert_eq!(joined, text);
    assert_eq!(got.iter().filter(|c| c.first).count(), 1);
    assert_eq!(got.iter().filter(|c| c.fin).count(), 1);
}

#[test]
fn streaming_still_enforces_the_message_limit() {
    let config = Config::default()
        .with_stream_threshold(Some(10))
        .with_max_message_size(100);
    let now = util::epoch();
    let mut server = Connection::server(config, now);
    server.handle_data(
        now,
        &[client_frame(0x02, &[0; 60]), client_frame(0x80, &[0; 60])].concat(),
    );
    let events: Vec<_> = std::iter::from_fn(|| server.poll_event()).collect();
    assert!(matches!(
        events.last(),
        Some(Event::Closed(CloseReason::Error(
            wsproto_core::ProtocolError::MessageTooLarge { limit: 100 }
        )))
    ));
}

#[test]
fn streaming_through_recv_buffer_keeps_the_buffer_small() {
    // A 4 MiB frame: over the 1 MiB defaults, raised as a deployment that
    // streams large messages would.
    let config = Config::default()
        .with_stream_threshold(Some(4096))
        .with_max_frame_size(8 << 20)
        .with_max_message_size(8 << 20);
    let now = util::epoch();
    let mut server = Connection::server(config, now);
    let big = vec![7u8; 4 << 20];
    let wire = client_frame(0x82, &big);
    let mut received = 0;
    let mut max_capacity = 0;
    for piece in wire.chunks(16 * 1024) {
        let mut buf = server.recv_buffer();
        max_capacity = max_capacity.max(buf.capacity());
        let n = buf.len().min(piece.len());
        buf[..n].copy_from_slice(&piece[..n]);
        server.handle_received(now, n);
        server.handle_data(now, &piece[n..]);
        while let Some(event) = server.poll_event() {
            let Event::Chunk(chunk) = event else {
                panic!("{event:?}")
            };
            received += chunk.data.len();
        }
    }
    assert_eq!(received, big.len());
    assert!(
        max_capacity <= 64 * 1024,
        "a 4 MiB streamed frame used a {max_capacity}-byte buffer"
    );
}
