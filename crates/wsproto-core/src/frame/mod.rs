//! WebSocket frames (RFC 6455 §5): opcodes, RSV bits, headers and masking.
//!
//! The connection uses these to decode and encode frames; they are public so
//! raw-mode users and fuzzers can work at frame level.

mod header;
mod mask;

pub use header::{FrameHeader, MAX_HEADER_LEN};
pub use mask::apply_mask;
pub(crate) use mask::{copy_masked, extend_masked};

use bytes::Bytes;

use crate::error::ProtocolError;

/// A frame opcode (RFC 6455 §5.2). Reserved values are rejected while
/// decoding, so a value of this type is always one of the six defined ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpCode {
    /// `0x0`: continues a fragmented message.
    Continuation,
    /// `0x1`: first frame of a text message.
    Text,
    /// `0x2`: first frame of a binary message.
    Binary,
    /// `0x8`: starts or answers the closing handshake.
    Close,
    /// `0x9`: a ping; the peer answers with a pong.
    Ping,
    /// `0xA`: a pong, answering a ping or unsolicited as a heartbeat.
    Pong,
}

impl OpCode {
    /// Decodes the low four bits of the first header byte.
    ///
    /// # Errors
    /// [`ProtocolError::ReservedOpcode`] for `0x3..=0x7` and `0xB..=0xF`.
    pub fn from_u8(value: u8) -> Result<Self, ProtocolError> {
        Ok(match value {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xA => Self::Pong,
            other => return Err(ProtocolError::ReservedOpcode(other)),
        })
    }

    /// The wire value of this opcode.
    #[must_use]
    pub fn as_u8(self) -> u8 {
        match self {
            Self::Continuation => 0x0,
            Self::Text => 0x1,
            Self::Binary => 0x2,
            Self::Close => 0x8,
            Self::Ping => 0x9,
            Self::Pong => 0xA,
        }
    }

    /// Whether this is a control opcode (close, ping, pong).
    #[must_use]
    pub fn is_control(self) -> bool {
        matches!(self, Self::Close | Self::Ping | Self::Pong)
    }

    /// Whether this is a data opcode (text, binary, continuation).
    #[must_use]
    pub fn is_data(self) -> bool {
        !self.is_control()
    }
}

/// The three RSV bits of a frame header, which only a negotiated extension
/// may set (RFC 6455 §5.2). Bit values: [`Rsv::RSV1`] = `0b100`,
/// [`Rsv::RSV2`] = `0b010`, [`Rsv::RSV3`] = `0b001`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Rsv(u8);

impl Rsv {
    /// No RSV bit set.
    pub const NONE: Rsv = Rsv(0);
    /// RSV1, used by permessage-deflate (RFC 7692).
    pub const RSV1: Rsv = Rsv(0b100);
    /// RSV2.
    pub const RSV2: Rsv = Rsv(0b010);
    /// RSV3.
    pub const RSV3: Rsv = Rsv(0b001);

    /// Builds a set from its three-bit value; higher bits are ignored.
    #[must_use]
    pub const fn from_bits(bits: u8) -> Self {
        Rsv(bits & 0b111)
    }

    /// The three-bit value.
    #[must_use]
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Whether no bit is set.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every bit of `other` is also set here.
    #[must_use]
    pub const fn contains(self, other: Rsv) -> bool {
        self.0 & other.0 == other.0
    }

    /// The union of both sets.
    #[must_use]
    pub const fn union(self, other: Rsv) -> Rsv {
        Rsv(self.0 | other.0)
    }

    /// The bits of `self` that are not in `other`.
    #[must_use]
    pub const fn difference(self, other: Rsv) -> Rsv {
        Rsv(self.0 & !other.0)
    }
}

/// A whole frame: header fields plus its (unmasked) payload.
///
/// Raw-mode connections deliver and accept frames of this type as they are
/// (RFC 6455 §5.2), including control frames and non-final fragments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// FIN bit: this is the last frame of its message.
    pub fin: bool,
    /// RSV bits as they appeared on the wire (or are to be sent).
    pub rsv: Rsv,
    /// The frame's opcode.
    pub opcode: OpCode,
    /// The unmasked payload.
    pub payload: Bytes,
}

impl Frame {
    /// A final frame with no RSV bits.
    #[must_use]
    pub fn new(opcode: OpCode, payload: impl Into<Bytes>) -> Self {
        Frame {
            fin: true,
            rsv: Rsv::NONE,
            opcode,
            payload: payload.into(),
        }
    }

    /// Sets the FIN bit.
    #[must_use]
    pub fn with_fin(mut self, fin: bool) -> Self {
        self.fin = fin;
        self
    }

    /// Sets the RSV bits.
    #[must_use]
    pub fn with_rsv(mut self, rsv: Rsv) -> Self {
        self.rsv = rsv;
        self
    }
}
