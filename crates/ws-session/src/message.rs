//! [`Message`]: what the application sends and receives, with the variants
//! and conversions a tokio-tungstenite user expects (text, binary, ping,
//! pong, close, a raw frame), and [`Utf8Bytes`], the text payload.
//!
//! The protocol core speaks of data messages only
//! ([`wsproto_core::Message`]: text or binary); pings, pongs and the Close
//! are its events and commands. This type puts them back in one enum for
//! the `Stream`/`Sink` of a session, so that `next()` sees a ping and
//! `send(Message::Close(..))` starts the close handshake, as users of
//! tungstenite are used to.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

use bytes::Bytes;
use wsproto_core::{ByteString, CloseFrame, Frame, MessageChunk};

/// A message of a session.
///
/// Text and binary are data; ping, pong and close are control frames,
/// which a session answers by itself in default mode (a pong to every
/// ping, the echo of a Close) but still shows to a `Stream` reader.
/// `Frame` carries what is not a whole message: a fragment in raw mode, a
/// streamed chunk.
///
/// ```
/// use ws_session::{Bytes, Message};
///
/// assert_eq!(Message::from("hi"), Message::Text("hi".into()));
/// assert_eq!(Message::from(vec![1, 2]), Message::Binary(Bytes::from_static(&[1, 2])));
/// assert!(Message::Ping(Bytes::new()).is_ping());
/// assert_eq!(Message::text("hé").len(), 3);
/// assert_eq!(Message::text("hé").to_text().unwrap(), "hé");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message (valid UTF-8).
    Text(Utf8Bytes),
    /// A binary message.
    Binary(Bytes),
    /// A ping (at most 125 bytes). Received: the session has answered it.
    /// Sent: the peer will answer with a pong.
    Ping(Bytes),
    /// A pong (at most 125 bytes): the answer to a ping, or an unsolicited
    /// heartbeat.
    Pong(Bytes),
    /// The peer's Close (received), or the start of the close handshake
    /// (sent; `None` sends code 1000). The session has already answered a
    /// received Close; sending one while closing does nothing.
    Close(Option<CloseFrame>),
    /// A frame as it is on the wire: received, a fragment (raw mode) or a
    /// streamed chunk (a stream threshold is set); sent, see
    /// [`Session::send_frame`](crate::Session::send_frame).
    Frame(Frame),
}

impl Message {
    /// A text message.
    #[must_use]
    pub fn text(text: impl Into<Utf8Bytes>) -> Self {
        Message::Text(text.into())
    }

    /// A binary message.
    #[must_use]
    pub fn binary(data: impl Into<Bytes>) -> Self {
        Message::Binary(data.into())
    }

    /// Whether this is a text message.
    #[must_use]
    pub fn is_text(&self) -> bool {
        matches!(self, Message::Text(_))
    }

    /// Whether this is a binary message.
    #[must_use]
    pub fn is_binary(&self) -> bool {
        matches!(self, Message::Binary(_))
    }

    /// Whether this is a ping.
    #[must_use]
    pub fn is_ping(&self) -> bool {
        matches!(self, Message::Ping(_))
    }

    /// Whether this is a pong.
    #[must_use]
    pub fn is_pong(&self) -> bool {
        matches!(self, Message::Pong(_))
    }

    /// Whether this is a Close.
    #[must_use]
    pub fn is_close(&self) -> bool {
        matches!(self, Message::Close(_))
    }

    /// The payload length in bytes (a Close's reason, without its code).
    #[must_use]
    pub fn len(&self) -> usize {
        self.as_payload().len()
    }

    /// Whether the payload is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The payload bytes (a Close's reason, without its code).
    #[must_use]
    pub fn as_payload(&self) -> &[u8] {
        match self {
            Message::Text(text) => text.as_bytes(),
            Message::Binary(data) | Message::Ping(data) | Message::Pong(data) => data,
            Message::Close(frame) => frame.as_ref().map_or(&[], |f| f.reason.as_bytes()),
            Message::Frame(frame) => &frame.payload,
        }
    }

    /// The payload as bytes, without a copy for text, binary, ping and
    /// pong (a Close gives its reason).
    #[must_use]
    pub fn into_data(self) -> Bytes {
        match self {
            Message::Text(text) => text.into_bytes(),
            Message::Binary(data) | Message::Ping(data) | Message::Pong(data) => data,
            Message::Close(frame) => frame.map_or_else(Bytes::new, |f| Bytes::from(f.reason)),
            Message::Frame(frame) => frame.payload,
        }
    }

    /// The payload as text: a text message's without a copy, any other
    /// payload if it is valid UTF-8.
    pub fn into_text(self) -> Result<Utf8Bytes, NotUtf8> {
        match self {
            Message::Text(text) => Ok(text),
            other => Utf8Bytes::try_from(other.into_data()),
        }
    }

