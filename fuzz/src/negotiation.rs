//! The `parsed_negotiation` target: the server negotiation on a request
//! that an HTTP server parsed (`UpgradeRequest::from_request`, HTTP/1.1 or
//! RFC 8441 extended CONNECT, with an Origin policy).
//!
//! The input is decoded front to back: method (`u8`: GET, CONNECT, POST, or
//! a chunk), version (`u8`: 1.1, 1.0, 2), target ([`Chunk`] after `/`), the
//! base header set (`u8`: none, the RFC 6455 §1.3 fields, the RFC 8441
//! fields), up to 32 extra fields (a count, then name and value chunks;
//! invalid ones skipped), `via` (`u8`: HTTP/1.1, CONNECT without
//! `:protocol`, with `websocket`, with a chunk), the Origin policy (`u8`:
//! any, same host, an allow-list of one chunk, same host refusing a missing
//! Origin), then `accept` (`bool`) and a status (`u16`).

use arbitrary::{Arbitrary, Result, Unstructured};
use http::{HeaderName, HeaderValue, Method, StatusCode, Version};
use wsproto_core::handshake::{
    AcceptOptions, OriginPolicy, Progress, RequestError, ServerError, ServerHandshake,
    UpgradeRequest, Via, accept_key, response_bytes,
};
use wsproto_core::{Config, DeflateConfig};

use crate::{Chunk, http_reply};

/// A decoded input.
#[derive(Debug)]
pub struct Input {
    request: http::Request<()>,
    /// 0: HTTP/1.1; 1: CONNECT without `:protocol`; 2: `websocket`; 3: `protocol`.
    via: u8,
    protocol: String,
    config: Config,
    accept: bool,
    status: u16,
}

impl<'a> Arbitrary<'a> for Input {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let method = match u.int_in_range(0..=3u8)? {
            0 => Method::GET,
            1 => Method::CONNECT,
            2 => Method::POST,
            _ => Method::from_bytes(&Chunk::arbitrary(u)?.0).unwrap_or(Method::PUT),
        };
        let version = [Version::HTTP_11, Version::HTTP_10, Version::HTTP_2]
            [usize::from(u.int_in_range(0..=2u8)?)];
        let mut target = b"/".to_vec();
        target.extend(Chunk::arbitrary(u)?.0);
        let mut builder = http::Request::builder()
            .method(method)
            .version(version)
            .uri(http::Uri::try_from(target).unwrap_or_else(|_| http::Uri::from_static("/")));
        builder = match u.int_in_range(0..=2u8)? {
            0 => builder,
            1 => builder
                .header("host", "server.example.com")
                .header("upgrade", "websocket")
                .header("connection", "Upgrade")
                .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
                .header("sec-websocket-version", "13"),
            _ => builder
                .uri("https://server.example.com/chat")
                .header("sec-websocket-version", "13"),
        };
        for _ in 0..u.int_in_range(0..=32u8)? {
            let (name, value) = (Chunk::arbitrary(u)?.0, Chunk::arbitrary(u)?.0);
            // Values as an HTTP/1 parser hands them over: without the
            // optional whitespace around them.
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(&name),
                HeaderValue::from_bytes(value.trim_ascii()),
            ) {
                builder = builder.header(n, v);
            }
        }
        let via = u.int_in_range(0..=3u8)?;
        let protocol = String::from_utf8_lossy(&Chunk::arbitrary(u)?.0).into_owned();
        let policy = match u.int_in_range(0..=3u8)? {
            0 => OriginPolicy::any(),
            1 => OriginPolicy::same_host(),
            2 => OriginPolicy::allow_list([String::from_utf8_lossy(&Chunk::arbitrary(u)?.0)]),
            _ => OriginPolicy::same_host().refuse_missing(),
        };
        Ok(Input {
            request: builder
                .body(())
                .map_err(|_| arbitrary::Error::IncorrectFormat)?,
            via,
            protocol,
            config: Config::default()
                .with_compression(DeflateConfig::default())
                .with_origin_policy(policy),
            accept: u.arbitrary()?,
            status: u.int_in_range(100..=999u16)?,
        })
    }
}

