//! What a message the application keeps pins of the read buffer it came
//! in, measured with a counting global allocator: heap bytes still live
//! once the connection and everything but the kept messages are dropped.
//!
//! Messages are sliced out of the read buffer without a copy, so a kept
//! message keeps that buffer's whole allocation alive. The receive path
//! copies a payload out instead when the buffer grew past 72 KiB and the
//! payload is under half of it (under an eighth before the pooled chunks
//! of issue 24): a message of `n` bytes pins at most `max(72 KiB, 8 n)`,
//! in fact `max(72 KiB, 2 n)`.
//!
//! And what a connection keeps after a burst: `trim_buffers` (which the
//! session driver calls whenever input runs dry with nothing to write)
//! returns its buffers to the small size that 64 KiB messages reuse.
//!
//! `cargo test -p wsproto-core --test pinning` prints the figures.
//! The allocator counts every thread, so this file is one program
//! without the test harness (`harness = false`), as `allocations` is.

use std::alloc::System;
use std::time::Instant;

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use wsproto_core::{Config, Connection, Event, Message};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

mod util;

/// The bound of the module docs.
fn bound(n: usize) -> usize {
    (72 << 10).max(8 * n)
}

/// Feeds `reads` to a fresh server, keeps the messages `keep` accepts,
/// drops everything else; returns the kept messages' sizes and the heap
/// bytes still held.
fn held_after(reads: &[Vec<u8>], mut keep: impl FnMut(&Message) -> bool) -> (Vec<usize>, usize) {
    #[allow(clippy::disallowed_methods)] // one reading for the virtual clock
    let now = Instant::now();
    let config = Config::default().with_ping_interval(None);
    let region = Region::new(GLOBAL);
    let mut kept = Vec::new();
    {
        let mut server = Connection::server(config, now);
        for read in reads {
            server.handle_data(now, read);
            while let Some(event) = server.poll_event() {
                if let Event::Message(message) = event
                    && keep(&message)
                {
                    kept.push(message);
                }
            }
        }
    }
    let change = region.change();
    // stats_alloc adds a realloc's growth to `bytes_allocated` (and its
    // shrinking to `bytes_deallocated`) already.
    let held = change.bytes_allocated - change.bytes_deallocated;
    (kept.iter().map(Message::len).collect(), held)
}

fn main() {
    a_kept_message_pins_at_most_its_bound();
    println!("test a_kept_message_pins_at_most_its_bound ... ok");
}

fn a_kept_message_pins_at_most_its_bound() {
    let small = util::client_frame(0x82, &[7; 16]);
    let mut failures = Vec::new();

    // 1. A 900 KiB frame, then 64 small messages in the same read: the
    // buffer grew for the large frame; the small ones are kept.
    let mut read = util::client_frame(0x82, &vec![1; 900 << 10]);
    for _ in 0..64 {
        read.extend_from_slice(&small);
    }
    let (sizes, held) = held_after(&[read], |m| m.len() == 16);
    println!("64 x 16 B kept after a 900 KiB frame in one read: {held} bytes held");
    if sizes.len() != 64 || held > 64 * 128 {
        failures.push(format!("after a large frame: {held} bytes for {sizes:?}"));
    }

    // 2. A 256 KiB read of pipelined small messages (a driver's read),
    // one of them kept.
    let pipelined: Vec<u8> = small.repeat((256 << 10) / small.len());
    let mut first = true;
    let (sizes, held) = held_after(&[pipelined], |_| std::mem::take(&mut first));
    println!("1 x 16 B kept from a 256 KiB read of them: {held} bytes held");
    if sizes != [16] || held > 512 {
        failures.push(format!("from a long read: {held} bytes"));
    }

    // 3. A 200 KiB message behind a 900 KiB frame in the same read: under
    // an eighth of the 1.8 MB buffer that read grew (doubling), so copied
    // out too: it holds itself.
    let mut read = util::client_frame(0x82, &vec![1; 900 << 10]);
    read.extend_from_slice(&util::client_frame(0x82, &vec![2; 200 << 10]));
    let (sizes, held) = held_after(&[read], |m| m.len() == 200 << 10);
    println!("1 x 200 KiB kept after a 900 KiB frame: {held} bytes held");
    if sizes != [200 << 10] || held > (200 << 10) + 1024 {
        failures.push(format!("a medium message: {held} bytes"));
    }

    // 4. Small messages in a small buffer are sliced (no copy, no
    // allocation of their own): what they pin is that small buffer.
    let reads: Vec<Vec<u8>> = (0..8).map(|_| small.clone()).collect();
    let (sizes, held) = held_after(&reads, |_| true);
    println!("8 x 16 B kept, one read each: {held} bytes held");
    if sizes.len() != 8 || held > bound(16) {
        failures.push(format!("small reads: {held} bytes"));
    }
    let (burst, trimmed) = after_a_burst();
    println!("after a burst: {burst} bytes held, {trimmed} once trimmed");
    if trimmed > 80 << 10 {
        failures.push(format!("after a burst and a trim: {trimmed} bytes"));
    }
    assert!(failures.is_empty(), "{failures:?}");
}

/// A server receives a 1 MiB message and 300 KiB of small ones, and
/// answers each small one: heap bytes the connection holds once all is
/// written, before and after `trim_buffers`.
fn after_a_burst() -> (usize, usize) {
    #[allow(clippy::disallowed_methods)] // one reading for the virtual clock
    let now = Instant::now();
    let config = Config::default().with_ping_interval(None);
    let region = Region::new(GLOBAL);
    let mut server = Connection::server(config, now);
    let mut read = util::client_frame(0x82, &vec![1; 1 << 20]);
    for _ in 0..300 {
        read.extend_from_slice(&util::client_frame(0x82, &[2; 1024]));
    }
    for piece in read.chunks(256 << 10) {
        server.handle_data(now, piece);
        while let Some(event) = server.poll_event() {
            if let Event::Message(message) = event
                && message.len() < 4096
            {
                server.send_message(message).unwrap();
            }
        }
    }
    drop(read);
    while !server.poll_transmit().is_empty() {
        let n = server.poll_transmit().len();
        server.advance_transmit(n);
    }
    let live = |region: &Region<'_, System>| {
        let change = region.change();
        change.bytes_allocated - change.bytes_deallocated
    };
    let burst = live(&region);
    server.trim_buffers();
    let trimmed = live(&region);
    drop(server);
    (burst, trimmed)
}
