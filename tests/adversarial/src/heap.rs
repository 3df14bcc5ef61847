//! The heap figure: live bytes counted by a counting global allocator
//! (`stats_alloc`, a safe wrapper: our crates forbid `unsafe`), sampled
//! every millisecond while an attack runs, and the bound it must stay
//! under, computed from the [`Config`] the server or client was given.
//!
//! Why a counting allocator rather than a child process's `VmRSS`: it
//! counts bytes actually held (RSS keeps freed pages the allocator has not
//! returned, and moves in 4 KiB pages), it is portable, and it sees a
//! buffer the moment it is reserved. Its limit: it counts the whole test
//! process, so attacks run one at a time ([`exclusive`]) and the attacker
//! keeps its own buffers small ([`crate::peer`] reads 16 KiB at a time and
//! summarises what it reads). It samples rather than tracks the peak
//! exactly (`stats_alloc` keeps no peak and a peak-keeping allocator would
//! need `unsafe`): the failures it exists to catch, buffering that grows
//! with the attack, persist far longer than a millisecond.

use std::alloc::System;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};
use wsproto_core::Config;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Live heap bytes of the whole process right now.
#[must_use]
pub fn live_bytes() -> i64 {
    let s = INSTRUMENTED_SYSTEM.stats();
    let wide = |n: usize| i64::try_from(n).expect("heap byte count fits i64");
    // stats_alloc adds a realloc's growth to `bytes_allocated` and its
    // shrinking to `bytes_deallocated` already (`bytes_reallocated` is the
    // same change again, not to be added a second time).
    wide(s.bytes_allocated) - wide(s.bytes_deallocated)
}

/// The process's resident set (Linux `/proc/self/statm`), 0 where it
/// cannot be read. Reported beside the heap, not asserted: it keeps pages
/// the allocator has freed, and counts the runtime's thread stacks as they
/// are touched.
#[must_use]
pub fn rss_bytes() -> i64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<i64>().ok())
        .map_or(0, |pages| pages * 4096)
}

static EXCLUSIVE: Mutex<()> = Mutex::new(());

/// Runs attacks one at a time within a test binary, so that the process's
/// heap figure is one attack's. A failed (panicked) attack does not stop
/// the others.
pub fn exclusive() -> MutexGuard<'static, ()> {
    EXCLUSIVE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Samples [`live_bytes`] every millisecond from [`HeapMeter::start`] until
/// [`HeapMeter::finish`].
#[derive(Debug)]
pub struct HeapMeter {
    baseline: i64,
    rss_baseline: i64,
    peak: Arc<AtomicI64>,
    rss_peak: Arc<AtomicI64>,
    stop: Arc<AtomicBool>,
    sampler: Option<JoinHandle<()>>,
}

/// What a [`HeapMeter`] saw.
#[derive(Debug, Clone, Copy)]
pub struct HeapReport {
    /// Live bytes when the meter started (server, bystander and runtime
    /// already running).
    pub baseline: i64,
    /// The highest sample.
    pub peak: i64,
    /// The resident set when the meter started ([`rss_bytes`]).
    pub rss_baseline: i64,
    /// The highest resident set sampled (every 10 ms).
    pub rss_peak: i64,
}

impl HeapReport {
    /// Growth above the baseline at the peak.
    #[must_use]
    pub fn growth(&self) -> i64 {
        self.peak - self.baseline
    }

    /// Growth of the resident set at its peak.
    #[must_use]
    pub fn rss_growth(&self) -> i64 {
        self.rss_peak - self.rss_baseline
    }

    /// Asserts the growth stayed within `allowance` bytes.
    ///
    /// # Panics
    /// If it did not.
    pub fn assert_within(&self, allowance: usize, what: &str) {
        assert!(
            self.growth() <= i64::try_from(allowance).expect("allowance fits i64"),
            "{what}: heap grew by {} bytes (baseline {}, peak {}), allowance {allowance}",
            self.growth(),
            self.baseline,
            self.peak
        );
    }
}

