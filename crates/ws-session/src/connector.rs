//! The client side, once for every runtime: [`Connector`] picks a proxy
//! (explicit, from the environment, or none), opens the stream to the
//! server (every resolved address raced, RFC 8305; or a tunnel through the
//! proxy), sets the TCP options, runs TLS for `wss://` and then the
//! WebSocket handshake, within the connect and handshake timeouts, and
//! follows redirects of the upgrade when asked to (`reach.rs`).
//!
//! ```text
//!  connect(request) ─► ProxyConfig::select ─► dial (RFC 8305) ─► [TLS to an https:// proxy] ─► [CONNECT / SOCKS5]
//!                      └────────────────────────── connect timeout ───────────────────────────────────────────┘
//!                  ─► (wss) TLS to the origin ─► handshake::client ─► Session   (a 3xx with Location: again)
//!                     └──────────── handshake timeout ──────────┘
//! ```

use std::sync::Arc;
use std::time::Duration;

use std::collections::HashMap;
use std::net::IpAddr;

use futures_io::{AsyncRead, AsyncWrite};
use wsproto_core::Config;

use crate::error::{ConnectError, HandshakeError};
use crate::handshake::{ClientResponse, HandshakeOptions};
use crate::net::{Net, TcpOptions, Transport};
use crate::proxy::{DialOptions, Proxy, ProxyConfig};
use crate::request::IntoClientRequest;
use crate::runtime::Runtime;
use crate::session::Session;
use crate::stream::MaybeTls;

/// How long opening the stream to the server may take by default (the
/// [`Transport`]'s whole work: name resolution, TCP connect, a proxy's
/// tunnel): a host that does not answer in 30 s is down for a person
/// waiting on it.
const DEFAULT_CONNECT_TIMEOUT: Option<Duration> = Some(Duration::from_secs(30));

/// Timeouts and socket options of a client connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectOptions {
    connect_timeout: Option<Duration>,
    handshake: HandshakeOptions,
    tcp: TcpOptions,
}

impl Default for ConnectOptions {
    /// 30 s to connect, the [`HandshakeOptions`] and [`TcpOptions`]
    /// defaults.
    fn default() -> Self {
        ConnectOptions {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            handshake: HandshakeOptions::default(),
            tcp: TcpOptions::default(),
        }
    }
}

impl ConnectOptions {
    /// The defaults.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How long opening the stream may take (`None`: no limit).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The TLS and WebSocket handshakes.
    #[must_use]
    pub fn handshake(mut self, handshake: HandshakeOptions) -> Self {
        self.handshake = handshake;
        self
    }

    /// The options set on the TCP socket.
    #[must_use]
    pub fn tcp(mut self, tcp: TcpOptions) -> Self {
        self.tcp = tcp;
        self
    }

    /// The connect timeout.
    #[must_use]
    pub fn get_connect_timeout(&self) -> Option<Duration> {
        self.connect_timeout
    }

    /// The handshake options.
    #[must_use]
    pub fn get_handshake(&self) -> HandshakeOptions {
        self.handshake
    }

    /// The TCP options.
    #[must_use]
    pub fn get_tcp(&self) -> TcpOptions {
        self.tcp
    }
}

/// A client: the session [`Config`], TLS, timeouts, TCP options, the
/// proxy, how addresses are raced, redirects, for runtime `R`. Cloning is
/// cheap (the config and TLS config are shared), and connections made by
/// one connector and its clones share one TLS session cache.
///
/// Each adapter wraps it (`ws_tokio::Connector`, `ws_async_std::Connector`).
pub struct Connector<R: Net> {
    pub(crate) runtime: Arc<R>,
    pub(crate) config: Arc<Config>,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) handshake: HandshakeOptions,
    pub(crate) tcp: TcpOptions,
    /// A transport that replaces the built-in dial and proxy step.
    pub(crate) transport: Option<Arc<dyn Transport<R>>>,
    pub(crate) proxy: Arc<ProxyConfig>,
    pub(crate) dial: DialOptions,
    pub(crate) max_redirects: usize,
    /// Host names (lowercase) answered without the resolver.
    pub(crate) resolve: Arc<HashMap<String, Vec<IpAddr>>>,
    #[cfg(feature = "rustls")]
    pub(crate) tls: Option<Arc<rustls::ClientConfig>>,
}

impl<R: Net> Clone for Connector<R> {
    fn clone(&self) -> Self {
        Connector {
            runtime: self.runtime.clone(),
            config: self.config.clone(),
            connect_timeout: self.connect_timeout,
            handshake: self.handshake,
            tcp: self.tcp,
            transport: self.transport.clone(),
            proxy: self.proxy.clone(),
            dial: self.dial,
            max_redirects: self.max_redirects,
            resolve: self.resolve.clone(),
            #[cfg(feature = "rustls")]
            tls: self.tls.clone(),
        }
    }
}

impl<R: Net> std::fmt::Debug for Connector<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("runtime", &self.runtime)
            .field("options", &self.get_options())
            .field("proxy", &self.proxy)
            .field("dial", &self.dial)
            .field("max_redirects", &self.max_redirects)
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

impl<R: Net + Default> Default for Connector<R> {
    fn default() -> Self {
        Self::with_runtime(R::default())
    }
}

