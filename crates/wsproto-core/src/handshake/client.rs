//! The client side of the opening handshake (RFC 6455 §4.1): write the
//! request built by [`ClientBuilder`](super::ClientBuilder), then read and
//! check the server's response.

use std::sync::Arc;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{StatusCode, Uri, Version};

use crate::config::{Config, HandshakeLimits};
use crate::extension::{Extension, ExtensionFactory, ExtensionHeader, NegotiationError};
use crate::frame::Rsv;

use super::error::{BuildError, ClientError, ResponseError};
use super::headers::{HeadBuffer, HeadFault, HeadOutcome, has_token, joined, to_header_map};
use super::request::{BuiltRequest, ClientBuilder, Scheme};
use super::{MAX_ERROR_BODY, Progress};

#[derive(Debug)]
enum State {
    /// Reading the response head.
    Head,
    /// A non-101 answer: collecting the start of its body for the error.
    Body {
        response: Box<http::Response<()>>,
        head_len: usize,
        /// Body bytes to wait for; `None` = until EOF (or the cap).
        want: Option<usize>,
    },
    /// The result was returned.
    Finished,
}

/// The client side of the opening handshake.
///
/// Build it with [`ClientHandshake::new`] (a URL), [`ClientHandshake::from_request`]
/// or a [`ClientBuilder`]; connect to [`host`](Self::host):[`port`](Self::port)
/// (with TLS when [`scheme`](Self::scheme) is `wss`); write
/// [`request_bytes`](Self::request_bytes); then feed everything read to
/// [`handle_data`](Self::handle_data) until it returns
/// [`Progress::Complete`] or an error, and call
/// [`handle_eof`](Self::handle_eof) if the transport ends first.
#[derive(Debug)]
pub struct ClientHandshake {
    request: http::Request<()>,
    bytes: Vec<u8>,
    scheme: Scheme,
    host: String,
    port: u16,
    expected_accept: String,
    subprotocols: Vec<String>,
    /// The factories that offered something, in config order.
    factories: Vec<Arc<dyn ExtensionFactory>>,
    head: HeadBuffer,
    state: State,
}

/// A successful client handshake.
#[derive(Debug)]
#[non_exhaustive]
pub struct ClientUpgrade {
    /// The server's 101 response.
    pub response: http::Response<()>,
    /// The subprotocol the server chose, if any (always one that was offered).
    pub subprotocol: Option<String>,
    /// The negotiated extensions, in the order of the server's
    /// `Sec-WebSocket-Extensions` header.
    pub extensions: Vec<Box<dyn Extension>>,
    /// Bytes that arrived after the response head: the start of the
    /// WebSocket stream. Feed them to the connection first.
    pub leftover: Bytes,
}

impl ClientHandshake {
    pub(super) fn from_built(built: BuiltRequest, limits: HandshakeLimits) -> Self {
        ClientHandshake {
            request: built.request,
            bytes: built.bytes,
            scheme: built.scheme,
            host: built.host,
            port: built.port,
            expected_accept: built.expected_accept,
            subprotocols: built.subprotocols,
            factories: built.factories,
            head: HeadBuffer::new(limits),
            state: State::Head,
        }
    }

    /// A handshake for a `ws://` or `wss://` URL with no extra headers or
    /// subprotocols; see [`ClientBuilder`] for those.
    ///
    /// # Errors
    /// A [`BuildError`] for an invalid or unsupported URL.
    pub fn new(url: &str, key: [u8; 16], config: &Config) -> Result<Self, BuildError> {
        ClientBuilder::new(url)?.build(key, config)
    }

    /// A handshake for a parsed URI.
    ///
    /// # Errors
    /// A [`BuildError`] for an unsupported URI.
    pub fn from_uri(uri: Uri, key: [u8; 16], config: &Config) -> Result<Self, BuildError> {
        ClientBuilder::from_uri(uri).build(key, config)
    }

    /// A handshake for a complete request (see
    /// [`ClientBuilder::from_request`]).
    ///
    /// # Errors
    /// A [`BuildError`] when the request cannot be an upgrade request.
    pub fn from_request(
        request: http::Request<()>,
        key: [u8; 16],
        config: &Config,
    ) -> Result<Self, BuildError> {
        ClientBuilder::from_request(request).build(key, config)
    }

    /// 16 bytes for `Sec-WebSocket-Key` from the operating system's CSPRNG.
    ///
    /// # Errors
    /// The operating system could not provide entropy.
    #[cfg(feature = "getrandom")]
    pub fn random_key() -> Result<[u8; 16], getrandom::Error> {
        let mut key = [0u8; 16];
        getrandom::fill(&mut key)?;
        Ok(key)
    }

    /// The serialized request to write to the transport, once.
    #[must_use]
    pub fn request_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The request as sent (every header field, URI as given).
    #[must_use]
    pub fn request(&self) -> &http::Request<()> {
        &self.request
    }

