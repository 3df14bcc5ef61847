//! A fan-out server on fastwebsockets as a user writes one: every
//! connection's write half (`WebSocket::split`) in a shared list; each text
//! or binary frame received is written to every connection in turn, on one
//! tokio thread, with `TCP_NODELAY`.
//!
//! `fanout-fastwebsockets [--addr 127.0.0.1:0]` prints `listening on ws://ADDR`.
use std::sync::Arc;

use fastwebsockets::{Frame, OpCode, Payload, WebSocketError, WebSocketWrite, upgrade};
use http_body_util::Empty;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::upgrade::Upgraded;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::WriteHalf;
use tokio::sync::Mutex;

type Writer = WebSocketWrite<WriteHalf<TokioIo<Upgraded>>>;
type Writers = Arc<Mutex<Vec<Writer>>>;

async fn handle_client(fut: upgrade::UpgradeFut, writers: Writers) -> Result<(), WebSocketError> {
    let ws = fut.await?;
    let (mut read, write) = ws.split(tokio::io::split);
    writers.lock().await.push(write);
    loop {
        // Control frames need no answer here (the generator sends none).
        let frame = read
            .read_frame(&mut |_| async { Ok::<(), WebSocketError>(()) })
            .await?;
        match frame.opcode {
            OpCode::Close => break,
            OpCode::Text | OpCode::Binary => {
                let payload = frame.payload.to_vec();
                let mut all = writers.lock().await;
                let mut i = 0;
                while i < all.len() {
                    let copy =
                        Frame::new(true, frame.opcode, None, Payload::Owned(payload.clone()));
                    if all[i].write_frame(copy).await.is_err() {
                        drop(all.swap_remove(i));
                    } else {
                        i += 1;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    let writers: Writers = Arc::default();
    wsbench::serve(move |stream| {
        let writers = writers.clone();
        async move {
            let io = TokioIo::new(stream);
            let service = service_fn(move |mut req: Request<Incoming>| {
                let writers = writers.clone();
                async move {
                    let (response, fut) = upgrade::upgrade(&mut req)?;
                    tokio::spawn(async move {
                        let _ = handle_client(fut, writers).await;
                    });
                    Ok::<Response<Empty<Bytes>>, WebSocketError>(response)
                }
            });
            let _ = http1::Builder::new()
                .serve_connection(io, service)
                .with_upgrades()
                .await;
        }
    })
}
