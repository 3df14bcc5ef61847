//! The server side, once for every runtime: [`Acceptor::accept`] runs TLS
//! (when configured) and then the WebSocket upgrade over a stream, within
//! the handshake timeout; the Origin policy and the application's
//! decision (sync or async) choose the answer. "Accept" means this on
//! every layer: TLS if configured, then the upgrade.
//!
//! ```text
//!  accept(stream) ─(TLS config?)─► TLS ─► handshake::server ─► Origin policy ─► decide(request) ─► Session
//!                 └─────────────────── handshake timeout ──────────────────────────────────┘
//! ```

use std::sync::Arc;

use futures_io::{AsyncRead, AsyncWrite};
use http::StatusCode;
use wsproto_core::Config;
use wsproto_core::handshake::{OriginPolicy, UpgradeRequest};

use crate::decision::Decision;
use crate::error::HandshakeError;
use crate::handshake::{AcceptedRequest, HandshakeOptions};
use crate::lifecycle::{AdmitError, ConnectionLimit, SessionGuard, Shutdown};
use crate::net::{Net, TcpOptions};
use crate::runtime::Runtime;
use crate::session::Session;
use crate::stream::MaybeTls;

/// A server: the session [`Config`], TLS, the handshake timeout, the TCP
/// options of accepted sockets, and an Origin policy, for runtime `R`.
/// Cloning is cheap (everything is shared).
///
/// Each adapter wraps it (`ws_tokio::Acceptor`, `ws_async_std::Acceptor`).
pub struct Acceptor<R: Net> {
    runtime: Arc<R>,
    config: Arc<Config>,
    handshake: HandshakeOptions,
    tcp: TcpOptions,
    origin: Option<OriginPolicy>,
    limit: Option<ConnectionLimit>,
    shutdown: Option<Shutdown>,
    #[cfg(feature = "rustls")]
    tls: Option<Arc<rustls::ServerConfig>>,
}

impl<R: Net> Clone for Acceptor<R> {
    fn clone(&self) -> Self {
        Acceptor {
            runtime: self.runtime.clone(),
            config: self.config.clone(),
            handshake: self.handshake,
            tcp: self.tcp,
            origin: self.origin.clone(),
            limit: self.limit.clone(),
            shutdown: self.shutdown.clone(),
            #[cfg(feature = "rustls")]
            tls: self.tls.clone(),
        }
    }
}

impl<R: Net> std::fmt::Debug for Acceptor<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = f.debug_struct("Acceptor");
        s.field("runtime", &self.runtime)
            .field("handshake", &self.handshake)
            .field("tcp", &self.tcp)
            .field("origin_policy", &self.origin)
            .field("limit", &self.limit)
            .field("shutdown", &self.shutdown.as_ref().map(Shutdown::phase));
        #[cfg(feature = "rustls")]
        s.field("tls", &self.tls.is_some());
        s.finish_non_exhaustive()
    }
}

impl<R: Net + Default> Default for Acceptor<R> {
    fn default() -> Self {
        Self::with_runtime(R::default())
    }
}

impl<R: Net> Acceptor<R> {
    /// The defaults ([`Config::default`], [`HandshakeOptions::default`],
    /// [`TcpOptions::default`], no TLS, any Origin) on `runtime`.
    #[must_use]
    pub fn with_runtime(runtime: R) -> Self {
        Acceptor {
            runtime: Arc::new(runtime),
            config: Arc::default(),
            handshake: HandshakeOptions::default(),
            tcp: TcpOptions::default(),
            origin: None,
            limit: None,
            shutdown: None,
            #[cfg(feature = "rustls")]
            tls: None,
        }
    }

    crate::builder::shared_builder_methods!(rustls::ServerConfig);

    /// Refuses (403, no session) an upgrade whose `Origin` header is not
    /// one of `origins` (scheme, host and port, e.g.
    /// `"https://chat.example.com"`; a default port may be left out): the
    /// same as [`origin_policy`](Self::origin_policy) with
    /// [`OriginPolicy::allow_list`]. Requests without the header, from
    /// clients that are not browsers, are let through.
    #[must_use]
    pub fn allowed_origins<I>(self, origins: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.origin_policy(OriginPolicy::allow_list(origins))
    }

    /// Which pages may open sessions here (see [`OriginPolicy`]: exact
    /// origins, the same host, whether a missing `Origin` passes); a
    /// refused request is answered 403 and no session is created. A
    /// browser always sends `Origin`, so this stops other sites' pages
    /// from opening sessions with the user's cookies (cross-site WebSocket
    /// hijacking). It is checked besides the config's own policy
    /// ([`Config::with_origin_policy`], which the hyper and axum paths
    /// read too), with the same rules.
    #[must_use]
    pub fn origin_policy(mut self, policy: OriginPolicy) -> Self {
        self.origin = Some(policy);
        self
    }

    /// A cap on the connections accepted here (and by `serve`) at once,
    /// shared with every clone of `limit`: over it, an upgrade is
    /// answered 503 with `Retry-After` and `Connection: close`. A session
    /// holds its place until it ends (however: closed, failed, dropped, or
    /// its handler task panicked).
    #[must_use]
    pub fn connection_limit(mut self, limit: ConnectionLimit) -> Self {
        self.limit = Some(limit);
        self
    }

    /// A graceful-shutdown handle: sessions accepted here register with
    /// it, `serve` stops accepting when it is signalled, and an upgrade
    /// during the shutdown is answered 503 (see [`Shutdown`]).
    #[must_use]
    pub fn shutdown(mut self, shutdown: Shutdown) -> Self {
        self.shutdown = Some(shutdown);
        self
    }

