//! Building the client's upgrade request (RFC 6455 §4.1, points 1-12 of
//! the client's requirements): target, `Host`, key, version, subprotocols
//! and extension offers.

use std::sync::Arc;

use base64::Engine as _;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Uri, Version};

use crate::config::Config;
use crate::extension::{ExtensionFactory, ExtensionHeader};

use super::accept_key;
use super::error::{BuildError, InvalidHeader};
use super::headers::{is_token, list_elements, write_headers};
use super::response::Offer;

/// Headers the handshake writes itself; a request that sets them is refused.
const RESERVED: [HeaderName; 6] = [
    header::UPGRADE,
    header::CONNECTION,
    header::SEC_WEBSOCKET_KEY,
    header::SEC_WEBSOCKET_VERSION,
    header::SEC_WEBSOCKET_EXTENSIONS,
    header::SEC_WEBSOCKET_ACCEPT,
];

/// The URL scheme: whether the transport is plain TCP or TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `ws://`: plain TCP, default port 80.
    Ws,
    /// `wss://`: TLS, default port 443.
    Wss,
}

impl Scheme {
    /// Whether the adapter must run TLS under the handshake.
    #[must_use]
    pub fn is_secure(self) -> bool {
        self == Scheme::Wss
    }

    /// 80 or 443.
    #[must_use]
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Ws => 80,
            Scheme::Wss => 443,
        }
    }
}

/// Collects what goes into a client upgrade request: the target, extra
/// headers and the subprotocols to offer. [`build`](Self::build) turns it
/// into a [`ClientHandshake`](super::ClientHandshake).
#[derive(Debug)]
pub struct ClientBuilder {
    request: http::Request<()>,
    subprotocols: Vec<String>,
    /// The first header given as strings that HTTP does not allow,
    /// reported by `build`.
    invalid: Option<InvalidHeader>,
}

impl ClientBuilder {
    /// Starts from a `ws://` or `wss://` URL string.
    ///
    /// # Errors
    /// [`BuildError::InvalidUrl`] when the string is not a URI; the scheme
    /// and host are checked by [`build`](Self::build).
    pub fn new(url: &str) -> Result<Self, BuildError> {
        Ok(Self::from_uri(url.parse::<Uri>()?))
    }

    /// Starts from a parsed URI.
    #[must_use]
    pub fn from_uri(uri: Uri) -> Self {
        let mut request = http::Request::new(());
        *request.uri_mut() = uri;
        Self::from_request(request)
    }

    /// Starts from a complete request: its URI (absolute, `ws`/`wss`), and
    /// its headers, which are sent as they are. Subprotocols listed in its
    /// `Sec-WebSocket-Protocol` fields are offered. The method must be GET;
    /// the version is ignored (the request is always HTTP/1.1).
    #[must_use]
    pub fn from_request(request: http::Request<()>) -> Self {
        ClientBuilder {
            request,
            subprotocols: Vec::new(),
            invalid: None,
        }
    }

    /// Offers a subprotocol, after those already offered (order is the
    /// client's preference). It must be an HTTP token.
    #[must_use]
    pub fn subprotocol(mut self, name: impl Into<String>) -> Self {
        self.subprotocols.push(name.into());
        self
    }

