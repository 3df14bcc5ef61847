//! What connecting over HTTP/2 fails with.

use ws_session::{ConnectError, HandshakeError};

/// Why a WebSocket over HTTP/2 could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum H2Error {
    /// Opening the connection failed: TCP, TLS, the connect timeout, or
    /// (after a fallback) the HTTP/1.1 upgrade.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The HTTP/2 connection or the stream failed (a protocol error, a
    /// reset, the server going away).
    #[error("HTTP/2 with {authority} failed: {source}")]
    Http2 {
        /// The server, `host:port`.
        authority: String,
        /// What `h2` said.
        source: h2::Error,
    },
    /// The server does not accept WebSockets over HTTP/2: it did not send
    /// `SETTINGS_ENABLE_CONNECT_PROTOCOL` (RFC 8441 §3), and the fallback
    /// to HTTP/1.1 is off.
    #[error(
        "{authority} speaks HTTP/2 but does not accept WebSockets over it (no SETTINGS_ENABLE_CONNECT_PROTOCOL, RFC 8441 §3); allow the HTTP/1.1 fallback (H2Connector::fallback_to_http1) or enable extended CONNECT on the server (hyper: http2().enable_connect_protocol())"
    )]
    ExtendedConnectRefused {
        /// The server, `host:port`.
        authority: String,
    },
    /// TLS did not agree on HTTP/2 (the server's ALPN answer, if any, is
    /// given) and the fallback to HTTP/1.1 is off.
    #[error(
        "{authority} did not choose HTTP/2 in TLS (ALPN answer: {alpn:?}); allow the HTTP/1.1 fallback (H2Connector::fallback_to_http1) or serve h2"
    )]
    NoH2 {
        /// The server, `host:port`.
        authority: String,
        /// The protocol the server chose, if it chose one.
        alpn: Option<String>,
    },
    /// A `ws://` URL without prior knowledge: HTTP/2 in clear text is used
    /// only when asked ([`H2Connector::prior_knowledge`](crate::generic::H2Connector::prior_knowledge)),
    /// and the fallback to HTTP/1.1 is off.
    #[error(
        "{authority}: HTTP/2 without TLS needs prior knowledge (H2Connector::prior_knowledge(true)); or allow the HTTP/1.1 fallback"
    )]
    CleartextNeedsPriorKnowledge {
        /// The server, `host:port`.
        authority: String,
    },
    /// The extended CONNECT was answered but not accepted (a status other
    /// than 2xx, with the start of the body; a subprotocol or extension
    /// that was not offered), or did not come within the handshake
    /// timeout.
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    /// [`H2Connection::open`](crate::H2Connection::open) was given a URL
    /// of another origin than the connection's.
    #[error("{url} is not on this HTTP/2 connection's origin {origin}")]
    OtherOrigin {
        /// The URL asked for.
        url: String,
        /// The connection's `scheme://host:port`.
        origin: String,
    },
}

impl H2Error {
    /// The server's refusal (status, headers and the start of the body),
    /// when it answered the extended CONNECT (or, after a fallback, the
    /// upgrade) with another status.
    #[must_use]
    pub fn rejection(&self) -> Option<&http::Response<bytes::Bytes>> {
        match self {
            H2Error::Handshake(e) | H2Error::Connect(ConnectError::Handshake(e)) => e.rejection(),
            _ => None,
        }
    }
}
