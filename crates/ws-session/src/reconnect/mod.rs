//! A client that reconnects (opt-in): after a lost transport, or a Close
//! with a code of a configured set, it connects again with exponential
//! backoff and jitter, runs a hook on every new session (to subscribe
//! again), and hands the messages of all its sessions out as one stream,
//! with an event at every gap.
//!
//! ```text
//!  ReconnectHandle::send ──► bounded queue ──►┐
//!  ReconnectHandle::stop ──► control ────────►│ driver task (Runtime::spawn):
//!                                             │   dial ─► hook ─► recv/send … lost ─► Backoff::delay ─► dial …
//!  ReconnectEvents ◄── Message / Disconnected / Reconnected{attempts, gap} / AttemptFailed / Ended
//! ```
//!
//! - **What reconnects**: a session that ends without a close handshake
//!   (transport lost, 1006; a ping, send or close timeout; a protocol
//!   error), or with a Close from the server whose code is in
//!   [`ReconnectOptions::reconnect_on`] (by default 1001, 1011, 1012,
//!   1013, 1014). Any other Close from the server ends the stream
//!   ([`End::Closed`]); failed connection attempts are retried until
//!   [`ReconnectOptions::max_attempts`] ([`End::GaveUp`]).
//! - **The hook** ([`Reconnect::on_connect`]) runs on every new session,
//!   the first included, before anything queued is sent: it may send
//!   (subscriptions). If it fails, the session is dropped and the attempt
//!   counts as failed.
//! - **Sending while disconnected** ([`Offline`]): queued, up to a bound
//!   ([`Offline::Queue`], the default, 64 messages), then
//!   [`SendError::QueueFull`]; or refused at once
//!   ([`Offline::Fail`], [`SendError::Disconnected`]). Delivery is at most
//!   once: a message handed to a session that is then lost may be lost
//!   with it.
//! - **Stopping**: [`ReconnectHandle::stop`] closes the session with 1000
//!   (the close handshake, within the config's close timeout), ends the
//!   event stream with [`End::Stopped`], and returns when the driver is
//!   done. Dropping the [`ReconnectEvents`] stops it too.
//!
//! The logic is runtime-neutral: timers and the driver task come from the
//! [`Runtime`]; an adapter's connector (or any [`Dial`], such as an HTTP/2
//! client's) makes the sessions.

mod backoff;
mod driver;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_channel::{mpsc, oneshot};
use futures_core::Stream;
use futures_io::{AsyncRead, AsyncWrite};
use wsproto_core::{CloseCode, CloseReason};

pub use backoff::Backoff;

use crate::connector::Connector;
use crate::error::{Error, HandshakeError};
use crate::message::Message;
use crate::net::Net;
use crate::request::IntoClientRequest;
use crate::runtime::Runtime;
use crate::session::Session;
use crate::stream::MaybeTls;

/// An error of a connection attempt, whatever made it.
pub type DialError = Box<dyn std::error::Error + Send + Sync>;

/// What [`Dial::dial`] returns.
pub type DialFuture<'a, S> =
    Pin<Box<dyn Future<Output = Result<Session<S>, DialError>> + Send + 'a>>;

/// What the hook returns.
pub type HookFuture<'a> = Pin<Box<dyn Future<Output = Result<(), Error>> + Send + 'a>>;

/// Makes a new session to the same server, every time it is asked.
/// Implemented for closures; [`Connector::reconnecting`] makes one from a
/// connector and a request.
pub trait Dial<S: AsyncWrite + Unpin>: Send + Sync + 'static {
    /// Connects once.
    fn dial(&self) -> DialFuture<'_, S>;
}

impl<S, F> Dial<S> for F
where
    S: AsyncWrite + Unpin,
    F: Fn() -> DialFuture<'static, S> + Send + Sync + 'static,
{
    fn dial(&self) -> DialFuture<'_, S> {
        self()
    }
}

