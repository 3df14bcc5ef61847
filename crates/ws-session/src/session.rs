//! The session: the protocol core and its transport, driven inline by
//! whichever method the application is awaiting.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use futures_io::{AsyncRead, AsyncWrite};
use futures_sink::Sink;
use wsproto_core::{
    CloseCode, CloseReason, Connection, Event, Frame, Message, Mode, OpCode, SendError, State,
};

use crate::convert::Converter;
use crate::driver::{Driver, ROUNDS_PER_POLL};
use crate::error::Error;
use crate::runtime::Runtime;
use crate::split::{READ_AHEAD_BYTES, event_bytes};

/// A WebSocket session over a transport `S` (Ktor's
/// `DefaultWebSocketSession`, or `webSocketRaw` when the config's mode is
/// [`Mode::Raw`]).
///
/// The session has no task of its own: every `async` method drives the
/// connection while it waits. Awaiting [`recv`](Self::recv) is enough to
/// keep heartbeats, automatic pongs, the close handshake and its timeouts
/// running. Use [`split`](Self::split) to read and write from two tasks.
///
/// # Cancellation
///
/// Every method is cancellation-safe: all state lives in the session, none
/// in the returned futures. Dropping a [`recv`](Self::recv) future (for
/// example in a losing `select!` branch) loses no message: an event is taken
/// from the protocol core only in the poll that returns it. A dropped
/// `send_*` either queued its message whole or not at all.
///
/// # Dropping
///
/// Prefer [`close`](Self::close), which waits for the peer's answer.
/// A session dropped while open queues a Close 1001 (going away) and writes
/// what the transport takes at once, without waiting, so the peer usually
/// sees a closing endpoint rather than a vanished one (1006).
pub struct Session<S: AsyncWrite + Unpin> {
    driver: Driver<S>,
    /// Events taken from the core but not yet handed out: the one `recv()`
    /// could not return as a message, and those that arrived while
    /// [`close`](Self::close) waited for the peer's Close.
    kept: VecDeque<Event>,
    /// Payload bytes in `kept` (bounded while closing).
    kept_bytes: usize,
    /// Rounds of transport progress since the session last waited (see
    /// [`ROUNDS_PER_POLL`]).
    rounds: u32,
    /// The end of the session was reported by the `Stream` implementation.
    stream_done: bool,
    /// A control event was taken while more input waited, so a reply the
    /// core made to it (a pong, the echoed Close) may still be unwritten.
    replies_unsent: bool,
}

