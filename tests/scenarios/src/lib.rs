//! The session scenarios every adapter must pass, written once, generic
//! over [`Rt`] (the shared harness, `tests/support`), and run on three
//! runtimes: tokio (`ws-tokio`), and async-std and smol (`ws-async-std`).
//! The scenario bodies do not know which one they run on.
//!
//! `tests/{tokio,async_std,smol}.rs` instantiate every scenario with
//! [`scenarios!`]. Adding an adapter is one [`Rt`] impl in the harness and
//! one such line.
//!
//! - [`session`]: messages, frames, Stream/Sink, close, terminate, drop,
//!   conversion, the in-memory pair, raw mode, cancellation.
//! - [`split`]: the driver task on the runtime's spawner.
//! - [`timers`]: heartbeat, close timeout, backpressure on real timers.
//! - [`handshake`]: request inspection, rejection, async decisions, the
//!   Origin policy, malformed requests, timeouts, connect errors, the
//!   caller's own stream.
//! - [`tls`]: `wss://` with a certificate made at test time.
//! - [`reconnect`]: the reconnecting client against a server killed and
//!   restarted on the same port, close codes in and out of the set, stop,
//!   the offline queue and refusal, a failing hook.
//! - [`dial`]: every address of a name raced (RFC 8305), the failures listed.
#![forbid(unsafe_code)]
// Every scenario is a test body: it panics on failure, by design.
#![allow(clippy::missing_panics_doc)]

pub mod dial;
pub mod handshake;
pub mod lifecycle;
pub mod reconnect;
pub mod session;
pub mod split;
pub mod timers;
pub mod tls;

pub use test_support::*;

/// The README's code blocks (tokio, async-std, smol, the bare core),
/// compiled, and the runnable ones run, as doctests of this package, which
/// depends on every crate they use: `cargo test -p adapter-scenarios --doc`.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

/// Instantiates every scenario as a `#[test]` on the runtime type `$rt`.
#[macro_export]
macro_rules! scenarios {
    ($rt:ty) => {
        $crate::scenarios!(@each $rt;
            session: echo_text_and_binary_then_clean_close,
            deflate_is_negotiated_and_large_messages_round_trip,
            message_sent_before_close_is_delivered_first, stream_and_sink,
            frames_pings_and_pongs_in_default_mode,
            terminate_ends_without_handshake_and_peer_sees_1006,
            peer_vanishing_is_abnormal_not_a_hang, dropping_a_session_says_going_away,
            content_conversion_and_bad_values_keep_the_session,
            in_memory_pair_with_compression, raw_session_sees_frames_as_they_are,
            raw_session_answers_the_peers_close_itself,
            heartbeat_pings_are_answered_while_the_peer_only_receives,
            dropping_recv_in_a_race_loses_nothing,
            close_takes_what_arrives_before_the_peers_close,
            fragmented_send_flush_and_split_conversion,
            raw_recv_returns_whole_frames_as_messages_and_keeps_fragments,
            pipelined_messages_echoed_in_batches_arrive_in_order;
            split: halves_in_two_tasks,
            pong_and_close_reply_go_out_while_only_the_reader_is_polled,
            heartbeat_runs_in_the_driver_of_a_split_session, terminate_through_the_writer,
            split_stream_and_sink, a_reader_that_does_not_read_stops_the_socket_reads,
            dropping_split_recv_in_a_race_loses_nothing;
            timers: heartbeat_ends_the_session_when_no_pong_comes,
            close_times_out_when_the_peer_never_answers, send_waits_when_the_peer_never_reads,
            split_writer_waits_when_the_peer_never_reads;
            handshake: request_subprotocols_and_headers_round_trip,
            rejection_reaches_the_client_with_status_headers_and_body,
            malformed_request_is_answered_400_and_wrong_version_426, server_handshake_timeout,
            client_handshake_timeout, connection_refused_is_a_connect_error,
            bad_urls_are_refused_before_connecting, client_over_the_runtimes_own_tcp_stream,
            invalid_accept_options_answer_500, decision_reject_shorthand,
            async_decision_looks_things_up_before_answering,
            origin_policy_answers_403_to_other_sites;
            tls: wss_round_trip_with_a_caller_client_config,
            default_roots_refuse_a_self_signed_certificate;
            reconnect: reconnects_to_a_server_restarted_on_the_same_port,
            stop_closes_cleanly_and_ends_the_events,
            refuses_sends_while_down_and_gives_up, a_failing_hook_is_a_failed_attempt;
            lifecycle: the_cap_answers_503_with_retry_after_and_frees_a_place_when_a_session_ends,
            a_panicking_handler_gives_its_place_back,
            shutdown_delivers_what_was_queued_then_1001,
            shutdown_delivers_a_split_writers_queue_then_1001,
            a_peer_that_never_answers_the_close_is_forced_at_the_deadline,
            an_upgrade_during_a_shutdown_is_answered_503;
            dial: unreachable_first_addresses_still_connect,
            every_address_refused_lists_each_one;
        );
    };
    (@each $rt:ty; $($module:ident: $($name:ident),* ;)*) => {
        $(mod $module {
            $(#[test]
            fn $name() {
                $crate::run::<$rt, _>($crate::$module::$name::<$rt>);
            })*
        })*
    };
}
