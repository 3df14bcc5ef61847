//! The interop suite's server side ([`interop_tests::OurServer`]) for our
//! server behind axum and behind bare hyper: the peers' clients (Python
//! `websockets`, Node `ws`) connect to a real axum or hyper server, whose
//! route hands the session to the suite. Our client side is the tokio
//! runtime's of the shared harness.

use std::sync::{Arc, Mutex};

use axum::Router;
use hyper_util::rt::TokioIo;
use interop_tests::OurServer;
use test_support::{ServerOptions, Tokio};
use tokio::sync::oneshot;
use ws_axum::{AcceptOptions, WebSocket, WebSocketUpgrade};
use ws_tokio::Compat;
use ws_tokio::ws_session::{MaybeTls, Session};

use crate::servers::{serve_axum_on, serve_axum_tls_on, serve_hyper_on};

/// The accepted session and its request path, sent out of the route.
type Handoff = Arc<Mutex<Option<oneshot::Sender<(WebSocket, String)>>>>;

fn handoff() -> (Handoff, oneshot::Receiver<(WebSocket, String)>) {
    let (tx, rx) = oneshot::channel();
    (Arc::new(Mutex::new(Some(tx))), rx)
}

fn send(handoff: &Handoff, session: WebSocket, path: String) {
    if let Some(tx) = handoff.lock().ok().and_then(|mut tx| tx.take()) {
        let _ = tx.send((session, path));
    }
}

/// What the route handed over, as the suite takes it.
async fn handed_over(
    rx: oneshot::Receiver<(WebSocket, String)>,
    what: &str,
) -> Result<(Session<Upgraded>, String), String> {
    let (ws, path) = rx.await.map_err(|_| format!("the {what} never upgraded"))?;
    Ok((ws.into_session(), path))
}

/// The transport of a session an HTTP server handed over.
type Upgraded = MaybeTls<Compat<TokioIo<hyper::upgrade::Upgraded>>>;

/// Our server behind an axum route (`WebSocketUpgrade`, any path).
#[derive(Debug)]
pub struct AxumServer;

impl OurServer<Tokio> for AxumServer {
    type Stream = Upgraded;

    async fn accept(
        listener: std::net::TcpListener,
        options: ServerOptions,
    ) -> Result<(Session<Upgraded>, String), String> {
        let (out, rx) = handoff();
        let config = Arc::new(options.config);
        let router = Router::new().fallback(move |ws: WebSocketUpgrade| {
            let (out, config) = (out.clone(), config.clone());
            async move {
                let path = ws.request().request().uri().path().to_owned();
                ws.config(config)
                    .on_upgrade(move |socket| async move { send(&out, socket, path) })
            }
        });
        let listener = tokio_listener(listener)?;
        match options.tls {
            Some(tls) => serve_axum_tls_on(listener, router, Arc::unwrap_or_clone(tls)),
            None => serve_axum_on(listener, router),
        };
        handed_over(rx, "route").await
    }
}

/// Our server behind a bare hyper service (`ws_axum::upgrade`, any path).
#[derive(Debug)]
pub struct HyperServer;

impl OurServer<Tokio> for HyperServer {
    type Stream = Upgraded;

    async fn accept(
        listener: std::net::TcpListener,
        options: ServerOptions,
    ) -> Result<(Session<Upgraded>, String), String> {
        if options.tls.is_some() {
            return Err("the bare hyper adapter serves plain TCP only".to_owned());
        }
        let (out, rx) = handoff();
        let config = Arc::new(options.config);
        let service = move |mut request: http::Request<hyper::body::Incoming>| {
            let response = match ws_axum::upgrade(&mut request, Arc::clone(&config)) {
                Err(refusal) => refusal.into_response(),
                Ok(upgrade) => match upgrade.accept(&AcceptOptions::new()) {
                    Err(refusal) => refusal.into_response(),
                    Ok((response, pending)) => {
                        let out = out.clone();
                        tokio::spawn(async move {
                            if let Ok((socket, accepted)) = pending.await {
                                send(&out, socket, accepted.uri().path().to_owned());
                            }
                        });
                        response
                    }
                },
            };
            std::future::ready(Ok::<_, std::convert::Infallible>(response))
        };
        serve_hyper_on(tokio_listener(listener)?, service);
        handed_over(rx, "service").await
    }
}

fn tokio_listener(listener: std::net::TcpListener) -> Result<tokio::net::TcpListener, String> {
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    tokio::net::TcpListener::from_std(listener).map_err(|e| e.to_string())
}
