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
    type Stream = ws_tokio::MaybeTlsStream;

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
    ) -> impl Future<Output = Result<(Session<Self::Stream>, ClientResponse), String>> {
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
    ) -> impl Future<Output = Result<(Session<Self::Stream>, AcceptedRequest), String>> {
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
