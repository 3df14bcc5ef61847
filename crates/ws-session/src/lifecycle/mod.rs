//! A server's lifecycle controls: a cap on concurrent connections
//! ([`ConnectionLimit`]) and a graceful shutdown ([`Shutdown`]), and what
//! ties one session to them ([`SessionGuard`]).
//!
//! ```text
//!  accept ─► SessionGuard::admit(limit, shutdown) ─┬─ Ok: permit + watch ─► handshake ─► Session (holds the guard)
//!                                                  └─ Err: 503 + Retry-After, Connection: close
//!  session ends (closed, failed, dropped, its task panics) ─► guard dropped ─► place given back, shutdown told
//! ```

mod limit;
mod shutdown;

pub use limit::{ConnectionLimit, ConnectionPermit};
pub use shutdown::{Shutdown, ShutdownPhase, ShutdownReport, ShutdownWatch};

use std::time::Duration;

use http::{HeaderMap, StatusCode};

use crate::decision::Decision;

/// Why a connection was not admitted: answered 503, no session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdmitError {
    /// Every place under the [`ConnectionLimit`] is taken.
    #[error("the server is at its connection cap (retry after {retry_after:?})")]
    Full {
        /// The wait told to the client (`Retry-After`).
        retry_after: Duration,
    },
    /// The [`Shutdown`] has begun.
    #[error("the server is shutting down")]
    ShuttingDown,
}

impl AdmitError {
    /// 503 Service Unavailable.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        StatusCode::SERVICE_UNAVAILABLE
    }

    /// `Retry-After` (seconds, rounded up) when full, and
    /// `Connection: close` (leave it out on HTTP/2, where it is not
    /// allowed).
    #[must_use]
    pub fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let AdmitError::Full { retry_after } = self {
            let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            headers.insert(http::header::RETRY_AFTER, secs.into());
        }
        headers.insert(
            http::header::CONNECTION,
            http::HeaderValue::from_static("close"),
        );
        headers
    }

    /// The body of the 503, a line that says why.
    #[must_use]
    pub fn body(&self) -> &'static [u8] {
        match self {
            AdmitError::Full { .. } => b"too many connections, try again later\n",
            AdmitError::ShuttingDown => b"the server is shutting down\n",
        }
    }

    /// The answer to the upgrade, for an accept callback.
    #[must_use]
    pub fn decision(&self) -> Decision {
        Decision::Reject {
            status: self.status(),
            headers: self.headers(),
            body: self.body().to_vec(),
        }
    }
}

/// What ties a session to its server's lifecycle: its place under the
/// [`ConnectionLimit`] and its registration with the [`Shutdown`] handle.
/// A session holds it (see `Session::set_guard`) and lets go of it when it
/// ends: the place is given back and the shutdown handle told how it
/// ended. Dropped anywhere (a failed handshake, a panicking handler), it
/// lets go too.
#[derive(Debug, Default)]
pub struct SessionGuard {
    pub(crate) permit: Option<ConnectionPermit>,
    pub(crate) watch: Option<ShutdownWatch>,
}

impl SessionGuard {
    /// Takes a place under `limit` and registers with `shutdown` (either
    /// may be absent).
    ///
    /// # Errors
    /// Why not, when there is no place or the shutdown has begun: answer
    /// the upgrade with [`AdmitError::decision`] (503, with `Retry-After`
    /// when full).
    pub fn admit(
        limit: Option<&ConnectionLimit>,
        shutdown: Option<&Shutdown>,
    ) -> Result<Self, AdmitError> {
        let permit = match limit {
            Some(limit) => Some(limit.try_acquire().ok_or(AdmitError::Full {
                retry_after: limit.get_retry_after(),
            })?),
            None => None,
        };
        let watch = match shutdown {
            Some(shutdown) => Some(shutdown.register().ok_or(AdmitError::ShuttingDown)?),
            None => None,
        };
        Ok(SessionGuard { permit, watch })
    }

    /// A guard holding `permit` and `watch`.
    #[must_use]
    pub fn new(permit: Option<ConnectionPermit>, watch: Option<ShutdownWatch>) -> Self {
        SessionGuard { permit, watch }
    }

    /// The shutdown registration, if any.
    #[must_use]
    pub fn watch(&self) -> Option<&ShutdownWatch> {
        self.watch.as_ref()
    }
}
