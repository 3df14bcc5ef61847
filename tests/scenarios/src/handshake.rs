//! Client and server handshakes over loopback:
//! request inspection, subprotocols and headers both ways, rejection,
//! malformed requests, timeouts, connect errors, and a stream the caller
//! already has (the runtime's own `TcpStream`).

use std::time::Duration;

use futures_util::{AsyncReadExt as _, AsyncWriteExt as _};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use ws_session::{
    AcceptOptions, ClientRequestBuilder, Config, ConnectError, Decision, HandshakeError,
    IntoClientRequest, Message,
};

use crate::{ClientOptions, Rt, ServerOptions, accept, connect, connect_with, finishes_within};

/// Scenario (see the module docs).
pub async fn request_subprotocols_and_headers_round_trip<R: Rt>() {
    let (listener, url) = R::listen().await;
    let server = R::spawn(async move {
        let tcp = R::accept_tcp(&listener).await;
        let mut seen = None;
        let (mut ws, accepted) = R::accept(tcp, ServerOptions::default(), |request| {
            let http = request.request();
            seen = Some((
                http.uri().path().to_owned(),
                http.uri().query().map(str::to_owned),
                http.headers().get("x-token").cloned(),
                request.subprotocols().to_vec(),
            ));
            Decision::accept_with(AcceptOptions::new().subprotocol("chat.v2").header(
                HeaderName::from_static("x-server"),
                HeaderValue::from_static("yes"),
            ))
        })
        .await
        .unwrap();
        assert_eq!(accepted.subprotocol(), Some("chat.v2"));
        let message = ws.recv().await.unwrap();
        ws.send_message(message).await.unwrap();
        let _ = ws.recv().await;
        seen.unwrap()
    });
    // Headers as strings, as with `http`'s own request builder.
    let request = ClientRequestBuilder::new(format!("{url}/rooms/7?user=ann"))
        .header("x-token", "secret")
        .subprotocol("chat.v1")
        .subprotocol("chat.v2");
    let (mut ws, response) = connect_with::<R>(request, ClientOptions::default())
        .await
        .unwrap();
    assert_eq!(response.subprotocol(), Some("chat.v2"));
    assert_eq!(response.headers()["x-server"], "yes");
    ws.send_text("hi").await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), Message::Text("hi".into()));
    ws.close(None).await.unwrap();
    let (path, query, token, offered) = server.await;
    assert_eq!(path, "/rooms/7");
    assert_eq!(query.as_deref(), Some("user=ann"));
    assert_eq!(token.unwrap(), "secret");
    assert_eq!(offered, ["chat.v1", "chat.v2"]);
}

/// Scenario (see the module docs).
pub async fn rejection_reaches_the_client_with_status_headers_and_body<R: Rt>() {
    let (listener, url) = R::listen().await;
    let server = R::spawn(async move {
        let tcp = R::accept_tcp(&listener).await;
        let mut headers = HeaderMap::new();
        headers.insert("www-authenticate", HeaderValue::from_static("Bearer"));
        R::accept(tcp, ServerOptions::default(), |_| Decision::Reject {
            status: StatusCode::UNAUTHORIZED,
            headers,
            body: b"log in first".to_vec(),
        })
        .await
        .unwrap_err()
    });
    let err = connect::<R>(&url).await.unwrap_err();
    let rejection = err.rejection().expect("a refusal with the response");
    assert_eq!(rejection.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(rejection.headers()["www-authenticate"], "Bearer");
    assert_eq!(&rejection.body()[..], b"log in first");
    // The message shows the status line and the start of the body.
    let message = err.to_string();
    assert!(
        message.contains("\"HTTP/1.1 401 Unauthorized\""),
        "{message}"
    );
    assert!(
        message.contains("the body starts: \"log in first\""),
        "{message}"
    );
    assert!(matches!(
        server.await,
        HandshakeError::Rejected(StatusCode::UNAUTHORIZED)
    ));
}

/// Scenario (see the module docs).
pub async fn malformed_request_is_answered_400_and_wrong_version_426<R: Rt>() {
    for (request, status) in [
        (&b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..], "400"),
        (
            &b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n"[..],
            "426",
        ),
    ] {
        let (listener, url) = R::listen().await;
        let server = R::spawn(async move {
            let tcp = R::accept_tcp(&listener).await;
            accept::<R>(tcp, Config::default()).await.unwrap_err()
        });
        let mut tcp = R::connect_tcp(url.trim_start_matches("ws://")).await;
        tcp.write_all(request).await.unwrap();
        let mut reply = Vec::new();
        tcp.read_to_end(&mut reply).await.unwrap();
        let reply = String::from_utf8_lossy(&reply);
        assert!(reply.starts_with(&format!("HTTP/1.1 {status}")), "{reply}");
        assert!(matches!(server.await, HandshakeError::Request(_)));
    }
}

