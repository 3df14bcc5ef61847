//! The fan-out generator: N raw-TCP WebSocket connections to a fan-out
//! server, all subscribed; the first one also publishes, keeping at most
//! `--window` of its messages in flight (published, not yet come back to
//! itself). Counts every message delivered to every connection.
//!
//! ```text
//! fanout --addr 127.0.0.1:PORT [--path /topic/bench] [--conns 1000] [--size 100]
//!        [--window 8] [--deflate off|shared|takeover] [--warmup 1] [--duration 2]
//!        [--server-pid PID]
//! ```
//!
//! `--deflate shared` offers permessage-deflate without context takeover
//! (a server may compress once for all), `takeover` with server context
//! takeover (each connection compresses for itself). Prints one line,
//! `RESULT conns=… published=… delivered=… delivered_per_s=…
//! complete=… server_cpu_s=… delivered_per_server_cpu_s=… gen_cpu_util=…
//! deflate=…`, over the measured interval; `complete` is delivered ÷
//! (published × conns), below 1 when the server skipped messages for
//! slow connections or deliveries were still under way at the end.
use std::cell::Cell;
use std::fmt::Write as _;
use std::rc::Rc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;
use wsbench::{DEFLATE_OFFER, arg, connect_to, num_arg, parse_header, process_cpu, push_header};

const OP_TEXT: u8 = 0x1;

#[derive(Default)]
struct Counts {
    delivered: Cell<u64>,
    published: Cell<u64>,
    /// The publisher's own copies received.
    echoed: Cell<u64>,
    echo: Notify,
}

/// Counts whole messages arriving on `stream` until it ends.
async fn count(
    mut stream: tokio::net::tcp::OwnedReadHalf,
    mut buf: Vec<u8>,
    counts: Rc<Counts>,
    publisher: bool,
) {
    let mut filled = buf.len();
    buf.resize(64 * 1024, 0);
    loop {
        let mut at = 0;
        while let Some(header) = parse_header(&buf[at..filled]) {
            let end = at + header.len + header.payload;
            if end > filled {
                if end - at > buf.len() {
                    buf.resize(end - at, 0);
                }
                break;
            }
            if header.fin && header.opcode <= 2 {
                counts.delivered.set(counts.delivered.get() + 1);
                if publisher {
                    counts.echoed.set(counts.echoed.get() + 1);
                    counts.echo.notify_one();
                }
            }
            at = end;
        }
        buf.copy_within(at..filled, 0);
        filled -= at;
        match stream.read(&mut buf[filled..]).await {
            Ok(0) | Err(_) => return,
            Ok(n) => filled += n,
        }
    }
}

/// A compressible text message of `size` bytes (JSON-like, as a price feed).
fn message(size: usize) -> Vec<u8> {
    let mut text = String::new();
    let mut i = 0u64;
    while text.len() < size {
        let _ = write!(
            text,
            "{{\"symbol\":\"SYM{}\",\"price\":{}.{:02},\"qty\":{}}},",
            i % 50,
            100 + i % 7,
            i % 100,
            i % 13
        );
        i += 1;
    }
    text.truncate(size);
    text.into_bytes()
}

