//! [`serve`]: the accept loop every adapter's `serve` runs, once for every
//! runtime.
//!
//! ```text
//!  Incoming ─► connection ─► admit (cap, shutdown) ─┬─ placed: task { TLS + upgrade ─► handler(session) }  (abortable at the shutdown deadline)
//!     ▲                                              └─ full: task { read the request, 503 + Retry-After, close }  (at most REFUSING_AT_ONCE)
//!     └── ends when the listener breaks or the shutdown begins
//! ```

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;

use futures_core::Stream;
use futures_io::{AsyncRead, AsyncWrite};
use futures_util::FutureExt as _;
use futures_util::future::{AbortHandle, Abortable};

use crate::acceptor::Acceptor;
use crate::decision::Decision;
use crate::handshake::AcceptedRequest;
use crate::incoming::Incoming;
use crate::lifecycle::{ConnectionLimit, SessionGuard};
use crate::net::Net;
use crate::session::Session;
use crate::stream::MaybeTls;

/// Connections over the cap that are answered 503 at once, each in a task
/// that reads the request first (within the handshake timeout). Past
/// this, a connection over the cap is closed without an answer: a flood
/// of connections cannot make the refusals themselves a cost without
/// bound.
const REFUSING_AT_ONCE: usize = 64;

/// A server's accept loop over `connections`: each connection is admitted
/// (a place under `acceptor`'s [`ConnectionLimit`], a registration with
/// its [`Shutdown`](crate::Shutdown)), then a task of its own runs TLS
/// and the upgrade on `wrap(connection)` and hands the session and its
/// request to `handler`. Over the cap, the upgrade is answered 503 with
/// `Retry-After` and the connection closed; a connection whose handshake
/// fails is dropped.
///
/// Returns `Ok` when the shutdown begins (the listener is dropped with
/// `connections`) or `connections` ends, `Err` when the listener breaks.
/// At the shutdown deadline the handler tasks of sessions still open are
/// aborted.
///
/// # Errors
/// The listener's error that ended `connections`.
pub async fn serve<R, T, S, H, Fut>(
    acceptor: Acceptor<R>,
    connections: Incoming<T>,
    wrap: impl Fn(T) -> S,
    handler: H,
) -> io::Result<()>
where
    R: Net,
    T: Unpin + Send + 'static,
    for<'a> socket2::SockRef<'a>: From<&'a T>,
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    H: Fn(Session<MaybeTls<S>>, AcceptedRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let runtime = acceptor.dyn_runtime();
    let mut connections = match acceptor.get_shutdown() {
        Some(shutdown) => connections.until_shutdown(shutdown),
        None => connections,
    };
    let handler = Arc::new(handler);
    let refusing = ConnectionLimit::new(REFUSING_AT_ONCE);
    loop {
        let next = std::future::poll_fn(|cx| Pin::new(&mut connections).poll_next(cx)).await;
        let Some(connection) = next else {
            return Ok(());
        };
        let stream = wrap(connection?);
        match acceptor.admit() {
            Ok(guard) => runtime.spawn(Box::pin(run_session(
                acceptor.clone(),
                stream,
                guard,
                handler.clone(),
            ))),
            Err(refusal) => {
                if let Some(place) = refusing.try_acquire() {
                    let acceptor = acceptor.clone();
                    runtime.spawn(Box::pin(async move {
                        let _place = place;
                        let _ = acceptor.refuse(stream, refusal).await;
                    }));
                }
            }
        }
    }
}

/// One admitted connection: the handshake, then the handler, abortable
/// at the shutdown deadline.
///
/// The future lives as long as the session, so it holds only what the
/// session needs: the handshake (TLS, the request head, the response, the
/// error, the acceptor) is boxed on its own and freed once the upgrade is
/// done, and this is a plain function, as an `async fn` would keep its
/// arguments beside the task they move into. Inline, the two made an idle
/// connection's task 3.3 KB larger on tokio (the test `idle_memory` in
/// adapter-scenarios bounds the whole connection).
fn run_session<R, S, H, Fut>(
    acceptor: Acceptor<R>,
    stream: S,
    guard: SessionGuard,
    handler: Arc<H>,
) -> impl Future<Output = ()> + Send + 'static
where
    R: Net,
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    H: Fn(Session<MaybeTls<S>>, AcceptedRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (abort, registration) = AbortHandle::new_pair();
    if let Some(watch) = guard.watch() {
        watch.abort_on_force(abort);
    }
    let handshake = Box::pin(async move {
        acceptor
            .accept_guarded(stream, guard, async |_| Decision::accept())
            .await
    });
    let task = async move {
        let Ok((session, request)) = handshake.await else {
            return;
        };
        handler(session, request).await;
    };
    // Aborted: the task (and the session in it) is dropped.
    Abortable::new(task, registration).map(drop)
}
