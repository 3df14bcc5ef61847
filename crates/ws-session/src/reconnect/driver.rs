//! The reconnecting client's task: connect (with backoff), run the hook,
//! move messages both ways until the session ends, decide whether to
//! connect again. Every wait also watches for a stop.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_channel::{mpsc, oneshot};
use futures_io::{AsyncRead, AsyncWrite};
use futures_util::{SinkExt as _, StreamExt as _};
use wsproto_core::{CloseCode, CloseFrame};

use super::backoff::JitterRng;
use super::{
    Connected, Control, Dial, DialError, End, Hook, ReconnectEvent, ReconnectOptions, Shared,
};
use crate::error::Error;
use crate::message::Message;
use crate::runtime::Runtime;
use crate::session::Session;

/// Stop requests, and who waits for the stop to finish.
pub(super) struct Stopper {
    pub(super) controls: mpsc::UnboundedReceiver<Control>,
    waiters: Vec<oneshot::Sender<()>>,
}

impl Stopper {
    pub(super) fn new(controls: mpsc::UnboundedReceiver<Control>) -> Self {
        Stopper {
            controls,
            waiters: Vec::new(),
        }
    }

    /// `Ready` once a stop was asked for.
    fn poll_stop(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        while let Poll::Ready(Some(Control::Stop(waiter))) = self.controls.poll_next_unpin(cx) {
            self.waiters.push(waiter);
        }
        if self.waiters.is_empty() {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }

    /// `future`'s output, or `None` when a stop comes first.
    async fn or_stop<F: Future>(&mut self, future: F) -> Option<F::Output> {
        let mut future = pin!(future);
        poll_fn(|cx| {
            if self.poll_stop(cx).is_ready() {
                return Poll::Ready(None);
            }
            future.as_mut().poll(cx).map(Some)
        })
        .await
    }
}

/// How a session's conversation ended.
enum Outcome {
    /// Reconnect.
    Lost(Error),
    /// Stop for good.
    End(End),
}

/// What woke the conversation up.
enum Step {
    Stop,
    Send(Message),
    QueueClosed,
    Received(Result<Message, Error>),
}

pub(super) struct Driver<S: AsyncWrite + Unpin> {
    pub(super) runtime: Arc<dyn Runtime>,
    pub(super) dial: Box<dyn Dial<S>>,
    pub(super) options: ReconnectOptions,
    pub(super) hook: Option<Hook<S>>,
    pub(super) queued: mpsc::Receiver<Message>,
    pub(super) stopper: Stopper,
    pub(super) events: mpsc::Sender<ReconnectEvent>,
    pub(super) shared: Arc<Shared>,
}

impl<S> Driver<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    pub(super) async fn run(mut self) {
        let mut rng = self
            .options
            .seed
            .map_or_else(JitterRng::from_os, JitterRng::new);
        let mut reconnects = 0u64;
        let mut lost_at: Option<Instant> = None;
        let end = loop {
            let (mut session, attempts) = match self.connect(&mut rng, reconnects, lost_at).await {
                Ok(connected) => connected,
                Err(end) => break end,
            };
            self.shared.connected.store(true, Ordering::Release);
            let event = match lost_at {
                None => ReconnectEvent::Connected { attempts },
                Some(lost) => ReconnectEvent::Reconnected {
                    attempts,
                    gap: self.runtime.now().saturating_duration_since(lost),
                },
            };
            reconnects += 1;
            let outcome = if self.emit(event).await {
                self.converse(&mut session).await
            } else {
                Outcome::End(End::Stopped)
            };
            self.shared.connected.store(false, Ordering::Release);
            match outcome {
                Outcome::Lost(error) => {
                    lost_at = Some(self.runtime.now());
                    drop(session);
                    if !self.emit(ReconnectEvent::Disconnected(error)).await {
                        break End::Stopped;
                    }
                }
                Outcome::End(end) => {
                    if matches!(end, End::Stopped) {
                        let bye = CloseFrame::new(CloseCode::NORMAL, "");
                        let _ = session.close(bye).await;
                    }
                    break end;
                }
            }
        };
        self.shared.connected.store(false, Ordering::Release);
        let _ = self.events.send(ReconnectEvent::Ended(end)).await;
        for waiter in self.stopper.waiters.drain(..) {
            let _ = waiter.send(());
        }
    }