    /// `ws` or `wss`: whether to run TLS under the handshake.
    #[must_use]
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The host to connect to (and the TLS server name): a name or an IP
    /// address, IPv6 without brackets.
    #[must_use]
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port to connect to: the URL's, or 80/443 by scheme.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The subprotocols offered, in order of preference.
    #[must_use]
    pub fn subprotocols(&self) -> &[String] {
        &self.subprotocols
    }

    /// Whether a result (success or error) was returned already.
    #[must_use]
    pub fn is_finished(&self) -> bool {
        matches!(self.state, State::Finished)
    }

    /// Feeds bytes read from the transport. Returns [`Progress::Partial`]
    /// while the response (or, for a non-101 answer, the start of its body)
    /// is incomplete, then the checked result. After a result, further calls
    /// return [`ClientError::Finished`].
    ///
    /// A non-101 answer is reported as [`ResponseError::UnexpectedStatus`]
    /// once its body has arrived: `Content-Length` bytes (at most
    /// [`MAX_ERROR_BODY`]), what has arrived for a chunked body, nothing for
    /// 1xx/204/304, and until [`handle_eof`](Self::handle_eof) (or the cap)
    /// for a body with no length.
    pub fn handle_data(&mut self, data: &[u8]) -> Result<Progress<ClientUpgrade>, ClientError> {
        let result = self.step(data);
        if !matches!(result, Ok(Progress::Partial)) {
            self.state = State::Finished;
        }
        result
    }

    /// The transport ended. Always an error: [`ResponseError::UnexpectedEof`]
    /// during the head, [`ResponseError::UnexpectedStatus`] with the body
    /// received so far after a non-101 head, [`ClientError::Finished`] after
    /// a result.
    pub fn handle_eof(&mut self) -> ClientError {
        let state = std::mem::replace(&mut self.state, State::Finished);
        match state {
            State::Head => ResponseError::UnexpectedEof {
                received: self.head.len(),
            }
            .into(),
            State::Body {
                response, head_len, ..
            } => self.status_error(*response, head_len).into(),
            State::Finished => ClientError::Finished,
        }
    }

    fn step(&mut self, data: &[u8]) -> Result<Progress<ClientUpgrade>, ClientError> {
        match &self.state {
            State::Finished => return Err(ClientError::Finished),
            State::Body { head_len, .. } => {
                let room = (head_len + MAX_ERROR_BODY).saturating_sub(self.head.len());
                self.head.extend(&data[..data.len().min(room)]);
                return self.check_body();
            }
            State::Head => {}
        }
        let limits = self.head.limits();
        let outcome = self.head.push(data, parse_response).map_err(|f| match f {
            HeadFault::TooLarge => ResponseError::HeadTooLarge {
                limit: limits.max_head_bytes,
            },
            HeadFault::TooManyHeaders => ResponseError::TooManyHeaders {
                limit: limits.max_headers,
            },
            HeadFault::Malformed(e) => ResponseError::Malformed(e),
        })?;
        let HeadOutcome::Complete(parsed, head_len) = outcome else {
            return Ok(Progress::Partial);
        };
        let (version, code, headers) = parsed.ok_or(ResponseError::InvalidHeaderField)?;
        let status = StatusCode::from_u16(code).map_err(|_| ResponseError::InvalidHeaderField)?;
        let mut response = http::Response::new(());
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        *response.version_mut() = if version == 1 {
            Version::HTTP_11
        } else {
            Version::HTTP_10
        };

        if status != StatusCode::SWITCHING_PROTOCOLS {
            let want = body_length(&response);
            self.state = State::Body {
                response: Box::new(response),
                head_len,
                want,
            };
            // Keep no more than the cap of what already arrived.
            self.head.truncate(head_len + MAX_ERROR_BODY);
            return self.check_body();
        }
        if version != 1 {
            return Err(ResponseError::NotHttp11.into());
        }
        let (subprotocol, extensions) = self.validate(response.headers())?;
        Ok(Progress::Complete(ClientUpgrade {
            response,
            subprotocol,
            extensions,
            leftover: self.head.take_after(head_len),
        }))
    }

    fn check_body(&mut self) -> Result<Progress<ClientUpgrade>, ClientError> {
        let State::Body { head_len, want, .. } = &self.state else {
            return Err(ClientError::Finished);
        };
        let head_len = *head_len;
        let have = self.head.len() - head_len;
        if have < want.unwrap_or(MAX_ERROR_BODY) {
            return Ok(Progress::Partial);
        }
        let State::Body { response, .. } = std::mem::replace(&mut self.state, State::Finished)
        else {
            return Err(ClientError::Finished);
        };
        Err(self.status_error(*response, head_len).into())
    }

    fn status_error(&mut self, response: http::Response<()>, head_len: usize) -> ResponseError {
        let mut body = self.head.take_after(head_len);
        body.truncate(MAX_ERROR_BODY);
        ResponseError::UnexpectedStatus(Box::new(response.map(|()| body)))
    }

