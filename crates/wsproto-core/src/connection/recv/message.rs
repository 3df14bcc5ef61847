//! Reassembly: the data message being received, decoded by the
//! extensions that claim it (inflation bounded by its limit and the
//! memory budget), validated as UTF-8, and delivered whole or in chunks.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};
use bytestring::ByteString;

use crate::connection::Connection;
use crate::error::{ExtensionError, ProtocolError};
use crate::event::{Event, Message, MessageChunk, MessageKind};
use crate::frame::{OpCode, Rsv};
use crate::utf8::Utf8Validator;

/// What the end of a frame needs to know of it, once all its payload is
/// here. Read field by field out of `InFrame` rather than moving that out
/// whole: a profile of pipelined small messages showed the move (wide loads
/// over fields just written narrowly) stalling as long as the rest of the
/// frame's bookkeeping.
#[derive(Debug, Clone, Copy)]
pub(super) struct FrameEnd {
    pub(super) fin: bool,
    pub(super) rsv: Rsv,
    pub(super) opcode: OpCode,
    pub(super) stream: bool,
}

/// The data message being received.
#[derive(Debug)]
pub(super) struct InMessage {
    pub(super) kind: MessageKind,
    /// The RSV bits of its first frame: which extensions decode it.
    pub(super) rsv: Rsv,
    pub(super) fragments: usize,
    /// Wire payload bytes so far (checked against the limit for messages no
    /// extension transforms).
    pub(super) size: usize,
    /// Reassembled bytes, or in streaming mode the few bytes of a character
    /// split across chunks.
    pub(super) data: BytesMut,
    pub(super) utf8: Option<Utf8Validator>,
    pub(super) streaming: bool,
    /// Bytes already delivered as chunks.
    pub(super) emitted: usize,
    pub(super) chunk_started: bool,
}

impl Connection {
    #[inline]
    pub(super) fn finish_data_frame(
        &mut self,
        frame: FrameEnd,
        payload: Bytes,
    ) -> Result<(), ProtocolError> {
        let msg = self
            .recv
            .msg
            .as_mut()
            .expect("a data frame always belongs to a message");
        let mut whole = None;
        if !msg.rsv.is_empty() {
            let before = msg.data.len();
            let limit = self.config.inflate_limit().saturating_sub(msg.emitted);
            // Inflated bytes are charged as they are made: the budget's
            // room bounds the inflation like the limit does.
            let room = before.saturating_add(self.recv.charge.room());
            let over_budget = ProtocolError::MemoryBudgetExceeded {
                budget: self.recv.charge.limit(),
            };
            match decode_frame(
                &mut self.extensions,
                msg,
                &payload,
                frame.fin,
                limit.min(room),
            ) {
                Err(ProtocolError::Extension {
                    error: ExtensionError::TooLarge { .. },
                    ..
                }) if room < limit => return Err(over_budget),
                result => result?,
            }
            let held = self.recv.store.len() + msg.data.len();
            if self.recv.charge.is_active()
                && !self.recv.charge.set(self.recv.charge.held().max(held))
            {
                return Err(over_budget);
            }
            if let Some(utf8) = &mut msg.utf8 {
                utf8.feed(&msg.data[before..])
                    .map_err(|_| ProtocolError::InvalidUtf8)?;
            }
            if self
                .config
                .stream_threshold
                .is_some_and(|t| msg.emitted + msg.data.len() > t)
            {
                msg.streaming = true;
            }
        } else if frame.stream {
            if frame.fin {
                finish_utf8(msg)?;
            }
            emit_chunk(&mut self.events, msg, payload, frame.fin);
            self.recv.partial_since = self.recv.now;
        } else if frame.fin && msg.fragments == 1 {
            // The common case: a whole message in one frame, sliced out of
            // the read buffer without a copy.
            whole = Some(payload);
        } else {
            msg.data.extend_from_slice(&payload);
        }
        if !msg.rsv.is_empty() && msg.streaming {
            if frame.fin {
                finish_utf8(msg)?;
            }
            let data = msg.data.split().freeze();
            emit_chunk(&mut self.events, msg, data, frame.fin);
            self.recv.partial_since = self.recv.now;
        }
        if frame.fin {
            // Finished in place, not moved out of its `Option` first (the
            // same stall as the frame's, see `FrameEnd`).
            let done = if msg.streaming {
                Ok(None)
            } else {
                finish_utf8(msg)
                    .map(|()| {
                        let data = whole.unwrap_or_else(|| std::mem::take(&mut msg.data).freeze());
                        (msg.kind, data)
                    })
                    .map(Some)
            };
            self.recv.msg = None;
            // The message ended: the next one's time starts when it does.
            self.recv.partial_since = None;
            if let Some((kind, data)) = done? {
                let message = match kind {
                    MessageKind::Binary => Message::Binary(data),
                    MessageKind::Text => Message::Text(
                        ByteString::try_from(data).map_err(|_| ProtocolError::InvalidUtf8)?,
                    ),
                };
                self.events.push_back(Event::Message(message));
            }
        }
        Ok(())
    }
}

fn finish_utf8(msg: &mut InMessage) -> Result<(), ProtocolError> {
    match &mut msg.utf8 {
        Some(utf8) => utf8.finish().map_err(|_| ProtocolError::InvalidUtf8),
        None => Ok(()),
    }
}

/// Runs a frame of a transformed message through the extensions that claim
/// its RSV bits, last negotiated first, appending the result to `msg.data`.
fn decode_frame(
    extensions: &mut [Box<dyn crate::Extension>],
    msg: &mut InMessage,
    payload: &[u8],
    fin: bool,
    limit: usize,
) -> Result<(), ProtocolError> {
    let mut stages = extensions
        .iter_mut()
        .rev()
        .filter(|ext| !ext.rsv().is_empty() && msg.rsv.contains(ext.rsv()))
        .peekable();
    let mut input: Option<BytesMut> = None;
    while let Some(ext) = stages.next() {
        let data = input.as_deref().unwrap_or(payload);
        let name = ext.name();
        let fail = |error| ProtocolError::Extension {
            extension: name,
            error,
        };
        if stages.peek().is_none() {
            ext.decode_frame(data, fin, &mut msg.data, limit)
                .map_err(fail)?;
            return Ok(());
        }
        let mut out = BytesMut::new();
        ext.decode_frame(data, fin, &mut out, limit).map_err(fail)?;
        input = Some(out);
    }
    // No extension claims these bits (cannot happen: begin_frame checked).
    Err(ProtocolError::UnexpectedRsv(msg.rsv.bits()))
}

/// Delivers streamed bytes: any bytes held back from the previous chunk,
/// then `new`, keeping back the start of a character that is not complete
/// yet so every text chunk is valid UTF-8 on its own.
pub(super) fn emit_chunk(events: &mut VecDeque<Event>, msg: &mut InMessage, new: Bytes, fin: bool) {
    let mut data = if msg.data.is_empty() {
        new
    } else {
        msg.data.extend_from_slice(&new);
        msg.data.split().freeze()
    };
    if !fin && let Some(utf8) = &msg.utf8 {
        let keep = utf8.pending();
        if keep > 0 {
            let tail = data.split_off(data.len() - keep);
            msg.data.extend_from_slice(&tail);
        }
    }
    if data.is_empty() && !fin {
        return;
    }
    msg.emitted += data.len();
    events.push_back(Event::Chunk(MessageChunk {
        kind: msg.kind,
        data,
        first: !msg.chunk_started,
        fin,
    }));
    msg.chunk_started = true;
}
