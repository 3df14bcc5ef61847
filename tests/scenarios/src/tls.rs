//! TLS (rustls) with certificates generated at test time: `wss://` on both sides with a caller's
//! `ClientConfig`, and an untrusted certificate refused by the default roots.

use ws_session::{ConnectError, Message};

use crate::{ClientOptions, Rt, ServerOptions, TestCert, connect, connect_with, echo_server};

/// The port of a TLS echo server (the certificate is for `localhost`).
async fn tls_echo_port<R: Rt>(tls: std::sync::Arc<rustls::ServerConfig>) -> u16 {
    let url = echo_server::<R>(ServerOptions {
        tls: Some(tls),
        ..ServerOptions::default()
    })
    .await;
    url.rsplit(':').next().unwrap().parse().unwrap()
}

/// Scenario (see the module docs).
pub async fn wss_round_trip_with_a_caller_client_config<R: Rt>() {
    let cert = TestCert::new();
    let port = tls_echo_port::<R>(cert.server_config()).await;
    let options = ClientOptions {
        tls: Some(cert.client_config()),
        ..ClientOptions::default()
    };
    let (mut ws, response) = connect_with::<R>(&format!("wss://localhost:{port}/secure"), options)
        .await
        .unwrap();
    assert_eq!(response.status(), 101);
    ws.send_text("over tls").await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), Message::Text("over tls".into()));
    ws.close(None).await.unwrap();
    assert!(ws.close_reason().unwrap().is_clean());
}

/// Scenario (see the module docs).
pub async fn default_roots_refuse_a_self_signed_certificate<R: Rt>() {
    let port = tls_echo_port::<R>(TestCert::new().server_config()).await;
    let err = connect::<R>(&format!("wss://localhost:{port}/"))
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectError::Tls { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains(&format!("TLS handshake with localhost:{port} failed")),
        "{message}"
    );
    assert!(message.contains("certificate is trusted"), "{message}");
}
