//! The three runtimes: tokio with `ws-tokio`, async-std and smol with
//! `ws-async-std` (each with its own listener, sockets and spawner).

use std::future::Future;
use std::pin::Pin;

use ws_session::{
    AcceptedRequest, ClientBuilder, ClientResponse, Config, ConnectError, Decision, HandshakeError,
    Session, UpgradeRequest,
};
use ws_tokio::Compat;

use crate::{ClientOptions, Rt, ServerOptions};
use async_std::net as async_std_net;
use smol::net as smol_net;

/// tokio: a current-thread runtime per test, `tokio::net`, `tokio::spawn`,
/// `ws-tokio`.
#[derive(Debug)]
pub struct Tokio;

impl Rt for Tokio {
    const NAME: &'static str = "tokio";
    type Listener = tokio::net::TcpListener;
    type Tcp = Compat<tokio::net::TcpStream>;
    type Client = ws_tokio::MaybeTlsStream;
    type Server = ws_tokio::MaybeTlsStream;
    type Pipe = Compat<ws_tokio::Pipe>;

    fn block_on<T>(future: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime")
            .block_on(future)
    }

    fn spawn<T: Send + 'static>(
        future: impl Future<Output = T> + Send + 'static,
    ) -> Pin<Box<dyn Future<Output = T> + Send>> {
        let task = tokio::spawn(future);
        Box::pin(async move { task.await.expect("the spawned task panicked") })
    }

    fn spawn_detached(future: impl Future<Output = ()> + Send + 'static) {
        drop(tokio::spawn(future));
    }

    async fn listen() -> (Self::Listener, String) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}", listener.local_addr().unwrap());
        (listener, url)
    }

    async fn accept_tcp(listener: &Self::Listener) -> Self::Tcp {
        let (tcp, _) = listener.accept().await.unwrap();
        tcp.set_nodelay(true).unwrap();
        Compat::new(tcp)
    }

    async fn connect_tcp(addr: &str) -> Self::Tcp {
        Compat::new(tokio::net::TcpStream::connect(addr).await.unwrap())
    }

    async fn connect_request(
        builder: ClientBuilder,
        options: ClientOptions,
    ) -> Result<(Session<Self::Client>, ClientResponse), ConnectError> {
        let mut connector = ws_tokio::Connector::new()
            .config(options.config)
            .connect_timeout(options.connect_timeout)
            .handshake_timeout(options.handshake_timeout);
        if let Some(tls) = options.tls {
            connector = connector.tls_config(tls);
        }
        connector.connect_request(builder).await
    }

    async fn accept<F>(
        tcp: Self::Tcp,
        options: ServerOptions,
        decide: F,
    ) -> Result<(Session<Self::Server>, AcceptedRequest), HandshakeError>
    where
        F: FnOnce(&UpgradeRequest) -> Decision + Send,
    {
        let mut acceptor = ws_tokio::Acceptor::new()
            .config(options.config)
            .handshake_timeout(options.handshake_timeout);
        if let Some(tls) = options.tls {
            acceptor = acceptor.tls_config(tls);
        }
        acceptor.accept_tcp(tcp.into_inner(), decide).await
    }

    async fn client_over(
        tcp: Self::Tcp,
        builder: ClientBuilder,
    ) -> Result<(Session<Self::Tcp>, ClientResponse), HandshakeError> {
        ws_tokio::Connector::new()
            .client_over(tcp.into_inner(), builder)
            .await
    }

    async fn pair(
        config: Config,
    ) -> Result<(Session<Self::Pipe>, Session<Self::Pipe>), HandshakeError> {
        ws_tokio::pair(config).await
    }
}

