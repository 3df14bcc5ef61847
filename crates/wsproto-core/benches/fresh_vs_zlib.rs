//! The one-shot DEFLATE encoder (`deflate/fresh.rs`) against the path it
//! replaces: zlib-rs at level 1 with the negotiated window, a sync flush,
//! and `reset()` after every message (what `compress.rs` does for
//! `*_no_context_takeover` without the one-shot encoder). JSON-like text of
//! 256 B, 1 KiB, 4 KiB and 16 KiB; CPU per message and output size.
//!
//! ```text
//! cargo bench -p wsproto-core --bench fresh_vs_zlib            # the table (wall clock)
//! # instructions per message, repeatable on a shared machine:
//! B=$(ls target/release/deps/fresh_vs_zlib-* | grep -v '\.d$')
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null $B --one fresh 1024 0
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null $B --one fresh 1024 2000
//! # (Ir of the second - Ir of the first) / 2000; `zlib` for the library
//! ```
//!
//! The one-shot encoder is called through [`DeflateExtension`], as a
//! connection calls it; zlib-rs is called directly (no extension in
//! between), so any overhead of the extension counts against the encoder.

// A benchmark program: its output is the report, and it reads the clock
// (the core itself is told the time; this program is not the core).
#![allow(
    missing_docs,
    clippy::print_stdout,
    clippy::cast_precision_loss,
    clippy::disallowed_methods
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use flate2::{Decompress, FlushDecompress};
use wsproto_core::{DeflateConfig, DeflateExtension, DeflateParams, Extension, OpCode, Role};
use zlib_rs::{Deflate, DeflateFlush, Method, Strategy};

#[path = "support/json.rs"]
mod support;
use support::json;

const SIZES: [usize; 4] = [256, 1024, 4096, 16 * 1024];
/// Distinct messages per size, cycled.
const MESSAGES: usize = 16;
/// The default window (15 bits) and memLevel (5), as negotiated by default.
const WINDOW_BITS: i32 = 15;
const MEM_LEVEL: i32 = 5;

/// One encoder under test: `encode` appends a message's RFC 7692 payload.
trait Encoder {
    fn encode(&mut self, message: &[u8], out: &mut BytesMut);
}

/// The one-shot encoder, through the extension (level 1, no context takeover).
struct Fresh(DeflateExtension);

impl Fresh {
    fn new() -> Self {
        let params = DeflateParams {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            ..DeflateParams::default()
        };
        Fresh(DeflateExtension::new(
            Role::Server,
            params,
            &DeflateConfig::default().with_level(1),
        ))
    }
}

impl Encoder for Fresh {
    fn encode(&mut self, message: &[u8], out: &mut BytesMut) {
        assert!(self.0.encode_message(OpCode::Text, message, out).unwrap());
    }
}

/// zlib-rs at level 1, sync flush, reset after each message.
struct Zlib(Deflate);

impl Zlib {
    fn new() -> Self {
        Zlib(Deflate::new_with_config(zlib_rs::DeflateConfig {
            level: 1,
            method: Method::Deflated,
            window_bits: -WINDOW_BITS,
            mem_level: MEM_LEVEL,
            strategy: Strategy::Default,
        }))
    }
}

impl Encoder for Zlib {
    fn encode(&mut self, message: &[u8], out: &mut BytesMut) {
        let start = out.len();
        out.resize(start + message.len() + message.len() / 8 + 64, 0);
        let before = self.0.total_out();
        let status = self
            .0
            .compress(message, &mut out[start..], DeflateFlush::SyncFlush);
        assert!(status.is_ok());
        assert_eq!(self.0.total_in() as usize, message.len());
        let written = (self.0.total_out() - before) as usize;
        assert!(start + written < out.len(), "flush incomplete");
        // Drop the 00 00 ff ff of the sync flush (RFC 7692 §7.2.1).
        out.truncate(start + written - 4);
        self.0.reset();
    }
}

fn encoder(name: &str) -> Box<dyn Encoder> {
    match name {
        "fresh" => Box::new(Fresh::new()),
        "zlib" => Box::new(Zlib::new()),
        other => panic!("unknown encoder {other} (fresh or zlib)"),
    }
}

