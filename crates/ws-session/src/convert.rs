//! Content conversion (`send_serialized` / `receive_deserialized`):
//! turn values into messages and back.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::message::Message;

/// Why a value could not be converted to or from a message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConvertError {
    /// The message is of a kind the converter does not read (for example
    /// binary where text is expected, or a ping).
    #[error("unsupported message kind: {0}")]
    UnsupportedKind(&'static str),
    /// The converter's own error (syntax, missing field, type mismatch).
    #[error(transparent)]
    Codec(Box<dyn std::error::Error + Send + Sync>),
}

/// Turns values into messages and messages into values.
///
/// A converter is stateless as far as the session is concerned; pass it by
/// reference to [`Session::send_serialized_with`](crate::Session::send_serialized_with)
/// and [`Session::receive_deserialized_with`](crate::Session::receive_deserialized_with).
pub trait Converter {
    /// Encodes `value` as one message.
    fn serialize<T: Serialize + ?Sized>(&self, value: &T) -> Result<Message, ConvertError>;
    /// Decodes a message. The message is borrowed so that the caller keeps
    /// it when decoding fails.
    fn deserialize<T: DeserializeOwned>(&self, message: &Message) -> Result<T, ConvertError>;
}

/// JSON in text messages (`serde_json`). Binary messages are decoded too, as
/// UTF-8 JSON.
#[cfg(feature = "json")]
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonConverter;

#[cfg(feature = "json")]
impl Converter for JsonConverter {
    fn serialize<T: Serialize + ?Sized>(&self, value: &T) -> Result<Message, ConvertError> {
        let text = serde_json::to_string(value).map_err(|e| ConvertError::Codec(Box::new(e)))?;
        Ok(Message::Text(text.into()))
    }

    fn deserialize<T: DeserializeOwned>(&self, message: &Message) -> Result<T, ConvertError> {
        let (Message::Text(_) | Message::Binary(_)) = message else {
            return Err(ConvertError::UnsupportedKind(
                "a control frame or a part of a message",
            ));
        };
        serde_json::from_slice(message.as_payload()).map_err(|e| ConvertError::Codec(Box::new(e)))
    }
}