/// Scenario (see the module docs).
pub async fn server_handshake_timeout<R: Rt>() {
    let (listener, url) = R::listen().await;
    let server = R::spawn(async move {
        let tcp = R::accept_tcp(&listener).await;
        let options = ServerOptions {
            handshake_timeout: Some(Duration::from_millis(200)),
            ..ServerOptions::default()
        };
        R::accept(tcp, options, |_| Decision::accept())
            .await
            .unwrap_err()
    });
    // Connect and say nothing.
    let _tcp = R::connect_tcp(url.trim_start_matches("ws://")).await;
    let err = server.await;
    assert!(matches!(err, HandshakeError::Timeout(_)), "{err:?}");
}

/// Scenario (see the module docs).
pub async fn client_handshake_timeout<R: Rt>() {
    let (listener, url) = R::listen().await;
    // Accept the TCP connection and never answer, until the test is over.
    let (_release, released) = smol::channel::bounded::<()>(1);
    R::spawn_detached(async move {
        let tcp = R::accept_tcp(&listener).await;
        let _ = released.recv().await;
        drop(tcp);
    });
    let options = ClientOptions {
        handshake_timeout: Some(Duration::from_millis(200)),
        ..ClientOptions::default()
    };
    let err = connect_with::<R>(&url, options).await.unwrap_err();
    assert!(
        matches!(err, ConnectError::Handshake(HandshakeError::Timeout(_))),
        "{err:?}"
    );
}

/// Scenario (see the module docs).
pub async fn connection_refused_is_a_connect_error<R: Rt>() {
    let (listener, url) = R::listen().await;
    drop(listener);
    let options = ClientOptions {
        connect_timeout: Some(Duration::from_secs(5)),
        ..ClientOptions::default()
    };
    let err = connect_with::<R>(&url, options).await.unwrap_err();
    assert!(matches!(err, ConnectError::Dial(_)), "{err:?}");
    let port = url.rsplit(':').next().unwrap();
    let message = err.to_string();
    assert!(
        message.contains(&format!("could not connect to 127.0.0.1:{port}")),
        "{message}"
    );
}

/// Scenario (see the module docs).
pub async fn bad_urls_are_refused_before_connecting<R: Rt>() {
    for url in ["http://example.invalid/", "not a url", "/relative"] {
        let err = connect::<R>(url).await.unwrap_err();
        assert!(
            matches!(err, ConnectError::Handshake(HandshakeError::Build(_))),
            "{url}: {err:?}"
        );
    }
}

/// Scenario (see the module docs).
pub async fn client_over_the_runtimes_own_tcp_stream<R: Rt>() {
    let (listener, url) = R::listen().await;
    let server = R::spawn(async move {
        let tcp = R::accept_tcp(&listener).await;
        let mut ws = accept::<R>(tcp, Config::default()).await.unwrap();
        let message = ws.recv().await.unwrap();
        ws.send_message(message).await.unwrap();
        ws.recv().await.unwrap_err()
    });
    let tcp = R::connect_tcp(url.trim_start_matches("ws://")).await;
    let request = "ws://tunnel.example/x".into_client_request().unwrap();
    let (mut ws, response) = R::connect_over(tcp, request).await.unwrap();
    assert_eq!(response.status(), 101);
    ws.send_text("through the caller's stream").await.unwrap();
    assert_eq!(
        ws.recv().await.unwrap(),
        Message::Text("through the caller's stream".into())
    );
    ws.close(None).await.unwrap();
    let end = finishes_within(Duration::from_secs(5), server)
        .await
        .expect("the server saw the close");
    assert!(end.is_clean_close(), "{end:?}");
}