    /// Connects, waiting the backoff before each attempt of a reconnect
    /// and after each failure, and runs the hook: the session and the
    /// attempts it took.
    async fn connect(
        &mut self,
        rng: &mut JitterRng,
        reconnects: u64,
        lost_at: Option<Instant>,
    ) -> Result<(Session<S>, u32), End> {
        let mut failed = 0u32;
        if lost_at.is_some() {
            let delay = self.options.backoff.delay(0, rng.next_u64());
            self.sleep(delay).await.ok_or(End::Stopped)?;
        }
        loop {
            let error = match self.stopper.or_stop(self.dial.dial()).await {
                None => return Err(End::Stopped),
                Some(Ok(mut session)) => match self.run_hook(&mut session, reconnects).await {
                    Ok(()) => return Ok((session, failed + 1)),
                    Err(error) => Box::new(error) as DialError,
                },
                Some(Err(error)) => error,
            };
            failed += 1;
            if self.options.max_attempts.is_some_and(|max| failed >= max) {
                return Err(End::GaveUp {
                    attempts: failed,
                    error,
                });
            }
            let retry_in = self.options.backoff.delay(failed, rng.next_u64());
            let event = ReconnectEvent::AttemptFailed {
                attempt: failed,
                error,
                retry_in,
            };
            if !self.emit(event).await {
                return Err(End::Stopped);
            }
            self.sleep(retry_in).await.ok_or(End::Stopped)?;
        }
    }

    async fn run_hook(&mut self, session: &mut Session<S>, reconnects: u64) -> Result<(), Error> {
        match &mut self.hook {
            Some(hook) => hook(session, Connected { reconnects }).await,
            None => Ok(()),
        }
    }

    /// Messages both ways until the session ends or a stop comes.
    async fn converse(&mut self, session: &mut Session<S>) -> Outcome {
        let mut queue_open = true;
        loop {
            let step = {
                let mut recv = pin!(session.recv());
                poll_fn(|cx| {
                    if self.stopper.poll_stop(cx).is_ready() {
                        return Poll::Ready(Step::Stop);
                    }
                    if queue_open {
                        match self.queued.poll_next_unpin(cx) {
                            Poll::Ready(Some(message)) => return Poll::Ready(Step::Send(message)),
                            Poll::Ready(None) => return Poll::Ready(Step::QueueClosed),
                            Poll::Pending => {}
                        }
                    }
                    recv.as_mut().poll(cx).map(Step::Received)
                })
                .await
            };
            let error = match step {
                Step::Stop => return Outcome::End(End::Stopped),
                Step::QueueClosed => {
                    queue_open = false;
                    continue;
                }
                Step::Received(Ok(message)) => {
                    if self.emit(ReconnectEvent::Message(message)).await {
                        continue;
                    }
                    return Outcome::End(End::Stopped);
                }
                Step::Send(message) => match session.send_message(message).await {
                    Ok(()) => continue,
                    Err(error @ Error::Send(_)) => {
                        if self.emit(ReconnectEvent::SendFailed(error)).await {
                            continue;
                        }
                        return Outcome::End(End::Stopped);
                    }
                    Err(error) => error,
                },
                Step::Received(Err(error)) => error,
            };
            return match error {
                Error::Closed(reason) if !self.options.reconnects_after(&reason) => {
                    Outcome::End(End::Closed(reason))
                }
                other => Outcome::Lost(other),
            };
        }
    }

    /// Hands `event` to the application (waiting while it is behind);
    /// `false` when it is gone or a stop came.
    async fn emit(&mut self, event: ReconnectEvent) -> bool {
        matches!(
            self.stopper.or_stop(self.events.send(event)).await,
            Some(Ok(()))
        )
    }

    /// Sleeps `delay` on the runtime's timer; `None` when a stop came.
    async fn sleep(&mut self, delay: Duration) -> Option<()> {
        let mut timer = self.runtime.new_timer(self.runtime.now() + delay);
        self.stopper
            .or_stop(poll_fn(|cx| timer.as_mut().poll_expired(cx)))
            .await
    }
}
