//! [`Incoming`]: the connections a listener accepts, as a `Stream`, for
//! an accept loop that cannot be killed or spun.
//!
//! An accept fails for three kinds of reasons (accept(2)):
//!
//! - the process or system is out of a resource (`EMFILE`, `ENFILE`,
//!   `ENOBUFS`, `ENOMEM`): retrying at once fails again and burns a core,
//!   and ending the loop ends the server. [`Incoming`] pauses instead (10 ms,
//!   doubling up to 1 s while it lasts), says so once per episode, and
//!   goes on when descriptors free up;
//! - the connection went away before it was accepted (`ECONNABORTED`, a
//!   reset, a network error accept(2) says to treat like `EAGAIN`): it is
//!   skipped;
//! - the listener itself is broken (`EBADF`, `EINVAL`, `ENOTSOCK`,
//!   `EFAULT`): that error ends the stream, as no accept can succeed.
//!
//! Anything else is treated as a resource error: paused on, not fatal.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use futures_core::Stream;

use crate::lifecycle::Shutdown;
use crate::net::TcpOptions;
use crate::runtime::{Runtime, Timer};

/// The first pause after a resource error.
const FIRST_PAUSE: Duration = Duration::from_millis(10);

/// The longest pause: a freed descriptor is noticed within a second, and
/// an exhausted process tries at most once a second.
const LONGEST_PAUSE: Duration = Duration::from_secs(1);

/// What an accept error means for the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptErrorKind {
    /// Out of a resource (descriptors, buffers, memory): pause, then go on.
    Resource,
    /// This connection failed before it was accepted: skip it.
    Connection,
    /// The listener is broken: stop.
    Listener,
}

impl AcceptErrorKind {
    /// What `error`, returned by an accept, means for the loop.
    #[must_use]
    pub fn of(error: &io::Error) -> Self {
        use io::ErrorKind as K;
        #[cfg(unix)]
        if let Some(code) = error.raw_os_error() {
            match code {
                libc::EBADF | libc::EFAULT | libc::EINVAL | libc::ENOTSOCK => {
                    return AcceptErrorKind::Listener;
                }
                libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM => {
                    return AcceptErrorKind::Resource;
                }
                // Network errors accept(2) says to treat like EAGAIN
                // ("Error handling").
                libc::EPROTO
                | libc::ENOPROTOOPT
                | libc::EHOSTDOWN
                | libc::EHOSTUNREACH
                | libc::EOPNOTSUPP
                | libc::ENETDOWN
                | libc::ENETUNREACH => return AcceptErrorKind::Connection,
                _ => {}
            }
        }
        match error.kind() {
            K::ConnectionAborted
            | K::ConnectionReset
            | K::ConnectionRefused
            | K::Interrupted
            | K::WouldBlock
            | K::TimedOut => AcceptErrorKind::Connection,
            K::InvalidInput => AcceptErrorKind::Listener,
            _ => AcceptErrorKind::Resource,
        }
    }
}

/// Told once per episode of resource errors: the error and the first
/// pause.
type OnPause = Arc<dyn Fn(&io::Error, Duration) + Send + Sync>;

/// The connections of a listener, as a `Stream` that pauses on resource
/// errors instead of failing or spinning (see the module docs), and sets
/// [`TcpOptions`] on every connection. It yields `Err` only when the
/// listener is broken; the stream then ends.
///
/// Each adapter makes one from its listener (`ws_tokio::incoming`,
/// `ws_async_std::incoming`); [`from_stream`](Self::from_stream) takes any
/// stream of accepted connections.
pub struct Incoming<T> {
    accepts: Pin<Box<dyn Stream<Item = io::Result<T>> + Send>>,
    runtime: Arc<dyn Runtime>,
    tcp: Option<TcpOptions>,
    pause: Option<Pin<Box<dyn Timer>>>,
    /// The next pause, `None` while accepts succeed.
    next_pause: Option<Duration>,
    on_pause: Option<OnPause>,
    pauses: u64,
    ended: bool,
    /// Resolves when the stream is to end (a shutdown began).
    stop: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl<T> fmt::Debug for Incoming<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Incoming")
            .field("tcp", &self.tcp)
            .field("next_pause", &self.next_pause)
            .field("pauses", &self.pauses)
            .finish_non_exhaustive()
    }
}

