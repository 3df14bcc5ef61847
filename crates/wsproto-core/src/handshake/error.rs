//! Handshake errors. Faults of the peer ([`ResponseError`] on the client,
//! [`RequestError`] on the server, the latter with the HTTP status it is
//! answered with) are kept apart from misuse by the caller ([`BuildError`],
//! [`AcceptError`](super::AcceptError), and the `Finished` variants).

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode};

use crate::extension::NegotiationError;

use super::wire;

/// The caller asked for a client request that cannot be sent. Nothing was
/// built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The URL string is not a valid URI.
    #[error("invalid URL ({0}): expected ws://host[:port]/path or wss://…")]
    InvalidUrl(#[from] http::uri::InvalidUri),
    /// The URL has no scheme or no host.
    #[error("the URL must be absolute, e.g. ws://example.com/path")]
    NotAbsolute,
    /// A scheme other than `ws` or `wss`.
    #[error("unsupported URL scheme {0:?}: use ws:// (plain TCP) or wss:// (TLS)")]
    UnsupportedScheme(String),
    /// The URL carries `user:password@`, which a WebSocket handshake does not
    /// send anywhere.
    #[error("credentials in the URL are not sent; set an Authorization header instead")]
    UserInfo,
    /// The request's method is not GET (RFC 6455 §4.1).
    #[error("the upgrade request must use GET, not {0} (RFC 6455 §4.1)")]
    NotGet(Method),
    /// A subprotocol name that is not an HTTP token (RFC 6455 §4.1).
    #[error("subprotocol {0:?} is not an HTTP token (RFC 6455 §4.1): no spaces, commas or quotes")]
    InvalidSubprotocol(String),
    /// The same subprotocol offered twice (RFC 6455 §4.1: elements must be
    /// unique).
    #[error("subprotocol {0:?} is offered twice (RFC 6455 §4.1)")]
    DuplicateSubprotocol(String),
    /// The request sets a header the handshake writes itself.
    #[error(
        "header {0} is set by the handshake: remove it (the key is an argument, extension offers come from Config::with_extension)"
    )]
    ReservedHeader(HeaderName),
    /// A header given as strings that HTTP does not allow.
    #[error(transparent)]
    InvalidHeader(#[from] InvalidHeader),
}

/// A header given as strings (or bytes) that HTTP does not allow; typed
/// [`HeaderName`]s and [`HeaderValue`]s never fail. Reported by the call
/// that uses the headers ([`ClientBuilder::build`](super::ClientBuilder::build),
/// [`UpgradeRequest::accept`](super::UpgradeRequest::accept)), like the
/// other mistakes in them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidHeader {
    /// The name is not an HTTP token (RFC 9110 §5.1).
    #[error(
        "invalid header name: a name is a token of letters, digits and !#$%&'*+-.^_`|~ (RFC 9110 §5.1)"
    )]
    Name,
    /// The value holds a byte HTTP forbids there (RFC 9110 §5.5).
    #[error(
        "invalid value for header {0}: no control characters such as CR, LF or NUL (RFC 9110 §5.5)"
    )]
    Value(HeaderName),
}

impl InvalidHeader {
    /// Appends a header given as strings, bytes or typed values to
    /// `headers`; one HTTP does not allow is kept in `first` instead (the
    /// first such mistake is the one reported).
    pub(crate) fn append<K, V>(
        headers: &mut HeaderMap,
        first: &mut Option<InvalidHeader>,
        name: K,
        value: V,
    ) where
        HeaderName: TryFrom<K>,
        HeaderValue: TryFrom<V>,
    {
        let Ok(name) = HeaderName::try_from(name) else {
            first.get_or_insert(InvalidHeader::Name);
            return;
        };
        match HeaderValue::try_from(value) {
            Ok(value) => {
                headers.append(name, value);
            }
            Err(_) => {
                first.get_or_insert(InvalidHeader::Value(name));
            }
        }
    }
}