impl Input {
    fn via(&self) -> Via<'_> {
        match self.via {
            0 => Via::Http11,
            1 => Via::ExtendedConnect { protocol: None },
            2 => Via::ExtendedConnect {
                protocol: Some("websocket"),
            },
            _ => Via::ExtendedConnect {
                protocol: Some(&self.protocol),
            },
        }
    }

    /// Runs the negotiation and checks its answer; an HTTP/1.x request is
    /// also serialised and fed to the byte-level `ServerHandshake`, which
    /// must answer it with the same bytes.
    pub fn check(&self) {
        let parsed = UpgradeRequest::from_request(self.request.clone(), self.via(), &self.config);
        let answer = match parsed {
            Ok(request) => self.answer(request),
            Err(e) => refusal(&e),
        };
        if self.via == 0 && self.request.version() != Version::HTTP_2 {
            let mut hs = ServerHandshake::new(&self.config);
            let from_bytes = match hs.handle_data(&request_bytes(&self.request)) {
                Ok(Progress::Complete(request)) => self.answer(request),
                Err(ServerError::Request(e)) => e.response_bytes(),
                other => panic!("a complete head: {other:?}"),
            };
            assert_eq!(
                String::from_utf8_lossy(&from_bytes),
                String::from_utf8_lossy(&answer)
            );
        }
    }

    /// `accept` (the first offered subprotocol) or `reject`: a well-formed
    /// 101 with the accept key (HTTP/1.1) or a 200 without one (HTTP/2).
    fn answer(&self, request: UpgradeRequest) -> Vec<u8> {
        assert_eq!(request.is_extended_connect(), self.via != 0);
        let key = request
            .request()
            .headers()
            .get("sec-websocket-key")
            .cloned();
        let request = request.with_config(&self.config).expect("same config");
        if !self.accept {
            let status = StatusCode::from_u16(self.status).expect("100..=999");
            let reply = response_bytes(&request.reject(status, &http::HeaderMap::new(), b"no"));
            let expected = if status.is_informational() {
                500
            } else {
                self.status
            };
            assert_eq!(http_reply(&reply), (expected, 2));
            return reply;
        }
        let chosen = request.subprotocols().first().cloned();
        let options = chosen.map_or(AcceptOptions::new(), |p| {
            AcceptOptions::new().subprotocol(p)
        });
        let up = request.accept(&options).expect("offered subprotocol");
        let accept = up.response.headers().get("sec-websocket-accept");
        if self.via == 0 {
            assert_eq!(up.response.status(), 101);
            let key = key
                .expect("checked")
                .to_str()
                .expect("base64")
                .trim()
                .to_owned();
            assert_eq!(accept.expect("101 has it"), accept_key(&key).as_str());
        } else {
            assert_eq!(up.response.status(), 200);
            assert!(accept.is_none() && up.response.headers().get("upgrade").is_none());
        }
        let bytes = up.response_bytes();
        assert_eq!(http_reply(&bytes).0, up.response.status().as_u16());
        bytes
    }
}

/// A refusal of a parsed request: only the faults a parsed request can
/// have, each with its status and a well-formed response.
fn refusal(e: &RequestError) -> Vec<u8> {
    assert!(!matches!(
        e,
        RequestError::HeadTooLarge { .. }
            | RequestError::TooManyHeaders { .. }
            | RequestError::Malformed(_)
            | RequestError::InvalidHeaderField
            | RequestError::InvalidTarget
    ));
    assert!(matches!(e.status().as_u16(), 400 | 403 | 426));
    let response = e.to_response();
    assert_eq!(response.status(), e.status());
    let bytes = response_bytes(&response);
    assert_eq!(
        http_reply(&bytes),
        (e.status().as_u16(), response.body().len())
    );
    bytes
}

/// The request as HTTP/1.x bytes.
fn request_bytes(request: &http::Request<()>) -> Vec<u8> {
    let version = if request.version() == Version::HTTP_10 {
        "1.0"
    } else {
        "1.1"
    };
    let target = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let mut out = format!("{} {target} HTTP/{version}\r\n", request.method()).into_bytes();
    for (name, value) in request.headers() {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}
