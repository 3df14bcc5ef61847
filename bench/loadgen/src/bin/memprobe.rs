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

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wsbench::{OP_BINARY, arg, connect, num_arg, parse_header, push_header, push_masked, rss_kib};

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
        // Warm the server up with one connection and one echo.
        let (mut first, up) = connect(&addr, false).await.unwrap_or_else(|e| fail(e));
        let mut frame = Vec::new();
        push_header(&mut frame, OP_BINARY, false, 5, Some([1, 2, 3, 4]));
        push_masked(&mut frame, b"hello", [1, 2, 3, 4]);
        first.write_all(&frame).await.unwrap_or_else(|e| fail(e.to_string()));
        let mut echo = up.leftover;
        while parse_header(&echo).is_none_or(|h| echo.len() < h.len + h.payload) {
            let mut chunk = [0u8; 64];
            let n = first.read(&mut chunk).await.unwrap_or_else(|e| fail(e.to_string()));
            if n == 0 {
                fail("the server closed the warm-up connection".to_owned());
            }
            echo.extend_from_slice(&chunk[..n]);
        }
        if echo[2..7] != *b"hello" {
            fail("wrong warm-up echo".to_owned());
        }
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
