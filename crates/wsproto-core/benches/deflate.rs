//! permessage-deflate throughput: compress and inflate JSON-like text of
//! 1 KiB, 64 KiB and 1 MiB, with and without context takeover, through the
//! [`Extension`] trait as a connection would call it. Prints the
//! compression ratio of each case.
//!
//! `cargo bench -p wsproto-core --bench deflate`

// criterion's macros generate undocumented items.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use bytes::BytesMut;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use wsproto_core::{DeflateConfig, DeflateExtension, DeflateParams, Extension, OpCode, Role};

#[path = "support/json.rs"]
mod support;
use support::json;

/// Distinct messages per case, sent in a cycle: at least 8 and together at
/// least 64 KiB, so a 32 KiB window never holds an earlier copy of the
/// message being sent (which would overstate context takeover).
fn message_count(size: usize) -> usize {
    (64 * 1024 / size).max(8)
}

fn params(no_context_takeover: bool) -> DeflateParams {
    DeflateParams {
        server_no_context_takeover: no_context_takeover,
        client_no_context_takeover: no_context_takeover,
        ..DeflateParams::default()
    }
}

fn bench(c: &mut Criterion) {
    let config = DeflateConfig::default();
    for (label, size) in [
        ("1KiB", 1usize << 10),
        ("64KiB", 64 << 10),
        ("1MiB", 1 << 20),
    ] {
        let count = message_count(size);
        let messages: Vec<Vec<u8>> = (0..count).map(|i| json(size, i as u64 + 1)).collect();
        for takeover in [true, false] {
            let mode = if takeover { "takeover" } else { "no_takeover" };
            let p = params(!takeover);
            // The compressed sequence, for the ratio and the inflate bench.
            let mut sender = DeflateExtension::new(Role::Server, p, &config);
            let compressed: Vec<Vec<u8>> = messages
                .iter()
                .map(|m| {
                    let mut out = BytesMut::new();
                    sender.encode_message(OpCode::Text, m, &mut out).unwrap();
                    out.to_vec()
                })
                .collect();
            let total: usize = compressed.iter().map(Vec::len).sum();
            let raw = size * count;
            println!(
                "ratio {label} {mode}: {}.{:03} ({total} of {raw} bytes)",
                total / raw,
                total * 1000 / raw % 1000
            );

            let mut group = c.benchmark_group(format!("deflate/{mode}"));
            group.throughput(Throughput::Bytes(size as u64));
            let mut sender = DeflateExtension::new(Role::Server, p, &config);
            let mut out = BytesMut::new();
            let mut i = 0;
            group.bench_function(BenchmarkId::new("compress", label), |b| {
                b.iter(|| {
                    out.clear();
                    sender
                        .encode_message(OpCode::Text, &messages[i % count], &mut out)
                        .unwrap();
                    i += 1;
                    black_box(out.len())
                });
            });
            // Cycling through the sequence is valid with takeover: message 0
            // refers to nothing, message k only to messages 0..k just decoded.
            let mut receiver = DeflateExtension::new(Role::Client, p, &config);
            let mut j = 0;
            group.bench_function(BenchmarkId::new("inflate", label), |b| {
                b.iter(|| {
                    out.clear();
                    receiver
                        .decode_frame(&compressed[j % count], true, &mut out, usize::MAX)
                        .unwrap();
                    j += 1;
                    black_box(out.len())
                });
            });
            group.finish();
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20);
    targets = bench
}
criterion_main!(benches);
