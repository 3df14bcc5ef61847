//! [`Session::split`](crate::Session::split): a read half and a write half
//! for two tasks, with no lock on the hot path.
//!
//! The connection and the transport move into a driver task (spawned
//! through the [`Runtime`](crate::Runtime)), which runs the same
//! driver loop as an unsplit session. The halves talk to it over two
//! bounded lock-free channels:
//!
//! ```text
//!  SessionWriter ──commands (bounded)──►  driver task  ──events (bounded)──► SessionReader
//!                                        Connection + IO
//!                                        + timer
//! ```
//!
//! - The driver takes a command only while the core's send queue has room,
//!   so a full queue fills the command channel and the writer's `send`
//!   waits: backpressure reaches the application.
//! - It reads from the transport only while it can hand the reader an
//!   event and the reader has less than 1 MiB of payload not yet taken,
//!   so a reader that stops reading stops the socket reads (TCP
//!   backpressure) instead of buffering without bound.
//! - Pongs, the heartbeat and the close reply are the driver's business:
//!   they go out whether or not either half is being polled.
//! - The close reason is published once, in a `OnceLock`, before the
//!   channels close. Once the session is closing, the command channel is
//!   closed: a later `send` fails instead of being dropped.
//! - Dropping the reader discards incoming messages (the driver keeps
//!   reading, so control frames are still answered); dropping both halves
//!   starts the close handshake (1000), which the driver completes.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use futures_channel::{mpsc, oneshot};
use futures_core::Stream;
use futures_io::{AsyncRead, AsyncWrite};
use futures_sink::Sink;
use futures_util::SinkExt as _;
use futures_util::StreamExt as _;
use futures_util::task::AtomicWaker;
use wsproto_core::{CloseCode, CloseReason, Event, Frame, Message, Mode, OpCode, SendError, State};

use crate::driver::{Driver, ROUNDS_PER_POLL};
use crate::error::Error;

/// Messages buffered in each direction between a half and the driver task.
pub(crate) const DEFAULT_CAPACITY: usize = 64;

/// Payload bytes handed to the reader but not yet taken, beyond which the
/// driver stops reading the transport (one message is always let through).
pub(crate) const READ_AHEAD_BYTES: usize = 1 << 20;

/// The payload size an event carries, for the read-ahead bound.
pub(crate) fn event_bytes(event: &Event) -> usize {
    match event {
        Event::Message(message) => message.len(),
        Event::Chunk(chunk) => chunk.data.len(),
        Event::Frame(frame) => frame.payload.len(),
        Event::Ping(payload) | Event::Pong(payload) => payload.len(),
        _ => 0,
    }
}

enum Command {
    Message(Message),
    Prepared(wsproto_core::PreparedMessage),
    Frame(Frame),
    Ping(Bytes),
    Pong(Bytes),
    Close(CloseCode, String),
    Flush(oneshot::Sender<()>),
    PingInterval(Option<Duration>),
    PingTimeout(Duration),
}

#[derive(Default)]
struct Shared {
    reason: OnceLock<CloseReason>,
    /// The transport error, if one ended the session (taken once by the
    /// first half to report it; touched only at the end).
    io_error: Mutex<Option<std::io::Error>>,
    terminate: AtomicBool,
    /// A close asked for without waiting (`SessionWriter::close_soon`);
    /// the flag spares the driver a lock on every poll.
    close_soon: Mutex<Option<(CloseCode, String)>>,
    close_soon_set: AtomicBool,
    /// Payload bytes in the event channel (see `READ_AHEAD_BYTES`).
    in_flight: AtomicUsize,
    /// Waiters for the end of the session (`close`).
    closed_waiters: Mutex<Vec<oneshot::Sender<()>>>,
    driver_waker: AtomicWaker,
}

impl Shared {
    fn end_error(&self) -> Error {
        if let Some(e) = self.io_error.lock().ok().and_then(|mut e| e.take()) {
            return Error::Io(e);
        }
        Error::Closed(self.reason.get().cloned().unwrap_or(CloseReason::Abnormal))
    }
}

