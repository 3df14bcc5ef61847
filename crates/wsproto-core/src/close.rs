//! Close frame payloads (RFC 6455 §5.5.1, §7.4): a code and a reason.

use bytes::{BufMut, Bytes, BytesMut};

// Also reached as `crate::close::CloseCode` by the rest of the crate.
pub(crate) use crate::close_code::CloseCode;
use crate::error::{ProtocolError, SendError};

/// The content of a Close frame: a code and a UTF-8 reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    /// The status code.
    pub code: CloseCode,
    /// The reason (at most 123 bytes on the wire).
    pub reason: String,
}

impl CloseFrame {
    /// A Close with `code` and `reason`.
    #[must_use]
    pub fn new(code: CloseCode, reason: impl Into<String>) -> Self {
        CloseFrame {
            code,
            reason: reason.into(),
        }
    }
}

/// The largest reason that fits a control frame next to a 2-byte code.
pub const MAX_REASON_LEN: usize = 123;

impl CloseFrame {
    /// Parses a Close frame payload (RFC 6455 §5.5.1).
    ///
    /// Returns `Ok(None)` for an empty payload (no status code: 1005).
    ///
    /// # Errors
    /// [`ProtocolError::CloseTooShort`] for a 1-byte payload,
    /// [`ProtocolError::InvalidCloseCode`] for a code not allowed on the wire,
    /// [`ProtocolError::InvalidCloseReason`] for a reason that is not UTF-8.
    pub fn parse(payload: &[u8]) -> Result<Option<CloseFrame>, ProtocolError> {
        match payload {
            [] => Ok(None),
            [_] => Err(ProtocolError::CloseTooShort),
            [hi, lo, reason @ ..] => {
                let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
                if !code.is_sendable() {
                    return Err(ProtocolError::InvalidCloseCode(code.0));
                }
                let reason =
                    std::str::from_utf8(reason).map_err(|_| ProtocolError::InvalidCloseReason)?;
                Ok(Some(CloseFrame {
                    code,
                    reason: reason.to_owned(),
                }))
            }
        }
    }

    /// Checks a Close payload the application is about to send by the
    /// rules the peer applies to it ([`parse`](Self::parse)): empty, or a
    /// code that may be sent and a UTF-8 reason. Raw mode's
    /// `send_frame` runs it, so a raw Close is held to the same rules as
    /// one built by `close`.
    ///
    /// # Errors
    /// [`SendError::InvalidCloseCode`] for a code that may not be sent;
    /// [`SendError::InvalidFrame`] for a 1-byte payload or a reason that is
    /// not UTF-8.
    pub fn parse_outgoing(payload: &[u8]) -> Result<Option<CloseFrame>, SendError> {
        CloseFrame::parse(payload).map_err(|error| match error {
            ProtocolError::InvalidCloseCode(code) => SendError::InvalidCloseCode(code),
            _ => SendError::InvalidFrame(
                "a Close payload is empty, or a 2-byte code and a UTF-8 reason (RFC 6455 §5.5.1)",
            ),
        })
    }

    /// Encodes a Close payload: the code, then `reason` cut to at most
    /// [`MAX_REASON_LEN`] bytes on a character boundary.
    #[must_use]
    pub fn encode_payload(code: CloseCode, reason: &str) -> Bytes {
        let reason = truncate_utf8(reason, MAX_REASON_LEN);
        let mut out = BytesMut::with_capacity(2 + reason.len());
        out.put_u16(code.0);
        out.put_slice(reason.as_bytes());
        out.freeze()
    }
}

/// Cuts `s` to at most `max` bytes without splitting a character.
pub(crate) fn truncate_utf8(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sendable_codes_follow_rfc6455_section_7_4() {
        for code in 0..=u16::MAX {
            let expected = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
            assert_eq!(CloseCode(code).is_sendable(), expected, "{code}");
        }
    }

    #[test]
    fn parse_rules() {
        assert_eq!(CloseFrame::parse(&[]), Ok(None));
        assert_eq!(CloseFrame::parse(&[3]), Err(ProtocolError::CloseTooShort));
        assert_eq!(
            CloseFrame::parse(&[0x03, 0xED]),
            Err(ProtocolError::InvalidCloseCode(1005))
        );
        assert_eq!(
            CloseFrame::parse(&[0x03, 0xE8, 0xFF]),
            Err(ProtocolError::InvalidCloseReason)
        );
        assert_eq!(
            CloseFrame::parse(&[0x03, 0xE8, b'o', b'k']),
            Ok(Some(CloseFrame {
                code: CloseCode::NORMAL,
                reason: "ok".into()
            }))
        );
    }

    #[test]
    fn long_reasons_are_cut_on_a_char_boundary() {
        let reason = "é".repeat(100); // 200 bytes
        let payload = CloseFrame::encode_payload(CloseCode::NORMAL, &reason);
        assert_eq!(payload.len(), 2 + 122);
        assert!(CloseFrame::parse(&payload).unwrap().is_some());
    }
}
