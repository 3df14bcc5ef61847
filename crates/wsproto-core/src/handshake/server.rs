//! The server side of the opening handshake (RFC 6455 §4.2): read and check
//! the client's request, let the application look at it, then accept or
//! reject it.

use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode, Uri, Version};

use crate::config::Config;
use crate::extension::{Extension, ExtensionFactory, ExtensionHeader};
use crate::frame::Rsv;

use super::error::{AcceptError, AcceptErrorKind, RequestError, ServerError};
use super::headers::{
    HeadBuffer, HeadFault, HeadOutcome, has_token, is_token, joined, list_elements, to_header_map,
    write_header, write_headers,
};
use super::{Progress, accept_key, write_status_line};

/// Extra response headers that [`UpgradeRequest::accept`] refuses: the
/// handshake writes the first five itself, and a 101 has no body.
const RESERVED: [HeaderName; 7] = [
    header::UPGRADE,
    header::CONNECTION,
    header::SEC_WEBSOCKET_ACCEPT,
    header::SEC_WEBSOCKET_PROTOCOL,
    header::SEC_WEBSOCKET_EXTENSIONS,
    header::CONTENT_LENGTH,
    header::TRANSFER_ENCODING,
];

/// The server side of the opening handshake.
///
/// Feed everything read from the transport to
/// [`handle_data`](Self::handle_data) until it returns an
/// [`UpgradeRequest`] (then call [`UpgradeRequest::accept`] or
/// [`UpgradeRequest::reject`]) or a [`RequestError`] (then write
/// [`RequestError::response_bytes`] and close). The head is bounded by the
/// config's [`HandshakeLimits`](crate::HandshakeLimits): a larger head or
/// more header fields is answered with 431.
#[derive(Debug)]
pub struct ServerHandshake {
    head: HeadBuffer,
    factories: Vec<Arc<dyn ExtensionFactory>>,
    finished: bool,
}

impl ServerHandshake {
    /// A handshake that negotiates `config`'s extensions and applies its
    /// handshake limits.
    #[must_use]
    pub fn new(config: &Config) -> Self {
        ServerHandshake {
            head: HeadBuffer::new(config.handshake_limits()),
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
        let parsed = parsed?;
        let request = validate(parsed)?;
        Ok(Progress::Complete(self.offers(request, head_len)?))
    }

    fn offers(
        &mut self,
        request: http::Request<()>,
        head_len: usize,
    ) -> Result<UpgradeRequest, RequestError> {
        let headers = request.headers();
        // RFC 6455 §4.2.1 point 5: exactly one key, base64 of 16 bytes.
        let mut keys = headers.get_all(header::SEC_WEBSOCKET_KEY).iter();
        let key = match (keys.next(), keys.next()) {
            (Some(k), None) => k.to_str().map(str::trim).unwrap_or_default().to_owned(),
            _ => return Err(RequestError::InvalidKey),
        };
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(&key)
            .map_err(|_| RequestError::InvalidKey)?;
        if decoded.len() != 16 {
            return Err(RequestError::InvalidKey);
        }

        let mut subprotocols: Vec<String> = Vec::new();
        for element in headers
            .get_all(header::SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .flat_map(|v| list_elements(v.as_bytes()))
        {
            // Elements that are not tokens cannot be chosen; skip them.
            if let Ok(name) = std::str::from_utf8(element) {
                if is_token(name) && !subprotocols.iter().any(|p| p == name) {
                    subprotocols.push(name.to_owned());
                }
            }
        }
        // A malformed offer list declines all extensions, not the handshake.
        let extensions = match joined(headers, &header::SEC_WEBSOCKET_EXTENSIONS) {
            Some(Ok(list)) => ExtensionHeader::parse_list(&list).unwrap_or_default(),
            _ => Vec::new(),
        };
        Ok(UpgradeRequest {
            request,
            key,
            subprotocols,
            extensions,
            factories: self.factories.clone(),
            leftover: self.head.take_after(head_len),
        })
    }
}

type ParsedRequest = Result<(Method, u8, Uri, HeaderMap), RequestError>;

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
                let headers =
                    to_header_map(request.headers).ok_or(RequestError::InvalidHeaderField)?;
                Ok((method, version, uri, headers))
            })();
            Some((parsed, len))
        }
    })
}

