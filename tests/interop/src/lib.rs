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
//! The adapter under test is a type implementing [`Adapter`];
//! [`interop_tests!`] instantiates every (peer, direction, scenario) test
//! for it. The peers are installed once per target directory under
//! `CARGO_TARGET_TMPDIR` (a venv with `peers/python/requirements.txt`,
//! `npm ci` of `peers/node/package-lock.json`).
#![forbid(unsafe_code)]

pub mod adapters;
mod check;
mod drive;
mod nats;
mod peer;
mod report;
mod scenario;

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};
use ws_session::{AcceptedRequest, ClientResponse, Config, Runtime, Session};

pub use nats::{NatsServer, nats_server_binary};
pub use peer::{Peer, TestCert};
pub use scenario::{Content, Scenario, Step};

/// How one adapter connects and accepts; everything else (the session API)
/// is shared. Implement it for an adapter, then `interop_tests!(Type)`.
pub trait Adapter {
    /// Shown in failure reports.
    const NAME: &'static str;
    /// The transport of the sessions it connects (TCP or TLS).
    type ClientStream: AsyncRead + AsyncWrite + Unpin;
    /// The transport of the sessions it accepts.
    type ServerStream: AsyncRead + AsyncWrite + Unpin;

    /// Runs a test body to completion on this adapter's runtime.
    fn block_on<F: Future>(future: F) -> F::Output;

    /// The runtime's clock and timers, for the tests' own timeouts.
    fn runtime() -> Arc<dyn Runtime>;

    /// Connects to a `ws://` or `wss://` URL; `roots` (for `wss://`) are the
    /// only trusted certificates.
    fn connect(
        url: &str,
        config: Config,
        roots: Option<rustls::RootCertStore>,
    ) -> impl Future<Output = Result<(Session<Self::ClientStream>, ClientResponse), String>>;

    /// Accepts one connection on `listener` (bound on loopback, blocking
    /// mode) and its upgrade, with TLS when `tls` is given.
    fn accept(
        listener: std::net::TcpListener,
        config: Config,
        tls: Option<&TestCert>,
    ) -> impl Future<Output = Result<(Session<Self::ServerStream>, AcceptedRequest), String>>;
}

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
pub fn run<A: Adapter>(tmp: &Path, peer: Peer, direction: Direction, scenario: Scenario) {
    if let Err(report) = report::run::<A>(tmp, peer, direction, scenario) {
        panic!("{report}");
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

/// Instantiates every interop test for an [`Adapter`]: modules
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
