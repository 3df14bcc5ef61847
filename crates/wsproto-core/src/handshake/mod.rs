//! The opening handshake (RFC 6455 §4): the HTTP/1.1 upgrade, client and
//! server, without IO.
//!
//! Both sides are fed bytes with `handle_data` and answer
//! [`Progress::Partial`] until an HTTP head is complete; then they check it
//! and hand over the bytes that followed the head (`leftover`), which belong
//! to the WebSocket stream. No clock, socket or RNG is touched: the client's
//! key is passed in (`ClientHandshake::random_key` draws one with the
//! `getrandom` feature).
//!
//! ```text
//!  client                                                   server
//!  ClientHandshake::new(url, key, &config)                  ServerHandshake::new(&config)
//!  request_bytes() ───────── GET /chat HTTP/1.1 ──────────► handle_data(bytes)
//!                                                             → UpgradeRequest (inspect request,
//!                                                               subprotocols, extension offers)
//!                                                             → accept(&AcceptOptions) → ServerUpgrade
//!                                                             | reject(status, headers, body) → bytes
//!  handle_data(bytes) ◄───── HTTP/1.1 101 Switching ──────── ServerUpgrade::response
//!    → ClientUpgrade { response, subprotocol,               ServerUpgrade { subprotocol,
//!                      extensions, leftover }                               extensions, leftover }
//! ```
//!
//! Faults of the peer are [`ResponseError`] (client) and [`RequestError`]
//! (server, with the status and reply bytes: 400, 426 for a wrong version,
//! 431 for a head over the limits); misuse by the caller is
//! [`BuildError`], [`AcceptError`] and the `Finished` variants.
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
//! let Progress::Complete(upgrade) = client.handle_data(&accepted.response)? else {
//!     unreachable!()
//! };
//! assert_eq!(upgrade.subprotocol.as_deref(), Some("chat"));
//! assert!(upgrade.leftover.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use base64::Engine as _;
use http::StatusCode;
use sha1::{Digest as _, Sha1};

mod client;
mod error;
mod headers;
mod request;
mod server;
#[cfg(test)]
mod test_util;

pub use client::{ClientHandshake, ClientUpgrade};
pub use error::{
    AcceptError, AcceptErrorKind, BuildError, ClientError, RequestError, ResponseError, ServerError,
};
pub use request::{ClientBuilder, Scheme};
pub use server::{AcceptOptions, ServerHandshake, ServerUpgrade, UpgradeRequest};

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

/// Writes `HTTP/1.1 <code> <reason>\r\n`.
fn write_status_line(out: &mut Vec<u8>, status: StatusCode) {
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
}

impl ClientUpgrade {
    /// Starts the client connection: installs the negotiated extensions and
    /// feeds it the bytes that followed the response head (events they
    /// produce are ready at once from `poll_event`).
    #[must_use]
    pub fn into_connection(
        self,
        config: impl Into<std::sync::Arc<crate::Config>>,
        rng: crate::MaskRng,
        now: std::time::Instant,
    ) -> crate::Connection {
        let mut conn = crate::Connection::client(config, rng, now).with_extensions(self.extensions);
        if !self.leftover.is_empty() {
            conn.handle_data(now, &self.leftover);
        }
        conn
    }
}

impl ServerUpgrade {
    /// Starts the server connection (write [`response`](Self::response)
    /// first): installs the negotiated extensions and feeds it the bytes that
    /// followed the request head.
    #[must_use]
    pub fn into_connection(
        &mut self,
        config: impl Into<std::sync::Arc<crate::Config>>,
        now: std::time::Instant,
    ) -> crate::Connection {
        let mut conn = crate::Connection::server(config, now)
            .with_extensions(std::mem::take(&mut self.extensions));
        let leftover = std::mem::take(&mut self.leftover);
        if !leftover.is_empty() {
            conn.handle_data(now, &leftover);
        }
        conn
    }
}
