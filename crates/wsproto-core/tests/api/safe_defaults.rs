//! The defaults a stranger on the internet meets, as scenarios with a
//! virtual clock (no sockets, no sleeps): a half-open peer found by the
//! default heartbeat, a message begun and never finished, a peer that
//! stops reading, the shared memory budget, and the inflated-size cap
//! kept apart from the message limit.

use crate::util;

use std::time::Duration;

use util::{Pair, client_frame, close_code_in, closed_reason, epoch};
use wsproto_core::{
    CloseCode, CloseReason, Config, Connection, DeflateConfig, DeflateExtension, DeflateParams,
    Event, ExtensionError, MaskRng, MemoryBudget, Message, ProtocolError, Role, SendError, State,
};

const S: Duration = Duration::from_secs(1);

#[test]
fn the_defaults_are_a_servers_on_the_open_internet() {
    let c = Config::default();
    assert_eq!(c.max_message_size(), 1 << 20, "Python websockets' max_size");
    assert!(c.max_frame_size() <= c.max_message_size());
    assert_eq!(c.inflate_limit(), 1 << 20);
    assert_eq!(c.ping_interval(), Some(20 * S));
    assert_eq!(c.ping_timeout(), 20 * S);
    assert_eq!(c.message_timeout(), Some(30 * S));
    assert_eq!(c.send_timeout(), Some(30 * S));
    // Raising the message limit leaves the inflation cap where it was.
    let raised = c.with_max_message_size(16 << 20);
    assert_eq!(raised.inflate_limit(), 1 << 20);
    assert_eq!(
        raised.with_max_inflated_size(64 << 20).inflate_limit(),
        16 << 20,
        "the smaller of the two applies"
    );
}

/// A peer that vanished without a FIN: nothing arrives and nothing we send
/// reaches it. The default heartbeat ends the session 20 s + 20 s later.
#[test]
fn a_half_open_peer_is_found_by_the_default_heartbeat() {
    let mut pair = Pair::new(Config::default());
    pair.deliver_to_client = false;
    pair.deliver_to_server = false;
    pair.advance(Duration::from_millis(39_999));
    assert_eq!(pair.server.state(), State::Open);
    pair.advance(Duration::from_millis(2));
    let reason = closed_reason(&pair.server_events);
    assert_eq!(reason, CloseReason::PingTimeout { timeout: 20 * S });
    assert_eq!(close_code_in(&pair.dropped_from_server), Some(1011));
    // The client's own heartbeat finds it too.
    assert!(matches!(
        closed_reason(&pair.client_events),
        CloseReason::PingTimeout { .. }
    ));
}

fn events(conn: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| conn.poll_event()).collect()
}

/// Written by the server (unmasked), what it wrote.
fn written(conn: &mut Connection) -> Vec<u8> {
    let out = conn.poll_transmit().to_vec();
    conn.advance_transmit(out.len());
    out
}

#[test]
fn a_frame_whose_payload_never_all_arrives_times_out_with_1008() {
    let start = epoch();
    let mut server = Connection::server(Config::default(), start);
    // A header announcing 1000 bytes, then 10 of them.
    let frame = client_frame(0x82, &[1; 1000]);
    server.handle_data(start, &frame[..18]);
    assert!(events(&mut server).is_empty());
    assert_eq!(server.poll_timeout(), Some(start + 20 * S), "the heartbeat");
    server.handle_timeout(start + 20 * S);
    let _ping = written(&mut server);
    // The peer answers the heartbeat (a pong between the payload bytes
    // is not allowed, so it could not: the pong timeout would be at 40 s)
    // but the message timeout comes first, at 30 s.
    assert_eq!(server.poll_timeout(), Some(start + 30 * S));
    server.handle_timeout(start + Duration::from_millis(29_999));
    assert_eq!(server.state(), State::Open);
    server.handle_timeout(start + 30 * S);
    let reason = closed_reason(&events(&mut server));
    assert_eq!(reason, CloseReason::MessageTimeout { timeout: 30 * S });
    assert_eq!(reason.code(), CloseCode::POLICY_VIOLATION);
    assert!(
        reason.to_string().contains("with_message_timeout"),
        "{reason}"
    );
    assert_eq!(close_code_in(&written(&mut server)), Some(1008));
    assert!(server.should_close_transport());
}

#[test]
fn pings_between_fragments_do_not_restart_the_message_timeout() {
    let start = epoch();
    let config = Config::default().with_ping_interval(None);
    let mut server = Connection::server(config, start);
    server.handle_data(start, &client_frame(0x02, b"first fragment"));
    for t in [10, 20, 29] {
        server.handle_data(start + t * S, &client_frame(0x89, b"still here"));
        assert!(matches!(events(&mut server)[..], [Event::Ping(_)]));
        let _ = written(&mut server);
    }
    assert_eq!(server.poll_timeout(), Some(start + 30 * S));
    server.handle_timeout(start + 30 * S);
    assert_eq!(
        closed_reason(&events(&mut server)),
        CloseReason::MessageTimeout { timeout: 30 * S }
    );
}

