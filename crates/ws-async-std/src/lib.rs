//! WebSocket client and server over `futures-io` and `async-io`: one
//! adapter for **async-std and smol alike**.
//!
//! # Why one crate serves both
//!
//! async-std is discontinued upstream (RUSTSEC-2025-0052) and its users are
//! moving to smol. Both run on the same foundations: async-std 1.13 drives
//! its sockets and timers with async-io's reactor, exactly as smol does, and
//! both speak the `futures-io` traits. This crate depends on nothing else:
//! sockets are `async-net`'s (smol's `smol::net` is the same type), timers
//! are `async_io::Timer`, TLS is `futures-rustls`, and every stream it
//! accepts only needs `AsyncRead + AsyncWrite` from futures-io — so an
//! `async_std::net::TcpStream` and a `smol::net::TcpStream` both work, from
//! `async_std::task::block_on`, `smol::block_on` or any executor. The
//! one background task (the driver of a [`split`](ws_session::Session::split)
//! session) runs on smol's global executor unless you hand in your own
//! spawner ([`AsyncIoRuntime::with_spawner`]).
//!
//! Like `ws-tokio`, it is a thin adapter: it makes TCP and TLS connections
//! and gives a clock and timers to [`ws_session`], which drives the sans-IO
//! [`wsproto_core`]. Sessions, heartbeat, close handshake, backpressure,
//! split and conversion are `ws_session`'s, shared with the tokio adapter,
//! and the names are the same as there.
//!
//! ```text
//!  connect(url) ──► async_net::TcpStream ─(wss)─► futures-rustls ──► ws_session::client ──► WebSocket
//!  Acceptor::accept_tcp(stream, decide) ─(TLS?)─────────────────────► ws_session::server ──► WebSocket
//! ```
//!
//! Cargo features: `json` (default) for [`JsonConverter`]; `tracing` (off)
//! for `tracing` events on connect, handshake, close, protocol errors and
//! timeouts, at no cost when off.
//!
//! # What is where (Ktor names on the left)
//!
//! | Ktor | here |
//! | --- | --- |
//! | `client.webSocket(url)`, `ws`, `wss`, `webSocketSession` | [`connect`], [`Connector::connect`], [`Connector::connect_request`] (an `http::Request` or a [`ClientBuilder`]), [`Connector::client_over`] (a stream you have) |
//! | server `webSocket { }` route | [`accept`], [`Acceptor::accept_with`] (inspect, accept or reject), [`Acceptor::accept_tcp`] (TLS) |
//! | `DefaultWebSocketSession` | [`WebSocket`]: `send_text`, `send_binary`, `send(Frame)`, `recv`, `Stream` + `Sink`, `flush`, `close`, `terminate`, `close_reason`, `set_ping_interval`, `set_timeout`, `split` |
//! | `webSocketRaw` | `Config::with_mode(Mode::Raw)`: `recv_frame`, `send(Frame)` |
//! | `sendSerialized` / `receiveDeserialized` | `send_serialized`, `receive_deserialized` ([`JsonConverter`], feature `json`), or `*_with` and your [`Converter`] |
//! | `pingInterval`, `timeout`, `maxFrameSize` | [`Config`] |
//! | test conversation | [`pair`] |
//!
//! # Example: a server and a client on loopback, under smol
//!
//! The same code runs under `async_std::task::block_on` (the crate's tests
//! run every scenario under both).
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use ws_async_std::{Acceptor, CloseCode, Decision, Message};
//!
//! smol::block_on(async {
//!     let listener = smol::net::TcpListener::bind("127.0.0.1:0").await?;
//!     let url = format!("ws://{}/echo", listener.local_addr()?);
//!     smol::spawn(async move {
//!         let (tcp, _) = listener.accept().await.unwrap();
//!         let (mut ws, _request) = Acceptor::new()
//!             .accept_tcp(tcp, |_| Decision::accept())
//!             .await
//!             .unwrap();
//!         while let Ok(message) = ws.recv().await {
//!             ws.send_message(message).await.unwrap();
//!         }
//!     })
//!     .detach();
//!
//!     let (mut ws, response) = ws_async_std::connect(&url).await?;
//!     assert_eq!(response.response.status(), 101);
//!     ws.send_text("hello").await?;
//!     assert_eq!(ws.recv().await?, Message::Text("hello".into()));
//!     ws.close(CloseCode::NORMAL, "done").await?;
//!     assert!(ws.close_reason().unwrap().is_clean());
//!     Ok(())
//! })
//! # }
//! ```
#![forbid(unsafe_code)]

mod client;
mod runtime;
mod server;

use std::sync::Arc;

pub use client::{Connector, connect};
pub use runtime::{AsyncIoRuntime, Task};
pub use server::{Acceptor, accept};
pub use ws_session::prelude::*;
pub use {futures_rustls, http, rustls, ws_session, wsproto_core};

/// The TCP stream [`connect`] opens (smol's `smol::net::TcpStream` is the
/// same type).
pub type TcpStream = async_net::TcpStream;

/// A transport this crate connected or accepted: `S` (TCP by default), or
/// TLS over it (client or server side).
pub type MaybeTlsStream<S = TcpStream> = ws_session::MaybeTls<S, futures_rustls::TlsStream<S>>;

/// A WebSocket session over a futures-io transport: by default the TCP or
/// TLS stream [`connect`] made; `WebSocket<S>` for a stream `S` of the
/// caller's.
pub type WebSocket<S = MaybeTlsStream> = ws_session::Session<S>;

/// An in-memory pipe between a [`pair`]'s two sessions.
pub type Pipe = ws_session::MemoryStream;

/// A connected client/server session pair in memory, after a real
/// handshake (so `config`'s compression is negotiated): Ktor's test
/// conversation, for users' own tests. Works under any executor.
pub async fn pair(config: Config) -> Result<(WebSocket<Pipe>, WebSocket<Pipe>), HandshakeError> {
    let (a, b) = ws_session::duplex(256 * 1024);
    // Boxed: two handshakes in one future would make every caller's future
    // large.
    Box::pin(ws_session::pair(
        Arc::new(AsyncIoRuntime::new()),
        a,
        b,
        config,
    ))
    .await
}
