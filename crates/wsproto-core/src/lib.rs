//! A sans-IO WebSocket protocol core (RFC 6455, RFC 7692).
//!
//! This crate does no IO, reads no clock and draws no randomness. The caller
//! moves bytes, passes in the time, and seeds the mask generator; the core
//! parses, validates, answers and schedules. The same state machine therefore
//! runs under tokio, async-std/smol, a hand-written `mio` loop, a test with a
//! virtual clock, or a fuzzer.
//!
//! ```text
//!            socket reads                         socket writes
//!                 │                                     ▲
//!                 ▼                                     │
//!   handle_data(now, &[u8]) ──►  ┌──────────────┐ ──► poll_transmit() / advance_transmit(n)
//!   handle_eof(now)          ──► │  Connection  │ ──► poll_event()    → Event::{Message, Ping, Closed, …}
//!   handle_timeout(now)      ──► │ (no IO, no   │ ──► poll_timeout()  → next deadline (Instant)
//!   send_text/binary/ping/   ──► │  clock, no   │ ──► should_close_transport()
//!   close(now, …)                │  RNG calls)  │
//!                                └──────────────┘
//! ```
//!
//! The handshake is a separate step ([`handshake`]): it turns the HTTP
//! upgrade into a [`Connection`] and hands over any bytes that arrived after
//! the HTTP head.
#![forbid(unsafe_code)]

pub mod close;
pub mod config;
mod connection;
pub mod deflate;
pub mod error;
pub mod event;
pub mod extension;
pub mod frame;
pub mod handshake;
pub mod rng;
pub mod utf8;

pub use bytes::Bytes;
pub use bytestring::ByteString;

pub use close::{CloseCode, CloseFrame};
pub use config::{Config, HandshakeLimits, Mode};
pub use connection::{Connection, State};
pub use deflate::{DeflateConfig, DeflateExtension, DeflateParams};
pub use error::{ExtensionError, ProtocolError, SendError};
pub use event::{CloseReason, Event, Message, MessageChunk, MessageKind};
pub use extension::{Extension, ExtensionFactory, ExtensionHeader, NegotiationError};
pub use frame::{Frame, OpCode, Rsv};
pub use rng::MaskRng;

/// Which end of the connection this is. It decides masking (RFC 6455 §5.1:
/// clients mask, servers do not) and who closes the transport first
/// (§7.1.1: the server).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The end that sent the upgrade request.
    Client,
    /// The end that accepted it.
    Server,
}
