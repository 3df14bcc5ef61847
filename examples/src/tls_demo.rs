//! The `tls_server` example's logic: a certificate made on the fly, a
//! `wss://` echo server using it, and a client that trusts exactly it.

use std::sync::Arc;

use ws_tokio::{Acceptor, CloseCode, CloseReason, Connector, Decision, Message};

/// A self-signed certificate for `localhost`: the server's TLS config, a
/// root store that trusts it, and its PEM text.
///
/// # Errors
/// The certificate could not be made or used, as text.
pub fn localhost_certificate()
-> Result<(Arc<rustls::ServerConfig>, rustls::RootCertStore, String), String> {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
        .map_err(|e| format!("cannot make a certificate: {e}"))?;
    let der = cert.cert.der().clone();
    let key = rustls_pki_types::PrivateKeyDer::Pkcs8(cert.key_pair.serialize_der().into());
    let server = ws_tokio::server_config(vec![der.clone()], key)
        .map_err(|e| format!("bad certificate or key: {e}"))?;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(der)
        .map_err(|e| format!("cannot trust the certificate: {e}"))?;
    Ok((server, roots, cert.cert.pem()))
}

/// Serves `wss://` echo on `listener` with `tls`: one connection when
/// `once`, else until the process ends. Prints what happens.
pub async fn serve(listener: tokio::net::TcpListener, tls: Arc<rustls::ServerConfig>, once: bool) {
    let acceptor = Acceptor::new().tls_config(tls);
    loop {
        let Ok((tcp, peer)) = listener.accept().await else {
            continue;
        };
        let acceptor = acceptor.clone();
        let echo = tokio::spawn(async move {
            let (mut ws, request) = match acceptor.accept_tcp(tcp, |_| Decision::accept()).await {
                Ok(accepted) => accepted,
                Err(e) => return eprintln!("server: {peer}: {e}"),
            };
            println!("server: TLS and upgrade done for {}", request.request.uri());
            while let Ok(message) = ws.recv().await {
                if ws.send_message(message).await.is_err() {
                    break;
                }
            }
            if let Some(reason) = ws.close_reason() {
                println!("server: session ended: {reason}");
            }
        });
        if once {
            let _ = echo.await;
            return;
        }
    }
}

/// Connects to `wss://localhost:{port}/echo` trusting `roots`, sends
/// `text`, and returns the echo and how the session ended.
///
/// # Errors
/// Any failure on the way, as text.
pub async fn client(
    port: u16,
    roots: rustls::RootCertStore,
    text: &str,
) -> Result<(Message, CloseReason), String> {
    let url = format!("wss://localhost:{port}/echo");
    let (mut ws, response) = Connector::new()
        .tls_config(ws_tokio::client_config_with_roots(roots))
        .connect(&url)
        .await
        .map_err(|e| e.to_string())?;
    println!("client: connected to {url}: {}", response.response.status());
    ws.send_text(text).await.map_err(|e| e.to_string())?;
    let echo = ws.recv().await.map_err(|e| e.to_string())?;
    ws.close(CloseCode::NORMAL, "done")
        .await
        .map_err(|e| e.to_string())?;
    let reason = ws
        .close_reason()
        .cloned()
        .ok_or("the session did not end")?;
    Ok((echo, reason))
}
