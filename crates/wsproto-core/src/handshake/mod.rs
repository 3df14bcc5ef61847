//! The opening handshake without IO: the HTTP/1.1 upgrade (RFC 6455 §4),
//! client and server, and the server's negotiation for requests an HTTP
//! server has already parsed (HTTP/1.1, or an HTTP/2 extended CONNECT per
//! RFC 8441).
//!
//! Over bytes, both sides are fed with `handle_data` and answer
//! [`Progress::Partial`] until an HTTP head is complete; then they check it
//! and hand over the bytes that followed the head (`leftover`), which belong
//! to the WebSocket stream. No clock, socket or RNG is touched: the client's
//! key is passed in (`ClientHandshake::random_key` draws one with the
//! `getrandom` feature).
//!
//! The server has one negotiation, [`UpgradeRequest`], on structured HTTP
//! (as Python `websockets`' `accept()`/`reject()` then `send_response`):
//! [`ServerHandshake`] is a small HTTP/1 layer that parses bytes into an
//! `http::Request`, hands it to the negotiation and serialises the
//! `http::Response` that comes back; hyper and axum glue hands it the
//! request it parsed ([`UpgradeRequest::from_request`]) and sends the
//! response itself. Checks, Origin policy ([`OriginPolicy`]), subprotocol
//! choice and extension negotiation are therefore the same on every path.
//!
//! ```text
//!  client                                  server, bytes                server, parsed (hyper, axum)
//!  ClientHandshake::new(url, key, &config) ServerHandshake::new(&config)
//!  request_bytes() ── GET /chat HTTP/1.1 ─► handle_data(bytes)          http::Request<()> + Via
//!                                             parse → http::Request ──► UpgradeRequest::from_request
//!                                                 (checks, Origin policy, offers) ◄──┘
//!                                             → UpgradeRequest (inspect request, subprotocols, offers)
//!                                             → accept(&AcceptOptions) → ServerUpgrade { response:
//!                                                 http::Response<()> (101, or 200 for RFC 8441),
//!                                                 subprotocol, extensions, leftover }
//!                                             | reject(status, headers, body) → http::Response<Bytes>
//!  handle_data(bytes) ◄─ HTTP/1.1 101 ──── response_bytes(&response)   (the HTTP server writes it)
//!    → ClientUpgrade { response, subprotocol, extensions, leftover }
//! ```
//!
//! Faults of the peer are [`ResponseError`] (client) and [`RequestError`]
//! (server, with the status and reply: 400, 426 for a wrong version, 403
//! for a refused Origin, 431 for a head over the limits); misuse by the
//! caller is [`BuildError`], [`AcceptError`] and the `Finished` variants.
//!
//! # Example
//!
//! ```
//! use wsproto_core::Config;
//! use wsproto_core::handshake::{
//!     AcceptOptions, ClientBuilder, Progress, ServerHandshake,
//! };
//!
//! let config = Config::default();
//! let mut client = ClientBuilder::new("ws://example.com/chat?room=1")?
//!     .subprotocol("chat")
//!     .build([7; 16], &config)?;
//! assert_eq!((client.host(), client.port()), ("example.com", 80));
//!
//! // Server: the request arrives (here in one piece, followed by a frame).
//! let mut server = ServerHandshake::new(&config);
//! let mut wire = client.request_bytes().to_vec();
//! wire.extend_from_slice(b"\x81\x80....");
//! let Progress::Complete(request) = server.handle_data(&wire)? else { unreachable!() };
//! assert_eq!(request.request().uri().path(), "/chat");
//! assert_eq!(request.subprotocols(), ["chat"]);
//! let accepted = request
//!     .accept(&AcceptOptions::new().subprotocol("chat"))
//!     .map_err(|e| e.to_string())?;
//! assert_eq!(&accepted.leftover[..], b"\x81\x80....");
//!
//! // Client: the 101 arrives.
//! assert_eq!(accepted.response.status(), 101);
//! let Progress::Complete(upgrade) = client.handle_data(&accepted.response_bytes())? else {
//!     unreachable!()
//! };
//! assert_eq!(upgrade.subprotocol.as_deref(), Some("chat"));
//! assert!(upgrade.leftover.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use base64::Engine as _;
use sha1::{Digest as _, Sha1};

mod client;
mod error;
mod head;
mod headers;
mod negotiate;
mod origin;
mod request;
mod response;
mod server;
#[cfg(test)]
mod test_util;
mod wire;

pub use client::{ClientHandshake, ClientUpgrade};
pub use error::{BuildError, ClientError, InvalidHeader, RequestError, ResponseError, ServerError};
pub use negotiate::{
    AcceptError, AcceptErrorKind, AcceptOptions, ServerUpgrade, UpgradeRequest, Via,
};
pub use origin::OriginPolicy;
pub use request::{ClientBuilder, Scheme};
pub use server::ServerHandshake;
pub use wire::response_bytes;

/// The most body bytes of a non-101 answer kept in
/// [`ResponseError::UnexpectedStatus`].
pub const MAX_ERROR_BODY: usize = 4096;

/// The GUID of RFC 6455 §1.3, appended to the key before hashing.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Whether a handshake step finished.
#[derive(Debug)]
#[must_use]
pub enum Progress<T> {
    /// More bytes are needed; everything given so far was kept.
    Partial,
    /// The head is complete and valid.
    Complete(T),
}

/// The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key` (RFC 6455
/// §1.3): base64 of the SHA-1 of the key (as sent, base64 text) followed by
/// the protocol's GUID.
///
/// ```
/// assert_eq!(
///     wsproto_core::handshake::accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
///     "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
/// );
/// ```
#[must_use]
pub fn accept_key(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.as_bytes());
    sha.update(GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(sha.finalize())
}
