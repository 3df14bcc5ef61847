//! Frame codec throughput through a whole [`Connection`], next to `memcpy`
//! of the same sizes (16 B, 1 KiB, 64 KiB, 1 MiB binary messages, one frame
//! each):
//!
//! - `decode/handle_data`: a server fed pre-built masked client frames with
//!   `handle_data` (parse the header, copy the payload into the read
//!   buffer unmasking it on the way, slice the message out), events
//!   drained every iteration.
//! - `decode/handle_data_16KiB_reads`: the same input cut into 16 KiB
//!   reads, as a socket read loop would deliver it (larger frames then
//!   arrive over several calls).
//! - `decode/recv_buffer`: the same through `recv_buffer()` +
//!   `handle_received()`; the "read" is an `extend_from_slice` into the
//!   spare capacity, as a socket read would fill it.
//! - `encode/client_masked`: `send_binary` + `poll_transmit` +
//!   `advance_transmit` on a client (frame header, copy, mask).
//! - `encode/server_unmasked`: the same on a server (header and copy).
//! - `memcpy`: `copy_from_slice` between two preallocated buffers.
//!
//! - `mask/apply_mask`: unmasking alone, in place, for reference.
//!
//! After the criterion runs it prints a summary table: MB/s (10^6 bytes of
//! payload per second) and percentage of `memcpy` at the same size, from
//! medians of interleaved rounds (see [`print_table`]).
//!
//! `cargo bench -p wsproto-core --bench codec` (everything), or
//! `cargo bench -p wsproto-core --bench codec -- table-only` (a filter that
//! matches no criterion bench: only the table, in a few seconds).

// criterion's macros generate undocumented items.
#![allow(missing_docs)]
// Timings and byte counts become f64 for the table; precision is ample.
#![allow(clippy::cast_precision_loss, clippy::cast_sign_loss)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput};
use wsproto_core::frame::apply_mask;
use wsproto_core::{Config, Connection, Event, MaskRng, Message};

const SIZES: [(&str, usize); 4] = [
    ("16B", 16),
    ("1KiB", 1 << 10),
    ("64KiB", 64 << 10),
    ("1MiB", 1 << 20),
];

/// Read size of the `handle_data_16KiB_reads` case: what a socket read
/// loop with a 16 KiB buffer hands over.
const READ: usize = 16 << 10;

/// The memcpy destination starts this far into its allocation: two
/// same-sized buffers allocated back to back sit a multiple of 4 KiB (+16)
/// apart, and that address aliasing halves memcpy speed at 64 KiB here,
/// which would flatter every other column.
const OFF: usize = 1024;

// The core is told the time; a bench needs one reading to tell it.
#[allow(clippy::disallowed_methods)]
fn epoch() -> Instant {
    Instant::now()
}

fn config() -> Config {
    // Room for one 1 MiB message in the send queue with its header.
    Config::default().with_send_queue_limit(4 << 20)
}

fn payload(size: usize) -> Bytes {
    (0..size)
        .map(|i| (i as u8).wrapping_mul(31))
        .collect::<Vec<u8>>()
        .into()
}

/// Writes out everything `conn` has to send; returns the byte count.
fn transmit_all(conn: &mut Connection, sink: Option<&mut Vec<u8>>) -> usize {
    let mut sink = sink;
    let mut total = 0;
    loop {
        let out = conn.poll_transmit();
        if out.is_empty() {
            return total;
        }
        let n = out.len();
        if let Some(sink) = sink.as_deref_mut() {
            sink.extend_from_slice(out);
        }
        black_box(out);
        conn.advance_transmit(n);
        total += n;
    }
}

/// The wire bytes of one masked client frame carrying `data`.
fn client_wire(data: &Bytes, now: Instant) -> Vec<u8> {
    let mut client = Connection::client(config(), MaskRng::from_seed([7; 32]), now);
    client.send_binary(data.clone()).unwrap();
    let mut wire = Vec::new();
    transmit_all(&mut client, Some(&mut wire));
    wire
}

/// Drains the events; returns the payload bytes of the messages among them.
fn drain(conn: &mut Connection) -> usize {
    let mut got = 0;
    while let Some(event) = conn.poll_event() {
        if let Event::Message(message) = &event {
            got += message.len();
        }
        black_box(event);
    }
    got
}

/// Feeds `wire` through `recv_buffer` in reads of at most the spare capacity
/// offered, as a socket read would.
fn feed_zero_copy(conn: &mut Connection, now: Instant, wire: &[u8]) -> usize {
    let mut rest = wire;
    let mut got = 0;
    while !rest.is_empty() {
        let mut buf = conn.recv_buffer();
        let n = buf.len().min(rest.len());
        buf[..n].copy_from_slice(&rest[..n]);
        rest = &rest[n..];
        conn.handle_received(now, n);
        got += drain(conn);
    }
    got
}

/// One benchmarked operation on `size` payload bytes; returns a count so
/// the work cannot be optimised away.
type Case = Box<dyn FnMut() -> usize>;

