use super::*;
use crate::config::HandshakeLimits;
use crate::frame::Rsv;
use crate::handshake::test_util::{TestFactory, config_with, feed_split};
use crate::handshake::{
    AcceptErrorKind, AcceptOptions, InvalidHeader, OriginPolicy, response_bytes,
};
use http::StatusCode;
use http::header::{self, HeaderName, HeaderValue};

/// The request of RFC 6455 §1.3.
const EXAMPLE: &str = "GET /chat HTTP/1.1\r\n\
    Host: server.example.com\r\n\
    Upgrade: websocket\r\n\
    Connection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    Origin: http://example.com\r\n\
    Sec-WebSocket-Protocol: chat, superchat\r\n\
    Sec-WebSocket-Version: 13\r\n\r\n";

fn request(config: &Config, input: &[u8]) -> UpgradeRequest {
    match ServerHandshake::new(config).handle_data(input) {
        Ok(Progress::Complete(r)) => r,
        other => panic!("expected a request, got {other:?}"),
    }
}

fn fault(input: &str) -> RequestError {
    match ServerHandshake::new(&Config::default()).handle_data(input.as_bytes()) {
        Err(ServerError::Request(e)) => e,
        other => panic!("expected a fault, got {other:?}"),
    }
}

#[test]
fn rfc6455_section_1_3_example_request_and_response() {
    let req = request(&Config::default(), EXAMPLE.as_bytes());
    assert_eq!(req.request().method(), Method::GET);
    assert_eq!(req.request().uri().path(), "/chat");
    assert_eq!(req.request().headers()["origin"], "http://example.com");
    assert_eq!(req.subprotocols(), ["chat", "superchat"]);
    assert!(req.extensions().is_empty());
    let up = req
        .accept(&AcceptOptions::new().subprotocol("chat"))
        .unwrap();
    assert_eq!(
        std::str::from_utf8(&up.response_bytes()).unwrap(),
        "HTTP/1.1 101 Switching Protocols\r\n\
         Upgrade: websocket\r\n\
         Connection: Upgrade\r\n\
         Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
         Sec-WebSocket-Protocol: chat\r\n\r\n"
    );
    assert_eq!(up.subprotocol.as_deref(), Some("chat"));
    assert!(up.leftover.is_empty());
}

