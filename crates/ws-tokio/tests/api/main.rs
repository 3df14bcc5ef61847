//! The tokio adapter's own API tests, in one binary: what only tokio's
//! socket API, clock or features can show. The session's behaviour is
//! tested once for every runtime in `tests/scenarios`.
//!
//! - `switcher`: code written as a tokio-tungstenite user writes it;
//! - `accept_loop`: the accept loop under a low descriptor limit, and its
//!   pauses on a virtual clock;
//! - `connect_timeout`, `sockets` (TCP options, TLS session resumption),
//!   `tracing` (with `--features tracing`).

mod accept_loop;
mod connect_timeout;
mod sockets;
mod switcher;
#[cfg(feature = "tracing")]
mod tracing;

use std::future::Future;
use std::time::Duration;

/// Every await here is bounded: a hang is a failure, not a stuck run.
async fn within<F: Future>(seconds: u64, future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(seconds), future)
        .await
        .unwrap_or_else(|_| panic!("timed out after {seconds} s"))
}

/// A listener on 127.0.0.1, port 0, and its `ws://` base URL.
async fn listen() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    (listener, url)
}
