//! The session: the protocol core and its transport, driven inline by
//! whichever method the application is awaiting.

mod poll;

use std::collections::VecDeque;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use futures_io::{AsyncRead, AsyncWrite};
use wsproto_core::{
    CloseCode, CloseFrame, CloseReason, Connection, Event as CoreEvent, Frame, SendError,
};

use crate::convert::Converter;
use crate::driver::Driver;
use crate::error::Error;
use crate::events::{EventSource, StreamState, frame_of};
use crate::message::{Event, Message, Utf8Bytes};
use crate::outgoing::Outgoing;
use crate::runtime::Runtime;
use crate::split::{SessionReader, SessionWriter};

/// A WebSocket session over a transport `S`: a default session (automatic
/// pongs, heartbeat, close handshake, reassembly), or a raw one when the
/// config's mode is [`Mode::Raw`](wsproto_core::Mode::Raw).
///
/// The session has no task of its own: every `async` method drives the
/// connection while it waits. Awaiting [`recv`](Self::recv) (or polling
/// the `Stream`) is enough to keep heartbeats, automatic pongs, the close
/// handshake and its timeouts running.
///
/// # Two ways to use it
///
/// - As a `Stream` of [`Message`]s and a `Sink` of them, as with
///   tokio-tungstenite: `futures::SinkExt::send(Message::Text(..))`,
///   `StreamExt::next()`, `StreamExt::split()`. The stream shows pings,
///   pongs and the peer's Close too (the session has answered them).
/// - With its own methods: [`send_text`](Self::send_text),
///   [`recv`](Self::recv) (data messages only), [`close`](Self::close)
///   (waits for the handshake), [`send_frame`](Self::send_frame),
///   [`spawn_split`](Self::spawn_split).
///
/// # Reading and writing from two tasks
///
/// `StreamExt::split` shares the session between its halves through a
/// lock, as with tokio-tungstenite. [`spawn_split`](Self::spawn_split)
/// instead moves the session into a driver task and joins the halves to
/// it by channels, with no lock: heartbeats and pongs then go on while
/// neither half is polled.
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
    kept: VecDeque<CoreEvent>,
    /// Payload bytes in `kept` (bounded while closing).
    kept_bytes: usize,
    /// Rounds of transport progress since the session last waited (see
    /// `ROUNDS_PER_POLL`).
    rounds: u32,
    /// Where the `Stream` implementation is.
    stream: StreamState,
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
            stream: StreamState::default(),
            replies_unsent: false,
        }
    }

    /// The protocol core, for inspection (state, negotiated extensions,
    /// queued bytes).
    #[must_use]
    pub fn connection(&self) -> &Connection {
        &self.driver.conn
    }

    /// The transport (for example the TLS stream, to see what was
    /// negotiated).
    #[must_use]
    pub fn get_ref(&self) -> &S {
        self.driver.io()
    }

    /// The transport, mutably. Reading or writing it directly corrupts the
    /// WebSocket stream; this is for settings (socket options).
    pub fn get_mut(&mut self) -> &mut S {
        self.driver.io_mut()
    }

    /// How the session ended, once it has (however it ended: close
    /// handshake, error, timeout, transport loss or termination).
    #[must_use]
    pub fn close_reason(&self) -> Option<&CloseReason> {
        self.driver.conn.close_reason()
    }

    /// Ties the session to its server's lifecycle: it holds `guard` (its
    /// place under the connection cap, its shutdown registration) until it
    /// ends, and closes with 1001 when the shutdown handle says so. The
    /// accept paths that are given a limit or a handle do this themselves.
    pub fn set_guard(&mut self, guard: crate::lifecycle::SessionGuard) {
        self.driver.guard = guard;
    }

    /// The session's lifecycle guard (see [`set_guard`](Self::set_guard)).
    #[must_use]
    pub fn guard(&self) -> &crate::lifecycle::SessionGuard {
        &self.driver.guard
    }

    /// Changes the heartbeat interval at run time (`None` stops it).
    pub fn set_ping_interval(&mut self, interval: Option<Duration>) {
        let now = self.driver.now();
        self.driver.conn.set_ping_interval(now, interval);
    }

    /// Changes how long to wait for a heartbeat's pong.
    pub fn set_timeout(&mut self, timeout: Duration) {
        let now = self.driver.now();
        self.driver.conn.set_ping_timeout(now, timeout);
    }

    /// Queues `outgoing` once the core has room, then starts writing
    /// without waiting for the write to finish.
    async fn send_outgoing(&mut self, outgoing: Outgoing) -> Result<(), Error> {
        let mut outgoing = Some(outgoing);
        std::future::poll_fn(|cx| self.poll_queue(cx, &mut outgoing)).await?;
        self.start_writing().await;
        Ok(())
    }

    /// Starts writing what is queued, without waiting for the write to
    /// finish.
    async fn start_writing(&mut self) {
        std::future::poll_fn(|cx| {
            let _ = self.driver.poll_write_out(cx);
            Poll::Ready(())
        })
        .await;
    }

    /// Sends a text message. Waits while the send queue is full
    /// (backpressure); returns once the message is queued and writing has
    /// started. Use [`flush`](Self::flush) to wait until it is written.
    pub async fn send_text(&mut self, text: impl Into<Utf8Bytes>) -> Result<(), Error> {
        self.send_message(Message::Text(text.into())).await
    }

    /// Sends a binary message; as [`send_text`](Self::send_text).
    pub async fn send_binary(&mut self, data: impl Into<Bytes>) -> Result<(), Error> {
        self.send_message(Message::Binary(data.into())).await
    }

    /// Sends a message of any kind, as the `Sink` does (a
    /// [`Message::Close`] starts the close handshake without waiting for
    /// it); returns as [`send_text`](Self::send_text) does.
    pub async fn send_message(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        let mode = self.driver.conn.config().mode();
        self.send_outgoing(Outgoing::of_message(message.into(), mode)?)
            .await
    }

    /// Sends a prepared message (see [`wsproto_core::PreparedMessage`]):
    /// as [`send_message`](Self::send_message), but framed and compressed
    /// once for every session that can share it.
    pub async fn send_prepared(
        &mut self,
        message: &wsproto_core::PreparedMessage,
    ) -> Result<(), Error> {
        self.send_outgoing(Outgoing::Prepared(message.clone()))
            .await
    }

    /// Queues a message without starting to write it (`Sink::feed`'s
    /// meaning). Waits while the send queue is full, writing meanwhile. It
    /// goes out with the next [`recv`](Self::recv) that needs the
    /// transport, [`flush`](Self::flush), `close` or `send_*`: a loop that
    /// answers each message it receives with `feed_message` answers a
    /// burst of pipelined messages with one write instead of one each.
    /// Call `flush` (or keep calling `recv`) or it may not be sent.
    pub async fn feed_message(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        let mode = self.driver.conn.config().mode();
        let mut outgoing = Some(Outgoing::of_message(message.into(), mode)?);
        std::future::poll_fn(|cx| self.poll_queue(cx, &mut outgoing)).await
    }

    /// Sends a frame. In raw mode the frame goes out as it is (a Close
    /// only with a valid payload: empty, or a code that may be sent and a
    /// UTF-8 reason). In default mode a final text or binary frame is sent
    /// as a message, ping and pong as control frames, and a Close starts
    /// the close handshake (without waiting for it: see
    /// [`close`](Self::close)); fragments are refused
    /// ([`SendError::InvalidFrame`]).
    ///
    /// Not named `send`: that name belongs to `futures::SinkExt::send`,
    /// which takes a [`Message`].
    pub async fn send_frame(&mut self, frame: Frame) -> Result<(), Error> {
        let mode = self.driver.conn.config().mode();
        self.send_outgoing(Outgoing::of_frame(frame, mode)?).await
    }

    /// Sends a text or binary message as frames of at most `fragment_size`
    /// payload bytes (default mode).
    pub async fn send_fragmented(
        &mut self,
        message: impl Into<Message>,
        fragment_size: usize,
    ) -> Result<(), Error> {
        let message = wsproto_core::Message::try_from(message.into())
            .map_err(|_| SendError::InvalidFrame("only text and binary messages are fragmented"))?;
        std::future::poll_fn(|cx| self.poll_send_ready(cx)).await?;
        self.driver.conn.send_fragmented(message, fragment_size)?;
        self.start_writing().await;
        Ok(())
    }

    /// Sends a ping (the pong shows in the `Stream` and in
    /// [`recv_event`](Self::recv_event)).
    pub async fn send_ping(&mut self, payload: impl Into<Bytes>) -> Result<(), Error> {
        self.send_outgoing(Outgoing::Ping(payload.into())).await
    }

    /// Sends an unsolicited pong.
    pub async fn send_pong(&mut self, payload: impl Into<Bytes>) -> Result<(), Error> {
        self.send_outgoing(Outgoing::Pong(payload.into())).await
    }

    /// Waits until everything queued has been written to the transport.
    pub async fn flush(&mut self) -> Result<(), Error> {
        std::future::poll_fn(|cx| self.poll_flush_out(cx)).await
    }

    /// The next data message: text or binary. Pings, pongs and the peer's
    /// Close are answered by the session and skipped here (the `Stream`
    /// and [`recv_event`](Self::recv_event) show them). In raw mode,
    /// unfragmented data frames are returned as messages and control
    /// frames skipped; a fragment (or a streamed chunk in default mode) is
    /// [`Error::Streaming`] and stays available to
    /// [`recv_frame`](Self::recv_frame) / [`recv_event`](Self::recv_event).
    ///
    /// Returns [`Error::Closed`] once the session has ended, with the
    /// reason (`CloseReason::Normal` after a close handshake), and
    /// [`Error::Io`] once if the transport failed.
    ///
    /// Cancellation-safe: dropping the future loses nothing.
    pub async fn recv(&mut self) -> Result<Message, Error> {
        std::future::poll_fn(|cx| EventSource::poll_message(self, cx)).await
    }

    /// Receives a batch: waits for the next data message as
    /// [`recv`](Self::recv) does, then appends to `messages` every further
    /// whole data message that the input already read holds, up to `max`
    /// in all (at least one), without reading the transport again. Returns
    /// how many were appended (≥ 1). Pings and pongs among them are
    /// answered and skipped, as `recv` skips them. The end and errors are
    /// `recv`'s: nothing is appended then; a streamed chunk (or a raw
    /// fragment) after the first message ends the batch and stays for the
    /// next call, which reports it as `recv` does ([`Error::Streaming`]).
    ///
    /// For a loop that answers (or forwards) many small messages: the
    /// messages of one read are handed over in one call instead of one
    /// call each, and [`feed_batch`](Self::feed_batch) queues their
    /// answers for one write.
    ///
    /// ```no_run
    /// # async fn echo<S>(ws: &mut ws_session::Session<S>)
    /// # where S: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin {
    /// let mut batch = std::collections::VecDeque::new();
    /// while ws.recv_batch(&mut batch, 64).await.is_ok() {
    ///     // ... look at or change the messages in `batch` ...
    ///     if ws.feed_batch(&mut batch).await.is_err() {
    ///         break;
    ///     }
    /// }
    /// # }
    /// ```
    ///
    /// Cancellation-safe: dropping the future loses no message (messages
    /// are appended only in the poll that returns).
    pub async fn recv_batch(
        &mut self,
        messages: &mut VecDeque<Message>,
        max: usize,
    ) -> Result<usize, Error> {
        std::future::poll_fn(|cx| self.poll_batch(cx, messages, max)).await
    }

    /// Queues every message of `messages`, oldest first, taking each out
    /// as it is queued, without starting to write (what
    /// [`feed_message`](Self::feed_message) does for each, in one call).
    /// Waits while the send queue is full, writing meanwhile; the writes
    /// then go out with the next [`recv_batch`](Self::recv_batch) (or
    /// `recv`) that needs the transport, [`flush`](Self::flush), `close`
    /// or `send_*`.
    ///
    /// On an error the message that failed is dropped (as `feed_message`
    /// drops it) and the ones after it stay in `messages`.
    /// Cancellation-safe: a dropped future leaves in `messages` exactly
    /// the messages not yet queued.
    pub async fn feed_batch(&mut self, messages: &mut VecDeque<Message>) -> Result<(), Error> {
        std::future::poll_fn(|cx| self.poll_feed_batch(cx, messages)).await
    }

    /// The next event of any kind from the protocol core: messages,
    /// streamed chunks, frames (raw mode), pings and pongs, the peer's
    /// Close. The end is `Err(Error::Closed(reason))` as for
    /// [`recv`](Self::recv). Cancellation-safe.
    pub async fn recv_event(&mut self) -> Result<Event, Error> {
        loop {
            let event = std::future::poll_fn(|cx| self.poll_event(cx)).await?;
            if let Some(event) = Event::from_core(event) {
                return Ok(event);
            }
        }
    }

    /// The next frame, as it came off the wire (raw mode). In default
    /// mode, messages are returned as final frames and control events as
    /// their frames. Cancellation-safe.
    pub async fn recv_frame(&mut self) -> Result<Frame, Error> {
        loop {
            let event = std::future::poll_fn(|cx| self.poll_event(cx)).await?;
            if let Some(frame) = frame_of(event) {
                return Ok(frame);
            }
        }
    }

    /// Starts the close handshake and waits until it completes (or the
    /// close timeout expires) and the transport is closed: `close(None)`
    /// sends code 1000, `close(CloseFrame::new(code, reason))` a code and
    /// a reason of your own (tokio-tungstenite's signature). Messages
    /// queued before are delivered first. Messages that arrive meanwhile
    /// stay available to [`recv`](Self::recv), up to 1 MiB of payload
    /// (beyond that they are dropped); pings and pongs that arrive
    /// meanwhile are answered and dropped. If the peer closed first, this
    /// just waits for the end (in raw mode it sends the answer). The
    /// outcome is in [`close_reason`](Self::close_reason).
    pub async fn close(&mut self, frame: impl Into<Option<CloseFrame>>) -> Result<(), Error> {
        let frame = frame
            .into()
            .unwrap_or(CloseFrame::new(CloseCode::NORMAL, ""));
        let now = self.driver.now();
        Outgoing::Close(frame.code, frame.reason).apply(&mut self.driver.conn, now)?;
        std::future::poll_fn(|cx| self.poll_close_handshake(cx)).await
    }

    /// Ends the session at once, without a close handshake: pending output
    /// is dropped and the transport closed.
    pub async fn terminate(&mut self) {
        self.driver.conn.terminate();
        std::future::poll_fn(|cx| self.driver.poll_close_transport(cx)).await;
    }

    /// Sends `value` encoded by `converter`.
    pub async fn send_serialized_with<C: Converter, T: serde::Serialize + ?Sized>(
        &mut self,
        converter: &C,
        value: &T,
    ) -> Result<(), Error> {
        let message = converter.serialize(value).map_err(Error::Encode)?;
        self.send_message(message).await
    }

    /// Receives the next message and decodes it with `converter`. A message
    /// that does not decode is [`Error::Convert`], carrying the message; the
    /// session stays usable.
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
    /// Moves the session into a driver task (spawned on the session's
    /// runtime) and returns a write half and a read half joined to it by
    /// bounded channels, for two tasks (how: [`SessionReader`]).
    ///
    /// Unlike `futures::StreamExt::split` (which also works on a session,
    /// and shares it between the halves through a lock), the halves take
    /// no lock, and the driver task keeps heartbeats, pongs and the close
    /// handshake going while neither half is polled. The halves are
    /// returned in `StreamExt::split`'s order: the sending side first.
    #[must_use]
    pub fn spawn_split(self) -> (SessionWriter, SessionReader) {
        self.spawn_split_with_capacity(crate::split::DEFAULT_CAPACITY)
    }

    /// [`spawn_split`](Self::spawn_split) with a chosen channel capacity
    /// (messages buffered between each half and the driver task).
    #[must_use]
    pub fn spawn_split_with_capacity(self, capacity: usize) -> (SessionWriter, SessionReader) {
        crate::split::split(self.driver, self.kept, capacity)
    }
}
