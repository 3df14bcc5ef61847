//! Connects to a WebSocket URL, sends one line (from stdin, or "hello"),
//! prints the reply.
//!
//! `cargo run -p examples --example client -- ws://127.0.0.1:9002 [--text LINE]`
use clap::Parser;
use examples::{Limits, fail};
use ws_tokio::{Config, DeflateConfig, Message};

/// Sends one message and prints the reply.
#[derive(Debug, Parser)]
struct Cli {
    /// The server's URL (`ws://…` or `wss://…`).
    url: String,
    /// The text to send [default: a line from stdin, or "hello"].
    #[arg(long)]
    text: Option<String>,
    #[command(flatten)]
    limits: Limits,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let cli = Cli::parse();
    let line = cli.text.clone().unwrap_or_else(|| {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
        let line = line.trim_end().to_owned();
        if line.is_empty() {
            "hello".to_owned()
        } else {
            line
        }
    });
    let config = cli
        .limits
        .apply(Config::default().with_compression(DeflateConfig::default()));
    let (mut ws, response) = ws_tokio::Connector::new()
        .config(config)
        .connect(&cli.url)
        .await
        .unwrap_or_else(|e| fail(&format!("{e}")));
    eprintln!(
        "connected: {} (subprotocol {:?}, extensions {:?})",
        response.status(),
        response.subprotocol(),
        response.extensions()
    );
    if let Err(e) = ws.send_text(line).await {
        fail(&format!("send: {e}"));
    }
    match ws.recv().await {
        Ok(Message::Text(text)) => println!("{text}"),
        Ok(other) => println!("<{} bytes: {other:?}>", other.len()),
        Err(e) => fail(&format!("receive: {e}")),
    }
    let _ = ws.close(None).await;
}
