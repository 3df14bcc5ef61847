//! Client and server handshakes over loopback: request inspection,
//! subprotocols and headers both ways, rejection, malformed requests,
//! timeouts, connect errors, and a caller-provided stream.

mod common;

use std::time::Duration;

use tokio::time::Instant;

use common::{listen, within};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use ws_tokio::{
    AcceptOptions, Acceptor, ClientBuilder, CloseCode, ConnectError, Connector, Decision,
    HandshakeError, Message,
};

#[tokio::test]
async fn request_subprotocols_and_headers_round_trip() {
    within(10, async {
        let (listener, url) = listen().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut seen = None;
            let (mut ws, accepted) = Acceptor::new()
                .accept_tcp(tcp, |request| {
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
            assert_eq!(accepted.subprotocol.as_deref(), Some("chat.v2"));
            let message = ws.recv().await.unwrap();
            ws.send_message(message).await.unwrap();
            let _ = ws.recv().await;
            seen.unwrap()
        });
        let request = http::Request::builder()
            .uri(format!("{url}/rooms/7?user=ann"))
            .header("x-token", "secret")
            .body(())
            .unwrap();
        let builder = ClientBuilder::from_request(request)
            .subprotocol("chat.v1")
            .subprotocol("chat.v2");
        let (mut ws, response) = Connector::new().connect_request(builder).await.unwrap();
        assert_eq!(response.subprotocol.as_deref(), Some("chat.v2"));
        assert_eq!(response.response.headers()["x-server"], "yes");
        ws.send_text("hi").await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), Message::Text("hi".into()));
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        let (path, query, token, offered) = server.await.unwrap();
        assert_eq!(path, "/rooms/7");
        assert_eq!(query.as_deref(), Some("user=ann"));
        assert_eq!(token.unwrap(), "secret");
        assert_eq!(offered, ["chat.v1", "chat.v2"]);
    })
    .await;
}

#[tokio::test]
async fn rejection_reaches_the_client_with_status_headers_and_body() {
    within(10, async {
        let (listener, url) = listen().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut headers = HeaderMap::new();
            headers.insert("www-authenticate", HeaderValue::from_static("Bearer"));
            Acceptor::new()
                .accept_tcp(tcp, |_| Decision::Reject {
                    status: StatusCode::UNAUTHORIZED,
                    headers,
                    body: b"log in first".to_vec(),
                })
                .await
                .unwrap_err()
        });
        let err = ws_tokio::connect(&url).await.unwrap_err();
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
            server.await.unwrap(),
            HandshakeError::Rejected(StatusCode::UNAUTHORIZED)
        ));
    })
    .await;
}

#[tokio::test]
async fn malformed_request_is_answered_400_and_wrong_version_426() {
    within(10, async {
        for (request, status) in [
            (&b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..], "400"),
            (
                &b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n"[..],
                "426",
            ),
        ] {
            let (listener, url) = listen().await;
            let server = tokio::spawn(async move {
                let (tcp, _) = listener.accept().await.unwrap();
                ws_tokio::accept(tcp).await.unwrap_err()
            });
            let mut tcp = tokio::net::TcpStream::connect(url.trim_start_matches("ws://"))
                .await
                .unwrap();
            tcp.write_all(request).await.unwrap();
            let mut reply = Vec::new();
            tcp.read_to_end(&mut reply).await.unwrap();
            let reply = String::from_utf8_lossy(&reply);
            assert!(reply.starts_with(&format!("HTTP/1.1 {status}")), "{reply}");
            assert!(matches!(server.await.unwrap(), HandshakeError::Request(_)));
        }
    })
    .await;
}

#[tokio::test]
async fn server_handshake_timeout() {
    within(10, async {
        let (listener, url) = listen().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let started = Instant::now();
            let err = Acceptor::new()
                .handshake_timeout(Some(Duration::from_millis(200)))
                .accept(tcp)
                .await
                .unwrap_err();
            (err, started.elapsed())
        });
        // Connect and say nothing.
        let _tcp = tokio::net::TcpStream::connect(url.trim_start_matches("ws://"))
            .await
            .unwrap();
        let (err, elapsed) = server.await.unwrap();
        assert!(matches!(err, HandshakeError::Timeout(_)), "{err:?}");
        assert!(elapsed >= Duration::from_millis(190) && elapsed < Duration::from_secs(3));
    })
    .await;
}

