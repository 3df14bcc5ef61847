//! The close handshake (RFC 6455 §5.5.1, §7): either side first, both at
//! once, timeouts, EOF, termination, and ordering against queued data.

use crate::util;

use std::time::Duration;

use util::{Pair, closed_reason};
use wsproto_core::{CloseCode, CloseFrame, CloseReason, Config, Event, Message, SendError, State};

fn normal(code: u16, reason: &str, initiated_locally: bool) -> CloseReason {
    CloseReason::Normal {
        frame: Some(CloseFrame {
            code: CloseCode(code),
            reason: reason.into(),
        }),
        initiated_locally,
    }
}

#[test]
fn client_initiated_close_completes_and_server_closes_transport_first() {
    let mut pair = Pair::new(Config::default());
    pair.client
        .close(pair.now, CloseCode::NORMAL, "bye")
        .unwrap();
    assert_eq!(pair.client.state(), State::Closing);
    pair.drive();
    assert_eq!(
        pair.server_events,
        vec![
            Event::CloseReceived(Some(CloseFrame {
                code: CloseCode::NORMAL,
                reason: "bye".into()
            })),
            Event::Closed(normal(1000, "bye", false)),
        ]
    );
    // The server echoes the code (without the reason).
    assert_eq!(closed_reason(&pair.client_events), normal(1000, "", true));
    assert_eq!(pair.client.state(), State::Closed);
    assert!(
        pair.server.should_close_transport(),
        "RFC 6455 §7.1.1: the server closes TCP first"
    );
    assert!(
        !pair.client.should_close_transport(),
        "the client waits for the server's EOF"
    );
    pair.client.handle_eof(pair.now);
    assert!(pair.client.should_close_transport());
}

#[test]
fn client_stops_waiting_for_the_servers_eof_after_the_close_timeout() {
    let config = Config::default().with_close_timeout(Duration::from_secs(3));
    let mut pair = Pair::new(config);
    pair.client.close(pair.now, CloseCode::NORMAL, "").unwrap();
    pair.drive();
    assert!(!pair.client.should_close_transport());
    pair.advance(Duration::from_secs(2));
    assert!(!pair.client.should_close_transport());
    pair.advance(Duration::from_secs(2));
    assert!(pair.client.should_close_transport());
}

#[test]
fn server_initiated_close() {
    let mut pair = Pair::new(Config::default());
    pair.server
        .close(pair.now, CloseCode::GOING_AWAY, "restart")
        .unwrap();
    pair.drive();
    assert_eq!(
        closed_reason(&pair.client_events),
        normal(1001, "restart", false)
    );
    assert_eq!(closed_reason(&pair.server_events), normal(1001, "", true));
    assert!(pair.server.should_close_transport());
}

#[test]
fn simultaneous_close() {
    let mut pair = Pair::new(Config::default());
    pair.client.close(pair.now, CloseCode::NORMAL, "c").unwrap();
    pair.server.close(pair.now, CloseCode(4000), "s").unwrap();
    pair.drive();
    assert_eq!(closed_reason(&pair.client_events), normal(4000, "s", true));
    assert_eq!(closed_reason(&pair.server_events), normal(1000, "c", true));
    assert!(
        !pair
            .client_events
            .iter()
            .any(|e| matches!(e, Event::CloseReceived(_)))
    );
}

#[test]
fn empty_close_is_answered_with_an_empty_close() {
    let now = util::epoch();
    let mut server = wsproto_core::Connection::server(Config::default(), now);
    server.handle_data(now, &util::client_frame(0x88, &[]));
    assert_eq!(server.poll_transmit(), &[0x88, 0x00]);
    assert_eq!(
        server.close_reason(),
        Some(&CloseReason::Normal {
            frame: None,
            initiated_locally: false
        })
    );
    assert_eq!(server.close_reason().unwrap().code(), CloseCode::NO_STATUS);
}

