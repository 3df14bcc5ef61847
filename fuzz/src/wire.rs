//! Checks on the bytes a connection wrote.

use wsproto_core::frame::{FrameHeader, apply_mask};
use wsproto_core::{CloseFrame, OpCode, Role};

/// Checks everything `role` wrote (`out`, all bytes taken by
/// `advance_transmit`): well-formed frames (RFC 6455 §5.2), masked exactly
/// when sent by a client (§5.1, §5.3), a valid Close payload, and no frame
/// after the Close (§5.5.1); in raw mode too, where `send_frame` checks the
/// Close payloads the application writes. The last frame may be cut short
/// (a partial write, then EOF or termination discarded the rest).
pub fn check_written(role: Role, mut out: &[u8]) {
    let mut closed = false;
    while !out.is_empty() {
        assert!(!closed, "bytes after our Close frame: {out:02x?}");
        let Some((header, len)) = FrameHeader::parse(out).expect("we wrote a bad header") else {
            return;
        };
        assert_eq!(header.mask.is_some(), role == Role::Client, "{header:?}");
        let end = len as u64 + header.payload_len;
        if (out.len() as u64) < end {
            return;
        }
        let mut payload = out[len..end as usize].to_vec();
        if let Some(key) = header.mask {
            apply_mask(&mut payload, key, 0);
        }
        if header.opcode == OpCode::Close {
            CloseFrame::parse(&payload).expect("we wrote an invalid Close payload");
            closed = true;
        }
        out = &out[end as usize..];
    }
}