impl HeapMeter {
    /// Starts sampling; the baseline is taken once the sampler runs.
    #[must_use]
    pub fn start() -> Self {
        let peak = Arc::new(AtomicI64::new(i64::MIN));
        let rss_peak = Arc::new(AtomicI64::new(i64::MIN));
        let stop = Arc::new(AtomicBool::new(false));
        let rss_baseline = rss_bytes();
        let sampler = {
            let (peak, rss_peak, stop) = (peak.clone(), rss_peak.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut round = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    peak.fetch_max(live_bytes(), Ordering::Relaxed);
                    if round % 10 == 0 {
                        rss_peak.fetch_max(rss_bytes(), Ordering::Relaxed);
                    }
                    round = round.wrapping_add(1);
                    // Sampling period: this thread's pace, not a wait for
                    // anything.
                    std::thread::park_timeout(Duration::from_millis(1));
                }
            })
        };
        let baseline = live_bytes();
        peak.fetch_max(baseline, Ordering::Relaxed);
        rss_peak.fetch_max(rss_baseline, Ordering::Relaxed);
        HeapMeter {
            baseline,
            rss_baseline,
            peak,
            rss_peak,
            stop,
            sampler: Some(sampler),
        }
    }

    /// Stops sampling (taking a last sample) and reports.
    ///
    /// # Panics
    /// If the sampler thread panicked.
    #[must_use]
    pub fn finish(mut self) -> HeapReport {
        self.peak.fetch_max(live_bytes(), Ordering::Relaxed);
        self.stop.store(true, Ordering::Relaxed);
        if let Some(sampler) = self.sampler.take() {
            sampler.thread().unpark();
            sampler.join().expect("heap sampler");
        }
        self.rss_peak.fetch_max(rss_bytes(), Ordering::Relaxed);
        HeapReport {
            baseline: self.baseline,
            peak: self.peak.load(Ordering::Relaxed),
            rss_baseline: self.rss_baseline,
            rss_peak: self.rss_peak.load(Ordering::Relaxed),
        }
    }
}

/// Per-connection buffers whose size the library fixes rather than the
/// config (each mirrors a constant of the crates, named in its comment).
pub mod fixed {
    /// `ws_session::driver::READ_CHUNK`: the most read per call, through a
    /// per-thread buffer of this size (allocated the first time a runtime
    /// thread reads) and then into the core's buffer.
    pub const READ_CHUNK: usize = 256 * 1024;
    /// `wsproto_core::connection::send::TRANSMIT_BATCH` plus a frame
    /// header: the transmit buffer is refilled up to this, and kept.
    pub const TRANSMIT_BATCH: usize = 256 * 1024 + 14;
    /// `ws_session::handshake::HEAD_READ`: the handshake's read buffer.
    pub const HEAD_READ: usize = 4 * 1024;
    /// `wsproto_core::connection::recv::KEEP_CAPACITY`: an empty read
    /// buffer up to this size is kept between frames.
    pub const KEEP_CAPACITY: usize = 256 * 1024;
    /// The zlib-rs state of one permessage-deflate direction pair at
    /// window bits 15 and the default memLevel 5, as
    /// `DeflateConfig::with_mem_level` documents it and
    /// `wsproto-core/tests/deflate_memory.rs` measures it (273 KiB + 46 KiB):
    /// the compressor's 64 KiB window, 64 KiB chain and 128 KiB hash table,
    /// `7 << 11` bytes of block buffers and its state struct (16 KiB
    /// allowed); the decompressor 48 KiB.
    pub const DEFLATE_STATE: usize = (64 + 64 + 128 + 14 + 16 + 48) * 1024;
    /// Scaffolding that moves during an attack besides the connection
    /// under attack: the bystander's messages, report channels, the
    /// attacker's 16 KiB read buffer, the runtime's task and timer
    /// allocations.
    pub const SCAFFOLDING: usize = 128 * 1024;
}

/// The most one attacked connection may add to the heap under `config`:
///
/// - receiving: a frame up to `max_frame_size` in the read buffer plus one
///   read, doubled for `BytesMut`'s growth by doubling, but never less than
///   the empty buffer kept between frames;
/// - reassembly (or inflation): `max_message_size`, doubled for growth;
/// - sending: `send_queue_limit` plus one message (a message is accepted
///   while the queue is below the limit) plus the transmit batch;
/// - the handshake: `max_head_bytes` twice (the buffer and the parsed
///   header map) plus its read buffer;
/// - permessage-deflate state when `deflate`;
/// - the test's own scaffolding.
#[must_use]
pub fn allowance(config: &Config, deflate: bool) -> usize {
    let recv = (2 * (config.max_frame_size() + fixed::READ_CHUNK)).max(fixed::KEEP_CAPACITY);
    let message = 2 * config.max_message_size();
    let send = config.send_queue_limit() + config.max_message_size() + fixed::TRANSMIT_BATCH;
    let handshake = 2 * config.handshake_limits().max_head_bytes + fixed::HEAD_READ;
    let deflate = if deflate { fixed::DEFLATE_STATE } else { 0 };
    recv + message + send + handshake + deflate + fixed::SCAFFOLDING
}
