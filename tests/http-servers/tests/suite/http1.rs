//! HTTP/1.1 against the axum app and the bare hyper service: our own
//! client end to end, a first frame written together with the request
//! (the bytes hyper read ahead must reach the session), and the refusals
//! of SPEC §2b with the plain routes still serving.

use std::time::Duration;

use http_servers_tests::raw::{RawResponse, exchange, upgrade_request};
use http_servers_tests::servers::{Seen, Server, next, start};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use ws_axum::{CloseCode, CloseFrame, Config, DeflateConfig, Message, OriginPolicy};
use ws_tokio::{ClientRequestBuilder, Connector, http::Version};

/// Which server a test runs against.
async fn our_client_end_to_end(server: Server) {
    let config = Config::default().with_compression(DeflateConfig::default());
    let (addr, mut seen) = start(server, config.clone()).await;
    let builder = ClientRequestBuilder::new(format!("ws://{addr}/ws"))
        .subprotocol("other")
        .subprotocol("echo.v1");
    let (mut ws, response) = Connector::new()
        .config(config)
        .connect(builder)
        .await
        .unwrap();
    assert_eq!(response.status(), 101);
    assert_eq!(response.subprotocol(), Some("echo.v1"));
    assert_eq!(response.extensions(), ["permessage-deflate"]);
    let Seen::Upgrade {
        method,
        version,
        path,
        protocol,
        extensions,
    } = next(&mut seen).await
    else {
        panic!("an upgrade first")
    };
    assert_eq!(
        (method.as_str(), version, path.as_str()),
        ("GET", Version::HTTP_11, "/ws")
    );
    assert_eq!(protocol.as_deref(), Some("echo.v1"));
    assert_eq!(extensions, ["permessage-deflate"]);
    let big = "x".repeat(300_000);
    for message in [
        Message::Text("hello".into()),
        Message::Binary(vec![7u8; 70_000].into()),
        Message::Text(big.into()),
    ] {
        ws.send_message(message.clone()).await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), message);
        assert_eq!(next(&mut seen).await, Seen::Message(message));
    }
    ws.close(CloseFrame::new(CloseCode::NORMAL, "done"))
        .await
        .unwrap();
    assert!(ws.close_reason().unwrap().is_clean());
}

/// RFC 6455 §5.7's masked "Hello".
const MASKED_HELLO: [u8; 11] = [
    0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
];

/// The request and the first frame leave in one write: hyper reads both,
/// and the frame must come out of the upgraded connection first.
async fn first_frame_with_the_request(server: Server) {
    let (addr, mut seen) = start(server, Config::default()).await;
    let mut wire = upgrade_request("/ws", &addr.to_string(), "").into_bytes();
    wire.extend_from_slice(&MASKED_HELLO);
    let RawResponse {
        status,
        mut stream,
        mut rest,
        ..
    } = exchange(addr, &wire).await.unwrap();
    assert_eq!(status, 101);
    // The server's unmasked echo: 0x81 0x05 "Hello".
    while rest.len() < 7 {
        let mut chunk = [0u8; 64];
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .expect("the echo within 10 s")
            .unwrap();
        assert!(n > 0, "EOF before the echo");
        rest.extend_from_slice(&chunk[..n]);
    }
    assert_eq!(&rest[..7], b"\x81\x05Hello");
    assert!(matches!(next(&mut seen).await, Seen::Upgrade { .. }));
    assert_eq!(
        next(&mut seen).await,
        Seen::Message(Message::Text("Hello".into()))
    );
}

/// SPEC §2b: a request without a valid upgrade is 400 or 426, a foreign
/// Origin 403, a GET with a body 400; the plain route keeps serving, on the
/// same keep-alive connection too.
async fn refusals(server: Server) {
    let config = Config::default().with_origin_policy(OriginPolicy::same_host());
    let (addr, _seen) = start(server, config).await;
    let host = addr.to_string();
    let plain_get = |path: &str| format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n");
    let cases = [
        (plain_get("/ws"), 400, "Upgrade"),
        (
            upgrade_request("/ws", &host, "").replace("Version: 13", "Version: 8"),
            426,
            "version 13",
        ),
        (
            upgrade_request("/ws", &host, "").replace("Upgrade: websocket\r\n", ""),
            400,
            "Upgrade",
        ),
        (
            upgrade_request("/ws", &host, "")
                .replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""),
            400,
            "Sec-WebSocket-Key",
        ),
        (
            upgrade_request("/ws", &host, "Origin: https://evil.example\r\n"),
            403,
            "hijacking",
        ),
        (
            upgrade_request("/ws", &host, "Content-Length: 5\r\n") + "hello",
            400,
            "body",
        ),
    ];
    for (request, status, says) in cases {
        let response = exchange(addr, request.as_bytes()).await.unwrap();
        let body = String::from_utf8_lossy(&response.body).into_owned();
        assert_eq!(response.status, status, "{request:?}: {body}");
        assert!(body.contains(says), "{request:?}: {body}");
        if status == 426 {
            assert_eq!(response.header("sec-websocket-version"), Some("13"));
        }
        // The same connection still serves the plain route.
        let mut stream = response.stream;
        stream
            .write_all(plain_get("/plain").as_bytes())
            .await
            .unwrap();
        let mut answer = Vec::new();
        while !answer.ends_with(b"plain ok") {
            let mut chunk = [0u8; 1024];
            let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
                .await
                .expect("an answer within 10 s")
                .unwrap();
            assert!(n > 0, "{request:?}: closed instead of serving /plain");
            answer.extend_from_slice(&chunk[..n]);
        }
        assert!(answer.starts_with(b"HTTP/1.1 200 OK\r\n"));
    }
    // A page of this server may connect.
    let same = upgrade_request("/ws", &host, &format!("Origin: http://{host}\r\n"));
    assert_eq!(exchange(addr, same.as_bytes()).await.unwrap().status, 101);
}

http_servers_tests::on_both_servers! {
    our_client => our_client_end_to_end,
    read_ahead_bytes_reach_the_session => first_frame_with_the_request,
    refusals_keep_the_plain_routes => refusals,
}
