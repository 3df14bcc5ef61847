//! What a connection hands to the application: messages, frames, chunks and
//! the final [`CloseReason`].

use std::time::Duration;

use bytes::Bytes;
use bytestring::ByteString;

use crate::close::{CloseCode, CloseFrame};
use crate::error::ProtocolError;
use crate::frame::Frame;

/// A complete data message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message, validated as UTF-8.
    Text(ByteString),
    /// A binary message.
    Binary(Bytes),
}

impl Message {
    /// The payload bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Message::Text(text) => text.as_bytes(),
            Message::Binary(data) => data,
        }
    }

    /// The payload length in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the payload is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The kind of message.
    #[must_use]
    pub fn kind(&self) -> MessageKind {
        match self {
            Message::Text(_) => MessageKind::Text,
            Message::Binary(_) => MessageKind::Binary,
        }
    }
}

/// Text or binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// Text: the payload is UTF-8.
    Text,
    /// Binary.
    Binary,
}

/// A piece of a message delivered in streaming mode (see
/// [`Config::with_stream_threshold`](crate::Config::with_stream_threshold)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageChunk {
    /// Text or binary, the same for every chunk of the message.
    pub kind: MessageKind,
    /// The bytes. For text, each chunk is itself valid UTF-8: chunks are cut
    /// on character boundaries.
    pub data: Bytes,
    /// This is the first chunk of its message.
    pub first: bool,
    /// This is the last chunk of its message.
    pub fin: bool,
}

/// What the connection reports, taken with
/// [`Connection::poll_event`](crate::Connection::poll_event).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A complete message (default mode).
    Message(Message),
    /// Part of a message that is being streamed (default mode with a stream
    /// threshold).
    Chunk(MessageChunk),
    /// A frame as it came off the wire (raw mode only).
    Frame(Frame),
    /// A ping arrived (default mode; the pong is sent automatically).
    Ping(Bytes),
    /// A pong arrived (default mode; heartbeat pongs included).
    Pong(Bytes),
    /// The peer started the close handshake (default mode); our reply is
    /// queued after any data already queued. `None` means the Close frame had
    /// no status code (1005).
    CloseReceived(Option<CloseFrame>),
    /// The connection has ended; this is the last event. What remains of
    /// [`poll_transmit`](crate::Connection::poll_transmit) should still be
    /// written, then the transport closed once
    /// [`should_close_transport`](crate::Connection::should_close_transport)
    /// says so.
    Closed(CloseReason),
}

/// How a connection ended. A normal close is not an error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The close handshake completed: both Close frames were exchanged.
    /// `frame` is the peer's Close (`None` if it had no status code, 1005).
    Normal {
        /// The peer's code and reason.
        frame: Option<CloseFrame>,
        /// We sent the first Close.
        initiated_locally: bool,
    },
    /// The peer broke the protocol; we sent a Close with the error's code.
    Error(ProtocolError),
    /// No pong arrived within the timeout after a heartbeat ping; we sent
    /// Close 1011 "ping timeout".
    PingTimeout {
        /// The timeout that expired.
        timeout: Duration,
    },
    /// The peer began a message (or a frame) and did not finish it within
    /// the message timeout; we sent Close 1008 "message timeout".
    MessageTimeout {
        /// The message timeout that expired.
        timeout: Duration,
    },
    /// The transport took none of our pending bytes for the send timeout
    /// (the peer stopped reading): the pending output, a Close included,
    /// was dropped and the transport is to be closed (1006).
    SendTimeout {
        /// The send timeout that expired.
        timeout: Duration,
    },
    /// We sent Close and the peer did not answer within the close timeout.
    CloseTimeout {
        /// The close timeout that expired.
        timeout: Duration,
    },
    /// The transport ended (EOF, reset) before the close handshake finished:
    /// code 1006 semantics.
    Abnormal,
    /// The application terminated the connection without a close handshake.
    Terminated,
}

impl CloseReason {
    /// The close code that describes this ending: the peer's code for a
    /// normal close (1005 if none), the code we sent for errors and
    /// timeouts, 1006 for abnormal endings and termination.
    #[must_use]
    pub fn code(&self) -> CloseCode {
        match self {
            CloseReason::Normal { frame, .. } => {
                frame.as_ref().map_or(CloseCode::NO_STATUS, |f| f.code)
            }
            CloseReason::Error(err) => err.close_code(),
            CloseReason::PingTimeout { .. } => CloseCode::INTERNAL_ERROR,
            CloseReason::MessageTimeout { .. } => CloseCode::POLICY_VIOLATION,
            CloseReason::SendTimeout { .. }
            | CloseReason::CloseTimeout { .. }
            | CloseReason::Abnormal
            | CloseReason::Terminated => CloseCode::ABNORMAL,
        }
    }

    /// Whether the close handshake completed normally.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        matches!(self, CloseReason::Normal { .. })
    }
}

impl std::fmt::Display for CloseReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CloseReason::Normal {
                frame,
                initiated_locally,
            } => {
                f.write_str(if *initiated_locally {
                    "closed normally: we sent Close, the peer answered"
                } else {
                    "closed normally: the peer closed"
                })?;
                match frame {
                    None => f.write_str(" without a status code"),
                    Some(frame) if frame.reason.is_empty() => {
                        write!(f, " with code {}", frame.code)
                    }
                    Some(frame) => write!(f, " with code {}: {}", frame.code, frame.reason),
                }
            }
            CloseReason::Error(err) => {
                write!(
                    f,
                    "the peer broke the protocol (we sent close {}): {err}",
                    err.close_code()
                )
            }
            CloseReason::PingTimeout { timeout } => {
                write!(
                    f,
                    "ping timeout: no pong within {timeout:?} of a heartbeat ping (sent close 1011); the peer is unresponsive or the network dropped (Config::with_ping_timeout)"
                )
            }
            CloseReason::MessageTimeout { timeout } => write!(
                f,
                "message timeout: the peer did not finish a message it began within {timeout:?} (sent close 1008; Config::with_message_timeout)"
            ),
            CloseReason::SendTimeout { timeout } => write!(
                f,
                "send timeout: the peer took none of our data for {timeout:?}, it stopped reading (Config::with_send_timeout)"
            ),
            CloseReason::CloseTimeout { timeout } => write!(
                f,
                "close timeout: the peer did not answer our Close within {timeout:?} (Config::with_close_timeout)"
            ),
            CloseReason::Abnormal => f.write_str(
                "connection lost: the transport ended before the close handshake (1006)",
            ),
            CloseReason::Terminated => f.write_str("terminated locally without a close handshake"),
        }
    }
}
