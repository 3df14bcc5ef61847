//! [`ConnectionLimit`]: a server-wide cap on concurrent connections, with
//! a permit per connection that gives its place back when dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use super::AdmitError;
use crate::decision::Decision;

/// What a refused client is told to wait before it tries again: long
/// enough that a crowd of retrying clients does not keep a full server
/// busy answering 503s, short enough that a place freed is used soon.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

/// A cap on the connections a server holds at once, shared by every
/// accept path that is given a clone of it (`Acceptor::connection_limit`
/// for the adapters' `serve` and `accept`, an axum `Extension` for
/// `ws_axum`).
///
/// A connection takes a [`ConnectionPermit`] when it is accepted (before
/// its handshake, so handshakes in progress count) and gives it back when
/// the permit is dropped: when the session ends, when its handler task
/// ends or panics, or when the handshake fails. Over the cap, an upgrade
/// is answered `503 Service Unavailable` with `Retry-After` and
/// `Connection: close`, and no session is made.
///
/// ```
/// use ws_session::ConnectionLimit;
///
/// let limit = ConnectionLimit::new(2);
/// let first = limit.try_acquire().unwrap();
/// let _second = limit.try_acquire().unwrap();
/// assert!(limit.try_acquire().is_none(), "full");
/// drop(first);
/// assert_eq!(limit.active(), 1);
/// assert!(limit.try_acquire().is_some(), "a place came free");
/// ```
#[derive(Debug, Clone)]
pub struct ConnectionLimit {
    inner: Arc<LimitInner>,
}

#[derive(Debug)]
struct LimitInner {
    max: usize,
    retry_after: Duration,
    active: AtomicUsize,
    refused: AtomicU64,
}

impl ConnectionLimit {
    /// At most `max` connections at once; refused clients are told to
    /// retry after 5 s.
    #[must_use]
    pub fn new(max: usize) -> Self {
        Self::with(max, DEFAULT_RETRY_AFTER)
    }

    fn with(max: usize, retry_after: Duration) -> Self {
        ConnectionLimit {
            inner: Arc::new(LimitInner {
                max,
                retry_after,
                active: AtomicUsize::new(0),
                refused: AtomicU64::new(0),
            }),
        }
    }

    /// The `Retry-After` of the 503 (whole seconds, rounded up). Set it
    /// while building: the limit returned is a new one, not shared with
    /// earlier clones.
    #[must_use]
    pub fn retry_after(self, wait: Duration) -> Self {
        Self::with(self.inner.max, wait)
    }

    /// A place for one connection, or `None` when all `max` are taken
    /// (counted in [`refused`](Self::refused)).
    #[must_use]
    pub fn try_acquire(&self) -> Option<ConnectionPermit> {
        let taken = self
            .inner
            .active
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |active| {
                (active < self.inner.max).then_some(active + 1)
            });
        if taken.is_ok() {
            Some(ConnectionPermit {
                limit: self.inner.clone(),
            })
        } else {
            self.inner.refused.fetch_add(1, Ordering::Relaxed);
            None
        }
    }

    /// The connections holding a place now.
    #[must_use]
    pub fn active(&self) -> usize {
        self.inner.active.load(Ordering::Acquire)
    }

    /// The cap.
    #[must_use]
    pub fn max(&self) -> usize {
        self.inner.max
    }

    /// How many connections were refused so far.
    #[must_use]
    pub fn refused(&self) -> u64 {
        self.inner.refused.load(Ordering::Relaxed)
    }

    /// The wait told to refused clients.
    #[must_use]
    pub fn get_retry_after(&self) -> Duration {
        self.inner.retry_after
    }

    /// Why a connection over the cap is refused, with its 503's headers
    /// (`Retry-After`, `Connection: close`) and body.
    #[must_use]
    pub fn full(&self) -> AdmitError {
        AdmitError::Full {
            retry_after: self.inner.retry_after,
        }
    }

    /// The answer to an upgrade over the cap, for an accept callback.
    #[must_use]
    pub fn refusal(&self) -> Decision {
        self.full().decision()
    }
}

/// One connection's place under a [`ConnectionLimit`], given back when
/// dropped (also while a panic unwinds the task that holds it).
#[derive(Debug)]
#[must_use = "the place is given back as soon as the permit is dropped"]
pub struct ConnectionPermit {
    limit: Arc<LimitInner>,
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        self.limit.active.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_taken_and_given_back_even_by_a_panicking_holder() {
        let limit = ConnectionLimit::new(1).retry_after(Duration::from_millis(1500));
        let held = limit.clone();
        let panicked = std::thread::spawn(move || {
            let _permit = held.try_acquire().unwrap();
            panic!("the handler failed");
        })
        .join();
        assert!(panicked.is_err());
        assert_eq!(limit.active(), 0);
        let permit = limit.try_acquire().unwrap();
        assert!(limit.try_acquire().is_none());
        assert_eq!(limit.refused(), 1);
        drop(permit);
        assert_eq!(limit.active(), 0);
        let headers = limit.full().headers();
        assert_eq!(headers[http::header::RETRY_AFTER], "2");
        assert_eq!(headers[http::header::CONNECTION], "close");
        let Decision::Reject { status, .. } = limit.refusal() else {
            panic!("a refusal")
        };
        assert_eq!(status, http::StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            !AdmitError::ShuttingDown
                .headers()
                .contains_key(http::header::RETRY_AFTER)
        );
    }
}
