//! What a client connects with: a URL string, an `http::Request` (built
//! with `http`'s builder, headers as strings or typed values), or a
//! [`ClientRequestBuilder`]. [`IntoClientRequest`] turns each into the
//! request the handshake sends.

use http::header::{self, HeaderName, HeaderValue};
use http::{Request, Uri};
use wsproto_core::handshake::BuildError;

use crate::error::HandshakeError;

/// Something a connector can connect with: `&str`, `String`, `Uri`,
/// `http::Request<()>`, [`ClientRequestBuilder`].
///
/// As with tungstenite, a URL becomes a request that can still be changed
/// before connecting:
///
/// ```
/// use ws_session::IntoClientRequest;
///
/// let mut request = "wss://example.com/feed".into_client_request()?;
/// request.headers_mut().insert("authorization", "Bearer abc".parse()?);
/// assert_eq!(request.uri().path(), "/feed");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait IntoClientRequest {
    /// The upgrade request: a GET of a `ws://` or `wss://` URI, with the
    /// caller's headers. The handshake adds `Host` (unless set),
    /// `Upgrade`, `Connection`, the key, the version and the extension
    /// offers; subprotocols are offered from `Sec-WebSocket-Protocol`.
    fn into_client_request(self) -> Result<Request<()>, HandshakeError>;
}

impl IntoClientRequest for &str {
    fn into_client_request(self) -> Result<Request<()>, HandshakeError> {
        self.parse::<Uri>()
            .map_err(|e| HandshakeError::Build(BuildError::InvalidUrl(e)))?
            .into_client_request()
    }
}

impl IntoClientRequest for &String {
    fn into_client_request(self) -> Result<Request<()>, HandshakeError> {
        self.as_str().into_client_request()
    }
}

impl IntoClientRequest for String {
    fn into_client_request(self) -> Result<Request<()>, HandshakeError> {
        self.as_str().into_client_request()
    }
}

impl IntoClientRequest for Uri {
    fn into_client_request(self) -> Result<Request<()>, HandshakeError> {
        let mut request = Request::new(());
        *request.uri_mut() = self;
        Ok(request)
    }
}

impl IntoClientRequest for &Uri {
    fn into_client_request(self) -> Result<Request<()>, HandshakeError> {
        self.clone().into_client_request()
    }
}

/// Headers the handshake writes itself. A request written by hand for
/// tungstenite often sets them (with a key of its own); the handshake
/// writes its own, so they are dropped here rather than refused.
const HANDSHAKE_HEADERS: [HeaderName; 4] = [
    header::UPGRADE,
    header::CONNECTION,
    header::SEC_WEBSOCKET_KEY,
    header::SEC_WEBSOCKET_VERSION,
];

/// The request as it is, minus the headers the handshake writes itself
/// (`Upgrade`, `Connection`, `Sec-WebSocket-Key`,
/// `Sec-WebSocket-Version`). Extension offers come from the config, so a
/// `Sec-WebSocket-Extensions` header is refused when connecting.
impl IntoClientRequest for Request<()> {
    fn into_client_request(mut self) -> Result<Request<()>, HandshakeError> {
        for name in &HANDSHAKE_HEADERS {
            self.headers_mut().remove(name);
        }
        Ok(self)
    }
}

impl IntoClientRequest for ClientRequestBuilder {
    fn into_client_request(self) -> Result<Request<()>, HandshakeError> {
        let mut request = self.builder.body(())?.into_client_request()?;
        for protocol in self.subprotocols {
            let value = HeaderValue::try_from(protocol.as_str())
                .map_err(|_| HandshakeError::Build(BuildError::InvalidSubprotocol(protocol)))?;
            request
                .headers_mut()
                .append(header::SEC_WEBSOCKET_PROTOCOL, value);
        }
        Ok(request)
    }
}

/// Builds a client request: the URL, extra headers (names and values as
/// strings or typed), subprotocols to offer. Mistakes (a bad URL, a header
/// value with a newline) are reported when connecting, as `http`'s own
/// builder does.
///
/// ```
/// use ws_session::{ClientRequestBuilder, IntoClientRequest};
/// use ws_session::http::header::{AUTHORIZATION, HeaderValue};
///
/// let request = ClientRequestBuilder::new("ws://localhost:9002/chat")
///     .header("x-trace", "42")
///     .header(AUTHORIZATION, HeaderValue::from_static("Bearer abc"))
///     .subprotocol("chat.v2")
///     .subprotocol("chat.v1")
///     .into_client_request()?;
/// assert_eq!(request.headers()["x-trace"], "42");
/// assert_eq!(request.headers().get_all("sec-websocket-protocol").iter().count(), 2);
///
/// let bad = ClientRequestBuilder::new("ws://localhost/").header("x-bad", "a\nb");
/// assert!(bad.into_client_request().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct ClientRequestBuilder {
    builder: http::request::Builder,
    subprotocols: Vec<String>,
}

impl ClientRequestBuilder {
    /// Starts a request for `url` (`ws://…` or `wss://…`): a string or a
    /// `Uri`.
    #[must_use]
    pub fn new<U>(url: U) -> Self
    where
        Uri: TryFrom<U>,
        <Uri as TryFrom<U>>::Error: Into<http::Error>,
    {
        ClientRequestBuilder {
            builder: Request::get(url),
            subprotocols: Vec::new(),
        }
    }

    /// Adds a header field (appended if the name is already present).
    #[must_use]
    pub fn header<K, V>(mut self, name: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        self.builder = self.builder.header(name, value);
        self
    }

    /// Offers a subprotocol, after those already offered (order is the
    /// client's preference).
    #[must_use]
    pub fn subprotocol(mut self, name: impl Into<String>) -> Self {
        self.subprotocols.push(name.into());
        self
    }

    /// tungstenite's name for [`header`](Self::header).
    #[must_use]
    pub fn with_header<K, V>(self, name: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        self.header(name, value)
    }

    /// tungstenite's name for [`subprotocol`](Self::subprotocol).
    #[must_use]
    pub fn with_sub_protocol(self, name: impl Into<String>) -> Self {
        self.subprotocol(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hand_written_tungstenite_request_loses_the_handshakes_own_headers() {
        let request = Request::builder()
            .uri("ws://localhost/")
            .header("Connection", "Upgrade")
            .header("Upgrade", "websocket")
            .header("Sec-WebSocket-Version", "13")
            .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("Origin", "http://localhost")
            .body(())
            .unwrap()
            .into_client_request()
            .unwrap();
        let names: Vec<_> = request.headers().keys().map(HeaderName::as_str).collect();
        assert_eq!(names, ["origin"]);
    }

    #[test]
    fn bad_urls_are_build_errors() {
        assert!(matches!(
            "not a url".into_client_request(),
            Err(HandshakeError::Build(BuildError::InvalidUrl(_)))
        ));
        assert!(matches!(
            ClientRequestBuilder::new("ws://[").into_client_request(),
            Err(HandshakeError::Http(_))
        ));
        let bad_protocol = ClientRequestBuilder::new("ws://h/").subprotocol("a\nb");
        assert!(matches!(
            bad_protocol.into_client_request(),
            Err(HandshakeError::Build(BuildError::InvalidSubprotocol(_)))
        ));
    }
}