pub(crate) fn split<S>(
    driver: Driver<S>,
    kept: VecDeque<Event>,
    capacity: usize,
) -> (SessionReader, SessionWriter)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let capacity = capacity.max(1);
    let (event_tx, event_rx) = mpsc::channel(capacity);
    let (command_tx, command_rx) = mpsc::channel(capacity);
    let shared = Arc::new(Shared::default());
    let runtime = driver.runtime.clone();
    let raw = driver.conn.config().mode() == Mode::Raw;
    let task = DriverTask {
        driver,
        pending: kept,
        event_tx: Some(event_tx),
        command_rx: Some(command_rx),
        flush_waiters: Vec::new(),
        shared: shared.clone(),
    };
    runtime.spawn(Box::pin(task));
    (
        SessionReader {
            events: event_rx,
            peeked: None,
            shared: shared.clone(),
            stream_done: false,
        },
        SessionWriter {
            commands: command_tx,
            shared,
            raw,
        },
    )
}

struct DriverTask<S: AsyncWrite + Unpin> {
    driver: Driver<S>,
    /// An event the reader has no room for yet.
    /// Events taken from the core that the reader has not had room for
    /// yet (handed over first, in order).
    pending: VecDeque<Event>,
    /// `None` once the reader is gone.
    event_tx: Option<mpsc::Sender<Event>>,
    /// `None` once the writer is gone and its commands are drained.
    command_rx: Option<mpsc::Receiver<Command>>,
    flush_waiters: Vec<oneshot::Sender<()>>,
    shared: Arc<Shared>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> DriverTask<S> {
    fn apply(&mut self, command: Command) {
        let now = self.driver.now();
        let conn = &mut self.driver.conn;
        // Refusals (the connection is closing) drop the command: the writer
        // learns of the end from the closed channel and `close_reason`.
        let _ = match command {
            Command::Message(message) => conn.send_message(message),
            Command::Prepared(message) => conn.send_prepared(&message),
            Command::Frame(frame) => conn.send_frame(now, frame),
            Command::Ping(payload) => conn.send_ping(payload),
            Command::Pong(payload) => conn.send_pong(payload),
            Command::Close(code, reason) => {
                crate::trace::trace_debug!(code = code.0, reason, "WebSocket Close sent");
                if conn.config().mode() == Mode::Raw {
                    conn.send_frame(
                        now,
                        Frame::new(
                            OpCode::Close,
                            wsproto_core::CloseFrame::encode_payload(code, &reason),
                        ),
                    )
                } else {
                    conn.close(now, code, &reason)
                }
            }
            Command::Flush(done) => {
                self.flush_waiters.push(done);
                Ok(())
            }
            Command::PingInterval(interval) => {
                conn.set_ping_interval(now, interval);
                Ok(())
            }
            Command::PingTimeout(timeout) => {
                conn.set_ping_timeout(now, timeout);
                Ok(())
            }
        };
    }

    /// Hands events to the reader while it has room. `true` when any moved.
    fn forward_events(&mut self, cx: &mut Context<'_>) -> bool {
        let mut moved = false;
        loop {
            let Some(event) = self
                .pending
                .pop_front()
                .or_else(|| self.driver.poll_event())
            else {
                return moved;
            };
            if let Event::Closed(reason) = event {
                let _ = self.shared.reason.set(reason);
                moved = true;
                continue;
            }
            let Some(tx) = &mut self.event_tx else {
                moved = true; // nobody reads: drop it
                continue;
            };
            match tx.poll_ready(cx) {
                Poll::Ready(Ok(())) => {
                    self.shared
                        .in_flight
                        .fetch_add(event_bytes(&event), Ordering::AcqRel);
                    let _ = tx.start_send(event);
                    moved = true;
                }
                Poll::Ready(Err(_)) => {
                    self.event_tx = None;
                    moved = true;
                }
                Poll::Pending => {
                    self.pending.push_front(event);
                    return moved;
                }
            }
        }
    }

    /// Takes commands while the core accepts data. `true` when any came.
    fn take_commands(&mut self, cx: &mut Context<'_>) -> bool {
        let mut took = false;
        loop {
            let Some(rx) = &mut self.command_rx else {
                return took;
            };
            if self.driver.conn.is_close_queued() {
                // No data may follow our Close: later sends fail at once
                // instead of being dropped here; queued ones drain below.
                // (In raw mode the peer's Close is answered through here.)
                rx.close();
            } else if !self.driver.conn.can_send() {
                return took;
            }
            match rx.poll_next_unpin(cx) {
                Poll::Ready(Some(command)) => {
                    self.apply(command);
                    took = true;
                }
                Poll::Ready(None) => {
                    self.command_rx = None;
                    took = true;
                }
                Poll::Pending => return took,
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> DriverTask<S> {
    fn finish(&mut self) {
        if let Some(reason) = self.driver.conn.close_reason() {
            let _ = self.shared.reason.set(reason.clone());
        }
        if let Some(e) = self.driver.io_error.take()
            && let Ok(mut slot) = self.shared.io_error.lock()
        {
            *slot = Some(e);
        }
        self.flush_waiters.clear();
        if let Ok(mut waiters) = self.shared.closed_waiters.lock() {
            for waiter in waiters.drain(..) {
                let _ = waiter.send(());
            }
        }
        self.event_tx = None;
        self.command_rx = None;
    }
}

impl<S: AsyncWrite + Unpin> Drop for DriverTask<S> {
    fn drop(&mut self) {
        // Also when the runtime drops the task unfinished: nobody waits forever.
        self.finish();
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> std::future::Future for DriverTask<S> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.shared.driver_waker.register(cx.waker());
        let mut rounds = 0;
        loop {
            if this.event_tx.as_ref().is_some_and(mpsc::Sender::is_closed) {
                this.event_tx = None;
            }
            if this.event_tx.is_none()
                && this.command_rx.is_none()
                && this.driver.conn.state() == State::Open
            {
                // Both halves are gone: end politely.
                let now = this.driver.now();
                let _ = this.driver.conn.close(now, CloseCode::NORMAL, "");
            }
            if this.shared.terminate.load(Ordering::Acquire)
                && this.driver.conn.state() != State::Closed
            {
                this.driver.conn.terminate();
            }
            if this.shared.close_soon_set.swap(false, Ordering::AcqRel)
                && let Some((code, reason)) = this
                    .shared
                    .close_soon
                    .lock()
                    .ok()
                    .and_then(|mut c| c.take())
            {
                let now = this.driver.now();
                let _ = this.driver.conn.close(now, code, &reason);
            }
            let mut progressed = this.forward_events(cx);
            progressed |= this.take_commands(cx);
            // `Ready`: everything the core had, so everything sent before
            // a flush, is written.
            if this.driver.poll_write_out(cx).is_ready() {
                for waiter in this.flush_waiters.drain(..) {
                    let _ = waiter.send(());
                }
            }
            if this.driver.may_close_transport() {
                ready!(this.driver.poll_close_transport(cx));
                // Every event is handed to the reader before the end is.
                this.forward_events(cx);
                if !this.pending.is_empty() {
                    return Poll::Pending;
                }
                this.finish();
                return Poll::Ready(());
            }
            // Read on only while the reader keeps up: no event waiting for
            // room, and the bytes it has not taken yet under the bound (it
            // wakes us when it drains below).
            let read = this.pending.is_empty()
                && this.shared.in_flight.load(Ordering::Acquire) < READ_AHEAD_BYTES;
            if this.driver.poll_drive(cx, read).is_ready() {
                progressed = true;
            }
            if !progressed {
                return Poll::Pending;
            }
            rounds += 1;
            if rounds >= ROUNDS_PER_POLL {
                // The transport never ran dry: let other tasks run.
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
    }
}

/// The read half of a split session. Receives while the
/// [`SessionWriter`] sends from another task.
#[derive(Debug)]
pub struct SessionReader {
    events: mpsc::Receiver<Event>,
    peeked: Option<Event>,
    shared: Arc<Shared>,
    stream_done: bool,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("reason", &self.reason.get())
            .finish_non_exhaustive()
    }
}

impl crate::session::EventSource for SessionReader {
    fn poll_source_event(&mut self, cx: &mut Context<'_>) -> Poll<Result<Event, Error>> {
        self.poll_event(cx)
    }

    fn keep(&mut self, event: Event) {
        self.peeked = Some(event);
    }

    fn stream_done(&mut self) -> &mut bool {
        &mut self.stream_done
    }
}

impl SessionReader {
    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Result<Event, Error>> {
        if let Some(event) = self.peeked.take() {
            return Poll::Ready(Ok(event));
        }
        match ready!(self.events.poll_next_unpin(cx)) {
            Some(event) => {
                let size = event_bytes(&event);
                let before = self.shared.in_flight.fetch_sub(size, Ordering::AcqRel);
                if before >= READ_AHEAD_BYTES && before - size < READ_AHEAD_BYTES {
                    self.shared.driver_waker.wake();
                }
                Poll::Ready(Ok(event))
            }
            None => Poll::Ready(Err(self.shared.end_error())),
        }
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<Message, Error>> {
        crate::session::EventSource::poll_message(self, cx)
    }

    /// The next message; as [`Session::recv`](crate::Session::recv).
    /// Cancellation-safe.
    pub async fn recv(&mut self) -> Result<Message, Error> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The next event; as [`Session::recv_event`](crate::Session::recv_event).
    /// Cancellation-safe.
    pub async fn recv_event(&mut self) -> Result<Event, Error> {
        std::future::poll_fn(|cx| self.poll_event(cx)).await
    }

    /// The next frame; as [`Session::recv_frame`](crate::Session::recv_frame)
    /// (raw mode). Cancellation-safe.
    pub async fn recv_frame(&mut self) -> Result<Frame, Error> {
        loop {
            if let Some(frame) = crate::session::frame_of(self.recv_event().await?) {
                return Ok(frame);
            }
        }
    }

    /// Receives the next message and decodes it; as
    /// [`Session::receive_deserialized_with`](crate::Session::receive_deserialized_with).
    pub async fn receive_deserialized_with<C: crate::Converter, T: serde::de::DeserializeOwned>(
        &mut self,
        converter: &C,
    ) -> Result<T, Error> {
        let message = self.recv().await?;
        converter
            .deserialize(&message)
            .map_err(|source| Error::Convert { message, source })
    }

    /// Receives the next message as JSON.
    #[cfg(feature = "json")]
    pub async fn receive_deserialized<T: serde::de::DeserializeOwned>(
        &mut self,
    ) -> Result<T, Error> {
        self.receive_deserialized_with(&crate::JsonConverter).await
    }

    /// How the session ended, once it has.
    #[must_use]
    pub fn close_reason(&self) -> Option<&CloseReason> {
        self.shared.reason.get()
    }
}

impl Stream for SessionReader {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        crate::session::EventSource::poll_stream(self.get_mut(), cx)
    }
}

/// The write half of a split session. Cloneable: several tasks may send;
/// messages from one task keep their order.
#[derive(Debug, Clone)]
pub struct SessionWriter {
    commands: mpsc::Sender<Command>,
    shared: Arc<Shared>,
    raw: bool,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Command")
    }
}

impl SessionWriter {
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

    /// Sends a text message; waits while the send buffer is full
    /// (backpressure). Returns once the driver has the message.
    pub async fn send_text(
        &mut self,
        text: impl Into<wsproto_core::ByteString>,
    ) -> Result<(), Error> {
        self.send_message(Message::Text(text.into())).await
    }

    /// Sends a binary message; as [`send_text`](Self::send_text).
    pub async fn send_binary(&mut self, data: impl Into<Bytes>) -> Result<(), Error> {
        self.send_message(Message::Binary(data.into())).await
    }

    /// Sends a message; as [`send_text`](Self::send_text).
    pub async fn send_message(&mut self, message: Message) -> Result<(), Error> {
        if self.raw {
            return Err(Error::Send(SendError::MessageInRawMode));
        }
        self.command(Command::Message(message)).await
    }

    /// Sends a prepared message (see [`wsproto_core::PreparedMessage`]):
    /// as [`send_message`](Self::send_message), but framed and compressed
    /// once for every session that can share it. Waits while the send
    /// buffer is full.
    pub async fn send_prepared(
        &mut self,
        message: &wsproto_core::PreparedMessage,
    ) -> Result<(), Error> {
        if self.raw {
            return Err(Error::Send(SendError::MessageInRawMode));
        }
        self.command(Command::Prepared(message.clone())).await
    }

    /// Hands a prepared message to the driver without waiting: the
    /// broadcast path ([`crate::broadcast`]), which must never be held up
    /// by one slow session.
    ///
    /// # Errors
    /// [`TrySendError::Full`](crate::broadcast::TrySendError::Full) when the session's buffers are full (the
    /// driver takes no more while the core's send queue is at
    /// `send_queue_limit`): nothing was queued; [`TrySendError::Closed`](crate::broadcast::TrySendError::Closed)
    /// once the session is closing or ended, or in raw mode.
    pub fn try_send_prepared(
        &mut self,
        message: &wsproto_core::PreparedMessage,
    ) -> Result<(), crate::broadcast::TrySendError> {
        use crate::broadcast::TrySendError;
        if self.raw || self.shared.reason.get().is_some() {
            return Err(TrySendError::Closed);
        }
        self.commands
            .try_send(Command::Prepared(message.clone()))
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

    /// Sends a frame: as it is in raw mode; in default mode as for
    /// [`Session::send`](crate::Session::send).
    pub async fn send(&mut self, frame: Frame) -> Result<(), Error> {
        if self.raw {
            return self.command(Command::Frame(frame)).await;
        }
        match frame.opcode {
            OpCode::Ping => self.send_ping(frame.payload).await,
            OpCode::Pong => self.send_pong(frame.payload).await,
            OpCode::Close => {
                let close = wsproto_core::CloseFrame::parse(&frame.payload)
                    .map_err(|_| SendError::InvalidFrame("malformed Close payload"))?;
                let (code, reason) =
                    close.map_or((CloseCode::NORMAL, String::new()), |c| (c.code, c.reason));
                self.command(Command::Close(code, reason)).await
            }
            _ if !frame.fin || frame.opcode == OpCode::Continuation => Err(Error::Send(
                SendError::InvalidFrame("default mode sends whole messages"),
            )),
            OpCode::Text => {
                let text = wsproto_core::ByteString::try_from(frame.payload)
                    .map_err(|_| SendError::InvalidFrame("text frame payload is not UTF-8"))?;
                self.send_message(Message::Text(text)).await
            }
            _ => self.send_message(Message::Binary(frame.payload)).await,
        }
    }

    /// Sends a ping.
    pub async fn send_ping(&mut self, payload: impl Into<Bytes>) -> Result<(), Error> {
        let payload = payload.into();
        if payload.len() > 125 {
            return Err(SendError::ControlTooLong(payload.len()).into());
        }
        self.command(Command::Ping(payload)).await
    }

    /// Sends an unsolicited pong.
    pub async fn send_pong(&mut self, payload: impl Into<Bytes>) -> Result<(), Error> {
        let payload = payload.into();
        if payload.len() > 125 {
            return Err(SendError::ControlTooLong(payload.len()).into());
        }
        self.command(Command::Pong(payload)).await
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

    /// Starts the close handshake and waits until the session has ended
    /// (close handshake done or close timeout); the reason is then in
    /// [`close_reason`](Self::close_reason).
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        if !code.is_sendable() {
            return Err(SendError::InvalidCloseCode(code.0).into());
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
            .send(Command::Close(code, reason.to_owned()))
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
        this.commands
            .start_send(Command::Message(item))
            .map_err(|_| this.closed_error())
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        // Messages handed to the driver are written as soon as the
        // transport allows; use `flush()` to wait for that.
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().commands.close_channel();
        Poll::Ready(Ok(()))
    }
}
