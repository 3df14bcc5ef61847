//! What both axum echo servers share: each connection served by hyper's
//! HTTP/1.1 server with upgrades, the router as its service, on the
//! benchmark's one-thread runtime (`wsbench::serve`: `TCP_NODELAY`, prints
//! `listening on ws://ADDR`).
use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;

/// Serves `router` on every connection `wsbench::serve` accepts.
///
/// # Errors
/// The runtime or the listener could not be set up.
pub fn serve(router: Router) -> std::io::Result<()> {
    wsbench::serve(move |stream| {
        let service = TowerToHyperService::new(router.clone());
        async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades()
                .await;
        }
    })
}