    /// The payload as `&str`, if it is valid UTF-8.
    pub fn to_text(&self) -> Result<&str, NotUtf8> {
        match self {
            Message::Text(text) => Ok(text.as_str()),
            other => std::str::from_utf8(other.as_payload()).map_err(|_| NotUtf8),
        }
    }
}

impl From<wsproto_core::Message> for Message {
    fn from(message: wsproto_core::Message) -> Self {
        match message {
            wsproto_core::Message::Text(text) => Message::Text(Utf8Bytes(text)),
            wsproto_core::Message::Binary(data) => Message::Binary(data),
        }
    }
}

impl TryFrom<Message> for wsproto_core::Message {
    type Error = Message;

    /// The data message, or the message itself when it is not text or
    /// binary.
    fn try_from(message: Message) -> Result<Self, Message> {
        match message {
            Message::Text(text) => Ok(wsproto_core::Message::Text(text.0)),
            Message::Binary(data) => Ok(wsproto_core::Message::Binary(data)),
            other => Err(other),
        }
    }
}

impl TryFrom<Message> for wsproto_core::PreparedMessage {
    type Error = Message;

    /// A data message prepared for broadcast (see
    /// [`crate::broadcast::Hub::publish`]), or the message itself when it
    /// is not text or binary.
    fn try_from(message: Message) -> Result<Self, Message> {
        wsproto_core::Message::try_from(message).map(wsproto_core::PreparedMessage::from)
    }
}

macro_rules! text_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Message {
            fn from(text: $t) -> Self {
                Message::Text(text.into())
            }
        }
    )*};
}
text_from!(&str, String, &String, Utf8Bytes, ByteString);

macro_rules! binary_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Message {
            fn from(data: $t) -> Self {
                Message::Binary(data.into())
            }
        }
    )*};
}
binary_from!(Vec<u8>, Bytes, bytes::BytesMut);

impl From<&[u8]> for Message {
    fn from(data: &[u8]) -> Self {
        Message::Binary(Bytes::copy_from_slice(data))
    }
}

/// What [`recv_event`](crate::Session::recv_event) hands out: every event
/// of the protocol core, with messages as [`Message`]s.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A whole text or binary message.
    Message(Message),
    /// Part of a message that is being streamed (a stream threshold is
    /// set).
    Chunk(MessageChunk),
    /// A frame as it came off the wire (raw mode).
    Frame(Frame),
    /// A ping arrived (default mode: the pong has been sent).
    Ping(Bytes),
    /// A pong arrived.
    Pong(Bytes),
    /// The peer started the close handshake (default mode: the answer is
    /// queued). `None`: its Close had no status code (1005).
    CloseReceived(Option<CloseFrame>),
}

impl Event {
    /// The event of the core's `event`; `None` for the end of the
    /// connection, which a session reports as an error.
    pub(crate) fn from_core(event: wsproto_core::Event) -> Option<Self> {
        use wsproto_core::Event as E;
        Some(match event {
            E::Message(message) => Event::Message(message.into()),
            E::Chunk(chunk) => Event::Chunk(chunk),
            E::Frame(frame) => Event::Frame(frame),
            E::Ping(payload) => Event::Ping(payload),
            E::Pong(payload) => Event::Pong(payload),
            E::CloseReceived(frame) => Event::CloseReceived(frame),
            _ => return None,
        })
    }
}

/// The bytes are not valid UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the payload is not valid UTF-8")]
pub struct NotUtf8;

/// The payload of a text message: UTF-8 text that shares its bytes with
/// the buffer it was received into (cloning is cheap). It reads as a
/// `&str` (`Deref`, [`as_str`](Self::as_str)) and compares with strings.
///
/// ```
/// use ws_session::Utf8Bytes;
///
/// let text = Utf8Bytes::from("hello");
/// assert_eq!(text, "hello");
/// assert_eq!(text.as_str().len(), 5);
/// assert!(text.starts_with("he")); // any `str` method
/// assert!(Utf8Bytes::try_from(vec![0xff]).is_err());
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Utf8Bytes(ByteString);

impl Utf8Bytes {
    /// Text from a string that lives for the whole program, without a copy.
    #[must_use]
    pub const fn from_static(text: &'static str) -> Self {
        Utf8Bytes(ByteString::from_static(text))
    }

    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The bytes of the text.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// The bytes, without a copy.
    #[must_use]
    pub fn into_bytes(self) -> Bytes {
        self.0.into_bytes()
    }
}

