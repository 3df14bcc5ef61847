//! Serve WebSockets from hyper 1.x and axum routes: HTTP/1.1 (`Upgrade:
//! websocket`) and HTTP/2 (RFC 8441 extended CONNECT) on the same route,
//! with the negotiation, Origin policy, subprotocols, extensions and
//! [`Config`] of `ws_tokio`'s own accept path.
//!
//! The glue is thin: the request hyper parsed goes to the core's
//! negotiation ([`UpgradeRequest::from_request`]), whose `http::Response`
//! goes back to hyper; when hyper hands over the connection
//! (`hyper::upgrade::on`), the session starts over it. Bytes hyper read
//! past the request are replayed first by hyper's `Upgraded`, so a first
//! frame sent with the request is not lost.
//!
//! ```text
//!  hyper / axum ── Request (parsed) ──► upgrade(&mut request, config) ─► UpgradeRequest::from_request
//!                                          (400 / 426 / 403: Refusal)      (checks, Origin policy, offers)
//!               ◄── Response (101|200) ── Upgrade::accept(&options) ──► PendingWebSocket
//!  hyper::upgrade::on ── Upgraded ─────────────────────────────────────► WebSocket (ws_tokio session)
//! ```
//!
//! - Bare hyper: [`upgrade`], then [`Upgrade::accept`] or [`Upgrade::reject`].
//! - axum (feature `axum`, on by default): the [`WebSocketUpgrade`]
//!   extractor and its `on_upgrade(|socket| async { … })`.
//!
//! # Lifecycle
//!
//! A cap on concurrent sessions and a graceful shutdown, shared with
//! `ws_tokio`'s own accept loop if the app has one: put a
//! [`ConnectionLimit`] and a [`Shutdown`] handle ([`shutdown_handle`]) in
//! the router's extensions and the extractor answers 503 (with
//! `Retry-After` when full) before upgrading; `handle.shutdown(deadline)`
//! closes every upgraded session with 1001 after what was queued for it
//! and reports, while axum's `with_graceful_shutdown(handle.signalled())`
//! stops the HTTP side. Bare hyper: [`admit`], then
//! [`PendingWebSocket::guard`].
//!
//! # From `axum::extract::ws`
//!
//! | `axum::extract::ws` | here |
//! | --- | --- |
//! | `WebSocketUpgrade` | [`WebSocketUpgrade`] |
//! | `get(handler)` | `get(handler).connect(handler)` (HTTP/2 too) |
//! | `ws.protocols([..])`, `ws.selected_protocol()` | the same |
//! | `ws.max_message_size(n)`, `ws.max_frame_size(n)`, `ws.write_buffer_size(n)` | `ws.config(Config::default().with_max_message_size(n)…)` |
//! | (none) | `ws.origin_policy(OriginPolicy::same_host())` |
//! | `ws.on_failed_upgrade(f)` | the same (`f` gets an [`UpgradeError`]) |
//! | `ws.on_upgrade(\|socket\| async { … })` | the same; `socket` is a [`WebSocket`] |
//! | `socket.recv().await` → `Option<Result<Message>>` | `socket.next().await` (`StreamExt`) gives the same; `socket.recv().await` → `Result<Message, Error>` gives data messages only (the end is an `Err`, `is_clean_close()` for a normal close) |
//! | `socket.send(Message::Text(t))` | the same (`SinkExt`), or `socket.send_text(t)`, `send_binary`, `send_message` |
//! | `socket.split()` | the same (`StreamExt::split`), or `spawn_split()` for halves that need no lock |
//! | `Message::Ping/Pong` handling | pongs are automatic and a heartbeat runs by default (`Config::with_ping_interval`); the stream still shows pings and pongs |
//! | `socket.close()` | `socket.close(None)`, or `socket.close(CloseFrame::new(code, reason))` |
//! | `WebSocketUpgradeRejection` | [`Refusal`] (its `error()` says why) |
#![forbid(unsafe_code)]

#[cfg(feature = "axum")]
mod extract;
mod upgrade;

#[cfg(feature = "axum")]
pub use extract::{DefaultOnFailedUpgrade, OnFailedUpgrade, WebSocketUpgrade};
pub use upgrade::{
    Body, PendingWebSocket, Refusal, Upgrade, UpgradeError, WebSocket, admit, upgrade,
};

pub use ws_tokio::ws_session::{SessionGuard, ShutdownReport};
pub use ws_tokio::wsproto_core::handshake::{AcceptOptions, OriginPolicy, UpgradeRequest};
pub use ws_tokio::{
    AcceptedRequest, Bytes, CloseCode, CloseFrame, CloseReason, Config, ConnectionLimit,
    DeflateConfig, Error, Message, Shutdown, shutdown_handle,
};
pub use {hyper, ws_tokio};
