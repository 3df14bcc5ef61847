//! Sending a [`PreparedMessage`]: its shared wire bytes queued as they are
//! (a reference count, no copy, no allocation in the steady state), then
//! taken a frame at a time so control frames still go out between
//! fragments.

use bytes::{Bytes, BytesMut};

use super::{Outgoing, PartialFrame, Sender, TRANSMIT_BATCH};
use crate::Role;
use crate::config::Mode;
use crate::connection::Connection;
use crate::error::SendError;
use crate::frame::{FrameHeader, OpCode, Rsv};
use crate::prepared::{PreparedMessage, WireKey};

/// Prepared frames at least this long (header included) are referenced by
/// [`Connection::poll_transmit_vectored`] instead of copied: the header
/// is already in the shared bytes, so the whole frame is one slice, and a
/// copy per recipient costs more than a slice in the write from here on
/// (measured: 4 KiB fan-out spent 13 % of the server's CPU in that copy).
const PREPARED_REF_MIN: usize = 1024;

impl Connection {
    /// Queues a prepared message: the same as
    /// [`send_message`](Self::send_message) with its message, and
    /// byte-identical on the wire, but framed (and compressed) once for
    /// every connection that can share it.
    ///
    /// Shared: a server connection with no extension, or whose one
    /// extension reports a [`shared_encoding`](crate::Extension::shared_encoding)
    /// (permessage-deflate without context takeover on our side). Its wire
    /// form for this connection's extension settings and
    /// `auto_fragment_size` is made by the first connection that needs it
    /// and queued by every one as a clone of the same `Bytes`. Messages at
    /// or below the compression threshold share the uncompressed form.
    ///
    /// Not shared, and sent as `send_message` sends (documented fallback,
    /// not an error): a client connection (its frames are masked with a
    /// fresh key each, RFC 6455 §5.3), a connection with context takeover
    /// (its compressor's window must see every message it sends), one with
    /// another or more than one extension.
    ///
    /// # Errors
    /// As [`send_text`](Self::send_text): [`SendError::Closed`] after our
    /// Close, [`SendError::QueueFull`] when the send queue is at its limit
    /// (nothing is queued), [`SendError::MessageInRawMode`], or the
    /// extension's failure to encode.
    pub fn send_prepared(&mut self, message: &PreparedMessage) -> Result<(), SendError> {
        self.check_capacity()?;
        if self.config.mode == Mode::Raw {
            return Err(SendError::MessageInRawMode);
        }
        let encoding = match &self.extensions[..] {
            _ if self.role == Role::Client => None,
            [] => Some(None),
            [ext] => ext.shared_encoding().map(Some),
            _ => None,
        };
        let Some(encoding) = encoding else {
            return self.send_message(message.message().clone());
        };
        let key = WireKey {
            encoding,
            fragment: self.config.auto_fragment_size.unwrap_or(usize::MAX).max(1),
        };
        let extensions = &mut self.extensions;
        let wire = message.wire(key, |opcode, payload| {
            let Some(ext) = extensions.first_mut() else {
                return Ok(None);
            };
            let mut out = BytesMut::new();
            match ext.encode_message(opcode, payload, &mut out) {
                Ok(true) => Ok(Some(out.freeze())),
                Ok(false) => Ok(None),
                Err(error) => Err(SendError::Extension {
                    extension: ext.name(),
                    error,
                }),
            }
        })?;
        let opcode = match message.message() {
            crate::Message::Text(_) => OpCode::Text,
            crate::Message::Binary(_) => OpCode::Binary,
        };
        self.send.push_framed(opcode, wire);
        Ok(())
    }
}

impl Sender {
    fn push_framed(&mut self, opcode: OpCode, wire: Bytes) {
        self.push_data(Outgoing {
            opcode,
            rsv: Rsv::NONE,
            payload: wire,
            pos: 0,
            max_frame: usize::MAX,
            fin: true,
            started: false,
            framed: true,
        });
    }

    /// Moves the next frame of the prepared message at the head of the
    /// data queue into the transmit buffer: referenced whole (with
    /// `zero_copy`, from [`PREPARED_REF_MIN`] bytes) or copied, the part
    /// past the batch left for the next fill as a partial frame.
    pub(super) fn take_prepared_frame(&mut self, zero_copy: bool) {
        let Some(item) = self.data.front_mut() else {
            return;
        };
        let rest = &item.payload[item.pos..];
        // Our own encoding: whole, valid headers (never `Ok(None)`).
        let Ok(Some((header, head_len))) = FrameHeader::parse(rest) else {
            self.queued -= rest.len();
            self.data.pop_front();
            return;
        };
        let frame_len = head_len + header.payload_len as usize;
        let start = item.pos;
        item.pos += frame_len;
        let wire = if item.pos == item.payload.len() {
            self.data.pop_front().map(|item| item.payload)
        } else {
            Some(item.payload.clone())
        };
        let Some(wire) = wire else { return };
        self.queued -= frame_len;
        if zero_copy && frame_len >= PREPARED_REF_MIN {
            self.out.push_body(wire.slice(start..start + frame_len));
            return;
        }
        let room = TRANSMIT_BATCH.saturating_sub(self.out.copied());
        let take = frame_len.min(room.max(head_len));
        self.out
            .buffer()
            .extend_from_slice(&wire[start..start + take]);
        if take < frame_len {
            self.partial = Some(PartialFrame {
                payload: wire.slice(start + take..start + frame_len),
                pos: 0,
                mask: None,
            });
        }
    }
}
