//! Errors: faults of the peer ([`ProtocolError`], each mapped to the close
//! code we send) kept apart from misuse by the caller ([`SendError`]).

use crate::close_code::CloseCode;

/// The peer broke a rule of RFC 6455 / RFC 7692, or exceeded a configured
/// limit. The connection sends a Close frame with [`ProtocolError::close_code`]
/// and ends; the error is reported in
/// [`CloseReason::Error`](crate::CloseReason::Error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// An opcode in `0x3..=0x7` or `0xB..=0xF`.
    #[error("reserved opcode {0:#x} (RFC 6455 §5.2)")]
    ReservedOpcode(u8),
    /// RSV bits set that no negotiated extension claims.
    #[error(
        "RSV bits {0:#05b} set without a negotiated extension that defines them (RFC 6455 §5.2)"
    )]
    UnexpectedRsv(u8),
    /// A control frame with FIN clear.
    #[error("fragmented control frame (RFC 6455 §5.5)")]
    FragmentedControl,
    /// A control frame longer than 125 bytes.
    #[error("control frame longer than 125 bytes (RFC 6455 §5.5)")]
    ControlTooLong,
    /// A 64-bit payload length with the most significant bit set.
    #[error("64-bit payload length with the most significant bit set (RFC 6455 §5.2)")]
    InvalidLength,
    /// A client sent an unmasked frame.
    #[error("unmasked frame from a client (RFC 6455 §5.1)")]
    UnmaskedFrame,
    /// A server sent a masked frame.
    #[error("masked frame from a server (RFC 6455 §5.1)")]
    MaskedFrame,
    /// A continuation frame with no fragmented message in progress.
    #[error("continuation frame without a message to continue (RFC 6455 §5.4)")]
    UnexpectedContinuation,
    /// A new text or binary frame while a fragmented message is unfinished.
    #[error("new data frame before the fragmented message was finished (RFC 6455 §5.4)")]
    ExpectedContinuation,
    /// A text message (or its fragment) that is not valid UTF-8.
    #[error("invalid UTF-8 in a text message (RFC 6455 §8.1)")]
    InvalidUtf8,
    /// A Close frame with a 1-byte payload.
    #[error("Close frame with a 1-byte payload (RFC 6455 §5.5.1)")]
    CloseTooShort,
    /// A Close frame with a code that is not allowed on the wire.
    #[error("Close frame with code {0}, which is not allowed on the wire (RFC 6455 §7.4)")]
    InvalidCloseCode(u16),
    /// A Close frame whose reason is not valid UTF-8.
    #[error("Close frame reason is not valid UTF-8 (RFC 6455 §5.5.1)")]
    InvalidCloseReason,
    /// A frame longer than `max_frame_size`.
    #[error(
        "frame of {size} bytes exceeds max_frame_size ({limit} bytes); raise Config::with_max_frame_size if such frames are expected"
    )]
    FrameTooLarge {
        /// The declared payload length.
        size: u64,
        /// The configured limit.
        limit: usize,
    },
    /// A message longer than `max_message_size` (after decompression).
    #[error(
        "message exceeds max_message_size ({limit} bytes, counted after decompression); raise Config::with_max_message_size (and with_max_inflated_size for compressed ones) if such messages are expected"
    )]
    MessageTooLarge {
        /// The configured limit.
        limit: usize,
    },
    /// A message split into more frames than `max_fragments`.
    #[error(
        "message split into more than {limit} frames; raise Config::with_max_fragments if the peer legitimately sends that many"
    )]
    TooManyFragments {
        /// The configured limit.
        limit: usize,
    },
    /// Buffering the peer's input would take the memory budget shared by
    /// the server's connections over its limit (see
    /// [`MemoryBudget`](crate::MemoryBudget)). Close 1013: the peer may
    /// try again later.
    #[error(
        "buffering this input would exceed the shared memory budget ({budget} bytes for all connections); raise Config::with_memory_budget or shed load"
    )]
    MemoryBudgetExceeded {
        /// The budget's limit.
        budget: usize,
    },
    /// A negotiated extension could not transform a frame.
    #[error("extension {extension}: {error}")]
    Extension {
        /// The extension's name.
        extension: &'static str,
        /// What went wrong.
        error: ExtensionError,
    },
}

