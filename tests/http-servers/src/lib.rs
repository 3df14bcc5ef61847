//! Tests of `ws-axum` with real components: axum and hyper servers on
//! loopback, real clients (Python `websockets` and Node `ws` through the
//! interop suite, our own client, an RFC 8441 client built on the `h2`
//! crate, Chromium over TLS with HTTP/2).
//!
//! ```text
//!  tests/peers.rs     ── interop_tests::run::<AxumServer | HyperServer> ─► Python / Node clients
//!  tests/rfc8441.rs   ── h2ws::H2Client (h2 + our core) ───────────────────► servers::axum_app / hyper_service
//!  tests/refusals.rs  ── raw HTTP/1.1 and h2 requests ─────────────────────► 400 / 426 / 403, plain routes still 200
//!  tests/chromium.rs  ── headless Chromium, TLS + ALPN h2 ─────────────────► servers::serve_axum_tls (saw CONNECT)
//!  tests/h2_client.rs ── ws-h2 (our RFC 8441 client) on tokio ─────────────► both servers, one without RFC 8441, Hypercorn
//!  tests/h2_client_async_io.rs ── ws-h2 on async-std and smol ──────────────► the axum server (h2_client: the scenarios, once)
//! ```
#![forbid(unsafe_code)]

pub mod adapters;
pub mod h2_client;
pub mod h2ws;
pub mod raw;
pub mod servers;

/// Runs each scenario (an `async fn(Server)`) once per server: module
/// `$name` with tests `axum` and `hyper`.
#[macro_export]
macro_rules! on_both_servers {
    ($($name:ident => $scenario:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn axum() {
                    super::$scenario($crate::servers::Server::Axum).await;
                }

                #[tokio::test]
                async fn hyper() {
                    super::$scenario($crate::servers::Server::Hyper).await;
                }
            }
        )*
    };
}
