//! The runtime parameter of every scenario: each test body is written once,
//! generic over [`Rt`], and [`on_every_runtime!`] runs it under async-std
//! and under smol, with that runtime's executor, listener, TCP stream and
//! spawner.
#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};
use ws_async_std::{Acceptor, AsyncIoRuntime, Config, Decision, Mode};

/// One async runtime, as far as these tests are concerned.
pub trait Rt: 'static {
    /// Printed in failures.
    const NAME: &'static str;
    /// The runtime's own TCP listener.
    type Listener: Send + Sync + 'static;
    /// The runtime's own TCP stream (futures-io).
    type Tcp: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// Runs a future to completion on this thread.
    fn block_on<T>(future: impl Future<Output = T>) -> T;
    /// Runs `future` in the background; the returned future waits for it.
    fn spawn<T: Send + 'static>(
        future: impl Future<Output = T> + Send + 'static,
    ) -> Pin<Box<dyn Future<Output = T> + Send>>;
    /// Runs `future` in the background, unwatched, until it ends.
    fn spawn_detached(future: impl Future<Output = ()> + Send + 'static);
    /// A listener on 127.0.0.1, port 0, and its `ws://` base URL.
    fn listen() -> impl Future<Output = (Self::Listener, String)> + Send;
    /// The next connection, with nodelay set.
    fn accept(listener: &Self::Listener) -> impl Future<Output = Self::Tcp> + Send;
    /// A plain TCP connection to `addr` (`host:port`).
    fn connect_tcp(addr: &str) -> impl Future<Output = Self::Tcp> + Send;
    /// The adapter's runtime, spawning on this runtime's executor.
    fn runtime() -> AsyncIoRuntime;
}

/// async-std: its executor, `async_std::net`, `async_std::task::spawn`.
pub struct AsyncStd;

impl Rt for AsyncStd {
    const NAME: &'static str = "async-std";
    type Listener = async_std::net::TcpListener;
    type Tcp = async_std::net::TcpStream;

    fn block_on<T>(future: impl Future<Output = T>) -> T {
        async_std::task::block_on(future)
    }

    fn spawn<T: Send + 'static>(
        future: impl Future<Output = T> + Send + 'static,
    ) -> Pin<Box<dyn Future<Output = T> + Send>> {
        Box::pin(async_std::task::spawn(future))
    }

    fn spawn_detached(future: impl Future<Output = ()> + Send + 'static) {
        // A dropped async-std JoinHandle detaches its task.
        drop(async_std::task::spawn(future));
    }

    async fn listen() -> (Self::Listener, String) {
        let listener = async_std::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        let url = format!("ws://{}", listener.local_addr().unwrap());
        (listener, url)
    }

    async fn accept(listener: &Self::Listener) -> Self::Tcp {
        let (tcp, _) = listener.accept().await.unwrap();
        tcp.set_nodelay(true).unwrap();
        tcp
    }

    async fn connect_tcp(addr: &str) -> Self::Tcp {
        async_std::net::TcpStream::connect(addr).await.unwrap()
    }

    fn runtime() -> AsyncIoRuntime {
        AsyncIoRuntime::with_spawner(|task| {
            drop(async_std::task::spawn(task));
        })
    }
}

/// smol: `smol::block_on`, `smol::net`, `smol::spawn`.
pub struct Smol;

impl Rt for Smol {
    const NAME: &'static str = "smol";
    type Listener = smol::net::TcpListener;
    type Tcp = smol::net::TcpStream;

    fn block_on<T>(future: impl Future<Output = T>) -> T {
        smol::block_on(future)
    }