#[test]
#[allow(clippy::too_many_lines)] // one table row per rule
fn request_validation_table() {
    let ok = |from: &str, to: &str| EXAMPLE.replace(from, to);
    let cases: [(&str, String, StatusCode); 21] = [
        ("POST", ok("GET", "POST"), StatusCode::BAD_REQUEST),
        (
            "HTTP/1.0",
            ok("HTTP/1.1", "HTTP/1.0"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "no Host",
            ok("Host: server.example.com\r\n", ""),
            StatusCode::BAD_REQUEST,
        ),
        (
            "two Hosts",
            ok("Host: server.example.com\r\n", "Host: a\r\nHost: b\r\n"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "no Upgrade",
            ok("Upgrade: websocket\r\n", ""),
            StatusCode::BAD_REQUEST,
        ),
        (
            "Upgrade h2c",
            ok("Upgrade: websocket", "Upgrade: h2c"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "no Connection",
            ok("Connection: Upgrade\r\n", ""),
            StatusCode::BAD_REQUEST,
        ),
        (
            "Connection keep-alive",
            ok("Connection: Upgrade", "Connection: keep-alive"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "no version",
            ok("Sec-WebSocket-Version: 13\r\n", ""),
            StatusCode::UPGRADE_REQUIRED,
        ),
        (
            "version 8",
            ok("Version: 13", "Version: 8"),
            StatusCode::UPGRADE_REQUIRED,
        ),
        (
            "two versions",
            ok(
                "Version: 13\r\n",
                "Version: 13\r\nSec-WebSocket-Version: 8\r\n",
            ),
            StatusCode::UPGRADE_REQUIRED,
        ),
        (
            "no key",
            ok("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""),
            StatusCode::BAD_REQUEST,
        ),
        (
            "short key",
            ok("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZQ=="),
            StatusCode::BAD_REQUEST,
        ),
        (
            "not base64",
            ok("dGhlIHNhbXBsZSBub25jZQ==", "the sample nonce"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "two keys",
            ok(
                "Origin",
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin",
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            "bad request line",
            ok("GET /chat HTTP/1.1", "GET /chat HTTP/1.1 extra"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "bad header name",
            ok("Origin:", "Orig in:"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a body by length",
            ok("Origin", "Content-Length: 5\r\nOrigin"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a chunked body",
            ok("Origin", "Transfer-Encoding: chunked\r\nOrigin"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a bad length",
            ok("Origin", "Content-Length: x\r\nOrigin"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a zero and a non-zero length",
            ok("Origin", "Content-Length: 0\r\nContent-Length: 1\r\nOrigin"),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (name, input, status) in cases {
        let err = fault(&input);
        assert_eq!(err.status(), status, "{name}: {err:?}");
        let reply = String::from_utf8(err.response_bytes()).unwrap();
        let code = status.as_str();
        assert!(
            reply.starts_with(&format!("HTTP/1.1 {code} ")),
            "{name}: {reply}"
        );
        assert!(
            reply.contains("\r\nConnection: close\r\n"),
            "{name}: {reply}"
        );
        assert!(
            reply.ends_with(&format!("\r\n\r\n{err}\n")),
            "{name}: {reply}"
        );
        assert_eq!(
            reply.contains("\r\nSec-WebSocket-Version: 13\r\n"),
            status == StatusCode::UPGRADE_REQUIRED,
            "{name}"
        );
    }
    assert!(
        matches!(fault(&EXAMPLE.replace("GET", "PUT")), RequestError::NotGet(m) if m == Method::PUT)
    );
    let err = fault(&EXAMPLE.replace("Version: 13", "Version: 8"));
    assert!(matches!(&err, RequestError::UnsupportedVersion(Some(v)) if v == "8"));
    let err = fault(&EXAMPLE.replace("Origin", "Content-Length: 3\r\nOrigin"));
    assert_eq!(err, RequestError::RequestBody);
    // An empty body is no body.
    request(
        &Config::default(),
        EXAMPLE
            .replace("Origin", "Content-Length: 0\r\nOrigin")
            .as_bytes(),
    );
}

#[test]
fn a_refused_origin_is_answered_403_and_gives_no_request() {
    let config = Config::default().with_origin_policy(OriginPolicy::same_host());
    let mut hs = ServerHandshake::new(&config);
    let Err(ServerError::Request(err)) = hs.handle_data(EXAMPLE.as_bytes()) else {
        panic!("http://example.com is not server.example.com")
    };
    assert!(matches!(&err, RequestError::ForbiddenOrigin(Some(o)) if o == "http://example.com"));
    let reply = String::from_utf8(err.response_bytes()).unwrap();
    assert!(
        reply.starts_with("HTTP/1.1 403 Forbidden\r\nConnection: close\r\n"),
        "{reply}"
    );
    assert!(
        reply.ends_with("cross-site WebSocket hijacking)\n"),
        "{reply}"
    );
    // The same page origin as the Host is welcome.
    let same = EXAMPLE.replace("http://example.com", "https://server.example.com");
    request(&config, same.as_bytes());
    // An allow-list naming the page's origin too.
    let listed =
        Config::default().with_origin_policy(OriginPolicy::allow_list(["http://example.com"]));
    request(&listed, EXAMPLE.as_bytes());
}

#[test]
fn exact_426_reply() {
    let err = RequestError::UnsupportedVersion(None);
    let body = format!("{err}\n");
    assert_eq!(
        String::from_utf8(err.response_bytes()).unwrap(),
        format!(
            "HTTP/1.1 426 Upgrade Required\r\nConnection: close\r\n\
             Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\
             Sec-WebSocket-Version: 13\r\nUpgrade: websocket\r\n\r\n{body}",
            body.len()
        )
    );
}

#[test]
fn token_lists_with_mixed_case_and_spaces() {
    for (upgrade, connection) in [
        ("WebSocket", "keep-alive, Upgrade"),
        ("websocket", "UPGRADE"),
        (" h2c ,WEBSOCKET", "keep-alive ,\tupgrade"),
        ("websocket", "close,upgrade,"),
    ] {
        let input = EXAMPLE
            .replace("Upgrade: websocket", &format!("Upgrade: {upgrade}"))
            .replace("Connection: Upgrade", &format!("Connection: {connection}"));
        request(&Config::default(), input.as_bytes());
    }
    // Several fields make one list.
    let input = EXAMPLE.replace(
        "Connection: Upgrade",
        "Connection: keep-alive\r\nConnection: Upgrade",
    );
    request(&Config::default(), input.as_bytes());
}

#[test]
fn every_split_gives_the_same_result_and_keeps_leftover() {
    let frames = b"\x81\x85\x01\x02\x03\x04iaoh`";
    let mut input = EXAMPLE.as_bytes().to_vec();
    input.extend_from_slice(frames);
    for at in 0..=input.len() {
        let mut hs = ServerHandshake::new(&Config::default());
        let (req, rest) = feed_split(&input, at, |d| match hs.handle_data(d).unwrap() {
            Progress::Partial => None,
            Progress::Complete(r) => Some(r),
        });
        let req = req.unwrap_or_else(|| panic!("incomplete at {at}"));
        assert_eq!(req.subprotocols(), ["chat", "superchat"]);
        let mut stream = req.leftover().to_vec();
        stream.extend_from_slice(&rest);
        assert_eq!(stream, frames, "at {at}");
        assert!(matches!(hs.handle_data(b"x"), Err(ServerError::Finished)));
    }
    // Faults too: the same error wherever the input is split.
    let bad = EXAMPLE.replace("Version: 13", "Version: 7");
    for at in 0..=bad.len() {
        let mut hs = ServerHandshake::new(&Config::default());
        let (a, b) = bad.as_bytes().split_at(at);
        let err = match hs.handle_data(a) {
            Ok(Progress::Partial) => hs.handle_data(b).unwrap_err(),
            Err(e) if b.is_empty() => e,
            other => panic!("at {at}: {other:?}"),
        };
        assert_eq!(
            err.request_error().map(RequestError::status),
            Some(StatusCode::UPGRADE_REQUIRED)
        );
    }
}

#[test]
fn head_size_and_header_count_limits_answer_431() {
    let limits = HandshakeLimits {
        max_head_bytes: EXAMPLE.len(),
        max_headers: 7,
    };
    let config = Config::default().with_handshake_limits(limits);
    request(&config, EXAMPLE.as_bytes());
    let longer = EXAMPLE.replace("/chat", "/chats");
    let mut hs = ServerHandshake::new(&config);
    let err = hs.handle_data(longer.as_bytes()).unwrap_err();
    assert_eq!(
        err,
        ServerError::Request(RequestError::HeadTooLarge {
            limit: EXAMPLE.len()
        })
    );
    let more = EXAMPLE.replace("Origin", "X: 1\r\nOrigin");
    let err = ServerHandshake::new(&config.clone().with_handshake_limits(HandshakeLimits {
        max_head_bytes: 1024,
        max_headers: 7,
    }))
    .handle_data(more.as_bytes())
    .unwrap_err();
    assert_eq!(
        err,
        ServerError::Request(RequestError::TooManyHeaders { limit: 7 })
    );
    assert_eq!(
        err.request_error().unwrap().status(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
    // A head that never ends, fed in small pieces, stops at the limit.
    let mut hs = ServerHandshake::new(&Config::default());
    let mut result = hs.handle_data(b"GET / HTTP/1.1\r\nX: ");
    while let Ok(Progress::Partial) = result {
        result = hs.handle_data(&[b'a'; 100]);
    }
    assert!(matches!(
        result,
        Err(ServerError::Request(RequestError::HeadTooLarge {
            limit: 16384
        }))
    ));
}

#[test]
fn accept_misuse_returns_the_request() {
    let req = request(&Config::default(), EXAMPLE.as_bytes());
    let err = req
        .accept(&AcceptOptions::new().subprotocol("other"))
        .unwrap_err();
    assert_eq!(
        err.kind(),
        &AcceptErrorKind::UnofferedSubprotocol("other".into())
    );
    let req = err.into_request();
    let err = req
        .accept(
            &AcceptOptions::new()
                .header(header::SEC_WEBSOCKET_ACCEPT, HeaderValue::from_static("x")),
        )
        .unwrap_err();
    assert!(
        matches!(err.kind(), AcceptErrorKind::ReservedHeader(h) if h == header::SEC_WEBSOCKET_ACCEPT)
    );
    let up = err
        .into_request()
        .accept(&AcceptOptions::new().header(header::SET_COOKIE, HeaderValue::from_static("a=1")))
        .unwrap();
    let text = String::from_utf8(up.response_bytes()).unwrap();
    assert!(text.ends_with("\r\nset-cookie: a=1\r\n\r\n"), "{text}");
    assert!(!text.contains("Sec-WebSocket-Protocol"), "{text}");
}

#[test]
fn accept_headers_are_given_as_strings_or_typed_values() {
    let req = request(&Config::default(), EXAMPLE.as_bytes());
    let up = req
        .accept(
            &AcceptOptions::new()
                .header("Set-Cookie", "a=1")
                .header(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))
                .header(String::from("x-node"), b"n1".as_slice()),
        )
        .unwrap();
    let response = up.response.headers();
    assert_eq!(response["set-cookie"], "a=1");
    assert_eq!(response["cache-control"], "no-store");
    assert_eq!(response["x-node"], "n1");

    // An invalid string fails `accept`, which hands the request back; the
    // first mistake is the one reported.
    let req = request(&Config::default(), EXAMPLE.as_bytes());
    let err = req
        .accept(
            &AcceptOptions::new()
                .header("x-ok", "1")
                .header("x-b", "a\r\nInjected: 1"),
        )
        .unwrap_err();
    assert_eq!(
        err.kind(),
        &AcceptErrorKind::InvalidHeader(InvalidHeader::Value(HeaderName::from_static("x-b")))
    );
    let err = err
        .into_request()
        .accept(
            &AcceptOptions::new()
                .header("bad name", "x")
                .header("x-b", "\n"),
        )
        .unwrap_err();
    assert_eq!(
        err.kind(),
        &AcceptErrorKind::InvalidHeader(InvalidHeader::Name)
    );
    assert!(err.to_string().contains("token"), "{err}");
    assert!(err.into_request().accept(&AcceptOptions::new()).is_ok());
}

#[test]
fn reject_with_any_status() {
    let req = request(&Config::default(), EXAMPLE.as_bytes());
    let mut headers = HeaderMap::new();
    headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("999"));
    assert_eq!(
        response_bytes(&req.reject(StatusCode::UNAUTHORIZED, &headers, b"who are you?")),
        b"HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nwww-authenticate: Bearer\r\n\
          Content-Length: 12\r\n\r\nwho are you?"
    );
    let req = request(&Config::default(), EXAMPLE.as_bytes());
    let reply = response_bytes(&req.reject(StatusCode::CONTINUE, &HeaderMap::new(), b""));
    assert!(reply.starts_with(b"HTTP/1.1 500 "));
}

#[test]
fn extension_negotiation_on_the_server() {
    let config = config_with(&[
        TestFactory::arc("x-b", Rsv::RSV2),
        TestFactory::arc("x-a", Rsv::RSV1),
        TestFactory::arc("x-c", Rsv::RSV1),
        TestFactory::arc("x-d", Rsv::RSV3),
    ]);
    let offers = "Sec-WebSocket-Extensions: x-a; p=1, x-z\r\n\
                  Sec-WebSocket-Extensions: x-c, x-b, x-d; decline\r\n\r\n";
    let input = EXAMPLE.replace("\r\n\r\n", &format!("\r\n{offers}"));
    let req = request(&config, input.as_bytes());
    let names: Vec<_> = req.extensions().iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["x-a", "x-z", "x-c", "x-b", "x-d"]);
    let up = req.accept(&AcceptOptions::new()).unwrap();
    // Config order; x-c loses RSV1 to x-a; x-d declines; x-z is unknown.
    let names: Vec<_> = up.extensions.iter().map(|e| e.name()).collect();
    assert_eq!(names, ["x-b", "x-a"]);
    let text = String::from_utf8(up.response_bytes()).unwrap();
    assert!(
        text.contains("\r\nSec-WebSocket-Extensions: x-b, x-a\r\n"),
        "{text}"
    );

    // A malformed offer list declines extensions, not the handshake.
    let input = EXAMPLE.replace("\r\n\r\n", "\r\nSec-WebSocket-Extensions: x-a; =\r\n\r\n");
    let req = request(&config, input.as_bytes());
    assert!(req.extensions().is_empty());
    let up = req.accept(&AcceptOptions::new()).unwrap();
    assert!(up.extensions.is_empty());
    assert!(
        !String::from_utf8(up.response_bytes())
            .unwrap()
            .contains("Extensions")
    );
}

#[test]
fn client_and_server_agree() {
    use crate::handshake::ClientBuilder;
    let config = config_with(&[
        TestFactory::arc("x-a", Rsv::RSV1),
        TestFactory::arc("x-b", Rsv::RSV2),
    ]);
    let mut client = ClientBuilder::new("ws://[::1]:9001/live?x=1")
        .unwrap()
        .subprotocol("v2")
        .subprotocol("v1")
        .build([42; 16], &config)
        .unwrap();
    let req = request(&config, client.request_bytes());
    assert_eq!(req.request().uri(), "/live?x=1");
    assert_eq!(req.request().headers()["host"], "[::1]:9001");
    let chosen = req.subprotocols()[1].clone();
    let up = req
        .accept(&AcceptOptions::new().subprotocol(chosen))
        .unwrap();
    let mut wire = up.response_bytes();
    wire.extend_from_slice(b"\x81\x00");
    let Progress::Complete(done) = client.handle_data(&wire).unwrap() else {
        panic!()
    };
    assert_eq!(done.subprotocol.as_deref(), Some("v1"));
    let names: Vec<_> = done.extensions.iter().map(|e| e.name()).collect();
    assert_eq!(names, ["x-a", "x-b"]);
    assert_eq!(&done.leftover[..], b"\x81\x00");
}