/// The server's response breaks RFC 6455 §4.1 (or a configured limit): the
/// client fails the connection.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// The response head is longer than `max_head_bytes`.
    #[error(
        "response head exceeds max_head_bytes ({limit} bytes); raise HandshakeLimits::max_head_bytes if the server is legitimate"
    )]
    HeadTooLarge {
        /// The configured limit.
        limit: usize,
    },
    /// More header fields than `max_headers`.
    #[error(
        "response has more than max_headers ({limit}) header fields; raise HandshakeLimits::max_headers if the server is legitimate"
    )]
    TooManyHeaders {
        /// The configured limit.
        limit: usize,
    },
    /// The response is not valid HTTP/1.x.
    #[error(
        "malformed HTTP response ({0}): is the server speaking HTTP on this port? (a TLS port reached with ws:// instead of wss:// looks like this)"
    )]
    Malformed(httparse::Error),
    /// A header field that cannot be represented (control bytes in a value).
    #[error("malformed HTTP response: a header field contains forbidden bytes")]
    InvalidHeaderField,
    /// The response is not HTTP/1.1.
    #[error("the response is not HTTP/1.1 (RFC 6455 §4.1)")]
    NotHttp11,
    /// The server answered with a status other than 101. The response carries
    /// the headers and the start of the body (at most
    /// [`MAX_ERROR_BODY`](super::MAX_ERROR_BODY) bytes).
    #[error(
        "the server refused the WebSocket upgrade: it answered \"{}\" instead of 101 Switching Protocols{}; check the URL path, the authentication headers and that this endpoint speaks WebSocket",
        status_line(.0),
        body_start(.0.body())
    )]
    UnexpectedStatus(Box<http::Response<Bytes>>),
    /// The `Upgrade` field is missing or not `websocket`.
    #[error(
        "the response's Upgrade header is {0:?}, not \"websocket\" (RFC 6455 §4.1): is a proxy in between dropping the upgrade?"
    )]
    InvalidUpgrade(Option<HeaderValue>),
    /// The `Connection` field does not list `upgrade`.
    #[error(
        "the response's Connection header does not contain the token \"upgrade\" (RFC 6455 §4.1): is a proxy in between dropping the upgrade?"
    )]
    MissingConnectionUpgrade,
    /// `Sec-WebSocket-Accept` is missing or does not match the key sent.
    #[error(
        "bad Sec-WebSocket-Accept: got {found:?}, expected {expected:?} for the key we sent (RFC 6455 §4.1); the server (or a proxy in between) did not answer this request's key"
    )]
    InvalidAccept {
        /// The value computed from our key.
        expected: String,
        /// The value received, if any.
        found: Option<HeaderValue>,
    },
    /// `Sec-WebSocket-Protocol` given more than once or as a list.
    #[error("the response names more than one subprotocol (RFC 6455 §4.1)")]
    SeveralSubprotocols,
    /// The server chose a subprotocol the client did not offer.
    #[error("the server chose subprotocol {0:?}, which was not offered (RFC 6455 §4.1)")]
    UnofferedSubprotocol(String),
    /// The server chose a subprotocol although the client offered none.
    #[error("the server chose subprotocol {0:?}, but none was offered (RFC 6455 §4.1)")]
    SubprotocolNotRequested(String),
    /// Extension negotiation failed: malformed header, unoffered or
    /// duplicate extension, RSV conflict, or parameters the extension
    /// rejects (RFC 6455 §9.1).
    #[error("extension negotiation failed: {0}")]
    Extension(#[from] NegotiationError),
    /// The connection ended before the response head was complete.
    #[error(
        "the server closed the connection after {received} bytes, before its HTTP response was complete: check the port and the scheme (a wss:// server reached with ws:// often does this)"
    )]
    UnexpectedEof {
        /// Bytes of the head that arrived.
        received: usize,
    },
}