    /// Adds a header field (appended if the name is already present).
    /// Name and value are typed ([`HeaderName`], [`HeaderValue`]) or
    /// strings: a string HTTP does not allow makes [`build`](Self::build)
    /// fail with [`BuildError::InvalidHeader`].
    #[must_use]
    pub fn header<K, V>(mut self, name: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        HeaderValue: TryFrom<V>,
    {
        InvalidHeader::append(self.request.headers_mut(), &mut self.invalid, name, value);
        self
    }

    /// The request with `key` and `config`'s extension offers, serialised
    /// ([`build`](Self::build) wraps it in a handshake).
    pub(super) fn build_request(
        self,
        key: [u8; 16],
        config: &Config,
    ) -> Result<BuiltRequest, BuildError> {
        if let Some(invalid) = self.invalid {
            return Err(invalid.into());
        }
        let (parts, ()) = self.request.into_parts();
        if parts.method != Method::GET {
            return Err(BuildError::NotGet(parts.method));
        }
        let target = Target::from_uri(&parts.uri)?;
        if let Some(name) = RESERVED.iter().find(|n| parts.headers.contains_key(*n)) {
            return Err(BuildError::ReservedHeader(name.clone()));
        }
        let mut user_headers = parts.headers;

        let subprotocols = take_subprotocols(&mut user_headers, self.subprotocols)?;

        let host_header = match user_headers.remove(header::HOST) {
            Some(v) => v,
            None => {
                HeaderValue::try_from(target.host_header()).map_err(|_| BuildError::NotAbsolute)?
            }
        };
        let key = base64::engine::general_purpose::STANDARD.encode(key);
        let expected_accept = accept_key(&key);

        let (factories, offers) = extension_offers(config);

        // The handshake's own fields first, in a fixed order, then the user's.
        let mut headers = HeaderMap::with_capacity(7 + user_headers.len());
        headers.insert(header::HOST, host_header);
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
        headers.insert(header::SEC_WEBSOCKET_KEY, value(&key)?);
        headers.insert(
            header::SEC_WEBSOCKET_VERSION,
            HeaderValue::from_static("13"),
        );
        if !subprotocols.is_empty() {
            headers.insert(
                header::SEC_WEBSOCKET_PROTOCOL,
                value(&subprotocols.join(", "))?,
            );
        }
        if !offers.is_empty() {
            headers.insert(header::SEC_WEBSOCKET_EXTENSIONS, value(&offers)?);
        }
        for (name, value) in &user_headers {
            headers.append(name, value.clone());
        }

        let mut bytes = Vec::with_capacity(256);
        bytes.extend_from_slice(b"GET ");
        bytes.extend_from_slice(target.path_and_query.as_bytes());
        bytes.extend_from_slice(b" HTTP/1.1\r\n");
        write_headers(&mut bytes, &headers);
        bytes.extend_from_slice(b"\r\n");

        let mut request = http::Request::new(());
        *request.uri_mut() = parts.uri;
        *request.version_mut() = Version::HTTP_11;
        *request.headers_mut() = headers;
        request.extensions_mut().extend(parts.extensions);

        Ok(BuiltRequest {
            request,
            bytes,
            scheme: target.scheme,
            host: target.host,
            port: target.port,
            offer: Offer {
                expected_accept,
                subprotocols,
                factories,
            },
        })
    }
}

/// The subprotocols of the request's `Sec-WebSocket-Protocol` fields (which
/// are removed from `headers`), then `extra`: tokens, each once.
fn take_subprotocols(
    headers: &mut HeaderMap,
    extra: Vec<String>,
) -> Result<Vec<String>, BuildError> {
    let from_header: Vec<String> = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .flat_map(|v| list_elements(v.as_bytes()))
        .map(|e| String::from_utf8_lossy(e).into_owned())
        .collect();
    headers.remove(header::SEC_WEBSOCKET_PROTOCOL);
    let mut subprotocols: Vec<String> = Vec::new();
    for name in from_header.into_iter().chain(extra) {
        if !is_token(&name) {
            return Err(BuildError::InvalidSubprotocol(name));
        }
        if subprotocols.contains(&name) {
            return Err(BuildError::DuplicateSubprotocol(name));
        }
        subprotocols.push(name);
    }
    Ok(subprotocols)
}

/// The factories that offer something, and all their offers as one
/// `Sec-WebSocket-Extensions` value (empty when none).
fn extension_offers(config: &Config) -> (Vec<Arc<dyn ExtensionFactory>>, String) {
    let mut factories = Vec::new();
    let mut offers = Vec::new();
    for factory in config.extensions() {
        let mine = factory.client_offers();
        if !mine.is_empty() {
            factories.push(Arc::clone(factory));
            offers.extend(mine);
        }
    }
    let offers = offers
        .iter()
        .map(ExtensionHeader::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    (factories, offers)
}

fn value(s: &str) -> Result<HeaderValue, BuildError> {
    // Only reached with tokens, base64 and `Display`ed extension entries.
    HeaderValue::try_from(s).map_err(|_| BuildError::InvalidSubprotocol(s.to_owned()))
}

/// Where to connect and what to ask for, taken from the URI.
struct Target {
    scheme: Scheme,
    /// Without IPv6 brackets.
    host: String,
    /// With IPv6 brackets, as the `Host` header wants it.
    host_literal: String,
    port: u16,
    explicit_port: bool,
    path_and_query: String,
}

impl Target {
    fn from_uri(uri: &Uri) -> Result<Self, BuildError> {
        let scheme = match uri.scheme_str() {
            None => return Err(BuildError::NotAbsolute),
            Some(s) if s.eq_ignore_ascii_case("ws") => Scheme::Ws,
            Some(s) if s.eq_ignore_ascii_case("wss") => Scheme::Wss,
            Some(s) => return Err(BuildError::UnsupportedScheme(s.to_owned())),
        };
        let authority = uri.authority().ok_or(BuildError::NotAbsolute)?;
        if authority.as_str().contains('@') {
            return Err(BuildError::UserInfo);
        }
        let host_literal = authority.host();
        if host_literal.is_empty() {
            return Err(BuildError::NotAbsolute);
        }
        let host = host_literal
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host_literal);
        let explicit = authority.port_u16();
        let port = explicit.unwrap_or(scheme.default_port());
        let mut path_and_query = uri.path().to_owned();
        if !path_and_query.starts_with('/') {
            path_and_query.insert(0, '/');
        }
        if let Some(q) = uri.query() {
            path_and_query.push('?');
            path_and_query.push_str(q);
        }
        Ok(Target {
            scheme,
            host: host.to_owned(),
            host_literal: host_literal.to_owned(),
            port,
            explicit_port: explicit.is_some_and(|p| p != scheme.default_port()),
            path_and_query,
        })
    }

    /// RFC 6455 §4.1 / RFC 9110 §7.2: host, and the port when not the
    /// scheme's default.
    fn host_header(&self) -> String {
        if self.explicit_port {
            format!("{}:{}", self.host_literal, self.port)
        } else {
            self.host_literal.clone()
        }
    }
}

/// A serialized request and what the response check needs from it.
pub(super) struct BuiltRequest {
    pub(super) request: http::Request<()>,
    pub(super) bytes: Vec<u8>,
    pub(super) scheme: Scheme,
    pub(super) host: String,
    pub(super) port: u16,
    pub(super) offer: Offer,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Rsv;
    use crate::handshake::ClientHandshake;
    use crate::handshake::test_util::{TestFactory, config_with};

