//! WebSockets over HTTP/2 (RFC 8441) for tokio, async-std and smol: each
//! WebSocket is an
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
//! The WebSocket itself is the usual [`Session`](ws_session::Session)
//! of `ws-session`: the same frames, heartbeat, close handshake, split and
//! limits as over HTTP/1.1; only the bytes travel in HTTP/2 DATA frames
//! ([`H2Stream`], which keeps HTTP/2 flow control in step with what the
//! session reads and writes). The core checks the request and the answer
//! (`ClientHandshake::extended_connect_request` and
//! `handle_extended_connect_response` in `wsproto-core`); the `h2` crate
//! does HTTP/2.
//!
//! # Runtimes
//!
//! The flow is written once, [`generic::H2Connector<R>`](generic::H2Connector),
//! over the runtime trait of `ws-session` (`Net`: sockets, timers, a
//! spawner), and named per runtime:
//!
//! | runtime | connector | feature |
//! |---|---|---|
//! | tokio | [`ws_h2::H2Connector`](H2Connector) (`ws_tokio::TokioRuntime`) | `tokio` (default) |
//! | async-std, smol | `ws_h2::async_std::H2Connector` (`ws_async_std::AsyncIoRuntime`) | `async-std` |
//!
//! `h2` needs tokio's IO traits, not its runtime: it runs over the
//! runtime's futures-io stream through tokio-util's `compat`, the task
//! that drives the connection is spawned on the runtime's spawner, and
//! the timeouts use the runtime's timers. TLS is ws-session's step
//! (rustls over futures-io) with ALPN `h2`. [`H2Connection`], [`H2Stream`],
//! [`Stream`] and [`WebSocket`] are the same types on every runtime.
//!
//! # Why a crate of its own
//!
//! HTTP/2 is a connection with streams, flow control and a task that
//! drives it: kept out of `ws-session` (runtime-neutral, no HTTP/2) and
//! the adapters (no HTTP/2 for users who do not want it), it costs them
//! nothing.
//!
//! # Example
//!
//! On tokio; on async-std or smol the same with
//! `ws_h2::async_std::H2Connector`.
//!
//! ```no_run
//! # #[cfg(feature = "tokio")]
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
//! - `tokio` (default): [`H2Connector`] on tokio.
//! - `async-std`: `ws_h2::async_std::H2Connector` on async-std and smol.
//! - `rustls` (default): `wss://` over TLS with ALPN `h2`.
//! - `json` (default): `JsonConverter` and the serde shortcuts.
#![forbid(unsafe_code)]

use std::time::Duration;

use ws_session::{HandshakeError, Runtime};

mod connection;
mod connector;
mod error;
mod stream;

pub use connection::H2Connection;
pub use error::H2Error;
pub use stream::{H2Stream, Stream};
#[cfg(feature = "tokio")]
pub use ws_tokio;
pub use {h2, ws_session};

/// The connector written once over a runtime: name it through
/// [`H2Connector`] (tokio) or `async_std::H2Connector` (feature
/// `async-std`), or with a runtime of your own that implements
/// `ws_session::Net`.
pub mod generic {
    pub use crate::connector::H2Connector;
}

/// The connector on tokio: [`generic::H2Connector`] over
/// `ws_tokio::TokioRuntime`.
#[cfg(feature = "tokio")]
pub type H2Connector = generic::H2Connector<ws_tokio::TokioRuntime>;

/// async-std and smol: the connector over `ws-async-std`'s async-io
/// runtime. Its default spawner (for the HTTP/2 connection's task and
/// split sessions) is smol's global executor, which works under
/// `async_std::task::block_on` too; `H2Connector::with_runtime(
/// AsyncIoRuntime::with_spawner(..))` puts the tasks on an executor of
/// your choice.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use ws_h2::async_std::H2Connector;
///
/// smol::block_on(async {
///     let connection = H2Connector::new().connect_h2("wss://example.com/").await?;
///     let (mut ws, _) = connection.open("wss://example.com/prices").await?;
///     ws.send_text("subscribe EURUSD").await?;
///     println!("{:?}", ws.recv().await?);
///     Ok(())
/// })
/// # }
/// ```
#[cfg(feature = "async-std")]
pub mod async_std {
    pub use ws_async_std::{self, AsyncIoRuntime};

    /// The connector on async-std and smol: [`generic::H2Connector`](crate::generic::H2Connector)
    /// over [`AsyncIoRuntime`].
    pub type H2Connector = crate::generic::H2Connector<AsyncIoRuntime>;
}

/// A WebSocket opened by this crate: a session over an HTTP/2 stream (or
/// the HTTP/1.1 connection of a fallback), on the connector's runtime.
pub type WebSocket = ws_session::Session<Stream>;

/// `future` within `timeout` on `runtime`'s timers (`None`: no limit);
/// `None` when it ran out.
async fn within<F: Future>(
    runtime: &dyn Runtime,
    timeout: Option<Duration>,
    future: F,
) -> Option<F::Output> {
    let deadline = timeout.and_then(|limit| runtime.now().checked_add(limit));
    ws_session::timeout_at(runtime, deadline, future).await
}

/// [`within`] the handshake timeout: running out is
/// [`HandshakeError::Timeout`].
async fn within_handshake<F: Future>(
    runtime: &dyn Runtime,
    timeout: Option<Duration>,
    future: F,
) -> Result<F::Output, H2Error> {
    within(runtime, timeout, future)
        .await
        .ok_or_else(|| HandshakeError::Timeout(timeout.unwrap_or_default()).into())
}
