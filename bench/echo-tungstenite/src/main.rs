//! An echo server on tokio-tungstenite, written as its `echo-server` example
//! does (split + forward of text and binary messages), on one tokio thread.
//!
//! `echo-tungstenite [--addr 127.0.0.1:0]` prints `listening on ws://ADDR`.
use futures_util::{StreamExt, TryStreamExt, future};
use tokio::net::TcpStream;

fn main() -> std::io::Result<()> {
    wsbench::serve(echo)
}

async fn echo(stream: TcpStream) {
    let Ok(ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let (write, read) = ws.split();
    let _ = read
        .try_filter(|msg| future::ready(msg.is_text() || msg.is_binary()))
        .forward(write)
        .await;
}
