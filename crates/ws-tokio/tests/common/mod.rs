//! Shared test helpers: loopback listeners on port 0 and a bound on every
//! await.
#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use tokio::net::TcpListener;
use ws_tokio::{Acceptor, Decision};

/// Every await in these tests is bounded: a hang is a failure, not a stuck
/// run.
pub async fn within<F: Future>(seconds: u64, future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(seconds), future)
        .await
        .unwrap_or_else(|_| panic!("timed out after {seconds} s"))
}

/// A listener on 127.0.0.1, port 0, and its `ws://` base URL.
pub async fn listen() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    (listener, url)
}

/// An echo server for one connection at a time, until the test ends.
pub async fn echo_server(acceptor: Acceptor) -> String {
    let (listener, url) = listen().await;
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok((mut ws, _)) = acceptor.accept_tcp(tcp, |_| Decision::accept()).await else {
                    return;
                };
                while let Ok(message) = ws.recv().await {
                    if ws.send_message(message).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    url
}
