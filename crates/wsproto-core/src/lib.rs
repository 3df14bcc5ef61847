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
//!                                │              │     (poll_transmit_vectored: large payloads by reference)
//!   handle_eof(now)          ──► │  Connection  │ ──► poll_event()    → Event::{Message, Ping, Closed, …}
//!   handle_timeout(now)      ──► │ (no IO, no   │ ──► poll_timeout()  → next deadline (Instant)
//!   send_text/binary/ping/   ──► │  clock, no   │ ──► should_close_transport()
//!   close(now, …)                │  RNG calls)  │
//!   handle_write_blocked(now)──► │              │     (the transport took nothing: send timeout)
//!                                └──────────────┘
//! ```
//!
//! The handshake is a separate step ([`handshake`]): it turns the HTTP
//! upgrade into a [`Connection`] and hands over any bytes that arrived after
//! the HTTP head. Extensions ([`Extension`], [`ExtensionFactory`]) plug
//! into both; permessage-deflate ([`deflate`]) is built in.
//!
//! # Example: a whole conversation in memory
//!
//! ```
//! use std::time::{Duration, Instant};
//! use wsproto_core::handshake::{AcceptOptions, ClientBuilder, Progress, ServerHandshake};
//! use wsproto_core::{CloseCode, Config, DeflateConfig, Event, MaskRng, Message};
//!
//! let config = Config::default().with_compression(DeflateConfig::default());
//! let now = Instant::now(); // any monotonic reading; the core never reads a clock
//!
//! // Handshake: the client's request goes to the server, the 101 comes back.
//! let mut client_hs = ClientBuilder::new("ws://localhost/chat")?.build([1; 16], &config)?;
//! let mut server_hs = ServerHandshake::new(&config);
//! let Progress::Complete(request) = server_hs.handle_data(client_hs.request_bytes())? else { unreachable!() };
//! let mut accepted = request.accept(&AcceptOptions::new()).map_err(|e| e.to_string())?;
//! let Progress::Complete(upgrade) = client_hs.handle_data(&accepted.response_bytes())? else { unreachable!() };
//! let mut server = accepted.into_connection(config.clone(), now);
//! let mut client = upgrade.into_connection(config, MaskRng::from_seed([2; 32]), now);
//!
//! // A message, compressed on the wire, then a clean close.
//! client.send_text("hello, hello, hello, hello")?;
//! client.close(now, CloseCode::NORMAL, "bye")?;
//! let wire = client.poll_transmit().to_vec();
//! client.advance_transmit(wire.len());
//! server.handle_data(now, &wire);
//! assert_eq!(server.poll_event(), Some(Event::Message(Message::Text("hello, hello, hello, hello".into()))));
//! assert!(matches!(server.poll_event(), Some(Event::CloseReceived(_))));
//! let reply = server.poll_transmit().to_vec(); // the echoed Close
//! server.advance_transmit(reply.len());
//! assert!(server.should_close_transport()); // the server closes TCP first
//! client.handle_data(now, &reply);
//! assert!(client.close_reason().unwrap().is_clean());
//! # let _ = Duration::ZERO;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Example: time, without a clock
//!
//! Timers are deadlines the caller asks for: after any call, `poll_timeout()`
//! says when to call `handle_timeout(now)` next (here the heartbeat: a ping
//! every 20 s, a pong expected within 5 s).
//!
//! ```
//! use std::time::{Duration, Instant};
//! use wsproto_core::{CloseReason, Config, Connection, OpCode};
//!
//! let config = Config::default()
//!     .with_ping_interval(Some(Duration::from_secs(20)))
//!     .with_ping_timeout(Duration::from_secs(5));
//! let start = Instant::now();
//! let mut server = Connection::server(config, start);
//!
//! // The first ping is due 20 s after the start: "wake me then".
//! assert_eq!(server.poll_timeout(), Some(start + Duration::from_secs(20)));
//! server.handle_timeout(start + Duration::from_secs(20));
//! let ping = server.poll_transmit().to_vec();
//! assert_eq!(ping[0], 0x80 | OpCode::Ping.as_u8()); // FIN + ping
//! server.advance_transmit(ping.len());
//!
//! // No pong within 5 s: the connection ends itself, with a reason.
//! let deadline = server.poll_timeout().unwrap();
//! assert_eq!(deadline, start + Duration::from_secs(25));
//! server.handle_timeout(deadline);
//! assert!(matches!(server.close_reason(), Some(CloseReason::PingTimeout { .. })));
//! ```
#![forbid(unsafe_code)]

mod budget;
// One path per type: the modules whose items are all re-exported here are
// private; `deflate` and `handshake` keep their own pages (they hold more
// than the root shows). `frame` and `utf8` are public for the fuzz
// targets and benchmarks only (`FrameHeader`, `apply_mask`,
// `Utf8Validator`), not part of the API: hidden from the docs.
mod close;
mod close_code;
mod config;
mod connection;
pub mod deflate;
mod error;
mod event;
mod extension;
#[doc(hidden)]
pub mod frame;
#[cfg(fuzzing)]
pub mod fuzzing;
pub mod handshake;
mod prepared;
mod rng;
#[doc(hidden)]
pub mod utf8;

pub use bytes::Bytes;
pub use bytestring::ByteString;

pub use budget::MemoryBudget;
pub use close::{CloseFrame, MAX_REASON_LEN};
pub use close_code::CloseCode;
pub use config::{Config, HandshakeLimits, Mode};
pub use connection::{Connection, MAX_TRANSMIT_SLICES, RecvBuffer, State};
#[doc(no_inline)]
pub use deflate::{DeflateConfig, DeflateExtension, DeflateParams};
pub use error::{ExtensionError, ProtocolError, SendError};
pub use event::{CloseReason, Event, Message, MessageChunk, MessageKind};
pub use extension::{Extension, ExtensionFactory, ExtensionHeader, NegotiationError};
pub use frame::{Frame, OpCode, Rsv};
pub use prepared::{EncodingKey, PreparedMessage};
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
