//! A runtime-neutral WebSocket stack over the sans-IO [`wsproto_core`]:
//! the session, the client and server builders, the accept loop and TLS,
//! written once and shared by the tokio and async-std/smol adapters.
//!
//! ```text
//!  application ── send_* / Sink ──►  Session<S>  ── poll_transmit_vectored ──► S (AsyncWrite, writev)
//!              ◄── recv / Stream ──  (Connection ◄─ recv_buffer ◄───── S (AsyncRead)
//!                                     + timer)   ◄─ poll_timeout ──── Runtime timer
//!
//!  Connector<R>: proxy? ─► dial (RFC 8305) ─► [tunnel] ─► TcpOptions ─(wss)─► TLS ─► client handshake ─► Session (redirects: again)
//!  Acceptor<R>:  stream ─(TLS config)─► TLS ─► server handshake ─► Origin policy ─► decide ─► Session
//!  Incoming<T>:  listener ─► accepts, paused on EMFILE/ENOBUFS/… ─► connections
//!  serve:        Incoming ─► ConnectionLimit (503 over it) ─► Acceptor ─► handler task; Shutdown ends it all
//! ```
//!
//! - [`Session`] drives the core inline, inside whichever method is being
//!   awaited: no task, no lock, no channel. Awaiting [`Session::recv`] (or
//!   polling its `Stream`) keeps heartbeats, pongs and the close handshake
//!   going. It is a `Stream` and a `Sink` of [`Message`]s with
//!   tokio-tungstenite's meaning.
//! - [`Session::spawn_split`] moves the core into a driver task and gives
//!   back a [`SessionWriter`] and a [`SessionReader`] joined to it by
//!   bounded channels (no lock on the hot path).
//! - [`Connector`] and [`Acceptor`] are the client and server builders
//!   (config, TLS, timeouts, TCP options, Origin policy, the transport
//!   step), generic over the runtime's [`Net`]; [`Incoming`] is the accept
//!   loop's stream. [`client`] and [`server`] run just the opening
//!   handshake over a transport; [`pair`] connects two sessions in memory.
//! - An adapter implements [`Runtime`] and [`Net`] (clock, timer, spawn,
//!   TCP) and invokes [`adapter!`] for its public types; nothing else.
//!
//! # Example: a conversation over the in-memory pipe
//!
//! An adapter supplies the [`Runtime`]; this one has no timers (nothing
//! here needs one) and spawns on a thread of its own.
//!
//! ```
//! use std::{pin::Pin, sync::Arc, task::{Context, Poll}, time::Instant};
//! use ws_session::{CloseCode, CloseFrame, Config, Message, Runtime, Timer};
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
//!         client.close(CloseFrame::new(CloseCode::NORMAL, "bye")),
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

mod acceptor;
mod adapter;
pub mod broadcast;
mod builder;
mod connector;
mod convert;
mod decision;
mod driver;
mod error;
mod events;
mod handshake;
mod incoming;
mod lifecycle;
mod memory;
mod message;
mod net;
mod outgoing;
pub mod proxy;
mod reach;
pub mod reconnect;
mod request;
mod runtime;
mod serve;
mod session;
mod split;
mod stream;
#[cfg(feature = "rustls")]
pub mod tls;
mod trace;

pub use acceptor::Acceptor;
pub use connector::{ConnectOptions, Connector};
#[cfg(feature = "json")]
pub use convert::JsonConverter;
pub use convert::{ConvertError, Converter};
pub use decision::Decision;
pub use error::{ConnectError, Error, HandshakeError};
pub use handshake::{
    AcceptedRequest, ClientResponse, HandshakeOptions, build_request, client, pair, server,
    start_client_session, start_server_session,
};
pub use incoming::{AcceptErrorKind, Incoming};
pub use lifecycle::{
    AdmitError, ConnectionLimit, ConnectionPermit, SessionGuard, Shutdown, ShutdownPhase,
    ShutdownReport, ShutdownWatch,
};
pub use memory::{MemoryStream, duplex};
pub use message::{Event, Message, NotUtf8, Utf8Bytes};
pub use net::{DirectTcp, Net, TcpOptions, Transport, TransportFuture};
pub use reconnect::{
    Backoff, Offline, Reconnect, ReconnectEvent, ReconnectEvents, ReconnectHandle, ReconnectOptions,
};
pub use request::{ClientRequestBuilder, IntoClientRequest};
pub use runtime::{Runtime, Timer, timeout_at};
pub use serve::serve;
pub use session::Session;
pub use split::{SessionReader, SessionWriter};
#[cfg(feature = "rustls")]
pub use stream::HttpsProxied;
pub use stream::MaybeTls;

pub use http;
pub use wsproto_core;

// What `adapter!` expands to in an adapter crate refers to through `$crate`.
#[doc(hidden)]
pub mod __futures {
    pub use futures_core::Stream;
    pub use futures_sink::Sink;
}
#[doc(hidden)]
#[cfg(feature = "rustls")]
pub use rustls as __rustls;
#[doc(hidden)]
pub use serde as __serde;
pub use wsproto_core::handshake::{AcceptOptions, OriginPolicy, UpgradeRequest};
pub use wsproto_core::{
    Bytes, CloseCode, CloseFrame, CloseReason, Config, DeflateConfig, Frame, MemoryBudget,
    MessageChunk, MessageKind, Mode, OpCode,
};

/// The names both adapters re-export (`pub use ws_session::prelude::*`), so
/// that `ws_tokio::Message` and `ws_async_std::Message` are the same type
/// and the two lists cannot drift apart. Each adapter adds its own
/// `WebSocket`, `Connector`, `Acceptor`, `connect`, `accept`, `serve`,
/// `pair` and runtime.
pub mod prelude {
    #[cfg(feature = "json")]
    pub use crate::JsonConverter;
    pub use crate::reconnect::{
        Backoff, Connected, End, Offline, Reconnect, ReconnectEvent, ReconnectEvents,
        ReconnectHandle, ReconnectOptions, SendError as ReconnectSendError,
    };
    #[cfg(feature = "rustls")]
    pub use crate::tls::{
        PemError, client_config_with_roots, crypto_provider, default_client_config, server_config,
        server_config_from_pem,
    };
    pub use crate::{
        AcceptOptions, AcceptedRequest, Bytes, ClientRequestBuilder, ClientResponse, CloseCode,
        CloseFrame, CloseReason, Config, ConnectError, ConnectOptions, ConnectionLimit,
        ConvertError, Converter, Decision, DeflateConfig, Error, Event, Frame, HandshakeError,
        HandshakeOptions, IntoClientRequest, MaybeTls, MemoryBudget, Message, Mode, NotUtf8,
        OpCode, OriginPolicy, SessionReader, SessionWriter, Shutdown, ShutdownReport, TcpOptions,
        UpgradeRequest, Utf8Bytes,
    };
    pub use http;
}
