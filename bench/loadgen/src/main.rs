//! The load generator: N raw-TCP WebSocket connections to an echo server,
//! each sending pre-built masked frames and checking every echo byte for
//! byte, in request/response mode (`--window 1`) or pipelined with up to
//! `--window` messages in flight per connection.
//!
//! ```text
//! loadgen --addr 127.0.0.1:PORT [--conns 16] [--size 1024] [--window 1]
//!         [--warmup 1] [--duration 3] [--server-pid PID] [--deflate]
//!         [--messages N] [--deflate-takeover] [--tls-ca CERT.pem]
//! ```
//!
//! `--messages N` replaces the timed run: no warm-up, each connection
//! sends N / conns messages and the run ends when every echo is back (for
//! instruction counts of a server under callgrind, which take a known
//! number of messages). `--deflate` offers permessage-deflate without
//! context takeover and sends JSON-like text; `--deflate-takeover` offers
//! only `client_no_context_takeover` (the server may keep its context). The
//! result's `wire_ratio` is the echoes' payload bytes (compressed, when the
//! server compresses) over the messages' bytes. `--tls-ca` connects over
//! TLS (rustls, `TLS13_AES_128_GCM_SHA256`, trusting that certificate for
//! `localhost`) and sends in batches of `--window` messages.
//!
//! Prints one line, `RESULT msgs=… msgs_per_s=… mb_per_s=… p50_us=…
//! p99_us=… server_cpu_us_per_msg=… gen_cpu_util=… deflate=…`, where MB/s
//! counts echoed payload bytes (10^6) in one direction, latency is from the
//! write of a message to the arrival of its whole echo, and server CPU is
//! the server process's scheduler time over the measured interval divided by
//! the messages echoed in it. Exits with status 1 on any wrong echo.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io::ErrorKind;
use std::rc::Rc;
use std::time::{Duration, Instant};

// The JSON-like text of wsproto-core's deflate benches (one source file).
#[path = "../../../crates/wsproto-core/benches/support/json.rs"]
mod json;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use tokio::io::Interest;
use tokio::net::TcpStream;
use wsbench::{
    OP_BINARY, arg, connect_to, flag, num_arg, parse_header, process_cpu, push_header, push_masked,
};

/// The distinct messages one connection cycles through, laid out twice in a
/// row so that any run of up to `count` consecutive messages is one slice.
struct Prebuilt {
    /// Expected echo payload of message `i % count`.
    plain: Vec<Vec<u8>>,
    /// Masked frames, twice over.
    wire: Vec<u8>,
    /// `starts[i]..starts[i + 1]` is frame `i` in `wire` (`i < 2 * count`).
    starts: Vec<usize>,
}

impl Prebuilt {
    fn new(count: usize, size: usize, deflate: bool) -> Prebuilt {
        let plain: Vec<Vec<u8>> = (0..count).map(|i| payload(i, size, deflate)).collect();
        let mut wire = Vec::new();
        let mut starts = vec![0];
        for round in 0..2 {
            for (i, p) in plain.iter().enumerate() {
                let mask =
                    (((round * count + i) as u32).wrapping_mul(0x9e37_79b9) | 1).to_be_bytes();
                if deflate {
                    let packed = deflate_raw(p);
                    push_header(&mut wire, OP_BINARY, true, packed.len(), Some(mask));
                    push_masked(&mut wire, &packed, mask);
                } else {
                    push_header(&mut wire, OP_BINARY, false, p.len(), Some(mask));
                    push_masked(&mut wire, p, mask);
                }
                starts.push(wire.len());
            }
        }
        Prebuilt {
            plain,
            wire,
            starts,
        }
    }

    fn count(&self) -> usize {
        self.plain.len()
    }

    /// The bytes of messages `first .. first + n` (ring positions).
    fn run(&self, first: usize, n: usize) -> &[u8] {
        &self.wire[self.starts[first]..self.starts[first + n]]
    }
}

