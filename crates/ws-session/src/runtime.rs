//! The few things the session needs from an async runtime: the time, a
//! resettable timer, and (for [`spawn_split`](crate::Session::spawn_split)) a way to
//! spawn the driver task.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

/// A future-like timer that can be moved to a new deadline without being
/// allocated again (one per session).
pub trait Timer: Send + Debug {
    /// Moves the deadline. The timer fires (again) at `deadline`.
    fn reset(self: Pin<&mut Self>, deadline: Instant);
    /// `Ready` once the deadline has passed; registers `cx`'s waker
    /// otherwise.
    fn poll_expired(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()>;
}

/// An async runtime, as far as a WebSocket session is concerned.
///
/// Implemented by each adapter (`ws-tokio`, `ws-async-std`) in a few lines;
/// all session logic is generic over it.
pub trait Runtime: Send + Sync + Debug + 'static {
    /// The current time of the runtime's clock. Every `now` handed to the
    /// protocol core comes from here, so a runtime with a virtual clock
    /// (tokio's paused time) drives the core's timers virtually too.
    fn now(&self) -> Instant;
    /// A timer that fires at `deadline`.
    fn new_timer(&self, deadline: Instant) -> Pin<Box<dyn Timer>>;
    /// Runs `future` to completion in the background.
    fn spawn(&self, future: Pin<Box<dyn Future<Output = ()> + Send>>);
}

/// Runs `future`, giving up at `deadline` (on `runtime`'s timers; `None`:
/// no limit): `None` when the deadline came first. For crates that build
/// flows of their own over a [`Runtime`] (ws-h2).
pub async fn timeout_at<F: Future>(
    runtime: &dyn Runtime,
    deadline: Option<Instant>,
    future: F,
) -> Option<F::Output> {
    let Some(deadline) = deadline else {
        return Some(future.await);
    };
    let mut timer = runtime.new_timer(deadline);
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(out) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(out));
        }
        if timer.as_mut().poll_expired(cx).is_ready() {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await
}
