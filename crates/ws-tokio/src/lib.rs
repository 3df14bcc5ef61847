//! WebSocket client and server for tokio.
//!
//! A thin adapter: it makes TCP and TLS connections and gives tokio's clock
//! and timers to [`ws_session`], which drives the sans-IO
//! [`wsproto_core`]. Everything a session does (heartbeat, close handshake,
//! backpressure, split, conversion) is `ws_session`'s, re-exported here.
//!
//! ```text
//!  connect(url) ──► TcpStream ─(wss)─► tokio-rustls ──► ws_session::client ──► WebSocket
//!  Acceptor::accept_with(stream, decide) ──────────────► ws_session::server ──► WebSocket
//! ```
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
//! Cargo features: `json` (default) for [`JsonConverter`]; `tracing` (off)
//! for `tracing` events on connect, handshake, close, protocol errors and
//! timeouts (see [`ws_session`]'s features), with no cost when off.
//!
//! Every `recv` is cancellation-safe: dropping it (say, in a losing
//! `tokio::select!` branch) loses no message. Backpressure: `send` waits
//! while the send queue (`Config::with_send_queue_limit`) is full.
//!
//! # Example: a server and a client on loopback
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use ws_tokio::{Acceptor, CloseCode, Message};
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let url = format!("ws://{}/echo", listener.local_addr()?);
//! tokio::spawn(async move {
//!     let (tcp, _) = listener.accept().await.unwrap();
//!     let (mut ws, _request) = Acceptor::new().accept(tcp).await.unwrap();
//!     while let Ok(message) = ws.recv().await {
//!         ws.send_message(message).await.unwrap();
//!     }
//! });
//!
//! let (mut ws, response) = ws_tokio::connect(&url).await?;
//! assert_eq!(response.response.status(), 101);
//! ws.send_text("hello").await?;
//! assert_eq!(ws.recv().await?, Message::Text("hello".into()));
//! ws.close(CloseCode::NORMAL, "done").await?;
//! assert!(ws.close_reason().unwrap().is_clean());
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

mod client;
mod compat;
mod runtime;
mod server;

use std::sync::Arc;

pub use compat::Compat;

pub use client::{Connector, connect};
pub use runtime::TokioRuntime;
pub use server::{Acceptor, accept};
pub use ws_session::prelude::*;
pub use {http, rustls, tokio_rustls, ws_session, wsproto_core};

/// The transport of a connection this crate made or accepted: TCP, or TLS
/// over TCP (client or server side), seen through futures-io.
pub type MaybeTlsStream = ws_session::MaybeTls<
    Compat<tokio::net::TcpStream>,
    Compat<tokio_rustls::TlsStream<tokio::net::TcpStream>>,
>;

/// A WebSocket session over a futures-io transport: by default the TCP or
/// TLS stream this crate connected or accepted; `WebSocket<Compat<S>>` for
/// a tokio stream `S` of the caller's.
pub type WebSocket<S = MaybeTlsStream> = ws_session::Session<S>;

/// An in-memory pipe between a [`pair`]'s two sessions.
pub type Pipe = tokio::io::DuplexStream;

/// A connected client/server session pair in memory, after a real
/// handshake (so `config`'s compression is negotiated): Ktor's test
/// conversation, for users' own tests. Must be called within a tokio
/// runtime.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use ws_tokio::{CloseCode, Config, DeflateConfig, Message};
///
/// let config = Config::default().with_compression(DeflateConfig::default());
/// let (mut client, mut server) = ws_tokio::pair(config).await?;
/// assert_eq!(client.connection().extension_names().collect::<Vec<_>>(), ["permessage-deflate"]);
/// client.send_text("ping?").await?;
/// assert_eq!(server.recv().await?, Message::Text("ping?".into()));
/// let (closed, end) = tokio::join!(client.close(CloseCode::NORMAL, ""), server.recv());
/// closed?;
/// assert!(end.unwrap_err().is_clean_close());
/// # Ok(())
/// # }
/// ```
pub async fn pair(
    config: Config,
) -> Result<(WebSocket<Compat<Pipe>>, WebSocket<Compat<Pipe>>), HandshakeError> {
    let (a, b) = tokio::io::duplex(256 * 1024);
    // Boxed: two handshakes in one future would make every caller's future
    // large.
    Box::pin(ws_session::pair(
        Arc::new(TokioRuntime),
        Compat::new(a),
        Compat::new(b),
        config,
    ))
    .await
}
