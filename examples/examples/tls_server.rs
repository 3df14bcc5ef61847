//! A `wss://` echo server with a certificate made on the fly (rcgen), and a
//! client that trusts exactly that certificate: runnable alone.
//!
//! Run: `cargo run -p examples --example tls_server`
//!
//! The server listens on `127.0.0.1:0`, the client connects to
//! `wss://localhost:PORT/`, sends a message, reads the echo and closes.
//! With `-- --serve` the server keeps running after the demo and prints the
//! certificate (PEM), so other clients can be pointed at it. The logic is
//! in `examples::tls_demo`.
use examples::fail;
use examples::tls_demo::{client, localhost_certificate, serve};
use ws_tokio::Message;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let keep_serving = std::env::args().any(|a| a == "--serve");
    let (tls, roots, pem) = localhost_certificate().unwrap_or_else(|e| fail(&e));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| fail(&format!("cannot listen on 127.0.0.1:0: {e}")));
    let port = listener
        .local_addr()
        .unwrap_or_else(|e| fail(&e.to_string()))
        .port();
    println!("server: listening on wss://localhost:{port}/");
    let server = tokio::spawn(serve(listener, tls, !keep_serving));
    let (echo, reason) = client(port, roots, "hello over TLS")
        .await
        .unwrap_or_else(|e| fail(&e));
    match echo {
        Message::Text(text) => println!("client: echo: {text}"),
        Message::Binary(data) => println!("client: echo: {} bytes", data.len()),
    }
    println!("client: session ended: {reason}");
    if keep_serving {
        println!("server: still serving on wss://localhost:{port}/ with this certificate:\n{pem}");
    }
    if let Err(e) = server.await {
        fail(&format!("server task: {e}"));
    }
}