    /// RFC 6455 §4.1, the client's checks of a 101 response (points 2-6).
    fn validate(&self, headers: &HeaderMap) -> Result<Negotiated, ResponseError> {
        let mut upgrade = headers.get_all(header::UPGRADE).iter();
        let first = upgrade.next();
        let is_websocket =
            |v: &HeaderValue| v.as_bytes().trim_ascii().eq_ignore_ascii_case(b"websocket");
        if !(first.is_some_and(is_websocket) && upgrade.next().is_none()) {
            return Err(ResponseError::InvalidUpgrade(first.cloned()));
        }
        if !has_token(headers, &header::CONNECTION, "upgrade") {
            return Err(ResponseError::MissingConnectionUpgrade);
        }
        let mut accept = headers.get_all(header::SEC_WEBSOCKET_ACCEPT).iter();
        let found = accept.next();
        let matches =
            found.is_some_and(|v| v.as_bytes().trim_ascii() == self.expected_accept.as_bytes());
        if !(matches && accept.next().is_none()) {
            return Err(ResponseError::InvalidAccept {
                expected: self.expected_accept.clone(),
                found: found.cloned(),
            });
        }
        let extensions = match joined(headers, &header::SEC_WEBSOCKET_EXTENSIONS) {
            None => Vec::new(),
            Some(Err(())) => return Err(NegotiationError::Malformed.into()),
            Some(Ok(list)) => negotiate(&self.factories, &ExtensionHeader::parse_list(&list)?)?,
        };
        let subprotocol = self.chosen_subprotocol(headers)?;
        Ok((subprotocol, extensions))
    }

    fn chosen_subprotocol(&self, headers: &HeaderMap) -> Result<Option<String>, ResponseError> {
        let mut values = headers.get_all(header::SEC_WEBSOCKET_PROTOCOL).iter();
        let Some(value) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() || value.as_bytes().contains(&b',') {
            return Err(ResponseError::SeveralSubprotocols);
        }
        let chosen = String::from_utf8_lossy(value.as_bytes().trim_ascii()).into_owned();
        if self.subprotocols.is_empty() {
            Err(ResponseError::SubprotocolNotRequested(chosen))
        } else if self.subprotocols.contains(&chosen) {
            Ok(Some(chosen))
        } else {
            Err(ResponseError::UnofferedSubprotocol(chosen))
        }
    }
}

/// The chosen subprotocol and the negotiated extensions.
type Negotiated = (Option<String>, Vec<Box<dyn Extension>>);

type ParsedHead = Option<(u8, u16, HeaderMap)>;

fn parse_response<'b>(
    buf: &'b [u8],
    storage: &mut [httparse::Header<'b>],
) -> Result<Option<(ParsedHead, usize)>, httparse::Error> {
    let mut response = httparse::Response::new(storage);
    Ok(match response.parse(buf)? {
        httparse::Status::Partial => None,
        httparse::Status::Complete(len) => {
            let parsed = match (response.version, response.code) {
                (Some(version), Some(code)) => {
                    to_header_map(response.headers).map(|h| (version, code, h))
                }
                _ => None,
            };
            Some((parsed, len))
        }
    })
}

/// How many body bytes of a non-101 answer to wait for (`None`: until EOF).
fn body_length(response: &http::Response<()>) -> Option<usize> {
    let status = response.status();
    if status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        return Some(0);
    }
    let headers = response.headers();
    if headers.contains_key(header::TRANSFER_ENCODING) {
        // Chunked: take what has arrived rather than decode chunks.
        return Some(0);
    }
    headers.get(header::CONTENT_LENGTH).map(|v| {
        v.to_str()
            .ok()
            .and_then(|s| s.trim().parse::<usize>().ok())
            .map_or(0, |n| n.min(MAX_ERROR_BODY))
    })
}

/// RFC 6455 §4.1 point 5 and §9.1: every accepted extension must have been
/// offered, at most once, and no two may claim the same RSV bit; the
/// factory checks the parameters.
fn negotiate(
    factories: &[Arc<dyn ExtensionFactory>],
    accepted: &[ExtensionHeader],
) -> Result<Vec<Box<dyn Extension>>, NegotiationError> {
    let mut used = vec![false; factories.len()];
    let mut rsv = Rsv::NONE;
    let mut out = Vec::with_capacity(accepted.len());
    for entry in accepted {
        let Some(i) = factories
            .iter()
            .position(|f| f.name().eq_ignore_ascii_case(&entry.name))
        else {
            return Err(NegotiationError::UnofferedExtension(entry.name.clone()));
        };
        if used[i] {
            return Err(NegotiationError::Conflict(entry.name.clone()));
        }
        used[i] = true;
        let extension = factories[i].client_accept(entry)?;
        if rsv.bits() & extension.rsv().bits() != 0 {
            return Err(NegotiationError::Conflict(entry.name.clone()));
        }
        rsv = rsv.union(extension.rsv());
        out.push(extension);
    }
    Ok(out)
}
