//! The client builder: how to reach the server (the transport, TLS with
//! ALPN, h2c with prior knowledge) and what to do when it does not take
//! WebSockets over HTTP/2 (fall back to HTTP/1.1, or a typed error).
//!
//! ```text
//!  wss://: Transport ─► TLS, ALPN [h2, http/1.1] ─ h2 ─► HTTP/2 handshake ─► SETTINGS_ENABLE_CONNECT_PROTOCOL? ─ yes ─► extended CONNECT ─► Session
//!                                                └ http/1.1* ─► HTTP/1.1 upgrade on this TLS stream ─► Session       └ no* ─► new connection, HTTP/1.1
//!  ws:// + prior knowledge: Transport ─► HTTP/2 handshake ─► (the same)   (a server that does not speak h2c*: new connection, HTTP/1.1)
//!  ws:// without it*: Transport ─► HTTP/1.1 upgrade                       (* only with fallback_to_http1(true); a typed error otherwise)
//! ```

use std::sync::Arc;

use futures_io::{AsyncRead, AsyncWrite};
use ws_session::reconnect::DialFuture;
use ws_session::wsproto_core::handshake::{ClientHandshake, Scheme};
use ws_session::{
    ClientResponse, Config, ConnectError, ConnectOptions, DirectTcp, HandshakeError,
    IntoClientRequest, Net, Reconnect, ReconnectOptions, Runtime, Transport,
};

use crate::connection::H2Connection;
use crate::error::H2Error;
use crate::stream::Stream;
use crate::{WebSocket, within, within_handshake};

/// What a connection attempt gave: a connection that takes WebSockets
/// over HTTP/2, or a stream for the HTTP/1.1 upgrade.
enum Dialed {
    H2(H2Connection),
    Http1(Stream),
}

/// A client of WebSockets over HTTP/2 (RFC 8441) on the runtime `R`: the
/// session [`Config`], timeouts and TCP options ([`ConnectOptions`]), the
/// [`Transport`] (direct TCP, or a proxy's tunnel), TLS, h2c, and the
/// fallback. Cloning is cheap.
///
/// `R` is a runtime of an adapter ([`Net`]: sockets, timers, a spawner):
/// `ws_tokio::TokioRuntime` for [`ws_h2::H2Connector`](crate::H2Connector),
/// `ws_async_std::AsyncIoRuntime` for
/// `ws_h2::async_std::H2Connector` (feature `async-std`). The
/// HTTP/2 connection's task runs on `R`'s spawner, and every WebSocket
/// (over HTTP/2 or after a fallback) is a session on `R`.
#[derive(Debug, Clone)]
pub struct H2Connector<R: Net> {
    runtime: R,
    config: Arc<Config>,
    options: ConnectOptions,
    transport: Arc<dyn Transport<R>>,
    #[cfg(feature = "rustls")]
    tls: Option<Arc<rustls::ClientConfig>>,
    prior_knowledge: bool,
    fallback: bool,
}

impl<R: Net + Default> Default for H2Connector<R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<R: Net + Default> H2Connector<R> {
    /// The defaults: [`Config::default`], [`ConnectOptions::default`],
    /// direct TCP, webpki roots for `wss://`, no h2c (a `ws://` URL is
    /// refused unless [`prior_knowledge`](Self::prior_knowledge) or the
    /// fallback is on), and no fallback to HTTP/1.1: asking for HTTP/2
    /// and silently getting HTTP/1.1 would hide a misconfigured server.
    /// The runtime's default (for async-io: tasks on smol's global
    /// executor).
    #[must_use]
    pub fn new() -> Self {
        Self::with_runtime(R::default())
    }
}