    const NONCE: [u8; 16] = *b"the sample nonce";

    fn text(hs: &ClientHandshake) -> &str {
        std::str::from_utf8(hs.request_bytes()).unwrap()
    }

    #[test]
    fn rfc6455_section_1_3_example_request_bytes() {
        let hs = ClientBuilder::new("ws://server.example.com/chat")
            .unwrap()
            .subprotocol("chat")
            .subprotocol("superchat")
            .header(
                header::ORIGIN,
                HeaderValue::from_static("http://example.com"),
            )
            .build(NONCE, &Config::default())
            .unwrap();
        assert_eq!(
            text(&hs),
            "GET /chat HTTP/1.1\r\n\
             Host: server.example.com\r\n\
             Upgrade: websocket\r\n\
             Connection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Protocol: chat, superchat\r\n\
             origin: http://example.com\r\n\
             \r\n"
        );
        assert_eq!(hs.scheme(), Scheme::Ws);
        assert_eq!((hs.host(), hs.port()), ("server.example.com", 80));
        assert_eq!(hs.subprotocols(), ["chat", "superchat"]);
        let req = hs.request();
        assert_eq!(
            req.headers()["sec-websocket-key"],
            "dGhlIHNhbXBsZSBub25jZQ=="
        );
        assert_eq!(req.headers()["origin"], "http://example.com");
        assert_eq!(req.uri().path(), "/chat");
    }

    #[test]
    fn exact_bytes_with_extension_offers() {
        let config = config_with(&[
            TestFactory::arc("x-a", Rsv::RSV1),
            Arc::new(TestFactory {
                name: "x-b",
                rsv: Rsv::RSV2,
                param: Some("fast"),
            }),
        ]);
        let hs = ClientHandshake::new("wss://example.com", [0; 16], &config).unwrap();
        assert_eq!(
            text(&hs),
            "GET / HTTP/1.1\r\n\
             Host: example.com\r\n\
             Upgrade: websocket\r\n\
             Connection: Upgrade\r\n\
             Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n\
             Sec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Extensions: x-a, x-b; fast\r\n\
             \r\n"
        );
        assert!(hs.scheme().is_secure());
        assert_eq!(hs.port(), 443);
    }

    #[test]
    fn host_port_and_target_from_urls() {
        let config = Config::default();
        for (url, host, port, host_header, target) in [
            ("ws://h.test", "h.test", 80, "h.test", "/"),
            ("ws://h.test:80/a", "h.test", 80, "h.test", "/a"),
            ("wss://h.test:443/a", "h.test", 443, "h.test", "/a"),
            ("ws://h.test:443/a", "h.test", 443, "h.test:443", "/a"),
            ("wss://h.test:8443", "h.test", 8443, "h.test:8443", "/"),
            ("ws://h.test?q=1", "h.test", 80, "h.test", "/?q=1"),
            (
                "ws://h.test/p/q?x=1&y=%20",
                "h.test",
                80,
                "h.test",
                "/p/q?x=1&y=%20",
            ),
            ("ws://[::1]:9001/x?y=1", "::1", 9001, "[::1]:9001", "/x?y=1"),
            (
                "wss://[2001:db8::1]/",
                "2001:db8::1",
                443,
                "[2001:db8::1]",
                "/",
            ),
            (
                "WS://127.0.0.1:8080/",
                "127.0.0.1",
                8080,
                "127.0.0.1:8080",
                "/",
            ),
        ] {
            let hs = ClientHandshake::new(url, NONCE, &config).unwrap();
            assert_eq!((hs.host(), hs.port()), (host, port), "{url}");
            assert_eq!(hs.request().headers()["host"], host_header, "{url}");
            let line = format!("GET {target} HTTP/1.1\r\nHost: {host_header}\r\n");
            assert!(text(&hs).starts_with(&line), "{url}: {}", text(&hs));
        }
    }

