//! The read half of a split session.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, ready};

use futures_channel::mpsc;
use futures_core::Stream;
use futures_util::StreamExt as _;
use wsproto_core::{CloseReason, Event, Frame};

use super::Shared;
use crate::error::Error;
use crate::events::{EventSource, READ_AHEAD_BYTES, StreamState, event_bytes, frame_of};
use crate::message::Message;

/// The read half of a session split with
/// [`spawn_split`](crate::Session::spawn_split): receives while the
/// [`SessionWriter`](crate::SessionWriter) sends from another task. Both talk over bounded
/// channels to a driver task that owns the connection:
///
/// - the driver reads from the transport only while this half has less
///   than 1 MiB of payload not yet taken, so a reader that stops reading
///   stops the socket reads (TCP backpressure) instead of buffering
///   without bound;
/// - pongs, the heartbeat and the close reply are the driver's: they go
///   out whether or not either half is polled;
/// - dropping this half discards incoming messages (control frames are
///   still answered); dropping both halves starts the close handshake
///   (1000), which the driver completes.
#[derive(Debug)]
pub struct SessionReader {
    events: mpsc::Receiver<Event>,
    peeked: Option<Event>,
    shared: Arc<Shared>,
    stream: StreamState,
}

impl EventSource for SessionReader {
    fn poll_source_event(&mut self, cx: &mut Context<'_>) -> Poll<Result<Event, Error>> {
        self.poll_event(cx)
    }

    fn keep(&mut self, event: Event) {
        self.peeked = Some(event);
    }

    fn stream_state(&mut self) -> &mut StreamState {
        &mut self.stream
    }
}

impl SessionReader {
    pub(super) fn new(events: mpsc::Receiver<Event>, shared: Arc<Shared>) -> Self {
        SessionReader {
            events,
            peeked: None,
            shared,
            stream: StreamState::default(),
        }
    }

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
        EventSource::poll_message(self, cx)
    }

    /// The next message; as [`Session::recv`](crate::Session::recv).
    /// Cancellation-safe.
    pub async fn recv(&mut self) -> Result<Message, Error> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The next event; as [`Session::recv_event`](crate::Session::recv_event).
    /// Cancellation-safe.
    pub async fn recv_event(&mut self) -> Result<crate::Event, Error> {
        loop {
            let event = std::future::poll_fn(|cx| self.poll_event(cx)).await?;
            if let Some(event) = crate::Event::from_core(event) {
                return Ok(event);
            }
        }
    }

    /// The next frame; as [`Session::recv_frame`](crate::Session::recv_frame)
    /// (raw mode). Cancellation-safe.
    pub async fn recv_frame(&mut self) -> Result<Frame, Error> {
        loop {
            let event = std::future::poll_fn(|cx| self.poll_event(cx)).await?;
            if let Some(frame) = frame_of(event) {
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
        EventSource::poll_stream(self.get_mut(), cx)
    }
}
