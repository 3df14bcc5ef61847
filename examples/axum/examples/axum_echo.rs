//! An axum app whose `/ws` route echoes every text and binary message,
//! over HTTP/1.1 (`Upgrade: websocket`) and HTTP/2 with prior knowledge
//! (h2c, RFC 8441 extended CONNECT) on the same plain TCP port, with
//! permessage-deflate. Prints the bound address. At most
//! `--max-connections` sessions at once (beyond: 503 with `Retry-After`).
//! Ctrl-C shuts down gracefully: the HTTP server stops taking requests,
//! every session gets what was queued for it then Close 1001, and those
//! that have not answered within 5 s are dropped; the report is printed.
//!
//! ```text
//! cargo run -p examples-axum --example axum_echo -- --addr 127.0.0.1:9003 [--max-message-size BYTES] [--max-connections N]
//! ```
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::{Extension, Router};
use clap::Parser;
use examples::{Limits, echo, echo_config, fail};
use ws_axum::{ConnectionLimit, WebSocketUpgrade};

/// How long the close handshakes may take at shutdown.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(5);

/// Echo WebSocket server at /ws on HTTP/1.1 and h2c (axum).
#[derive(Debug, Parser)]
#[command(name = "axum_echo")]
struct Cli {
    /// Address to listen on (port 0: any free port).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:9003")]
    addr: String,
    #[command(flatten)]
    limits: Limits,
    /// Sessions served at once; beyond, upgrades are answered 503.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    max_connections: usize,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let config = echo_config(true, cli.limits);
    let shutdown = ws_axum::shutdown_handle();
    let app = Router::new()
        .route("/ws", get(upgrade).connect(upgrade))
        .layer(Extension(Arc::new(config)))
        .layer(Extension(ConnectionLimit::new(cli.max_connections)))
        .layer(Extension(shutdown.clone()));
    let listener = tokio::net::TcpListener::bind(&cli.addr)
        .await
        .unwrap_or_else(|e| fail(&format!("cannot listen on {}: {e}", cli.addr)));
    let local = listener
        .local_addr()
        .unwrap_or_else(|e| fail(&format!("no local address: {e}")));
    println!("axum_echo listening on ws://{local}/ws (HTTP/1.1 upgrade and h2c prior knowledge)");
    // Ctrl-C: our handle closes the upgraded sessions (which axum's
    // graceful shutdown does not track), and its signal stops axum.
    let closing = tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            let _ = tokio::signal::ctrl_c().await;
            shutdown.shutdown(SHUTDOWN_DEADLINE).await
        }
    });
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.signalled())
        .await
    {
        fail(&format!("server error: {e}"));
    }
    if let Ok(report) = closing.await {
        println!(
            "axum_echo shut down: {} sessions, {} closed cleanly, {} ended otherwise, {} dropped at the deadline",
            report.sessions, report.closed, report.ended, report.forced
        );
    }
}

async fn upgrade(ws: WebSocketUpgrade) -> axum::response::Response {
    ws.on_upgrade(|socket| async move { echo(&mut socket.into_session()).await })
}
