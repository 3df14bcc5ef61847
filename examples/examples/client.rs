//! Connects to a WebSocket URL, sends one line (from stdin, or "hello"),
//! prints the reply.
//!
//! `cargo run -p examples --example client -- ws://127.0.0.1:9002 [--text LINE]`
use examples::{Args, conformance_config, fail};
use ws_tokio::{CloseCode, Message};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = Args::parse().unwrap_or_else(|e| fail(&e));
    let Some(url) = args.positional.first() else {
        fail("usage: client URL [--text LINE]");
    };
    let line = args.get("text").map_or_else(
        || {
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
            let line = line.trim_end().to_owned();
            if line.is_empty() {
                "hello".to_owned()
            } else {
                line
            }
        },
        str::to_owned,
    );
    let (mut ws, response) = ws_tokio::Connector::new()
        .config(conformance_config())
        .connect(url)
        .await
        .unwrap_or_else(|e| fail(&format!("{e}")));
    eprintln!(
        "connected: {} (subprotocol {:?}, extensions {:?})",
        response.response.status(),
        response.subprotocol,
        response.extensions
    );
    if let Err(e) = ws.send_text(line).await {
        fail(&format!("send: {e}"));
    }
    match ws.recv().await {
        Ok(Message::Text(text)) => println!("{text}"),
        Ok(Message::Binary(data)) => println!("<{} binary bytes>", data.len()),
        Err(e) => fail(&format!("receive: {e}")),
    }
    let _ = ws.close(CloseCode::NORMAL, "").await;
}