fn main() {
    let addr = arg("addr").expect("--addr HOST:PORT");
    let path = arg("path").unwrap_or_else(|| "/topic/bench".to_owned());
    let conns: usize = num_arg("conns", 1000);
    let size: usize = num_arg("size", 100);
    let window: u64 = num_arg("window", 8);
    let warmup = Duration::from_secs_f64(num_arg("warmup", 1.0));
    let duration = Duration::from_secs_f64(num_arg("duration", 2.0));
    let server_pid: Option<u32> = arg("server-pid").and_then(|p| p.parse().ok());
    let deflate = arg("deflate").unwrap_or_else(|| "off".to_owned());
    let offer = match deflate.as_str() {
        "off" => String::new(),
        "shared" => DEFLATE_OFFER.to_owned(),
        "takeover" => "permessage-deflate; client_no_context_takeover".to_owned(),
        other => panic!("--deflate off|shared|takeover, not {other}"),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let counts = Rc::new(Counts::default());
        let mut publisher = None;
        let mut negotiated = false;
        for i in 0..conns {
            let (stream, upgraded) = connect_retrying(&addr, &path, &offer)
                .await
                .unwrap_or_else(|e| panic!("connection {i}: {e}"));
            negotiated = upgraded.deflate;
            let (read, write) = stream.into_split();
            tokio::task::spawn_local(count(read, upgraded.leftover, counts.clone(), i == 0));
            if i == 0 {
                publisher = Some(write);
            } else {
                std::mem::forget(write); // kept open, never written
            }
        }
        let mut publisher = publisher.expect("one connection at least");
        let payload = message(size);
        let mut frame = Vec::new();
        push_header(&mut frame, OP_TEXT, false, payload.len(), Some([1, 2, 3, 4]));
        frame.extend(payload.iter().zip([1u8, 2, 3, 4].iter().cycle()).map(|(b, m)| b ^ m));
        let publish = {
            let counts = counts.clone();
            tokio::task::spawn_local(async move {
                loop {
                    while counts.published.get() - counts.echoed.get() >= window {
                        counts.echo.notified().await;
                    }
                    if publisher.write_all(&frame).await.is_err() {
                        return;
                    }
                    counts.published.set(counts.published.get() + 1);
                }
            })
        };
        tokio::time::sleep(warmup).await;
        let snapshot = |counts: &Counts| (counts.published.get(), counts.delivered.get(), Instant::now(), server_pid.and_then(process_cpu), cpu_self(), server_pid.and_then(user_sys_ticks));
        let (p0, d0, t0, s0, g0, k0) = snapshot(&counts);
        tokio::time::sleep(duration).await;
        let (p1, d1, t1, s1, g1, k1) = snapshot(&counts);
        // The kernel's share of the server's CPU (utime/stime ticks).
        let kernel_share = match (k0, k1) {
            (Some((u0, s0)), Some((u1, s1))) => (s1 - s0) as f64 / ((u1 - u0) + (s1 - s0)).max(1) as f64,
            _ => f64::NAN,
        };
        publish.abort();
        let elapsed = (t1 - t0).as_secs_f64();
        let delivered = d1 - d0;
        let sent = p1 - p0;
        let server_cpu = match (s0, s1) {
            (Some(a), Some(b)) => b.saturating_sub(a).as_secs_f64(),
            _ => f64::NAN,
        };
        println!(
            "RESULT conns={conns} size={size} published={sent} delivered={delivered} delivered_per_s={:.0} complete={:.3} server_cpu_s={server_cpu:.3} delivered_per_server_cpu_s={:.0} server_kernel_share={kernel_share:.2} gen_cpu_util={:.2} deflate={}",
            delivered as f64 / elapsed,
            delivered as f64 / (sent as f64 * conns as f64).max(1.0),
            delivered as f64 / server_cpu,
            g1.saturating_sub(g0).as_secs_f64() / elapsed,
            if negotiated { deflate.as_str() } else { "off" },
        );
        std::process::exit(0);
    });
}

/// Connects, trying again a few times (a server just started, or a
/// listen backlog overflowing while thousands connect).
async fn connect_retrying(
    addr: &str,
    path: &str,
    offer: &str,
) -> Result<(tokio::net::TcpStream, wsbench::Upgraded), String> {
    let mut tries = 0;
    loop {
        match connect_to(addr, path, offer).await {
            Ok(done) => return Ok(done),
            Err(e) if tries == 20 => return Err(e),
            Err(_) => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// A process's user and system CPU ticks (`/proc/PID/stat` fields 14, 15).
fn user_sys_ticks(pid: u32) -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    Some((fields.get(11)?.parse().ok()?, fields.get(12)?.parse().ok()?))
}

/// This process's CPU time.
fn cpu_self() -> Duration {
    process_cpu(std::process::id()).unwrap_or_default()
}
