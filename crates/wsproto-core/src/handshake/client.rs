//! The client side of the opening handshake (RFC 6455 §4.1): write the
//! request built by [`ClientBuilder`](super::ClientBuilder), then read and
//! check the server's response.

use bytes::Bytes;
use http::{StatusCode, Uri, Version};

use crate::config::Config;
use crate::extension::Extension;

use super::error::{BuildError, ClientError, ResponseError};
use super::head::{HeadBuffer, HeadFault, HeadOutcome};
use super::request::{ClientBuilder, Scheme};
use super::response::{Offer, body_length, parse_response};
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
    /// What the response must answer.
    offer: Offer,
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

impl ClientBuilder {
    /// Builds the request with the given `Sec-WebSocket-Key` bytes (16
    /// random bytes, fresh for every connection: RFC 6455 §4.1; see
    /// `ClientHandshake::random_key` with the `getrandom` feature) and the
    /// extension offers of every factory in `config`.
    ///
    /// # Errors
    /// A [`BuildError`] when the URI, method, headers or subprotocols cannot
    /// make a valid upgrade request.
    pub fn build(self, key: [u8; 16], config: &Config) -> Result<ClientHandshake, BuildError> {
        let built = self.build_request(key, config)?;
        Ok(ClientHandshake {
            request: built.request,
            bytes: built.bytes,
            scheme: built.scheme,
            host: built.host,
            port: built.port,
            offer: built.offer,
            head: HeadBuffer::new(config.handshake_limits()),
            state: State::Head,
        })
    }
}

impl ClientHandshake {
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
        &self.offer.subprotocols
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
        let (subprotocol, extensions) = self.offer.check(response.headers())?;
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
}

impl ClientUpgrade {
    /// Starts the client connection: installs the negotiated extensions and
    /// feeds it the bytes that followed the response head (events they
    /// produce are ready at once from `poll_event`).
    #[must_use]
    pub fn into_connection(
        self,
        config: impl Into<std::sync::Arc<Config>>,
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

#[cfg(test)]
mod tests;