    fn spawn<T: Send + 'static>(
        future: impl Future<Output = T> + Send + 'static,
    ) -> Pin<Box<dyn Future<Output = T> + Send>> {
        Box::pin(smol::spawn(future))
    }

    fn spawn_detached(future: impl Future<Output = ()> + Send + 'static) {
        smol::spawn(future).detach();
    }

    async fn listen() -> (Self::Listener, String) {
        let listener = smol::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}", listener.local_addr().unwrap());
        (listener, url)
    }

    async fn accept(listener: &Self::Listener) -> Self::Tcp {
        let (tcp, _) = listener.accept().await.unwrap();
        tcp.set_nodelay(true).unwrap();
        tcp
    }

    async fn connect_tcp(addr: &str) -> Self::Tcp {
        smol::net::TcpStream::connect(addr).await.unwrap()
    }

    fn runtime() -> AsyncIoRuntime {
        AsyncIoRuntime::new()
    }
}

/// Every await in these tests is bounded: a hang is a failure, not a stuck
/// run.
pub async fn within<F: Future>(seconds: u64, future: F) -> F::Output {
    futures_lite::future::or(future, async move {
        async_io::Timer::after(Duration::from_secs(seconds)).await;
        panic!("timed out after {seconds} s")
    })
    .await
}

/// `Some(output)` if `future` finishes within `limit`, `None` if it is
/// still waiting then (for asserting that something waits).
pub async fn finishes_within<F: Future>(limit: Duration, future: F) -> Option<F::Output> {
    futures_lite::future::or(async { Some(future.await) }, async move {
        async_io::Timer::after(limit).await;
        None
    })
    .await
}

/// Runs one scenario on runtime `R`, bounded to 30 s.
pub fn run<R: Rt, F: Future<Output = ()>>(scenario: impl FnOnce() -> F) {
    R::block_on(within(30, scenario()));
}

/// Instantiates each named scenario `name::<R>()` as a test under async-std
/// (module `async_std_rt`) and under smol (module `smol_rt`).
#[macro_export]
macro_rules! on_every_runtime {
    ($($name:ident),* $(,)?) => {
        mod async_std_rt {
            $(#[test]
            fn $name() {
                $crate::common::run::<$crate::common::AsyncStd, _>(super::$name::<$crate::common::AsyncStd>);
            })*
        }
        mod smol_rt {
            $(#[test]
            fn $name() {
                $crate::common::run::<$crate::common::Smol, _>(super::$name::<$crate::common::Smol>);
            })*
        }
    };
}

/// An echo server on runtime `R` for connections one after another, until
/// the test ends; its sessions use `acceptor` (TLS included).
pub async fn echo_server<R: Rt>(acceptor: Acceptor) -> String {
    let (listener, url) = R::listen().await;
    let acceptor = acceptor.runtime(R::runtime());
    R::spawn_detached(async move {
        loop {
            let tcp = R::accept(&listener).await;
            let acceptor = acceptor.clone();
            R::spawn_detached(async move {
                let Ok((mut ws, _)) = acceptor.accept_tcp(tcp, |_| Decision::accept()).await else {
                    return;
                };
                while let Ok(message) = ws.recv().await {
                    if ws.send_message(message).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    url
}

/// A server that completes the handshake (raw mode: no automatic pongs)
/// and then never touches the session again until the returned sender is
/// dropped.
pub async fn silent_server<R: Rt>() -> (String, smol::channel::Sender<()>) {
    let (listener, url) = R::listen().await;
    let (release, released) = smol::channel::bounded::<()>(1);
    R::spawn_detached(async move {
        let tcp = R::accept(&listener).await;
        let (ws, _) = Acceptor::new()
            .config(Config::default().with_mode(Mode::Raw))
            .runtime(R::runtime())
            .accept(tcp)
            .await
            .unwrap();
        let _ = released.recv().await;
        drop(ws);
    });
    (url, release)
}

/// A self-signed certificate for `localhost`: the server config and the
/// roots a client needs to trust it.
pub fn certificate() -> (Arc<rustls::ServerConfig>, rustls::RootCertStore) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let der = cert.cert.der().clone();
    let key = rustls_pki_types::PrivateKeyDer::Pkcs8(cert.key_pair.serialize_der().into());
    let server = ws_async_std::server_config(vec![der.clone()], key).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(der).unwrap();
    (server, roots)
}
