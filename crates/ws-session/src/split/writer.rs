//! The write half of a split session.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_channel::{mpsc, oneshot};
use futures_sink::Sink;
use futures_util::SinkExt as _;
use wsproto_core::{CloseCode, CloseFrame, CloseReason, Frame, Mode, SendError};

use super::{Command, Shared};
use crate::error::Error;
use crate::message::{Message, Utf8Bytes};
use crate::outgoing::Outgoing;

/// The write half of a session split with
/// [`spawn_split`](crate::Session::spawn_split). Cloneable: several tasks
/// may send; messages from one task keep their order. The driver takes a
/// command only while the core's send queue has room, so a full queue
/// makes `send` wait (backpressure reaches the application); once the
/// session is closing, a send fails instead of being dropped.
#[derive(Debug, Clone)]
pub struct SessionWriter {
    commands: mpsc::Sender<Command>,
    shared: Arc<Shared>,
    mode: Mode,
}

impl SessionWriter {
    pub(super) fn new(commands: mpsc::Sender<Command>, shared: Arc<Shared>, mode: Mode) -> Self {
        SessionWriter {
            commands,
            shared,
            mode,
        }
    }

    fn closed_error(&self) -> Error {
        if self.shared.reason.get().is_some() {
            self.shared.end_error()
        } else {
            Error::Send(SendError::Closed)
        }
    }

    async fn command(&mut self, command: Command) -> Result<(), Error> {
        if self.shared.reason.get().is_some() {
            return Err(self.closed_error());
        }
        self.commands
            .send(command)
            .await
            .map_err(|_| self.closed_error())
    }

    /// Checks what it can here (the driver drops a command the core
    /// refuses), then hands `outgoing` to the driver.
    async fn send_outgoing(&mut self, outgoing: Outgoing) -> Result<(), Error> {
        match &outgoing {
            Outgoing::Message(_) | Outgoing::Prepared(_) if self.mode == Mode::Raw => {
                return Err(SendError::MessageInRawMode.into());
            }
            Outgoing::Ping(payload) | Outgoing::Pong(payload) if payload.len() > 125 => {
                return Err(SendError::ControlTooLong(payload.len()).into());
            }
            Outgoing::Close(code, _) if !code.is_sendable() => {
                return Err(SendError::InvalidCloseCode(code.0).into());
            }
            _ => {}
        }
        self.command(Command::Send(outgoing)).await
    }

    /// Sends a text message; waits while the send buffer is full
    /// (backpressure). Returns once the driver has the message.
    pub async fn send_text(&mut self, text: impl Into<Utf8Bytes>) -> Result<(), Error> {
        self.send_message(Message::Text(text.into())).await
    }

    /// Sends a binary message; as [`send_text`](Self::send_text).
    pub async fn send_binary(&mut self, data: impl Into<Bytes>) -> Result<(), Error> {
        self.send_message(Message::Binary(data.into())).await
    }

    /// Sends a message of any kind; as
    /// [`Session::send_message`](crate::Session::send_message).
    pub async fn send_message(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        self.send_outgoing(Outgoing::of_message(message.into(), self.mode)?)
            .await
    }

    /// Sends a prepared message (see [`wsproto_core::PreparedMessage`]):
    /// as [`send_message`](Self::send_message), but framed and compressed
    /// once for every session that can share it. Waits while the send
    /// buffer is full.
    pub async fn send_prepared(
        &mut self,
        message: &wsproto_core::PreparedMessage,
    ) -> Result<(), Error> {
        self.send_outgoing(Outgoing::Prepared(message.clone()))
            .await
    }

    /// Hands a prepared message to the driver without waiting: the
    /// broadcast path ([`crate::broadcast`]), which must never be held up
    /// by one slow session.
    ///
    /// # Errors
    /// [`TrySendError::Full`](crate::broadcast::TrySendError::Full) when
    /// the session's buffers are full (the driver takes no more while the
    /// core's send queue is at `send_queue_limit`): nothing was queued;
    /// [`TrySendError::Closed`](crate::broadcast::TrySendError::Closed)
    /// once the session is closing or ended, or in raw mode.
    pub fn try_send_prepared(
        &mut self,
        message: &wsproto_core::PreparedMessage,
    ) -> Result<(), crate::broadcast::TrySendError> {
        use crate::broadcast::TrySendError;
        if self.mode == Mode::Raw || self.shared.reason.get().is_some() {
            return Err(TrySendError::Closed);
        }
        self.commands
            .try_send(Command::Send(Outgoing::Prepared(message.clone())))
            .map_err(|e| {
                if e.is_full() {
                    TrySendError::Full
                } else {
                    TrySendError::Closed
                }
            })
    }

