//! Echo at `/` through an axum route with axum's own `extract::ws`
//! (tokio-tungstenite), written as axum's websockets example does: text and
//! binary messages sent back, control messages left to it; the same limits
//! as ours (64 MiB).
//!
//! `echo-axum-ws [--addr 127.0.0.1:0]` prints `listening on ws://ADDR`.
use axum::Router;
use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::routing::get;

fn main() -> std::io::Result<()> {
    echo_axum::serve(Router::new().route("/", get(echo)))
}

async fn echo(ws: WebSocketUpgrade) -> axum::response::Response {
    ws.max_message_size(64 << 20)
        .max_frame_size(64 << 20)
        .on_upgrade(|mut socket| async move {
            while let Some(Ok(message)) = socket.recv().await {
                if matches!(message, Message::Text(_) | Message::Binary(_))
                    && socket.send(message).await.is_err()
                {
                    break;
                }
            }
        })
}
