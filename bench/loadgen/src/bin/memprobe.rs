//! Memory per idle connection: opens `--conns` WebSocket connections to an
//! echo server (handshake done, then silence) and reports the growth of the
//! server's resident set size divided by the number of connections.
//!
//! ```text
//! memprobe --addr 127.0.0.1:PORT --server-pid PID [--conns 5000] [--settle 1]
//! ```
//!
//! One connection is opened and used first, so one-time allocations (the
//! runtime's, the first task's) are not counted. Prints `RESULT conns=…
//! rss_before_kib=… rss_after_kib=… bytes_per_conn=…`.

use std::time::Duration;

use wsbench::{arg, connect, num_arg, rss_kib, warm_up};

fn main() {
    let (Some(addr), Some(pid)) = (
        arg("addr"),
        arg("server-pid").and_then(|p| p.parse::<u32>().ok()),
    ) else {
        eprintln!("usage: memprobe --addr HOST:PORT --server-pid PID [--conns N] [--settle S]");
        std::process::exit(2)
    };
    let conns: usize = num_arg("conns", 5000);
    let settle: f64 = num_arg("settle", 1.0);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    runtime.block_on(async move {
        let fail = |e: String| -> ! {
            eprintln!("error: {e}");
            std::process::exit(1)
        };
        let first = warm_up(&addr).await.unwrap_or_else(|e| fail(e));
        tokio::time::sleep(Duration::from_secs_f64(settle)).await;
        let before = rss_kib(pid).unwrap_or_else(|| fail(format!("no /proc/{pid}/status")));
        let mut open = Vec::with_capacity(conns);
        for _ in 0..conns {
            open.push(connect(&addr, false).await.unwrap_or_else(|e| fail(e)));
        }
        tokio::time::sleep(Duration::from_secs_f64(settle)).await;
        let after = rss_kib(pid).unwrap_or_else(|| fail(format!("no /proc/{pid}/status")));
        println!(
            "RESULT conns={conns} rss_before_kib={before} rss_after_kib={after} bytes_per_conn={:.0}",
            after.saturating_sub(before) as f64 * 1024.0 / conns as f64
        );
        drop(open);
        drop(first);
    });
}