#[test]
fn message_sent_before_close_is_delivered_first() {
    let mut pair = Pair::new(Config::default());
    pair.client.send_text("first").unwrap();
    pair.client.send_binary(vec![1u8; 200_000]).unwrap();
    pair.client
        .close(pair.now, CloseCode::NORMAL, "done")
        .unwrap();
    pair.drive();
    let kinds: Vec<_> = pair
        .server_events
        .iter()
        .map(|e| match e {
            Event::Message(Message::Text(_)) => "text",
            Event::Message(Message::Binary(_)) => "binary",
            Event::CloseReceived(_) => "close",
            Event::Closed(_) => "closed",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["text", "binary", "close", "closed"]);
}

#[test]
fn nothing_can_be_sent_after_close() {
    let mut pair = Pair::new(Config::default());
    pair.client.close(pair.now, CloseCode::NORMAL, "").unwrap();
    assert_eq!(pair.client.send_text("late"), Err(SendError::Closed));
    assert_eq!(pair.client.send_ping(&b""[..]), Err(SendError::Closed));
    assert_eq!(
        pair.client.close(pair.now, CloseCode::NORMAL, ""),
        Err(SendError::Closed)
    );
    assert!(!pair.client.can_send());
}

#[test]
fn close_codes_that_may_not_be_sent_are_refused() {
    let mut pair = Pair::new(Config::default());
    for code in [0, 999, 1004, 1005, 1006, 1015, 2999, 5000] {
        assert_eq!(
            pair.client.close(pair.now, CloseCode(code), ""),
            Err(SendError::InvalidCloseCode(code))
        );
    }
    assert_eq!(pair.client.state(), State::Open);
}

#[test]
fn data_received_while_closing_is_still_delivered() {
    let mut pair = Pair::new(Config::default());
    pair.server.send_text("in flight").unwrap();
    pair.client.close(pair.now, CloseCode::NORMAL, "").unwrap();
    pair.drive();
    assert_eq!(
        pair.client_events[0],
        Event::Message(Message::Text("in flight".into()))
    );
    assert!(closed_reason(&pair.client_events).is_clean());
}

#[test]
fn close_timeout_when_the_peer_never_answers() {
    let config = Config::default().with_close_timeout(Duration::from_secs(5));
    let mut pair = Pair::new(config);
    pair.deliver_to_client = false;
    pair.client.close(pair.now, CloseCode::NORMAL, "").unwrap();
    pair.advance(Duration::from_millis(4_900));
    assert_eq!(pair.client.state(), State::Closing);
    pair.advance(Duration::from_millis(200));
    assert_eq!(
        closed_reason(&pair.client_events),
        CloseReason::CloseTimeout {
            timeout: Duration::from_secs(5)
        }
    );
    assert_eq!(
        pair.client.close_reason().unwrap().code(),
        CloseCode::ABNORMAL
    );
    assert!(pair.client.should_close_transport());
}

#[test]
fn eof_without_close_is_abnormal_1006() {
    let mut pair = Pair::new(Config::default());
    pair.client.send_text("x").unwrap();
    pair.drive();
    pair.server.handle_eof(pair.now);
    let reason = closed_reason(&pair.server_events_after_drive());
    assert_eq!(reason, CloseReason::Abnormal);
    assert_eq!(reason.code(), CloseCode::ABNORMAL);
    assert!(pair.server.should_close_transport());
}

#[test]
fn eof_in_the_middle_of_a_frame_is_abnormal() {
    let now = util::epoch();
    let mut server = wsproto_core::Connection::server(Config::default(), now);
    let frame = util::client_frame(0x82, &[1, 2, 3, 4, 5]);
    server.handle_data(now, &frame[..7]);
    server.handle_eof(now);
    assert_eq!(
        server.poll_event(),
        Some(Event::Closed(CloseReason::Abnormal))
    );
    assert_eq!(server.poll_event(), None);
}

#[test]
fn terminate_ends_at_once_without_a_close_frame() {
    let mut pair = Pair::new(Config::default());
    pair.client.send_text("never sent").unwrap();
    pair.client.terminate();
    assert!(pair.client.poll_transmit().is_empty());
    assert!(pair.client.should_close_transport());
    assert_eq!(pair.client.close_reason(), Some(&CloseReason::Terminated));
    assert_eq!(
        pair.client.poll_event(),
        Some(Event::Closed(CloseReason::Terminated))
    );
}

#[test]
fn closed_is_reported_exactly_once() {
    let mut pair = Pair::new(Config::default());
    pair.client.close(pair.now, CloseCode::NORMAL, "").unwrap();
    pair.drive();
    pair.server.handle_eof(pair.now);
    pair.client.handle_eof(pair.now);
    pair.client.terminate();
    pair.drive();
    let count = |events: &[Event]| {
        events
            .iter()
            .filter(|e| matches!(e, Event::Closed(_)))
            .count()
    };
    assert_eq!(count(&pair.client_events), 1);
    assert_eq!(count(&pair.server_events), 1);
    assert!(pair.client.close_reason().unwrap().is_clean());
}

#[test]
fn input_after_the_peers_close_is_ignored() {
    let now = util::epoch();
    let mut server = wsproto_core::Connection::server(Config::default(), now);
    let mut wire = util::client_frame(0x88, &[0x03, 0xE8]);
    wire.extend(util::client_frame(0x81, b"after close"));
    wire.extend([0xFF, 0xFF, 0xFF]);
    server.handle_data(now, &wire);
    // The handshake completes when our answering Close is written out.
    assert_eq!(server.poll_transmit(), &[0x88, 0x02, 0x03, 0xE8]);
    let events: Vec<_> = std::iter::from_fn(|| server.poll_event()).collect();
    assert!(matches!(events[0], Event::CloseReceived(_)));
    assert!(matches!(
        events.last(),
        Some(Event::Closed(CloseReason::Normal { .. }))
    ));
    assert_eq!(events.len(), 2);
}

trait DriveExt {
    fn server_events_after_drive(&mut self) -> Vec<Event>;
}

impl DriveExt for Pair {
    fn server_events_after_drive(&mut self) -> Vec<Event> {
        self.drive();
        self.server_events.clone()
    }
}

#[test]
fn after_a_failure_unread_output_is_dropped_at_the_close_timeout() {
    let config = Config::default().with_close_timeout(Duration::from_secs(2));
    let now = util::epoch();
    let mut server = wsproto_core::Connection::server(config, now);
    server.send_binary(vec![0u8; 100_000]).unwrap();
    server.handle_data(now, &util::client_frame(0x83, b""));
    assert!(matches!(
        server.poll_event(),
        Some(Event::Closed(CloseReason::Error(_)))
    ));
    // The peer reads nothing: the queued data and the Close stay pending.
    assert!(server.wants_write());
    assert!(!server.should_close_transport());
    assert_eq!(server.poll_timeout(), Some(now + Duration::from_secs(2)));
    server.handle_timeout(now + Duration::from_secs(2));
    assert!(server.should_close_transport());
    assert!(server.poll_transmit().is_empty());
}

#[test]
fn eof_is_reported_after_the_frames_that_preceded_it() {
    let now = util::epoch();
    let mut server = wsproto_core::Connection::server(Config::default(), now);
    let wire = [
        util::client_frame(0x81, b"one"),
        util::client_frame(0x81, b"two"),
    ]
    .concat();
    server.handle_data(now, &wire);
    server.handle_eof(now);
    let events: Vec<_> = std::iter::from_fn(|| server.poll_event()).collect();
    assert_eq!(
        events,
        vec![
            Event::Message(Message::Text("one".into())),
            Event::Message(Message::Text("two".into())),
            Event::Closed(CloseReason::Abnormal),
        ]
    );
}

/// Fuzz reproducer (`connection_client`): a raw-mode client that received a
/// Close has not answered yet, so the connection has not ended; the wait for
/// the server's EOF must not show up as a deadline `handle_timeout` never
/// clears (a driver sleeping until `poll_timeout` would spin).
#[test]
fn raw_client_reports_no_past_deadline_while_the_peers_close_is_unanswered() {
    #[allow(clippy::disallowed_methods)] // a test's starting point
    let now = std::time::Instant::now();
    let config = Config::default()
        .with_mode(wsproto_core::Mode::Raw)
        .with_close_timeout(Duration::from_millis(16));
    let mut client =
        wsproto_core::Connection::client(config, wsproto_core::MaskRng::from_seed([0; 32]), now);
    client.handle_data(now, &[0x88, 0x02, 0x03, 0xe8]); // Close 1000
    let later = now + Duration::from_millis(227);
    client.handle_timeout(later);
    assert!(client.poll_timeout().is_none_or(|t| t > later));
}

#[test]
fn eof_right_after_the_close_reply_lets_the_client_close_at_once() {
    // Over TLS the server's Close and its EOF often arrive in one read; the
    // client must not need another poll_event to notice the EOF.
    let mut pair = Pair::new(Config::default());
    pair.client.close(pair.now, CloseCode::NORMAL, "").unwrap();
    let wire = pair.client.poll_transmit().to_vec();
    pair.client.advance_transmit(wire.len());
    pair.server.handle_data(pair.now, &wire);
    while pair.server.poll_event().is_some() {}
    let reply = pair.server.poll_transmit().to_vec();
    pair.client.handle_data(pair.now, &reply);
    pair.client.handle_eof(pair.now);
    assert!(pair.client.should_close_transport());
    assert!(matches!(
        pair.client.poll_event(),
        Some(Event::Closed(CloseReason::Normal { .. }))
    ));
}

/// Found by the adversarial tests (a server that never reads): our Close
/// waits behind data the peer never takes. When the close timeout expires
/// the connection has ended, so what the peer did not take is dropped and
/// the transport may be closed; otherwise `close()` would wait for ever.
#[test]
fn close_timeout_drops_output_the_peer_never_read() {
    let config = Config::default().with_close_timeout(Duration::from_secs(5));
    let now = util::epoch();
    let mut client =
        wsproto_core::Connection::client(config, wsproto_core::MaskRng::from_seed([0; 32]), now);
    client.send_binary(vec![0u8; 100_000]).unwrap();
    client.close(now, CloseCode::NORMAL, "").unwrap();
    // The peer reads nothing: the data and the Close stay pending.
    assert!(client.wants_write());
    assert_eq!(client.poll_timeout(), Some(now + Duration::from_secs(5)));
    client.handle_timeout(now + Duration::from_secs(5));
    assert_eq!(
        client.close_reason(),
        Some(&CloseReason::CloseTimeout {
            timeout: Duration::from_secs(5)
        })
    );
    assert!(client.should_close_transport());
    assert!(client.poll_transmit().is_empty());
    assert_eq!(client.poll_timeout(), None);
}