impl<R: Net> H2Connector<R> {
    /// The defaults of [`new`](Self::new) on `runtime` (say, an
    /// `AsyncIoRuntime` whose spawner is async-std's).
    #[must_use]
    pub fn with_runtime(runtime: R) -> Self {
        H2Connector {
            runtime,
            config: Arc::default(),
            options: ConnectOptions::default(),
            // `default()`: the direct transport gains options (the address
            // race) in the proxy work; a unit struct here until then.
            #[allow(clippy::default_constructed_unit_structs)]
            transport: Arc::new(DirectTcp::default()),
            #[cfg(feature = "rustls")]
            tls: None,
            prior_knowledge: false,
            fallback: false,
        }
    }

    /// The session configuration (limits, heartbeat, compression).
    #[must_use]
    pub fn config(mut self, config: impl Into<Arc<Config>>) -> Self {
        self.config = config.into();
        self
    }

    /// Timeouts and TCP options. The handshake timeout covers TLS, the
    /// HTTP/2 handshake and the answer to the extended CONNECT.
    #[must_use]
    pub fn options(mut self, options: ConnectOptions) -> Self {
        self.options = options;
        self
    }

    /// How the stream to the server is opened: [`DirectTcp`] by default,
    /// or a proxy's tunnel.
    #[must_use]
    pub fn transport(mut self, transport: impl Transport<R>) -> Self {
        self.transport = Arc::new(transport);
        self
    }

    /// The TLS configuration for `wss://` (its roots and client
    /// certificate; the ALPN list is set here: `h2`, then `http/1.1`).
    #[cfg(feature = "rustls")]
    #[must_use]
    pub fn tls_config(mut self, tls: Arc<rustls::ClientConfig>) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Speak HTTP/2 in clear text to `ws://` URLs without asking first
    /// (h2c with prior knowledge, RFC 9113 §3.3): for servers known to
    /// take it. Off by default.
    #[must_use]
    pub fn prior_knowledge(mut self, on: bool) -> Self {
        self.prior_knowledge = on;
        self
    }

    /// When the server does not take WebSockets over HTTP/2 (no
    /// `SETTINGS_ENABLE_CONNECT_PROTOCOL`, TLS without `h2`, a `ws://`
    /// server without prior knowledge, or one that does not speak h2c),
    /// open the WebSocket with the HTTP/1.1 upgrade instead of failing.
    /// Off by default.
    #[must_use]
    pub fn fallback_to_http1(mut self, on: bool) -> Self {
        self.fallback = on;
        self
    }

    /// The session configuration.
    #[must_use]
    pub fn get_config(&self) -> &Arc<Config> {
        &self.config
    }

    /// The timeouts and TCP options.
    #[must_use]
    pub fn get_options(&self) -> ConnectOptions {
        self.options
    }

    /// The runtime.
    #[must_use]
    pub fn get_runtime(&self) -> &R {
        &self.runtime
    }

    /// The runtime as sessions take it.
    fn session_runtime(&self) -> Arc<dyn Runtime> {
        Arc::new(self.runtime.clone())
    }

    /// Opens one WebSocket: over HTTP/2 on a connection of its own, or,
    /// with the fallback, over HTTP/1.1 ([`Stream::version`] tells which).
    /// For several WebSockets on one connection, see
    /// [`connect_h2`](Self::connect_h2).
    pub async fn connect(
        &self,
        request: impl IntoClientRequest,
    ) -> Result<(WebSocket, ClientResponse), H2Error> {
        let handshake = ws_session::build_request(request, &self.config)?;
        match self.dial(&handshake, self.fallback).await? {
            Dialed::H2(connection) => connection.open_handshake(handshake).await,
            Dialed::Http1(stream) => {
                let options = self.options.get_handshake();
                Ok(ws_session::client(
                    self.session_runtime(),
                    stream,
                    handshake,
                    self.config.clone(),
                    options,
                )
                .await?)
            }
        }
    }

