//! TLS through futures-rustls with certificates generated at test time,
//! under async-std and smol: `wss://` on both sides with a caller's
//! `ClientConfig`, and an untrusted certificate refused by the default roots.

mod common;

use common::{Rt, certificate, echo_server};
use ws_async_std::{Acceptor, CloseCode, ConnectError, Connector, Message};

on_every_runtime!(
    wss_round_trip_with_a_caller_client_config,
    default_roots_refuse_a_self_signed_certificate,
);

/// The port of a TLS echo server (the certificate is for `localhost`).
async fn tls_echo_port<R: Rt>(tls: std::sync::Arc<rustls::ServerConfig>) -> u16 {
    let url = echo_server::<R>(Acceptor::new().tls_config(tls)).await;
    url.rsplit(':').next().unwrap().parse().unwrap()
}

async fn wss_round_trip_with_a_caller_client_config<R: Rt>() {
    let (server_tls, roots) = certificate();
    let port = tls_echo_port::<R>(server_tls).await;
    let (mut ws, response) = Connector::new()
        .tls_config(ws_async_std::client_config_with_roots(roots))
        .connect(&format!("wss://localhost:{port}/secure"))
        .await
        .unwrap();
    assert_eq!(response.response.status(), 101);
    ws.send_text("over tls").await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), Message::Text("over tls".into()));
    ws.close(CloseCode::NORMAL, "").await.unwrap();
    assert!(ws.close_reason().unwrap().is_clean());
}

async fn default_roots_refuse_a_self_signed_certificate<R: Rt>() {
    let (server_tls, _) = certificate();
    let port = tls_echo_port::<R>(server_tls).await;
    let err = ws_async_std::connect(&format!("wss://localhost:{port}/"))
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectError::Tls { .. }), "{err:?}");
}
