//! Errors of the session ([`Error`]) and of the opening handshake
//! ([`HandshakeError`]), kept apart: the first can only happen on an open
//! session, the second means there never was one.

use std::io;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use wsproto_core::handshake::{AcceptErrorKind, BuildError, RequestError, ResponseError};
use wsproto_core::{CloseReason, SendError};

use crate::convert::ConvertError;
use crate::message::Message;
use crate::proxy::{DialError, ProxyError, RedirectError};

/// What a session operation fails with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The session has ended, however it ended (a clean close handshake is
    /// `CloseReason::Normal`). Every later call fails the same way; the
    /// reason is also kept in [`Session::close_reason`](crate::Session::close_reason).
    #[error("the WebSocket session has ended: {0}")]
    Closed(CloseReason),
    /// Reading or writing the transport failed. The session has ended with
    /// [`CloseReason::Abnormal`] (1006); later calls return
    /// [`Error::Closed`].
    #[error("transport error (the session ended with 1006): {0}")]
    Io(#[from] io::Error),
    /// The core refused the command: the connection is closing (no data may
    /// follow a Close), a control payload over 125 bytes, a close code that
    /// may not be sent, a raw-mode call in default mode, or an extension
    /// failure. Nothing was queued; the session is unaffected.
    #[error(transparent)]
    Send(#[from] SendError),
    /// A message did not convert to the requested type. The message is given
    /// back and the session stays usable (SPEC §3: unsupported data is the
    /// caller's error, not the peer's).
    #[error("the received {kind} message does not convert: {source}", kind = kind_name(.message))]
    Convert {
        /// The message that did not convert.
        message: Message,
        /// What the converter said.
        source: ConvertError,
    },
    /// A value could not be encoded into a message; nothing was sent.
    #[error("the value does not convert to a message: {0}")]
    Encode(ConvertError),
    /// `recv()` met something that is not a whole message: a streamed
    /// chunk (a stream threshold is configured) or, in raw mode, a
    /// fragment. Read it with [`recv_event`](crate::Session::recv_event) or
    /// [`recv_frame`](crate::Session::recv_frame); it is still there,
    /// nothing was lost.
    #[error(
        "not a whole message (a streamed chunk or a raw fragment): read it with recv_event() or recv_frame()"
    )]
    Streaming,
}

fn kind_name(message: &Message) -> &'static str {
    match message {
        Message::Text(_) => "text",
        Message::Binary(_) => "binary",
        Message::Ping(_) => "ping",
        Message::Pong(_) => "pong",
        Message::Close(_) => "close",
        Message::Frame(_) => "frame",
    }
}

impl Error {
    /// The close reason, when this error reports the end of the session.
    #[must_use]
    pub fn close_reason(&self) -> Option<&CloseReason> {
        match self {
            Error::Closed(reason) => Some(reason),
            _ => None,
        }
    }

    /// Whether this reports a session that ended with a completed close
    /// handshake (the normal way for a conversation to end).
    #[must_use]
    pub fn is_clean_close(&self) -> bool {
        matches!(self, Error::Closed(reason) if reason.is_clean())
    }
}

