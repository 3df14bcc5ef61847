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
use super::error::RequestError;
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
mod tests {
    use super::*;
    use crate::handshake::test_util::{TestFactory, config_with};
    use crate::handshake::{OriginPolicy, Progress, ServerError, ServerHandshake, response_bytes};

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    /// An HTTP/1.1 upgrade as hyper parses it: path-only URI, `Host` field.
    fn h1() -> http::request::Builder {
        http::Request::builder()
            .uri("/chat?room=1")
            .header("host", "server.example.com")
            .header("upgrade", "websocket")
            .header("connection", "Upgrade")
            .header("sec-websocket-key", KEY)
            .header("sec-websocket-version", "13")
    }

    /// An RFC 8441 extended CONNECT as hyper parses it: absolute URI
    /// (`:scheme`, `:authority`, `:path`), no `Host`.
    fn h2() -> http::request::Builder {
        http::Request::builder()
            .method(Method::CONNECT)
            .version(Version::HTTP_2)
            .uri("https://server.example.com/chat?room=1")
            .header("sec-websocket-version", "13")
    }

    const WEBSOCKET: Via<'static> = Via::ExtendedConnect {
        protocol: Some("websocket"),
    };

    fn check(
        builder: http::request::Builder,
        via: Via<'_>,
        config: &Config,
    ) -> Result<UpgradeRequest, RequestError> {
        UpgradeRequest::from_request(builder.body(()).unwrap(), via, config)
    }

    #[test]
    fn rfc8441_extended_connect_is_answered_200_without_key_or_accept() {
        let config = config_with(&[TestFactory::arc("x-a", Rsv::RSV1)]);
        let request = check(
            h2().header("sec-websocket-protocol", "chat, superchat")
                .header("sec-websocket-extensions", "x-a")
                .header("origin", "https://server.example.com"),
            WEBSOCKET,
            &config,
        )
        .unwrap();
        assert!(request.is_extended_connect());
        assert_eq!(request.request().uri().path(), "/chat");
        assert_eq!(request.subprotocols(), ["chat", "superchat"]);
        let up = request
            .accept(&AcceptOptions::new().subprotocol("superchat"))
            .unwrap();
        assert_eq!(up.response.status(), StatusCode::OK);
        assert_eq!(up.response.version(), Version::HTTP_2);
        let names: Vec<_> = up
            .response
            .headers()
            .keys()
            .map(HeaderName::as_str)
            .collect();
        assert_eq!(
            names,
            ["sec-websocket-protocol", "sec-websocket-extensions"]
        );
        assert_eq!(up.response.headers()["sec-websocket-extensions"], "x-a");
        assert_eq!(up.subprotocol.as_deref(), Some("superchat"));
        assert_eq!(up.extensions.len(), 1);
        assert!(up.leftover.is_empty());
        // No key needed, and one sent is ignored.
        check(h2().header("sec-websocket-key", "x"), WEBSOCKET, &config).unwrap();
    }

    #[test]
    fn rfc8441_faults() {
        let config = Config::default();
        let status = |b, via| check(b, via, &config).unwrap_err();
        let err = status(h2().method(Method::GET), WEBSOCKET);
        assert!(matches!(&err, RequestError::NotConnect(m) if m == Method::GET));
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        let err = status(h2(), Via::ExtendedConnect { protocol: None });
        assert_eq!(err, RequestError::NotWebSocketProtocol(None));
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        let err = status(
            h2(),
            Via::ExtendedConnect {
                protocol: Some("connect-udp"),
            },
        );
        assert!(matches!(&err, RequestError::NotWebSocketProtocol(Some(p)) if p == "connect-udp"));
        check(
            h2(),
            Via::ExtendedConnect {
                protocol: Some("WebSocket"),
            },
            &config,
        )
        .unwrap();
        let no_version = http::Request::builder()
            .method(Method::CONNECT)
            .version(Version::HTTP_2)
            .uri("https://server.example.com/chat");
        assert_eq!(
            status(no_version, WEBSOCKET).status(),
            StatusCode::UPGRADE_REQUIRED
        );
        let no_authority = h2().uri("/chat");
        assert_eq!(status(no_authority, WEBSOCKET), RequestError::InvalidHost);
        // A `Host` field stands in for `:authority`.
        check(
            h2().uri("/chat").header("host", "server.example.com"),
            WEBSOCKET,
            &config,
        )
        .unwrap();
    }

    #[test]
    fn a_parsed_http11_request_gets_the_answer_the_bytes_get() {
        let config = config_with(&[TestFactory::arc("x-a", Rsv::RSV1)]);
        let variants: [(&str, &str); 8] = [
            ("", ""),
            ("sec-websocket-protocol: v1, v2\r\n", "v2"),
            ("sec-websocket-extensions: x-a\r\n", ""),
            ("sec-websocket-version: 8\r\n", ""),
            ("content-length: 2\r\n", ""),
            ("upgrade: h2c\r\n", ""),
            ("origin: http://evil.example\r\n", ""),
            ("origin: https://server.example.com\r\n", ""),
        ];
        let config = config.with_origin_policy(OriginPolicy::same_host());
        for (extra, chosen) in variants {
            // Bytes: the request with `extra` replacing a field of the
            // same name, or added.
            let mut fields: Vec<(String, String)> = vec![
                ("host".into(), "server.example.com".into()),
                ("upgrade".into(), "websocket".into()),
                ("connection".into(), "Upgrade".into()),
                ("sec-websocket-key".into(), KEY.into()),
                ("sec-websocket-version".into(), "13".into()),
            ];
            if let Some((name, value)) = extra.trim_end().split_once(": ") {
                fields.retain(|(n, _)| n != name);
                fields.push((name.into(), value.into()));
            }
            let mut bytes = "GET /chat HTTP/1.1\r\n".to_owned();
            let mut parsed = http::Request::builder().uri("/chat");
            for (name, value) in &fields {
                bytes.extend([name.as_str(), ": ", value.as_str(), "\r\n"]);
                parsed = parsed.header(name, value);
            }
            bytes.push_str("\r\n");
            let options = if chosen.is_empty() {
                AcceptOptions::new()
            } else {
                AcceptOptions::new().subprotocol(chosen)
            };
            let from_bytes = match ServerHandshake::new(&config).handle_data(bytes.as_bytes()) {
                Ok(Progress::Complete(r)) => r.accept(&options).unwrap().response_bytes(),
                Err(ServerError::Request(e)) => e.response_bytes(),
                other => panic!("{other:?}"),
            };
            let parsed = parsed.body(()).unwrap();
            let from_parsed = match UpgradeRequest::from_request(parsed, Via::Http11, &config) {
                Ok(r) => r.accept(&options).unwrap().response_bytes(),
                Err(e) => response_bytes(&e.to_response()),
            };
            assert_eq!(
                String::from_utf8(from_parsed).unwrap(),
                String::from_utf8(from_bytes).unwrap(),
                "{extra:?}"
            );
        }
    }

    #[test]
    fn origin_policy_applies_to_both_versions() {
        let config = Config::default().with_origin_policy(OriginPolicy::same_host());
        for (builder, via) in [(h1(), Via::Http11), (h2(), WEBSOCKET)] {
            let foreign = builder.header("origin", "https://evil.example");
            let err = check(foreign, via, &config).unwrap_err();
            assert_eq!(err.status(), StatusCode::FORBIDDEN);
            let response = err.to_response();
            assert_eq!(response.status(), StatusCode::FORBIDDEN);
            assert!(response.headers().get("connection").is_none());
            assert_eq!(
                response.headers()["content-length"],
                response.body().len().to_string().as_str()
            );
        }
        // The `Host` of HTTP/1.1, the `:authority` of HTTP/2.
        check(
            h1().header("origin", "https://server.example.com"),
            Via::Http11,
            &config,
        )
        .unwrap();
        check(
            h2().header("origin", "https://server.example.com"),
            WEBSOCKET,
            &config,
        )
        .unwrap();
        // The protocol checks come first: a bad request is 400, not 403.
        let bad = h1()
            .method(Method::POST)
            .header("origin", "https://evil.example");
        assert_eq!(
            check(bad, Via::Http11, &config).unwrap_err().status(),
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn with_config_rechecks_the_origin_and_takes_the_new_extensions() {
        let request = check(
            h1().header("origin", "https://evil.example")
                .header("sec-websocket-extensions", "x-a"),
            Via::Http11,
            &Config::default(),
        )
        .unwrap();
        let with_ext = config_with(&[TestFactory::arc("x-a", Rsv::RSV1)]);
        let request = request.with_config(&with_ext).unwrap();
        let refused = with_ext
            .clone()
            .with_origin_policy(OriginPolicy::allow_list(["https://app.example"]));
        let request2 = check(
            h1().header("origin", "https://evil.example"),
            Via::Http11,
            &Config::default(),
        )
        .unwrap();
        assert!(matches!(
            request2.with_config(&refused),
            Err(RequestError::ForbiddenOrigin(Some(_)))
        ));
        let up = request.accept(&AcceptOptions::new()).unwrap();
        assert_eq!(up.extensions.len(), 1);
        assert_eq!(up.response.headers()["sec-websocket-extensions"], "x-a");
    }

    #[test]
    fn select_subprotocol_takes_the_servers_order() {
        let request = check(
            h1().header("sec-websocket-protocol", "v1, v2, v3"),
            Via::Http11,
            &Config::default(),
        )
        .unwrap();
        assert_eq!(request.select_subprotocol(["v3", "v1"]), Some("v3"));
        assert_eq!(request.select_subprotocol(["x", "v2"]), Some("v2"));
        assert_eq!(request.select_subprotocol(["x"]), None);
        assert_eq!(request.select_subprotocol(Vec::<String>::new()), None);
    }

    #[test]
    fn rejections_are_structured_and_keep_the_http_version() {
        let request = check(h2(), WEBSOCKET, &Config::default()).unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("999"));
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        let response = request.reject(StatusCode::SERVICE_UNAVAILABLE, &headers, b"busy");
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.version(), Version::HTTP_2);
        assert_eq!(response.headers()["content-length"], "4");
        assert_eq!(response.headers()["retry-after"], "5");
        assert!(response.headers().get("connection").is_none());
        assert_eq!(&response.body()[..], b"busy");
        assert_eq!(
            response_bytes(&response),
            b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 5\r\n\
              Content-Length: 4\r\n\r\nbusy"
        );
    }
}
