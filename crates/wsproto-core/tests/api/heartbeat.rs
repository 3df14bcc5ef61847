//! The heartbeat: a ping every interval, a close with "ping
//! timeout" when no pong arrives in time, changeable at run time.

use crate::util;

use std::time::Duration;

use util::{Pair, close_code_in, closed_reason};
use wsproto_core::{CloseCode, CloseReason, Config, Event, Mode, State};

fn heartbeat(interval: u64, timeout: u64) -> Config {
    Config::default()
        .with_ping_interval(Some(Duration::from_secs(interval)))
        .with_ping_timeout(Duration::from_secs(timeout))
}

/// A peer with the heartbeat off (it is on by default), so that only the
/// side under test pings.
fn quiet() -> Config {
    Config::default().with_ping_interval(None)
}

fn pings(events: &[Event]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::Ping(_)))
        .count()
}

#[test]
fn heartbeat_pings_every_interval_and_pongs_keep_it_alive() {
    let mut pair = Pair::with_configs(heartbeat(10, 5), quiet());
    assert_eq!(
        pair.client.poll_timeout(),
        Some(pair.now + Duration::from_secs(10))
    );
    pair.advance(Duration::from_secs(65));
    assert_eq!(pings(&pair.server_events), 6, "one ping per 10 s");
    assert_eq!(pair.client.state(), State::Open);
    assert!(
        pair.client_events
            .iter()
            .all(|e| matches!(e, Event::Pong(_)))
    );
}

#[test]
fn ping_timeout_closes_with_reason() {
    // SPEC §3: peer silent past ping interval + timeout → close, close_reason
    // says ping timeout.
    let mut pair = Pair::with_configs(quiet(), heartbeat(10, 5));
    pair.deliver_to_client = false; // the client never hears the pings
    pair.advance(Duration::from_millis(14_999));
    assert_eq!(pair.server.state(), State::Open);
    pair.advance(Duration::from_millis(2));
    let reason = closed_reason(&pair.server_events);
    assert_eq!(
        reason,
        CloseReason::PingTimeout {
            timeout: Duration::from_secs(5)
        }
    );
    assert_eq!(reason.code(), CloseCode::INTERNAL_ERROR);
    assert!(reason.to_string().contains("ping timeout"));
    assert_eq!(close_code_in(&pair.dropped_from_server), Some(1011));
    assert!(pair.server.should_close_transport());
}

#[test]
fn a_pong_with_the_wrong_payload_does_not_count() {
    let mut pair = Pair::with_configs(quiet(), heartbeat(10, 5));
    pair.deliver_to_client = false;
    pair.advance(Duration::from_secs(11));
    // An unsolicited pong (RFC 6455 §5.5.3) is no answer to our ping.
    let now = pair.now;
    pair.server
        .handle_data(now, &util::client_frame(0x8A, b"unsolicited"));
    pair.advance(Duration::from_secs(5));
    assert!(matches!(
        closed_reason(&pair.server_events),
        CloseReason::PingTimeout { .. }
    ));
}

#[test]
fn interval_can_change_at_run_time() {
    let mut pair = Pair::with_configs(heartbeat(10, 5), quiet());
    pair.advance(Duration::from_secs(25));
    assert_eq!(pings(&pair.server_events), 2);
    let now = pair.now;
    pair.client
        .set_ping_interval(now, Some(Duration::from_secs(2)));
    pair.advance(Duration::from_secs(10));
    assert_eq!(pings(&pair.server_events), 2 + 5);
    let now = pair.now;
    pair.client.set_ping_interval(now, None);
    assert_eq!(pair.client.poll_timeout(), None);
    pair.advance(Duration::from_secs(100));
    assert_eq!(pings(&pair.server_events), 7);
}

#[test]
fn heartbeat_can_be_switched_on_later_and_timeout_changed_in_flight() {
    let mut pair = Pair::new(quiet());
    assert_eq!(pair.server.poll_timeout(), None);
    let now = pair.now;
    pair.server
        .set_ping_interval(now, Some(Duration::from_secs(1)));
    pair.deliver_to_client = false;
    pair.advance(Duration::from_millis(1_500)); // ping in flight since t=1 s
    let now = pair.now;
    pair.server.set_ping_timeout(now, Duration::from_secs(1));
    pair.advance(Duration::from_millis(400));
    assert_eq!(pair.server.state(), State::Open);
    pair.advance(Duration::from_millis(200)); // t = 2.1 s > 1 s + 1 s
    assert_eq!(
        closed_reason(&pair.server_events),
        CloseReason::PingTimeout {
            timeout: Duration::from_secs(1)
        }
    );
}

#[test]
fn no_heartbeat_in_raw_mode() {
    let config = heartbeat(1, 1).with_mode(Mode::Raw);
    let pair = Pair::new(config);
    assert_eq!(pair.client.poll_timeout(), None);
}

#[test]
fn heartbeat_stops_once_closing() {
    let mut pair = Pair::with_configs(heartbeat(10, 5), quiet());
    pair.deliver_to_client = false;
    let now = pair.now;
    pair.client.close(now, CloseCode::NORMAL, "").unwrap();
    pair.advance(Duration::from_secs(9));
    assert_eq!(pings(&pair.server_events), 0);
}
