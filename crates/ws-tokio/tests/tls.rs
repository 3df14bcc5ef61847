//! TLS with certificates generated at test time: `wss://` through rustls on
//! both sides, a caller's `ClientConfig`, and an untrusted certificate.

mod common;

use std::sync::Arc;

use common::{listen, within};
use ws_tokio::{Acceptor, CloseCode, ConnectError, Connector, Decision, Message};

fn certificate() -> (Arc<rustls::ServerConfig>, rustls::RootCertStore) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let der = cert.cert.der().clone();
    let key = rustls_pki_types::PrivateKeyDer::Pkcs8(cert.key_pair.serialize_der().into());
    let server = ws_tokio::server_config(vec![der.clone()], key).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(der).unwrap();
    (server, roots)
}

async fn tls_echo_server(tls: Arc<rustls::ServerConfig>) -> u16 {
    let (listener, _) = listen().await;
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = Acceptor::new().tls_config(tls.clone());
            tokio::spawn(async move {
                let Ok((mut ws, _)) = acceptor.accept_tcp(tcp, |_| Decision::accept()).await else {
                    return;
                };
                while let Ok(message) = ws.recv().await {
                    if ws.send_message(message).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    port
}

#[tokio::test]
async fn wss_round_trip_with_a_caller_client_config() {
    within(10, async {
        let (server_tls, roots) = certificate();
        let port = tls_echo_server(server_tls).await;
        let (mut ws, response) = Connector::new()
            .tls_config(ws_tokio::client_config_with_roots(roots))
            .connect(&format!("wss://localhost:{port}/secure"))
            .await
            .unwrap();
        assert_eq!(response.response.status(), 101);
        ws.send_text("over tls").await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), Message::Text("over tls".into()));
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        assert!(ws.close_reason().unwrap().is_clean());
    })
    .await;
}

#[tokio::test]
async fn default_roots_refuse_a_self_signed_certificate() {
    within(10, async {
        let (server_tls, _) = certificate();
        let port = tls_echo_server(server_tls).await;
        let err = ws_tokio::connect(&format!("wss://localhost:{port}/"))
            .await
            .unwrap_err();
        assert!(matches!(err, ConnectError::Tls { .. }), "{err:?}");
        let message = err.to_string();
        assert!(
            message.contains(&format!("TLS handshake with localhost:{port} failed")),
            "{message}"
        );
        assert!(message.contains("certificate is trusted"), "{message}");
    })
    .await;
}