#[tokio::test]
async fn client_handshake_timeout() {
    within(10, async {
        let (listener, url) = listen().await;
        // Accept the TCP connection and never answer.
        let _server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(30)).await;
            drop(tcp);
        });
        let started = Instant::now();
        let err = Connector::new()
            .handshake_timeout(Some(Duration::from_millis(200)))
            .connect(&url)
            .await
            .unwrap_err();
        assert!(
            matches!(err, ConnectError::Handshake(HandshakeError::Timeout(_))),
            "{err:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(3));
    })
    .await;
}

#[tokio::test]
async fn connection_refused_is_a_connect_error() {
    within(10, async {
        let (listener, url) = listen().await;
        drop(listener);
        let err = Connector::new()
            .connect_timeout(Some(Duration::from_secs(5)))
            .connect(&url)
            .await
            .unwrap_err();
        assert!(matches!(err, ConnectError::Connect { .. }), "{err:?}");
        let port = url.rsplit(':').next().unwrap();
        let message = err.to_string();
        assert!(
            message.contains(&format!("could not connect to 127.0.0.1:{port}")),
            "{message}"
        );
    })
    .await;
}

#[tokio::test]
async fn bad_urls_are_refused_before_connecting() {
    within(10, async {
        for url in ["http://example.invalid/", "not a url", "/relative"] {
            let err = ws_tokio::connect(url).await.unwrap_err();
            assert!(
                matches!(err, ConnectError::Handshake(HandshakeError::Build(_))),
                "{url}: {err:?}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn client_over_a_stream_the_caller_has() {
    within(10, async {
        let (client_io, server_io) = tokio::io::duplex(4096);
        let server = tokio::spawn(async move {
            let mut ws = ws_tokio::accept(server_io).await.unwrap();
            let message = ws.recv().await.unwrap();
            ws.send_message(message).await.unwrap();
            ws.recv().await.unwrap_err()
        });
        let (mut ws, response) = Connector::new()
            .client_over(
                client_io,
                ClientBuilder::new("ws://tunnel.example/x").unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.response.status(), 101);
        ws.send_text("through the tunnel").await.unwrap();
        assert_eq!(
            ws.recv().await.unwrap(),
            Message::Text("through the tunnel".into())
        );
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        assert!(server.await.unwrap().is_clean_close());
    })
    .await;
}

#[tokio::test]
async fn connect_timeout_when_the_listener_never_completes_connections() {
    within(20, async {
        // A loopback listener with a backlog of one that never accepts: once
        // its queue is full the kernel drops further SYNs, so a connect
        // hangs (no address outside this machine is involved).
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = socket.local_addr().unwrap();
        let _listener = socket.listen(1).unwrap();
        let mut fillers = Vec::new();
        let mut full = false;
        for _ in 0..16 {
            match tokio::time::timeout(
                Duration::from_millis(200),
                tokio::net::TcpStream::connect(addr),
            )
            .await
            {
                Ok(Ok(stream)) => fillers.push(stream),
                Ok(Err(e)) => panic!("connect failed: {e}"),
                Err(_) => {
                    full = true;
                    break;
                }
            }
        }
        assert!(full, "the backlog never filled up");
        let started = Instant::now();
        let err = Connector::new()
            .connect_timeout(Some(Duration::from_millis(300)))
            .connect(&format!("ws://{addr}/"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, ConnectError::ConnectTimeout { .. }),
            "{err:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(3));
    })
    .await;
}

#[tokio::test]
async fn invalid_accept_options_answer_500() {
    within(10, async {
        let (listener, url) = listen().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            Acceptor::new()
                .accept_tcp(tcp, |_| {
                    Decision::accept_with(AcceptOptions::new().subprotocol("never-offered"))
                })
                .await
                .unwrap_err()
        });
        let err = ws_tokio::connect(&url).await.unwrap_err();
        assert_eq!(
            err.rejection().unwrap().status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert!(matches!(server.await.unwrap(), HandshakeError::Accept(_)));
    })
    .await;
}

#[tokio::test]
async fn decision_reject_shorthand() {
    within(10, async {
        let (listener, url) = listen().await;
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let _ = Acceptor::new()
                .accept_tcp(tcp, |_| {
                    Decision::reject(StatusCode::NOT_FOUND, "no such room")
                })
                .await;
        });
        let err = ws_tokio::connect(&format!("{url}/nowhere"))
            .await
            .unwrap_err();
        let rejection = err.rejection().unwrap();
        assert_eq!(rejection.status(), StatusCode::NOT_FOUND);
        assert_eq!(&rejection.body()[..], b"no such room");
    })
    .await;
}