type Hook<S> = Box<dyn for<'a> FnMut(&'a mut Session<S>, Connected) -> HookFuture<'a> + Send>;

/// The close codes that reconnect by default: the server going away or
/// restarting, overloaded, or failing in between (RFC 6455 §7.4.1 and the
/// IANA registry).
const DEFAULT_RECONNECT_ON: [CloseCode; 5] = [
    CloseCode::GOING_AWAY,
    CloseCode::INTERNAL_ERROR,
    CloseCode::SERVICE_RESTART,
    CloseCode::TRY_AGAIN_LATER,
    CloseCode::BAD_GATEWAY,
];

/// How many messages wait for the next session by default: enough for a
/// burst of subscriptions, small enough that a long outage does not pile
/// up stale commands.
const DEFAULT_QUEUE: usize = 64;

/// How many events wait for the application: reading stops (and
/// backpressure reaches the server) when it is this far behind.
const EVENT_BUFFER: usize = 16;

/// What [`ReconnectHandle::send`] does while there is no session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Offline {
    /// Keep up to this many messages (at least one) for the next
    /// session, sent after the hook; more is [`SendError::QueueFull`].
    /// While connected, the same queue feeds the session and `send` waits
    /// while it is full.
    Queue(usize),
    /// Refuse at once with [`SendError::Disconnected`].
    Fail,
}

/// When and how to reconnect.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ReconnectOptions {
    backoff: Backoff,
    reconnect_on: Vec<CloseCode>,
    max_attempts: Option<u32>,
    offline: Offline,
    seed: Option<u64>,
}

impl Default for ReconnectOptions {
    /// [`Backoff::default`], reconnect on 1001, 1011, 1012, 1013 and 1014,
    /// retry forever, queue 64 messages while disconnected, jitter seeded
    /// by the operating system.
    fn default() -> Self {
        ReconnectOptions {
            backoff: Backoff::default(),
            reconnect_on: DEFAULT_RECONNECT_ON.to_vec(),
            max_attempts: None,
            offline: Offline::Queue(DEFAULT_QUEUE),
            seed: None,
        }
    }
}

impl ReconnectOptions {
    /// The defaults.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The delays between attempts.
    #[must_use]
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The close codes from the server after which to reconnect (a lost
    /// transport always reconnects).
    #[must_use]
    pub fn reconnect_on(mut self, codes: impl IntoIterator<Item = CloseCode>) -> Self {
        self.reconnect_on = codes.into_iter().collect();
        self
    }

    /// Give up after this many failed attempts in a row (`None`: never).
    #[must_use]
    pub fn max_attempts(mut self, attempts: Option<u32>) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// What sending does while disconnected.
    #[must_use]
    pub fn offline(mut self, offline: Offline) -> Self {
        self.offline = offline;
        self
    }

    /// Seeds the jitter (tests, reproducible runs); by default the
    /// operating system's RNG does.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Whether a session that ended for `reason` reconnects.
    #[must_use]
    pub fn reconnects_after(&self, reason: &CloseReason) -> bool {
        match reason {
            CloseReason::Normal {
                initiated_locally: true,
                ..
            }
            | CloseReason::Terminated => false,
            CloseReason::Normal { .. } => self.reconnect_on.contains(&reason.code()),
            _ => true,
        }
    }
}

/// Told to the hook: which session this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Connected {
    /// 0 for the first session, then 1, 2, … for each reconnect.
    pub reconnects: u64,
}

/// Why the event stream ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum End {
    /// [`ReconnectHandle::stop`], or the events were dropped.
    Stopped,
    /// The server closed with a code outside
    /// [`ReconnectOptions::reconnect_on`].
    Closed(CloseReason),
    /// [`ReconnectOptions::max_attempts`] attempts in a row failed; the
    /// last one's error.
    GaveUp {
        /// The attempts made.
        attempts: u32,
        /// Why the last failed.
        error: DialError,
    },
}

