//! An axum app whose `/ws` route echoes every text and binary message,
//! over HTTP/1.1 (`Upgrade: websocket`) and HTTP/2 with prior knowledge
//! (h2c, RFC 8441 extended CONNECT) on the same plain TCP port, with
//! permessage-deflate. Prints the bound address; Ctrl-C stops it.
//!
//! ```text
//! cargo run -p examples-axum --example axum_echo -- --addr 127.0.0.1:9003 [--max-message-size BYTES]
//! ```
use std::sync::Arc;

use axum::routing::get;
use axum::{Extension, Router};
use clap::Parser;
use examples::{Limits, echo, echo_config, fail};
use ws_axum::WebSocketUpgrade;

/// Echo WebSocket server at /ws on HTTP/1.1 and h2c (axum).
#[derive(Debug, Parser)]
#[command(name = "axum_echo")]
struct Cli {
    /// Address to listen on (port 0: any free port).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:9003")]
    addr: String,
    #[command(flatten)]
    limits: Limits,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let config = echo_config(true, cli.limits);
    let app = Router::new()
        .route("/ws", get(upgrade).connect(upgrade))
        .layer(Extension(Arc::new(config)));
    let listener = tokio::net::TcpListener::bind(&cli.addr)
        .await
        .unwrap_or_else(|e| fail(&format!("cannot listen on {}: {e}", cli.addr)));
    let local = listener
        .local_addr()
        .unwrap_or_else(|e| fail(&format!("no local address: {e}")));
    println!("axum_echo listening on ws://{local}/ws (HTTP/1.1 upgrade and h2c prior knowledge)");
    // A simple graceful shutdown: stop accepting on Ctrl-C and let open
    // HTTP connections finish; running sessions end with the process
    // (each sends Close 1001 as it is dropped).
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        fail(&format!("server error: {e}"));
    }
}

async fn upgrade(ws: WebSocketUpgrade) -> axum::response::Response {
    ws.on_upgrade(|socket| async move { echo(&mut socket.into_session()).await })
}
