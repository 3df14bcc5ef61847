//! Interop tests against real peers on loopback: Python `websockets` and
//! Node `ws`, our client against their server and their client against our
//! server, for each adapter.
//!
//! ```text
//!  Rust test ──► Scenario::plan() ──► steps ─┬─► our side: drive::run_steps(session)  ─► Record
//!                                            └─► peer: peers/{python,node}/steps.*     ─► JSON lines
//!  check::compare(Record, JSON lines) ──► pass, or a panic with the whole transcript
//! ```
//!
//! A scenario is one list of [`Step`]s seen from our side; the peer gets the
//! mirror image of it (`echo` for our sends, `send` for our receives, …) as
//! a JSON script on its command line, and reports what it saw per step.
//! Every step is checked on both sides against what the other side sent:
//! lengths, SHA-1 and kind of each message, fragment counts where a side can
//! see them, ping and pong payloads, close codes and reasons, the
//! negotiated extensions.
//!
//! The adapter under test is a runtime of the shared harness
//! ([`test_support::Rt`]); [`interop_tests!`] instantiates every (peer,
//! direction, scenario) test for it. The peers are installed once per
//! target directory under `CARGO_TARGET_TMPDIR` by the harness (a venv
//! with `peers/python/requirements.txt`, `npm ci` of
//! `peers/node/package-lock.json`).
#![forbid(unsafe_code)]

mod check;
mod drive;
mod peer;
mod report;
mod scenario;

use std::future::Future;
use std::path::Path;
use std::task::Poll;
use std::time::Duration;

use test_support::{Rt, ServerOptions};
use ws_session::{Decision, Runtime, Session};

pub use peer::Peer;
pub use scenario::{Content, Scenario, Step};

/// Who plays the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Our client connects to the peer's server.
    OurClient,
    /// The peer's client connects to our server.
    OurServer,
}

impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Direction::OurClient => "our client -> their server",
            Direction::OurServer => "their client -> our server",
        })
    }
}

/// Runs one interop test. `tmp` is the test crate's `CARGO_TARGET_TMPDIR`.
///
/// # Panics
/// When the test fails, with the report: peer, direction, scenario, step,
/// and what both sides sent and saw.
pub fn run<R: Rt>(tmp: &Path, peer: Peer, direction: Direction, scenario: Scenario) {
    run_with::<R, AdapterServer>(tmp, peer, direction, scenario);
}

/// [`run`] with our server side set up by `A` (for example a route of an
/// HTTP server that hands its session to the test) instead of the
/// adapter's accept; our client side is `R`'s.
///
/// # Panics
/// As [`run`].
pub fn run_with<R: Rt, A: OurServer<R>>(
    tmp: &Path,
    peer: Peer,
    direction: Direction,
    scenario: Scenario,
) {
    if let Err(report) = report::run::<R, A>(tmp, peer, direction, scenario) {
        panic!("{report}");
    }
}

/// Our server side of a [`Direction::OurServer`] test: takes the bound
/// listener the peer's client will connect to, accepts one WebSocket
/// session on it with `options` (config, TLS), and hands it over with the
/// path of the request it accepted. Runs on `R`'s executor.
pub trait OurServer<R: Rt> {
    /// The transport of the accepted session.
    type Stream: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin;

    /// Accepts one session on `listener`; the error says what failed.
    fn accept(
        listener: std::net::TcpListener,
        options: ServerOptions,
    ) -> impl Future<Output = Result<(Session<Self::Stream>, String), String>>;
}

/// The adapter's own accept path: `R`'s listener, `R::accept_tcp`, then
/// `R::accept` (TLS first when configured), accepting every upgrade.
#[derive(Debug)]
pub struct AdapterServer;

impl<R: Rt> OurServer<R> for AdapterServer {
    type Stream = R::Server;

    async fn accept(
        listener: std::net::TcpListener,
        options: ServerOptions,
    ) -> Result<(Session<Self::Stream>, String), String> {
        let listener = R::listener_from_std(listener);
        let tcp = R::accept_tcp(&listener).await;
        let (ws, request) = R::accept(tcp, options, |_| Decision::accept())
            .await
            .map_err(|e| format!("{e} ({e:?})"))?;
        Ok((ws, request.uri().path().to_owned()))
    }
}

/// Runs `future`, failing with `what` if it takes longer than `seconds` on
/// `runtime`'s clock.
async fn within<F: Future>(
    runtime: &dyn Runtime,
    seconds: u64,
    what: &str,
    future: F,
) -> Result<F::Output, String> {
    let mut timer = runtime.new_timer(runtime.now() + Duration::from_secs(seconds));
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| match future.as_mut().poll(cx) {
        Poll::Ready(out) => Poll::Ready(Ok(out)),
        Poll::Pending => timer
            .as_mut()
            .poll_expired(cx)
            .map(|()| Err(format!("timed out after {seconds} s: {what}"))),
    })
    .await
}

/// Instantiates every interop test for a runtime: modules
/// `python::our_client::text`, `node::our_server::tls`, …
#[macro_export]
macro_rules! interop_tests {
    ($adapter:ty) => {
        $crate::interop_tests!(@peer $adapter, python, $crate::Peer::Python);
        $crate::interop_tests!(@peer $adapter, node, $crate::Peer::Node);
    };
    (@peer $adapter:ty, $module:ident, $peer:expr) => {
        mod $module {
            mod our_client {
                $crate::interop_tests!(@scenarios $adapter, $peer, $crate::Direction::OurClient);
            }
            mod our_server {
                $crate::interop_tests!(@scenarios $adapter, $peer, $crate::Direction::OurServer);
            }
        }
    };
    (@scenarios $adapter:ty, $peer:expr, $direction:expr) => {
        $crate::interop_tests!(@tests $adapter, $peer, $direction,
            text: Text, binary: Binary, empty: Empty, large: Large,
            fragmented: Fragmented, fragmented_raw: FragmentedRaw,
            deflate: Deflate, deflate_off_ours: DeflateOffOurs,
            deflate_off_theirs: DeflateOffTheirs, close_ours: CloseOurs,
            close_theirs: CloseTheirs, ping_ours: PingOurs,
            ping_theirs: PingTheirs, tls: Tls);
    };
    (@tests $adapter:ty, $peer:expr, $direction:expr, $($name:ident: $scenario:ident),*) => {
        $(
            #[test]
            fn $name() {
                $crate::run::<$adapter>(
                    ::std::path::Path::new(env!("CARGO_TARGET_TMPDIR")),
                    $peer,
                    $direction,
                    $crate::Scenario::$scenario,
                );
            }
        )*
    };
}
