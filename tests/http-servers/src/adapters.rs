//! The interop suite's [`Adapter`] for our server behind axum and behind
//! bare hyper: the peers' clients (Python `websockets`, Node `ws`) connect
//! to a real axum or hyper server, whose route hands the session to the
//! suite. Our client side is `ws-tokio`'s, as in the tokio suite.

use std::future::Future;
use std::sync::{Arc, Mutex};

use axum::Router;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use interop_tests::adapters::Tokio;
use interop_tests::{Adapter, TestCert};
use tokio::sync::oneshot;
use ws_axum::{AcceptOptions, AcceptedRequest, Config, WebSocket, WebSocketUpgrade};
use ws_tokio::ws_session::{ClientResponse, Runtime, Session};
use ws_tokio::{Compat, TokioRuntime};

use crate::servers::{serve_axum_on, serve_axum_tls_on, serve_hyper_on};

/// The accepted session, sent out of the route.
type Handoff = Arc<Mutex<Option<oneshot::Sender<(WebSocket, AcceptedRequest)>>>>;

fn handoff() -> (Handoff, oneshot::Receiver<(WebSocket, AcceptedRequest)>) {
    let (tx, rx) = oneshot::channel();
    (Arc::new(Mutex::new(Some(tx))), rx)
}

fn send(handoff: &Handoff, session: WebSocket, accepted: AcceptedRequest) {
    if let Some(tx) = handoff.lock().ok().and_then(|mut tx| tx.take()) {
        let _ = tx.send((session, accepted));
    }
}

/// The client side, the runtime and the streams of both adapters: those
/// of the tokio suite, with the server's stream the upgraded connection.
macro_rules! our_client_on_tokio {
    () => {
        type ClientStream = ws_tokio::MaybeTlsStream;
        type ServerStream = Compat<TokioIo<Upgraded>>;

        fn block_on<F: Future>(future: F) -> F::Output {
            Tokio::block_on(future)
        }

        fn runtime() -> Arc<dyn Runtime> {
            Arc::new(TokioRuntime)
        }

        fn connect(
            url: &str,
            config: Config,
            roots: Option<rustls::RootCertStore>,
        ) -> impl Future<Output = Result<(Session<Self::ClientStream>, ClientResponse), String>> {
            Tokio::connect(url, config, roots)
        }
    };
}

/// Our server behind an axum route (`WebSocketUpgrade`, any path).
#[derive(Debug)]
pub struct AxumServer;

impl Adapter for AxumServer {
    const NAME: &'static str = "ws-axum (axum route)";
    our_client_on_tokio!();

    fn accept(
        listener: std::net::TcpListener,
        config: Config,
        tls: Option<&TestCert>,
    ) -> impl Future<Output = Result<(Session<Self::ServerStream>, AcceptedRequest), String>> {
        let tls = tls.map(|cert| ws_tokio::server_config(vec![cert.cert()], cert.key()));
        async move {
            let (out, rx) = handoff();
            let config = Arc::new(config);
            let router = Router::new().fallback(move |ws: WebSocketUpgrade| {
                let (out, config) = (out.clone(), config.clone());
                async move {
                    let request = ws.request().request().clone();
                    ws.config(config).on_upgrade(move |socket| async move {
                        let extensions = socket
                            .connection()
                            .extension_names()
                            .map(str::to_owned)
                            .collect();
                        let accepted = AcceptedRequest {
                            request,
                            subprotocol: None,
                            extensions,
                        };
                        send(&out, socket, accepted);
                    })
                }
            });
            let listener = tokio_listener(listener)?;
            match tls {
                Some(tls) => {
                    let tls = Arc::unwrap_or_clone(tls.map_err(|e| e.to_string())?);
                    serve_axum_tls_on(listener, router, tls)
                }
                None => serve_axum_on(listener, router),
            };
            rx.await.map_err(|_| "the route never upgraded".to_owned())
        }
    }
}

/// Our server behind a bare hyper service (`ws_axum::upgrade`, any path).
#[derive(Debug)]
pub struct HyperServer;

impl Adapter for HyperServer {
    const NAME: &'static str = "ws-axum (bare hyper)";
    our_client_on_tokio!();

    fn accept(
        listener: std::net::TcpListener,
        config: Config,
        tls: Option<&TestCert>,
    ) -> impl Future<Output = Result<(Session<Self::ServerStream>, AcceptedRequest), String>> {
        let tls = tls.is_some();
        async move {
            if tls {
                return Err("the bare hyper adapter serves plain TCP only".to_owned());
            }
            let (out, rx) = handoff();
            let config = Arc::new(config);
            let service = move |mut request: http::Request<hyper::body::Incoming>| {
                let response = match ws_axum::upgrade(&mut request, Arc::clone(&config)) {
                    Err(refusal) => refusal.into_response(),
                    Ok(upgrade) => match upgrade.accept(&AcceptOptions::new()) {
                        Err(refusal) => refusal.into_response(),
                        Ok((response, pending)) => {
                            let out = out.clone();
                            tokio::spawn(async move {
                                if let Ok((socket, accepted)) = pending.await {
                                    send(&out, socket, accepted);
                                }
                            });
                            response
                        }
                    },
                };
                std::future::ready(Ok::<_, std::convert::Infallible>(response))
            };
            serve_hyper_on(tokio_listener(listener)?, service);
            rx.await
                .map_err(|_| "the service never upgraded".to_owned())
        }
    }
}

fn tokio_listener(listener: std::net::TcpListener) -> Result<tokio::net::TcpListener, String> {
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    tokio::net::TcpListener::from_std(listener).map_err(|e| e.to_string())
}
