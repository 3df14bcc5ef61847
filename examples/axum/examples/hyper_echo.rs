//! A bare hyper 1.x server (no framework) with an echo WebSocket at `/ws`
//! and a plain route at `/`, on one plain TCP port: HTTP/1.1 upgrades and
//! HTTP/2 with prior knowledge (h2c, RFC 8441), through
//! `ws_axum::upgrade`.
//!
//! ```text
//! cargo run -p examples-axum --example hyper_echo -- [--addr 127.0.0.1:9004]
//! ```
use std::convert::Infallible;
use std::sync::Arc;

use clap::Parser;
use examples::{echo, fail};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use ws_axum::{AcceptOptions, Body, Config, DeflateConfig};

/// Echo WebSocket server at /ws on bare hyper (HTTP/1.1 and h2c).
#[derive(Debug, Parser)]
#[command(name = "hyper_echo")]
struct Cli {
    /// Address to listen on (port 0: any free port).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:9004")]
    addr: String,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let config = Arc::new(Config::default().with_compression(DeflateConfig::default()));
    let listener = tokio::net::TcpListener::bind(&cli.addr)
        .await
        .unwrap_or_else(|e| fail(&format!("cannot listen on {}: {e}", cli.addr)));
    if let Ok(local) = listener.local_addr() {
        println!(
            "hyper_echo listening on ws://{local}/ws (HTTP/1.1 upgrade and h2c prior knowledge)"
        );
    }
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            // Out of descriptors and the like: let some connections end.
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            continue;
        };
        let config = Arc::clone(&config);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let config = Arc::clone(&config);
                async move { Ok::<_, Infallible>(route(request, config)) }
            });
            // HTTP/1.1 with upgrades, and HTTP/2 with RFC 8441 enabled.
            let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            builder.http2().enable_connect_protocol();
            let _ = builder
                .serve_connection_with_upgrades(TokioIo::new(tcp), service)
                .await;
        });
    }
}

fn route(mut request: Request<Incoming>, config: Arc<Config>) -> Response<Body> {
    match request.uri().path() {
        "/" => Response::new(Body::from("hyper_echo: WebSocket echo at /ws\n")),
        "/ws" => {
            // Checks the request (400/426/403 when it is no upgrade this
            // server accepts), then answers 101 or, over HTTP/2, 200.
            let upgrade = match ws_axum::upgrade(&mut request, config) {
                Ok(upgrade) => upgrade,
                Err(refusal) => return refusal.into_response(),
            };
            match upgrade.accept(&AcceptOptions::new()) {
                Ok((response, pending)) => {
                    // The session starts once hyper has sent the response
                    // and handed over the connection.
                    tokio::spawn(async move {
                        let Ok((ws, _)) = pending.await else {
                            return;
                        };
                        echo(&mut ws.into_session()).await;
                    });
                    response
                }
                Err(refusal) => refusal.into_response(),
            }
        }
        _ => {
            let mut response = Response::new(Body::from("not found\n"));
            *response.status_mut() = StatusCode::NOT_FOUND;
            response
        }
    }
}
