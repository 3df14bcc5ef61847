//! [`PreparedMessage`]: one message framed (and, where the negotiated
//! parameters allow, compressed) once, then sent to many server
//! connections as shared bytes.
//!
//! ```text
//!                       ┌──────────── PreparedMessage (Arc, Send + Sync) ───────────┐
//!  Message ──► new() ──►│ message                                                    │
//!                       │ wire forms, made lazily, one per WireKey:                  │
//!                       │   (no extension, fragment size)           ─► frames        │
//!                       │   (deflate key: level, window, threshold…) ─► RSV1 frames  │
//!                       └────────────────────────────────────────────────────────────┘
//!   Connection::send_prepared ─► looks up (or makes) its wire form ─► queues a clone
//!                                of the `Bytes` (a reference count, no copy)
//! ```
//!
//! Server frames are not masked (RFC 6455 §5.1), so the same bytes are a
//! valid frame sequence on every server connection with the same
//! extension output and fragment size. permessage-deflate output is
//! shareable only where the sender keeps no context between messages
//! (RFC 7692 §7.1.1.1 `server_no_context_takeover`): then a message's
//! compressed form depends on nothing but the message and the
//! compressor's settings ([`EncodingKey`]). It is a valid message for any
//! receiver whose window is at least the window it was compressed with
//! (§7.1.2.1: the sender may always use a smaller window than agreed);
//! we share it only between connections with the *same* window bits, so
//! every connection sends exactly the bytes a normal send would. A
//! connection with context takeover compresses the message itself, as
//! for [`Connection::send_message`](crate::Connection::send_message).

use std::sync::{Arc, Mutex, OnceLock};

use bytes::{Bytes, BytesMut};

use crate::event::Message;
use crate::frame::{FrameHeader, MAX_HEADER_LEN, OpCode, Rsv};

/// Wire forms kept without a lock; more distinct ones go to a locked list.
const SLOTS: usize = 4;

/// What an extension's encoding of a message depends on besides the
/// message: two connections whose extensions report equal keys produce
/// byte-identical output for every message, so one encoding can serve
/// both. See [`Extension::shared_encoding`](crate::Extension::shared_encoding).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EncodingKey {
    /// The extension token.
    pub extension: &'static str,
    /// Everything the output depends on, packed by the extension.
    pub params: u128,
}

/// Which wire form a connection needs: the shared encoding of its
/// extension (`None`: no extension) and its fragment size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WireKey {
    pub(crate) encoding: Option<EncodingKey>,
    /// Payload bytes per frame (`usize::MAX`: one frame).
    pub(crate) fragment: usize,
}

#[derive(Debug)]
struct Encoded {
    key: WireKey,
    wire: Bytes,
}

#[derive(Debug)]
struct Inner {
    message: Message,
    slots: [OnceLock<Encoded>; SLOTS],
    overflow: Mutex<Vec<Encoded>>,
}

/// A message to send to many server connections, framed once per distinct
/// set of connection parameters (permessage-deflate settings, fragment
/// size) and shared as reference-counted bytes.
///
/// Cloning is cheap (one reference count); the wire forms are made
/// lazily by the first connection that needs each one, from any thread.
/// Send it with [`Connection::send_prepared`](crate::Connection::send_prepared).
///
/// ```
/// use std::time::Instant;
/// use wsproto_core::{Config, Connection, PreparedMessage};
///
/// let now = Instant::now();
/// let mut a = Connection::server(Config::default(), now);
/// let mut b = Connection::server(Config::default(), now);
/// let hello = PreparedMessage::text("hello");
/// a.send_prepared(&hello).unwrap();
/// b.send_prepared(&hello).unwrap();
/// assert_eq!(a.poll_transmit(), b"\x81\x05hello");
/// assert_eq!(b.poll_transmit(), b"\x81\x05hello");
/// assert_eq!(hello.wire_forms(), 1, "framed once for both");
/// ```
#[derive(Debug, Clone)]
pub struct PreparedMessage {
    inner: Arc<Inner>,
}

