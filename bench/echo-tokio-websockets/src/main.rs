//! An echo server on tokio-websockets, written as its `echo_server` example
//! does (current-thread runtime, unconstrained task, unfragmented frames),
//! with `TCP_NODELAY`.
//!
//! `echo-tokio-websockets [--addr 127.0.0.1:0]` prints `listening on ws://ADDR`.
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_websockets::{Config, Limits, ServerBuilder};

fn main() -> std::io::Result<()> {
    wsbench::serve(|stream| tokio::task::unconstrained(echo(stream)))
}

async fn echo(stream: TcpStream) {
    let Ok((_request, mut ws)) = ServerBuilder::new()
        .config(Config::default().frame_size(usize::MAX))
        .limits(Limits::unlimited())
        .accept(stream)
        .await
    else {
        return;
    };
    while let Some(Ok(message)) = ws.next().await {
        if (message.is_text() || message.is_binary()) && ws.send(message).await.is_err() {
            break;
        }
    }
}