    #[test]
    fn from_request_keeps_headers_and_offers_its_subprotocols() {
        let request = http::Request::builder()
            .uri("wss://example.com:9000/live?id=7")
            .header("Host", "front.example")
            .header("Authorization", "Bearer x")
            .header("Sec-WebSocket-Protocol", "v2.chat, v1.chat")
            .body(())
            .unwrap();
        let hs = ClientBuilder::from_request(request)
            .subprotocol("v0")
            .build(NONCE, &Config::default())
            .unwrap();
        assert_eq!(hs.subprotocols(), ["v2.chat", "v1.chat", "v0"]);
        assert_eq!((hs.host(), hs.port()), ("example.com", 9000));
        let t = text(&hs);
        assert!(
            t.starts_with("GET /live?id=7 HTTP/1.1\r\nHost: front.example\r\n"),
            "{t}"
        );
        assert!(
            t.contains("\r\nSec-WebSocket-Protocol: v2.chat, v1.chat, v0\r\n"),
            "{t}"
        );
        assert!(t.contains("\r\nauthorization: Bearer x\r\n"), "{t}");
        assert_eq!(t.matches("ost:").count(), 1, "{t}");
    }

    #[test]
    fn caller_mistakes_are_build_errors() {
        let config = Config::default();
        let err = |url: &str| ClientHandshake::new(url, NONCE, &config).unwrap_err();
        assert!(matches!(err("http://h/"), BuildError::UnsupportedScheme(s) if s == "http"));
        assert!(matches!(err("/chat"), BuildError::NotAbsolute));
        assert!(matches!(err("ws://u:p@h/"), BuildError::UserInfo));
        assert!(matches!(err("ws://h /"), BuildError::InvalidUrl(_)));

        let build = |b: http::request::Builder| {
            ClientHandshake::from_request(b.body(()).unwrap(), NONCE, &config).unwrap_err()
        };
        let base = || http::Request::builder().uri("ws://h/");
        assert!(matches!(build(base().method("POST")), BuildError::NotGet(m) if m == Method::POST));
        assert!(matches!(
            build(base().header("Sec-WebSocket-Key", "x")),
            BuildError::ReservedHeader(h) if h == header::SEC_WEBSOCKET_KEY
        ));
        assert!(matches!(
            build(base().header("Connection", "Upgrade")),
            BuildError::ReservedHeader(_)
        ));
        assert!(matches!(
            build(base().header("Sec-WebSocket-Protocol", "a b")),
            BuildError::InvalidSubprotocol(p) if p == "a b"
        ));
        let dup = ClientBuilder::new("ws://h/")
            .unwrap()
            .subprotocol("a")
            .subprotocol("a")
            .build(NONCE, &config)
            .unwrap_err();
        assert!(matches!(dup, BuildError::DuplicateSubprotocol(p) if p == "a"));
        let err = ClientBuilder::new("ws://h/")
            .unwrap()
            .subprotocol("")
            .build(NONCE, &config)
            .unwrap_err();
        assert!(err.to_string().contains("token"), "{err}");
    }

    #[test]
    fn headers_are_given_as_strings_or_typed_values() {
        let config = Config::default();
        let hs = ClientBuilder::new("ws://h/")
            .unwrap()
            .header("Authorization", "Bearer t")
            .header(header::USER_AGENT, HeaderValue::from_static("wsp"))
            .header(String::from("x-trace"), b"7".as_slice())
            .build(NONCE, &config)
            .unwrap();
        // Written as given to `http`, which keeps names in lower case.
        let text = text(&hs);
        for line in [
            "authorization: Bearer t\r\n",
            "user-agent: wsp\r\n",
            "x-trace: 7\r\n",
        ] {
            assert!(text.contains(line), "{line:?} in {text}");
        }

        // The first invalid one is reported by `build`, the name or the
        // value that broke the rule named.
        let err = |builder: ClientBuilder| builder.build(NONCE, &config).unwrap_err();
        let base = || ClientBuilder::new("ws://h/").unwrap();
        assert!(matches!(
            err(base().header("bad name", "x").header("x-b", "\n")),
            BuildError::InvalidHeader(InvalidHeader::Name)
        ));
        let value = err(base().header("x-ok", "1").header("x-b", "a\r\nInjected: 1"));
        assert!(
            matches!(&value, BuildError::InvalidHeader(InvalidHeader::Value(h)) if h == "x-b"),
            "{value:?}"
        );
        assert!(value.to_string().contains("x-b"), "{value}");
    }
}