/// What the reconnecting client reports, in order.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReconnectEvent {
    /// A data message (text or binary) from the current session.
    Message(Message),
    /// The first session is up (after `attempts` failed attempts).
    Connected {
        /// Failed attempts before it.
        attempts: u32,
    },
    /// The session ended; reconnecting.
    Disconnected(Error),
    /// A connection attempt (or the hook) failed; the next one comes in
    /// `retry_in`.
    AttemptFailed {
        /// Failed attempts in a row so far.
        attempt: u32,
        /// Why.
        error: DialError,
        /// The backoff delay before the next attempt.
        retry_in: Duration,
    },
    /// A new session is up and its hook has run: messages between the
    /// previous session's end and now were missed.
    Reconnected {
        /// The attempts it took (1 if the first one succeeded).
        attempts: u32,
        /// From the loss of the previous session to this one being up.
        gap: Duration,
    },
    /// A message could not be sent on the current session (the core
    /// refused it, see [`Error::Send`]); the session goes on.
    SendFailed(Error),
    /// The last event: the client has stopped.
    Ended(End),
}

/// Why [`ReconnectHandle::send`] did not take a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// [`Offline::Fail`] and there is no session now.
    #[error("not connected (the reconnecting client refuses messages while it reconnects)")]
    Disconnected,
    /// [`Offline::Queue`] and the queue for the next session is full.
    #[error("the queue of messages for the next session is full ({0} messages)")]
    QueueFull(usize),
    /// The client has stopped.
    #[error("the reconnecting client has stopped")]
    Stopped,
}

/// State the handles read.
#[derive(Debug, Default)]
struct Shared {
    connected: AtomicBool,
}

enum Control {
    Stop(oneshot::Sender<()>),
}

/// Sends and stops; cloneable. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct ReconnectHandle {
    /// One sender for every clone: the queue's bound is the channel's
    /// (a channel's capacity grows with each sender).
    outgoing: Arc<futures_util::lock::Mutex<mpsc::Sender<Message>>>,
    control: mpsc::UnboundedSender<Control>,
    shared: Arc<Shared>,
    offline: Offline,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Stop")
    }
}

impl ReconnectHandle {
    /// Sends `message` on the current session, waiting while its queue is
    /// full; without a session, see [`Offline`].
    pub async fn send(&self, message: impl Into<Message>) -> Result<(), SendError> {
        let message = message.into();
        let mut outgoing = self.outgoing.lock().await;
        if self.is_connected() {
            return futures_util::SinkExt::send(&mut *outgoing, message)
                .await
                .map_err(|_| SendError::Stopped);
        }
        match self.offline {
            Offline::Fail => Err(SendError::Disconnected),
            Offline::Queue(limit) => outgoing.try_send(message).map_err(|e| {
                if e.is_full() {
                    SendError::QueueFull(limit)
                } else {
                    SendError::Stopped
                }
            }),
        }
    }

    /// Sends a text message.
    pub async fn send_text(&self, text: impl Into<crate::Utf8Bytes>) -> Result<(), SendError> {
        self.send(Message::Text(text.into())).await
    }

    /// Whether a session is up now.
    #[must_use]
    pub fn is_connected(&self) -> bool {
        self.shared.connected.load(Ordering::Acquire)
    }

    /// Stops: closes the session (1000), ends the events with
    /// [`End::Stopped`], and returns once the driver is done. Returns at
    /// once if it already stopped.
    pub async fn stop(&self) {
        let (done, finished) = oneshot::channel();
        if self.control.unbounded_send(Control::Stop(done)).is_ok() {
            let _ = finished.await;
        }
    }
}

/// The events of every session, in order: a `Stream` of
/// [`ReconnectEvent`]s that ends after [`ReconnectEvent::Ended`].
#[derive(Debug)]
pub struct ReconnectEvents {
    events: mpsc::Receiver<ReconnectEvent>,
}