impl<S: AsyncWrite + Unpin> std::fmt::Debug for Session<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("driver", &self.driver)
            .finish_non_exhaustive()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<S> {
    /// A session over `io` for a connection that has completed its
    /// handshake (`ClientUpgrade::into_connection`,
    /// `ServerUpgrade::into_connection`, or built directly).
    pub fn from_connection(conn: Connection, io: S, runtime: Arc<dyn Runtime>) -> Self {
        Session {
            driver: Driver::new(conn, io, runtime),
            kept: VecDeque::new(),
            kept_bytes: 0,
            rounds: 0,
            stream_done: false,
            replies_unsent: false,
        }
    }

    /// The protocol core, for inspection (state, negotiated extensions,
    /// queued bytes).
    #[must_use]
    pub fn connection(&self) -> &Connection {
        &self.driver.conn
    }

    /// How the session ended, once it has (however it ended: close
    /// handshake, error, timeout, transport loss or termination).
    #[must_use]
    pub fn close_reason(&self) -> Option<&CloseReason> {
        self.driver.conn.close_reason()
    }

    /// Changes the heartbeat interval at run time (`None` stops it).
    pub fn set_ping_interval(&mut self, interval: Option<Duration>) {
        let now = self.driver.now();
        self.driver.conn.set_ping_interval(now, interval);
    }

    /// Changes how long to wait for a heartbeat's pong (Ktor's `timeout`).
    pub fn set_timeout(&mut self, timeout: Duration) {
        let now = self.driver.now();
        self.driver.conn.set_ping_timeout(now, timeout);
    }

    /// The error that reports the end of the session: the transport error
    /// first (once), then the close reason.
    fn end_error(&mut self) -> Error {
        if let Some(e) = self.driver.io_error.take() {
            return Error::Io(e);
        }
        Error::Closed(
            self.driver
                .conn
                .close_reason()
                .cloned()
                .unwrap_or(CloseReason::Abnormal),
        )
    }

    /// Drives the connection until it yields an event. `Err` once the
    /// session has ended and the transport is closed.
    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Result<Event, Error>> {
        if let Some(event) = self.kept.pop_front() {
            self.kept_bytes -= event_bytes(&event);
            return Poll::Ready(Ok(event));
        }
        loop {
            match self.driver.poll_event() {
                // The end is reported once the transport is closed, below.
                Some(Event::Closed(_)) => continue,
                Some(event) => {
                    // Replies the core made (a pong, the echoed Close) go
                    // out now, not at the next call, unless more input is
                    // waiting: then the next call needs no read, and writes
                    // (coalesced) once input runs out. A data event leaves
                    // the writing to the next call that needs the
                    // transport: an application that answers it with
                    // `feed_message` then has its answer in the same write
                    // as the answers to the messages before it (one write
                    // per read of pipelined messages, not two).
                    if !is_data(&event) {
                        self.replies_unsent = true;
                    }
                    if self.replies_unsent {
                        self.write_unless_input_waiting(cx);
                    }
                    return Poll::Ready(Ok(event));
                }
                None => {}
            }
            if self.driver.conn.state() == State::Closed && self.driver.may_close_transport() {
                let _ = self.driver.poll_write_out(cx);
                ready!(self.driver.poll_close_transport(cx));
                return Poll::Ready(Err(self.end_error()));
            }
            if self.driver.poll_drive(cx, true).is_pending() {
                self.rounds = 0;
                return Poll::Pending;
            }
            self.rounds += 1;
            if self.rounds >= ROUNDS_PER_POLL {
                // The transport never ran dry: let other tasks run.
                self.rounds = 0;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
    }

    /// Drives the connection until it has ended and the transport is
    /// closed, leaving received events in place for `recv`.
    fn poll_until_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            self.take_events_while_closing();
            if self.driver.transport_closed {
                return Poll::Ready(());
            }
            if self.driver.may_close_transport() {
                let _ = self.driver.poll_write_out(cx);
                return self.driver.poll_close_transport(cx);
            }
            ready!(self.driver.poll_drive(cx, true));
        }
    }

    /// The core parses input only as its events are taken, so waiting for
    /// the peer's Close means taking what comes before it: data is kept for
    /// `recv` (up to [`READ_AHEAD_BYTES`] of payload; past that it is
    /// dropped, as the application has said it is done), control frames
    /// are dropped (the core has answered them).
    fn take_events_while_closing(&mut self) {
        while let Some(event) = self.driver.poll_event() {
            let data = matches!(event, Event::Message(_) | Event::Frame(_) | Event::Chunk(_));
            let bytes = event_bytes(&event);
            if data && self.kept_bytes + bytes <= READ_AHEAD_BYTES {
                self.kept_bytes += bytes;
                self.kept.push_back(event);
            }
        }
    }

    /// Waits until the core accepts another message (backpressure: the send
    /// queue is below `Config::with_send_queue_limit`), writing meanwhile.
    fn poll_send_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        loop {
            if self.driver.conn.state() == State::Closed {
                return Poll::Ready(Err(self.end_error()));
            }
            // Closing: nothing may follow our Close. In raw mode the peer's
            // Close is answered by the application, so sending goes on
            // until our own Close is queued.
            if self.driver.conn.is_close_queued() {
                return Poll::Ready(Err(Error::Send(SendError::Closed)));
            }
            if self.driver.conn.can_send() {
                return Poll::Ready(Ok(()));
            }
            if self.driver.poll_write_out(cx).is_pending() {
                // The peer is not reading: only the core's timers (close,
                // heartbeat) can change anything until the transport drains.
                ready!(self.driver.poll_timer(cx));
            } else if self.driver.conn.queued_bytes() == 0 {
                // Nothing left to wait for (a zero queue limit): let the
                // core give its answer.
                return Poll::Ready(Ok(()));
            }
        }
    }

    /// Writes out everything queued. `Err` if the transport failed.
    fn poll_flush_out(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        ready!(self.driver.poll_write_out(cx));
        if self.driver.broken {
            return Poll::Ready(Err(self.end_error()));
        }
        // `poll_write_out` returns `Ready` only once `poll_transmit` came
        // back empty: everything the core had is written.
        Poll::Ready(Ok(()))
    }

    /// Queues `command` once the core has room, then starts writing without
    /// waiting for the write to finish.
    async fn send_with(
        &mut self,
        command: impl FnOnce(&mut Connection, std::time::Instant) -> Result<(), SendError>,
    ) -> Result<(), Error> {
        std::future::poll_fn(|cx| self.poll_send_ready(cx)).await?;
        let now = self.driver.now();
        command(&mut self.driver.conn, now)?;
        std::future::poll_fn(|cx| {
            let _ = self.driver.poll_write_out(cx);
            Poll::Ready(())
        })
        .await;
        Ok(())
    }

    /// Starts writing what the core has queued, unless received input is
    /// already waiting to be parsed: then the next `recv` returns without
    /// reading, and the one that runs out of input writes everything queued
    /// meanwhile (replies the core made, messages given to
    /// [`feed_message`](Self::feed_message)) in one go.
    fn write_unless_input_waiting(&mut self, cx: &mut Context<'_>) {
        if self.driver.conn.buffered_input() == 0 {
            self.replies_unsent = false;
            let _ = self.driver.poll_write_out(cx);
        }
    }

    /// Sends a text message. Waits while the send queue is full
    /// (backpressure); returns once the message is queued and writing has
    /// started. Use [`flush`](Self::flush) to wait until it is written.
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
        self.send_with(|conn, _| conn.send_message(message)).await
    }

    /// Sends a prepared message (see [`wsproto_core::PreparedMessage`]):
    /// as [`send_message`](Self::send_message), but framed and compressed
    /// once for every session that can share it.
    pub async fn send_prepared(
        &mut self,
        message: &wsproto_core::PreparedMessage,
    ) -> Result<(), Error> {
        self.send_with(|conn, _| conn.send_prepared(message)).await
    }

    /// Queues a message without starting to write it (`Sink::feed`'s
    /// meaning). Waits while the send queue is full, writing meanwhile. It
    /// goes out with the next [`recv`](Self::recv) that needs the
    /// transport, [`flush`](Self::flush), `close` or `send_*`: a loop that
    /// answers each message it receives with `feed_message` answers a
    /// burst of pipelined messages with one write instead of one each.
    /// Call `flush` (or keep calling `recv`) or it may not be sent.
    pub async fn feed_message(&mut self, message: Message) -> Result<(), Error> {
        std::future::poll_fn(|cx| self.poll_send_ready(cx)).await?;
        self.driver.conn.send_message(message)?;
        Ok(())
    }

    /// Sends a frame (Ktor's `send(Frame)`). In raw mode the frame goes out
    /// as it is. In default mode a final Text/Binary frame is sent as a
    /// message, Ping/Pong as control frames and Close starts the close
    /// handshake (without waiting for it: see [`close`](Self::close));
    /// fragments are refused ([`SendError::InvalidFrame`]).
    pub async fn send(&mut self, frame: Frame) -> Result<(), Error> {
        if self.driver.conn.config().mode() == Mode::Raw {
            return self
                .send_with(|conn, now| conn.send_frame(now, frame))
                .await;
        }
        match frame.opcode {
            OpCode::Ping => {
                let payload = frame.payload;
                self.send_with(|conn, _| conn.send_ping(payload)).await
            }
            OpCode::Pong => {
                let payload = frame.payload;
                self.send_with(|conn, _| conn.send_pong(payload)).await
            }
            OpCode::Close => {
                let close = wsproto_core::CloseFrame::parse(&frame.payload)
                    .map_err(|_| SendError::InvalidFrame("malformed Close payload"))?;
                let (code, reason) =
                    close.map_or((CloseCode::NORMAL, String::new()), |c| (c.code, c.reason));
                self.send_with(|conn, now| conn.close(now, code, &reason))
                    .await
            }
            _ if !frame.fin || frame.opcode == OpCode::Continuation => Err(Error::Send(
                SendError::InvalidFrame("default mode sends whole messages: use send_fragmented"),
            )),
            OpCode::Text => {
                let text = wsproto_core::ByteString::try_from(frame.payload)
                    .map_err(|_| SendError::InvalidFrame("text frame payload is not UTF-8"))?;
                self.send_message(Message::Text(text)).await
            }
            _ => self.send_message(Message::Binary(frame.payload)).await,
        }
    }

    /// Sends a message as frames of at most `fragment_size` payload bytes.
    pub async fn send_fragmented(
        &mut self,
        message: Message,
        fragment_size: usize,
    ) -> Result<(), Error> {
        self.send_with(|conn, _| conn.send_fragmented(message, fragment_size))
            .await
    }

    /// Sends a ping (default mode; the pong arrives as [`Event::Pong`] from
    /// [`recv_event`](Self::recv_event)).
    pub async fn send_ping(&mut self, payload: impl Into<Bytes>) -> Result<(), Error> {
        let payload = payload.into();
        self.send_with(|conn, _| conn.send_ping(payload)).await
    }

    /// Sends an unsolicited pong.
    pub async fn send_pong(&mut self, payload: impl Into<Bytes>) -> Result<(), Error> {
        let payload = payload.into();
        self.send_with(|conn, _| conn.send_pong(payload)).await
    }

    /// Waits until everything queued has been written to the transport.
    pub async fn flush(&mut self) -> Result<(), Error> {
        std::future::poll_fn(|cx| self.poll_flush_out(cx)).await
    }

    /// The next message. Pings, pongs and the peer's Close are handled by
    /// the core and skipped here (see [`recv_event`](Self::recv_event) to
    /// see them). In raw mode, unfragmented data frames are returned as
    /// messages and control frames skipped; a fragment (or a streamed chunk
    /// in default mode) is [`Error::Streaming`] and stays available to
    /// [`recv_frame`](Self::recv_frame) / [`recv_event`](Self::recv_event).
    ///
    /// Returns [`Error::Closed`] once the session has ended, with the
    /// reason (`CloseReason::Normal` after a close handshake), and
    /// [`Error::Io`] once if the transport failed.
    ///
    /// Cancellation-safe: dropping the future loses nothing.
    pub async fn recv(&mut self) -> Result<Message, Error> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<Message, Error>> {
        EventSource::poll_message(self, cx)
    }

    /// The next event of any kind: messages, streamed chunks, frames (raw
    /// mode), pings and pongs, the peer's Close. [`Event::Closed`] is not
    /// returned; the end is `Err(Error::Closed(reason))` as for
    /// [`recv`](Self::recv). Cancellation-safe.
    pub async fn recv_event(&mut self) -> Result<Event, Error> {
        std::future::poll_fn(|cx| self.poll_event(cx)).await
    }

    /// The next frame, as it came off the wire (raw mode; Ktor's
    /// `webSocketRaw` `incoming`). In default mode, messages are returned as
    /// final frames and control events as their frames. Cancellation-safe.
    pub async fn recv_frame(&mut self) -> Result<Frame, Error> {
        loop {
            if let Some(frame) = frame_of(self.recv_event().await?) {
                return Ok(frame);
            }
        }
    }

    /// Starts the close handshake and waits until it completes (or the
    /// close timeout expires) and the transport is closed. Messages queued
    /// before are delivered first. Messages that arrive meanwhile stay
    /// available to [`recv`](Self::recv), up to 1 MiB of payload (beyond
    /// that they are dropped); pings and pongs that arrive meanwhile are
    /// answered and dropped. If the peer closed first, this
    /// just waits for the end. The outcome is in
    /// [`close_reason`](Self::close_reason).
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        // Raw mode: when the peer closed first, this sends the answer.
        if !self.driver.conn.is_close_queued() {
            crate::trace::trace_debug!(code = code.0, reason, "WebSocket Close sent");
            let now = self.driver.now();
            if self.driver.conn.config().mode() == Mode::Raw {
                self.driver.conn.send_frame(
                    now,
                    Frame::new(
                        OpCode::Close,
                        wsproto_core::CloseFrame::encode_payload(code, reason),
                    ),
                )?;
            } else {
                self.driver.conn.close(now, code, reason)?;
            }
        }
        std::future::poll_fn(|cx| self.poll_until_closed(cx)).await;
        match self.driver.io_error.take() {
            Some(e) => Err(Error::Io(e)),
            None => Ok(()),
        }
    }

    /// Ends the session at once, without a close handshake (Ktor's
    /// `terminate`): pending output is dropped and the transport closed.
    pub async fn terminate(&mut self) {
        self.driver.conn.terminate();
        std::future::poll_fn(|cx| self.driver.poll_close_transport(cx)).await;
    }

    /// Sends `value` encoded by `converter` (Ktor's `sendSerialized`).
    pub async fn send_serialized_with<C: Converter, T: serde::Serialize + ?Sized>(
        &mut self,
        converter: &C,
        value: &T,
    ) -> Result<(), Error> {
        let message = converter.serialize(value).map_err(Error::Encode)?;
        self.send_message(message).await
    }

    /// Receives the next message and decodes it with `converter` (Ktor's
    /// `receiveDeserialized`). A message that does not decode is
    /// [`Error::Convert`], carrying the message; the session stays usable.
    pub async fn receive_deserialized_with<C: Converter, T: serde::de::DeserializeOwned>(
        &mut self,
        converter: &C,
    ) -> Result<T, Error> {
        let message = self.recv().await?;
        converter
            .deserialize(&message)
            .map_err(|source| Error::Convert { message, source })
    }

    /// Sends `value` as JSON text.
    #[cfg(feature = "json")]
    pub async fn send_serialized<T: serde::Serialize + ?Sized>(
        &mut self,
        value: &T,
    ) -> Result<(), Error> {
        self.send_serialized_with(&crate::convert::JsonConverter, value)
            .await
    }

    /// Receives the next message as JSON.
    #[cfg(feature = "json")]
    pub async fn receive_deserialized<T: serde::de::DeserializeOwned>(
        &mut self,
    ) -> Result<T, Error> {
        self.receive_deserialized_with(&crate::convert::JsonConverter)
            .await
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> Session<S> {
    /// Splits the session into a read half and a write half for two tasks.
    /// See [`crate::split`] for how it works.
    #[must_use]
    pub fn split(self) -> (crate::split::SessionReader, crate::split::SessionWriter) {
        crate::split::split(self.driver, self.kept, crate::split::DEFAULT_CAPACITY)
    }

    /// [`split`](Self::split) with a chosen channel capacity (messages
    /// buffered between each half and the driver task).
    #[must_use]
    pub fn split_with_capacity(
        self,
        capacity: usize,
    ) -> (crate::split::SessionReader, crate::split::SessionWriter) {
        crate::split::split(self.driver, self.kept, capacity)
    }
}

/// What `recv_frame()` makes of an event: the frame it came in (or would
/// have, for events of default mode).
pub(crate) fn frame_of(event: Event) -> Option<Frame> {
    Some(match event {
        Event::Frame(frame) => frame,
        Event::Message(Message::Text(text)) => Frame::new(OpCode::Text, text.into_bytes()),
        Event::Message(Message::Binary(data)) => Frame::new(OpCode::Binary, data),
        Event::Ping(payload) => Frame::new(OpCode::Ping, payload),
        Event::Pong(payload) => Frame::new(OpCode::Pong, payload),
        Event::Chunk(chunk) => {
            let opcode = match (chunk.first, chunk.kind) {
                (false, _) => OpCode::Continuation,
                (true, wsproto_core::MessageKind::Text) => OpCode::Text,
                (true, wsproto_core::MessageKind::Binary) => OpCode::Binary,
            };
            Frame::new(opcode, chunk.data).with_fin(chunk.fin)
        }
        Event::CloseReceived(close) => Frame::new(
            OpCode::Close,
            close.map_or_else(Bytes::new, |c| {
                wsproto_core::CloseFrame::encode_payload(c.code, &c.reason)
            }),
        ),
        _ => return None,
    })
}

/// The receive side shared by the session and its read half: a source of
/// events and a slot for the one `recv()` could not return as a message.
pub(crate) trait EventSource {
    /// The next event (`Err` once the session has ended).
    fn poll_source_event(&mut self, cx: &mut Context<'_>) -> Poll<Result<Event, Error>>;

    /// Keeps `event` for the next `recv_event`/`recv_frame`.
    fn keep(&mut self, event: Event);

    /// Set once the `Stream` of messages has ended.
    fn stream_done(&mut self) -> &mut bool;

    /// `Stream::poll_next`: messages until the end, then `None` after a
    /// clean close or one `Some(Err(..))` after any other end.
    fn poll_stream(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message, Error>>> {
        if *self.stream_done() {
            return Poll::Ready(None);
        }
        match ready!(self.poll_message(cx)) {
            Ok(message) => Poll::Ready(Some(Ok(message))),
            Err(err @ (Error::Io(_) | Error::Closed(_))) => {
                *self.stream_done() = true;
                if err.is_clean_close() {
                    Poll::Ready(None)
                } else {
                    Poll::Ready(Some(Err(err)))
                }
            }
            Err(err) => Poll::Ready(Some(Err(err))),
        }
    }

    /// The receive loop of `recv()`: takes events until one is a message.
    fn poll_message(&mut self, cx: &mut Context<'_>) -> Poll<Result<Message, Error>> {
        loop {
            let event = ready!(self.poll_source_event(cx))?;
            match message_of(event) {
                Ok(Some(message)) => return Poll::Ready(Ok(message)),
                Ok(None) => {}
                Err(event) => {
                    self.keep(event);
                    return Poll::Ready(Err(Error::Streaming));
                }
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> EventSource for Session<S> {
    fn poll_source_event(&mut self, cx: &mut Context<'_>) -> Poll<Result<Event, Error>> {
        self.poll_event(cx)
    }

    fn keep(&mut self, event: Event) {
        self.kept_bytes += event_bytes(&event);
        self.kept.push_front(event);
    }

    fn stream_done(&mut self) -> &mut bool {
        &mut self.stream_done
    }
}

/// A message or a part of one (the core answers none of these itself).
fn is_data(event: &Event) -> bool {
    match event {
        Event::Message(_) | Event::Chunk(_) => true,
        Event::Frame(frame) => frame.opcode.is_data(),
        _ => false,
    }
}

/// What `recv()` makes of an event: a message, nothing (control events,
/// skipped), or an event it cannot return as a message (a streamed chunk, a
/// raw fragment), which is kept for `recv_event`/`recv_frame`.
pub(crate) fn message_of(event: Event) -> Result<Option<Message>, Event> {
    match event {
        Event::Message(message) => Ok(Some(message)),
        Event::Frame(frame) if frame.fin && frame.rsv.is_empty() => match frame.opcode {
            // Raw mode: a whole unfragmented data frame is a message.
            OpCode::Binary => Ok(Some(Message::Binary(frame.payload))),
            OpCode::Text => match wsproto_core::ByteString::try_from(frame.payload.clone()) {
                Ok(text) => Ok(Some(Message::Text(text))),
                Err(_) => Err(Event::Frame(frame)),
            },
            OpCode::Continuation => Err(Event::Frame(frame)),
            _ => Ok(None),
        },
        event @ (Event::Chunk(_) | Event::Frame(_)) => Err(event),
        _ => Ok(None),
    }
}

/// Messages until the session ends: `None` after a clean close, one
/// `Some(Err(..))` (the reason or the transport error) after any other end.
impl<S: AsyncRead + AsyncWrite + Unpin> Stream for Session<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        EventSource::poll_stream(self.get_mut(), cx)
    }
}

/// Messages in; `poll_ready` waits for room in the send queue, `poll_flush`
/// writes, `poll_close` runs the close handshake (code 1000).
impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for Session<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().poll_send_ready(cx)
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Error> {
        self.get_mut().driver.conn.send_message(item)?;
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().poll_flush_out(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.get_mut();
        if !this.driver.conn.is_close_queued() {
            let now = this.driver.now();
            this.driver.conn.close(now, CloseCode::NORMAL, "")?;
        }
        ready!(this.poll_until_closed(cx));
        match this.driver.io_error.take() {
            Some(e) => Poll::Ready(Err(Error::Io(e))),
            None => Poll::Ready(Ok(())),
        }
    }
}
