//! How a [`Connector`] reaches the server: redirects of the upgrade
//! followed (when asked to), the proxy chosen for each URL, the stream
//! opened (the addresses raced, or a tunnel through the proxy), TLS to the
//! origin inside whatever was opened, and the handshake.
//!
//! ```text
//!  connect_following ─► connect_once(url) ─► open ─┬─ no proxy: dial (RFC 8305)               ─► Opened::Tcp
//!        ▲                                          └─ proxy: dial ─► [TLS to it] ─► tunnel     ─► Opened::{Tcp, TlsToProxy}
//!        │                                      ─► (wss) TLS to the origin ─► handshake ─► Session
//!        └── 3xx + Location (Redirects::follow) ◄──┘
//! ```

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

#[cfg(feature = "rustls")]
use futures_io::{AsyncRead, AsyncWrite};
use http::Request;
use wsproto_core::handshake::{ClientHandshake, Scheme};

use crate::connector::Connector;
use crate::error::ConnectError;
use crate::handshake::ClientResponse;
use crate::net::Net;
use crate::proxy::{
    DialOptions, Proxy, ProxyEnv, ProxyError, Redirects, ReplyFault, Tunnel, dial, is_redirect,
    tunnel,
};
use crate::request::IntoClientRequest;
use crate::runtime::{Runtime, timeout_at};
use crate::session::Session;
use crate::stream::MaybeTls;

/// The stream to the server before TLS to the origin.
#[allow(clippy::large_enum_variant)] // one per connect, moved at once into the session's box
enum Opened<T> {
    /// TCP to the server, or a tunnel through a plain proxy (whose bytes,
    /// after the proxy's answer, are the server's).
    Tcp(T),
    /// A tunnel through an `https://` proxy.
    #[cfg(feature = "rustls")]
    TlsToProxy(futures_rustls::TlsStream<T>),
}

/// A copy of the parts of a request that a redirect keeps.
fn copy_request(request: &Request<()>) -> Request<()> {
    let mut copy = Request::new(());
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    copy
}

impl<R: Net> Connector<R> {
    /// [`connect`](Self::connect) without the trace: one attempt, or a
    /// chain of them when redirects are followed.
    pub(crate) async fn connect_following(
        &self,
        request: impl IntoClientRequest,
    ) -> Result<(Session<MaybeTls<R::Tcp>>, ClientResponse), ConnectError> {
        let mut request = request
            .into_client_request()
            .map_err(ConnectError::Handshake)?;
        let mut chain = Redirects::new(request.uri().clone(), self.max_redirects);
        loop {
            let handshake = crate::handshake::build_request(copy_request(&request), &self.config)?;
            let error = match Box::pin(self.connect_once(handshake)).await {
                Ok((session, mut response)) => {
                    response.set_url(request.uri().clone(), chain.chain());
                    return Ok((session, response));
                }
                Err(error) => error,
            };
            let Some(refusal) = error.rejection() else {
                return Err(error);
            };
            if self.max_redirects == 0 || !is_redirect(refusal.status()) {
                return Err(error);
            }
            let hop = chain.follow(refusal.status(), refusal.headers())?;
            hop.strip_credentials(request.headers_mut());
            if hop.cross_origin {
                request.headers_mut().remove(http::header::HOST);
            }
            crate::trace::trace_debug!(to = %hop.url, "following a redirect of the upgrade");
            *request.uri_mut() = hop.url;
        }
    }

