//! A runtime-neutral WebSocket session: the one loop that drives the
//! sans-IO [`wsproto_core`] over any `futures-io` transport, shared by the
//! tokio and async-std adapters.
//!
//! ```text
//!  application ── send_* / close ──►  Session<S>  ── poll_transmit_vectored ──► S (AsyncWrite, writev)
//!              ◄── recv / Stream ───  (Connection ◄─ recv_buffer ◄───── S (AsyncRead)
//!                                      + timer)   ◄─ poll_timeout ──── Runtime timer
//! ```
//!
//! - [`Session`] drives the core inline, inside whichever method is being
//!   awaited: no task, no lock, no channel. Awaiting [`Session::recv`] keeps
//!   heartbeats, pongs and the close handshake going.
//! - [`Session::split`] moves the core into a driver task and gives back a
//!   [`SessionReader`] and a [`SessionWriter`] joined to it by bounded
//!   channels (see [`split`]).
//! - [`client`] and [`server`] run the opening handshake over a transport,
//!   with a timeout; [`pair`] connects two sessions in memory for tests.
//! - An adapter implements [`Runtime`] (clock, timer, spawn) and
//!   establishes transports (TCP, TLS); nothing else.
//!
//! # Example: a conversation over the in-memory pipe
//!
//! An adapter supplies the [`Runtime`]; this one has no timers (nothing
//! here needs one) and cannot spawn (no `split`).
//!
//! ```
//! use std::{pin::Pin, sync::Arc, task::{Context, Poll}, time::Instant};
//! use ws_session::{CloseCode, Config, Message, Runtime, Timer};
//!
//! #[derive(Debug)]
//! struct NoTimers(Instant);
//! #[derive(Debug)]
//! struct Never;
//! impl Timer for Never {
//!     fn reset(self: Pin<&mut Self>, _: Instant) {}
//!     fn poll_expired(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> { Poll::Pending }
//! }
//! impl Runtime for NoTimers {
//!     fn now(&self) -> Instant { self.0 }
//!     fn new_timer(&self, _: Instant) -> Pin<Box<dyn Timer>> { Box::pin(Never) }
//!     fn spawn(&self, task: Pin<Box<dyn std::future::Future<Output = ()> + Send>>) {
//!         std::thread::spawn(move || futures_executor::block_on(task));
//!     }
//! }
//!
//! # #[allow(clippy::disallowed_methods)]
//! let runtime: Arc<dyn Runtime> = Arc::new(NoTimers(Instant::now()));
//! futures_executor::block_on(async {
//!     let (a, b) = ws_session::duplex(64 * 1024);
//!     let (mut client, mut server) = ws_session::pair(runtime, a, b, Config::default()).await?;
//!     client.send_text("hello").await?;
//!     assert_eq!(server.recv().await?, Message::Text("hello".into()));
//!     let (closed, end) = futures_util::future::join(
//!         client.close(CloseCode::NORMAL, "bye"),
//!         server.recv(),
//!     ).await;
//!     closed?;
//!     assert!(end.unwrap_err().is_clean_close());
//!     Ok::<(), Box<dyn std::error::Error>>(())
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Heartbeats, the close timeout, reassembly and the wait for the server's
//! EOF are the core's: this crate only moves bytes and sleeps until
//! `poll_timeout()`.
//!
//! # Cargo features
//!
//! - `json` (default): [`JsonConverter`] and the `send_serialized` /
//!   `receive_deserialized` shortcuts.
//! - `tracing` (off): `tracing` events for connecting, the handshake (done
//!   at debug, failed at warn with the error's message), Close sent and
//!   received with their codes, and the end of every session (a clean
//!   close at debug; a protocol error, a ping or close timeout or a lost
//!   transport at warn). Off, the crate has no `tracing` dependency and the
//!   call sites compile to nothing. An adapter forwards it
//!   (`tracing = ["ws-session/tracing"]`).
#![forbid(unsafe_code)]

pub mod broadcast;
mod connect;
mod convert;
mod driver;
mod error;
mod handshake;
pub mod memory;
mod runtime;
mod session;
pub mod split;
#[cfg(feature = "rustls")]
pub mod tls;
mod trace;

pub use connect::{ConnectError, ConnectOptions, MaybeTls, accept, connect};
#[cfg(feature = "json")]
pub use convert::JsonConverter;
pub use convert::{ConvertError, Converter};
pub use error::{Error, HandshakeError};
pub use handshake::{
    AcceptedRequest, ClientResponse, Decision, HandshakeOptions, build_request, client, pair,
    server,
};
pub use memory::{MemoryStream, duplex};
pub use runtime::{Runtime, Timer};
pub use session::Session;
pub use split::{SessionReader, SessionWriter};

pub use wsproto_core;
pub use wsproto_core::handshake::{AcceptOptions, ClientBuilder, UpgradeRequest};
pub use wsproto_core::{
    ByteString, Bytes, CloseCode, CloseFrame, CloseReason, Config, DeflateConfig, Event, Frame,
    Message, Mode, OpCode,
};

/// The names both adapters re-export (`pub use ws_session::prelude::*`), so
/// that `ws_tokio::Message` and `ws_async_std::Message` are the same type
/// and the two lists cannot drift apart. Each adapter adds its own
/// `connect`, `Connector`, `accept`, `Acceptor`, `WebSocket` and runtime.
pub mod prelude {
    #[cfg(feature = "json")]
    pub use crate::JsonConverter;
    #[cfg(feature = "rustls")]
    pub use crate::tls::{
        client_config_with_roots, crypto_provider, default_client_config, server_config,
    };
    pub use crate::{
        AcceptOptions, AcceptedRequest, ByteString, Bytes, ClientBuilder, ClientResponse,
        CloseCode, CloseFrame, CloseReason, Config, ConnectError, ConnectOptions, ConvertError,
        Converter, Decision, DeflateConfig, Error, Event, Frame, HandshakeError, HandshakeOptions,
        Message, Mode, OpCode, SessionReader, SessionWriter, UpgradeRequest,
    };
}
