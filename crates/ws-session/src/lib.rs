//! A runtime-neutral WebSocket session: the one loop that drives the
//! sans-IO [`wsproto_core`] over any `futures-io` transport, shared by the
//! tokio and async-std adapters.
//!
//! ```text
//!  application ── send_* / close ──►  Session<S>  ── poll_transmit ──► S (AsyncWrite)
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
//! Heartbeats, the close timeout, reassembly and the wait for the server's
//! EOF are the core's: this crate only moves bytes and sleeps until
//! `poll_timeout()`.
#![forbid(unsafe_code)]

mod convert;
mod driver;
mod error;
mod handshake;
mod runtime;
mod session;
pub mod split;

#[cfg(feature = "json")]
pub use convert::JsonConverter;
pub use convert::{ConvertError, Converter};
pub use error::{Error, HandshakeError};
pub use handshake::{
    AcceptedRequest, ClientResponse, Decision, HandshakeOptions, build_request, client, pair,
    server,
};
pub use runtime::{Runtime, Timer};
pub use session::Session;
pub use split::{SessionReader, SessionWriter};

pub use wsproto_core;
pub use wsproto_core::handshake::{AcceptOptions, ClientBuilder, UpgradeRequest};
pub use wsproto_core::{
    ByteString, Bytes, CloseCode, CloseFrame, CloseReason, Config, DeflateConfig, Event, Frame,
    Message, Mode, OpCode,
};