fn messages(size: usize) -> Vec<Vec<u8>> {
    (0..MESSAGES).map(|i| json(size, i as u64 + 1)).collect()
}

/// Inflates a payload (the tail put back) and checks it is `message`.
fn check(payload: &[u8], message: &[u8]) {
    let mut input = payload.to_vec();
    input.extend_from_slice(&[0x00, 0x00, 0xff, 0xff]);
    let mut d = Decompress::new(false);
    let mut out = Vec::with_capacity(message.len() + 64);
    d.decompress_vec(&input, &mut out, FlushDecompress::Sync)
        .unwrap();
    assert_eq!(out, message);
}

/// Total compressed size of the messages, each checked by inflating it.
fn compressed_size(e: &mut dyn Encoder, messages: &[Vec<u8>]) -> usize {
    let mut total = 0;
    for m in messages {
        let mut out = BytesMut::new();
        e.encode(m, &mut out);
        check(&out, m);
        total += out.len();
    }
    total
}

/// Encodes `count` messages, cycling: the loop `--one` runs under callgrind.
fn run(e: &mut dyn Encoder, messages: &[Vec<u8>], count: usize, out: &mut BytesMut) {
    for i in 0..count {
        out.clear();
        e.encode(black_box(&messages[i % messages.len()]), out);
        black_box(out.len());
    }
}

/// Median nanoseconds per message over batches of about 20 ms.
fn ns_per_message(e: &mut dyn Encoder, messages: &[Vec<u8>]) -> (f64, f64, f64) {
    let mut out = BytesMut::with_capacity(64 * 1024);
    // Calibrate a batch to about 20 ms.
    let mut batch = 64;
    loop {
        let t = Instant::now();
        run(e, messages, batch, &mut out);
        if t.elapsed() > Duration::from_millis(20) {
            break;
        }
        batch *= 2;
    }
    let mut samples: Vec<f64> = (0..15)
        .map(|_| {
            let t = Instant::now();
            run(e, messages, batch, &mut out);
            t.elapsed().as_nanos() as f64 / batch as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    (
        samples[0],
        samples[samples.len() / 2],
        samples[samples.len() - 1],
    )
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(at) = args.iter().position(|a| a == "--one") {
        // --one ENCODER SIZE COUNT: encode COUNT messages and exit.
        let name = &args[at + 1];
        let size: usize = args[at + 2].parse().expect("SIZE");
        let count: usize = args[at + 3].parse().expect("COUNT");
        let msgs = messages(size);
        let mut e = encoder(name);
        let mut out = BytesMut::with_capacity(64 * 1024);
        run(e.as_mut(), &msgs, count, &mut out);
        return;
    }
    // `cargo bench` passes --bench; `cargo test --benches` does not:
    // then only check that both round-trip.
    let timed = args.iter().any(|a| a == "--bench");
    println!(
        "| size | encoder | bytes out / in | ns/msg median (min-max) | zlib-rs ÷ fresh (time) | fresh ÷ zlib-rs (size) |"
    );
    println!("| ---: | --- | ---: | ---: | ---: | ---: |");
    for size in SIZES {
        let msgs = messages(size);
        let raw = size * msgs.len();
        let fresh_size = compressed_size(&mut Fresh::new(), &msgs);
        let zlib_size = compressed_size(&mut Zlib::new(), &msgs);
        if !timed {
            println!("| {size} | (sizes only) | {fresh_size} / {zlib_size} of {raw} | | | |");
            continue;
        }
        let fresh = ns_per_message(&mut Fresh::new(), &msgs);
        let zlib = ns_per_message(&mut Zlib::new(), &msgs);
        for (name, bytes, (lo, mid, hi)) in
            [("fresh", fresh_size, fresh), ("zlib-rs", zlib_size, zlib)]
        {
            println!(
                "| {size} | {name} | {:.3} | {mid:.0} ({lo:.0}-{hi:.0}) | {} | {} |",
                bytes as f64 / raw as f64,
                if name == "fresh" {
                    format!("{:.2}", zlib.1 / fresh.1)
                } else {
                    "-".into()
                },
                if name == "fresh" {
                    format!("{:.3}", fresh_size as f64 / zlib_size as f64)
                } else {
                    "-".into()
                },
            );
        }
    }
}
