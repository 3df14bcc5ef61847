//! The `tls_server` example's logic: a certificate made on the fly (or
//! loaded from PEM files), a `wss://` echo server using it, and a client
//! that trusts exactly it.

use std::path::Path;
use std::sync::Arc;

use futures_util::StreamExt as _;
use ws_tokio::{Acceptor, CloseCode, CloseFrame, CloseReason, Config, Connector, Message};

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
    // The PEM text a server reads from its files (see `from_pem_files`).
    let server = ws_tokio::server_config_from_pem(
        cert.cert.pem().as_bytes(),
        cert.key_pair.serialize_pem().as_bytes(),
    )
    .map_err(|e| format!("bad certificate or key: {e}"))?;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(der)
        .map_err(|e| format!("cannot trust the certificate: {e}"))?;
    Ok((server, roots, cert.cert.pem()))
}

/// A server TLS config from a certificate chain file and a key file, both
/// PEM (as `certbot` and `openssl` write them).
///
/// # Errors
/// A file cannot be read, or holds no usable certificate or key, as text.
pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, String> {
    let read = |path: &Path| std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()));
    ws_tokio::server_config_from_pem(&read(cert)?, &read(key)?).map_err(|e| e.to_string())
}

/// Serves `wss://` echo on `listener` with `tls` and `config`: one
/// connection when `once`, else until the process ends. Prints what
/// happens.
pub async fn serve(
    listener: tokio::net::TcpListener,
    tls: Arc<rustls::ServerConfig>,
    config: Config,
    once: bool,
) {
    let acceptor = Acceptor::new().config(config).tls_config(tls);
    // Out of descriptors, the loop pauses instead of failing or spinning.
    let mut incoming = ws_tokio::incoming(listener);
    while let Some(tcp) = incoming.next().await {
        let Ok(tcp) = tcp else { return };
        let peer = tcp
            .peer_addr()
            .map_or_else(|e| e.to_string(), |a| a.to_string());
        let acceptor = acceptor.clone();
        let echo = tokio::spawn(async move {
            let (mut ws, request) = match acceptor.accept(tcp).await {
                Ok(accepted) => accepted,
                Err(e) => return eprintln!("server: {peer}: {e}"),
            };
            println!("server: TLS and upgrade done for {}", request.uri());
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
    println!("client: connected to {url}: {}", response.status());
    ws.send_text(text).await.map_err(|e| e.to_string())?;
    let echo = ws.recv().await.map_err(|e| e.to_string())?;
    ws.close(CloseFrame::new(CloseCode::NORMAL, "done"))
        .await
        .map_err(|e| e.to_string())?;
    let reason = ws
        .close_reason()
        .cloned()
        .ok_or("the session did not end")?;
    Ok((echo, reason))
}
