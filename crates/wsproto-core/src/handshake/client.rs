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
pub(super) enum State {
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

impl ClientHandshake {
    /// Marks the handshake finished (its result was returned elsewhere:
    /// an HTTP/2 response, see `extended`); whether it already was.
    pub(super) fn finish(&mut self) -> bool {
        matches!(
            std::mem::replace(&mut self.state, State::Finished),
            State::Finished
        )
    }
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
    pub(super) request: http::Request<()>,
    bytes: Vec<u8>,
    pub(super) scheme: Scheme,
    host: String,
    port: u16,
    /// What the response must answer.
    pub(super) offer: Offer,
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
mod tests {
    use super::*;
    use crate::config::HandshakeLimits;
    use crate::extension::NegotiationError;
    use crate::frame::Rsv;
    use crate::handshake::test_util::{TestFactory, config_with, feed_split};

    const NONCE: [u8; 16] = *b"the sample nonce";
    /// RFC 6455 §1.3's answer to `NONCE`.
    const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    fn client(config: &Config, subprotocols: &[&str]) -> ClientHandshake {
        subprotocols
            .iter()
            .fold(
                ClientBuilder::new("ws://server.example.com/chat").unwrap(),
                |b, p| b.subprotocol(*p),
            )
            .build(NONCE, config)
            .unwrap()
    }

    fn response(extra: &str) -> String {
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Accept: {ACCEPT}\r\n{extra}\r\n"
        )
    }

    fn complete(hs: &mut ClientHandshake, input: &[u8]) -> ClientUpgrade {
        match hs.handle_data(input) {
            Ok(Progress::Complete(up)) => up,
            other => panic!("expected success, got {other:?}"),
        }
    }

    fn fail(hs: &mut ClientHandshake, input: &[u8]) -> ResponseError {
        match hs.handle_data(input) {
            Err(ClientError::Response(e)) => e,
            other => panic!("expected a response error, got {other:?}"),
        }
    }

    #[test]
    fn rfc6455_section_1_3_example_response() {
        let mut hs = client(&Config::default(), &["chat", "superchat"]);
        let up = complete(
            &mut hs,
            response("Sec-WebSocket-Protocol: chat\r\n").as_bytes(),
        );
        assert_eq!(up.response.status(), StatusCode::SWITCHING_PROTOCOLS);
        assert_eq!(up.response.headers()["sec-websocket-accept"], ACCEPT);
        assert_eq!(up.subprotocol.as_deref(), Some("chat"));
        assert!(up.extensions.is_empty());
        assert!(up.leftover.is_empty());
        assert!(hs.is_finished());
        assert!(matches!(hs.handle_data(b"x"), Err(ClientError::Finished)));
        assert!(matches!(hs.handle_eof(), ClientError::Finished));
    }

    #[test]
    fn lenient_where_the_rfc_is() {
        let mut hs = client(&Config::default(), &[]);
        let input = format!(
            "HTTP/1.1 101 OK\nupgrade: WebSocket\nconnection: keep-alive, UPGRADE\n\
             sec-websocket-accept:  {ACCEPT} \n\n"
        );
        let up = complete(&mut hs, input.as_bytes());
        assert_eq!(up.subprotocol, None);
    }

    /// Name, response, subprotocols offered, expected error.
    type Case = (
        &'static str,
        String,
        &'static [&'static str],
        fn(&ResponseError) -> bool,
    );

