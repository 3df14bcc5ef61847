//! The receive side shared by a session and the read half of a split one:
//! what `recv()`, `recv_frame()` and the `Stream` make of the core's
//! events.

use std::task::{Context, Poll, ready};

use bytes::Bytes;
use wsproto_core::{CloseFrame, CloseReason, Event, Frame, MessageKind, OpCode};

use crate::error::Error;
use crate::message::{Message, Utf8Bytes};

/// Payload bytes received but not yet taken by the application beyond
/// which reading stops (the read half's channel, the events a closing
/// session keeps for `recv`). One message is always let through.
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

/// A message or a part of one (the core answers none of these itself).
pub(crate) fn is_data(event: &Event) -> bool {
    match event {
        Event::Message(_) | Event::Chunk(_) => true,
        Event::Frame(frame) => frame.opcode.is_data(),
        _ => false,
    }
}

/// Where a `Stream` of messages is.
#[derive(Debug, Default)]
pub(crate) struct StreamState {
    /// The end has been reported.
    done: bool,
    /// A Close has been handed out.
    close_seen: bool,
}

/// A source of events and a slot for the one `recv()` could not return as
/// a message: a session, or the read half of a split one.
pub(crate) trait EventSource {
    /// The next event (`Err` once the session has ended).
    fn poll_source_event(&mut self, cx: &mut Context<'_>) -> Poll<Result<Event, Error>>;

    /// Keeps `event` for the next `recv_event`/`recv_frame`.
    fn keep(&mut self, event: Event);

    /// The state of the `Stream` of messages.
    fn stream_state(&mut self) -> &mut StreamState;

    /// `Stream::poll_next`: every message, pings, pongs and the peer's
    /// Close included, until the end; then `None` after a clean close or
    /// one `Some(Err(..))` after any other end. When we closed first, the
    /// peer's answering Close is handed out at the end, as the peer's
    /// Close is when the peer closed first.
    fn poll_stream(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message, Error>>> {
        loop {
            if self.stream_state().done {
                return Poll::Ready(None);
            }
            match ready!(self.poll_source_event(cx)) {
                Ok(event) => {
                    if let Some(message) = stream_item_of(event) {
                        self.stream_state().close_seen |= message.is_close();
                        return Poll::Ready(Some(Ok(message)));
                    }
                }
                Err(err) => {
                    let state = self.stream_state();
                    state.done = true;
                    if let Error::Closed(CloseReason::Normal { frame, .. }) = &err
                        && !state.close_seen
                    {
                        state.close_seen = true;
                        return Poll::Ready(Some(Ok(Message::Close(frame.clone()))));
                    }
                    if !err.is_clean_close() {
                        return Poll::Ready(Some(Err(err)));
                    }
                }
            }
        }
    }

    /// The receive loop of `recv()`: takes events until one is a whole
    /// data message.
    fn poll_message(&mut self, cx: &mut Context<'_>) -> Poll<Result<Message, Error>> {
        loop {
            let event = ready!(self.poll_source_event(cx))?;
            match data_message_of(event) {
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

/// What `recv()` makes of an event: a data message, nothing (control
/// events, skipped), or an event it cannot return as a message (a streamed
/// chunk, a raw fragment), which is kept for `recv_event`/`recv_frame`.
pub(crate) fn data_message_of(event: Event) -> Result<Option<Message>, Event> {
    match event {
        Event::Message(message) => Ok(Some(message.into())),
        Event::Frame(frame) if frame.opcode.is_control() => Ok(None),
        Event::Frame(frame) => whole_data_frame(frame).map(Some).map_err(Event::Frame),
        event @ Event::Chunk(_) => Err(event),
        _ => Ok(None),
    }
}

/// What the `Stream` makes of an event: every kind of message; `None` for
/// events that carry none.
pub(crate) fn stream_item_of(event: Event) -> Option<Message> {
    Some(match event {
        Event::Message(message) => message.into(),
        Event::Ping(payload) => Message::Ping(payload),
        Event::Pong(payload) => Message::Pong(payload),
        Event::CloseReceived(frame) => Message::Close(frame),
        Event::Frame(frame) => match frame.opcode {
            OpCode::Ping if frame.fin => Message::Ping(frame.payload),
            OpCode::Pong if frame.fin => Message::Pong(frame.payload),
            OpCode::Close if frame.fin => match CloseFrame::parse(&frame.payload) {
                Ok(close) => Message::Close(close),
                Err(_) => Message::Frame(frame),
            },
            _ => whole_data_frame(frame).unwrap_or_else(Message::Frame),
        },
        event @ Event::Chunk(_) => Message::Frame(frame_of(event)?),
        _ => return None,
    })
}

/// Raw mode: a whole unfragmented data frame is a message (text only if
/// it is valid UTF-8: raw mode checks nothing); anything else is given
/// back.
fn whole_data_frame(frame: Frame) -> Result<Message, Frame> {
    if !frame.fin || !frame.rsv.is_empty() {
        return Err(frame);
    }
    match frame.opcode {
        OpCode::Binary => Ok(Message::Binary(frame.payload)),
        OpCode::Text => match Utf8Bytes::try_from(frame.payload.clone()) {
            Ok(text) => Ok(Message::Text(text)),
            Err(_) => Err(frame),
        },
        _ => Err(frame),
    }
}

/// What `recv_frame()` makes of an event: the frame it came in (or would
/// have, for events of default mode).
pub(crate) fn frame_of(event: Event) -> Option<Frame> {
    Some(match event {
        Event::Frame(frame) => frame,
        Event::Message(wsproto_core::Message::Text(text)) => {
            Frame::new(OpCode::Text, text.into_bytes())
        }
        Event::Message(wsproto_core::Message::Binary(data)) => Frame::new(OpCode::Binary, data),
        Event::Ping(payload) => Frame::new(OpCode::Ping, payload),
        Event::Pong(payload) => Frame::new(OpCode::Pong, payload),
        Event::Chunk(chunk) => {
            let opcode = match (chunk.first, chunk.kind) {
                (false, _) => OpCode::Continuation,
                (true, MessageKind::Text) => OpCode::Text,
                (true, MessageKind::Binary) => OpCode::Binary,
            };
            Frame::new(opcode, chunk.data).with_fin(chunk.fin)
        }
        Event::CloseReceived(close) => Frame::new(
            OpCode::Close,
            close.map_or_else(Bytes::new, |c| {
                CloseFrame::encode_payload(c.code, &c.reason)
            }),
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use wsproto_core::{CloseCode, MessageChunk, Rsv};

    use super::*;

    #[test]
    fn the_stream_shows_control_frames_and_parts_of_messages() {
        assert_eq!(
            stream_item_of(Event::Ping(Bytes::from_static(b"p"))),
            Some(Message::Ping(Bytes::from_static(b"p")))
        );
        let close = CloseFrame {
            code: CloseCode::GOING_AWAY,
            reason: "bye".into(),
        };
        assert_eq!(
            stream_item_of(Event::CloseReceived(Some(close.clone()))),
            Some(Message::Close(Some(close.clone())))
        );
        // Raw mode: a Close frame as the peer sent it.
        let raw_close = Frame::new(
            OpCode::Close,
            CloseFrame::encode_payload(close.code, &close.reason),
        );
        assert_eq!(
            stream_item_of(Event::Frame(raw_close)),
            Some(Message::Close(Some(close)))
        );
        let fragment = Frame::new(OpCode::Text, "par").with_fin(false);
        assert_eq!(
            stream_item_of(Event::Frame(fragment.clone())),
            Some(Message::Frame(fragment))
        );
        let chunk = Event::Chunk(MessageChunk {
            kind: MessageKind::Binary,
            data: Bytes::from_static(b"c"),
            first: false,
            fin: true,
        });
        assert_eq!(
            stream_item_of(chunk),
            Some(Message::Frame(Frame::new(OpCode::Continuation, "c")))
        );
    }

    #[test]
    fn recv_takes_whole_data_messages_only() {
        assert_eq!(
            data_message_of(Event::Frame(Frame::new(OpCode::Binary, "b"))),
            Ok(Some(Message::binary("b")))
        );
        assert_eq!(data_message_of(Event::Pong(Bytes::new())), Ok(None));
        assert_eq!(
            data_message_of(Event::Frame(Frame::new(OpCode::Ping, "p"))),
            Ok(None)
        );
        let compressed = Frame::new(OpCode::Text, "x").with_rsv(Rsv::RSV1);
        assert_eq!(
            data_message_of(Event::Frame(compressed.clone())),
            Err(Event::Frame(compressed))
        );
        let not_utf8 = Frame::new(OpCode::Text, &b"\xff"[..]);
        assert!(data_message_of(Event::Frame(not_utf8)).is_err());
    }
}