/// Scenario (see the module docs).
pub async fn invalid_accept_options_answer_500<R: Rt>() {
    let (listener, url) = R::listen().await;
    let server = R::spawn(async move {
        let tcp = R::accept_tcp(&listener).await;
        R::accept(tcp, ServerOptions::default(), |_| {
            Decision::accept_with(AcceptOptions::new().subprotocol("never-offered"))
        })
        .await
        .unwrap_err()
    });
    let err = connect::<R>(&url).await.unwrap_err();
    assert_eq!(
        err.rejection().unwrap().status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert!(matches!(server.await, HandshakeError::Accept(_)));
}

/// Scenario (see the module docs).
pub async fn decision_reject_shorthand<R: Rt>() {
    let (listener, url) = R::listen().await;
    R::spawn_detached(async move {
        let tcp = R::accept_tcp(&listener).await;
        let _ = R::accept(tcp, ServerOptions::default(), |_| {
            Decision::reject(StatusCode::NOT_FOUND, "no such room")
        })
        .await;
    });
    let err = connect::<R>(&format!("{url}/nowhere")).await.unwrap_err();
    let rejection = err.rejection().unwrap();
    assert_eq!(rejection.status(), StatusCode::NOT_FOUND);
    assert_eq!(&rejection.body()[..], b"no such room");
}

/// Scenario (see the module docs): an async decision awaits a lookup
/// (here a timer) before it answers; a request without the token is
/// refused with the status and body it chose, one with it gets the
/// subprotocol.
pub async fn async_decision_looks_things_up_before_answering<R: Rt>() {
    let (listener, url) = R::listen().await;
    let server = async {
        let mut outcomes = Vec::new();
        for _ in 0..2 {
            let tcp = R::accept_tcp(&listener).await;
            let decide = async |request: &ws_session::UpgradeRequest| {
                // A lookup elsewhere: the handshake waits for it.
                async_io::Timer::after(Duration::from_millis(20)).await;
                match request.request().headers().get("x-token") {
                    Some(token) if token == "secret" => {
                        Decision::accept_with(AcceptOptions::new().subprotocol("chat"))
                    }
                    _ => Decision::reject(StatusCode::UNAUTHORIZED, "a token, please"),
                }
            };
            let outcome = R::accept_async(tcp, ServerOptions::default(), decide).await;
            outcomes.push(outcome.map(|(_, accepted)| accepted.subprotocol().map(str::to_owned)));
        }
        outcomes
    };
    let clients = async {
        let refused = connect::<R>(&url).await.unwrap_err();
        let rejection = refused.rejection().unwrap();
        assert_eq!(rejection.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(&rejection.body()[..], b"a token, please");
        let request = ClientRequestBuilder::new(url.as_str())
            .header("x-token", "secret")
            .subprotocol("chat");
        let (mut ws, response) = connect_with::<R>(request, ClientOptions::default())
            .await
            .unwrap();
        assert_eq!(response.subprotocol(), Some("chat"));
        ws.close(None).await.unwrap();
    };
    let (outcomes, ()) = futures_util::future::join(server, clients).await;
    assert!(matches!(
        outcomes[0],
        Err(HandshakeError::Rejected(StatusCode::UNAUTHORIZED))
    ));
    assert_eq!(outcomes[1].as_ref().unwrap().as_deref(), Some("chat"));
}

/// Scenario (see the module docs): with an Origin allow-list, a page of
/// another site gets 403 and no session; the listed site and clients that
/// send no Origin (not browsers) are let through.
pub async fn origin_policy_answers_403_to_other_sites<R: Rt>() {
    let url = crate::echo_server::<R>(ServerOptions {
        allowed_origins: Some(vec!["https://chat.example".to_owned()]),
        ..ServerOptions::default()
    })
    .await;
    let with_origin =
        |origin: &'static str| ClientRequestBuilder::new(url.as_str()).header("origin", origin);
    let refused = connect_with::<R>(
        with_origin("https://evil.example"),
        ClientOptions::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(refused.rejection().unwrap().status(), StatusCode::FORBIDDEN);
    for request in [
        with_origin("https://CHAT.example")
            .into_client_request()
            .unwrap(),
        url.as_str().into_client_request().unwrap(),
    ] {
        let (mut ws, _) = connect_with::<R>(request, ClientOptions::default())
            .await
            .unwrap();
        ws.send_text("allowed").await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), Message::text("allowed"));
        ws.close(None).await.unwrap();
    }
}
