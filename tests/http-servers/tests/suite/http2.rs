//! HTTP/2 (RFC 8441) against the axum app and the bare hyper service, with
//! an h2 client: a WebSocket on an extended CONNECT stream (our core runs
//! the frames), two at once on one connection next to plain requests, and
//! the refusals (GET on the WebSocket route, a `:protocol` other than
//! `websocket`, a wrong version, a foreign Origin) with the plain route
//! still serving on the same connection.

use http::{Method, Request, StatusCode, Version};
use http_servers_tests::h2ws::H2Client;
use http_servers_tests::servers::{Seen, Server, next, start};
use ws_axum::{CloseCode, Config, DeflateConfig, Message, OriginPolicy};
use ws_tokio::wsproto_core::{self, Event};

/// GET `path` on the connection: status and body.
async fn get(client: &mut H2Client, path: &str) -> (StatusCode, String) {
    let (response, _send, mut body) = client
        .open(Request::builder().method(Method::GET).uri(path), None)
        .await
        .unwrap();
    let mut text = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.unwrap();
        let _ = body.flow_control().release_capacity(chunk.len());
        text.extend_from_slice(&chunk);
    }
    (response.status(), String::from_utf8(text).unwrap())
}

async fn echo_over_extended_connect(server: Server) {
    let config = Config::default().with_compression(DeflateConfig::default());
    let (addr, mut seen) = start(server, config.clone()).await;
    let mut client = H2Client::connect(addr).await.unwrap();
    assert!(
        client.extended_connect_enabled(),
        "SETTINGS_ENABLE_CONNECT_PROTOCOL"
    );
    let (response, mut ws) = client
        .websocket(
            "/ws",
            config.clone(),
            &[("sec-websocket-protocol", "chat, echo.v1")],
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["sec-websocket-protocol"], "echo.v1");
    assert!(
        response.headers()["sec-websocket-extensions"]
            .to_str()
            .unwrap()
            .starts_with("permessage-deflate")
    );
    assert!(response.headers().get("sec-websocket-accept").is_none());
    assert_eq!(
        next(&mut seen).await,
        Seen::Upgrade {
            method: Method::CONNECT,
            version: Version::HTTP_2,
            path: "/ws".to_owned(),
            protocol: Some("echo.v1".to_owned()),
            extensions: vec!["permessage-deflate".to_owned()],
        }
    );

    // A second WebSocket and a plain request on the same connection.
    let (_, mut second) = client
        .websocket("/ws", Config::default(), &[])
        .await
        .unwrap();
    assert!(matches!(next(&mut seen).await, Seen::Upgrade { .. }));
    assert_eq!(
        get(&mut client, "/plain").await,
        (StatusCode::OK, "plain ok".to_owned())
    );

    for message in [
        wsproto_core::Message::Text("over h2".into()),
        wsproto_core::Message::Binary(vec![1u8; 100_000].into()),
    ] {
        ws.connection().send_message(message.clone()).unwrap();
        assert_eq!(ws.next_message().await.unwrap(), message);
        assert_eq!(next(&mut seen).await, Seen::Message(message.into()));
    }
    second.connection().send_text("second").unwrap();
    assert_eq!(
        second.next_message().await.unwrap(),
        wsproto_core::Message::Text("second".into())
    );
    assert_eq!(
        next(&mut seen).await,
        Seen::Message(Message::Text("second".into()))
    );

    // The close handshake over the stream.
    let now = tokio::time::Instant::now().into_std();
    ws.connection()
        .close(now, CloseCode::NORMAL, "bye")
        .unwrap();
    let reason = loop {
        match ws.next_event().await.unwrap() {
            Some(Event::Closed(reason)) => break reason,
            Some(_) => {}
            None => panic!("the stream ended before the close handshake"),
        }
    };
    assert!(reason.is_clean(), "{reason:?}");
    ws.finish().unwrap();
    // The other stream is unaffected.
    second.connection().send_text("still here").unwrap();
    assert_eq!(
        second.next_message().await.unwrap(),
        wsproto_core::Message::Text("still here".into())
    );
}

async fn refusals(server: Server) {
    let config = Config::default().with_origin_policy(OriginPolicy::same_host());
    let (addr, _seen) = start(server, config).await;
    let mut client = H2Client::connect(addr).await.unwrap();
    let connect = || {
        Request::builder()
            .method(Method::CONNECT)
            .uri("/ws")
            .header("sec-websocket-version", "13")
    };
    let cases: [(http::request::Builder, Option<&'static str>, u16, &str); 4] = [
        (
            Request::builder().method(Method::GET).uri("/ws"),
            None,
            400,
            "extended CONNECT",
        ),
        (connect(), Some("connect-udp"), 400, ":protocol"),
        (
            Request::builder()
                .method(Method::CONNECT)
                .uri("/ws")
                .header("sec-websocket-version", "8"),
            Some("websocket"),
            426,
            "version 13",
        ),
        (
            connect().header("origin", "https://evil.example"),
            Some("websocket"),
            403,
            "hijacking",
        ),
    ];
    for (request, protocol, status, says) in cases {
        let (response, _send, mut body) = client.open(request, protocol).await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{says}");
        let mut text = Vec::new();
        while let Some(chunk) = body.data().await {
            text.extend_from_slice(&chunk.unwrap());
        }
        let text = String::from_utf8_lossy(&text);
        assert!(text.contains(says), "{status}: {text}");
        if status == 426 {
            assert_eq!(response.headers()["sec-websocket-version"], "13");
        }
        // The plain route keeps serving on the same connection.
        assert_eq!(get(&mut client, "/plain").await.0, StatusCode::OK);
    }
    // This server's own pages may connect.
    let origin = format!("http://{addr}");
    let (response, _ws) = client
        .websocket("/ws", Config::default(), &[("origin", &origin)])
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

http_servers_tests::on_both_servers! {
    extended_connect => echo_over_extended_connect,
    refusals_keep_the_plain_routes => refusals,
}
