//! The server's negotiation, on a parsed request: the one place that checks
//! an upgrade request (RFC 6455 §4.2.1 for HTTP/1.1, RFC 8441 §4-5 for an
//! HTTP/2 extended CONNECT), applies the Origin policy, collects the
//! offers, and builds the structured answer (`accept` → 101 or 200,
//! `reject` → any status). The byte-level [`ServerHandshake`](super::ServerHandshake)
//! parses HTTP/1 into an `http::Request` and comes here; hyper and axum
//! come here with the request they parsed.

use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode, Version};

use crate::config::Config;
use crate::extension::{Extension, ExtensionFactory, ExtensionHeader};
use crate::frame::Rsv;

use super::accept_key;
use super::error::{InvalidHeader, RequestError};
use super::headers::{has_token, is_token, joined, list_elements};
use super::origin::{self, OriginPolicy};
use super::wire;

/// Extra response headers that [`UpgradeRequest::accept`] refuses: the
/// handshake writes the first five itself, and the answer has no body.
const RESERVED: [HeaderName; 7] = [
    header::UPGRADE,
    header::CONNECTION,
    header::SEC_WEBSOCKET_ACCEPT,
    header::SEC_WEBSOCKET_PROTOCOL,
    header::SEC_WEBSOCKET_EXTENSIONS,
    header::CONTENT_LENGTH,
    header::TRANSFER_ENCODING,
];

/// How an upgrade request reached the server: what the HTTP server that
/// parsed it knows and the `http` types do not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via<'a> {
    /// An HTTP/1.1 `GET` with `Upgrade: websocket` (RFC 6455 §4.2.1).
    /// Accepted with `101 Switching Protocols` and `Sec-WebSocket-Accept`.
    Http11,
    /// A request on an HTTP/2 stream (RFC 8441; HTTP/3 uses the same rules,
    /// RFC 9220): it must be an extended CONNECT, and `protocol` is its
    /// `:protocol` pseudo-header (`None` when it has none), which must be
    /// `websocket`. Accepted with `200` and no key or accept field (RFC 8441
    /// §5); the stream then carries the WebSocket frames.
    ExtendedConnect {
        /// The `:protocol` pseudo-header (hyper: `hyper::ext::Protocol`).
        protocol: Option<&'a str>,
    },
}

/// A complete, valid upgrade request, waiting for the application's
/// decision (in the spirit of rustls' `Acceptor` → `Accepted`): look at
/// [`request`](Self::request), [`subprotocols`](Self::subprotocols) and
/// [`extensions`](Self::extensions), then [`accept`](Self::accept) or
/// [`reject`](Self::reject).
///
/// It comes from [`ServerHandshake::handle_data`](super::ServerHandshake::handle_data)
/// (bytes) or from [`from_request`](Self::from_request) (a request an HTTP
/// server parsed); both run the same checks and the same Origin policy.
#[derive(Debug)]
pub struct UpgradeRequest {
    request: http::Request<()>,
    /// `Sec-WebSocket-Key` for HTTP/1.1; `None` for an extended CONNECT.
    key: Option<String>,
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
    /// The first header given as strings that HTTP does not allow,
    /// reported by `accept`.
    invalid: Option<InvalidHeader>,
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