    /// Opens the stream for `handshake`'s URL, runs TLS for `wss://` and
    /// the handshake.
    async fn connect_once(
        &self,
        handshake: ClientHandshake,
    ) -> Result<(Session<MaybeTls<R::Tcp>>, ClientResponse), ConnectError> {
        let host = handshake
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = handshake.port();
        let secure = handshake.scheme() == Scheme::Wss;
        crate::trace::trace_debug!(host = %host, port, scheme = ?handshake.scheme(), "WebSocket connecting");
        if secure && !cfg!(feature = "rustls") {
            return Err(ConnectError::TlsDisabled { host, port });
        }
        let runtime: &R = &self.runtime;
        let opened = self.open(&host, port, secure).await?;
        let started = runtime.now();
        #[cfg(feature = "rustls")]
        let deadline = self.handshake.deadline(started);
        let stream = match opened {
            #[cfg(feature = "rustls")]
            Opened::Tcp(tcp) if secure => {
                MaybeTls::Tls(Box::new(self.origin_tls(tcp, &host, port, deadline).await?))
            }
            #[cfg(not(feature = "rustls"))]
            Opened::Tcp(_) if secure => return Err(ConnectError::TlsDisabled { host, port }),
            Opened::Tcp(tcp) => MaybeTls::Plain(tcp),
            #[cfg(feature = "rustls")]
            Opened::TlsToProxy(tls) if secure => {
                let inner = self.origin_tls(tls, &host, port, deadline).await?;
                MaybeTls::HttpsProxy(Box::new(crate::stream::HttpsProxied::Tls(inner)))
            }
            #[cfg(feature = "rustls")]
            Opened::TlsToProxy(tls) => {
                MaybeTls::HttpsProxy(Box::new(crate::stream::HttpsProxied::Plain(tls)))
            }
        };
        let remaining = self
            .handshake
            .after(runtime.now().saturating_duration_since(started));
        let runtime: Arc<dyn Runtime> = self.runtime.clone();
        crate::handshake::client(runtime, stream, handshake, self.config.clone(), remaining)
            .await
            .map_err(|e| ConnectError::Handshake(self.handshake.whole_timeout(e)))
    }

    /// Opens the stream to `host:port` within the connect timeout: the
    /// custom transport, or a tunnel through the proxy chosen for the URL,
    /// or a direct connection (every address raced).
    async fn open(
        &self,
        host: &str,
        port: u16,
        secure: bool,
    ) -> Result<Opened<R::Tcp>, ConnectError> {
        let runtime: &R = &self.runtime;
        let deadline = self.connect_timeout.map(|t| runtime.now() + t);
        let timed_out = || ConnectError::ConnectTimeout {
            host: host.to_owned(),
            port,
            timeout: self.connect_timeout.unwrap_or_default(),
        };
        if let Some(transport) = &self.transport {
            let tcp = timeout_at(runtime, deadline, transport.open(runtime, host, port))
                .await
                .ok_or_else(timed_out)??;
            // A socket option the platform refuses is no reason to fail.
            let _ = R::configure_tcp(&tcp, &self.tcp);
            return Ok(Opened::Tcp(tcp));
        }
        let proxy_error = |source| ConnectError::Proxy {
            host: host.to_owned(),
            port,
            source,
        };
        let env = if self.proxy.uses_env() {
            ProxyEnv::from_process()
        } else {
            ProxyEnv::default()
        };
        let proxy = self
            .proxy
            .select(&env, secure, host, port)
            .map_err(|e| proxy_error(ProxyError::Env(e)))?;
        // The dial reports the addresses it tried when the connect timeout
        // passes; the steps after it are bounded by the same deadline.
        let dial = self.dial.timeout(self.connect_timeout);
        let Some(proxy) = proxy else {
            let (tcp, _) = dial_with(self, host, port, &dial).await?;
            return Ok(Opened::Tcp(tcp));
        };
        crate::trace::trace_debug!(proxy = %proxy, "through a proxy");
        let (tcp, _) = dial_with(self, proxy.host(), proxy.port(), &dial)
            .await
            .map_err(|e| match e {
                ConnectError::Dial(source) => proxy_error(ProxyError::Connect {
                    proxy: proxy.addr().clone(),
                    source,
                }),
                other => other,
            })?;
        timeout_at(runtime, deadline, self.tunnel(tcp, &proxy, host, port))
            .await
            .ok_or_else(timed_out)?
            .map_err(proxy_error)
    }

    /// TLS to an `https://` proxy, then its tunnel to `host:port`.
    async fn tunnel(
        &self,
        tcp: R::Tcp,
        proxy: &Proxy,
        host: &str,
        port: u16,
    ) -> Result<Opened<R::Tcp>, ProxyError> {
        let resolve = |name: String, port| self.lookup(name, port);
        if !proxy.scheme().is_tls() {
            let tunnel = tunnel(tcp, proxy, host, port, resolve).await?;
            return Ok(Opened::Tcp(nothing_early(proxy, tunnel)?));
        }
        #[cfg(feature = "rustls")]
        {
            let tls = crate::tls::connect(self.client_tls(), proxy.host(), tcp)
                .await
                .map_err(|source| ProxyError::Tls {
                    proxy: proxy.addr().clone(),
                    source,
                })?;
            let tunnel = tunnel(tls, proxy, host, port, resolve).await?;
            Ok(Opened::TlsToProxy(nothing_early(proxy, tunnel)?))
        }
        #[cfg(not(feature = "rustls"))]
        Err(ProxyError::Tls {
            proxy: proxy.addr().clone(),
            source: io::Error::new(
                io::ErrorKind::Unsupported,
                "TLS to an https:// proxy needs the `rustls` feature",
            ),
        })
    }