    #[test]
    #[allow(clippy::too_many_lines)] // one table row per rule
    fn response_validation_table() {
        let ext = || {
            config_with(&[
                TestFactory::arc("x-a", Rsv::RSV1),
                TestFactory::arc("x-b", Rsv::RSV1),
            ])
        };
        let cases: Vec<Case> = vec![
            (
                "missing Upgrade",
                response("").replace("Upgrade: websocket\r\n", ""),
                &[],
                |e| matches!(e, ResponseError::InvalidUpgrade(None)),
            ),
            (
                "wrong Upgrade",
                response("").replace("Upgrade: websocket", "Upgrade: h2c"),
                &[],
                |e| matches!(e, ResponseError::InvalidUpgrade(Some(v)) if v == "h2c"),
            ),
            (
                "Upgrade twice",
                response("Upgrade: websocket\r\n"),
                &[],
                |e| matches!(e, ResponseError::InvalidUpgrade(Some(_))),
            ),
            (
                "Connection without upgrade",
                response("").replace("Connection: Upgrade", "Connection: keep-alive"),
                &[],
                |e| matches!(e, ResponseError::MissingConnectionUpgrade),
            ),
            (
                "missing Connection",
                response("").replace("Connection: Upgrade\r\n", ""),
                &[],
                |e| matches!(e, ResponseError::MissingConnectionUpgrade),
            ),
            (
                "bad accept",
                response("").replace(ACCEPT, "dGhlIHNhbXBsZSBub25jZQ=="),
                &[],
                |e| matches!(e, ResponseError::InvalidAccept { expected, found: Some(f) } if expected == ACCEPT && f == "dGhlIHNhbXBsZSBub25jZQ=="),
            ),
            (
                "missing accept",
                response("").replace(&format!("Sec-WebSocket-Accept: {ACCEPT}\r\n"), ""),
                &[],
                |e| matches!(e, ResponseError::InvalidAccept { found: None, .. }),
            ),
            (
                "unoffered subprotocol",
                response("Sec-WebSocket-Protocol: other\r\n"),
                &["chat"],
                |e| matches!(e, ResponseError::UnofferedSubprotocol(p) if p == "other"),
            ),
            (
                "subprotocol when none offered",
                response("Sec-WebSocket-Protocol: chat\r\n"),
                &[],
                |e| matches!(e, ResponseError::SubprotocolNotRequested(p) if p == "chat"),
            ),
            (
                "two subprotocols",
                response("Sec-WebSocket-Protocol: chat, superchat\r\n"),
                &["chat", "superchat"],
                |e| matches!(e, ResponseError::SeveralSubprotocols),
            ),
            (
                "unoffered extension",
                response("Sec-WebSocket-Extensions: x-z\r\n"),
                &[],
                |e| matches!(e, ResponseError::Extension(NegotiationError::UnofferedExtension(n)) if n == "x-z"),
            ),
            (
                "duplicate extension",
                response("Sec-WebSocket-Extensions: x-a\r\nSec-WebSocket-Extensions: x-a\r\n"),
                &[],
                |e| matches!(e, ResponseError::Extension(NegotiationError::Conflict(n)) if n == "x-a"),
            ),
            (
                "RSV conflict",
                response("Sec-WebSocket-Extensions: x-a, x-b\r\n"),
                &[],
                |e| matches!(e, ResponseError::Extension(NegotiationError::Conflict(n)) if n == "x-b"),
            ),
            (
                "extension rejects parameters",
                response("Sec-WebSocket-Extensions: x-a; bogus=1\r\n"),
                &[],
                |e| {
                    matches!(
                        e,
                        ResponseError::Extension(NegotiationError::UnknownParameter {
                            extension: "x-a",
                            ..
                        })
                    )
                },
            ),
            (
                "malformed extensions",
                response("Sec-WebSocket-Extensions: x-a;;\r\n"),
                &[],
                |e| matches!(e, ResponseError::Extension(NegotiationError::Malformed)),
            ),
            (
                "HTTP/1.0",
                response("").replace("HTTP/1.1", "HTTP/1.0"),
                &[],
                |e| matches!(e, ResponseError::NotHttp11),
            ),
            (
                "garbage",
                "HTTP/1.1 1O1 Switching\r\n\r\n".to_owned(),
                &[],
                |e| matches!(e, ResponseError::Malformed(httparse::Error::Status)),
            ),
        ];
        for (name, input, offered, check) in cases {
            let mut hs = client(&ext(), offered);
            let err = fail(&mut hs, input.as_bytes());
            assert!(check(&err), "{name}: {err:?}");
            assert!(!err.to_string().is_empty());
            assert!(hs.is_finished(), "{name}");
        }
    }

    #[test]
    fn accepted_extensions_come_in_response_order() {
        let config = config_with(&[
            TestFactory::arc("x-a", Rsv::RSV1),
            TestFactory::arc("x-b", Rsv::RSV2),
        ]);
        let mut hs = client(&config, &[]);
        let up = complete(
            &mut hs,
            response("Sec-WebSocket-Extensions: x-b\r\nSec-WebSocket-Extensions: X-A\r\n")
                .as_bytes(),
        );
        let names: Vec<_> = up.extensions.iter().map(|e| e.name()).collect();
        assert_eq!(names, ["x-b", "x-a"]);
    }