    /// Adds a response header (e.g. `Set-Cookie`), appended if the name is
    /// already present. Name and value are typed ([`HeaderName`],
    /// [`HeaderValue`]) or strings: a string HTTP does not allow makes
    /// [`accept`](UpgradeRequest::accept) fail with
    /// [`AcceptErrorKind::InvalidHeader`].
    #[must_use]
    pub fn header<K, V>(mut self, name: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        HeaderValue: TryFrom<V>,
    {
        InvalidHeader::append(&mut self.headers, &mut self.invalid, name, value);
        self
    }

    /// The chosen subprotocol, if any.
    #[must_use]
    pub fn chosen_subprotocol(&self) -> Option<&str> {
        self.subprotocol.as_deref()
    }
}

/// A successful server negotiation: the response to send and what the
/// connection needs.
#[derive(Debug)]
#[non_exhaustive]
pub struct ServerUpgrade {
    /// The answer: `101 Switching Protocols` with `Sec-WebSocket-Accept`
    /// (HTTP/1.1) or `200` (extended CONNECT), with the chosen subprotocol,
    /// the accepted extensions and the extra headers. A server that writes
    /// HTTP/1 itself sends [`response_bytes`](Self::response_bytes).
    pub response: http::Response<()>,
    /// The chosen subprotocol, if any.
    pub subprotocol: Option<String>,
    /// The negotiated extensions, in the order of the response's
    /// `Sec-WebSocket-Extensions` header.
    pub extensions: Vec<Box<dyn Extension>>,
    /// Bytes that arrived after the request head: the start of the
    /// WebSocket stream (always empty for a request given parsed: the HTTP
    /// server keeps what it read ahead). Feed them to the connection first.
    pub leftover: Bytes,
}

impl ServerUpgrade {
    /// [`response`](Self::response) as HTTP/1.1 bytes, for the byte-level
    /// accept path.
    #[must_use]
    pub fn response_bytes(&self) -> Vec<u8> {
        wire::encode(self.response.status(), self.response.headers(), b"")
    }