#[test]
fn a_finished_message_stops_the_clock_and_the_next_one_starts_it_again() {
    let start = epoch();
    let config = Config::default().with_ping_interval(None);
    let mut server = Connection::server(config, start);
    let whole = client_frame(0x82, &[5; 100]);
    server.handle_data(start, &whole[..50]);
    assert_eq!(server.poll_timeout(), Some(start + 30 * S));
    // Finished at 20 s, and the next message begun in the same read.
    let next = client_frame(0x82, &[6; 100]);
    server.handle_data(start + 20 * S, &[&whole[50..], &next[..10]].concat());
    assert!(matches!(events(&mut server)[..], [Event::Message(_)]));
    assert_eq!(server.poll_timeout(), Some(start + 50 * S));
    server.handle_data(start + 45 * S, &next[10..]);
    assert!(matches!(events(&mut server)[..], [Event::Message(_)]));
    assert_eq!(server.poll_timeout(), None, "nothing unfinished");
    server.handle_timeout(start + 100 * S);
    assert_eq!(server.state(), State::Open);
}

#[test]
fn a_streamed_message_restarts_the_clock_at_each_chunk() {
    let start = epoch();
    let config = Config::default()
        .with_ping_interval(None)
        .with_stream_threshold(Some(10));
    let mut server = Connection::server(config, start);
    server.handle_data(start, &client_frame(0x02, &[1; 100]));
    assert!(matches!(events(&mut server)[..], [Event::Chunk(_)]));
    server.handle_data(start + 25 * S, &client_frame(0x00, &[2; 100]));
    assert!(matches!(events(&mut server)[..], [Event::Chunk(_)]));
    assert_eq!(server.poll_timeout(), Some(start + 55 * S));
}

#[test]
fn a_peer_that_stops_reading_ends_the_session_at_the_send_timeout() {
    let start = epoch();
    let mut server = Connection::server(Config::default().with_ping_interval(None), start);
    server.send_binary(vec![9u8; 100_000]).unwrap();
    let out = server.poll_transmit().len();
    // The transport takes 1000 bytes, then nothing.
    server.advance_transmit(1000);
    assert!(out > 1000);
    server.handle_write_blocked(start + S);
    assert_eq!(server.poll_timeout(), Some(start + 31 * S));
    // Progress restarts the clock.
    server.advance_transmit(1000);
    assert_eq!(server.poll_timeout(), None);
    server.handle_write_blocked(start + 2 * S);
    server.handle_write_blocked(start + 10 * S);
    assert_eq!(server.poll_timeout(), Some(start + 32 * S));
    server.handle_timeout(start + 32 * S);
    let reason = closed_reason(&events(&mut server));
    assert_eq!(reason, CloseReason::SendTimeout { timeout: 30 * S });
    assert_eq!(reason.code(), CloseCode::ABNORMAL);
    assert!(reason.to_string().contains("stopped reading"), "{reason}");
    assert!(
        server.should_close_transport(),
        "nothing waits to be written"
    );
    assert!(server.poll_transmit().is_empty());
}

#[test]
fn a_blocked_transport_with_nothing_pending_is_no_stall() {
    let start = epoch();
    let mut server = Connection::server(Config::default().with_ping_interval(None), start);
    server.handle_write_blocked(start);
    assert_eq!(server.poll_timeout(), None);
}

#[test]
fn the_applications_pings_count_against_the_send_queue() {
    let start = epoch();
    let config = Config::default().with_send_queue_limit(1000);
    let mut server = Connection::server(config, start);
    let mut sent = 0;
    let err = loop {
        match server.send_ping(vec![0u8; 100]) {
            Ok(()) => sent += 1,
            Err(err) => break err,
        }
        assert!(sent < 100, "the queue never filled");
    };
    assert_eq!(err, SendError::QueueFull);
    assert!(
        server.queued_bytes() < 1000 + 125,
        "{}",
        server.queued_bytes()
    );
    let _ = written(&mut server);
    assert!(server.send_pong(vec![0u8; 100]).is_ok(), "room again");
}