impl ReconnectEvents {
    /// The next event; `None` after the last.
    pub async fn next_event(&mut self) -> Option<ReconnectEvent> {
        futures_util::StreamExt::next(&mut self.events).await
    }
}

impl Stream for ReconnectEvents {
    type Item = ReconnectEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.events).poll_next(cx)
    }
}

/// A reconnecting client, not started yet: add the hook, then
/// [`start`](Self::start).
pub struct Reconnect<S: AsyncWrite + Unpin> {
    runtime: Arc<dyn Runtime>,
    dial: Box<dyn Dial<S>>,
    options: ReconnectOptions,
    hook: Option<Hook<S>>,
}

impl<S: AsyncWrite + Unpin> std::fmt::Debug for Reconnect<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reconnect")
            .field("runtime", &self.runtime)
            .field("options", &self.options)
            .field("hook", &self.hook.is_some())
            .finish_non_exhaustive()
    }
}

impl<S> Reconnect<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    /// A client that makes its sessions with `dial`, sleeps and runs its
    /// driver task on `runtime`.
    #[must_use]
    pub fn new(runtime: Arc<dyn Runtime>, dial: impl Dial<S>, options: ReconnectOptions) -> Self {
        Reconnect {
            runtime,
            dial: Box::new(dial),
            options,
            hook: None,
        }
    }

    /// The hook run on every new session before anything queued is sent:
    /// `|ws, connected| Box::pin(async move { ws.send_text("subscribe").await })`.
    #[must_use]
    pub fn on_connect<F>(mut self, hook: F) -> Self
    where
        F: for<'a> FnMut(&'a mut Session<S>, Connected) -> HookFuture<'a> + Send + 'static,
    {
        self.hook = Some(Box::new(hook));
        self
    }

    /// Starts the driver task: the handle to send and stop with, and the
    /// events.
    #[must_use]
    pub fn start(self) -> (ReconnectHandle, ReconnectEvents) {
        let limit = match self.options.offline {
            Offline::Queue(limit) => limit,
            Offline::Fail => DEFAULT_QUEUE,
        };
        // A channel holds its buffer and one message per sender (one here).
        let (outgoing, queued) = mpsc::channel(limit.saturating_sub(1));
        let (control, controls) = mpsc::unbounded();
        let (events_tx, events) = mpsc::channel(EVENT_BUFFER);
        let shared = Arc::new(Shared::default());
        let handle = ReconnectHandle {
            outgoing: Arc::new(futures_util::lock::Mutex::new(outgoing)),
            control,
            shared: shared.clone(),
            offline: self.options.offline,
        };
        let driver = driver::Driver {
            runtime: self.runtime.clone(),
            dial: self.dial,
            options: self.options,
            hook: self.hook,
            queued,
            stopper: driver::Stopper::new(controls),
            events: events_tx,
            shared,
        };
        self.runtime.spawn(Box::pin(driver.run()));
        (handle, ReconnectEvents { events })
    }
}

impl<R: Net> Connector<R> {
    /// A reconnecting client (see [`crate::reconnect`]) that connects to
    /// `request` with this connector every time. Fails only for a request
    /// that is not one (a bad URL); connecting starts with
    /// [`Reconnect::start`].
    pub fn reconnecting(
        &self,
        request: impl IntoClientRequest,
        options: ReconnectOptions,
    ) -> Result<Reconnect<MaybeTls<R::Tcp>>, HandshakeError> {
        let request = request.into_client_request()?;
        let connector = self.clone();
        let dial = move || -> DialFuture<'static, MaybeTls<R::Tcp>> {
            let connector = connector.clone();
            let request = request.clone();
            Box::pin(async move {
                let (session, _) = connector.connect(request).await?;
                Ok(session)
            })
        };
        let runtime: Arc<dyn Runtime> = Arc::new(self.get_runtime().clone());
        Ok(Reconnect::new(runtime, dial, options))
    }
}