    /// Opens an HTTP/2 connection to the server of `url` that takes
    /// WebSockets: [`H2Connection::open`] then opens any number of them
    /// on it. No fallback here: a server without extended CONNECT is
    /// [`H2Error::ExtendedConnectRefused`].
    pub async fn connect_h2(&self, url: impl IntoClientRequest) -> Result<H2Connection, H2Error> {
        let handshake = ws_session::build_request(url, &self.config)?;
        match self.dial(&handshake, false).await? {
            Dialed::H2(connection) => Ok(connection),
            Dialed::Http1(_) => Err(H2Error::ExtendedConnectRefused {
                authority: authority(&handshake),
            }),
        }
    }

    async fn dial(&self, handshake: &ClientHandshake, fallback: bool) -> Result<Dialed, H2Error> {
        let secure = handshake.scheme() == Scheme::Wss;
        if !secure && !self.prior_knowledge {
            if !fallback {
                return Err(H2Error::CleartextNeedsPriorKnowledge {
                    authority: authority(handshake),
                });
            }
            return Ok(Dialed::Http1(Stream::http1(self.tcp(handshake).await?)));
        }
        let attempt = if secure {
            // TLS state is large: keep it out of every caller's future.
            Box::pin(self.dial_tls(handshake, fallback)).await?
        } else {
            let tcp = self.tcp(handshake).await?;
            match self.h2_over(tcp, handshake).await {
                Ok(dialed) => dialed,
                // A server that does not speak h2c answers the preface
                // with an HTTP/1.1 error or hangs up.
                Err(H2Error::Http2 { .. }) if fallback => None,
                Err(other) => return Err(other),
            }
        };
        match attempt {
            Some(dialed) => Ok(dialed),
            None if fallback => self.http1_only(handshake).await,
            None => Err(H2Error::ExtendedConnectRefused {
                authority: authority(handshake),
            }),
        }
    }

    /// A fresh connection for the HTTP/1.1 upgrade (TLS with ALPN
    /// `http/1.1` only for `wss://`).
    async fn http1_only(&self, handshake: &ClientHandshake) -> Result<Dialed, H2Error> {
        let tcp = self.tcp(handshake).await?;
        if handshake.scheme() != Scheme::Wss {
            return Ok(Dialed::Http1(Stream::http1(tcp)));
        }
        #[cfg(feature = "rustls")]
        {
            let tls = self.tls(tcp, handshake, &[b"http/1.1"]).await?;
            Ok(Dialed::Http1(Stream::http1(tls)))
        }
        #[cfg(not(feature = "rustls"))]
        Err(tls_disabled(handshake))
    }

    /// TLS with ALPN `h2` and `http/1.1`: HTTP/2 when the server chose
    /// it; `Some(Http1)` on this stream when it chose HTTP/1.1 (or
    /// nothing) and the fallback is on, `NoH2` when it is off; `None` when
    /// HTTP/2 has no extended CONNECT.
    #[cfg(feature = "rustls")]
    async fn dial_tls(
        &self,
        handshake: &ClientHandshake,
        fallback: bool,
    ) -> Result<Option<Dialed>, H2Error> {
        let tcp = self.tcp(handshake).await?;
        // `http/1.1` is offered even without the fallback: a server that
        // speaks only HTTP/1.1 then chooses it and the error is `NoH2`
        // naming it, instead of a TLS alert (no common protocol).
        let tls = self.tls(tcp, handshake, &[b"h2", b"http/1.1"]).await?;
        let chosen = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
        if chosen.as_deref() == Some(b"h2") {
            return self.h2_over(tls, handshake).await;
        }
        if fallback {
            return Ok(Some(Dialed::Http1(Stream::http1(tls))));
        }
        Err(H2Error::NoH2 {
            authority: authority(handshake),
            alpn: chosen.map(|p| String::from_utf8_lossy(&p).into_owned()),
        })
    }

    #[cfg(not(feature = "rustls"))]
    #[allow(clippy::unused_async)]
    async fn dial_tls(
        &self,
        handshake: &ClientHandshake,
        _fallback: bool,
    ) -> Result<Option<Dialed>, H2Error> {
        Err(tls_disabled(handshake))
    }

