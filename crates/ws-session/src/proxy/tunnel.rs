//! [`tunnel`]: asks a proxy, over a stream already connected to it, for a
//! tunnel to the target; [`Tunnel`] is that stream afterwards, with any
//! bytes that arrived behind the proxy's answer served first.

use std::future::Future;
use std::io::{self, IoSlice};
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use futures_util::{AsyncReadExt as _, AsyncWriteExt as _};
use http::StatusCode;

use super::error::{AuthAnswer, ClosedAt, ProxyError, ReplyFault};
use super::http_connect::{connect_request, parse_reply};
use super::socks5::{Socks5Client, SocksError, SocksSetupError, SocksStage, SocksTarget};
use super::url::{CredentialsError, HostPort, Proxy, ProxyScheme, is_host};

/// Asks `proxy` for a tunnel to `host:port` over `stream`, a connection to
/// the proxy (TLS already established for an `https://` proxy). `host` is
/// a name or an IP address (IPv6 with or without brackets).
///
/// - `http://`, `https://`: `CONNECT host:port`, with `Proxy-Authorization:
///   Basic` when the proxy has credentials; a 2xx answer opens the tunnel.
/// - `socks5://`: `resolve(host, port)` gives the address sent (the first
///   one); `socks5h://` sends the name. An IP address is sent as it is by
///   both, without calling `resolve`.
///
/// No timeout is applied here: the caller bounds the whole call (the
/// connect flow runs it within the handshake timeout).
///
/// ```
/// use futures_util::{AsyncReadExt, AsyncWriteExt};
/// use ws_session::proxy::{Proxy, ProxyError, tunnel};
///
/// # futures_executor::block_on(async {
/// let (ours, mut proxy_side) = ws_session::duplex(4096);
/// let proxy = Proxy::parse("http://proxy.invalid:3128")?;
/// let no_resolver = |_: String, _: u16| async { Ok(Vec::new()) };
/// let (opened, ()) = futures_util::join!(
///     tunnel(ours, &proxy, "db.internal", 5432, no_resolver),
///     async {
///         let mut request = [0; 256];
///         let n = proxy_side.read(&mut request).await.unwrap();
///         assert!(request[..n].starts_with(b"CONNECT db.internal:5432 HTTP/1.1\r\n"));
///         proxy_side.write_all(b"HTTP/1.1 403 Forbidden\r\n\r\n").await.unwrap();
///     },
/// );
/// let Err(error @ ProxyError::Refused { .. }) = opened else { panic!() };
/// assert_eq!(
///     error.to_string(),
///     "proxy http://proxy.invalid:3128 refused CONNECT db.internal:5432: \"HTTP/1.1 403 Forbidden\""
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn tunnel<S, R, RF>(
    stream: S,
    proxy: &Proxy,
    host: &str,
    port: u16,
    resolve: R,
) -> Result<Tunnel<S>, ProxyError>
where
    S: AsyncRead + AsyncWrite + Unpin,
    R: FnOnce(String, u16) -> RF,
    RF: Future<Output = io::Result<Vec<SocketAddr>>>,
{
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if !is_host(host) {
        return Err(ProxyError::InvalidTarget {
            proxy: proxy.addr().clone(),
            host: host.to_owned(),
        });
    }
    if !proxy.scheme().is_socks() {
        return http_connect(stream, proxy, host, port).await;
    }
    let mut shown = HostPort(host, port).to_string();
    let target = match host.parse::<IpAddr>() {
        Ok(ip) => SocksTarget::Addr(SocketAddr::new(ip, port)),
        Err(_) if proxy.scheme() == ProxyScheme::Socks5h => {
            SocksTarget::Name(host.to_owned(), port)
        }
        Err(_) => {
            let resolved = resolve(host.to_owned(), port).await.and_then(|addrs| {
                addrs.into_iter().next().ok_or_else(|| {
                    io::Error::new(io::ErrorKind::NotFound, "the name resolved to no addresses")
                })
            });
            let resolved = resolved.map_err(|source| ProxyError::Resolve {
                proxy: proxy.addr().clone(),
                host: host.to_owned(),
                source,
            })?;
            shown = format!("{shown} ({resolved})");
            SocksTarget::Addr(resolved)
        }
    };
    socks5(stream, proxy, &target, &shown).await
}

async fn http_connect<S>(
    mut stream: S,
    proxy: &Proxy,
    host: &str,
    port: u16,
) -> Result<Tunnel<S>, ProxyError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let addr = || proxy.addr().clone();
    let io = |source| ProxyError::Io {
        proxy: addr(),
        source,
    };
    if proxy
        .credentials()
        .is_some_and(|c| c.username().contains(':'))
    {
        return Err(ProxyError::Credentials {
            proxy: addr(),
            reason: CredentialsError::ColonInUsername,
        });
    }
    let target = HostPort(host, port).to_string();
    stream
        .write_all(&connect_request(host, port, proxy.credentials()))
        .await
        .map_err(io)?;
    stream.flush().await.map_err(io)?;
    let mut received = Vec::new();
    let mut chunk = [0; 1024];
    loop {
        let n = stream.read(&mut chunk).await.map_err(io)?;
        if n == 0 {
            return Err(ProxyError::Closed {
                proxy: addr(),
                stage: ClosedAt::ConnectReply { target },
            });
        }
        received.extend_from_slice(&chunk[..n]);
        let malformed = |e| ProxyError::Malformed {
            proxy: addr(),
            fault: ReplyFault::Http(e),
        };
        while let Some((reply, len)) = parse_reply(&received).map_err(malformed)? {
            received.drain(..len);
            // Interim answers (100 Continue, ...) may precede the final one.
            if !reply.status.is_informational() || reply.status == StatusCode::SWITCHING_PROTOCOLS {
                verdict(proxy, target, reply)?;
                return Ok(Tunnel::new(stream, received));
            }
        }
    }
}