impl ProtocolError {
    /// The close code sent to the peer for this fault: 1007 for invalid
    /// UTF-8, 1009 for size limits, 1013 for the memory budget, the
    /// extension's choice for extension failures, 1002 otherwise.
    #[must_use]
    pub fn close_code(&self) -> CloseCode {
        match self {
            Self::InvalidUtf8 | Self::InvalidCloseReason => CloseCode::INVALID_PAYLOAD,
            Self::FrameTooLarge { .. }
            | Self::MessageTooLarge { .. }
            | Self::TooManyFragments { .. } => CloseCode::MESSAGE_TOO_BIG,
            Self::MemoryBudgetExceeded { .. } => CloseCode::TRY_AGAIN_LATER,
            Self::Extension { error, .. } => error.close_code(),
            _ => CloseCode::PROTOCOL_ERROR,
        }
    }
}

/// A failure inside an extension's frame transform.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExtensionError {
    /// The transformed (e.g. inflated) message would exceed its limit
    /// (the smaller of `max_message_size` and `max_inflated_size`).
    #[error(
        "the decompressed message would exceed {limit} bytes (Config::with_max_inflated_size / with_max_message_size)"
    )]
    TooLarge {
        /// The limit that was hit.
        limit: usize,
    },
    /// The payload is not valid for this extension (e.g. corrupt deflate data).
    #[error("invalid data: {0}")]
    InvalidData(&'static str),
    /// The extension could not encode an outgoing frame.
    #[error("could not encode: {0}")]
    Encode(&'static str),
}

impl ExtensionError {
    /// The close code sent when this error ends the connection.
    #[must_use]
    pub fn close_code(&self) -> CloseCode {
        match self {
            Self::TooLarge { .. } => CloseCode::MESSAGE_TOO_BIG,
            Self::InvalidData(_) => CloseCode::INVALID_PAYLOAD,
            Self::Encode(_) => CloseCode::INTERNAL_ERROR,
        }
    }
}

/// The caller asked for something the connection cannot do now. Nothing was
/// queued; the connection itself is unaffected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// We already sent (or queued) a Close frame, or the connection ended:
    /// RFC 6455 §5.5.1 forbids sending data after Close.
    #[error("the connection is closing or closed: no frame can be sent after Close")]
    Closed,
    /// The send queue is at its limit (`send_queue_limit`). Send again after
    /// [`Connection::poll_transmit`](crate::Connection::poll_transmit) has
    /// drained it; [`Connection::can_send`](crate::Connection::can_send) tells
    /// when. The payload was not queued.
    #[error(
        "the send queue is full (send_queue_limit): write out poll_transmit() and send again once can_send() is true"
    )]
    QueueFull,
    /// A ping, pong or close payload longer than 125 bytes.
    #[error("control frame payload of {0} bytes exceeds 125 (RFC 6455 §5.5)")]
    ControlTooLong(usize),
    /// A close code that may not be sent (see
    /// [`CloseCode::is_sendable`](crate::CloseCode::is_sendable)).
    #[error(
        "close code {0} may not be sent on the wire (RFC 6455 §7.4): use 1000-1003, 1007-1014 or 3000-4999"
    )]
    InvalidCloseCode(u16),
    /// `send_frame` is for raw mode; default mode builds frames itself.
    #[error(
        "send_frame needs a raw-mode connection (Config::with_mode(Mode::Raw)); in default mode use send_text, send_binary, send_ping or close"
    )]
    NotRawMode,
    /// `send_text` / `send_binary` / `send_message` / `send_fragmented` on
    /// a raw-mode connection, which sends only the frames it is given.
    #[error(
        "send_text, send_binary and send_message are not available in raw mode: send a Frame with send_frame (Session::send) instead"
    )]
    MessageInRawMode,
    /// A raw frame that breaks a frame-level rule (fragmented control frame).
    #[error("invalid frame: {0}")]
    InvalidFrame(&'static str),
    /// An extension failed to encode the message.
    #[error("extension {extension}: {error}")]
    Extension {
        /// The extension's name.
        extension: &'static str,
        /// What went wrong.
        error: ExtensionError,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CloseReason, Config, Connection, Frame, MaskRng, Mode, OpCode};
    use std::time::{Duration, Instant};

    #[test]
    fn raw_and_default_mode_misuse_name_the_right_call() {
        #[allow(clippy::disallowed_methods)] // a test, not the core
        let now = Instant::now();
        let raw = Config::default().with_mode(Mode::Raw);
        let mut conn = Connection::client(raw, MaskRng::from_seed([1; 32]), now);
        let err = conn.send_text("hi").unwrap_err();
        assert_eq!(err, SendError::MessageInRawMode);
        assert!(
            err.to_string().contains("not available in raw mode"),
            "{err}"
        );
        assert!(err.to_string().contains("send_frame"), "{err}");

        let mut conn = Connection::client(Config::default(), MaskRng::from_seed([1; 32]), now);
        let err = conn
            .send_frame(now, Frame::new(OpCode::Text, "hi"))
            .unwrap_err();
        assert_eq!(err, SendError::NotRawMode);
        assert!(err.to_string().contains("Mode::Raw"), "{err}");
    }

    #[test]
    fn a_normal_close_says_who_closed_first_and_with_what() {
        let ours = CloseReason::Normal {
            frame: Some(crate::CloseFrame {
                code: CloseCode::NORMAL,
                reason: String::new(),
            }),
            initiated_locally: true,
        };
        assert_eq!(
            ours.to_string(),
            "closed normally: we sent Close, the peer answered with code 1000"
        );
        let theirs = CloseReason::Normal {
            frame: Some(crate::CloseFrame {
                code: CloseCode::GOING_AWAY,
                reason: "restart".into(),
            }),
            initiated_locally: false,
        };
        assert_eq!(
            theirs.to_string(),
            "closed normally: the peer closed with code 1001: restart"
        );
        let bare = CloseReason::Normal {
            frame: None,
            initiated_locally: false,
        };
        assert_eq!(
            bare.to_string(),
            "closed normally: the peer closed without a status code"
        );
    }

    #[test]
    fn timeouts_and_limits_say_which_and_how_much() {
        let reason = CloseReason::CloseTimeout {
            timeout: Duration::from_secs(3),
        };
        assert!(reason.to_string().contains("within 3s"), "{reason}");
        assert!(
            reason.to_string().contains("with_close_timeout"),
            "{reason}"
        );
        let reason = CloseReason::PingTimeout {
            timeout: Duration::from_millis(1500),
        };
        assert!(reason.to_string().contains("within 1.5s"), "{reason}");
        let reason = CloseReason::Error(ProtocolError::ReservedOpcode(3));
        assert_eq!(
            reason.to_string(),
            "the peer broke the protocol (we sent close 1002): reserved opcode 0x3 (RFC 6455 §5.2)"
        );
        let err = ProtocolError::MessageTooLarge { limit: 1024 };
        assert!(err.to_string().contains("1024 bytes"), "{err}");
        assert!(err.to_string().contains("with_max_message_size"), "{err}");
    }

    #[test]
    fn close_codes_for_faults() {
        assert_eq!(
            ProtocolError::ReservedOpcode(3).close_code(),
            CloseCode::PROTOCOL_ERROR
        );
        assert_eq!(
            ProtocolError::InvalidUtf8.close_code(),
            CloseCode::INVALID_PAYLOAD
        );
        assert_eq!(
            ProtocolError::FrameTooLarge { size: 9, limit: 1 }.close_code(),
            CloseCode::MESSAGE_TOO_BIG
        );
        let err = ProtocolError::Extension {
            extension: "permessage-deflate",
            error: ExtensionError::TooLarge { limit: 1 },
        };
        assert_eq!(err.close_code(), CloseCode::MESSAGE_TOO_BIG);
    }
}