    /// The connection cap, if any.
    #[must_use]
    pub fn get_connection_limit(&self) -> Option<&ConnectionLimit> {
        self.limit.as_ref()
    }

    /// The shutdown handle, if any.
    #[must_use]
    pub fn get_shutdown(&self) -> Option<&Shutdown> {
        self.shutdown.as_ref()
    }

    /// The runtime, as the sessions see it.
    pub(crate) fn dyn_runtime(&self) -> Arc<dyn Runtime> {
        self.runtime.clone()
    }

    /// A place under the cap and a shutdown registration for one more
    /// connection, or the 503 to answer it with.
    pub(crate) fn admit(&self) -> Result<SessionGuard, AdmitError> {
        SessionGuard::admit(self.limit.as_ref(), self.shutdown.as_ref())
    }

    /// Answers the upgrade on `stream` with the 503 of `refused` (after
    /// reading the request, so that the client reads the answer rather
    /// than a reset).
    pub(crate) async fn refuse<S>(&self, stream: S, refused: AdmitError) -> HandshakeError
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let refusal = refused.decision();
        match self
            .accept_guarded(stream, SessionGuard::default(), async move |_| refusal)
            .await
        {
            Err(e) => e,
            // A `Reject` decision makes no session.
            Ok(_) => HandshakeError::Rejected(StatusCode::SERVICE_UNAVAILABLE),
        }
    }

    /// Accepts every valid upgrade request on `stream` (that the Origin
    /// policy allows): TLS first when configured, then the upgrade. With a
    /// [`connection_limit`](Self::connection_limit) or a
    /// [`shutdown`](Self::shutdown) handle, a full or closing server
    /// answers 503 instead (`HandshakeError::Rejected`), and the session
    /// holds its place and its registration until it ends.
    pub async fn accept<S>(
        &self,
        stream: S,
    ) -> Result<(Session<MaybeTls<S>>, AcceptedRequest), HandshakeError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        self.accept_with_async(stream, async |_| Decision::accept())
            .await
    }

    /// As [`accept`](Self::accept), with `decide` choosing the answer
    /// from the request (path, query, headers, offered subprotocols):
    /// accept (subprotocol, extra headers) or reject (status, headers,
    /// body).
    pub async fn accept_with<S, F>(
        &self,
        stream: S,
        decide: F,
    ) -> Result<(Session<MaybeTls<S>>, AcceptedRequest), HandshakeError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
        F: FnOnce(&UpgradeRequest) -> Decision,
    {
        self.accept_with_async(stream, async move |request| decide(request))
            .await
    }

    /// As [`accept_with`](Self::accept_with), with an async `decide` that
    /// may look things up (a token in a database) before it answers. It
    /// runs within the handshake timeout.
    pub async fn accept_with_async<S, F>(
        &self,
        stream: S,
        decide: F,
    ) -> Result<(Session<MaybeTls<S>>, AcceptedRequest), HandshakeError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
        F: AsyncFnOnce(&UpgradeRequest) -> Decision,
    {
        match self.admit() {
            Ok(guard) => self.accept_guarded(stream, guard, decide).await,
            Err(refusal) => Err(self.refuse(stream, refusal).await),
        }
    }

    /// [`accept_with_async`](Self::accept_with_async) for a connection
    /// already admitted: the session holds `guard`.
    pub(crate) async fn accept_guarded<S, F>(
        &self,
        stream: S,
        guard: SessionGuard,
        decide: F,
    ) -> Result<(Session<MaybeTls<S>>, AcceptedRequest), HandshakeError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
        F: AsyncFnOnce(&UpgradeRequest) -> Decision,
    {
        let started = self.runtime.now();
        let stream = self.tls_accept(stream, started).await?;
        let remaining = self
            .handshake
            .after(self.runtime.now().saturating_duration_since(started));
        let runtime: Arc<dyn Runtime> = self.runtime.clone();
        let origin = self.origin.clone();
        crate::handshake::server(
            runtime,
            stream,
            self.config.clone(),
            remaining,
            async move |request: &UpgradeRequest| {
                if let Some(policy) = &origin
                    && !request.origin_allowed(policy)
                {
                    return Decision::reject(StatusCode::FORBIDDEN, "origin not allowed\n");
                }
                decide(request).await
            },
        )
        .await
        .map(|(mut session, request)| {
            session.set_guard(guard);
            (session, request)
        })
        .map_err(|e| self.handshake.whole_timeout(e))
    }

    #[cfg(feature = "rustls")]
    async fn tls_accept<S>(
        &self,
        stream: S,
        started: std::time::Instant,
    ) -> Result<MaybeTls<S>, HandshakeError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let Some(tls) = self.tls.clone() else {
            return Ok(MaybeTls::Plain(stream));
        };
        let deadline = self.handshake.deadline(started);
        let stream =
            crate::runtime::timeout_at(&*self.runtime, deadline, crate::tls::accept(tls, stream))
                .await
                .ok_or(self.handshake.timed_out())??;
        Ok(MaybeTls::Tls(Box::new(stream)))
    }

    #[cfg(not(feature = "rustls"))]
    #[allow(clippy::unused_async)]
    async fn tls_accept<S>(
        &self,
        stream: S,
        _started: std::time::Instant,
    ) -> Result<MaybeTls<S>, HandshakeError> {
        Ok(MaybeTls::Plain(stream))
    }
}
