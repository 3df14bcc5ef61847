//! Echo at `/` through an axum route with ours: `ws_axum::WebSocketUpgrade`
//! and the session's `recv` / `feed_message` (replies written with the next
//! read, as the root `echo_server` does), permessage-deflate offered like
//! `echo_server`'s.
//!
//! `echo-axum-ours [--addr 127.0.0.1:0]` prints `listening on ws://ADDR`.
use std::sync::Arc;

use axum::routing::get;
use axum::{Extension, Router};
use ws_axum::{Config, DeflateConfig, WebSocketUpgrade};

fn main() -> std::io::Result<()> {
    let config = Config::default()
        .with_max_message_size(64 << 20)
        .with_max_frame_size(64 << 20)
        .with_compression(DeflateConfig::default());
    let router = Router::new()
        .route("/", get(echo))
        .layer(Extension(Arc::new(config)));
    echo_axum::serve(router)
}

async fn echo(ws: WebSocketUpgrade) -> axum::response::Response {
    ws.on_upgrade(|mut socket| async move {
        while let Ok(message) = socket.recv().await {
            if socket.feed_message(message).await.is_err() {
                break;
            }
        }
    })
}
