//! An echo server on yawc: hyper's HTTP/1.1 upgrade, permessage-deflate
//! accepted at level 1 (as ours compresses by default), every text and
//! binary frame sent back, current-thread runtime, `TCP_NODELAY`.
//!
//! `echo-yawc [--addr 127.0.0.1:0]` prints `listening on ws://ADDR`.
use futures_util::SinkExt;
use hyper::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use yawc::{CompressionLevel, OpCode, Options, WebSocket};

async fn handle_client(fut: yawc::UpgradeFut) -> yawc::Result<()> {
    let mut ws = fut.await?;
    loop {
        let frame = ws.next_frame().await?;
        match frame.opcode() {
            OpCode::Close => break,
            OpCode::Text | OpCode::Binary => ws.send(frame).await?,
            _ => {}
        }
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    wsbench::serve(|stream| async move {
        let io = hyper_util::rt::TokioIo::new(stream);
        let service = service_fn(|req: Request<Incoming>| async move {
            let options = Options::default()
                .with_compression_level(CompressionLevel::fast())
                .with_max_payload_read(64 << 20);
            let (response, fut) = WebSocket::upgrade_with_options(req, options)?;
            tokio::spawn(async move {
                let _ = handle_client(fut).await;
            });
            yawc::Result::Ok(response)
        });
        let _ = http1::Builder::new()
            .serve_connection(io, service)
            .with_upgrades()
            .await;
    })
}
