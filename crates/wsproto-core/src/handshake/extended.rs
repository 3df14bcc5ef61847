//! The client side of a WebSocket over HTTP/2 (RFC 8441): the same
//! [`ClientHandshake`] written as an extended CONNECT request, and the
//! checks of the server's answer. The HTTP/2 framing (and the `:protocol`
//! pseudo-header, an extension of the HTTP/2 library's request type) is
//! the caller's; this only decides what the request says and whether the
//! answer accepts it.

use bytes::Bytes;
use http::header::{self, HeaderName};
use http::{Method, Uri, Version};

use super::client::{ClientHandshake, ClientUpgrade};
use super::error::{ClientError, ResponseError};
use super::request::Scheme;

/// The fields of an HTTP/1.1 upgrade that an extended CONNECT does not
/// carry: the connection-specific ones HTTP/2 forbids (RFC 9113 §8.2.2),
/// `Host` (`:authority` replaces it) and the key (RFC 8441 §5: neither
/// `Sec-WebSocket-Key` nor `Sec-WebSocket-Accept` is used).
const NOT_ON_HTTP2: [HeaderName; 8] = [
    header::HOST,
    header::UPGRADE,
    header::CONNECTION,
    header::SEC_WEBSOCKET_KEY,
    header::TRANSFER_ENCODING,
    header::TE,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
];