impl Deref for Utf8Bytes {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Utf8Bytes {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl AsRef<[u8]> for Utf8Bytes {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl Borrow<str> for Utf8Bytes {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl fmt::Debug for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl From<&str> for Utf8Bytes {
    fn from(text: &str) -> Self {
        Utf8Bytes(text.into())
    }
}

impl From<&String> for Utf8Bytes {
    fn from(text: &String) -> Self {
        Utf8Bytes(text.as_str().into())
    }
}

impl From<String> for Utf8Bytes {
    fn from(text: String) -> Self {
        Utf8Bytes(text.into())
    }
}

impl From<ByteString> for Utf8Bytes {
    fn from(text: ByteString) -> Self {
        Utf8Bytes(text)
    }
}

impl From<Utf8Bytes> for ByteString {
    fn from(text: Utf8Bytes) -> Self {
        text.0
    }
}

impl From<Utf8Bytes> for Bytes {
    fn from(text: Utf8Bytes) -> Self {
        text.into_bytes()
    }
}

impl From<Utf8Bytes> for String {
    fn from(text: Utf8Bytes) -> Self {
        text.as_str().to_owned()
    }
}

impl TryFrom<Bytes> for Utf8Bytes {
    type Error = NotUtf8;

    fn try_from(bytes: Bytes) -> Result<Self, NotUtf8> {
        ByteString::try_from(bytes)
            .map(Utf8Bytes)
            .map_err(|_| NotUtf8)
    }
}

impl TryFrom<Vec<u8>> for Utf8Bytes {
    type Error = NotUtf8;

    fn try_from(bytes: Vec<u8>) -> Result<Self, NotUtf8> {
        Utf8Bytes::try_from(Bytes::from(bytes))
    }
}

impl PartialEq<str> for Utf8Bytes {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Utf8Bytes {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Utf8Bytes {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<Utf8Bytes> for str {
    fn eq(&self, other: &Utf8Bytes) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Utf8Bytes> for &str {
    fn eq(&self, other: &Utf8Bytes) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Utf8Bytes> for String {
    fn eq(&self, other: &Utf8Bytes) -> bool {
        self.as_str() == other.as_str()
    }
}

#[cfg(test)]
mod tests {
    use wsproto_core::{CloseCode, OpCode};

    use super::*;

    #[test]
    fn conversions_a_tungstenite_user_writes() {
        let owned = String::from("owned");
        assert_eq!(Message::from(&owned), Message::Text("owned".into()));
        assert_eq!(Message::from(owned.clone()), Message::text(owned));
        assert_eq!(Message::from(&b"ab"[..]), Message::binary(vec![b'a', b'b']));
        assert_eq!(
            Message::from(Bytes::from_static(b"x")).into_data(),
            Bytes::from_static(b"x")
        );
        let close = Message::Close(Some(CloseFrame {
            code: CloseCode::NORMAL,
            reason: "bye".into(),
        }));
        assert!(close.is_close());
        assert_eq!(close.to_text(), Ok("bye"));
        assert_eq!(close.len(), 3);
        assert_eq!(Message::Close(None).into_data(), Bytes::new());
        assert!(Message::Pong(Bytes::from_static(b"p")).is_pong());
    }

    #[test]
    fn text_payloads_are_checked_and_shared() {
        let data = Bytes::from_static("zürich".as_bytes());
        let text = Utf8Bytes::try_from(data.clone()).unwrap();
        assert_eq!(text.as_bytes().as_ptr(), data.as_ptr(), "no copy");
        assert_eq!(Utf8Bytes::try_from(vec![0xc3]), Err(NotUtf8));
        assert_eq!(Message::Binary(data).into_text().unwrap(), "zürich");
        assert_eq!(Message::binary(vec![0xff]).to_text(), Err(NotUtf8));
        assert_eq!(format!("{text} {text:?}"), "zürich \"zürich\"");
        assert_eq!(String::from(text.clone()), "zürich");
        assert!("zürich" == text && text == *"zürich");
    }

    #[test]
    fn data_messages_convert_to_the_cores_and_back() {
        let core = wsproto_core::Message::Text("t".into());
        let ours = Message::from(core.clone());
        assert_eq!(wsproto_core::Message::try_from(ours), Ok(core));
        let ping = Message::Ping(Bytes::new());
        assert_eq!(wsproto_core::Message::try_from(ping.clone()), Err(ping));
        let frame = Message::Frame(Frame::new(OpCode::Text, "part").with_fin(false));
        assert_eq!(frame.to_text(), Ok("part"));
        let prepared = wsproto_core::PreparedMessage::try_from(Message::Binary(Bytes::from("b")))
            .expect("a data message");
        assert_eq!(
            *prepared.message(),
            wsproto_core::Message::Binary(Bytes::from("b"))
        );
        let control = Message::Pong(Bytes::new());
        assert_eq!(
            wsproto_core::PreparedMessage::try_from(control.clone()).map(|_| ()),
            Err(control)
        );
    }
}
