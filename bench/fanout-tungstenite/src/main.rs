//! A fan-out server on tokio-tungstenite as a user writes one: every
//! connection's write half in a shared list; each text or binary message
//! received is sent to every connection in turn (`send` of a clone, which
//! writes and flushes), on one tokio thread.
//!
//! `fanout-tungstenite [--addr 127.0.0.1:0]` prints `listening on ws://ADDR`.
use std::sync::Arc;

use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

type Sinks = Arc<Mutex<Vec<SplitSink<WebSocketStream<TcpStream>, Message>>>>;

fn main() -> std::io::Result<()> {
    let sinks: Sinks = Arc::default();
    wsbench::serve(move |stream| serve(stream, sinks.clone()))
}

async fn serve(stream: TcpStream, sinks: Sinks) {
    let Ok(ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let (write, mut read) = ws.split();
    sinks.lock().await.push(write);
    while let Some(Ok(message)) = read.next().await {
        if !(message.is_text() || message.is_binary()) {
            continue;
        }
        let mut all = sinks.lock().await;
        let mut i = 0;
        while i < all.len() {
            if all[i].send(message.clone()).await.is_err() {
                drop(all.swap_remove(i));
            } else {
                i += 1;
            }
        }
    }
}
