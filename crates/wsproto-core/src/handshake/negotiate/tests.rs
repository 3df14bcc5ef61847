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
