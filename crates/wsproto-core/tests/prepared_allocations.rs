//! Heap allocations of a fan-out through prepared messages, counted by a
//! counting global allocator: once warmed up, queueing a prepared message
//! on N server connections and writing it out allocates nothing per
//! recipient, with and without permessage-deflate (no context takeover);
//! what a new message costs (its `Arc`, its wire forms) does not grow with
//! N.
//!
//! `cargo test -p wsproto-core --test prepared_allocations` prints the
//! counts. The allocator counts every thread, so this file is one program
//! without the test harness (`harness = false`), as `allocations` is.

use std::alloc::System;
use std::time::Instant;

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use wsproto_core::{
    Config, Connection, DeflateConfig, DeflateExtension, DeflateParams, MAX_TRANSMIT_SLICES,
    PreparedMessage, Role,
};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn connections(n: usize, deflate: bool) -> Vec<Connection> {
    #[allow(clippy::disallowed_methods)] // one reading for the virtual clock
    let now = Instant::now();
    let params = DeflateParams {
        server_no_context_takeover: true,
        client_no_context_takeover: true,
        ..DeflateParams::default()
    };
    (0..n)
        .map(|_| {
            let conn = Connection::server(Config::default(), now);
            if deflate {
                conn.with_extensions(vec![Box::new(DeflateExtension::new(
                    Role::Server,
                    params,
                    &DeflateConfig::default(),
                ))])
            } else {
                conn
            }
        })
        .collect()
}

/// Queues `message` on every connection and writes everything out
/// (vectored, as the session does); returns the bytes written.
fn fan_out(conns: &mut [Connection], message: &PreparedMessage) -> usize {
    let mut written = 0;
    for conn in conns.iter_mut() {
        conn.send_prepared(message).unwrap();
    }
    for conn in conns.iter_mut() {
        loop {
            let mut bufs = [&[][..]; MAX_TRANSMIT_SLICES];
            let n = conn.poll_transmit_vectored(&mut bufs);
            if n == 0 {
                break;
            }
            let len: usize = bufs[..n].iter().map(|b| b.len()).sum();
            conn.advance_transmit(len);
            written += len;
        }
    }
    written
}

fn payload(size: usize) -> String {
    (0..size)
        .map(|i| char::from(b"abcdefgh"[i * 7 % 8]))
        .collect()
}

/// (allocations sending one already-framed message to `n`, allocations for
/// one new message each round to `n`), per round.
fn count(n: usize, size: usize, deflate: bool) -> (usize, usize) {
    let mut conns = connections(n, deflate);
    let message = PreparedMessage::text(payload(size));
    for _ in 0..4 {
        fan_out(&mut conns, &message);
    }
    let region = Region::new(GLOBAL);
    let mut written = 0;
    for _ in 0..8 {
        written += fan_out(&mut conns, &message);
    }
    let stats = region.change();
    assert!(written >= 8 * n * size.min(10));
    let steady = (stats.allocations + stats.reallocations) / 8;
    // Distinct messages no larger than the warm-up one (a larger one would
    // grow each transmit buffer once, which is not a per-message cost).
    let texts: Vec<String> = (0..8).map(|i| payload(size - i)).collect();
    let region = Region::new(GLOBAL);
    for text in texts {
        fan_out(&mut conns, &PreparedMessage::text(text));
    }
    let stats = region.change();
    (steady, (stats.allocations + stats.reallocations) / 8)
}

fn main() {
    fan_out_allocates_nothing_per_recipient();
    println!("test fan_out_allocates_nothing_per_recipient ... ok");
}

fn fan_out_allocates_nothing_per_recipient() {
    let mut failures = Vec::new();
    for deflate in [false, true] {
        for size in [100, 4096, 64 << 10] {
            let (steady_small, new_small) = count(16, size, deflate);
            let (steady_large, new_large) = count(256, size, deflate);
            println!(
                "deflate {deflate}, {size} B: {steady_small}/{steady_large} allocations per \
                 message to 16/256 connections; {new_small}/{new_large} for each new message"
            );
            if steady_small != 0 || steady_large != 0 {
                failures.push(format!("steady state, deflate {deflate}, {size} B"));
            }
            // A new message: its Arc, the payload's own string, the wire
            // form (and the compressor's output): a handful, the same
            // for 16 and 256 recipients.
            if new_large != new_small || new_large > 8 {
                failures.push(format!(
                    "new messages, deflate {deflate}, {size} B: {new_small} vs {new_large}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "allocating per recipient: {failures:?}"
    );
}