    /// The addresses of `host`: the ones given with
    /// [`resolve`](Self::resolve), or the runtime's resolver's.
    async fn lookup(&self, host: String, port: u16) -> io::Result<Vec<SocketAddr>> {
        if let Some(ips) = self.resolve.get(&host.to_ascii_lowercase()) {
            return Ok(ips.iter().map(|ip| SocketAddr::new(*ip, port)).collect());
        }
        self.runtime.resolve(&host, port).await
    }

    /// The TLS config for `wss://` and `https://` proxies.
    #[cfg(feature = "rustls")]
    fn client_tls(&self) -> Arc<rustls::ClientConfig> {
        self.tls
            .clone()
            .unwrap_or_else(crate::tls::default_client_config)
    }

    /// TLS to the origin over `stream`, within the handshake deadline.
    #[cfg(feature = "rustls")]
    async fn origin_tls<S>(
        &self,
        stream: S,
        host: &str,
        port: u16,
        deadline: Option<std::time::Instant>,
    ) -> Result<futures_rustls::TlsStream<S>, ConnectError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        timeout_at(
            &*self.runtime,
            deadline,
            crate::tls::connect(self.client_tls(), host, stream),
        )
        .await
        .ok_or(self.handshake.timed_out())?
        .map_err(|source| ConnectError::Tls {
            host: host.to_owned(),
            port,
            source,
        })
    }
}

/// Races TCP connections to the addresses of `host:port` (RFC 8305), the
/// connector's TCP options set on the one that wins.
async fn dial_with<R: Net>(
    connector: &Connector<R>,
    host: &str,
    port: u16,
    options: &DialOptions,
) -> Result<(R::Tcp, SocketAddr), ConnectError> {
    let runtime: &R = &connector.runtime;
    let tcp_options = connector.tcp;
    dial(
        runtime,
        host,
        port,
        options,
        |name, port| connector.lookup(name, port),
        |addr| async move {
            let tcp = runtime.connect_addr(addr).await?;
            // A socket option the platform refuses is no reason to fail.
            let _ = R::configure_tcp(&tcp, &tcp_options);
            Ok(tcp)
        },
    )
    .await
    .map_err(ConnectError::Dial)
}

/// The stream of an open tunnel. Neither a WebSocket server nor a TLS one
/// speaks first, so bytes behind the proxy's answer are the proxy's fault.
fn nothing_early<S>(proxy: &Proxy, tunnel: Tunnel<S>) -> Result<S, ProxyError> {
    let (stream, early) = tunnel.into_parts();
    if early.is_empty() {
        Ok(stream)
    } else {
        Err(ProxyError::Malformed {
            proxy: proxy.addr().clone(),
            fault: ReplyFault::EarlyData(early.len()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_behind_the_proxy_answer_are_a_typed_fault() {
        let proxy = Proxy::parse("http://ann:secret@proxy.test:3128").unwrap();
        assert!(nothing_early(&proxy, Tunnel::new((), Vec::new())).is_ok());
        let error = nothing_early(&proxy, Tunnel::new((), b"HTTP".to_vec())).unwrap_err();
        assert!(
            matches!(
                error,
                ProxyError::Malformed {
                    fault: ReplyFault::EarlyData(4),
                    ..
                }
            ),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(
            message.contains("http://proxy.test:3128") && !message.contains("secret"),
            "{message}"
        );
    }

    #[test]
    fn the_request_followed_keeps_everything_but_the_body() {
        let mut request = Request::new(());
        *request.uri_mut() = "ws://a.test/chat?room=1".parse().unwrap();
        *request.version_mut() = http::Version::HTTP_11;
        request
            .headers_mut()
            .insert(http::header::AUTHORIZATION, "Bearer x".parse().unwrap());
        let copy = copy_request(&request);
        assert_eq!(copy.method(), request.method());
        assert_eq!(copy.uri(), request.uri());
        assert_eq!(copy.version(), request.version());
        assert_eq!(copy.headers(), request.headers());
    }
}
