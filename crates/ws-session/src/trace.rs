//! `tracing` events, behind the `tracing` cargo feature. Without it the
//! macro expands to `()` and the functions are empty: no code, no
//! `tracing` dependency, and no argument is evaluated.
//!
//! | event | level |
//! | --- | --- |
//! | connecting to host:port (scheme) | debug |
//! | connect failed: TCP error or timeout, TLS failure (host, port) | warn |
//! | handshake done: status, subprotocol, extensions (client); path, subprotocol, extensions (server) | debug |
//! | handshake failed: refusal with its status, bad response, timeout, invalid or rejected request | warn |
//! | Close sent by the application, Close received (code, reason) | debug |
//! | session ended cleanly (code, reason, who closed first), or terminated | debug |
//! | session ended otherwise: protocol error (rule, close code sent), ping timeout, close timeout, transport lost | warn |
//! | transport error | debug |
//! | accept loop paused on a resource error (`EMFILE`, …), once per episode | warn |
//! | shutdown done: the report (sessions, closed, ended, forced, elapsed) | debug |

#[cfg(feature = "tracing")]
macro_rules! trace_debug {
    ($($arg:tt)*) => { ::tracing::debug!($($arg)*) };
}
#[cfg(not(feature = "tracing"))]
macro_rules! trace_debug {
    ($($arg:tt)*) => {
        ()
    };
}

pub(crate) use trace_debug;

#[cfg(feature = "tracing")]
mod on {
    use wsproto_core::{CloseFrame, CloseReason};

    use crate::{AcceptedRequest, ClientResponse, ConnectError, HandshakeError};

    pub(crate) fn session_ended(reason: &CloseReason) {
        match reason {
            CloseReason::Normal {
                frame,
                initiated_locally,
            } => tracing::debug!(
                code = reason.code().0,
                reason = frame.as_ref().map_or("", |f| f.reason.as_str()),
                initiated_locally,
                "WebSocket session closed cleanly"
            ),
            CloseReason::Terminated => tracing::debug!("WebSocket session terminated locally"),
            other => tracing::warn!(code = other.code().0, "WebSocket session ended: {other}"),
        }
    }

    pub(crate) fn close_received(frame: Option<&CloseFrame>) {
        tracing::debug!(
            code = frame.map_or(1005, |f| f.code.0),
            reason = frame.map_or("", |f| f.reason.as_str()),
            "WebSocket Close received"
        );
    }

    pub(crate) fn client_handshake(result: Result<&ClientResponse, &HandshakeError>) {
        match result {
            Ok(response) => tracing::debug!(
                status = %response.status(),
                subprotocol = response.subprotocol().unwrap_or(""),
                extensions = ?response.extensions(),
                "WebSocket client handshake done"
            ),
            Err(error) => tracing::warn!("WebSocket client handshake failed: {error}"),
        }
    }

    pub(crate) fn server_handshake(result: Result<&AcceptedRequest, &HandshakeError>) {
        match result {
            Ok(accepted) => tracing::debug!(
                path = %accepted.uri(),
                subprotocol = accepted.subprotocol().unwrap_or(""),
                extensions = ?accepted.extensions(),
                "WebSocket server handshake done"
            ),
            Err(error) => tracing::warn!("WebSocket server handshake failed: {error}"),
        }
    }

    pub(crate) fn connect_failed(error: &ConnectError) {
        // Handshake failures were traced by the handshake itself.
        if !matches!(error, ConnectError::Handshake(_)) {
            tracing::warn!("WebSocket connect failed: {error}");
        }
    }

    pub(crate) fn accept_paused(error: &std::io::Error, pause: std::time::Duration) {
        tracing::warn!(
            ?pause,
            "accepting connections failed: {error}; pausing until resources free up (logged once until an accept succeeds)"
        );
    }
}

#[cfg(not(feature = "tracing"))]
mod on {
    use wsproto_core::{CloseFrame, CloseReason};

    use crate::{AcceptedRequest, ClientResponse, ConnectError, HandshakeError};

    #[inline]
    pub(crate) fn session_ended(_: &CloseReason) {}
    #[inline]
    pub(crate) fn close_received(_: Option<&CloseFrame>) {}
    #[inline]
    pub(crate) fn client_handshake(_: Result<&ClientResponse, &HandshakeError>) {}
    #[inline]
    pub(crate) fn server_handshake(_: Result<&AcceptedRequest, &HandshakeError>) {}
    #[inline]
    pub(crate) fn connect_failed(_: &ConnectError) {}
    #[inline]
    pub(crate) fn accept_paused(_: &std::io::Error, _: std::time::Duration) {}
}

pub(crate) use on::{
    accept_paused, client_handshake, close_received, connect_failed, server_handshake,
    session_ended,
};