/// What [`ClientHandshake::handle_data`](super::ClientHandshake::handle_data)
/// and [`handle_eof`](super::ClientHandshake::handle_eof) fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server's response is not a valid upgrade: fail the connection.
    #[error(transparent)]
    Response(#[from] ResponseError),
    /// Caller misuse: the handshake already returned its result (success or
    /// error); the bytes were not looked at.
    #[error("the client handshake already finished; feed further bytes to the connection")]
    Finished,
}

impl ClientError {
    /// The peer fault, when this is one.
    #[must_use]
    pub fn response_error(&self) -> Option<&ResponseError> {
        match self {
            Self::Response(e) => Some(e),
            Self::Finished => None,
        }
    }
}

/// The client's request breaks RFC 6455 §4.2.1 (RFC 8441 §4 for an HTTP/2
/// extended CONNECT), a configured limit, or the server's Origin policy. The
/// answer is [`to_response`](Self::to_response) (for an HTTP server that
/// writes responses itself, such as hyper) or
/// [`response_bytes`](Self::response_bytes) (the same response as HTTP/1.1
/// bytes with `Connection: close`: write them and close the transport).
///
/// | fault | status |
/// | --- | --- |
/// | head over `max_head_bytes`, more than `max_headers` fields | 431 Request Header Fields Too Large |
/// | missing or wrong `Sec-WebSocket-Version` | 426 Upgrade Required, with `Sec-WebSocket-Version: 13` |
/// | `Origin` refused by the [`OriginPolicy`](super::OriginPolicy) | 403 Forbidden |
/// | anything else | 400 Bad Request |
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The request head is longer than `max_head_bytes`.
    #[error("request head exceeds {limit} bytes")]
    HeadTooLarge {
        /// The configured limit.
        limit: usize,
    },
    /// More header fields than `max_headers`.
    #[error("request has more than {limit} header fields")]
    TooManyHeaders {
        /// The configured limit.
        limit: usize,
    },
    /// Not valid HTTP/1.x.
    #[error("malformed HTTP request: {0}")]
    Malformed(httparse::Error),
    /// A header field that cannot be represented (control bytes in a value).
    #[error("malformed HTTP request: a header field contains forbidden bytes")]
    InvalidHeaderField,
    /// The request target is not a valid URI.
    #[error("the request target is not a valid URI")]
    InvalidTarget,
    /// The method is not GET.
    #[error("the method must be GET, not {0} (RFC 6455 §4.1)")]
    NotGet(Method),
    /// The request is not HTTP/1.1.
    #[error("the request must be HTTP/1.1 (RFC 6455 §4.1)")]
    NotHttp11,
    /// No `Host` field, or several.
    #[error("the request must carry exactly one Host header (RFC 6455 §4.1, RFC 9112 §3.2)")]
    InvalidHost,
    /// `Upgrade` missing or without the `websocket` token.
    #[error("the Upgrade header must contain \"websocket\" (RFC 6455 §4.2.1)")]
    MissingUpgrade,
    /// `Connection` missing or without the `upgrade` token.
    #[error("the Connection header must contain the token \"Upgrade\" (RFC 6455 §4.2.1)")]
    MissingConnectionUpgrade,
    /// `Sec-WebSocket-Version` missing or not 13.
    #[error("Sec-WebSocket-Version is {0:?}; this server speaks version 13 only (RFC 6455 §4.4)")]
    UnsupportedVersion(Option<HeaderValue>),
    /// `Sec-WebSocket-Key` missing, repeated, or not base64 of 16 bytes.
    #[error(
        "Sec-WebSocket-Key must be present once and be base64 of exactly 16 bytes (RFC 6455 §4.2.1)"
    )]
    InvalidKey,
    /// The GET carries a body (`Content-Length` other than 0, or
    /// `Transfer-Encoding`): its bytes would otherwise be read as frames.
    #[error(
        "an upgrade request must not have a body (it has Content-Length or Transfer-Encoding); the bytes after the head belong to the WebSocket"
    )]
    RequestBody,
    /// An HTTP/2 request that is not a CONNECT (RFC 8441 §4: WebSockets
    /// over HTTP/2 use the extended CONNECT method).
    #[error("over HTTP/2 a WebSocket is opened with an extended CONNECT (RFC 8441 §4), not {0}")]
    NotConnect(Method),
    /// An HTTP/2 CONNECT whose `:protocol` pseudo-header is missing or not
    /// `websocket` (RFC 8441 §4).
    #[error(
        "the extended CONNECT's :protocol is {0:?}; a WebSocket needs :protocol websocket (RFC 8441 §4)"
    )]
    NotWebSocketProtocol(Option<HeaderValue>),
    /// The `Origin` is not allowed by the server's
    /// [`OriginPolicy`](super::OriginPolicy) (or the request has none and
    /// the policy requires one).
    #[error(
        "Origin {0:?} may not open a WebSocket on this server (its Origin policy guards against cross-site WebSocket hijacking)"
    )]
    ForbiddenOrigin(Option<HeaderValue>),
}

