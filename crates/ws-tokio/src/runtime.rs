//! [`ws_session::Runtime`] and [`ws_session::Net`] for tokio.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use ws_session::{Net, Runtime, TcpOptions, Timer};

use crate::Compat;

/// The tokio runtime: tokio's clock (so paused test time drives the
/// protocol's timers too), `tokio::time::sleep_until`, `tokio::spawn`,
/// `tokio::net`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioRuntime;

#[derive(Debug)]
struct TokioTimer(Pin<Box<tokio::time::Sleep>>);

impl Timer for TokioTimer {
    fn reset(mut self: Pin<&mut Self>, deadline: Instant) {
        self.0.as_mut().reset(deadline.into());
    }

    fn poll_expired(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.0.as_mut().poll(cx)
    }
}

impl Runtime for TokioRuntime {
    fn now(&self) -> Instant {
        // The one clock reading of this adapter: tokio's, not std's, so that
        // `tokio::time::pause` also pauses the WebSocket timers.
        tokio::time::Instant::now().into_std()
    }

    fn new_timer(&self, deadline: Instant) -> Pin<Box<dyn Timer>> {
        Box::pin(TokioTimer(Box::pin(tokio::time::sleep_until(
            deadline.into(),
        ))))
    }

    fn spawn(&self, future: Pin<Box<dyn Future<Output = ()> + Send>>) {
        tokio::spawn(future);
    }
}

impl Net for TokioRuntime {
    type Tcp = Compat<tokio::net::TcpStream>;

    async fn connect_tcp(&self, host: &str, port: u16) -> io::Result<Self::Tcp> {
        tokio::net::TcpStream::connect((host, port))
            .await
            .map(Compat::new)
    }

    async fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        Ok(tokio::net::lookup_host((host, port)).await?.collect())
    }

    async fn connect_addr(&self, addr: SocketAddr) -> io::Result<Self::Tcp> {
        tokio::net::TcpStream::connect(addr).await.map(Compat::new)
    }

    fn configure_tcp(tcp: &Self::Tcp, options: &TcpOptions) -> io::Result<()> {
        options.apply(tcp.get_ref())
    }
}