/// The SOCKS5 exchange, reading no more than each step needs. `shown`
/// names the target in errors.
async fn socks5<S>(
    mut stream: S,
    proxy: &Proxy,
    target: &SocksTarget,
    shown: &str,
) -> Result<Tunnel<S>, ProxyError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let io = |source| ProxyError::Io {
        proxy: proxy.addr().clone(),
        source,
    };
    let mut client = Socks5Client::new(target, proxy.credentials()).map_err(|e| match e {
        SocksSetupError::Credentials(reason) => ProxyError::Credentials {
            proxy: proxy.addr().clone(),
            reason,
        },
        SocksSetupError::NameLength(_) => ProxyError::InvalidTarget {
            proxy: proxy.addr().clone(),
            host: match target {
                SocksTarget::Name(name, _) => name.clone(),
                SocksTarget::Addr(addr) => addr.ip().to_string(),
            },
        },
    })?;
    let mut buf = [0; 262];
    loop {
        if let Some(bytes) = client.poll_transmit() {
            stream.write_all(&bytes).await.map_err(io)?;
            stream.flush().await.map_err(io)?;
        }
        if client.is_established() {
            return Ok(Tunnel::new(stream, Vec::new()));
        }
        let want = client.wants().min(buf.len());
        let n = stream.read(&mut buf[..want]).await.map_err(io)?;
        if n == 0 {
            return Err(socks_error(proxy, shown, client.handle_eof()));
        }
        client
            .handle_data(&buf[..n])
            .map_err(|e| socks_error(proxy, shown, e))?;
    }
}

/// The [`ProxyError`] for what went wrong in a SOCKS5 exchange.
fn socks_error(proxy: &Proxy, target: &str, error: SocksError) -> ProxyError {
    let addr = proxy.addr().clone();
    let auth = |answer| match proxy.credentials() {
        Some(credentials) => ProxyError::AuthFailed {
            proxy: addr.clone(),
            username: credentials.username().to_owned(),
            answer,
        },
        None => ProxyError::AuthRequired {
            proxy: addr.clone(),
            answer,
        },
    };
    match error {
        SocksError::PasswordWanted => auth(AuthAnswer::SocksPasswordWanted),
        SocksError::NoAcceptableMethod => auth(AuthAnswer::SocksNoAcceptableMethod),
        SocksError::AuthStatus(status) => auth(AuthAnswer::SocksStatus(status)),
        SocksError::Closed(SocksStage::Auth) => auth(AuthAnswer::SocksClosed),
        SocksError::Closed(SocksStage::Method) => ProxyError::Closed {
            proxy: addr,
            stage: ClosedAt::SocksMethod,
        },
        SocksError::Closed(_) => ProxyError::Closed {
            proxy: addr,
            stage: ClosedAt::SocksReply {
                target: target.to_owned(),
            },
        },
        SocksError::Refused(reply) => ProxyError::SocksRefused {
            proxy: addr,
            target: target.to_owned(),
            reply,
        },
        fault => ProxyError::Malformed {
            proxy: addr,
            fault: ReplyFault::Socks(fault),
        },
    }
}

/// A stream through a proxy: reads first return the bytes that arrived
/// behind the proxy's answer (if any), then come from the stream; writes
/// go straight to it.
#[derive(Debug)]
pub struct Tunnel<S> {
    inner: S,
    leftover: Vec<u8>,
    read: usize,
}

impl<S> Tunnel<S> {
    /// `inner`, with `leftover` to be read before it.
    #[must_use]
    pub fn new(inner: S, leftover: Vec<u8>) -> Self {
        Tunnel {
            inner,
            leftover,
            read: 0,
        }
    }

    /// The stream to the proxy.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The stream to the proxy, mutably (reading from it directly skips
    /// the unread leftover).
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The stream and the bytes of the leftover not read yet.
    pub fn into_parts(mut self) -> (S, Vec<u8>) {
        self.leftover.drain(..self.read);
        (self.inner, self.leftover)
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tunnel<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.read < this.leftover.len() {
            let n = buf.len().min(this.leftover.len() - this.read);
            buf[..n].copy_from_slice(&this.leftover[this.read..this.read + n]);
            this.read += n;
            if this.read == this.leftover.len() {
                this.leftover = Vec::new();
                this.read = 0;
            }
            return Poll::Ready(Ok(n));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tunnel<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_close(cx)
    }
}

/// The proxy's verdict on a final (non-1xx) `CONNECT` answer.
fn verdict(
    proxy: &Proxy,
    target: String,
    reply: super::http_connect::ConnectReply,
) -> Result<(), ProxyError> {
    let addr = proxy.addr().clone();
    if reply.status.is_success() {
        return Ok(());
    }
    let reply = Box::new(reply);
    Err(
        if reply.status == StatusCode::PROXY_AUTHENTICATION_REQUIRED {
            match proxy.credentials() {
                Some(credentials) => ProxyError::AuthFailed {
                    proxy: addr,
                    username: credentials.username().to_owned(),
                    answer: AuthAnswer::Http(reply),
                },
                None => ProxyError::AuthRequired {
                    proxy: addr,
                    answer: AuthAnswer::Http(reply),
                },
            }
        } else {
            ProxyError::Refused {
                proxy: addr,
                target,
                reply,
            }
        },
    )
}

#[cfg(test)]
mod tests;