/// The cases at one size: (criterion group, function, table column, case).
fn cases(size: usize, now: Instant) -> Vec<(&'static str, &'static str, &'static str, Case)> {
    let data = payload(size);
    let wire = client_wire(&data, now);

    // Sanity: each receive path yields the message we sent.
    let mut server = Connection::server(config(), now);
    server.handle_data(now, &wire);
    assert_eq!(
        server.poll_event(),
        Some(Event::Message(Message::Binary(data.clone())))
    );
    assert_eq!(feed_zero_copy(&mut server, now, &wire), size);

    let src = data.to_vec();
    let mut dst = vec![0u8; size + OFF];
    let memcpy: Case = Box::new(move || {
        dst[OFF..].copy_from_slice(black_box(&src));
        black_box(&mut dst).len()
    });
    let mut buf = data.to_vec();
    let unmask: Case = Box::new(move || {
        apply_mask(black_box(&mut buf), [1, 2, 3, 4], 0);
        black_box(&mut buf).len()
    });
    let mut server = Connection::server(config(), now);
    let wire_a = wire.clone();
    let handle_data: Case = Box::new(move || {
        server.handle_data(now, black_box(&wire_a));
        drain(&mut server)
    });
    let mut server = Connection::server(config(), now);
    let wire_b = wire.clone();
    let handle_data_reads: Case = Box::new(move || {
        let mut got = 0;
        for read in black_box(&wire_b).chunks(READ) {
            server.handle_data(now, read);
            got += drain(&mut server);
        }
        got
    });
    let mut server = Connection::server(config(), now);
    let recv_buffer: Case = Box::new(move || feed_zero_copy(&mut server, now, black_box(&wire)));
    let mut client = Connection::client(config(), MaskRng::from_seed([9; 32]), now);
    let data_c = data.clone();
    let client_masked: Case = Box::new(move || {
        client.send_binary(data_c.clone()).unwrap();
        transmit_all(&mut client, None)
    });
    let mut server = Connection::server(config(), now);
    let server_unmasked: Case = Box::new(move || {
        server.send_binary(data.clone()).unwrap();
        transmit_all(&mut server, None)
    });
    vec![
        ("memcpy", "copy", "memcpy", memcpy),
        ("mask", "apply_mask", "apply_mask alone", unmask),
        ("decode", "handle_data", "decode handle_data", handle_data),
        (
            "decode",
            "handle_data_16KiB_reads",
            "decode 16 KiB reads",
            handle_data_reads,
        ),
        ("decode", "recv_buffer", "decode recv_buffer", recv_buffer),
        (
            "encode",
            "client_masked",
            "encode client (mask)",
            client_masked,
        ),
        (
            "encode",
            "server_unmasked",
            "encode server",
            server_unmasked,
        ),
    ]
}

fn bench(c: &mut Criterion) {
    let now = epoch();
    for (label, size) in SIZES {
        for (group, function, _, mut case) in cases(size, now) {
            let mut group = c.benchmark_group(group);
            group.throughput(Throughput::Bytes(size as u64));
            group.bench_function(BenchmarkId::new(function, label), |b| b.iter(&mut case));
            group.finish();
        }
    }
}

/// Nanoseconds per call of `case`, over `iters` calls.
// A bench has to read the clock.
#[allow(clippy::disallowed_methods)]
fn time_per_iter(case: &mut Case, iters: u32) -> f64 {
    let start = Instant::now();
    for _ in 0..iters {
        black_box(case());
    }
    start.elapsed().as_nanos() as f64 / f64::from(iters)
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// The summary table. The cases of one size are timed in alternation
/// (`ROUNDS` rounds of about a millisecond each), so that `memcpy` and the
/// codec see the same machine load, and the median of each is reported.
fn print_table(now: Instant) {
    const ROUNDS: usize = 31;
    println!();
    println!("Median throughput, MB/s (10^6 payload bytes/s), and % of memcpy of the same size,");
    println!("{ROUNDS} interleaved rounds per size:");
    let columns: Vec<&str> = cases(16, now).iter().map(|c| c.2).collect();
    print!("{:<6}", "size");
    for column in &columns {
        print!(" | {column:>20}");
    }
    println!();
    for (label, size) in SIZES {
        let mut cases = cases(size, now);
        let iters: Vec<u32> = cases
            .iter_mut()
            .map(|case| {
                let ns = time_per_iter(&mut case.3, 100).max(1.0);
                (1e6 / ns).clamp(1.0, 1e6) as u32
            })
            .collect();
        let mut samples = vec![Vec::with_capacity(ROUNDS); cases.len()];
        for _ in 0..ROUNDS {
            for ((case, n), out) in cases.iter_mut().zip(&iters).zip(&mut samples) {
                out.push(time_per_iter(&mut case.3, *n));
            }
        }
        let medians: Vec<f64> = samples.into_iter().map(median).collect();
        let mb_s = |ns: f64| size as f64 / ns * 1e3;
        print!("{label:<6}");
        for ns in &medians {
            print!(" | {:>9.0} ({:>5.1} %)", mb_s(*ns), medians[0] / ns * 100.0);
        }
        println!();
    }
}

fn main() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(20)
        .configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
    print_table(epoch());
}