    /// Starts the close handshake without waiting, even while the send
    /// buffer is full: the Close is queued after what the core already
    /// holds (`close_timeout` bounds the wait for a peer that reads
    /// nothing). For closing a slow subscriber from a publishing loop.
    pub fn close_soon(&self, code: CloseCode, reason: &str) {
        if let Ok(mut slot) = self.shared.close_soon.lock() {
            slot.get_or_insert_with(|| (code, reason.to_owned()));
        }
        self.shared.close_soon_set.store(true, Ordering::Release);
        self.shared.driver_waker.wake();
    }

    /// Sends a frame; as [`Session::send_frame`](crate::Session::send_frame).
    pub async fn send_frame(&mut self, frame: Frame) -> Result<(), Error> {
        self.send_outgoing(Outgoing::of_frame(frame, self.mode)?)
            .await
    }

    /// Sends a ping.
    pub async fn send_ping(&mut self, payload: impl Into<Bytes>) -> Result<(), Error> {
        self.send_outgoing(Outgoing::Ping(payload.into())).await
    }

    /// Sends an unsolicited pong.
    pub async fn send_pong(&mut self, payload: impl Into<Bytes>) -> Result<(), Error> {
        self.send_outgoing(Outgoing::Pong(payload.into())).await
    }

    /// Sends `value` encoded by `converter`.
    pub async fn send_serialized_with<C: crate::Converter, T: serde::Serialize + ?Sized>(
        &mut self,
        converter: &C,
        value: &T,
    ) -> Result<(), Error> {
        let message = converter.serialize(value).map_err(Error::Encode)?;
        self.send_message(message).await
    }

    /// Sends `value` as JSON text.
    #[cfg(feature = "json")]
    pub async fn send_serialized<T: serde::Serialize + ?Sized>(
        &mut self,
        value: &T,
    ) -> Result<(), Error> {
        self.send_serialized_with(&crate::JsonConverter, value)
            .await
    }

    /// Waits until everything sent so far has been written to the
    /// transport.
    pub async fn flush(&mut self) -> Result<(), Error> {
        let (tx, rx) = oneshot::channel();
        self.command(Command::Flush(tx)).await?;
        rx.await.map_err(|_| self.shared.end_error())
    }

    /// Starts the close handshake (`None`: code 1000) and waits until the
    /// session has ended (close handshake done or close timeout); the
    /// reason is then in [`close_reason`](Self::close_reason).
    pub async fn close(&mut self, frame: impl Into<Option<CloseFrame>>) -> Result<(), Error> {
        let frame = frame
            .into()
            .unwrap_or(CloseFrame::new(CloseCode::NORMAL, ""));
        if !frame.code.is_sendable() {
            return Err(SendError::InvalidCloseCode(frame.code.0).into());
        }
        let (tx, rx) = oneshot::channel();
        if let Ok(mut waiters) = self.shared.closed_waiters.lock() {
            waiters.push(tx);
        }
        if self.shared.reason.get().is_some() {
            return Ok(());
        }
        // Already closing or ended: just wait for the end.
        let _ = self
            .commands
            .send(Command::Send(Outgoing::Close(frame.code, frame.reason)))
            .await;
        let _ = rx.await;
        Ok(())
    }

    /// Ends the session at once without a close handshake; the driver drops
    /// pending output and closes the transport.
    pub fn terminate(&self) {
        self.shared.terminate.store(true, Ordering::Release);
        self.shared.driver_waker.wake();
    }

    /// Changes the heartbeat interval at run time (`None` stops it).
    pub async fn set_ping_interval(&mut self, interval: Option<Duration>) -> Result<(), Error> {
        self.command(Command::PingInterval(interval)).await
    }

    /// Changes how long to wait for a heartbeat's pong.
    pub async fn set_timeout(&mut self, timeout: Duration) -> Result<(), Error> {
        self.command(Command::PingTimeout(timeout)).await
    }

    /// How the session ended, once it has.
    #[must_use]
    pub fn close_reason(&self) -> Option<&CloseReason> {
        self.shared.reason.get()
    }
}

/// Messages of every kind in, as for a [`Session`](crate::Session)'s
/// `Sink`. `poll_flush` returns once the driver has the messages (it
/// writes them as soon as the transport allows: use
/// [`flush`](SessionWriter::flush) to wait for that); `poll_close` closes
/// this writer's channel (the session closes once both halves are gone).
impl Sink<Message> for SessionWriter {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.get_mut();
        this.commands
            .poll_ready(cx)
            .map_err(|_| this.closed_error())
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Error> {
        let this = self.get_mut();
        let outgoing = Outgoing::of_message(item, this.mode)?;
        this.commands
            .start_send(Command::Send(outgoing))
            .map_err(|_| this.closed_error())
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().commands.close_channel();
        Poll::Ready(Ok(()))
    }
}
