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

use crate::handshake::Decision;

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
    /// may be absent). `Err` is the answer to give instead of an upgrade:
    /// 503 with `Retry-After` when the server is full, 503 when it is
    /// shutting down.
    ///
    /// # Errors
    /// The 503 [`Decision`], when there is no place or the shutdown has
    /// begun.
    pub fn admit(
        limit: Option<&ConnectionLimit>,
        shutdown: Option<&Shutdown>,
    ) -> Result<Self, Decision> {
        let permit = match limit {
            Some(limit) => Some(limit.try_acquire().ok_or_else(|| limit.refusal())?),
            None => None,
        };
        let watch = match shutdown {
            Some(shutdown) => Some(shutdown.register().ok_or_else(shutting_down)?),
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

/// The answer to an upgrade that arrives during a shutdown.
fn shutting_down() -> Decision {
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("close"),
    );
    limit::refusal(headers, limit::SHUTTING_DOWN_BODY)
}