impl RequestError {
    /// The HTTP status this fault is answered with.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            Self::HeadTooLarge { .. } | Self::TooManyHeaders { .. } => {
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
            }
            Self::UnsupportedVersion(_) => StatusCode::UPGRADE_REQUIRED,
            Self::ForbiddenOrigin(_) => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The response that answers this fault: the [`status`](Self::status),
    /// for 426 the `Sec-WebSocket-Version: 13` the RFC asks for (§4.4), and
    /// a short plain-text body saying what was wrong, with its
    /// `Content-Length`.
    #[must_use]
    pub fn to_response(&self) -> http::Response<Bytes> {
        let body = Bytes::from(format!("{self}\n"));
        let mut headers = HeaderMap::with_capacity(4);
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        if matches!(self, Self::UnsupportedVersion(_)) {
            headers.insert(
                header::SEC_WEBSOCKET_VERSION,
                HeaderValue::from_static("13"),
            );
            headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        }
        let mut response = http::Response::new(body);
        *response.status_mut() = self.status();
        *response.headers_mut() = headers;
        response
    }

    /// [`to_response`](Self::to_response) as HTTP/1.1 bytes with
    /// `Connection: close`: write them, then close the transport.
    #[must_use]
    pub fn response_bytes(&self) -> Vec<u8> {
        wire::response_bytes(&self.to_response())
    }
}

/// How much of a refusal's body its message quotes.
const QUOTED_BODY: usize = 200;

/// `HTTP/1.1 403 Forbidden`, as the response's status line read (the
/// reason phrase is the standard one for the code).
fn status_line(response: &http::Response<Bytes>) -> String {
    let status = response.status();
    format!(
        "{:?} {} {}",
        response.version(),
        status.as_str(),
        status.canonical_reason().unwrap_or("")
    )
    .trim_end()
    .to_owned()
}

/// `; the body starts: "…"` with the first bytes of the body (lossy UTF-8,
/// escaped), or nothing for an empty body.
fn body_start(body: &Bytes) -> String {
    if body.is_empty() {
        return String::new();
    }
    let shown = &body[..body.len().min(QUOTED_BODY)];
    let text = String::from_utf8_lossy(shown);
    let more = if body.len() > QUOTED_BODY { "…" } else { "" };
    format!("; the body starts: {:?}{more}", text.trim_end())
}

/// What [`ServerHandshake::handle_data`](super::ServerHandshake::handle_data)
/// fails with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The client's request is not a valid upgrade: write
    /// [`RequestError::response_bytes`] and close.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// Caller misuse: the handshake already returned its result; the bytes
    /// were not looked at.
    #[error("the server handshake already finished; feed further bytes to the connection")]
    Finished,
}

