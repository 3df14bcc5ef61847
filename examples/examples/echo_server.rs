//! Echoes every text and binary message, with permessage-deflate.
//!
//! `cargo run -p examples --example echo_server -- --addr 127.0.0.1:9002 [--runtime tokio|async-std|smol]`
//!
//! The same server on each runtime: tokio through `ws-tokio`, async-std and
//! smol through `ws-async-std`, each with its own listener, sockets and
//! task spawner.
use examples::{Args, RuntimeChoice, conformance_config, echo, fail};
use ws_tokio::Decision;

fn main() {
    let args = Args::parse().unwrap_or_else(|e| fail(&e));
    let addr = args.get("addr").unwrap_or("127.0.0.1:9002").to_owned();
    match args.runtime().unwrap_or_else(|e| fail(&e)) {
        RuntimeChoice::Tokio => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| fail(&format!("cannot start tokio: {e}")))
            .block_on(serve_tokio(&addr)),
        RuntimeChoice::AsyncStd => async_std::task::block_on(serve_async_std(&addr)),
        RuntimeChoice::Smol => smol::block_on(serve_smol(&addr)),
    }
}

fn listening(runtime: &str, local: std::io::Result<std::net::SocketAddr>, addr: &str) {
    let local = local.map_or_else(|_| addr.to_owned(), |a| a.to_string());
    println!("echo_server ({runtime}) listening on ws://{local}");
}

async fn serve_tokio(addr: &str) {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .unwrap_or_else(|e| fail(&format!("cannot listen on {addr}: {e}")));
    listening("tokio", listener.local_addr(), addr);
    let acceptor = ws_tokio::Acceptor::new().config(conformance_config());
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            if let Ok((mut ws, _)) = acceptor.accept_tcp(tcp, |_| Decision::accept()).await {
                echo(&mut ws).await;
            }
        });
    }
}

async fn serve_async_std(addr: &str) {
    let listener = async_std::net::TcpListener::bind(addr)
        .await
        .unwrap_or_else(|e| fail(&format!("cannot listen on {addr}: {e}")));
    listening("async-std", listener.local_addr(), addr);
    let acceptor = ws_async_std::Acceptor::new()
        .config(conformance_config())
        .runtime(ws_async_std::AsyncIoRuntime::with_spawner(|task| {
            drop(async_std::task::spawn(task));
        }));
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        drop(async_std::task::spawn(async move {
            if let Ok((mut ws, _)) = acceptor.accept_tcp(tcp, |_| Decision::accept()).await {
                echo(&mut ws).await;
            }
        }));
    }
}

async fn serve_smol(addr: &str) {
    let listener = smol::net::TcpListener::bind(addr)
        .await
        .unwrap_or_else(|e| fail(&format!("cannot listen on {addr}: {e}")));
    listening("smol", listener.local_addr(), addr);
    let acceptor = ws_async_std::Acceptor::new().config(conformance_config());
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        smol::spawn(async move {
            if let Ok((mut ws, _)) = acceptor.accept_tcp(tcp, |_| Decision::accept()).await {
                echo(&mut ws).await;
            }
        })
        .detach();
    }
}
