//! WebSocket client and server for tokio.
//!
//! A thin adapter: tokio's sockets, clock, timers and spawner under
//! [`ws_session`], which drives the sans-IO [`wsproto_core`]. The types
//! here ([`WebSocket`], [`Connector`], [`Acceptor`]) are the generic ones
//! of `ws_session` for tokio; everything a session does (heartbeat, close
//! handshake, backpressure, split, conversion) is shared with the
//! async-std/smol adapter.
//!
//! ```text
//!  connect(url) ──► TcpStream ─(wss)─► rustls ──► handshake ──► WebSocket<TcpStream>
//!  accept(stream) / Acceptor::accept(stream) ─(TLS config?)─► handshake ──► WebSocket<S>
//!  serve(listener, acceptor, handler): the accept loop (TCP options, backoff on EMFILE)
//! ```
//!
//! # Example: as a tokio-tungstenite user writes it
//!
//! `WebSocket` is a `Stream` and a `Sink` of [`Message`]s, so
//! `futures::SinkExt` and `StreamExt` work as they do with
//! tokio-tungstenite; only the imports change.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use futures_util::{SinkExt, StreamExt};
//! use ws_tokio::Message;
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let url = format!("ws://{}/echo", listener.local_addr()?);
//! tokio::spawn(async move {
//!     let (tcp, _) = listener.accept().await.unwrap();
//!     let mut ws = ws_tokio::accept(tcp).await.unwrap();
//!     while let Some(Ok(message)) = ws.next().await {
//!         if message.is_text() || message.is_binary() {
//!             ws.send(message).await.unwrap();
//!         }
//!     }
//! });
//!
//! let (ws, response) = ws_tokio::connect(&url).await?;
//! assert_eq!(response.status(), 101);
//! let (mut write, mut read) = ws.split();
//! write.send(Message::Text("hello".into())).await?;
//! assert_eq!(read.next().await.unwrap()?, Message::text("hello"));
//! write.send(Message::Close(None)).await?;
//! assert!(read.next().await.unwrap()?.is_close());
//! # Ok(())
//! # }
//! ```
//!
//! The session's own methods do the same with less ceremony:
//! `send_text`, `recv` (data messages only), `close(code, reason)` (waits
//! for the close handshake), and `spawn_split` (halves that need no lock).
//!
//! # Cargo features
//!
//! - `rustls` (default): TLS for `wss://` and `Acceptor::tls_config`
//!   (rustls with ring, webpki roots). Off, nothing of rustls is built; a
//!   server behind a TLS-terminating proxy does not need it.
//! - `json` (default): `JsonConverter` and `send_serialized` /
//!   `receive_deserialized`.
//! - `tracing` (off): `tracing` events on connect, handshake, close,
//!   protocol errors and timeouts, with no cost when off.
//!
//! Every `recv` is cancellation-safe: dropping it (say, in a losing
//! `tokio::select!` branch) loses no message. Backpressure: `send` waits
//! while the send queue (`Config::with_send_queue_limit`) is full.
#![forbid(unsafe_code)]

mod compat;
mod runtime;

pub use compat::Compat;
pub use runtime::TokioRuntime;
#[cfg(feature = "rustls")]
pub use rustls;
pub use ws_session;
pub use ws_session::prelude::*;
pub use ws_session::wsproto_core;

ws_session::adapter! {
    runtime: TokioRuntime,
    tcp: tokio::net::TcpStream,
    io: Compat,
    wrap: Compat::new,
    bounds: [tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin],
    pipe: tokio::io::DuplexStream,
    duplex: tokio::io::duplex,
    listener: tokio::net::TcpListener,
}