impl<R: Net> Connector<R> {
    /// The defaults ([`Config::default`], [`ConnectOptions::default`], the
    /// proxy environment variables honoured, every address raced with a
    /// 250 ms stagger, no redirects followed, webpki roots for `wss://`)
    /// on `runtime`.
    #[must_use]
    pub fn with_runtime(runtime: R) -> Self {
        let options = ConnectOptions::default();
        Connector {
            runtime: Arc::new(runtime),
            config: Arc::default(),
            connect_timeout: options.connect_timeout,
            handshake: options.handshake,
            tcp: options.tcp,
            transport: None,
            proxy: Arc::default(),
            dial: DialOptions::default(),
            max_redirects: 0,
            resolve: Arc::default(),
            #[cfg(feature = "rustls")]
            tls: None,
        }
    }

    crate::builder::shared_builder_methods!(rustls::ClientConfig);

    /// Timeouts and TCP options at once.
    #[must_use]
    pub fn options(mut self, options: ConnectOptions) -> Self {
        self.connect_timeout = options.connect_timeout;
        self.handshake = options.handshake;
        self.tcp = options.tcp;
        self
    }

    /// How long opening the stream may take (`None`: no limit): name
    /// resolution, every address tried, and a proxy's tunnel.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Which proxy to use: [`ProxyConfig::FromEnv`] by default (the
    /// `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` variables,
    /// like curl), [`ProxyConfig::Direct`] for none,
    /// [`ProxyConfig::explicit`] for one that wins over the environment.
    #[must_use]
    pub fn proxy(mut self, proxy: ProxyConfig) -> Self {
        self.proxy = Arc::new(proxy);
        self
    }

    /// Always this proxy (`http://`, `https://`, `socks5://`,
    /// `socks5h://`, credentials in the userinfo): shorthand for
    /// `proxy(ProxyConfig::explicit(proxy))`.
    #[must_use]
    pub fn proxy_url(self, proxy: Proxy) -> Self {
        self.proxy(ProxyConfig::explicit(proxy))
    }

    /// How the addresses of a name are raced (RFC 8305): the stagger
    /// between attempts (250 ms) and a per-attempt timeout (none: the
    /// connect timeout bounds them all). The `timeout` of `options` is
    /// ignored: the connect timeout is the overall one.
    #[must_use]
    pub fn dial_options(mut self, options: DialOptions) -> Self {
        self.dial = options;
        self
    }

    /// Follows up to `max` redirects of the upgrade request (301, 302,
    /// 303, 307, 308 with a `Location`; `http`/`https` mapped to
    /// `ws`/`wss`, never `wss` to `ws`; `Authorization`, `Cookie` and a
    /// set `Host` dropped on a hop to another origin). 0, the default,
    /// follows none: a redirect is then a refusal
    /// ([`ConnectError::rejection`]).
    #[must_use]
    pub fn redirects(mut self, max: usize) -> Self {
        self.max_redirects = max;
        self
    }

    /// Answers `host` with `addrs` instead of asking the resolver (curl's
    /// `--resolve`): for a name not in DNS yet, pinning a server, or a
    /// test. The addresses are raced like resolved ones.
    #[must_use]
    pub fn resolve(mut self, host: &str, addrs: impl IntoIterator<Item = IpAddr>) -> Self {
        Arc::make_mut(&mut self.resolve)
            .insert(host.to_ascii_lowercase(), addrs.into_iter().collect());
        self
    }

    /// Replaces the built-in way of opening the stream (the proxy
    /// selection and the address race) with `transport`; TLS for `wss://`
    /// and the handshake still run over what it opens.
    #[must_use]
    pub fn transport(mut self, transport: impl Transport<R>) -> Self {
        self.transport = Some(Arc::new(transport));
        self
    }

    /// The timeouts and TCP options.
    #[must_use]
    pub fn get_options(&self) -> ConnectOptions {
        ConnectOptions {
            connect_timeout: self.connect_timeout,
            handshake: self.handshake,
            tcp: self.tcp,
        }
    }

    /// The proxy setting.
    #[must_use]
    pub fn get_proxy(&self) -> &ProxyConfig {
        &self.proxy
    }

    /// Connects to the server of `request` (a `ws://` or `wss://` URL, an
    /// `http::Request`, a [`ClientRequestBuilder`](crate::ClientRequestBuilder)):
    /// opens the stream (through the proxy, if one applies), runs TLS for
    /// `wss://`, then the upgrade, following redirects if configured.
    pub async fn connect(
        &self,
        request: impl IntoClientRequest,
    ) -> Result<(Session<MaybeTls<R::Tcp>>, ClientResponse), ConnectError> {
        let result = self.connect_following(request).await;
        if let Err(error) = &result {
            crate::trace::connect_failed(error);
        }
        result
    }

    /// Runs the WebSocket handshake over a stream the caller already has
    /// (a Unix socket, an in-memory pipe, a TLS stream of its own, an
    /// upgraded HTTP connection): no connect, no TLS, no socket options;
    /// the URL in `request` gives the `Host` and the path.
    pub async fn connect_over<S>(
        &self,
        stream: S,
        request: impl IntoClientRequest,
    ) -> Result<(Session<MaybeTls<S>>, ClientResponse), HandshakeError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let handshake = crate::handshake::build_request(request, &self.config)?;
        let runtime: Arc<dyn Runtime> = self.runtime.clone();
        crate::handshake::client(
            runtime,
            MaybeTls::Plain(stream),
            handshake,
            self.config.clone(),
            self.handshake,
        )
        .await
    }
}
