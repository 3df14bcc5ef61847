//! The server side of the opening handshake over bytes (RFC 6455 §4.2): a
//! small HTTP/1 layer around the negotiation. Bytes are parsed into an
//! `http::Request` (bounded by the handshake limits), the request goes to
//! [`UpgradeRequest::from_request`] like any request an HTTP server parsed,
//! and the answers come back as `http::Response`s that
//! [`response_bytes`](super::response_bytes) serialises.

use std::sync::Arc;

use http::{HeaderMap, Method, Uri, Version};

use crate::config::Config;
use crate::extension::ExtensionFactory;

use super::Progress;
use super::error::{RequestError, ServerError};
use super::head::{HeadBuffer, HeadFault, HeadOutcome};
use super::headers::to_header_map;
use super::negotiate::{UpgradeRequest, Via};
use super::origin::OriginPolicy;

/// The server side of the opening handshake over a byte stream.
///
/// Feed everything read from the transport to
/// [`handle_data`](Self::handle_data) until it returns an
/// [`UpgradeRequest`] (then call [`UpgradeRequest::accept`] and write
/// [`ServerUpgrade::response_bytes`](super::ServerUpgrade::response_bytes),
/// or [`UpgradeRequest::reject`] and write its
/// [`response_bytes`](super::response_bytes)) or a [`RequestError`] (then
/// write [`RequestError::response_bytes`] and close). The head is bounded
/// by the config's [`HandshakeLimits`](crate::HandshakeLimits): a larger
/// head or more header fields is answered with 431. The config's Origin
/// policy and extensions apply as on every accept path.
#[derive(Debug)]
pub struct ServerHandshake {
    head: HeadBuffer,
    /// What the negotiation reads from the config.
    origin_policy: OriginPolicy,
    factories: Vec<Arc<dyn ExtensionFactory>>,
    finished: bool,
}

impl ServerHandshake {
    /// A handshake that applies `config`'s handshake limits, Origin policy
    /// and extensions.
    #[must_use]
    pub fn new(config: &Config) -> Self {
        ServerHandshake {
            head: HeadBuffer::new(config.handshake_limits()),
            origin_policy: config.origin_policy().clone(),
            factories: config.extensions().to_vec(),
            finished: false,
        }
    }

    /// Whether a result (request or error) was returned already.
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Feeds bytes read from the transport. Returns [`Progress::Partial`]
    /// until the request head is complete, then the checked request or the
    /// fault (RFC 6455 §4.2.1). After a result, further calls return
    /// [`ServerError::Finished`]; bytes after the head are kept in
    /// [`UpgradeRequest::leftover`].
    ///
    /// ```
    /// use wsproto_core::Config;
    /// use wsproto_core::handshake::{Progress, ServerError, ServerHandshake};
    ///
    /// // A request in two reads; the second lacks the version header.
    /// let mut handshake = ServerHandshake::new(&Config::default());
    /// let first = b"GET /chat HTTP/1.1\r\nHost: example.com\r\n";
    /// assert!(matches!(handshake.handle_data(first), Ok(Progress::Partial)));
    /// let rest = b"Upgrade: websocket\r\nConnection: Upgrade\r\n\
    ///     Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    /// let Err(ServerError::Request(fault)) = handshake.handle_data(rest) else { panic!() };
    /// // Write this reply and close: 426 with `Sec-WebSocket-Version: 13`.
    /// let reply = String::from_utf8(fault.response_bytes()).unwrap();
    /// assert!(reply.starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
    /// assert!(reply.contains("Sec-WebSocket-Version: 13\r\n"));
    /// ```
    pub fn handle_data(&mut self, data: &[u8]) -> Result<Progress<UpgradeRequest>, ServerError> {
        if self.finished {
            return Err(ServerError::Finished);
        }
        let result = self.step(data);
        if !matches!(result, Ok(Progress::Partial)) {
            self.finished = true;
        }
        result.map_err(ServerError::from)
    }

    fn step(&mut self, data: &[u8]) -> Result<Progress<UpgradeRequest>, RequestError> {
        let limits = self.head.limits();
        let outcome = self.head.push(data, parse_request).map_err(|f| match f {
            HeadFault::TooLarge => RequestError::HeadTooLarge {
                limit: limits.max_head_bytes,
            },
            HeadFault::TooManyHeaders => RequestError::TooManyHeaders {
                limit: limits.max_headers,
            },
            HeadFault::Malformed(e) => RequestError::Malformed(e),
        })?;
        let HeadOutcome::Complete(parsed, head_len) = outcome else {
            return Ok(Progress::Partial);
        };
        let mut request = UpgradeRequest::negotiate_with(
            parsed?,
            Via::Http11,
            &self.origin_policy,
            self.factories.clone(),
        )?;
        request.set_leftover(self.head.take_after(head_len));
        Ok(Progress::Complete(request))
    }
}

type ParsedRequest = Result<http::Request<()>, RequestError>;

/// A complete head as an `http::Request` (HTTP/1.0 and 1.1; the
/// negotiation refuses anything but 1.1).
fn parse_request<'b>(
    buf: &'b [u8],
    storage: &mut [httparse::Header<'b>],
) -> Result<Option<(ParsedRequest, usize)>, httparse::Error> {
    let mut request = httparse::Request::new(storage);
    Ok(match request.parse(buf)? {
        httparse::Status::Partial => None,
        httparse::Status::Complete(len) => {
            let parsed = (|| {
                let (Some(method), Some(path), Some(version)) =
                    (request.method, request.path, request.version)
                else {
                    return Err(RequestError::InvalidTarget);
                };
                let method = Method::from_bytes(method.as_bytes())
                    .map_err(|_| RequestError::Malformed(httparse::Error::Token))?;
                let uri = path
                    .parse::<Uri>()
                    .map_err(|_| RequestError::InvalidTarget)?;
                let headers: HeaderMap =
                    to_header_map(request.headers).ok_or(RequestError::InvalidHeaderField)?;
                let mut parsed = http::Request::new(());
                *parsed.method_mut() = method;
                *parsed.uri_mut() = uri;
                *parsed.version_mut() = if version == 1 {
                    Version::HTTP_11
                } else {
                    Version::HTTP_10
                };
                *parsed.headers_mut() = headers;
                Ok(parsed)
            })();
            Some((parsed, len))
        }
    })
}

#[cfg(test)]
mod tests;