#[test]
fn the_memory_budget_refuses_input_over_it_with_1013_and_spares_the_others() {
    let start = epoch();
    let budget = MemoryBudget::new(64 << 10);
    let config = Config::default().with_memory_budget(budget.clone());
    let mut holder = Connection::server(config.clone(), start);
    let mut greedy = Connection::server(config, start);
    let held = client_frame(0x82, &vec![1; 50 << 10]);
    holder.handle_data(start, &held[..40 << 10]);
    assert!(events(&mut holder).is_empty());
    // The payload bytes held (the 8-byte header is parsed away).
    assert_eq!(budget.used(), (40 << 10) - 8, "{budget:?}");
    // 30 KiB more would take the two over 64 KiB: refused before it is held.
    greedy.handle_data(start, &client_frame(0x82, &vec![2; 30 << 10])[..30 << 10]);
    let reason = closed_reason(&events(&mut greedy));
    assert_eq!(
        reason,
        CloseReason::Error(ProtocolError::MemoryBudgetExceeded { budget: 64 << 10 })
    );
    assert_eq!(reason.code(), CloseCode::TRY_AGAIN_LATER);
    assert_eq!(close_code_in(&written(&mut greedy)), Some(1013));
    assert!(budget.used() < 50 << 10, "the refused bytes were not kept");
    // The holder goes on; once its message is handed over it holds nothing.
    holder.handle_data(start, &held[40 << 10..]);
    assert!(matches!(&events(&mut holder)[..], [Event::Message(m)] if m.len() == 50 << 10));
    assert_eq!(budget.used(), 0);
    // A small message fits again, and a dropped connection releases its charge.
    greedy = Connection::server(Config::default().with_memory_budget(budget.clone()), start);
    greedy.handle_data(start, &client_frame(0x82, &[3; 1000])[..500]);
    assert_eq!(budget.used(), 500 - 8);
    drop(greedy);
    assert_eq!(budget.used(), 0);
}

fn deflate_server(config: Config) -> Connection {
    let ext = DeflateExtension::new(
        Role::Server,
        DeflateParams::default(),
        &DeflateConfig::default(),
    );
    Connection::server(config, epoch()).with_extensions(vec![Box::new(ext)])
}

/// What a client with permessage-deflate puts on the wire for `message`.
fn compressed(message: Message) -> Vec<u8> {
    let ext = DeflateExtension::new(
        Role::Client,
        DeflateParams::default(),
        &DeflateConfig::default(),
    );
    let mut client = Connection::client(
        Config::default().with_ping_interval(None),
        MaskRng::from_seed([8; 32]),
        epoch(),
    )
    .with_extensions(vec![Box::new(ext)]);
    client.send_message(message).unwrap();
    written(&mut client)
}

#[test]
fn inflation_is_capped_apart_from_the_message_limit() {
    // A deployment that takes 16 MiB uploads keeps compressed messages to
    // the 1 MiB inflation cap: 2 MiB of zeros is ~20 KB on the wire at
    // the fastest level.
    let config = Config::default()
        .with_max_frame_size(16 << 20)
        .with_max_message_size(16 << 20);
    let bomb = compressed(Message::Binary(vec![0u8; 2 << 20].into()));
    assert!(bomb.len() < 32 << 10, "{} bytes", bomb.len());
    let mut server = deflate_server(config.clone());
    server.handle_data(epoch(), &bomb);
    assert_eq!(
        closed_reason(&events(&mut server)),
        CloseReason::Error(ProtocolError::Extension {
            extension: "permessage-deflate",
            error: ExtensionError::TooLarge { limit: 1 << 20 },
        })
    );
    // The same size uncompressed is a message like any other.
    let mut server = deflate_server(config);
    server.handle_data(epoch(), &client_frame(0x82, &vec![0u8; 2 << 20]));
    assert!(matches!(&events(&mut server)[..], [Event::Message(m)] if m.len() == 2 << 20));
}

#[test]
fn inflation_stops_at_the_memory_budget() {
    let budget = MemoryBudget::new(256 << 10);
    let config = Config::default().with_memory_budget(budget.clone());
    let bomb = compressed(Message::Binary(vec![0u8; 1 << 20].into()));
    let mut server = deflate_server(config);
    server.handle_data(epoch(), &bomb);
    assert_eq!(
        closed_reason(&events(&mut server)),
        CloseReason::Error(ProtocolError::MemoryBudgetExceeded { budget: 256 << 10 })
    );
    assert_eq!(budget.used(), 0);
}

/// A 15-byte header announcing a megabyte reserves a bounded amount; the
/// buffer grows as the payload arrives, to at most four times what has.
#[test]
fn an_announced_payload_is_not_reserved_before_it_arrives() {
    let start = epoch();
    let mut server = Connection::server(Config::default(), start);
    let frame = client_frame(0x82, &vec![4u8; 1 << 20]);
    server.handle_data(start, &frame[..20]);
    // 64 KiB and a header ahead, and a read's worth for `recv_buffer`
    // (growing to which may double the allocation once): whatever the
    // header announced.
    let reserved = server.recv_buffer().capacity();
    assert!(
        reserved <= 160 << 10,
        "{reserved} bytes reserved for 6 that came"
    );
    let mut at = 20;
    for piece in frame[20..].chunks(16 << 10) {
        server.handle_data(start, piece);
        at += piece.len();
        if at < frame.len() {
            let capacity = server.recv_buffer().capacity();
            assert!(capacity <= 4 * at + (160 << 10), "{capacity} for {at}");
        }
    }
    assert!(matches!(&events(&mut server)[..], [Event::Message(m)] if m.len() == 1 << 20));
}
