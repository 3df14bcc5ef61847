//! The client's way to a session: TCP (to the server, or to the proxy
//! chosen by `--proxy` or the variables, then the library's tunnel), TLS
//! for `wss://`, then the WebSocket upgrade ([`link::upgrade`]) over a
//! [`Tap`] that keeps the heads for `-v`. Each failure says which step
//! failed, which is what the exit status tells scripts.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use ws_tokio::http::Uri;
use ws_tokio::rustls::ClientConfig;

use ws_tokio::Compat;
use ws_tokio::ws_session::proxy::{
    Proxy, ProxyAddr, ProxyConfig, ProxyEnv, ProxyError, ReplyFault, tunnel,
};

use crate::cli::Exit;
use crate::link::{self, Link, Negotiated, Request, UpgradeFailure};
use crate::tap::{Heads, Io, Tap};

/// How long the TCP connection may take (Python `websockets` gives the
/// whole opening 10 s; a TCP connect that takes longer is lost).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the TLS and WebSocket handshakes may take, each.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The host name or address (IPv6 without brackets).
    pub host: String,
    /// The port (80 or 443 when the URL has none).
    pub port: u16,
    /// `wss://`.
    pub secure: bool,
}

impl Target {
    /// Reads a `ws://` or `wss://` URL.
    pub fn parse(url: &str) -> Result<Self, Failure> {
        let bad = || Failure::Url(url.to_owned());
        let uri: Uri = url.parse().map_err(|_| bad())?;
        let secure = match uri.scheme_str() {
            Some("ws") => false,
            Some("wss") => true,
            _ => return Err(bad()),
        };
        let host = uri.host().filter(|h| !h.is_empty()).ok_or_else(bad)?;
        Ok(Target {
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            port: uri.port_u16().unwrap_or(if secure { 443 } else { 80 }),
            secure,
        })
    }
}