/// RFC 6455 §4.2.1 points 1-4 and 6 (the key, point 5, is checked after).
fn validate(
    (method, version, uri, headers): (Method, u8, Uri, HeaderMap),
) -> Result<http::Request<()>, RequestError> {
    if method != Method::GET {
        return Err(RequestError::NotGet(method));
    }
    if version != 1 {
        return Err(RequestError::NotHttp11);
    }
    if headers.get_all(header::HOST).iter().count() != 1 {
        return Err(RequestError::InvalidHost);
    }
    if !has_token(&headers, &header::UPGRADE, "websocket") {
        return Err(RequestError::MissingUpgrade);
    }
    if !has_token(&headers, &header::CONNECTION, "upgrade") {
        return Err(RequestError::MissingConnectionUpgrade);
    }
    let mut versions = headers.get_all(header::SEC_WEBSOCKET_VERSION).iter();
    let first = versions.next();
    if !(first.is_some_and(|v| v.as_bytes().trim_ascii() == b"13") && versions.next().is_none()) {
        return Err(RequestError::UnsupportedVersion(first.cloned()));
    }
    let mut request = http::Request::new(());
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.version_mut() = Version::HTTP_11;
    *request.headers_mut() = headers;
    Ok(request)
}

/// A complete, valid upgrade request, waiting for the application's
/// decision (in the spirit of rustls' `Acceptor` → `Accepted`): look at
/// [`request`](Self::request), [`subprotocols`](Self::subprotocols) and
/// [`extensions`](Self::extensions), then [`accept`](Self::accept) or
/// [`reject`](Self::reject).
#[derive(Debug)]
pub struct UpgradeRequest {
    request: http::Request<()>,
    key: String,
    subprotocols: Vec<String>,
    extensions: Vec<ExtensionHeader>,
    factories: Vec<Arc<dyn ExtensionFactory>>,
    leftover: Bytes,
}

/// What [`UpgradeRequest::accept`] sends besides the required fields.
#[derive(Debug, Clone, Default)]
pub struct AcceptOptions {
    subprotocol: Option<String>,
    headers: HeaderMap,
}

impl AcceptOptions {
    /// No subprotocol, no extra headers.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Chooses a subprotocol; it must be one of
    /// [`UpgradeRequest::subprotocols`].
    #[must_use]
    pub fn subprotocol(mut self, name: impl Into<String>) -> Self {
        self.subprotocol = Some(name.into());
        self
    }

    /// Adds a response header (e.g. `Set-Cookie`).
    #[must_use]
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }
}

/// A successful server handshake.
#[derive(Debug)]
#[non_exhaustive]
pub struct ServerUpgrade {
    /// The 101 response to write to the transport.
    pub response: Vec<u8>,
    /// The chosen subprotocol, if any.
    pub subprotocol: Option<String>,
    /// The negotiated extensions, in the order of the response's
    /// `Sec-WebSocket-Extensions` header.
    pub extensions: Vec<Box<dyn Extension>>,
    /// Bytes that arrived after the request head: the start of the
    /// WebSocket stream. Feed them to the connection first.
    pub leftover: Bytes,
}

impl UpgradeRequest {
    /// The request: method GET, URI (path and query), HTTP/1.1, every header.
    #[must_use]
    pub fn request(&self) -> &http::Request<()> {
        &self.request
    }

    /// The subprotocols the client offered, in its order of preference
    /// (elements that are not HTTP tokens are left out).
    #[must_use]
    pub fn subprotocols(&self) -> &[String] {
        &self.subprotocols
    }

    /// The extension offers, in the client's order; empty when the header is
    /// absent or malformed (a malformed header declines every extension).
    #[must_use]
    pub fn extensions(&self) -> &[ExtensionHeader] {
        &self.extensions
    }

    /// Bytes that arrived after the request head.
    #[must_use]
    pub fn leftover(&self) -> &Bytes {
        &self.leftover
    }