/// Message `i`'s payload: varied binary bytes, or (for the deflate rows)
/// JSON-like records (ids, names, e-mail addresses, flags, numbers, tags,
/// timestamps) that differ per message.
fn payload(i: usize, size: usize, text: bool) -> Vec<u8> {
    if text {
        json::json(size, i as u64 + 1)
    } else {
        (0..size)
            .map(|j| ((j * 31 + i * 97 + j / 251) % 256) as u8)
            .collect()
    }
}

/// Raw deflate of one message without context (RFC 7692 §7.2.1: the
/// trailing `00 00 ff ff` removed).
fn deflate_raw(data: &[u8]) -> Vec<u8> {
    let mut c = Compress::new(Compression::fast(), false);
    let mut out = Vec::with_capacity(data.len() + 64);
    loop {
        let before = c.total_in() as usize;
        c.compress_vec(&data[before..], &mut out, FlushCompress::Sync)
            .expect("deflate");
        if c.total_in() as usize == data.len() && out.len() < out.capacity() {
            break;
        }
        out.reserve(out.capacity());
    }
    assert!(out.ends_with(&[0, 0, 0xff, 0xff]), "sync flush marker");
    out.truncate(out.len() - 4);
    out
}

/// Inflates one message with `d` (a new window per message unless the
/// server keeps its context, `takeover`).
fn inflate_raw(
    d: &mut Decompress,
    takeover: bool,
    data: &[u8],
    limit: usize,
) -> Result<Vec<u8>, String> {
    if !takeover {
        d.reset(false);
    }
    let mut input = data.to_vec();
    input.extend_from_slice(&[0, 0, 0xff, 0xff]);
    let mut out = Vec::with_capacity(limit + 64);
    let before = d.total_in();
    d.decompress_vec(&input, &mut out, FlushDecompress::Sync)
        .map_err(|e| format!("inflate: {e}"))?;
    if d.total_in() - before != input.len() as u64 {
        return Err("inflate: output larger than the message".to_owned());
    }
    Ok(out)
}

#[derive(Clone, Copy, PartialEq, Eq, Default)]
enum Phase {
    #[default]
    Warmup,
    Measure,
    Done,
}

#[derive(Default)]
struct Shared {
    phase: Cell<Phase>,
    msgs: Cell<u64>,
    /// Payload bytes of the echoes as they arrived (compressed or not).
    wire_bytes: Cell<u64>,
    latencies_ns: RefCell<Vec<u64>>,
}

impl Shared {
    fn record(&self, sent: Instant, now: Instant, wire: usize) {
        if self.phase.get() == Phase::Measure {
            self.msgs.set(self.msgs.get() + 1);
            self.wire_bytes.set(self.wire_bytes.get() + wire as u64);
            self.latencies_ns
                .borrow_mut()
                .push(now.duration_since(sent).as_nanos() as u64);
        }
    }
}

