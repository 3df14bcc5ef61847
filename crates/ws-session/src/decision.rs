//! The server application's answer to an upgrade request: accept (with a
//! subprotocol and headers) or refuse with an HTTP response. Shared by the
//! accept paths ([`crate::handshake`]) and the lifecycle controls that
//! refuse on their own (connection caps, shutdown).

use http::{HeaderMap, StatusCode};
use wsproto_core::handshake::AcceptOptions;

/// A server's answer to an upgrade request, chosen by the application's
/// callback after looking at the [`UpgradeRequest`](wsproto_core::handshake::UpgradeRequest).
#[derive(Debug)]
#[non_exhaustive]
pub enum Decision {
    /// Accept, with a subprotocol and extra response headers.
    Accept(AcceptOptions),
    /// Refuse with an HTTP status, headers and a body.
    Reject {
        /// The status (for example 401, 403, 404).
        status: StatusCode,
        /// Extra response headers.
        headers: HeaderMap,
        /// The response body.
        body: Vec<u8>,
    },
}

impl Decision {
    /// Accept with default options (no subprotocol, no extra headers).
    #[must_use]
    pub fn accept() -> Self {
        Decision::Accept(AcceptOptions::new())
    }

    /// Accept with `options`.
    #[must_use]
    pub fn accept_with(options: AcceptOptions) -> Self {
        Decision::Accept(options)
    }

    /// Refuse with `status`, no extra headers, and `body`.
    #[must_use]
    pub fn reject(status: StatusCode, body: impl Into<Vec<u8>>) -> Self {
        Decision::Reject {
            status,
            headers: HeaderMap::new(),
            body: body.into(),
        }
    }
}