impl<T: Send + 'static> Incoming<T> {
    /// The connections `accept(listener)` accepts, one after another
    /// (the runtime's timers pace the pauses). The default
    /// [`TcpOptions`] are set on each.
    pub fn new<L, F, Fut>(runtime: Arc<dyn Runtime>, listener: L, accept: F) -> Self
    where
        L: Send + Sync + 'static,
        F: Fn(Arc<L>) -> Fut + Send + 'static,
        Fut: Future<Output = io::Result<T>> + Send + 'static,
    {
        let listener = Arc::new(listener);
        let accepts =
            futures_util::stream::unfold((listener, accept), |(listener, accept)| async {
                let result = accept(listener.clone()).await;
                Some((result, (listener, accept)))
            });
        Self::from_stream(runtime, accepts).tcp_options(Some(TcpOptions::default()))
    }

    /// The connections `accepts` yields (errors included, as an accept
    /// returns them). No [`TcpOptions`] are set unless asked for.
    pub fn from_stream(
        runtime: Arc<dyn Runtime>,
        accepts: impl Stream<Item = io::Result<T>> + Send + 'static,
    ) -> Self {
        Incoming {
            accepts: Box::pin(accepts),
            runtime,
            tcp: None,
            pause: None,
            next_pause: None,
            on_pause: None,
            pauses: 0,
            ended: false,
            stop: None,
        }
    }

    /// Ends the stream when `shutdown` begins (the listener is dropped
    /// with the stream, so new connections are refused by the kernel).
    #[must_use]
    pub fn until_shutdown(mut self, shutdown: &Shutdown) -> Self {
        self.stop = Some(Box::pin(shutdown.signalled()));
        self
    }

    /// The options set on each connection (`None`: leave them alone).
    #[must_use]
    pub fn tcp_options(mut self, tcp: Option<TcpOptions>) -> Self {
        self.tcp = tcp;
        self
    }

    /// Called when a resource error starts a pause, once per episode (not
    /// again until an accept has succeeded): the error and the pause.
    /// By default the episode is a `tracing` warning (with the `tracing`
    /// feature).
    #[must_use]
    pub fn on_pause(
        mut self,
        report: impl Fn(&io::Error, Duration) + Send + Sync + 'static,
    ) -> Self {
        self.on_pause = Some(Arc::new(report));
        self
    }

    /// How many times the stream has paused on a resource error.
    #[must_use]
    pub fn pauses(&self) -> u64 {
        self.pauses
    }
}

impl<T> Incoming<T> {
    /// Starts a pause after `error`.
    fn pause_after(&mut self, error: &io::Error) {
        let pause = match self.next_pause {
            None => {
                match &self.on_pause {
                    Some(report) => report(error, FIRST_PAUSE),
                    None => crate::trace::accept_paused(error, FIRST_PAUSE),
                }
                FIRST_PAUSE
            }
            Some(pause) => pause,
        };
        self.next_pause = Some((pause * 2).min(LONGEST_PAUSE));
        self.pauses += 1;
        let deadline = self.runtime.now() + pause;
        match &mut self.pause {
            Some(timer) => timer.as_mut().reset(deadline),
            None => self.pause = Some(self.runtime.new_timer(deadline)),
        }
    }
}

impl<T> Stream for Incoming<T>
where
    T: Unpin,
    for<'a> socket2::SockRef<'a>: From<&'a T>,
{
    type Item = io::Result<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<io::Result<T>>> {
        let this = self.get_mut();
        loop {
            if let Some(stop) = &mut this.stop
                && stop.as_mut().poll(cx).is_ready()
            {
                this.ended = true;
            }
            if this.ended {
                return Poll::Ready(None);
            }
            if let Some(timer) = &mut this.pause {
                ready!(timer.as_mut().poll_expired(cx));
                this.pause = None;
            }
            match ready!(this.accepts.as_mut().poll_next(cx)) {
                None => {
                    this.ended = true;
                    return Poll::Ready(None);
                }
                Some(Ok(tcp)) => {
                    this.next_pause = None;
                    if let Some(tcp_options) = &this.tcp {
                        // A socket option the platform refuses is no reason
                        // to drop the connection.
                        let _ = tcp_options.apply(&tcp);
                    }
                    return Poll::Ready(Some(Ok(tcp)));
                }
                Some(Err(error)) => match AcceptErrorKind::of(&error) {
                    AcceptErrorKind::Connection => {}
                    AcceptErrorKind::Resource => this.pause_after(&error),
                    AcceptErrorKind::Listener => {
                        this.ended = true;
                        return Poll::Ready(Some(Err(error)));
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_told_apart() {
        let os = io::Error::from_raw_os_error;
        assert_eq!(AcceptErrorKind::of(&os(24)), AcceptErrorKind::Resource);
        assert_eq!(AcceptErrorKind::of(&os(23)), AcceptErrorKind::Resource);
        assert_eq!(AcceptErrorKind::of(&os(105)), AcceptErrorKind::Resource);
        assert_eq!(AcceptErrorKind::of(&os(12)), AcceptErrorKind::Resource);
        assert_eq!(AcceptErrorKind::of(&os(103)), AcceptErrorKind::Connection);
        assert_eq!(AcceptErrorKind::of(&os(71)), AcceptErrorKind::Connection);
        assert_eq!(AcceptErrorKind::of(&os(9)), AcceptErrorKind::Listener);
        assert_eq!(AcceptErrorKind::of(&os(22)), AcceptErrorKind::Listener);
        assert_eq!(
            AcceptErrorKind::of(&io::ErrorKind::ConnectionAborted.into()),
            AcceptErrorKind::Connection
        );
        assert_eq!(
            AcceptErrorKind::of(&io::Error::other("unknown")),
            AcceptErrorKind::Resource
        );
    }
}