/// Why the opening handshake failed; no session was started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// Reading or writing the transport failed during the handshake.
    #[error("transport error during the WebSocket handshake: {0}")]
    Io(#[from] io::Error),
    /// The handshake did not complete within the configured handshake
    /// timeout.
    #[error(
        "the WebSocket handshake did not complete within {0:?} (the handshake timeout): is the peer a WebSocket endpoint, and is it answering?"
    )]
    Timeout(Duration),
    /// The client request could not be built (URL, headers, subprotocols).
    #[error("invalid upgrade request: {0}")]
    Build(#[from] BuildError),
    /// A header name or value, or the URL, given to a
    /// [`ClientRequestBuilder`](crate::ClientRequestBuilder) is not valid
    /// HTTP.
    #[error("invalid upgrade request: {0}")]
    Http(#[from] http::Error),
    /// Client: the server's answer is not a valid upgrade. A refusal
    /// (a status other than 101) is [`ResponseError::UnexpectedStatus`]
    /// with the status, the headers and the start of the body; see
    /// [`rejection`](Self::rejection).
    #[error(transparent)]
    Response(#[from] ResponseError),
    /// Server: the client's request is not a valid upgrade; the reply
    /// (400, 426 or 431) was written and the transport closed.
    #[error("invalid upgrade request from the client (answered {status}): {0}", status = .0.status())]
    Request(#[from] RequestError),
    /// Server: the application's callback rejected the request; the reply
    /// was written and the transport closed.
    #[error("the application's callback rejected the upgrade request with {0}")]
    Rejected(StatusCode),
    /// Server: the callback's accept options are invalid (for example a
    /// subprotocol the client did not offer). The client was answered 500.
    #[error("the accept options are invalid (answered 500): {0}")]
    Accept(AcceptErrorKind),
    /// The peer closed the transport before sending a complete HTTP head.
    #[error(
        "the peer closed the connection during the handshake, after {0} bytes (a TLS client on a plain port, a port scanner or a health check look like this)"
    )]
    UnexpectedEof(usize),
}

impl HandshakeError {
    /// Client: the server's refusal (status, headers and the start of the
    /// body), when the server answered something other than 101.
    #[must_use]
    pub fn rejection(&self) -> Option<&http::Response<Bytes>> {
        match self {
            HandshakeError::Response(ResponseError::UnexpectedStatus(response)) => Some(response),
            _ => None,
        }
    }
}

/// Why connecting failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The TCP connection could not be made by a custom
    /// [`Transport`](crate::Transport) (the built-in one reports
    /// [`ConnectError::Dial`]).
    #[error(
        "could not connect to {host}:{port}: {source} (check that the host name resolves, the server is running and the port is right)"
    )]
    Connect {
        /// The host from the URL.
        host: String,
        /// The port.
        port: u16,
        /// The system's error.
        source: io::Error,
    },
    /// The stream was not opened within the connect timeout: a proxy's
    /// tunnel, or a custom [`Transport`](crate::Transport) (a direct
    /// connection that times out is [`ConnectError::Dial`], with every
    /// address tried).
    #[error(
        "connecting to {host}:{port} timed out after {timeout:?} (the connect timeout): is a firewall dropping packets, or the host down?"
    )]
    ConnectTimeout {
        /// The host from the URL.
        host: String,
        /// The port.
        port: u16,
        /// The timeout.
        timeout: Duration,
    },
    /// The TLS handshake failed (certificate not trusted, name mismatch,
    /// protocol mismatch, a host that is not a valid server name).
    #[error(
        "TLS handshake with {host}:{port} failed: {source} (check that the server's certificate is trusted and issued for {host}, and that the port serves TLS)"
    )]
    Tls {
        /// The host from the URL.
        host: String,
        /// The port.
        port: u16,
        /// What the TLS library said.
        source: io::Error,
    },
    /// The URL is `wss://` but this build has no TLS (the adapter's
    /// `rustls` feature is off).
    #[error(
        "{host}:{port} needs TLS (wss://) but this build has none: enable the `rustls` feature"
    )]
    TlsDisabled {
        /// The host from the URL.
        host: String,
        /// The port.
        port: u16,
    },
    /// The WebSocket handshake failed; a refusal by the server carries its
    /// status, headers and the start of the body
    /// ([`HandshakeError::rejection`]).
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    /// No TCP connection to the server: every address it resolved to was
    /// tried (RFC 8305) and each one's failure is listed, or the name did
    /// not resolve, or the connect timeout passed first.
    #[error(transparent)]
    Dial(#[from] DialError),
    /// Reaching the server through a proxy failed: the proxy is named,
    /// with what it answered (status line and `Proxy-Authenticate`, the
    /// SOCKS5 reply by name), or the proxy setting is unusable.
    #[error("could not reach {host}:{port} through a proxy: {source}")]
    Proxy {
        /// The host from the URL.
        host: String,
        /// The port.
        port: u16,
        /// What went wrong with the proxy.
        source: ProxyError,
    },
    /// A redirect of the upgrade request was not followed (a downgrade
    /// from `wss://` to `ws://`, a loop, too many, a bad `Location`).
    #[error(transparent)]
    Redirect(#[from] RedirectError),
}

impl From<wsproto_core::handshake::BuildError> for ConnectError {
    fn from(e: wsproto_core::handshake::BuildError) -> Self {
        ConnectError::Handshake(HandshakeError::Build(e))
    }
}

impl ConnectError {
    /// The server's refusal (status, headers, start of the body), if it
    /// answered the upgrade with something other than 101.
    #[must_use]
    pub fn rejection(&self) -> Option<&http::Response<bytes::Bytes>> {
        match self {
            ConnectError::Handshake(e) => e.rejection(),
            _ => None,
        }
    }
}
