//! What the adapter sets on its sockets: `TCP_NODELAY` and keepalive on
//! connected and accepted TCP connections; one TLS session cache per client
//! config, so a second connection resumes the first's TLS session.

use futures_util::StreamExt as _;
use ws_tokio::{Acceptor, Connector, TcpOptions};

use crate::{listen, within};

fn tcp_of<S>(ws: &ws_tokio::WebSocket<S>) -> &S
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    ws.get_ref().get_ref().get_ref()
}

fn keepalive(tcp: &tokio::net::TcpStream) -> bool {
    socket2::SockRef::from(tcp).keepalive().unwrap()
}

#[tokio::test]
async fn connected_and_served_sockets_have_nodelay_and_keepalive() {
    within(10, async {
        let (listener, url) = listen().await;
        let (seen_tx, seen_rx) = tokio::sync::oneshot::channel();
        let seen_tx = std::sync::Mutex::new(Some(seen_tx));
        tokio::spawn(ws_tokio::serve(
            listener,
            Acceptor::new(),
            move |mut ws, _| {
                let tcp = tcp_of(&ws);
                let seen = (tcp.nodelay().unwrap(), keepalive(tcp));
                if let Some(tx) = seen_tx.lock().unwrap().take() {
                    let _ = tx.send(seen);
                }
                async move { while ws.next().await.is_some() {} }
            },
        ));
        let (ws, _) = ws_tokio::connect(&url).await.unwrap();
        assert_eq!(
            (tcp_of(&ws).nodelay().unwrap(), keepalive(tcp_of(&ws))),
            (true, true)
        );
        assert_eq!(seen_rx.await.unwrap(), (true, true), "the accepted socket");

        // Turned off by the caller.
        let off = TcpOptions::new().nodelay(false).keepalive(None);
        let (ws, _) = Connector::new()
            .tcp_options(off)
            .connect(&url)
            .await
            .unwrap();
        assert_eq!(
            (tcp_of(&ws).nodelay().unwrap(), keepalive(tcp_of(&ws))),
            (false, false)
        );
    })
    .await;
}

#[cfg(feature = "rustls")]
#[tokio::test]
async fn a_second_connection_resumes_the_tls_session() {
    use rustls::HandshakeKind;
    use ws_tokio::Message;

    within(20, async {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let key = rustls_pki_types::PrivateKeyDer::Pkcs8(cert.key_pair.serialize_der().into());
        let tls = ws_tokio::server_config(vec![cert.cert.der().clone()], key).unwrap();
        let (listener, url) = listen().await;
        let port = url.rsplit(':').next().unwrap().to_owned();
        tokio::spawn(ws_tokio::serve(
            listener,
            Acceptor::new().tls_config(tls),
            |mut ws, _| async move {
                while let Ok(message) = ws.recv().await {
                    let _ = ws.send_message(message).await;
                }
            },
        ));
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert.cert.der().clone()).unwrap();
        let connector = Connector::new().tls_config(ws_tokio::client_config_with_roots(roots));
        let mut kinds = Vec::new();
        for _ in 0..2 {
            let (mut ws, _) = connector
                .connect(format!("wss://localhost:{port}/"))
                .await
                .unwrap();
            // A message each way: the server's session tickets have arrived.
            ws.send_text("t").await.unwrap();
            assert_eq!(ws.recv().await.unwrap(), Message::text("t"));
            kinds.push(ws.get_ref().tls_connection().unwrap().handshake_kind());
            ws.close(None).await.unwrap();
        }
        assert_eq!(
            kinds,
            [Some(HandshakeKind::Full), Some(HandshakeKind::Resumed)]
        );
    })
    .await;
}

#[cfg(not(feature = "rustls"))]
#[tokio::test]
async fn without_the_rustls_feature_wss_is_refused_before_connecting() {
    let (_listener, url) = listen().await;
    let url = url.replace("ws://", "wss://");
    let err = ws_tokio::connect(&url).await.unwrap_err();
    assert!(
        matches!(err, ws_tokio::ConnectError::TlsDisabled { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("enable the `rustls` feature"),
        "{err}"
    );
}