/// Drives one connection until the run ends. Writes and reads are
/// non-blocking and interleaved, so a large window never deadlocks.
async fn drive(
    stream: TcpStream,
    leftover: Vec<u8>,
    mut echoes: Echoes,
    window: usize,
    quota: Option<usize>,
    shared: Rc<Shared>,
) -> Result<(), String> {
    let mut unsent = quota.unwrap_or(usize::MAX);
    let frames = echoes.frames.clone();
    let count = frames.count();
    let size = frames.plain[0].len();
    let mut next_send = 0usize;
    let mut sent_at: VecDeque<Instant> = VecDeque::with_capacity(window);
    // The batch being written: `frames.run(first, n)[written..]`.
    let mut batch: Option<(usize, usize, usize)> = None;
    let mut filled = leftover.len();
    let mut rbuf = wsbench::RecvBuf::new(&leftover, size + 64 * 1024);
    loop {
        if shared.phase.get() == Phase::Done || (unsent == 0 && sent_at.is_empty()) {
            return Ok(());
        }
        if batch.is_none() && sent_at.len() < window && unsent > 0 {
            let n = (window - sent_at.len()).min(unsent);
            unsent -= n;
            let now = Instant::now();
            sent_at.extend(std::iter::repeat_n(now, n));
            batch = Some((next_send, n, 0));
            next_send = (next_send + n) % count;
        }
        let mut interest = Interest::READABLE;
        if let Some((first, n, written)) = &mut batch {
            let bytes = &frames.run(*first, *n)[*written..];
            match stream.try_write(bytes) {
                Ok(k) => {
                    *written += k;
                    if *written == frames.run(*first, *n).len() {
                        batch = None;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => return Err(format!("write: {e}")),
            }
            // Still bytes to write: wake on writability too (at once, if
            // the socket took the last write without blocking).
            if batch.is_some() {
                interest |= Interest::WRITABLE;
            }
        }
        match stream.try_read(&mut rbuf[filled..]) {
            Ok(0) => return Err("the server closed the connection".to_owned()),
            Ok(k) => filled += k,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if batch.is_none() && sent_at.len() < window && unsent > 0 {
                    continue;
                }
                stream
                    .ready(interest)
                    .await
                    .map_err(|e| format!("poll: {e}"))?;
                continue;
            }
            Err(e) => return Err(format!("read: {e}")),
        }
        // Check every complete echo in the buffer.
        echoes.take(&mut rbuf, &mut filled, &mut sent_at, &shared)?;
    }
}

/// Checks echoes against what was sent, in order.
struct Echoes {
    frames: Rc<Prebuilt>,
    next_expect: usize,
    deflate: bool,
    takeover: bool,
    inflater: Decompress,
}

impl Echoes {
    fn new(frames: Rc<Prebuilt>, deflate: bool, takeover: bool) -> Self {
        Echoes {
            frames,
            next_expect: 0,
            deflate,
            takeover,
            inflater: Decompress::new(false),
        }
    }

    /// Takes every complete echo in `rbuf[..*filled]` (checked byte for
    /// byte, each matched with its send time), then moves the rest to the
    /// front; grows `rbuf` for a frame that does not fit.
    fn take(
        &mut self,
        rbuf: &mut wsbench::RecvBuf,
        filled: &mut usize,
        sent_at: &mut VecDeque<Instant>,
        shared: &Shared,
    ) -> Result<(), String> {
        let size = self.frames.plain[0].len();
        let mut consumed = 0;
        let now = Instant::now();
        while let Some(h) = parse_header(&rbuf[consumed..*filled]) {
            let end = consumed + h.len + h.payload;
            if end > *filled {
                if end > rbuf.len() {
                    rbuf.grow(end);
                }
                break;
            }
            if !h.fin || h.opcode != OP_BINARY || h.mask.is_some() {
                return Err(format!("unexpected frame {h:?}"));
            }
            let body = &rbuf[consumed + h.len..end];
            let expected = &self.frames.plain[self.next_expect];
            let ok = if h.rsv1 {
                self.deflate
                    && inflate_raw(&mut self.inflater, self.takeover, body, size)? == *expected
            } else {
                body == expected.as_slice()
            };
            if !ok {
                return Err(format!(
                    "wrong echo for message {} ({} bytes)",
                    self.next_expect, h.payload
                ));
            }
            let Some(sent) = sent_at.pop_front() else {
                return Err("an echo of a message never sent".to_owned());
            };
            shared.record(sent, now, h.payload);
            self.next_expect = (self.next_expect + 1) % self.frames.count();
            consumed = end;
        }
        if consumed > 0 {
            rbuf.copy_within(consumed..*filled, 0);
            *filled -= consumed;
        }
        Ok(())
    }
}

/// [`drive`] over TLS, in batches: writes up to `window` messages, then
/// reads until all their echoes are back.
async fn drive_tls(
    mut stream: wsbench::tls::client::TlsStream<TcpStream>,
    leftover: Vec<u8>,
    frames: Rc<Prebuilt>,
    window: usize,
    quota: Option<usize>,
    shared: Rc<Shared>,
) -> Result<(), String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let count = frames.count();
    let size = frames.plain[0].len();
    let mut unsent = quota.unwrap_or(usize::MAX);
    let mut next_send = 0;
    let mut sent_at: VecDeque<Instant> = VecDeque::with_capacity(window);
    let mut filled = leftover.len();
    let mut rbuf = wsbench::RecvBuf::new(&leftover, size + 64 * 1024);
    let mut echoes = Echoes::new(frames.clone(), false, false);
    while shared.phase.get() != Phase::Done && unsent > 0 {
        let n = window.min(unsent);
        unsent -= n;
        sent_at.extend(std::iter::repeat_n(Instant::now(), n));
        stream
            .write_all(frames.run(next_send, n))
            .await
            .map_err(|e| format!("write: {e}"))?;
        next_send = (next_send + n) % count;
        loop {
            echoes.take(&mut rbuf, &mut filled, &mut sent_at, &shared)?;
            if sent_at.is_empty() {
                break;
            }
            let k = stream
                .read(&mut rbuf[filled..])
                .await
                .map_err(|e| format!("read: {e}"))?;
            if k == 0 {
                return Err("the server closed the connection".to_owned());
            }
            filled += k;
        }
    }
    Ok(())
}

