//! Heap allocations per message in steady state, counted by a counting
//! global allocator: an echo loop (the client sends a binary message, the
//! server receives it and sends it back, the client receives it) must not
//! allocate once it is warmed up, for messages of 16 B to 1 MiB, through
//! `handle_data` (one read per transmit batch, or 16 KiB reads) and through
//! `recv_buffer`; and a client sending payloads it owns by vectored writes
//! allocates nothing but those payloads.
//!
//! `cargo test -p wsproto-core --test allocations` prints the
//! counts. The allocator counts every thread, so this file is one program
//! without the test harness (`harness = false`): libtest's main thread
//! allocates when it reports a test running past 60 s, which a loaded
//! machine can make this one do.

// Allocation counts become f64 per message; they are small.
#![allow(clippy::cast_precision_loss)]

use std::alloc::System;
use std::time::Instant;

use bytes::Bytes;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use wsproto_core::{Config, Connection, Event, MaskRng};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const WARM_UP: usize = 16;
const MEASURED: usize = 64;

#[derive(Clone, Copy, Debug)]
enum ReadPath {
    HandleData,
    /// `handle_data` in reads of at most 16 KiB, as a socket loop delivers.
    HandleData16KiB,
    RecvBuffer,
}

/// Moves everything `from` has to send into `to`.
fn transfer(from: &mut Connection, to: &mut Connection, now: Instant, path: ReadPath) {
    loop {
        let out = from.poll_transmit();
        let n = out.len();
        if n == 0 {
            return;
        }
        match path {
            ReadPath::HandleData => to.handle_data(now, out),
            ReadPath::HandleData16KiB => {
                for read in out.chunks(16 << 10) {
                    to.handle_data(now, read);
                }
            }
            ReadPath::RecvBuffer => {
                let mut rest = out;
                while !rest.is_empty() {
                    let mut buf = to.recv_buffer();
                    let take = buf.len().min(rest.len());
                    buf[..take].copy_from_slice(&rest[..take]);
                    rest = &rest[take..];
                    to.handle_received(now, take);
                }
            }
        }
        from.advance_transmit(n);
    }
}

/// One round trip; returns the size of the message that came back.
fn echo(
    client: &mut Connection,
    server: &mut Connection,
    now: Instant,
    path: ReadPath,
    payload: &Bytes,
) -> usize {
    client.send_binary(payload.clone()).unwrap();
    transfer(client, server, now, path);
    while let Some(event) = server.poll_event() {
        if let Event::Message(message) = event {
            server.send_message(message).unwrap();
        }
    }
    transfer(server, client, now, path);
    let mut got = 0;
    while let Some(event) = client.poll_event() {
        if let Event::Message(message) = event {
            got += message.len();
        }
    }
    got
}

/// Allocations (and reallocations) per message over `MEASURED` round trips
/// after `WARM_UP` of them.
fn allocations_per_message(size: usize, path: ReadPath) -> f64 {
    #[allow(clippy::disallowed_methods)] // one reading for the virtual clock
    let now = Instant::now();
    let config = Config::default();
    let mut client = Connection::client(config.clone(), MaskRng::from_seed([3; 32]), now);
    let mut server = Connection::server(config, now);
    let payload: Bytes = (0..size).map(|i| i as u8).collect::<Vec<u8>>().into();
    for _ in 0..WARM_UP {
        assert_eq!(echo(&mut client, &mut server, now, path, &payload), size);
    }
    let region = Region::new(GLOBAL);
    let mut got = 0;
    for _ in 0..MEASURED {
        got += echo(&mut client, &mut server, now, path, &payload);
    }
    let stats = region.change();
    assert_eq!(got, size * MEASURED);
    (stats.allocations + stats.reallocations) as f64 / MEASURED as f64
}

fn main() {
    echo_loop_does_not_allocate_in_steady_state();
    println!("test echo_loop_does_not_allocate_in_steady_state ... ok");
}

fn echo_loop_does_not_allocate_in_steady_state() {
    let mut failures = Vec::new();
    for path in [
        ReadPath::HandleData,
        ReadPath::HandleData16KiB,
        ReadPath::RecvBuffer,
    ] {
        for (label, size) in [
            ("16 B", 16),
            ("1 KiB", 1 << 10),
            ("64 KiB", 64 << 10),
            ("1 MiB", 1 << 20),
        ] {
            let per_message = allocations_per_message(size, path);
            println!("{path:?} {label}: {per_message} allocations per echoed message");
            // Up to 64 KiB the buffers are reused. The read buffer that held a
            // frame over 256 KiB is released on purpose (an idle connection
            // must not keep a message-sized buffer), so a 1 MiB echo pays a
            // few allocations; it is printed, not required to be 0.
            if size <= 64 << 10 && per_message != 0.0 {
                failures.push(format!("{path:?} {label}: {per_message}"));
            }
        }
    }
    // A client handing over payloads it owns, sent by vectored writes: the
    // payload is masked in place and referenced, so the only allocation per
    // message is the application's own buffer.
    let total = owned_sends_allocations(64 << 10);
    println!(
        "client, owned 64 KiB payloads, vectored: {total} allocations for {MEASURED} messages"
    );
    if total != MEASURED {
        failures.push(format!("owned vectored sends: {total} for {MEASURED}"));
    }
    assert!(failures.is_empty(), "allocating: {failures:?}");
}

/// Allocations (and reallocations) over `MEASURED` messages when a client
/// sends payloads of `size` bytes it builds for each message (one
/// allocation of its own) through `poll_transmit_vectored`.
fn owned_sends_allocations(size: usize) -> usize {
    #[allow(clippy::disallowed_methods)] // one reading for the virtual clock
    let now = Instant::now();
    let mut client = Connection::client(Config::default(), MaskRng::from_seed([5; 32]), now);
    let send = |client: &mut Connection| {
        client.send_binary(vec![7u8; size]).unwrap();
        loop {
            let mut bufs = [&[][..]; wsproto_core::MAX_TRANSMIT_SLICES];
            let n = client.poll_transmit_vectored(&mut bufs);
            if n == 0 {
                return;
            }
            let written: usize = bufs[..n].iter().map(|b| b.len()).sum();
            client.advance_transmit(written);
        }
    };
    for _ in 0..WARM_UP {
        send(&mut client);
    }
    let region = Region::new(GLOBAL);
    for _ in 0..MEASURED {
        send(&mut client);
    }
    let stats = region.change();
    stats.allocations + stats.reallocations
}
