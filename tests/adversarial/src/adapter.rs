//! What an attack needs from an adapter: a runtime to run our server and
//! client on, loopback TCP, and the adapter's own upgrade and connect
//! calls. Each attack is written once against [`Adapter`]; a runtime is
//! added with one implementation here and one `attack_tests!` line.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};
use ws_session::{Config, ConnectError, HandshakeError, MaybeTls, Session};

/// An adapter under test, with the runtime it runs on.
pub trait Adapter: Sized + 'static {
    /// Its name, for reports.
    const NAME: &'static str;
    /// The transport of the sessions its server accepts.
    type ServerStream: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// The transport of the sessions its client connects.
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// Its TCP listener.
    type Listener: Send + Sync + 'static;
    /// An accepted, not yet upgraded, TCP connection.
    type Tcp: Send + 'static;

    /// Starts a runtime (with worker threads: the attacker blocks the test
    /// thread meanwhile).
    fn start() -> Self;
    /// Runs `future` to completion on the runtime.
    fn block_on<F: Future>(&self, future: F) -> F::Output;
    /// Spawns a task; called only from within the runtime.
    fn spawn(task: impl Future<Output = ()> + Send + 'static);
    /// A timer (paces the bystander; bounds the client's waits).
    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send;
    /// Binds `127.0.0.1:0`; called from within the runtime.
    fn bind() -> io::Result<(Self::Listener, SocketAddr)>;
    /// Accepts the next TCP connection and its peer's address.
    fn accept(
        listener: &Self::Listener,
    ) -> impl Future<Output = io::Result<(Self::Tcp, SocketAddr)>> + Send;
    /// The adapter's server upgrade of an accepted TCP connection.
    fn upgrade(
        tcp: Self::Tcp,
        config: Config,
        handshake_timeout: Duration,
    ) -> impl Future<Output = Result<Session<Self::ServerStream>, HandshakeError>> + Send;
    /// The adapter's client: connect to a `ws://` URL.
    fn connect(
        url: String,
        config: Config,
        handshake_timeout: Duration,
    ) -> impl Future<Output = Result<Session<Self::Stream>, ConnectError>> + Send;
}

/// `ws-tokio` on a two-worker multi-thread runtime.
#[derive(Debug)]
pub struct Tokio(tokio::runtime::Runtime);

impl Adapter for Tokio {
    const NAME: &'static str = "tokio";
    type ServerStream = MaybeTls<ws_tokio::Compat<tokio::net::TcpStream>>;
    type Stream = MaybeTls<ws_tokio::Compat<tokio::net::TcpStream>>;
    type Listener = tokio::net::TcpListener;
    type Tcp = tokio::net::TcpStream;

    fn start() -> Self {
        Tokio(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("tokio runtime"),
        )
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }

    fn spawn(task: impl Future<Output = ()> + Send + 'static) {
        tokio::spawn(task);
    }

    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(duration)
    }

    fn bind() -> io::Result<(Self::Listener, SocketAddr)> {
        let std = std::net::TcpListener::bind("127.0.0.1:0")?;
        std.set_nonblocking(true)?;
        let addr = std.local_addr()?;
        Ok((tokio::net::TcpListener::from_std(std)?, addr))
    }

    async fn accept(listener: &Self::Listener) -> io::Result<(Self::Tcp, SocketAddr)> {
        listener.accept().await
    }

    async fn upgrade(
        tcp: Self::Tcp,
        config: Config,
        handshake_timeout: Duration,
    ) -> Result<Session<Self::ServerStream>, HandshakeError> {
        let acceptor = ws_tokio::Acceptor::new()
            .config(config)
            .handshake_timeout(Some(handshake_timeout));
        Ok(acceptor.accept(tcp).await?.0.into_session())
    }

    async fn connect(
        url: String,
        config: Config,
        handshake_timeout: Duration,
    ) -> Result<Session<Self::Stream>, ConnectError> {
        let connector = ws_tokio::Connector::new()
            .config(config)
            .connect_timeout(Some(handshake_timeout))
            .handshake_timeout(Some(handshake_timeout));
        Ok(connector.connect(&url).await?.0.into_session())
    }
}