    /// Accepts the upgrade: negotiates extensions (each factory of the
    /// config, in order, sees the client's offers of its name; one whose
    /// RSV bits clash with an earlier one is declined), and builds the 101
    /// response with the chosen subprotocol and `options`' extra headers.
    ///
    /// # Errors
    /// [`AcceptError`] (caller misuse) when the subprotocol was not offered
    /// or an extra header is one the handshake sets; the request comes back
    /// inside it.
    pub fn accept(self, options: &AcceptOptions) -> Result<ServerUpgrade, AcceptError> {
        if let Some(p) = &options.subprotocol {
            if !self.subprotocols.contains(p) {
                return Err(self.misuse(AcceptErrorKind::UnofferedSubprotocol(p.clone())));
            }
        }
        if let Some(name) = RESERVED.iter().find(|n| options.headers.contains_key(*n)) {
            return Err(self.misuse(AcceptErrorKind::ReservedHeader(name.clone())));
        }
        let (entries, extensions) = self.negotiate();

        let mut out = Vec::with_capacity(256);
        write_status_line(&mut out, StatusCode::SWITCHING_PROTOCOLS);
        write_header(&mut out, "Upgrade", b"websocket");
        write_header(&mut out, "Connection", b"Upgrade");
        write_header(
            &mut out,
            "Sec-WebSocket-Accept",
            accept_key(&self.key).as_bytes(),
        );
        if let Some(p) = &options.subprotocol {
            write_header(&mut out, "Sec-WebSocket-Protocol", p.as_bytes());
        }
        if !entries.is_empty() {
            let list = entries
                .iter()
                .map(ExtensionHeader::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            write_header(&mut out, "Sec-WebSocket-Extensions", list.as_bytes());
        }
        write_headers(&mut out, &options.headers);
        out.extend_from_slice(b"\r\n");
        Ok(ServerUpgrade {
            response: out,
            subprotocol: options.subprotocol.clone(),
            extensions,
            leftover: self.leftover,
        })
    }

    /// Refuses the upgrade with `status` (e.g. 401, 403, 404), `headers` and
    /// `body`. Returns the response to write before closing the transport.
    /// `Content-Length` is set from `body` (a given `Content-Length` or
    /// `Transfer-Encoding` is dropped) and `Connection: close` is added
    /// unless `headers` has a `Connection` field. An informational (1xx)
    /// status cannot end a refusal and is sent as 500.
    #[must_use]
    pub fn reject(self, status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Vec<u8> {
        let status = if status.is_informational() {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            status
        };
        let mut out = Vec::with_capacity(128 + body.len());
        write_status_line(&mut out, status);
        if !headers.contains_key(header::CONNECTION) {
            write_header(&mut out, "Connection", b"close");
        }
        for (name, value) in headers {
            if name != header::CONTENT_LENGTH && name != header::TRANSFER_ENCODING {
                write_header(&mut out, name.as_str(), value.as_bytes());
            }
        }
        write_header(
            &mut out,
            "Content-Length",
            body.len().to_string().as_bytes(),
        );
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(body);
        out
    }

    fn misuse(self, kind: AcceptErrorKind) -> AcceptError {
        AcceptError {
            kind,
            request: Box::new(self),
        }
    }

    /// RFC 6455 §9.1: the factories in config order, each with the client's
    /// offers of its name.
    fn negotiate(&self) -> (Vec<ExtensionHeader>, Vec<Box<dyn Extension>>) {
        let mut entries = Vec::new();
        let mut extensions: Vec<Box<dyn Extension>> = Vec::new();
        let mut rsv = Rsv::NONE;
        for factory in &self.factories {
            if entries
                .iter()
                .any(|e: &ExtensionHeader| e.name.eq_ignore_ascii_case(factory.name()))
            {
                continue;
            }
            let offers: Vec<&ExtensionHeader> = self
                .extensions
                .iter()
                .filter(|o| o.name.eq_ignore_ascii_case(factory.name()))
                .collect();
            if offers.is_empty() {
                continue;
            }
            let Some((entry, extension)) = factory.server_accept(&offers) else {
                continue;
            };
            if rsv.bits() & extension.rsv().bits() != 0 {
                continue;
            }
            rsv = rsv.union(extension.rsv());
            entries.push(entry);
            extensions.push(extension);
        }
        (entries, extensions)
    }
}