/// The parts of the two `ws-async-std` runtimes that differ only in the
/// spawner and the socket types.
macro_rules! async_io_adapter {
    ($name:ident, $label:literal, $net:ident, $runtime:expr, $block_on:path, $spawn:expr) => {
        impl Rt for $name {
            const NAME: &'static str = $label;
            type Listener = $net::TcpListener;
            type Tcp = $net::TcpStream;
            type Client = ws_async_std::MaybeTlsStream;
            type Server = ws_async_std::MaybeTlsStream<$net::TcpStream>;
            type Pipe = ws_async_std::Pipe;

            fn block_on<T>(future: impl Future<Output = T>) -> T {
                $block_on(future)
            }

            fn spawn<T: Send + 'static>(
                future: impl Future<Output = T> + Send + 'static,
            ) -> Pin<Box<dyn Future<Output = T> + Send>> {
                Box::pin($spawn(future))
            }

            fn spawn_detached(future: impl Future<Output = ()> + Send + 'static) {
                <$name as Net>::detach($spawn(future));
            }

            async fn listen() -> (Self::Listener, String) {
                let listener = $net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let url = format!("ws://{}", listener.local_addr().unwrap());
                (listener, url)
            }

            async fn accept_tcp(listener: &Self::Listener) -> Self::Tcp {
                let (tcp, _) = listener.accept().await.unwrap();
                tcp.set_nodelay(true).unwrap();
                tcp
            }

            async fn connect_tcp(addr: &str) -> Self::Tcp {
                $net::TcpStream::connect(addr).await.unwrap()
            }

            async fn connect_request(
                builder: ClientBuilder,
                options: ClientOptions,
            ) -> Result<(Session<Self::Client>, ClientResponse), ConnectError> {
                let mut connector = ws_async_std::Connector::new()
                    .config(options.config)
                    .connect_timeout(options.connect_timeout)
                    .handshake_timeout(options.handshake_timeout)
                    .runtime($runtime);
                if let Some(tls) = options.tls {
                    connector = connector.tls_config(tls);
                }
                connector.connect_request(builder).await
            }

            async fn accept<F>(
                tcp: Self::Tcp,
                options: ServerOptions,
                decide: F,
            ) -> Result<(Session<Self::Server>, AcceptedRequest), HandshakeError>
            where
                F: FnOnce(&UpgradeRequest) -> Decision + Send,
            {
                let mut acceptor = ws_async_std::Acceptor::new()
                    .config(options.config)
                    .handshake_timeout(options.handshake_timeout)
                    .runtime($runtime);
                if let Some(tls) = options.tls {
                    acceptor = acceptor.tls_config(tls);
                }
                acceptor.accept_tcp(tcp, decide).await
            }

            async fn client_over(
                tcp: Self::Tcp,
                builder: ClientBuilder,
            ) -> Result<(Session<Self::Tcp>, ClientResponse), HandshakeError> {
                ws_async_std::Connector::new()
                    .runtime($runtime)
                    .client_over(tcp, builder)
                    .await
            }

            async fn pair(
                config: Config,
            ) -> Result<(Session<Self::Pipe>, Session<Self::Pipe>), HandshakeError> {
                ws_async_std::pair(config).await
            }
        }
    };
}

/// The detaching of a spawned task, per runtime.
trait Net {
    type Handle;
    fn detach(handle: Self::Handle);
}

/// async-std: `async_std::task::block_on`, `async_std::net`, split drivers
/// on `async_std::task::spawn`.
#[derive(Debug)]
pub struct AsyncStd;

impl Net for AsyncStd {
    type Handle = async_std::task::JoinHandle<()>;
    fn detach(handle: Self::Handle) {
        // A dropped async-std JoinHandle detaches its task.
        drop(handle);
    }
}

fn async_std_runtime() -> ws_async_std::AsyncIoRuntime {
    ws_async_std::AsyncIoRuntime::with_spawner(|task| {
        drop(async_std::task::spawn(task));
    })
}

async_io_adapter!(
    AsyncStd,
    "async-std",
    async_std_net,
    async_std_runtime(),
    async_std::task::block_on,
    async_std::task::spawn
);

/// smol: `smol::block_on`, `smol::net`, split drivers on smol's global
/// executor (the adapter's default).
#[derive(Debug)]
pub struct Smol;

impl Net for Smol {
    type Handle = smol::Task<()>;
    fn detach(handle: Self::Handle) {
        handle.detach();
    }
}

async_io_adapter!(
    Smol,
    "smol",
    smol_net,
    ws_async_std::AsyncIoRuntime::new(),
    smol::block_on,
    smol::spawn
);