/// Why there is no session.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// Not a `ws://` or `wss://` URL with a host.
    #[error("{0:?} is not a ws:// or wss:// URL with a host")]
    Url(String),
    /// The TCP connection failed (name resolution included).
    #[error("could not connect to {host}:{port}: {source}")]
    Connect {
        /// The host.
        host: String,
        /// The port.
        port: u16,
        /// What the system said.
        source: io::Error,
    },
    /// The TLS handshake failed.
    #[error("TLS with {host}:{port} failed: {source} (--ca-file FILE trusts your own CA)")]
    Tls {
        /// The host.
        host: String,
        /// The port.
        port: u16,
        /// What rustls said.
        source: io::Error,
    },
    /// A step did not finish in time.
    #[error("{step} with {host}:{port} did not finish within {after:?}")]
    Timeout {
        /// Which step.
        step: &'static str,
        /// The host.
        host: String,
        /// The port.
        port: u16,
        /// The time it had.
        after: Duration,
    },
    /// No TCP connection to the proxy.
    #[error("could not reach proxy {proxy}: {source}")]
    ProxyUnreachable {
        /// The proxy (never its credentials).
        proxy: ProxyAddr,
        /// What the system said.
        source: io::Error,
    },
    /// The proxy (or the proxy setting) failed: it is named, with what it
    /// answered.
    #[error("{0}")]
    Proxy(#[from] ProxyError),
    /// The WebSocket upgrade failed.
    #[error("{0}")]
    Upgrade(#[from] UpgradeFailure),
}

impl Failure {
    /// The exit status for this failure.
    #[must_use]
    pub fn exit(&self) -> Exit {
        match self {
            Failure::Url(_) | Failure::Upgrade(UpgradeFailure::Request(_)) => Exit::Usage,
            Failure::Connect { .. }
            | Failure::Tls { .. }
            | Failure::ProxyUnreachable { .. }
            | Failure::Proxy(_) => Exit::Connect,
            Failure::Timeout { .. } | Failure::Upgrade(UpgradeFailure::Timeout(_)) => Exit::Timeout,
            Failure::Upgrade(UpgradeFailure::Refused(_)) => Exit::Refused,
        }
    }
}

/// Runs `step` within `limit`, or fails naming it.
async fn within<T>(
    target: &Target,
    step: &'static str,
    limit: Duration,
    future: impl Future<Output = Result<T, Failure>>,
) -> Result<T, Failure> {
    tokio::time::timeout(limit, future)
        .await
        .unwrap_or_else(|_| {
            Err(Failure::Timeout {
                step,
                host: target.host.clone(),
                port: target.port,
                after: limit,
            })
        })
}

/// Connects to `request.url` (through the proxy `proxy` selects, if
/// any) and upgrades. With `heads`, the request and response heads are
/// recorded there (also when the upgrade fails).
pub async fn connect(
    request: Request,
    tls: Arc<ClientConfig>,
    heads: Option<Heads>,
    proxy: &ProxyConfig,
) -> Result<(Link, Negotiated), Failure> {
    let target = Target::parse(&request.url)?;
    let (host, port) = (target.host.clone(), target.port);
    let env = if proxy.uses_env() {
        ProxyEnv::from_process()
    } else {
        ProxyEnv::default()
    };
    let proxy = proxy
        .select(&env, target.secure, &host, port)
        .map_err(|e| Failure::Proxy(e.into()))?;
    let stream: Io = within(&target, "connecting", CONNECT_TIMEOUT, async {
        match &proxy {
            None => Ok(Box::new(tcp(&host, port).await?) as Io),
            Some(proxy) => through(proxy, &host, port, tls.clone()).await,
        }
    })
    .await?;
    let io: Io = if target.secure {
        Box::new(
            within(&target, "the TLS handshake", HANDSHAKE_TIMEOUT, async {
                tls_over(stream, &host, port, tls).await
            })
            .await?,
        )
    } else {
        stream
    };
    Ok(link::upgrade(Tap::new(io, heads), request).await?)
}

/// A TCP connection to `host:port`, `TCP_NODELAY` set.
async fn tcp(host: &str, port: u16) -> Result<TcpStream, Failure> {
    let tcp = TcpStream::connect((host, port))
        .await
        .map_err(|source| Failure::Connect {
            host: host.to_owned(),
            port,
            source,
        })?;
    let _ = tcp.set_nodelay(true);
    Ok(tcp)
}

/// TLS over `stream`, the certificate checked against `host`.
async fn tls_over(
    stream: Io,
    host: &str,
    port: u16,
    tls: Arc<ClientConfig>,
) -> Result<tokio_rustls::client::TlsStream<Io>, Failure> {
    let tls_failed = |source| Failure::Tls {
        host: host.to_owned(),
        port,
        source,
    };
    let name = ServerName::try_from(host.to_owned())
        .map_err(|e| tls_failed(io::Error::new(io::ErrorKind::InvalidInput, e)))?;
    tokio_rustls::TlsConnector::from(tls)
        .connect(name, stream)
        .await
        .map_err(tls_failed)
}

/// A tunnel to `host:port` through `proxy` (TLS to an `https://` one
/// first), by the library's `CONNECT` and SOCKS5 client.
async fn through(
    proxy: &Proxy,
    host: &str,
    port: u16,
    tls: Arc<ClientConfig>,
) -> Result<Io, Failure> {
    let tcp = tcp(proxy.host(), proxy.port()).await.map_err(|e| match e {
        Failure::Connect { source, .. } => Failure::ProxyUnreachable {
            proxy: proxy.addr().clone(),
            source,
        },
        other => other,
    })?;
    let mut stream: Io = Box::new(tcp);
    if proxy.scheme().is_tls() {
        stream = Box::new(tls_over(stream, proxy.host(), proxy.port(), tls).await?);
    }
    let resolve = |name: String, port| async move {
        Ok(tokio::net::lookup_host((name.as_str(), port))
            .await?
            .collect())
    };
    let (stream, early) = tunnel(Compat::new(stream), proxy, host, port, resolve)
        .await?
        .into_parts();
    // Neither a WebSocket nor a TLS server speaks first.
    if !early.is_empty() {
        return Err(Failure::Proxy(ProxyError::Malformed {
            proxy: proxy.addr().clone(),
            fault: ReplyFault::EarlyData(early.len()),
        }));
    }
    Ok(stream.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_come_from_urls() {
        assert_eq!(
            Target::parse("wss://example.com/x?y").unwrap(),
            Target {
                host: "example.com".into(),
                port: 443,
                secure: true
            }
        );
        assert_eq!(
            Target::parse("ws://[::1]:9002/").unwrap(),
            Target {
                host: "::1".into(),
                port: 9002,
                secure: false
            }
        );
        assert!(matches!(Target::parse("http://h/"), Err(Failure::Url(_))));
        assert_eq!(Target::parse("ws:///x").unwrap_err().exit(), Exit::Usage);
    }
}