    #[test]
    fn error_statuses_carry_headers_and_body_start() {
        // Content-Length body, split at every offset.
        let input = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\nX-Why: token\r\n\r\nforbidden";
        for at in 0..=input.len() {
            let mut hs = client(&Config::default(), &[]);
            let (a, b) = input.split_at(at);
            let err = match hs.handle_data(a) {
                Ok(Progress::Partial) => fail(&mut hs, b),
                Err(ClientError::Response(e)) if b.is_empty() => e,
                other => panic!("at {at}: {other:?}"),
            };
            let ResponseError::UnexpectedStatus(resp) = err else {
                panic!("{err:?}")
            };
            assert_eq!(resp.status(), StatusCode::FORBIDDEN);
            assert_eq!(resp.headers()["x-why"], "token");
            assert_eq!(&resp.body()[..], b"forbidden", "at {at}");
        }

        // No length: the body runs to EOF.
        let mut hs = client(&Config::default(), &[]);
        assert!(matches!(
            hs.handle_data(b"HTTP/1.1 200 OK\r\n\r\nhello "),
            Ok(Progress::Partial)
        ));
        assert!(matches!(hs.handle_data(b"world"), Ok(Progress::Partial)));
        let ClientError::Response(ResponseError::UnexpectedStatus(resp)) = hs.handle_eof() else {
            panic!()
        };
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(&resp.body()[..], b"hello world");

        // A long body is cut at the cap, and no more is buffered.
        let mut hs = client(&Config::default(), &[]);
        let mut input =
            b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 100000\r\n\r\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 3000));
        assert!(matches!(hs.handle_data(&input), Ok(Progress::Partial)));
        let ResponseError::UnexpectedStatus(resp) = fail(&mut hs, &[b'y'; 5000]) else {
            panic!()
        };
        assert_eq!(resp.body().len(), MAX_ERROR_BODY);

        // Chunked: what has arrived; 204: nothing.
        let mut hs = client(&Config::default(), &[]);
        let ResponseError::UnexpectedStatus(resp) = fail(
            &mut hs,
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc",
        ) else {
            panic!()
        };
        assert_eq!(&resp.body()[..], b"3\r\nabc");
        let mut hs = client(&Config::default(), &[]);
        let ResponseError::UnexpectedStatus(resp) =
            fail(&mut hs, b"HTTP/1.1 204 No Content\r\n\r\n")
        else {
            panic!()
        };
        assert!(resp.body().is_empty());
        assert!(resp.status() == StatusCode::NO_CONTENT);
    }

    #[test]
    fn every_split_gives_the_same_result_and_keeps_leftover() {
        let config = config_with(&[TestFactory::arc("x-a", Rsv::RSV1)]);
        let frames = b"\x81\x05hello\x89\x00";
        let mut input =
            response("Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Extensions: x-a\r\n")
                .into_bytes();
        input.extend_from_slice(frames);
        for at in 0..=input.len() {
            let mut hs = client(&config, &["chat"]);
            let (up, rest) = feed_split(&input, at, |d| match hs.handle_data(d).unwrap() {
                Progress::Partial => None,
                Progress::Complete(up) => Some(up),
            });
            let up = up.unwrap_or_else(|| panic!("incomplete at {at}"));
            assert_eq!(up.subprotocol.as_deref(), Some("chat"));
            assert_eq!(up.extensions.len(), 1);
            let mut stream = up.leftover.to_vec();
            stream.extend_from_slice(&rest);
            assert_eq!(stream, frames, "at {at}");
        }
        // Byte by byte.
        let mut hs = client(&config, &["chat"]);
        let mut result = None;
        for (i, b) in input.iter().enumerate() {
            if let Progress::Complete(up) = hs.handle_data(std::slice::from_ref(b)).unwrap() {
                result = Some((up, i));
                break;
            }
        }
        let (up, i) = result.unwrap();
        assert!(up.leftover.is_empty());
        assert_eq!(&input[i + 1..], frames);
    }

    #[test]
    fn head_size_and_header_count_limits() {
        let limits = HandshakeLimits {
            max_head_bytes: 200,
            max_headers: 6,
        };
        let config = Config::default().with_handshake_limits(limits);
        // Exactly at the limits: fine.
        let base = response("");
        let fill = 200 - base.len() - "X-Pad: \r\n".len();
        let at_limit = response(&format!(
            "X-Pad: {}\r\nA: 1\r\nB: 2\r\n",
            "p".repeat(fill - 12)
        ));
        assert_eq!(at_limit.len(), 200);
        complete(&mut client(&config, &[]), at_limit.as_bytes());
        // One byte more.
        let over = at_limit.replacen("X-Pad: ", "X-Pad: p", 1);
        assert!(matches!(
            fail(&mut client(&config, &[]), over.as_bytes()),
            ResponseError::HeadTooLarge { limit: 200 }
        ));
        // A head that never ends, fed in pieces, stops at the limit.
        let mut hs = client(&config, &[]);
        assert!(matches!(
            hs.handle_data(b"HTTP/1.1 101 Switching Protocols\r\nX: "),
            Ok(Progress::Partial)
        ));
        for _ in 0..20 {
            match hs.handle_data(&[b'a'; 10]) {
                Ok(Progress::Partial) => {}
                Err(ClientError::Response(ResponseError::HeadTooLarge { limit: 200 })) => break,
                other => panic!("{other:?}"),
            }
        }
        assert!(hs.is_finished());
        // Seven fields where six are allowed.
        let many = response("A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n");
        assert!(matches!(
            fail(&mut client(&config, &[]), many.as_bytes()),
            ResponseError::TooManyHeaders { limit: 6 }
        ));
    }

    #[test]
    fn eof_before_the_head_is_complete() {
        let mut hs = client(&Config::default(), &[]);
        assert!(matches!(
            hs.handle_data(b"HTTP/1.1 101 Swi"),
            Ok(Progress::Partial)
        ));
        assert!(matches!(
            hs.handle_eof(),
            ClientError::Response(ResponseError::UnexpectedEof { received: 16 })
        ));
        assert!(matches!(hs.handle_data(b"x"), Err(ClientError::Finished)));
    }

    #[cfg(feature = "getrandom")]
    #[test]
    fn random_keys_differ() {
        assert_ne!(
            ClientHandshake::random_key().unwrap(),
            ClientHandshake::random_key().unwrap()
        );
    }
}
