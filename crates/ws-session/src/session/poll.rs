//! The polling side of a [`Session`]: taking events from the core while
//! moving bytes, waiting for room to send, closing; and the `Stream` and
//! `Sink` built on it.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_core::Stream;
use futures_io::{AsyncRead, AsyncWrite};
use futures_sink::Sink;
use wsproto_core::{CloseReason, Event, SendError, State};

use super::Session;
use crate::driver::ROUNDS_PER_POLL;
use crate::error::Error;
use crate::events::{
    EventSource, READ_AHEAD_BYTES, StreamState, data_message_of, event_bytes, is_data,
};
use crate::message::Message;
use crate::outgoing::Outgoing;

impl<S: AsyncRead + AsyncWrite + Unpin> Session<S> {
    /// The error that reports the end of the session: the transport error
    /// first (once), then the close reason.
    pub(super) fn end_error(&mut self) -> Error {
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
    pub(super) fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Result<Event, Error>> {
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

    /// `recv_batch`: the first message as `recv` waits for it, then the
    /// whole data messages the core parses out of input already read,
    /// taken straight from the core (no driving, no read) until `max`, a
    /// chunk (kept for the next call) or the end of that input.
    pub(super) fn poll_batch(
        &mut self,
        cx: &mut Context<'_>,
        messages: &mut VecDeque<Message>,
        max: usize,
    ) -> Poll<Result<usize, Error>> {
        let first = ready!(EventSource::poll_message(self, cx))?;
        messages.push_back(first);
        let mut taken = 1;
        while taken < max {
            let event = match self.kept.pop_front() {
                Some(event) => {
                    self.kept_bytes -= event_bytes(&event);
                    event
                }
                // Parsed ahead: a violation further on takes effect at the
                // next call, after the answers to these messages.
                None => match self.driver.poll_event_ahead() {
                    Some(event) => event,
                    None => break,
                },
            };
            // A whole message, the common case, without the general
            // conversion's detour.
            let message = match event {
                Event::Message(message) => Ok(Some(message.into())),
                event => data_message_of(event),
            };
            match message {
                Ok(Some(message)) => {
                    messages.push_back(message);
                    taken += 1;
                }
                // A control event: the core may have queued an answer.
                // (`Closed` is reported by the next call, once the
                // transport is closed.)
                Ok(None) => self.replies_unsent = true,
                Err(event) => {
                    self.keep(event);
                    break;
                }
            }
        }
        if self.replies_unsent {
            self.write_unless_input_waiting(cx);
        }
        Poll::Ready(Ok(taken))
    }

    /// `feed_batch`: each message is taken out of `messages` once the core
    /// has room for it, and queued.
    pub(super) fn poll_feed_batch(
        &mut self,
        cx: &mut Context<'_>,
        messages: &mut VecDeque<Message>,
    ) -> Poll<Result<(), Error>> {
        let mode = self.driver.conn.config().mode();
        let mut now = None;
        loop {
            // A Close needs no room (see `poll_queue`).
            if messages.front().is_some_and(|m| !m.is_close()) && !self.driver.conn.can_send() {
                ready!(self.poll_send_ready(cx))?;
            }
            let Some(message) = messages.pop_front() else {
                return Poll::Ready(Ok(()));
            };
            // Data messages go to the core as `Outgoing` would send them,
            // without the detour.
            let data = match message {
                Message::Binary(data) => wsproto_core::Message::Binary(data),
                Message::Text(text) => wsproto_core::Message::Text(text.into()),
                message => {
                    let outgoing = Outgoing::of_message(message, mode)?;
                    // Read once: only frames and Close use it.
                    let now = *now.get_or_insert_with(|| self.driver.now());
                    outgoing.apply(&mut self.driver.conn, now)?;
                    continue;
                }
            };
            self.driver.conn.send_message(data)?;
        }
    }

    /// Drives the connection until it has ended and the transport is
    /// closed, leaving received events in place for `recv`.
    pub(super) fn poll_until_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
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
    pub(super) fn poll_send_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
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
    pub(super) fn poll_flush_out(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        ready!(self.driver.poll_write_out(cx));
        if self.driver.broken {
            return Poll::Ready(Err(self.end_error()));
        }
        // `poll_write_out` returns `Ready` only once `poll_transmit` came
        // back empty: everything the core had is written.
        Poll::Ready(Ok(()))
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

    /// Queues `outgoing` once the core has room. A Close needs no room:
    /// it goes after everything queued (and does nothing while closing).
    pub(super) fn poll_queue(
        &mut self,
        cx: &mut Context<'_>,
        outgoing: &mut Option<Outgoing>,
    ) -> Poll<Result<(), Error>> {
        if !outgoing.as_ref().is_some_and(Outgoing::is_close) {
            ready!(self.poll_send_ready(cx))?;
        }
        if let Some(outgoing) = outgoing.take() {
            let now = self.driver.now();
            outgoing.apply(&mut self.driver.conn, now)?;
        }
        Poll::Ready(Ok(()))
    }

    /// A Close has been queued, or the session has ended.
    fn is_closing(&self) -> bool {
        self.driver.conn.is_close_queued() || self.driver.conn.state() == State::Closed
    }

    /// Runs the close handshake (1000 unless a Close is queued already)
    /// until the transport is closed.
    pub(super) fn poll_close_handshake(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if !self.is_closing() {
            let now = self.driver.now();
            Outgoing::Close(wsproto_core::CloseCode::NORMAL, String::new())
                .apply(&mut self.driver.conn, now)?;
        }
        ready!(self.poll_until_closed(cx));
        match self.driver.io_error.take() {
            Some(e) => Poll::Ready(Err(Error::Io(e))),
            None => Poll::Ready(Ok(())),
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

    fn stream_state(&mut self) -> &mut StreamState {
        &mut self.stream
    }
}

/// Every message until the session ends, as tokio-tungstenite's stream
/// gives them: text and binary, and the pings, pongs and the peer's Close
/// that the session has already answered. Then `None` after a clean close,
/// or one `Some(Err(..))` (the reason or the transport error) after any
/// other end. In raw mode a fragment, and in default mode a streamed chunk,
/// is a [`Message::Frame`].
impl<S: AsyncRead + AsyncWrite + Unpin> Stream for Session<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        EventSource::poll_stream(self.get_mut(), cx)
    }
}

/// Messages of every kind in, with tokio-tungstenite's meaning: text and
/// binary are sent, a ping or pong goes out as one, a Close starts the
/// close handshake (and does nothing once a Close is queued, so forwarding
/// a received Close back is harmless), a frame goes as
/// [`send_frame`](Session::send_frame) sends it. `poll_ready` waits for
/// room in the send queue, `poll_flush` writes, `poll_close` runs the
/// close handshake (1000) and waits for its end.
impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for Session<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.get_mut();
        if this.is_closing() {
            // `start_send` decides: a Close is a no-op, anything else fails.
            return Poll::Ready(Ok(()));
        }
        this.poll_send_ready(cx)
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Error> {
        let this = self.get_mut();
        let outgoing = Outgoing::of_message(item, this.driver.conn.config().mode())?;
        if this.driver.conn.state() == State::Closed && !outgoing.is_close() {
            return Err(this.end_error());
        }
        let now = this.driver.now();
        outgoing.apply(&mut this.driver.conn, now)?;
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().poll_flush_out(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().poll_close_handshake(cx)
    }
}