impl PreparedMessage {
    /// Prepares `message`. Nothing is framed until it is first sent.
    #[must_use]
    pub fn new(message: Message) -> Self {
        PreparedMessage {
            inner: Arc::new(Inner {
                message,
                slots: Default::default(),
                overflow: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Prepares a text message.
    #[must_use]
    pub fn text(text: impl Into<bytestring::ByteString>) -> Self {
        Self::new(Message::Text(text.into()))
    }

    /// Prepares a binary message.
    #[must_use]
    pub fn binary(data: impl Into<Bytes>) -> Self {
        Self::new(Message::Binary(data.into()))
    }

    /// The message.
    #[must_use]
    pub fn message(&self) -> &Message {
        &self.inner.message
    }

    /// How many distinct wire forms have been made so far: one per
    /// distinct (shared encoding, fragment size) among the connections it
    /// was sent to. Connections that cannot share (clients, context
    /// takeover) make none.
    #[must_use]
    pub fn wire_forms(&self) -> usize {
        let slots = self
            .inner
            .slots
            .iter()
            .filter(|s| s.get().is_some())
            .count();
        slots + self.inner.overflow.lock().map_or(0, |list| list.len())
    }

    /// The wire form for `key`: found, or made with `encode` (the
    /// extension's output for the payload, `None` when it leaves it
    /// unchanged) and kept. Two threads may both make a missing form; one
    /// of them is kept, and both are the same bytes.
    pub(crate) fn wire<E>(
        &self,
        key: WireKey,
        encode: impl FnOnce(OpCode, &[u8]) -> Result<Option<Bytes>, E>,
    ) -> Result<Bytes, E> {
        if let Some(wire) = self.find(key) {
            return Ok(wire);
        }
        let (opcode, payload) = match &self.inner.message {
            Message::Text(text) => (OpCode::Text, &text.as_bytes()[..]),
            Message::Binary(data) => (OpCode::Binary, &data[..]),
        };
        let wire = match (key.encoding, encode(opcode, payload)?) {
            (Some(_), Some(encoded)) => frames(opcode, Rsv::RSV1, &encoded, key.fragment),
            // Left unchanged (below the compression threshold): the same
            // bytes as without the extension.
            (Some(_), None) => {
                let plain = WireKey {
                    encoding: None,
                    fragment: key.fragment,
                };
                match self.find(plain) {
                    Some(wire) => wire,
                    None => self.keep(plain, frames(opcode, Rsv::NONE, payload, key.fragment)),
                }
            }
            (None, _) => frames(opcode, Rsv::NONE, payload, key.fragment),
        };
        Ok(self.keep(key, wire))
    }

    fn find(&self, key: WireKey) -> Option<Bytes> {
        for slot in &self.inner.slots {
            match slot.get() {
                Some(found) if found.key == key => return Some(found.wire.clone()),
                Some(_) => {}
                None => return None,
            }
        }
        let list = self.inner.overflow.lock().ok()?;
        list.iter()
            .find(|found| found.key == key)
            .map(|found| found.wire.clone())
    }

    /// Keeps `wire` as the form for `key` (unless another thread kept one
    /// first: then that one is returned) and returns it.
    fn keep(&self, key: WireKey, wire: Bytes) -> Bytes {
        let mut wire = Some(wire);
        for slot in &self.inner.slots {
            let kept = slot.get_or_init(|| Encoded {
                key,
                wire: wire.take().unwrap_or_default(),
            });
            // A slot we filled holds our key.
            if kept.key == key {
                return kept.wire.clone();
            }
        }
        let wire = wire.unwrap_or_default();
        let Ok(mut list) = self.inner.overflow.lock() else {
            return wire;
        };
        if let Some(found) = list.iter().find(|found| found.key == key) {
            return found.wire.clone();
        }
        list.push(Encoded {
            key,
            wire: wire.clone(),
        });
        wire
    }
}

impl From<Message> for PreparedMessage {
    fn from(message: Message) -> Self {
        Self::new(message)
    }
}

/// A server's (unmasked) frames for `payload`: at most `fragment` payload
/// bytes each, `rsv` on the first, FIN on the last; the empty payload is
/// one empty frame. The same frames `Connection::send_fragmented` makes.
fn frames(opcode: OpCode, rsv: Rsv, payload: &[u8], fragment: usize) -> Bytes {
    let fragment = fragment.max(1);
    let count = payload.len().div_ceil(fragment).max(1);
    let mut out = BytesMut::with_capacity(payload.len() + count * MAX_HEADER_LEN);
    let mut chunks = payload.chunks(fragment);
    let mut head = [0u8; MAX_HEADER_LEN];
    for index in 0..count {
        let chunk = chunks.next().unwrap_or_default();
        let header = FrameHeader {
            fin: index + 1 == count,
            rsv: if index == 0 { rsv } else { Rsv::NONE },
            opcode: if index == 0 {
                opcode
            } else {
                OpCode::Continuation
            },
            mask: None,
            payload_len: chunk.len() as u64,
        };
        let n = header.encode(&mut head);
        out.extend_from_slice(&head[..n]);
        out.extend_from_slice(chunk);
    }
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(fragment: usize) -> WireKey {
        WireKey {
            encoding: None,
            fragment,
        }
    }

    #[allow(clippy::unnecessary_wraps)] // the signature `wire` takes
    fn plain(_: OpCode, _: &[u8]) -> Result<Option<Bytes>, ()> {
        Ok(None)
    }

    #[test]
    fn frames_split_like_the_send_path() {
        let wire = frames(OpCode::Text, Rsv::RSV1, b"abcdefg", 3);
        assert_eq!(
            &wire[..],
            b"\x41\x03abc\x00\x03def\x80\x01g",
            "RSV1 and the opcode on the first frame, FIN on the last"
        );
        assert_eq!(&frames(OpCode::Binary, Rsv::NONE, b"", 3)[..], b"\x82\x00");
        assert_eq!(
            &frames(OpCode::Binary, Rsv::NONE, b"abc", usize::MAX)[..],
            b"\x82\x03abc"
        );
    }

    #[test]
    fn each_wire_form_is_made_once_and_shared() {
        let message = PreparedMessage::binary(&b"payload"[..]);
        let mut made = 0;
        for fragment in [usize::MAX, 2, usize::MAX, 3, 2, 4, 5, 6, 7, 5] {
            let wire = message
                .wire(key(fragment), |_, _| {
                    made += 1;
                    Ok::<_, ()>(None)
                })
                .unwrap();
            let again = message.wire(key(fragment), plain).unwrap();
            assert_eq!(wire.as_ptr(), again.as_ptr(), "shared, not copied");
        }
        assert_eq!(made, 7, "once per distinct key, past the slots too");
        assert_eq!(message.wire_forms(), 7);
    }

    #[test]
    fn an_encoding_left_unchanged_shares_the_plain_frames() {
        let message = PreparedMessage::text("hi");
        let encoding = Some(EncodingKey {
            extension: "x",
            params: 1,
        });
        let keyed = WireKey {
            encoding,
            fragment: usize::MAX,
        };
        let wire = message.wire(keyed, plain).unwrap();
        let plain_wire = message.wire(key(usize::MAX), plain).unwrap();
        assert_eq!(wire.as_ptr(), plain_wire.as_ptr());
        let failed = PreparedMessage::text("hi").wire(keyed, |_, _| Err::<Option<Bytes>, _>(7));
        assert_eq!(failed, Err(7));
    }
}
