//! Delivery latency across nodes: one publisher on one `broadcast_server`
//! node, one subscriber on each node given (the publisher's own included),
//! all in this process so that one clock times both ends.
//!
//! ```text
//! crossnode --pub 127.0.0.1:PORT --sub 127.0.0.1:A,127.0.0.1:B [--path /topic/lat]
//!           [--messages 2000] [--interval-us 500] [--size 100]
//! ```
//!
//! Sends `--messages` text messages `--interval-us` apart (so that queueing
//! does not dominate) after a warm-up that waits until every subscriber
//! gets a probe, and prints for each subscriber `RESULT sub=ADDR p50_us=…
//! p99_us=… received=…`, the time from the write of a message to the
//! arrival of its whole frame.
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;
use wsbench::{arg, connect_to, num_arg, parse_header, push_header};

const OP_TEXT: u8 = 0x1;

/// A masked text frame `seq:N` padded to `size` bytes.
fn frame(seq: u64, size: usize) -> Vec<u8> {
    let mut payload = format!("{seq}:").into_bytes();
    payload.resize(size.max(payload.len()), b'.');
    let mask = [9, 8, 7, 6];
    let mut out = Vec::new();
    push_header(&mut out, OP_TEXT, false, payload.len(), Some(mask));
    out.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m));
    out
}

/// Records (sequence number, arrival) of every message on `stream`.
async fn receive(
    mut stream: tokio::net::TcpStream,
    mut buf: Vec<u8>,
    arrivals: Rc<RefCell<Vec<(u64, Instant)>>>,
    notify: Rc<Notify>,
) {
    let mut filled = buf.len();
    buf.resize(64 * 1024, 0);
    loop {
        let mut at = 0;
        while let Some(header) = parse_header(&buf[at..filled]) {
            let end = at + header.len + header.payload;
            if end > filled {
                break;
            }
            let payload = &buf[at + header.len..end];
            let seq = payload
                .split(|b| *b == b':')
                .next()
                .and_then(|s| std::str::from_utf8(s).ok()?.parse().ok());
            if let Some(seq) = seq {
                arrivals.borrow_mut().push((seq, Instant::now()));
                notify.notify_one();
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

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index].as_secs_f64() * 1e6
}

fn main() {
    let publisher_addr = arg("pub").expect("--pub HOST:PORT");
    let subscribers: Vec<String> = arg("sub")
        .expect("--sub HOST:PORT[,HOST:PORT…]")
        .split(',')
        .map(str::to_owned)
        .collect();
    let path = arg("path").unwrap_or_else(|| "/topic/lat".to_owned());
    let messages: u64 = num_arg("messages", 2000);
    let interval = Duration::from_micros(num_arg("interval-us", 500));
    let size: usize = num_arg("size", 100);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let notify = Rc::new(Notify::new());
        let mut inboxes = Vec::new();
        for addr in &subscribers {
            let (stream, upgraded) = connect_to(addr, &path, "").await.expect("subscriber");
            let arrivals = Rc::new(RefCell::new(Vec::new()));
            tokio::task::spawn_local(receive(
                stream,
                upgraded.leftover,
                arrivals.clone(),
                notify.clone(),
            ));
            inboxes.push(arrivals);
        }
        let (mut publisher, _) = connect_to(&publisher_addr, &path, "")
            .await
            .expect("publisher");
        // Warm-up: probes (sequence 0) until every subscriber has one, so
        // that every node's subscription is in place.
        while inboxes.iter().any(|inbox| inbox.borrow().is_empty()) {
            publisher.write_all(&frame(0, size)).await.expect("write");
            let _ = tokio::time::timeout(Duration::from_millis(50), notify.notified()).await;
        }
        let mut sent = vec![None; messages as usize + 1];
        let mut ticker = tokio::time::interval(interval);
        for seq in 1..=messages {
            ticker.tick().await;
            let bytes = frame(seq, size);
            sent[seq as usize] = Some(Instant::now());
            publisher.write_all(&bytes).await.expect("write");
        }
        // Let the last ones arrive (bounded).
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline
            && inboxes
                .iter()
                .any(|i| !i.borrow().iter().any(|(s, _)| *s == messages))
        {
            let _ = tokio::time::timeout(Duration::from_millis(50), notify.notified()).await;
        }
        for (addr, inbox) in subscribers.iter().zip(&inboxes) {
            let mut latencies: Vec<Duration> = inbox
                .borrow()
                .iter()
                .filter_map(|(seq, at)| Some(at.duration_since((*sent.get(*seq as usize)?)?)))
                .collect();
            latencies.sort();
            println!(
                "RESULT sub={addr} received={} p50_us={:.0} p99_us={:.0}",
                latencies.len(),
                percentile(&latencies, 0.50),
                percentile(&latencies, 0.99)
            );
        }
        std::process::exit(0);
    });
}
