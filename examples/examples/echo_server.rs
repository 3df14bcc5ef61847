//! Echoes every text and binary message, with permessage-deflate.
//!
//! `cargo run -p examples --example echo_server -- --addr 127.0.0.1:9002 [--runtime tokio|async-std]`
use examples::{Args, RuntimeChoice, async_std_unavailable, conformance_config, fail};
use ws_tokio::Acceptor;

fn main() {
    let args = Args::parse().unwrap_or_else(|e| fail(&e));
    let addr = args.get("addr").unwrap_or("127.0.0.1:9002").to_owned();
    match args.runtime().unwrap_or_else(|e| fail(&e)) {
        RuntimeChoice::Tokio => {}
        RuntimeChoice::AsyncStd => async_std_unavailable(),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(&format!("cannot start tokio: {e}")));
    runtime.block_on(serve(&addr));
}

async fn serve(addr: &str) {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .unwrap_or_else(|e| fail(&format!("cannot listen on {addr}: {e}")));
    let local = listener
        .local_addr()
        .map_or_else(|_| addr.to_owned(), |a| a.to_string());
    println!("echo_server (tokio) listening on ws://{local}");
    let acceptor = Acceptor::new().config(conformance_config());
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let Ok((mut ws, _)) = acceptor
                .accept_tcp(tcp, |_| ws_tokio::Decision::accept())
                .await
            else {
                return;
            };
            while let Ok(message) = ws.recv().await {
                if ws.send_message(message).await.is_err() {
                    break;
                }
            }
        });
    }
}