/// The server upgrade of `ws-async-std`, for any futures-io TCP stream.
async fn futures_io_upgrade<S>(
    tcp: S,
    config: Config,
    handshake_timeout: Duration,
) -> Result<Session<MaybeTls<S>>, HandshakeError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let acceptor = ws_async_std::Acceptor::new()
        .config(config)
        .handshake_timeout(Some(handshake_timeout));
    Ok(acceptor.accept(tcp).await?.0.into_session())
}

/// The client of `ws-async-std` (async-net TCP under either runtime).
async fn futures_io_connect(
    url: String,
    config: Config,
    handshake_timeout: Duration,
) -> Result<Session<MaybeTls<ws_async_std::TcpStream>>, ConnectError> {
    let connector = ws_async_std::Connector::new()
        .config(config)
        .connect_timeout(Some(handshake_timeout))
        .handshake_timeout(Some(handshake_timeout));
    Ok(connector.connect(&url).await?.0.into_session())
}

/// What the async-std and smol instantiations share: accepting on their
/// listener, and `ws-async-std`'s upgrade and client.
macro_rules! futures_io_common {
    () => {
        async fn accept(listener: &Self::Listener) -> io::Result<(Self::Tcp, SocketAddr)> {
            let (tcp, peer) = listener.accept().await?;
            tcp.set_nodelay(true)?;
            Ok((tcp, peer))
        }

        fn upgrade(
            tcp: Self::Tcp,
            config: Config,
            handshake_timeout: Duration,
        ) -> impl Future<Output = Result<Session<Self::ServerStream>, HandshakeError>> + Send {
            futures_io_upgrade(tcp, config, handshake_timeout)
        }

        fn connect(
            url: String,
            config: Config,
            handshake_timeout: Duration,
        ) -> impl Future<Output = Result<Session<Self::Stream>, ConnectError>> + Send {
            futures_io_connect(url, config, handshake_timeout)
        }
    };
}

/// `ws-async-std` under async-std: its global executor and its own
/// `async_std::net` sockets on the server side.
#[derive(Debug)]
pub struct AsyncStd;

impl Adapter for AsyncStd {
    const NAME: &'static str = "async-std";
    type ServerStream = MaybeTls<async_std::net::TcpStream>;
    type Stream = MaybeTls<ws_async_std::TcpStream>;
    type Listener = async_std::net::TcpListener;
    type Tcp = async_std::net::TcpStream;

    fn start() -> Self {
        AsyncStd
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        async_std::task::block_on(future)
    }

    fn spawn(task: impl Future<Output = ()> + Send + 'static) {
        drop(async_std::task::spawn(task));
    }

    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send {
        async_std::task::sleep(duration)
    }

    fn bind() -> io::Result<(Self::Listener, SocketAddr)> {
        let std = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = std.local_addr()?;
        Ok((std.into(), addr))
    }

    futures_io_common!();
}

/// `ws-async-std` under smol: its global executor (which has threads of
/// its own) and `smol::net` sockets.
#[derive(Debug)]
pub struct Smol;

impl Adapter for Smol {
    const NAME: &'static str = "smol";
    type ServerStream = MaybeTls<smol::net::TcpStream>;
    type Stream = MaybeTls<ws_async_std::TcpStream>;
    type Listener = smol::net::TcpListener;
    type Tcp = smol::net::TcpStream;

    fn start() -> Self {
        Smol
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        smol::block_on(future)
    }

    fn spawn(task: impl Future<Output = ()> + Send + 'static) {
        smol::spawn(task).detach();
    }

    async fn sleep(duration: Duration) {
        smol::Timer::after(duration).await;
    }

    fn bind() -> io::Result<(Self::Listener, SocketAddr)> {
        let std = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = std.local_addr()?;
        Ok((smol::net::TcpListener::try_from(std)?, addr))
    }

    futures_io_common!();
}
