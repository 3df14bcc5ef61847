//! The adapters under test. Adding one is an [`Adapter`] impl here and a
//! one-line test file calling [`interop_tests!`](crate::interop_tests).

use std::future::Future;
use std::sync::Arc;

use ws_session::{AcceptedRequest, ClientResponse, Config, Decision, Runtime, Session};

use crate::{Adapter, TestCert};

/// `ws-tokio` on a current-thread tokio runtime.
#[derive(Debug)]
pub struct Tokio;

impl Adapter for Tokio {
    const NAME: &'static str = "ws-tokio";
    type ClientStream = ws_tokio::MaybeTlsStream;
    type ServerStream = ws_tokio::MaybeTlsStream;

    fn block_on<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime")
            .block_on(future)
    }

    fn runtime() -> Arc<dyn Runtime> {
        Arc::new(ws_tokio::TokioRuntime)
    }

    fn connect(
        url: &str,
        config: Config,
        roots: Option<rustls::RootCertStore>,
    ) -> impl Future<Output = Result<(Session<Self::ClientStream>, ClientResponse), String>> {
        let mut connector = ws_tokio::Connector::new().config(config);
        if let Some(roots) = roots {
            connector = connector.tls_config(ws_tokio::client_config_with_roots(roots));
        }
        async move {
            connector
                .connect(url)
                .await
                .map_err(|e| format!("{e} ({e:?})"))
        }
    }

    fn accept(
        listener: std::net::TcpListener,
        config: Config,
        tls: Option<&TestCert>,
    ) -> impl Future<Output = Result<(Session<Self::ServerStream>, AcceptedRequest), String>> {
        let tls = tls.map(|cert| ws_tokio::server_config(vec![cert.cert()], cert.key()));
        async move {
            let mut acceptor = ws_tokio::Acceptor::new().config(config);
            if let Some(tls) = tls {
                acceptor = acceptor.tls_config(tls.map_err(|e| e.to_string())?);
            }
            listener.set_nonblocking(true).map_err(|e| e.to_string())?;
            let listener =
                tokio::net::TcpListener::from_std(listener).map_err(|e| e.to_string())?;
            let (tcp, _) = listener.accept().await.map_err(|e| e.to_string())?;
            acceptor
                .accept_tcp(tcp, |_| Decision::accept())
                .await
                .map_err(|e| format!("{e} ({e:?})"))
        }
    }
}

/// `ws-async-std` under async-std: `async_std::task::block_on`, its
/// `TcpListener`, split drivers on its executor.
#[derive(Debug)]
pub struct AsyncStd;

impl Adapter for AsyncStd {
    const NAME: &'static str = "ws-async-std, async-std";
    type ClientStream = ws_async_std::MaybeTlsStream;
    type ServerStream = ws_async_std::MaybeTlsStream<async_std::net::TcpStream>;

    fn block_on<F: Future>(future: F) -> F::Output {
        async_std::task::block_on(future)
    }

    fn runtime() -> Arc<dyn Runtime> {
        Arc::new(async_std_runtime())
    }

    fn connect(
        url: &str,
        config: Config,
        roots: Option<rustls::RootCertStore>,
    ) -> impl Future<Output = Result<(Session<Self::ClientStream>, ClientResponse), String>> {
        async_io_connect(url, config, roots, async_std_runtime())
    }

    fn accept(
        listener: std::net::TcpListener,
        config: Config,
        tls: Option<&TestCert>,
    ) -> impl Future<Output = Result<(Session<Self::ServerStream>, AcceptedRequest), String>> {
        let acceptor = async_io_acceptor(config, tls, async_std_runtime());
        async move {
            let listener = async_std::net::TcpListener::from(listener);
            let accepted = listener.accept().await.inspect(|(tcp, _)| {
                let _ = tcp.set_nodelay(true);
            });
            async_io_accept(acceptor, accepted.map(|(tcp, _)| tcp)).await
        }
    }
}

fn async_std_runtime() -> ws_async_std::AsyncIoRuntime {
    ws_async_std::AsyncIoRuntime::with_spawner(|task| {
        async_std::task::spawn(task);
    })
}

/// `ws-async-std` under smol: `smol::block_on`, `smol::net`, split drivers
/// on smol's global executor (the adapter's default).
#[derive(Debug)]
pub struct Smol;

impl Adapter for Smol {
    const NAME: &'static str = "ws-async-std, smol";
    type ClientStream = ws_async_std::MaybeTlsStream;
    type ServerStream = ws_async_std::MaybeTlsStream<smol::net::TcpStream>;

    fn block_on<F: Future>(future: F) -> F::Output {
        smol::block_on(future)
    }

    fn runtime() -> Arc<dyn Runtime> {
        Arc::new(ws_async_std::AsyncIoRuntime::new())
    }

    fn connect(
        url: &str,
        config: Config,
        roots: Option<rustls::RootCertStore>,
    ) -> impl Future<Output = Result<(Session<Self::ClientStream>, ClientResponse), String>> {
        async_io_connect(url, config, roots, ws_async_std::AsyncIoRuntime::new())
    }

    fn accept(
        listener: std::net::TcpListener,
        config: Config,
        tls: Option<&TestCert>,
    ) -> impl Future<Output = Result<(Session<Self::ServerStream>, AcceptedRequest), String>> {
        let acceptor = async_io_acceptor(config, tls, ws_async_std::AsyncIoRuntime::new());
        async move {
            let listener = smol::net::TcpListener::try_from(listener).map_err(|e| e.to_string())?;
            let accepted = listener.accept().await.inspect(|(tcp, _)| {
                let _ = tcp.set_nodelay(true);
            });
            async_io_accept(acceptor, accepted.map(|(tcp, _)| tcp)).await
        }
    }
}

/// `ws-async-std`'s client, for both of its runtimes.
async fn async_io_connect(
    url: &str,
    config: Config,
    roots: Option<rustls::RootCertStore>,
    runtime: ws_async_std::AsyncIoRuntime,
) -> Result<(Session<ws_async_std::MaybeTlsStream>, ClientResponse), String> {
    let mut connector = ws_async_std::Connector::new()
        .config(config)
        .runtime(runtime);
    if let Some(roots) = roots {
        connector = connector.tls_config(ws_async_std::client_config_with_roots(roots));
    }
    connector
        .connect(url)
        .await
        .map_err(|e| format!("{e} ({e:?})"))
}

/// `ws-async-std`'s upgrade on an accepted connection, for both of its
/// runtimes.
async fn async_io_accept<S: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin>(
    acceptor: Result<ws_async_std::Acceptor, String>,
    accepted: std::io::Result<S>,
) -> Result<(Session<ws_async_std::MaybeTlsStream<S>>, AcceptedRequest), String> {
    let tcp = accepted.map_err(|e| e.to_string())?;
    acceptor?
        .accept_tcp(tcp, |_| Decision::accept())
        .await
        .map_err(|e| format!("{e} ({e:?})"))
}

/// `ws-async-std`'s acceptor, for both of its runtimes.
fn async_io_acceptor(
    config: Config,
    tls: Option<&TestCert>,
    runtime: ws_async_std::AsyncIoRuntime,
) -> Result<ws_async_std::Acceptor, String> {
    let mut acceptor = ws_async_std::Acceptor::new()
        .config(config)
        .runtime(runtime);
    if let Some(cert) = tls {
        let tls = ws_async_std::server_config(vec![cert.cert()], cert.key())
            .map_err(|e| e.to_string())?;
        acceptor = acceptor.tls_config(tls);
    }
    Ok(acceptor)
}
