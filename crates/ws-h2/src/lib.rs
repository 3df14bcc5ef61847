//! WebSockets over HTTP/2 (RFC 8441) for tokio: each WebSocket is an
//! extended CONNECT stream (`:protocol websocket`) on an HTTP/2
//! connection, and one connection carries any number of them next to each
//! other.
//!
//! ```text
//!  H2Connector::connect_h2(url) ─► TCP ─(wss)─► TLS, ALPN h2 ─► HTTP/2 handshake, server SETTINGS ─► H2Connection
//!  H2Connection::open(url) ─► CONNECT :protocol websocket ─► 2xx checked by the core ─► Session<Stream> (H2Stream: DATA frames as bytes)
//!  H2Connector::connect(url) ─► the same on a connection of its own, or (fallback on) the HTTP/1.1 upgrade
//! ```
//!
//! The WebSocket itself is the usual [`Session`](ws_tokio::ws_session::Session)
//! of `ws-session`: the same frames, heartbeat, close handshake, split and
//! limits as over HTTP/1.1; only the bytes travel in HTTP/2 DATA frames
//! ([`H2Stream`], which keeps HTTP/2 flow control in step with what the
//! session reads and writes). The core checks the request and the answer
//! (`ClientHandshake::extended_connect_request` and
//! `handle_extended_connect_response` in `wsproto-core`); the `h2` crate
//! does HTTP/2.
//!
//! # Why a crate of its own
//!
//! HTTP/2 is a connection with streams, flow control and a task that
//! drives it, and `h2` runs on tokio's IO traits: kept out of
//! `ws-session` (runtime-neutral) and `ws-tokio` (no HTTP/2 for users who
//! do not want it), it costs them nothing.
//!
//! # Example
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use ws_h2::H2Connector;
//!
//! // Several WebSockets on one HTTP/2 connection.
//! let connection = H2Connector::new().connect_h2("wss://example.com/").await?;
//! let (mut prices, _) = connection.open("wss://example.com/prices").await?;
//! let (mut news, _) = connection.open("wss://example.com/news").await?;
//! prices.send_text("subscribe EURUSD").await?;
//! println!("{:?} {:?}", prices.recv().await?, news.recv().await?);
//!
//! // One WebSocket, over HTTP/1.1 when the server has no RFC 8441.
//! let connector = H2Connector::new().fallback_to_http1(true);
//! let (ws, _) = connector.connect("wss://example.com/feed").await?;
//! println!("over {:?}", ws.get_ref().version());
//! # Ok(())
//! # }
//! ```
//!
//! # Cargo features
//!
//! - `rustls` (default): `wss://` over TLS with ALPN `h2`.
//! - `json` (default): `JsonConverter` and the serde shortcuts.
#![forbid(unsafe_code)]

use std::sync::Arc;

mod connection;
mod connector;
mod error;
mod stream;

pub use connection::H2Connection;
pub use connector::H2Connector;
pub use error::H2Error;
pub use stream::{H2Stream, Stream};
pub use ws_tokio;

/// A WebSocket opened by this crate: a session over an HTTP/2 stream (or
/// the HTTP/1.1 connection of a fallback).
pub type WebSocket = ws_tokio::ws_session::Session<Stream>;

/// The runtime every session here runs on.
fn runtime() -> Arc<dyn ws_tokio::ws_session::Runtime> {
    Arc::new(ws_tokio::TokioRuntime)
}