    /// Starts the server connection (send [`response`](Self::response)
    /// first): installs the negotiated extensions and feeds it the bytes
    /// that followed the request head.
    #[must_use]
    pub fn into_connection(
        &mut self,
        config: impl Into<Arc<Config>>,
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

impl UpgradeRequest {
    /// Checks a request that an HTTP server has parsed and prepares the
    /// negotiation: the rules of `via` (HTTP/1.1: GET, HTTP/1.1, one `Host`,
    /// `Upgrade: websocket`, `Connection: upgrade`, version 13, a 16-byte
    /// key, no body; extended CONNECT: CONNECT, `:protocol websocket`,
    /// version 13, an authority), then `config`'s Origin policy, then the
    /// offered subprotocols and extensions (negotiated with `config`'s
    /// extension factories by [`accept`](Self::accept)).
    ///
    /// ```
    /// use wsproto_core::Config;
    /// use wsproto_core::handshake::{AcceptOptions, UpgradeRequest, Via};
    ///
    /// // An RFC 8441 request as hyper hands it over (`:protocol` aside).
    /// let request = http::Request::builder()
    ///     .method("CONNECT")
    ///     .version(http::Version::HTTP_2)
    ///     .uri("https://example.com/chat")
    ///     .header("sec-websocket-version", "13")
    ///     .header("sec-websocket-protocol", "chat")
    ///     .body(())?;
    /// let via = Via::ExtendedConnect { protocol: Some("websocket") };
    /// let request = UpgradeRequest::from_request(request, via, &Config::default())?;
    /// let accepted = request.accept(&AcceptOptions::new().subprotocol("chat"))?;
    /// assert_eq!(accepted.response.status(), 200);
    /// assert_eq!(accepted.response.headers()["sec-websocket-protocol"], "chat");
    /// assert!(accepted.response.headers().get("sec-websocket-accept").is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// The [`RequestError`] to answer with ([`RequestError::to_response`]):
    /// 400, 426 (version), 403 (Origin).
    pub fn from_request(
        request: http::Request<()>,
        via: Via<'_>,
        config: &Config,
    ) -> Result<Self, RequestError> {
        Self::negotiate_with(
            request,
            via,
            config.origin_policy(),
            config.extensions().to_vec(),
        )
    }

    /// [`from_request`](Self::from_request) with the pieces of the config
    /// it reads (the byte-level path keeps only these).
    pub(super) fn negotiate_with(
        request: http::Request<()>,
        via: Via<'_>,
        policy: &OriginPolicy,
        factories: Vec<Arc<dyn ExtensionFactory>>,
    ) -> Result<Self, RequestError> {
        let key = match via {
            Via::Http11 => Some(check_http11(&request)?),
            Via::ExtendedConnect { protocol } => {
                check_extended_connect(&request, protocol)?;
                None
            }
        };
        let mut upgrade = UpgradeRequest {
            request,
            key,
            subprotocols: Vec::new(),
            extensions: Vec::new(),
            factories: Vec::new(),
            leftover: Bytes::new(),
        };
        upgrade.apply(policy, factories)?;
        upgrade.collect_offers();
        Ok(upgrade)
    }

    /// [`from_request`](Self::from_request) for the head of a request
    /// (its extensions are kept in [`request`](Self::request)).
    ///
    /// # Errors
    /// As [`from_request`](Self::from_request).
    pub fn from_parts(
        parts: http::request::Parts,
        via: Via<'_>,
        config: &Config,
    ) -> Result<Self, RequestError> {
        Self::from_request(http::Request::from_parts(parts, ()), via, config)
    }

    /// The same request under another config: its Origin policy is checked
    /// again and its extension factories replace the earlier ones (for a
    /// route that picks its config after the request was checked, as the
    /// axum extractor's `config` does).
    ///
    /// # Errors
    /// [`RequestError::ForbiddenOrigin`] when `config`'s policy refuses
    /// the request.
    pub fn with_config(mut self, config: &Config) -> Result<Self, RequestError> {
        self.apply(config.origin_policy(), config.extensions().to_vec())?;
        Ok(self)
    }

    /// Whether `policy` lets this request through: the same check the
    /// negotiation runs with the config's policy (every `Origin` field
    /// against the request's `Host` or `:authority`), for a server that
    /// holds a policy of its own besides the config's.
    #[must_use]
    pub fn origin_allowed(&self, policy: &OriginPolicy) -> bool {
        policy.check(self.request.headers(), authority(&self.request))
    }

    /// A config's Origin policy and extension factories.
    fn apply(
        &mut self,
        policy: &OriginPolicy,
        factories: Vec<Arc<dyn ExtensionFactory>>,
    ) -> Result<(), RequestError> {
        let headers = self.request.headers();
        if !policy.check(headers, authority(&self.request)) {
            return Err(RequestError::ForbiddenOrigin(origin::origin_of(headers)));
        }
        self.factories = factories;
        Ok(())
    }

    /// Sets the bytes that followed the head (the byte-level path).
    pub(super) fn set_leftover(&mut self, leftover: Bytes) {
        self.leftover = leftover;
    }

    /// The request: method, URI, version, every header (and, when it came
    /// from an HTTP server, its extensions).
    #[must_use]
    pub fn request(&self) -> &http::Request<()> {
        &self.request
    }

    /// Whether the request is an HTTP/2 extended CONNECT (answered 200)
    /// rather than an HTTP/1.1 upgrade (answered 101).
    #[must_use]
    pub fn is_extended_connect(&self) -> bool {
        self.key.is_none()
    }

    /// The subprotocols the client offered, in its order of preference
    /// (elements that are not HTTP tokens are left out).
    #[must_use]
    pub fn subprotocols(&self) -> &[String] {
        &self.subprotocols
    }

    /// The first of `supported` (the server's order of preference) that
    /// the client offered, as axum's `WebSocketUpgrade::protocols` picks;
    /// `None` when there is none in common.
    #[must_use]
    pub fn select_subprotocol<I, S>(&self, supported: I) -> Option<&str>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        supported.into_iter().find_map(|wanted| {
            self.subprotocols
                .iter()
                .find(|offered| **offered == wanted.as_ref())
                .map(String::as_str)
        })
    }

    /// The extension offers, in the client's order; empty when the header is
    /// absent or malformed (a malformed header declines every extension).
    #[must_use]
    pub fn extensions(&self) -> &[ExtensionHeader] {
        &self.extensions
    }

    /// Bytes that arrived after the request head (byte-level path only).
    #[must_use]
    pub fn leftover(&self) -> &Bytes {
        &self.leftover
    }

    /// Accepts the upgrade: negotiates extensions (each factory of the
    /// config, in order, sees the client's offers of its name; one whose
    /// RSV bits clash with an earlier one is declined), and builds the
    /// response (101 for HTTP/1.1, 200 for an extended CONNECT) with the
    /// chosen subprotocol and `options`' extra headers.
    ///
    /// # Errors
    /// [`AcceptError`] (caller misuse) when the subprotocol was not offered,
    /// an extra header is one the handshake sets or was given as an invalid
    /// string; the request comes back inside it.
    pub fn accept(self, options: &AcceptOptions) -> Result<ServerUpgrade, AcceptError> {
        if let Some(invalid) = &options.invalid {
            return Err(self.misuse(AcceptErrorKind::InvalidHeader(invalid.clone())));
        }
        if let Some(p) = &options.subprotocol {
            if !self.subprotocols.contains(p) {
                return Err(self.misuse(AcceptErrorKind::UnofferedSubprotocol(p.clone())));
            }
        }
        if let Some(name) = RESERVED.iter().find(|n| options.headers.contains_key(*n)) {
            return Err(self.misuse(AcceptErrorKind::ReservedHeader(name.clone())));
        }
        let (entries, extensions) = self.negotiate();

        let mut headers = HeaderMap::with_capacity(5 + options.headers.len());
        let mut response = http::Response::new(());
        if let Some(key) = &self.key {
            *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
            headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
            headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
            headers.insert(header::SEC_WEBSOCKET_ACCEPT, value(&accept_key(key)));
        } else {
            *response.version_mut() = self.request.version();
        }
        if let Some(p) = &options.subprotocol {
            headers.insert(header::SEC_WEBSOCKET_PROTOCOL, value(p));
        }
        if !entries.is_empty() {
            let list = entries
                .iter()
                .map(ExtensionHeader::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            headers.insert(header::SEC_WEBSOCKET_EXTENSIONS, value(&list));
        }
        for (name, v) in &options.headers {
            headers.append(name, v.clone());
        }
        *response.headers_mut() = headers;
        Ok(ServerUpgrade {
            response,
            subprotocol: options.subprotocol.clone(),
            extensions,
            leftover: self.leftover,
        })
    }

    /// Refuses the upgrade with `status` (e.g. 401, 403, 404), `headers` and
    /// `body`. `Content-Length` is set from `body` (a given
    /// `Content-Length` or `Transfer-Encoding` is dropped). An
    /// informational (1xx) status cannot end a refusal and is sent as 500.
    /// The byte-level path writes [`response_bytes`](super::response_bytes)
    /// of it (which adds `Connection: close`) and closes the transport.
    #[must_use]
    pub fn reject(
        self,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
    ) -> http::Response<Bytes> {
        let status = if status.is_informational() {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            status
        };
        let mut out = HeaderMap::with_capacity(headers.len() + 1);
        for (name, v) in headers {
            if name != header::CONTENT_LENGTH && name != header::TRANSFER_ENCODING {
                out.append(name, v.clone());
            }
        }
        out.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        let mut response = http::Response::new(Bytes::copy_from_slice(body));
        *response.status_mut() = status;
        *response.headers_mut() = out;
        if self.key.is_none() {
            *response.version_mut() = self.request.version();
        }
        response
    }

    fn misuse(self, kind: AcceptErrorKind) -> AcceptError {
        AcceptError {
            kind,
            request: Box::new(self),
        }
    }

    /// The offered subprotocols (tokens, each once) and extensions.
    fn collect_offers(&mut self) {
        let headers = self.request.headers();
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
        self.extensions = match joined(headers, &header::SEC_WEBSOCKET_EXTENSIONS) {
            Some(Ok(list)) => ExtensionHeader::parse_list(&list).unwrap_or_default(),
            _ => Vec::new(),
        };
        self.subprotocols = subprotocols;
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

/// A header value from text the handshake produced (base64, tokens,
/// `Display`ed extension entries: always visible ASCII).
fn value(s: &str) -> HeaderValue {
    HeaderValue::try_from(s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// RFC 6455 §4.2.1 points 1-6 and RFC 9112 §6 (no body): returns the key.
fn check_http11(request: &http::Request<()>) -> Result<String, RequestError> {
    if request.method() != Method::GET {
        return Err(RequestError::NotGet(request.method().clone()));
    }
    if request.version() != Version::HTTP_11 {
        return Err(RequestError::NotHttp11);
    }
    let headers = request.headers();
    if headers.get_all(header::HOST).iter().count() != 1 {
        return Err(RequestError::InvalidHost);
    }
    if !has_token(headers, &header::UPGRADE, "websocket") {
        return Err(RequestError::MissingUpgrade);
    }
    if !has_token(headers, &header::CONNECTION, "upgrade") {
        return Err(RequestError::MissingConnectionUpgrade);
    }
    check_version(headers)?;
    // Point 5: exactly one key, base64 of 16 bytes.
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
    // A body would be read as frames: refuse it rather than guess where it
    // ends.
    let empty = |v: &HeaderValue| v.to_str().is_ok_and(|n| n.trim().parse() == Ok(0u64));
    if headers.contains_key(header::TRANSFER_ENCODING)
        || !headers.get_all(header::CONTENT_LENGTH).iter().all(empty)
    {
        return Err(RequestError::RequestBody);
    }
    Ok(key)
}

/// RFC 8441 §4-5: CONNECT, `:protocol websocket`, an authority, version
/// 13. The key and accept fields are not used.
fn check_extended_connect(
    request: &http::Request<()>,
    protocol: Option<&str>,
) -> Result<(), RequestError> {
    if request.method() != Method::CONNECT {
        return Err(RequestError::NotConnect(request.method().clone()));
    }
    if !protocol.is_some_and(|p| p.eq_ignore_ascii_case("websocket")) {
        return Err(RequestError::NotWebSocketProtocol(
            protocol.and_then(|p| HeaderValue::try_from(p).ok()),
        ));
    }
    if authority(request).is_none() {
        return Err(RequestError::InvalidHost);
    }
    check_version(request.headers())
}

/// RFC 6455 §4.2.1 point 6 (§4.4: anything else is answered 426).
fn check_version(headers: &HeaderMap) -> Result<(), RequestError> {
    let mut versions = headers.get_all(header::SEC_WEBSOCKET_VERSION).iter();
    let first = versions.next();
    if first.is_some_and(|v| v.as_bytes().trim_ascii() == b"13") && versions.next().is_none() {
        Ok(())
    } else {
        Err(RequestError::UnsupportedVersion(first.cloned()))
    }
}

/// Where the request was sent: its one `Host` field, else the URI's
/// authority (HTTP/2's `:authority`).
fn authority(request: &http::Request<()>) -> Option<&str> {
    let mut hosts = request.headers().get_all(header::HOST).iter();
    match (hosts.next(), hosts.next()) {
        (Some(host), None) => host.to_str().ok(),
        (None, _) => request.uri().authority().map(http::uri::Authority::as_str),
        (Some(_), Some(_)) => None,
    }
}

/// Why [`UpgradeRequest::accept`] refused the caller's options.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AcceptErrorKind {
    /// The chosen subprotocol is not one the client offered (RFC 6455
    /// §4.2.2 allows only an offered one).
    #[error(
        "subprotocol {0:?} was not offered by the client; choose one of UpgradeRequest::subprotocols() or none"
    )]
    UnofferedSubprotocol(String),
    /// An extra header the handshake writes itself (or one the answer
    /// must not carry).
    #[error("header {0} is set by the handshake and cannot be given as an extra header")]
    ReservedHeader(HeaderName),
    /// An extra header given as strings that HTTP does not allow.
    #[error(transparent)]
    InvalidHeader(#[from] InvalidHeader),
}

/// Caller misuse in [`UpgradeRequest::accept`]: nothing was produced. The
/// request is handed back so the caller can still answer it (for example
/// with [`UpgradeRequest::reject`] and a 500).
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct AcceptError {
    kind: AcceptErrorKind,
    request: Box<UpgradeRequest>,
}

impl AcceptError {
    /// What was wrong with the options.
    #[must_use]
    pub fn kind(&self) -> &AcceptErrorKind {
        &self.kind
    }

    /// The request, to answer it another way.
    #[must_use]
    pub fn into_request(self) -> UpgradeRequest {
        *self.request
    }
}

#[cfg(test)]
mod tests;
