//! The parts of the heavier example programs that tests also run: the
//! echo server on each runtime, the mio event loop ([`event_loop`]) and
//! the `wss://` demo ([`tls_demo`]).

pub mod event_loop;
pub mod tls_demo;

pub use examples::tokio_runtime;

use std::net::SocketAddr;

use examples::echo;
use ws_session::Config;

/// The runtime a program runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RuntimeChoice {
    /// tokio (`ws-tokio`).
    Tokio,
    /// async-std's executor (`ws-async-std`).
    AsyncStd,
    /// smol's executor (`ws-async-std` too).
    Smol,
}

/// A flag's `on` or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Switch {
    /// On.
    On,
    /// Off.
    Off,
}

fn listening(runtime: &str, local: std::io::Result<SocketAddr>) {
    let local = local.map_or_else(|e| e.to_string(), |a| a.to_string());
    println!("echo_server ({runtime}) listening on ws://{local}");
}

/// Echoes on `addr` with tokio until the listener breaks.
///
/// # Errors
/// Binding or the listener failed.
pub async fn echo_tokio(
    addr: &str,
    config: Config,
    tls: Option<std::sync::Arc<rustls::ServerConfig>>,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    listening("tokio", listener.local_addr());
    let mut acceptor = ws_tokio::Acceptor::new().config(config);
    if let Some(tls) = tls {
        acceptor = acceptor.tls_config(tls);
    }
    ws_tokio::serve(listener, acceptor, |ws, _| {
        // Converted outside the async block: what the block captures stays
        // in its state for the whole session, beside anything made from it
        // (`ws.into_session()` inside kept both, 900 bytes more per idle
        // connection).
        let mut session = ws.into_session();
        async move { echo(&mut session).await }
    })
    .await
}

/// Echoes on `addr` with `ws-async-std` until the listener breaks: the
/// listener and sockets are async-net's (they run on any executor), each
/// connection's task on `runtime`'s spawner.
///
/// # Errors
/// Binding or the listener failed.
pub async fn echo_async_io(
    label: &str,
    addr: &str,
    config: Config,
    runtime: ws_async_std::AsyncIoRuntime,
) -> std::io::Result<()> {
    let listener = ws_async_std::TcpListener::bind(addr).await?;
    listening(label, listener.local_addr());
    let acceptor = ws_async_std::Acceptor::new()
        .config(config)
        .runtime(runtime);
    ws_async_std::serve(listener, acceptor, |ws, _| {
        // Converted outside the async block: what the block captures stays
        // in its state for the whole session, beside anything made from it
        // (`ws.into_session()` inside kept both, 900 bytes more per idle
        // connection).
        let mut session = ws.into_session();
        async move { echo(&mut session).await }
    })
    .await
}

/// `ws-async-std`'s runtime with connections on async-std's executor.
#[must_use]
pub fn async_std_runtime() -> ws_async_std::AsyncIoRuntime {
    ws_async_std::AsyncIoRuntime::with_spawner(|task| {
        drop(async_std::task::spawn(task));
    })
}
