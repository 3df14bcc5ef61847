//! A `wss://` echo server. By default a self-running demo: a certificate
//! made on the fly (rcgen), and a client that trusts exactly it.
//!
//! Run: `cargo run -p examples-more --example tls_server`
//!
//! The server listens on `127.0.0.1:0`, the client connects to
//! `wss://localhost:PORT/`, sends a message, reads the echo and closes.
//! With `-- --serve` the server keeps running after the demo and prints the
//! certificate (PEM), so other clients can be pointed at it. With
//! `-- --cert cert.pem --key key.pem [--addr 0.0.0.0:443]` it serves with
//! your certificate and key until stopped. The logic is in
//! `examples_more::tls_demo`.
use std::path::PathBuf;

use clap::Parser;
use examples::{Limits, fail};
use examples_more::tls_demo::{client, from_pem_files, localhost_certificate, serve};
use ws_tokio::Config;

/// A `wss://` echo server.
#[derive(Debug, Parser)]
struct Cli {
    /// Keep serving after the demo, and print the certificate.
    #[arg(long)]
    serve: bool,
    /// The certificate chain (PEM): serve with it instead of the demo.
    #[arg(long, requires = "key", value_name = "FILE")]
    cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, requires = "cert", value_name = "FILE")]
    key: Option<PathBuf>,
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: String,
    #[command(flatten)]
    limits: Limits,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let cli = Cli::parse();
    let config = cli.limits.apply(Config::default());
    let listener = tokio::net::TcpListener::bind(&cli.addr)
        .await
        .unwrap_or_else(|e| fail(&format!("cannot listen on {}: {e}", cli.addr)));
    let local = listener
        .local_addr()
        .unwrap_or_else(|e| fail(&e.to_string()));
    if let (Some(cert), Some(key)) = (&cli.cert, &cli.key) {
        let tls = from_pem_files(cert, key).unwrap_or_else(|e| fail(&e));
        println!(
            "server: listening on wss://{local}/ with {}",
            cert.display()
        );
        serve(listener, tls, config, false).await;
        return;
    }
    let (tls, roots, pem) = localhost_certificate().unwrap_or_else(|e| fail(&e));
    let port = local.port();
    println!("server: listening on wss://localhost:{port}/");
    let server = tokio::spawn(serve(listener, tls, config, !cli.serve));
    let (echo, reason) = client(port, roots, "hello over TLS")
        .await
        .unwrap_or_else(|e| fail(&e));
    match echo.to_text() {
        Ok(text) => println!("client: echo: {text}"),
        Err(_) => println!("client: echo: {} bytes of binary", echo.len()),
    }
    println!("client: session ended: {reason}");
    if cli.serve {
        println!("server: still serving on wss://localhost:{port}/ with this certificate:\n{pem}");
    }
    if let Err(e) = server.await {
        fail(&format!("server task: {e}"));
    }
}
