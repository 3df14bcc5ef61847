//! An echo server on fastwebsockets, written as its `echo_server` example
//! does (hyper upgrade, `FragmentCollector`, current-thread runtime,
//! unconstrained task), with `TCP_NODELAY`.
//!
//! `echo-fastwebsockets [--addr 127.0.0.1:0] [--tls-cert FILE --tls-key
//! FILE]` prints `listening on ws://ADDR`.
use fastwebsockets::{FragmentCollector, OpCode, WebSocketError, upgrade};
use http_body_util::Empty;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};

async fn handle_client(fut: upgrade::UpgradeFut) -> Result<(), WebSocketError> {
    let mut ws = FragmentCollector::new(fut.await?);
    loop {
        let frame = ws.read_frame().await?;
        match frame.opcode {
            OpCode::Close => break,
            OpCode::Text | OpCode::Binary => ws.write_frame(frame).await?,
            _ => {}
        }
    }
    Ok(())
}

async fn server_upgrade(
    mut req: Request<Incoming>,
) -> Result<Response<Empty<Bytes>>, WebSocketError> {
    let (response, fut) = upgrade::upgrade(&mut req)?;
    tokio::spawn(async move {
        let _ = tokio::task::unconstrained(handle_client(fut)).await;
    });
    Ok(response)
}

fn main() -> std::io::Result<()> {
    match wsbench::tls::acceptor_from_args() {
        // --tls-cert/--tls-key: fastwebsockets over tokio-rustls.
        Some(acceptor) => wsbench::tls::serve(acceptor, connection),
        None => wsbench::serve(connection),
    }
}

async fn connection<S>(stream: S)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let io = hyper_util::rt::TokioIo::new(stream);
    let _ = http1::Builder::new()
        .serve_connection(io, service_fn(server_upgrade))
        .with_upgrades()
        .await;
}