    /// TLS over `tcp` with ALPN `alpn`, within the handshake timeout
    /// (ws-session's TLS step, over futures-io on every runtime).
    #[cfg(feature = "rustls")]
    async fn tls(
        &self,
        tcp: R::Tcp,
        handshake: &ClientHandshake,
        alpn: &[&[u8]],
    ) -> Result<futures_rustls::TlsStream<R::Tcp>, H2Error> {
        let base = self
            .tls
            .clone()
            .unwrap_or_else(ws_session::tls::default_client_config);
        let mut config = (*base).clone();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        let host = handshake.host();
        let connect = ws_session::tls::connect(Arc::new(config), host, tcp);
        let timeout = self.options.get_handshake().get_timeout();
        let tls = within_handshake(&self.runtime, timeout, connect)
            .await?
            .map_err(|source| ConnectError::Tls {
                host: host.to_owned(),
                port: handshake.port(),
                source,
            })?;
        Ok(tls)
    }

    /// HTTP/2 over `io`: the connection when it takes WebSockets, `None`
    /// when it does not.
    async fn h2_over<T>(
        &self,
        io: T,
        handshake: &ClientHandshake,
    ) -> Result<Option<Dialed>, H2Error>
    where
        T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let options = self.options.get_handshake();
        let origin = (handshake.scheme(), handshake.host(), handshake.port());
        let (connection, enabled) = within_handshake(
            &self.runtime,
            options.get_timeout(),
            H2Connection::handshake(
                io,
                self.session_runtime(),
                self.config.clone(),
                options,
                origin,
            ),
        )
        .await??;
        Ok(enabled.then_some(Dialed::H2(connection)))
    }

    /// The transport's stream within the connect timeout, with the TCP
    /// options set.
    async fn tcp(&self, handshake: &ClientHandshake) -> Result<R::Tcp, H2Error> {
        let host = handshake.host();
        let port = handshake.port();
        let timeout = self.options.get_connect_timeout();
        let open = self.transport.open(&self.runtime, host, port);
        let tcp = within(&self.runtime, timeout, open).await.ok_or_else(|| {
            ConnectError::ConnectTimeout {
                host: host.to_owned(),
                port,
                timeout: timeout.unwrap_or_default(),
            }
        })??;
        // A socket option the platform refuses is no reason to fail.
        let _ = R::configure_tcp(&tcp, &self.options.get_tcp());
        Ok(tcp)
    }
}

fn authority(handshake: &ClientHandshake) -> String {
    format!("{}:{}", handshake.host(), handshake.port())
}

#[cfg(not(feature = "rustls"))]
fn tls_disabled(handshake: &ClientHandshake) -> H2Error {
    ConnectError::TlsDisabled {
        host: handshake.host().to_owned(),
        port: handshake.port(),
    }
    .into()
}

impl<R: Net> H2Connector<R> {
    /// A client of `request` that reconnects (backoff with jitter, a hook
    /// on every new session, one event stream across sessions; see
    /// `ws_session::reconnect`), each session opened by
    /// [`connect`](Self::connect) on a connection of its own. Fails only
    /// for a request that is not one (a bad URL). Add the hook with
    /// `on_connect`, then `start()`.
    pub fn reconnecting(
        &self,
        request: impl IntoClientRequest,
        options: ReconnectOptions,
    ) -> Result<Reconnect<Stream>, HandshakeError> {
        let request = request.into_client_request()?;
        let connector = self.clone();
        let dial = move || -> DialFuture<'static, Stream> {
            let connector = connector.clone();
            let request = request.clone();
            Box::pin(async move { Ok(connector.connect(request).await?.0) })
        };
        Ok(Reconnect::new(self.session_runtime(), dial, options))
    }
}