impl ClientHandshake {
    /// The request as an RFC 8441 extended CONNECT: method `CONNECT`,
    /// version HTTP/2, URI `https://` (for `wss://`) or `http://` with the
    /// authority and path of the URL, and every field of the HTTP/1.1
    /// request except `Host`, `Upgrade`, `Connection` and
    /// `Sec-WebSocket-Key` (the version, subprotocols, extension offers,
    /// `Origin` and the caller's own fields stay). The caller adds
    /// `:protocol websocket` (RFC 8441 §4) in its HTTP/2 library's way
    /// (`h2::ext::Protocol`) and sends the request without ending the
    /// stream.
    ///
    /// ```
    /// use wsproto_core::Config;
    /// use wsproto_core::handshake::ClientBuilder;
    ///
    /// let config = Config::default();
    /// let handshake = ClientBuilder::new("wss://example.com/chat?room=1")?
    ///     .subprotocol("chat.v1")
    ///     .build([7; 16], &config)?;
    /// let request = handshake.extended_connect_request();
    /// assert_eq!(request.method(), http::Method::CONNECT);
    /// assert_eq!(request.uri(), "https://example.com/chat?room=1");
    /// assert_eq!(request.headers()["sec-websocket-version"], "13");
    /// assert_eq!(request.headers()["sec-websocket-protocol"], "chat.v1");
    /// assert!(request.headers().get("sec-websocket-key").is_none());
    /// assert!(request.headers().get("upgrade").is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn extended_connect_request(&self) -> http::Request<()> {
        let scheme = match self.scheme {
            Scheme::Ws => http::uri::Scheme::HTTP,
            Scheme::Wss => http::uri::Scheme::HTTPS,
        };
        let source = self.request.uri();
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(scheme);
        parts.authority = source.authority().cloned();
        parts.path_and_query = Some(
            source
                .path_and_query()
                .cloned()
                .unwrap_or_else(|| http::uri::PathAndQuery::from_static("/")),
        );
        let mut request = http::Request::new(());
        *request.method_mut() = Method::CONNECT;
        *request.version_mut() = Version::HTTP_2;
        // The URI was checked when the handshake was built (absolute, a
        // host); the same parts make a valid URI again.
        *request.uri_mut() = Uri::from_parts(parts).unwrap_or_else(|_| source.clone());
        let headers = request.headers_mut();
        for (name, value) in self.request.headers() {
            if !NOT_ON_HTTP2.contains(name) {
                headers.append(name, value.clone());
            }
        }
        request
    }

    /// Checks the server's answer to the
    /// [`extended_connect_request`](Self::extended_connect_request)
    /// (RFC 8441 §5): a 2xx HTTP/2 response with a subprotocol that was
    /// offered (if any) and extensions the offering factories accept. Its
    /// `leftover` is empty: the stream's DATA after the response are the
    /// WebSocket's bytes.
    ///
    /// # Errors
    /// [`ResponseError::UnexpectedStatus`] for another status (with an
    /// empty body: the caller may put the start of the stream's body in
    /// it), [`ResponseError::NotHttp2`], the subprotocol and extension
    /// errors of an HTTP/1.1 answer, and [`ClientError::Finished`] after a
    /// result.
    pub fn handle_extended_connect_response(
        &mut self,
        response: http::Response<()>,
    ) -> Result<ClientUpgrade, ClientError> {
        if self.finish() {
            return Err(ClientError::Finished);
        }
        if !response.status().is_success() {
            return Err(
                ResponseError::UnexpectedStatus(Box::new(response.map(|()| Bytes::new()))).into(),
            );
        }
        if response.version() != Version::HTTP_2 {
            return Err(ResponseError::NotHttp2.into());
        }
        let (subprotocol, extensions) = self.offer.negotiated(response.headers())?;
        Ok(ClientUpgrade {
            response,
            subprotocol,
            extensions,
            leftover: Bytes::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use http::StatusCode;

    use super::*;
    use crate::config::Config;
    use crate::deflate::DeflateConfig;
    use crate::handshake::ClientBuilder;

    fn handshake(config: &Config) -> ClientHandshake {
        ClientBuilder::new("ws://[::1]:8080/feed")
            .unwrap()
            .subprotocol("a")
            .subprotocol("b")
            .header(
                header::ORIGIN,
                http::HeaderValue::from_static("http://[::1]:8080"),
            )
            .build([1; 16], config)
            .unwrap()
    }

    fn answer(status: u16, fields: &[(&str, &str)]) -> http::Response<()> {
        let mut response = http::Response::builder()
            .status(status)
            .version(Version::HTTP_2);
        for (name, value) in fields {
            response = response.header(*name, *value);
        }
        response.body(()).unwrap()
    }

    #[test]
    fn the_request_keeps_the_websocket_fields_and_drops_the_http1_ones() {
        let config = Config::default().with_compression(DeflateConfig::default());
        let request = handshake(&config).extended_connect_request();
        assert_eq!(request.uri(), "http://[::1]:8080/feed");
        assert_eq!(request.version(), Version::HTTP_2);
        let names: Vec<&str> = request.headers().keys().map(HeaderName::as_str).collect();
        assert_eq!(
            names,
            [
                "sec-websocket-version",
                "sec-websocket-protocol",
                "sec-websocket-extensions",
                "origin"
            ]
        );
        assert_eq!(request.headers()["sec-websocket-protocol"], "a, b");
    }

    #[test]
    fn a_200_with_an_offered_subprotocol_and_extension_is_accepted() {
        let config = Config::default().with_compression(DeflateConfig::default());
        let mut client = handshake(&config);
        let upgrade = client
            .handle_extended_connect_response(answer(
                200,
                &[
                    ("sec-websocket-protocol", "b"),
                    ("sec-websocket-extensions", "permessage-deflate"),
                ],
            ))
            .unwrap();
        assert_eq!(upgrade.subprotocol.as_deref(), Some("b"));
        assert_eq!(upgrade.extensions.len(), 1);
        assert!(upgrade.leftover.is_empty());
        assert!(matches!(
            client.handle_extended_connect_response(answer(200, &[])),
            Err(ClientError::Finished)
        ));
    }

    /// An answer and the check its fault must pass.
    type Case = (http::Response<()>, fn(&ResponseError) -> bool);

    #[test]
    fn refusals_and_bad_answers_are_typed() {
        let config = Config::default();
        let cases: [Case; 4] = [
            (
                answer(403, &[]),
                |e| matches!(e, ResponseError::UnexpectedStatus(r) if r.status() == StatusCode::FORBIDDEN),
            ),
            (
                http::Response::builder()
                    .status(200)
                    .version(Version::HTTP_11)
                    .body(())
                    .unwrap(),
                |e| matches!(e, ResponseError::NotHttp2),
            ),
            (
                answer(200, &[("sec-websocket-protocol", "c")]),
                |e| matches!(e, ResponseError::UnofferedSubprotocol(p) if p == "c"),
            ),
            (
                answer(200, &[("sec-websocket-extensions", "permessage-deflate")]),
                |e| matches!(e, ResponseError::Extension(_)),
            ),
        ];
        for (response, expected) in cases {
            let error = handshake(&config)
                .handle_extended_connect_response(response)
                .unwrap_err();
            let fault = error.response_error().unwrap();
            assert!(expected(fault), "{fault:?}");
        }
    }
}
