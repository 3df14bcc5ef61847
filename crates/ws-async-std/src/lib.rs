//! WebSocket client and server for **async-std and smol alike**: one
//! adapter over `futures-io` and `async-io`.
//!
//! # Why one crate serves both
//!
//! async-std is discontinued upstream (RUSTSEC-2025-0052) and its users are
//! moving to smol. Both run on the same foundations: async-std 1.13 drives
//! its sockets and timers with async-io's reactor, exactly as smol does, and
//! both speak the `futures-io` traits. This crate depends on nothing else:
//! sockets are `async-net`'s (smol's `smol::net` is the same type), timers
//! are `async_io::Timer`, TLS is rustls over futures-io, and every stream
//! it accepts only needs `AsyncRead + AsyncWrite` from futures-io, so an
//! `async_std::net::TcpStream` and a `smol::net::TcpStream` both work, from
//! `async_std::task::block_on`, `smol::block_on` or any executor. The
//! one background task (the driver of a
//! [`spawn_split`](WebSocket::spawn_split) session) runs on smol's global
//! executor unless you hand in your own spawner
//! ([`AsyncIoRuntime::with_spawner`]).
//!
//! Like `ws-tokio` it is a thin adapter: the types here ([`WebSocket`],
//! [`Connector`], [`Acceptor`]) are the generic ones of [`ws_session`] for
//! async-io, with the same names and methods as in `ws-tokio`.
//!
//! ```text
//!  connect(url) ──► async_net::TcpStream ─(wss)─► rustls ──► handshake ──► WebSocket<TcpStream>
//!  accept(stream) / Acceptor::accept(stream) ─(TLS config?)─► handshake ──► WebSocket<S>
//! ```
//!
//! # Example: Stream and Sink under smol
//!
//! The same code runs under `async_std::task::block_on`.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use futures_util::{SinkExt, StreamExt};
//! use ws_async_std::Message;
//!
//! smol::block_on(async {
//!     let listener = smol::net::TcpListener::bind("127.0.0.1:0").await?;
//!     let url = format!("ws://{}/echo", listener.local_addr()?);
//!     smol::spawn(async move {
//!         let (tcp, _) = listener.accept().await.unwrap();
//!         let mut ws = ws_async_std::accept(tcp).await.unwrap();
//!         while let Some(Ok(message)) = ws.next().await {
//!             if message.is_text() || message.is_binary() {
//!                 ws.send(message).await.unwrap();
//!             }
//!         }
//!     })
//!     .detach();
//!
//!     let (mut ws, response) = ws_async_std::connect(&url).await?;
//!     assert_eq!(response.status(), 101);
//!     ws.send(Message::text("hello")).await?;
//!     assert_eq!(ws.next().await.unwrap()?, Message::text("hello"));
//!     ws.close(None).await?;
//!     assert!(ws.close_reason().unwrap().is_clean());
//!     Ok(())
//! })
//! # }
//! ```
//!
//! # Cargo features
//!
//! - `rustls` (default): TLS for `wss://` and `Acceptor::tls_config`.
//! - `json` (default): `JsonConverter`.
//! - `tracing` (off): `tracing` events on connect, handshake, close,
//!   protocol errors and timeouts, at no cost when off.
#![forbid(unsafe_code)]

mod runtime;

pub use runtime::{AsyncIoRuntime, Task};
#[cfg(feature = "rustls")]
pub use rustls;
pub use ws_session;
pub use ws_session::prelude::*;
pub use ws_session::wsproto_core;

/// The TCP stream [`connect`] opens (smol's `smol::net::TcpStream` is the
/// same type). Its `poll_close` shuts the socket's write side down, so the
/// peer sees the end of the stream as soon as a session closes;
/// async-std's own `TcpStream` only flushes there (the end then comes when
/// the session is dropped). It runs under async-std as well.
pub type TcpStream = async_net::TcpStream;

/// The TCP listener of [`serve`] (smol's `smol::net::TcpListener`).
pub type TcpListener = async_net::TcpListener;

/// A stream as sessions run over it: futures-io streams need no wrapper.
#[doc(hidden)]
pub type Io<S> = S;

fn io<S>(stream: S) -> S {
    stream
}

ws_session::adapter! {
    runtime: AsyncIoRuntime,
    tcp: TcpStream,
    io: Io,
    wrap: io,
    bounds: [futures_io::AsyncRead + futures_io::AsyncWrite + Unpin],
    pipe: ws_session::MemoryStream,
    duplex: ws_session::duplex,
    listener: TcpListener,
}
