//! What the generic [`Connector`](crate::Connector) and
//! [`Acceptor`](crate::Acceptor) need from a runtime beyond a clock,
//! timers and a spawner ([`Net`]: TCP, name resolution); a way to replace
//! how a connector opens the stream to `host:port` ([`Transport`]; the
//! built-in way races every address and uses the proxy, see
//! [`proxy`](crate::proxy)); and the TCP options both ends set on their
//! sockets ([`TcpOptions`]).

use std::fmt::Debug;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};

use crate::error::ConnectError;
use crate::runtime::Runtime;

/// The networking of an async runtime: opening TCP connections and setting
/// their options. Each adapter implements it once (with [`Runtime`]); the
/// connect and accept flows are written once over it.
pub trait Net: Runtime + Clone {
    /// The runtime's TCP stream, seen through `futures-io`.
    type Tcp: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// Opens a TCP connection to `host:port`, resolving the name.
    fn connect_tcp(
        &self,
        host: &str,
        port: u16,
    ) -> impl Future<Output = io::Result<Self::Tcp>> + Send;

    /// The addresses of `host` (a name; the connector passes IP addresses
    /// through without calling this), in the resolver's order, each with
    /// `port`.
    fn resolve(
        &self,
        host: &str,
        port: u16,
    ) -> impl Future<Output = io::Result<Vec<SocketAddr>>> + Send;

    /// Opens a TCP connection to one address (the connector races several
    /// of these, RFC 8305 style).
    fn connect_addr(&self, addr: SocketAddr) -> impl Future<Output = io::Result<Self::Tcp>> + Send;

    /// Sets `options` on a connected stream.
    fn configure_tcp(tcp: &Self::Tcp, options: &TcpOptions) -> io::Result<()>;
}

/// A future returned by a [`Transport`].
pub type TransportFuture<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, ConnectError>> + Send + 'a>>;

/// A replacement for how a connector opens the byte stream to the server
/// at `host:port` before TLS and the WebSocket handshake (by default it
/// picks a proxy and races the addresses itself): a stream of the
/// runtime's TCP type that carries the bytes to `host:port` (say, a
/// tunnel of the program's own, or [`DirectTcp`] without the proxy step).
///
/// The connector runs it within its connect timeout, then sets its
/// [`TcpOptions`] on the stream.
pub trait Transport<R: Net>: Debug + Send + Sync + 'static {
    /// Opens the stream to `host:port` (the host without brackets, as it
    /// is in the URL). An error should name what failed.
    fn open<'a>(&'a self, runtime: &'a R, host: &'a str, port: u16) -> TransportFuture<'a, R::Tcp>;
}

/// A direct TCP connection to the server, every resolved address tried
/// (RFC 8305, [`dial`](crate::proxy::dial) with these options): what a
/// connector does without a proxy, as a [`Transport`] of its own (for
/// code that composes transports). The connector's own direct path uses
/// its [`dial_options`](crate::Connector::dial_options) instead.
#[derive(Debug, Clone, Copy, Default)]
pub struct DirectTcp {
    /// How the addresses are raced.
    pub options: crate::proxy::DialOptions,
}

impl<R: Net> Transport<R> for DirectTcp {
    fn open<'a>(&'a self, runtime: &'a R, host: &'a str, port: u16) -> TransportFuture<'a, R::Tcp> {
        Box::pin(async move {
            crate::proxy::dial(
                runtime,
                host,
                port,
                &self.options,
                |host, port| async move { runtime.resolve(&host, port).await },
                |addr| runtime.connect_addr(addr),
            )
            .await
            .map(|(tcp, _)| tcp)
            .map_err(ConnectError::Dial)
        })
    }
}

/// TCP options set on every connected and accepted socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TcpOptions {
    nodelay: bool,
    keepalive: Option<Duration>,
}

/// `TCP_NODELAY` on: a WebSocket message is written whole (the session
/// coalesces what it has into one write), so Nagle's algorithm would only
/// hold a small reply back by up to 40 ms waiting for an ACK.
const DEFAULT_NODELAY: bool = true;

/// TCP keepalive after 60 s of silence: it keeps NAT and firewall entries
/// alive on a quiet connection and lets the kernel find a peer that
/// vanished (powered off, network gone) even with the WebSocket heartbeat
/// turned off. The heartbeat, where on, notices sooner.
const DEFAULT_KEEPALIVE: Option<Duration> = Some(Duration::from_secs(60));

/// The interval between keepalive probes once they start, where the
/// platform lets us set it (Linux, the BSDs, macOS, Windows).
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);

impl Default for TcpOptions {
    fn default() -> Self {
        TcpOptions {
            nodelay: DEFAULT_NODELAY,
            keepalive: DEFAULT_KEEPALIVE,
        }
    }
}

impl TcpOptions {
    /// The defaults: `TCP_NODELAY` on, keepalive after 60 s of silence.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Turns `TCP_NODELAY` (no Nagle delay for small writes) on or off.
    #[must_use]
    pub fn nodelay(mut self, nodelay: bool) -> Self {
        self.nodelay = nodelay;
        self
    }

    /// TCP keepalive: probes start after this long without traffic, and
    /// repeat every 10 s where the platform allows setting it. `None`
    /// leaves keepalive off.
    #[must_use]
    pub fn keepalive(mut self, idle: Option<Duration>) -> Self {
        self.keepalive = idle;
        self
    }

    /// Whether `TCP_NODELAY` is set.
    #[must_use]
    pub fn is_nodelay(&self) -> bool {
        self.nodelay
    }

    /// The keepalive idle time, if keepalive is on.
    #[must_use]
    pub fn keepalive_idle(&self) -> Option<Duration> {
        self.keepalive
    }

    /// Sets these options on a socket (any type `socket2` can borrow: the
    /// TCP streams of std, tokio, async-io, async-std and smol).
    pub fn apply<S>(&self, socket: &S) -> io::Result<()>
    where
        for<'a> socket2::SockRef<'a>: From<&'a S>,
    {
        let socket = socket2::SockRef::from(socket);
        socket.set_tcp_nodelay(self.nodelay)?;
        match self.keepalive {
            None => socket.set_keepalive(false),
            Some(idle) => socket.set_tcp_keepalive(&keepalive(idle)),
        }
    }
}

/// Keepalive after `idle`, with probes every [`KEEPALIVE_INTERVAL`] where
/// the platform lets us set that.
fn keepalive(idle: Duration) -> socket2::TcpKeepalive {
    let keepalive = socket2::TcpKeepalive::new().with_time(idle);
    #[cfg(any(
        target_os = "linux",
        target_os = "android",
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "macos",
        target_os = "ios",
        target_os = "windows"
    ))]
    let keepalive = keepalive.with_interval(KEEPALIVE_INTERVAL);
    keepalive
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_reach_the_socket() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let tcp = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        TcpOptions::new().apply(&tcp).unwrap();
        let socket = socket2::SockRef::from(&tcp);
        assert!(socket.tcp_nodelay().unwrap());
        assert!(socket.keepalive().unwrap());
        #[cfg(target_os = "linux")]
        {
            assert_eq!(
                socket.tcp_keepalive_time().unwrap(),
                Duration::from_secs(60)
            );
            assert_eq!(socket.tcp_keepalive_interval().unwrap(), KEEPALIVE_INTERVAL);
        }
        let off = TcpOptions::new().nodelay(false).keepalive(None);
        off.apply(&tcp).unwrap();
        assert!(!socket.tcp_nodelay().unwrap());
        assert!(!socket.keepalive().unwrap());
        assert_eq!(off.keepalive_idle(), None);
    }
}
