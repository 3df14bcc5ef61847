//! A quick loopback echo measurement against a running echo server:
//! `cargo run --release -p examples --example loopback_bench -- --url ws://127.0.0.1:9002 [--count N] [--size BYTES]`
//!
//! The writer half sends `count` binary messages while the reader half
//! counts the echoes; prints messages per second and MB/s.
use examples::{Args, fail};
use ws_tokio::{CloseCode, Message};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = Args::parse().unwrap_or_else(|e| fail(&e));
    let url = args.get("url").unwrap_or("ws://127.0.0.1:9002").to_owned();
    let count: usize = args
        .get("count")
        .map_or(Ok(100_000), str::parse)
        .unwrap_or_else(|_| fail("--count must be a number"));
    let size: usize = args
        .get("size")
        .map_or(Ok(16), str::parse)
        .unwrap_or_else(|_| fail("--size must be a number"));
    let (ws, _) = ws_tokio::connect(&url)
        .await
        .unwrap_or_else(|e| fail(&e.to_string()));
    let (mut reader, mut writer) = ws.split();
    let payload = ws_tokio::Bytes::from(vec![0x5a; size]);
    let started = tokio::time::Instant::now();
    let sending = tokio::spawn(async move {
        for _ in 0..count {
            writer
                .send_message(Message::Binary(payload.clone()))
                .await
                .unwrap_or_else(|e| fail(&e.to_string()));
        }
        writer
    });
    for _ in 0..count {
        reader.recv().await.unwrap_or_else(|e| fail(&e.to_string()));
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut writer = sending.await.unwrap_or_else(|e| fail(&e.to_string()));
    #[allow(clippy::cast_precision_loss)]
    let (rate, mbps) = (
        count as f64 / elapsed,
        (count * size) as f64 / elapsed / 1e6,
    );
    println!(
        "{count} messages of {size} bytes echoed in {elapsed:.3} s: {rate:.0} msg/s, {mbps:.1} MB/s each way"
    );
    let _ = writer.close(CloseCode::NORMAL, "").await;
}