impl ServerError {
    /// The peer fault, when this is one.
    #[must_use]
    pub fn request_error(&self) -> Option<&RequestError> {
        match self {
            Self::Request(e) => Some(e),
            Self::Finished => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;
    use crate::handshake::{ClientError, ClientHandshake, Progress};

    fn refusal(input: &[u8]) -> String {
        let mut hs = ClientHandshake::new("ws://h/", [7; 16], &Config::default()).unwrap();
        let err = match hs.handle_data(input) {
            Err(ClientError::Response(e)) => e,
            Ok(Progress::Partial) => match hs.handle_eof() {
                ClientError::Response(e) => e,
                other @ ClientError::Finished => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        };
        err.to_string()
    }

    #[test]
    fn a_refusal_shows_the_status_line_and_the_start_of_the_body() {
        let message =
            refusal(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 17\r\n\r\ntoken has expired");
        assert!(message.contains("\"HTTP/1.1 403 Forbidden\""), "{message}");
        assert!(
            message.contains("the body starts: \"token has expired\""),
            "{message}"
        );
        assert!(message.contains("check the URL path"), "{message}");

        // A long body is quoted up to QUOTED_BODY bytes, marked as cut.
        let mut long = b"HTTP/1.1 404 Not Found\r\nContent-Length: 1000\r\n\r\n".to_vec();
        long.extend(std::iter::repeat_n(b'z', 1000));
        let message = refusal(&long);
        assert!(
            message.contains(&format!("\"{}\"…", "z".repeat(QUOTED_BODY))),
            "{message}"
        );
        assert!(!message.contains(&"z".repeat(QUOTED_BODY + 1)), "{message}");

        // No body: no quote.
        let message = refusal(b"HTTP/1.1 204 No Content\r\n\r\n");
        assert!(message.contains("\"HTTP/1.1 204 No Content\""), "{message}");
        assert!(!message.contains("body starts"), "{message}");
    }

    #[test]
    fn a_bad_accept_key_says_so() {
        let message = refusal(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: bm90IHRoZSByaWdodCBrZXk=\r\n\r\n",
        );
        assert!(message.starts_with("bad Sec-WebSocket-Accept"), "{message}");
        let expected = crate::handshake::accept_key(&base64_of_key());
        assert!(message.contains(&expected), "{message}");
        assert!(message.contains("bm90IHRoZSByaWdodCBrZXk="), "{message}");
    }

    #[test]
    fn what_is_not_http_fails_at_once_not_at_the_timeout() {
        use crate::handshake::{ServerError, ServerHandshake};
        // Client: an SSH banner has no blank line, yet fails on arrival.
        let mut hs = ClientHandshake::new("ws://h/", [7; 16], &Config::default()).unwrap();
        let result = hs.handle_data(b"SSH-2.0-OpenSSH_9.6\r\n");
        assert!(
            matches!(
                result,
                Err(ClientError::Response(ResponseError::Malformed(_)))
            ),
            "{result:?}"
        );
        // Server: the start of a TLS ClientHello on a plain port gets its
        // 400 now.
        let mut hs = ServerHandshake::new(&Config::default());
        let result = hs.handle_data(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00]);
        let Err(ServerError::Request(fault)) = result else {
            panic!("{result:?}")
        };
        assert_eq!(fault.status(), http::StatusCode::BAD_REQUEST);
        // A valid start is still only partial.
        let mut hs = ServerHandshake::new(&Config::default());
        assert!(matches!(
            hs.handle_data(b"GET /chat HTTP/1.1\r\nHost: a\r"),
            Ok(Progress::Partial)
        ));
    }

    fn base64_of_key() -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode([7u8; 16])
    }

    #[test]
    fn an_early_close_and_a_non_http_answer_point_at_port_and_scheme() {
        let message = refusal(b"HTTP/1.1 101 Swi");
        assert!(message.contains("after 16 bytes"), "{message}");
        assert!(
            message.contains("check the port and the scheme"),
            "{message}"
        );
        let message = refusal(b"SSH-2.0-OpenSSH_9.6\r\n");
        assert!(
            message.contains("is the server speaking HTTP on this port"),
            "{message}"
        );
    }
}
