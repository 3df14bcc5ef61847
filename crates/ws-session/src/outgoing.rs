//! What the application asks a session to send, checked once and applied
//! to the protocol core the same way by a session and by the write half of
//! a split one.

use std::time::Instant;

use bytes::Bytes;
use wsproto_core::{CloseCode, CloseFrame, Connection, Frame, Mode, OpCode, SendError};

use crate::message::Message;

/// One command for the core's send side.
#[derive(Debug)]
pub(crate) enum Outgoing {
    /// A whole data message (default mode).
    Message(wsproto_core::Message),
    /// A message framed (and compressed) once for many sessions (default
    /// mode).
    Prepared(wsproto_core::PreparedMessage),
    /// A frame exactly as given (raw mode).
    Frame(Frame),
    /// A ping.
    Ping(Bytes),
    /// A pong.
    Pong(Bytes),
    /// Start (or, in raw mode, answer) the close handshake.
    Close(CloseCode, String),
}

impl Outgoing {
    /// What `send_frame(frame)` means. Raw mode: the frame as it is, a
    /// Close only with a valid payload (an empty one, or a code that may
    /// be sent and a UTF-8 reason). Default mode: a final text or binary
    /// frame is a message, ping and pong are control frames, a Close starts
    /// the close handshake; fragments are refused (`send_fragmented` sends
    /// a message in several frames).
    pub(crate) fn of_frame(frame: Frame, mode: Mode) -> Result<Self, SendError> {
        if mode == Mode::Raw {
            if frame.opcode == OpCode::Close {
                close_of_payload(&frame.payload)?;
            }
            return Ok(Outgoing::Frame(frame));
        }
        Ok(match frame.opcode {
            OpCode::Ping => Outgoing::Ping(frame.payload),
            OpCode::Pong => Outgoing::Pong(frame.payload),
            OpCode::Close => {
                let (code, reason) = close_of_payload(&frame.payload)?;
                Outgoing::Close(code, reason)
            }
            _ if !frame.fin || frame.opcode == OpCode::Continuation => {
                return Err(SendError::InvalidFrame(
                    "default mode sends whole messages: use send_fragmented",
                ));
            }
            OpCode::Text => Outgoing::Message(wsproto_core::Message::Text(
                wsproto_core::ByteString::try_from(frame.payload)
                    .map_err(|_| SendError::InvalidFrame("text frame payload is not UTF-8"))?,
            )),
            _ => Outgoing::Message(wsproto_core::Message::Binary(frame.payload)),
        })
    }

    /// What sending `message` means (the `Sink`, `send_message`).
    pub(crate) fn of_message(message: Message, mode: Mode) -> Result<Self, SendError> {
        Ok(match message {
            Message::Text(text) => Outgoing::Message(wsproto_core::Message::Text(text.into())),
            Message::Binary(data) => Outgoing::Message(wsproto_core::Message::Binary(data)),
            Message::Ping(payload) => Outgoing::Ping(payload),
            Message::Pong(payload) => Outgoing::Pong(payload),
            Message::Close(frame) => {
                let frame = frame.unwrap_or(CloseFrame {
                    code: CloseCode::NORMAL,
                    reason: String::new(),
                });
                Outgoing::Close(frame.code, frame.reason)
            }
            Message::Frame(frame) => Self::of_frame(frame, mode)?,
        })
    }

    /// Whether this starts the close handshake.
    pub(crate) fn is_close(&self) -> bool {
        match self {
            Outgoing::Close(..) => true,
            Outgoing::Frame(frame) => frame.opcode == OpCode::Close,
            _ => false,
        }
    }

    /// Queues the command in the core. A Close while a Close is already
    /// queued does nothing: the handshake is under way (tungstenite's
    /// meaning, so that forwarding a received Close back is harmless).
    pub(crate) fn apply(self, conn: &mut Connection, now: Instant) -> Result<(), SendError> {
        if self.is_close() && conn.is_close_queued() {
            return Ok(());
        }
        match self {
            Outgoing::Message(message) => conn.send_message(message),
            Outgoing::Prepared(message) => conn.send_prepared(&message),
            Outgoing::Frame(frame) => conn.send_frame(now, frame),
            Outgoing::Ping(payload) => conn.send_ping(payload),
            Outgoing::Pong(payload) => conn.send_pong(payload),
            Outgoing::Close(code, reason) => {
                crate::trace::trace_debug!(code = code.0, reason, "WebSocket Close sent");
                if conn.config().mode() == Mode::Raw {
                    if !code.is_sendable() {
                        return Err(SendError::InvalidCloseCode(code.0));
                    }
                    let payload = CloseFrame::encode_payload(code, &reason);
                    conn.send_frame(now, Frame::new(OpCode::Close, payload))
                } else {
                    conn.close(now, code, &reason)
                }
            }
        }
    }
}

/// The code and reason of a Close payload the application wants to send,
/// checked as the peer will check it (RFC 6455 §5.5.1, §7.4).
fn close_of_payload(payload: &[u8]) -> Result<(CloseCode, String), SendError> {
    Ok(
        CloseFrame::parse_outgoing(payload)?.map_or((CloseCode::NORMAL, String::new()), |frame| {
            (frame.code, frame.reason)
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close_frame(payload: &'static [u8]) -> Frame {
        Frame::new(OpCode::Close, payload)
    }

    #[test]
    fn raw_close_frames_are_checked_like_default_ones() {
        for mode in [Mode::Raw, Mode::Default] {
            assert_eq!(
                Outgoing::of_frame(close_frame(b"\x03\xed"), mode).unwrap_err(),
                SendError::InvalidCloseCode(1005),
                "{mode:?}"
            );
            assert!(matches!(
                Outgoing::of_frame(close_frame(b"\x03"), mode),
                Err(SendError::InvalidFrame(_))
            ));
            assert!(matches!(
                Outgoing::of_frame(close_frame(b"\x03\xe8\xff"), mode),
                Err(SendError::InvalidFrame(_))
            ));
            assert!(Outgoing::of_frame(close_frame(b"\x03\xe8ok"), mode).is_ok());
            assert!(Outgoing::of_frame(close_frame(b""), mode).is_ok());
        }
    }

    #[test]
    fn messages_map_to_commands() {
        let close = Outgoing::of_message(Message::Close(None), Mode::Default).unwrap();
        assert!(matches!(close, Outgoing::Close(CloseCode::NORMAL, ref r) if r.is_empty()));
        assert!(close.is_close());
        assert!(matches!(
            Outgoing::of_message(Message::Ping(Bytes::new()), Mode::Default),
            Ok(Outgoing::Ping(_))
        ));
        let fragment = Frame::new(OpCode::Text, "a").with_fin(false);
        assert!(Outgoing::of_message(Message::Frame(fragment.clone()), Mode::Default).is_err());
        assert!(matches!(
            Outgoing::of_message(Message::Frame(fragment), Mode::Raw),
            Ok(Outgoing::Frame(_))
        ));
    }
}
