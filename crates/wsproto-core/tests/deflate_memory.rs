//! Heap held by permessage-deflate on one connection, counted by a
//! counting global allocator: nothing before the first compressed message
//! of a direction, then the zlib state of that direction, which stays
//! within the size `DeflateConfig::with_mem_level` documents.
//!
//! `cargo test -p wsproto-core --test deflate_memory` prints the sizes.
//! The allocator counts every thread, so this file is one program
//! without the test harness (`harness = false`), as `allocations` is.

use std::alloc::System;

use bytes::BytesMut;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use wsproto_core::{DeflateConfig, DeflateExtension, DeflateParams, Extension, OpCode, Role};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Bytes allocated and not freed while `f` runs.
fn held(f: impl FnOnce()) -> usize {
    let region = Region::new(GLOBAL);
    f();
    let stats = region.change();
    stats
        .bytes_allocated
        .saturating_sub(stats.bytes_deallocated)
}

/// The documented size of the compressor state for a window of 2^`bits`.
fn compressor_bound(bits: u32, mem_level: u32) -> usize {
    (1 << (bits + 2)) + (128 << 10) + (7 << (mem_level + 6)) + (16 << 10)
}

fn main() {
    deflate_state_is_lazy_and_bounded();
    println!("test deflate_state_is_lazy_and_bounded ... ok");
}

fn deflate_state_is_lazy_and_bounded() {
    let message = b"permessage-deflate memory probe, permessage-deflate memory probe".repeat(16);
    for (bits, mem_level) in [(15u8, 5u8), (15, 8), (15, 1), (9, 5)] {
        let config = DeflateConfig::default().with_mem_level(mem_level);
        let params = DeflateParams {
            server_max_window_bits: bits,
            ..DeflateParams::default()
        };
        let mut client = None;
        let mut server = None;
        let idle = held(|| {
            client = Some(DeflateExtension::new(Role::Client, params, &config));
            server = Some(DeflateExtension::new(Role::Server, params, &config));
        });
        let (mut client, mut server) = (client.unwrap(), server.unwrap());
        let mut wire = BytesMut::with_capacity(4096);
        let mut inflated = BytesMut::with_capacity(4096);
        let compressor = held(|| {
            assert!(
                server
                    .encode_message(OpCode::Text, &message, &mut wire)
                    .unwrap()
            );
        });
        let decompressor = held(|| {
            client
                .decode_frame(&wire, true, &mut inflated, 1 << 20)
                .unwrap();
        });
        assert_eq!(&inflated[..], &message[..]);
        println!(
            "window bits {bits}, mem_level {mem_level}: idle {idle} B, \
             compressor {compressor} B, decompressor {decompressor} B"
        );
        assert!(idle < 1024, "nothing allocated before the first message");
        let bound = compressor_bound(u32::from(bits.max(9)), u32::from(mem_level));
        assert!(compressor <= bound, "compressor {compressor} > {bound}");
        assert!(decompressor <= 48 << 10, "decompressor {decompressor}");
    }
    // Level 1 without context takeover: messages up to 16 KiB skip zlib,
    // whose compressor is then never allocated; the one-shot encoder's hash
    // table (at most 2^16 two-byte slots) belongs to the thread, so the
    // first connection's messages allocate it and the next connection's
    // allocate nothing.
    let params = DeflateParams {
        server_no_context_takeover: true,
        ..DeflateParams::default()
    };
    let mut wire = BytesMut::with_capacity(32 << 10);
    let mut one_shot = [0; 2];
    for held_by in &mut one_shot {
        let mut server = DeflateExtension::new(Role::Server, params, &DeflateConfig::default());
        *held_by = held(|| {
            for size in [100, 1000, 16 << 10] {
                wire.clear();
                let message = b"one-shot ".repeat(size / 9);
                assert!(
                    server
                        .encode_message(OpCode::Text, &message, &mut wire)
                        .unwrap()
                );
            }
        });
    }
    let [thread, connection] = one_shot;
    println!(
        "no context takeover, level 1: thread's table {thread} B, then {connection} B per connection"
    );
    assert!(
        thread <= (128 << 10) + 1024,
        "one-shot encoder's table {thread}"
    );
    assert_eq!(connection, 0, "a second connection allocates nothing");
}