/// wss: connects `conns` times over rustls, then drives each connection
/// in batches of `window` messages.
async fn spawn_tls(
    ca: &str,
    addr: &str,
    conns: usize,
    plain: &Rc<Prebuilt>,
    window: usize,
    quota: Option<usize>,
    shared: &Rc<Shared>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let connector = wsbench::tls::connector(ca);
    let mut upgraded = Vec::with_capacity(conns);
    for _ in 0..conns {
        let mut stream = wsbench::tls::connect(&connector, addr)
            .await
            .unwrap_or_else(|e| fail(&e));
        let up = wsbench::upgrade(&mut stream, addr, "/", "")
            .await
            .unwrap_or_else(|e| fail(&e));
        upgraded.push((stream, up));
    }
    upgraded
        .into_iter()
        .map(|(stream, up)| {
            let (frames, shared) = (plain.clone(), shared.clone());
            tokio::task::spawn_local(async move {
                if let Err(e) = drive_tls(stream, up.leftover, frames, window, quota, shared).await
                {
                    fail(&e);
                }
            })
        })
        .collect()
}

fn fail(e: &str) -> ! {
    eprintln!("error: {e}");
    std::process::exit(1)
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn main() {
    let addr = arg("addr").unwrap_or_else(|| {
        eprintln!("usage: loadgen --addr HOST:PORT [--conns N] [--size BYTES] [--window W] [--warmup S] [--duration S] [--server-pid PID] [--deflate | --deflate-takeover] [--messages N]");
        std::process::exit(2)
    });
    let conns: usize = num_arg("conns", 16);
    let size: usize = num_arg("size", 1024);
    let window: usize = num_arg::<usize>("window", 1).max(1);
    let warmup: f64 = num_arg("warmup", 1.0);
    let duration: f64 = num_arg("duration", 3.0);
    let server_pid: Option<u32> = arg("server-pid").and_then(|p| p.parse().ok());
    // --deflate-takeover: the server may keep its context (we offer only
    // client_no_context_takeover, so our pre-built frames stay valid).
    let takeover = flag("deflate-takeover");
    let deflate = flag("deflate") || takeover;
    let offer = match (deflate, takeover) {
        (_, true) => "permessage-deflate; client_no_context_takeover",
        (true, false) => wsbench::DEFLATE_OFFER,
        (false, false) => "",
    };
    let quota: Option<usize> = arg("messages")
        .and_then(|n| n.parse().ok())
        .map(|n: usize| n.div_ceil(conns));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        // Compressed rows cycle through at least 64 KiB of distinct
        // messages, so a 32 KiB window never holds an earlier copy of the
        // message being sent (which would flatter context takeover).
        let distinct = if deflate { (64 * 1024usize).div_ceil(size.max(1)) } else { 8 };
        let ring = window.max(distinct).max(8);
        let plain = Rc::new(Prebuilt::new(ring, size, false));
        let packed = if deflate { Some(Rc::new(Prebuilt::new(ring, size, true))) } else { None };
        let shared = Rc::new(Shared::default());
        // Connect and handshake all first (a few at a time), then start.
        let mut tasks = Vec::with_capacity(conns);
        let mut negotiated = false;
        if let Some(ca) = arg("tls-ca") {
            tasks = spawn_tls(&ca, &addr, conns, &plain, window, quota, &shared).await;        } else {
            let mut upgraded = Vec::with_capacity(conns);
            for _ in 0..conns {
                let (stream, up) = connect_to(&addr, "/", offer).await.unwrap_or_else(|e| fail(&e));
                upgraded.push((stream, up));
            }
            for (stream, up) in upgraded {
                negotiated |= up.deflate;
                let frames = match (&packed, up.deflate) {
                    (Some(p), true) => p.clone(),
                    _ => plain.clone(),
                };
                let shared = shared.clone();
                tasks.push(tokio::task::spawn_local(async move {
                    let echoes = Echoes::new(frames, up.deflate, takeover);
                    if let Err(e) = drive(stream, up.leftover, echoes, window, quota, shared).await {
                        fail(&e);
                    }
                }));
            }
        }
        let me = std::process::id();
        if quota.is_some() {
            // Counted from the first message to the last echo.
            shared.phase.set(Phase::Measure);
        } else {
            tokio::time::sleep(Duration::from_secs_f64(warmup)).await;
        }
        let (gen0, cpu0) = (process_cpu(me), server_pid.and_then(process_cpu));
        let t0 = Instant::now();
        shared.phase.set(Phase::Measure);
        if quota.is_some() {
            for t in tasks.drain(..) {
                let _ = t.await;
            }
        } else {
            tokio::time::sleep(Duration::from_secs_f64(duration)).await;
        }
        shared.phase.set(Phase::Done);
        let secs = t0.elapsed().as_secs_f64();
        let (gen1, cpu1) = (process_cpu(me), server_pid.and_then(process_cpu));
        let msgs = shared.msgs.get();
        let mut lat = shared.latencies_ns.take();
        lat.sort_unstable();
        let per_msg = |a: Option<Duration>, b: Option<Duration>| match (a, b) {
            (Some(a), Some(b)) if msgs > 0 => format!("{:.3}", b.saturating_sub(a).as_secs_f64() * 1e6 / msgs as f64),
            _ => "nan".to_owned(),
        };
        let gen_util = match (gen0, gen1) {
            (Some(a), Some(b)) => format!("{:.2}", b.saturating_sub(a).as_secs_f64() / secs),
            _ => "nan".to_owned(),
        };
        println!(
            "RESULT msgs={msgs} secs={secs:.3} msgs_per_s={:.0} mb_per_s={:.2} p50_us={:.1} p99_us={:.1} server_cpu_us_per_msg={} gen_cpu_util={gen_util} deflate={} wire_ratio={:.3}",
            msgs as f64 / secs,
            msgs as f64 * size as f64 / secs / 1e6,
            percentile(&lat, 0.50),
            percentile(&lat, 0.99),
            per_msg(cpu0, cpu1),
            u8::from(negotiated),
            shared.wire_bytes.get() as f64 / (msgs.max(1) * size as u64) as f64,
        );
        for t in tasks {
            t.abort();
        }
    });
}
