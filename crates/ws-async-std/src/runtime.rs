//! [`ws_session::Runtime`] over async-io: the reactor and timers that
//! async-std (1.13) and smol both run on.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use ws_session::{Net, Runtime, TcpOptions, Timer};

/// A boxed task, as handed to a spawner.
pub type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

type Spawner = Arc<dyn Fn(Task) + Send + Sync>;

/// The runtime of this adapter: std's clock, async-io timers, and a spawner
/// for the one background task a [`spawn_split`](ws_session::Session::spawn_split)
/// session needs.
///
/// By default that task runs on smol's global executor (`smol::spawn`),
/// which works from any executor, async-std's included: it has threads of
/// its own. An application that wants the task on its own executor says so
/// with [`with_spawner`](Self::with_spawner), for example
/// `AsyncIoRuntime::with_spawner(|task| { async_std::task::spawn(task); })`.
#[derive(Clone, Default)]
pub struct AsyncIoRuntime {
    spawner: Option<Spawner>,
}

impl fmt::Debug for AsyncIoRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncIoRuntime")
            .field(
                "spawner",
                &if self.spawner.is_some() {
                    "custom"
                } else {
                    "smol's global executor"
                },
            )
            .finish()
    }
}

impl AsyncIoRuntime {
    /// Timers from async-io; split drivers on smol's global executor.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Timers from async-io; split drivers handed to `spawn`, which must
    /// run the task to completion (it ends when both halves are dropped or
    /// the connection ends).
    #[must_use]
    pub fn with_spawner(spawn: impl Fn(Task) + Send + Sync + 'static) -> Self {
        AsyncIoRuntime {
            spawner: Some(Arc::new(spawn)),
        }
    }
}

#[derive(Debug)]
struct AsyncIoTimer(async_io::Timer);

impl Timer for AsyncIoTimer {
    fn reset(mut self: Pin<&mut Self>, deadline: Instant) {
        self.0.set_at(deadline);
    }

    fn poll_expired(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx).map(|_| ())
    }
}

impl Runtime for AsyncIoRuntime {
    fn now(&self) -> Instant {
        // The one clock reading of this adapter. async-io's timers are on
        // std's monotonic clock, so the protocol's deadlines must be too.
        #[allow(clippy::disallowed_methods)]
        Instant::now()
    }

    fn new_timer(&self, deadline: Instant) -> Pin<Box<dyn Timer>> {
        Box::pin(AsyncIoTimer(async_io::Timer::at(deadline)))
    }

    fn spawn(&self, future: Task) {
        match &self.spawner {
            Some(spawn) => spawn(future),
            None => smol::spawn(future).detach(),
        }
    }
}

impl Net for AsyncIoRuntime {
    /// async-net's stream (smol's `smol::net::TcpStream`): its
    /// `poll_close` shuts the write side down, so the peer sees the end of
    /// the stream when a session closes (async-std's only flushes).
    type Tcp = async_net::TcpStream;

    async fn connect_tcp(&self, host: &str, port: u16) -> io::Result<Self::Tcp> {
        async_net::TcpStream::connect((host, port)).await
    }

    async fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        async_net::resolve((host, port)).await
    }

    async fn connect_addr(&self, addr: SocketAddr) -> io::Result<Self::Tcp> {
        async_net::TcpStream::connect(addr).await
    }

    fn configure_tcp(tcp: &Self::Tcp, options: &TcpOptions) -> io::Result<()> {
        options.apply(tcp)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[test]
    fn timer_fires_at_its_deadline_and_can_be_moved() {
        let runtime = AsyncIoRuntime::new();
        let start = runtime.now();
        let mut timer = runtime.new_timer(start + Duration::from_secs(3600));
        // Moved from an hour away to 20 ms away: it must fire, and not
        // before its new deadline.
        timer.as_mut().reset(start + Duration::from_millis(20));
        async_io::block_on(std::future::poll_fn(|cx| timer.as_mut().poll_expired(cx)));
        assert!(runtime.now() >= start + Duration::from_millis(20));
    }

    #[test]
    fn custom_spawner_receives_the_task() {
        let spawned = Arc::new(AtomicUsize::new(0));
        let seen = spawned.clone();
        let runtime = AsyncIoRuntime::with_spawner(move |task| {
            seen.fetch_add(1, Ordering::SeqCst);
            async_io::block_on(task);
        });
        let ran = Arc::new(AtomicUsize::new(0));
        let flag = ran.clone();
        runtime.spawn(Box::pin(async move {
            flag.fetch_add(1, Ordering::SeqCst);
        }));
        assert_eq!(spawned.load(Ordering::SeqCst), 1);
        assert_eq!(ran.load(Ordering::SeqCst), 1);
        assert!(format!("{runtime:?}").contains("custom"));
    }
}
