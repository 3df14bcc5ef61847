//! A `wss://` echo server with a certificate made on the fly (rcgen), and a
//! client that trusts exactly that certificate: runnable alone.
//!
//! Run: `cargo run -p examples --example tls_server`
//!
//! The server listens on `127.0.0.1:0`, the client connects to
//! `wss://localhost:PORT/`, sends a message, reads the echo and closes.
//! With `-- --serve` the server keeps running after the demo and prints the
//! certificate (PEM), so other clients can be pointed at it.

use examples::fail;
use ws_tokio::{Acceptor, CloseCode, Connector, Decision, Message};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let serve = std::env::args().any(|a| a == "--serve");
    // A self-signed certificate for "localhost", made at start-up.
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
        .unwrap_or_else(|e| fail(&format!("cannot make a certificate: {e}")));
    let der = cert.cert.der().clone();
    let key = rustls_pki_types::PrivateKeyDer::Pkcs8(cert.key_pair.serialize_der().into());
    let server_tls = ws_tokio::server_config(vec![der.clone()], key)
        .unwrap_or_else(|e| fail(&format!("bad certificate or key: {e}")));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| fail(&format!("cannot listen on 127.0.0.1:0: {e}")));
    let port = listener
        .local_addr()
        .unwrap_or_else(|e| fail(&e.to_string()))
        .port();
    println!("server: listening on wss://localhost:{port}/");
    let acceptor = Acceptor::new().tls_config(server_tls);
    let server = tokio::spawn(async move {
        loop {
            let Ok((tcp, peer)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            let echo = tokio::spawn(async move {
                let (mut ws, request) = match acceptor.accept_tcp(tcp, |_| Decision::accept()).await
                {
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
            if !serve {
                // The demo serves its one client, then stops.
                let _ = echo.await;
                return;
            }
        }
    });

    // The client trusts exactly the certificate made above.
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(der)
        .unwrap_or_else(|e| fail(&format!("cannot trust the certificate: {e}")));
    let url = format!("wss://localhost:{port}/echo");
    let (mut ws, response) = Connector::new()
        .tls_config(ws_tokio::client_config_with_roots(roots))
        .connect(&url)
        .await
        .unwrap_or_else(|e| fail(&e.to_string()));
    println!("client: connected to {url}: {}", response.response.status());
    ws.send_text("hello over TLS")
        .await
        .unwrap_or_else(|e| fail(&e.to_string()));
    match ws.recv().await {
        Ok(Message::Text(text)) => println!("client: echo: {text}"),
        Ok(other) => fail(&format!("unexpected reply {other:?}")),
        Err(e) => fail(&e.to_string()),
    }
    ws.close(CloseCode::NORMAL, "done")
        .await
        .unwrap_or_else(|e| fail(&e.to_string()));
    if let Some(reason) = ws.close_reason() {
        println!("client: session ended: {reason}");
    }
    if serve {
        println!("server: still serving on wss://localhost:{port}/ with this certificate:");
        println!("{}", cert.cert.pem());
    }
    if let Err(e) = server.await {
        fail(&format!("server task: {e}"));
    }
}
