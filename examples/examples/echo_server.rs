//! Echoes every text and binary message, with permessage-deflate.
//!
//! ```text
//! cargo run -p examples --example echo_server -- --addr 127.0.0.1:9002
//!     [--runtime tokio|async-std|smol] [--threads N] [--compress on|off]
//! ```
//!
//! `--threads 1` runs tokio on its current-thread runtime (the benchmark's
//! setting, as the peers run); without it tokio's multi-thread runtime uses
//! one worker per core (`--threads N`: N workers). async-std and smol run
//! as they do by default. `--compress off` declines permessage-deflate.
//!
//! The same server on each runtime: tokio through `ws-tokio`, async-std and
//! smol through `ws-async-std`, each with its own listener, sockets and
//! task spawner.
use examples::{Args, RuntimeChoice, echo, echo_config, fail};
use ws_tokio::Decision;

fn main() {
    let args = Args::parse().unwrap_or_else(|e| fail(&e));
    let addr = args.get("addr").unwrap_or("127.0.0.1:9002").to_owned();
    let threads = args.threads().unwrap_or_else(|e| fail(&e));
    let config = echo_config(args.switch("compress", true).unwrap_or_else(|e| fail(&e)));
    match args.runtime().unwrap_or_else(|e| fail(&e)) {
        RuntimeChoice::Tokio => examples::tokio_runtime(threads)
            .unwrap_or_else(|e| fail(&format!("cannot start tokio: {e}")))
            .block_on(serve_tokio(&addr, config)),
        RuntimeChoice::AsyncStd => async_std::task::block_on(serve_async_std(&addr, config)),
        RuntimeChoice::Smol => smol::block_on(serve_smol(&addr, config)),
    }
}

fn listening(runtime: &str, local: std::io::Result<std::net::SocketAddr>, addr: &str) {
    let local = local.map_or_else(|_| addr.to_owned(), |a| a.to_string());
    println!("echo_server ({runtime}) listening on ws://{local}");
}

async fn serve_tokio(addr: &str, config: wsproto_core::Config) {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .unwrap_or_else(|e| fail(&format!("cannot listen on {addr}: {e}")));
    listening("tokio", listener.local_addr(), addr);
    let acceptor = ws_tokio::Acceptor::new().config(config);
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            // `let else`, not `if let`: the accepted request (headers and
            // all) is dropped here instead of living as long as the session.
            let Ok((mut ws, _)) = acceptor.accept_tcp(tcp, |_| Decision::accept()).await else {
                return;
            };
            echo(&mut ws).await;
        });
    }
}

async fn serve_async_std(addr: &str, config: wsproto_core::Config) {
    let listener = async_std::net::TcpListener::bind(addr)
        .await
        .unwrap_or_else(|e| fail(&format!("cannot listen on {addr}: {e}")));
    listening("async-std", listener.local_addr(), addr);
    let acceptor = ws_async_std::Acceptor::new().config(config).runtime(
        ws_async_std::AsyncIoRuntime::with_spawner(|task| {
            drop(async_std::task::spawn(task));
        }),
    );
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        drop(async_std::task::spawn(async move {
            // `let else`, not `if let`: the accepted request (headers and
            // all) is dropped here instead of living as long as the session.
            let Ok((mut ws, _)) = acceptor.accept_tcp(tcp, |_| Decision::accept()).await else {
                return;
            };
            echo(&mut ws).await;
        }));
    }
}

async fn serve_smol(addr: &str, config: wsproto_core::Config) {
    let listener = smol::net::TcpListener::bind(addr)
        .await
        .unwrap_or_else(|e| fail(&format!("cannot listen on {addr}: {e}")));
    listening("smol", listener.local_addr(), addr);
    let acceptor = ws_async_std::Acceptor::new().config(config);
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        smol::spawn(async move {
            // `let else`, not `if let`: the accepted request (headers and
            // all) is dropped here instead of living as long as the session.
            let Ok((mut ws, _)) = acceptor.accept_tcp(tcp, |_| Decision::accept()).await else {
                return;
            };
            echo(&mut ws).await;
        })
        .detach();
    }
}
