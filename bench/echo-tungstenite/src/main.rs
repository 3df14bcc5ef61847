//! An echo server on tokio-tungstenite, written as its `echo-server` example
//! does (split + forward of text and binary messages), on one tokio thread.
//!
//! `echo-tungstenite [--addr 127.0.0.1:0] [--tls-cert FILE --tls-key FILE]`
//! prints `listening on ws://ADDR`.
use futures_util::{StreamExt, TryStreamExt, future};
use tokio::io::{AsyncRead, AsyncWrite};

fn main() -> std::io::Result<()> {
    match wsbench::tls::acceptor_from_args() {
        // --tls-cert/--tls-key: tokio-tungstenite over tokio-rustls.
        Some(acceptor) => wsbench::tls::serve(acceptor, echo),
        None => wsbench::serve(echo),
    }
}

async fn echo<S: AsyncRead + AsyncWrite + Unpin>(stream: S) {
    let Ok(ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let (write, read) = ws.split();
    let _ = read
        .try_filter(|msg| future::ready(msg.is_text() || msg.is_binary()))
        .forward(write)
        .await;
}
