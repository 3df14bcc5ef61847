//! A quick loopback echo measurement against a running echo server:
//! `cargo run --release -p examples --example loopback_bench -- --url ws://127.0.0.1:9002 [--count N] [--size BYTES]`
//!
//! The write half sends `count` binary messages while the read half
//! counts the echoes; prints messages per second and MB/s.
use clap::Parser;
use examples::fail;
use ws_tokio::Message;

/// Sends `count` messages of `size` bytes to an echo server and times the
/// echoes.
#[derive(Debug, Parser)]
struct Cli {
    /// The echo server's URL.
    #[arg(long, default_value = "ws://127.0.0.1:9002")]
    url: String,
    /// How many messages.
    #[arg(long, default_value_t = 100_000)]
    count: usize,
    /// The size of each message, in bytes.
    #[arg(long, default_value_t = 16)]
    size: usize,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let Cli { url, count, size } = Cli::parse();
    let (ws, _) = ws_tokio::connect(&url)
        .await
        .unwrap_or_else(|e| fail(&e.to_string()));
    let (mut writer, mut reader) = ws.spawn_split();
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
    let _ = writer.close(None).await;
}
