//! The `tls_server` example's logic end to end on loopback: a certificate
//! made on the fly, served over `wss://`, trusted by the client alone.
use std::time::Duration;

use examples_more::tls_demo::{client, localhost_certificate, serve};
use ws_tokio::{ConnectError, Connector, Message};

#[tokio::test]
async fn a_client_trusting_the_fresh_certificate_gets_its_echo() {
    let (tls, roots, pem) = localhost_certificate().unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(serve(listener, tls, ws_tokio::Config::default(), true));
    let (echo, reason) =
        tokio::time::timeout(Duration::from_secs(10), client(port, roots, "over TLS"))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(echo, Message::Text("over TLS".into()));
    assert!(reason.is_clean(), "{reason}");
    server.await.unwrap();
}

#[tokio::test]
async fn the_default_roots_do_not_trust_it() {
    let (tls, _, _) = localhost_certificate().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(serve(listener, tls, ws_tokio::Config::default(), true));
    let err = tokio::time::timeout(
        Duration::from_secs(10),
        Connector::new().connect(&format!("wss://localhost:{port}/")),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert!(matches!(err, ConnectError::Tls { .. }), "{err}");
    server.await.unwrap();
}
