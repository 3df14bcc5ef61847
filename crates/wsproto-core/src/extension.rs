//! The extension mechanism (RFC 6455 §9): negotiation through the
//! `Sec-WebSocket-Extensions` header, RSV bits, and payload transforms.
//!
//! An [`ExtensionFactory`] lives in the [`Config`](crate::Config) and
//! negotiates during the handshake; each connection then owns the
//! [`Extension`] objects it negotiated, which transform outgoing messages
//! and incoming frames. permessage-deflate ([`crate::deflate`]) is built on
//! it.

use std::fmt;

use bytes::BytesMut;

use crate::error::ExtensionError;
use crate::frame::{OpCode, Rsv};

/// One entry of a `Sec-WebSocket-Extensions` header: an extension name and
/// its parameters, e.g. `permessage-deflate; client_max_window_bits=10`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionHeader {
    /// The extension token, e.g. `permessage-deflate`.
    pub name: String,
    /// Parameters in order: name and optional value (quotes removed).
    pub params: Vec<(String, Option<String>)>,
}

impl ExtensionHeader {
    /// An entry with no parameters.
    #[must_use]
    pub fn new(name: impl Into<String>) -> Self {
        ExtensionHeader {
            name: name.into(),
            params: Vec::new(),
        }
    }

    /// Adds a parameter.
    #[must_use]
    pub fn param(mut self, name: impl Into<String>, value: Option<impl Into<String>>) -> Self {
        self.params.push((name.into(), value.map(Into::into)));
        self
    }

    /// Parses a whole header value (comma-separated entries, RFC 6455 §9.1
    /// grammar: tokens, `;`-separated parameters, values as tokens or quoted
    /// strings).
    ///
    /// # Errors
    /// [`NegotiationError::Malformed`] when the value does not follow the
    /// grammar.
    pub fn parse_list(value: &str) -> Result<Vec<ExtensionHeader>, NegotiationError> {
        let mut out = Vec::new();
        for entry in split_outside_quotes(value, ',') {
            let entry = entry.trim();
            if entry.is_empty() {
                // Empty list elements are allowed by RFC 7230 §7.
                continue;
            }
            let mut parts = split_outside_quotes(entry, ';').into_iter();
            let name = parts.next().unwrap_or_default().trim();
            if !is_token(name) {
                return Err(NegotiationError::Malformed);
            }
            let mut header = ExtensionHeader::new(name);
            for param in parts {
                let (key, val) = match param.split_once('=') {
                    Some((k, v)) => (k.trim(), Some(parse_value(v.trim())?)),
                    None => (param.trim(), None),
                };
                if !is_token(key) {
                    return Err(NegotiationError::Malformed);
                }
                header.params.push((key.to_owned(), val));
            }
            out.push(header);
        }
        Ok(out)
    }
}

impl fmt::Display for ExtensionHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        for (key, value) in &self.params {
            match value {
                Some(v) => write!(f, "; {key}={v}")?,
                None => write!(f, "; {key}")?,
            }
        }
        Ok(())
    }
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn parse_value(v: &str) -> Result<String, NegotiationError> {
    if let Some(inner) = v.strip_prefix('"') {
        let inner = inner.strip_suffix('"').ok_or(NegotiationError::Malformed)?;
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => out.push(chars.next().ok_or(NegotiationError::Malformed)?),
                '"' => return Err(NegotiationError::Malformed),
                c => out.push(c),
            }
        }
        // RFC 6455 §9.1: a quoted value must still be a token once unquoted.
        if is_token(&out) {
            Ok(out)
        } else {
            Err(NegotiationError::Malformed)
        }
    } else if is_token(v) {
        Ok(v.to_owned())
    } else {
        Err(NegotiationError::Malformed)
    }
}

fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                parts.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

/// Why an extension negotiation failed. On the client this fails the
/// connection; on the server the offer is declined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NegotiationError {
    /// The header does not follow the RFC 6455 §9.1 grammar.
    #[error("malformed Sec-WebSocket-Extensions header")]
    Malformed,
    /// A parameter this extension does not define.
    #[error("{extension}: unknown parameter {param}")]
    UnknownParameter {
        /// The extension's name.
        extension: &'static str,
        /// The parameter.
        param: String,
    },
    /// A parameter given twice.
    #[error("{extension}: parameter {param} given twice")]
    DuplicateParameter {
        /// The extension's name.
        extension: &'static str,
        /// The parameter.
        param: String,
    },
    /// A parameter with a value that is not allowed.
    #[error("{extension}: invalid value for {param}")]
    InvalidValue {
        /// The extension's name.
        extension: &'static str,
        /// The parameter.
        param: String,
    },
    /// The server's response uses a parameter or value the client did not
    /// offer or allow.
    #[error("{extension}: the response uses {param}, which was not offered")]
    NotOffered {
        /// The extension's name.
        extension: &'static str,
        /// The parameter.
        param: String,
    },
    /// The server's response leaves out a parameter the client asked for,
    /// so it does not accept the client's offer (e.g. RFC 7692 §7.1.1.1:
    /// a server accepts `server_no_context_takeover` by echoing it).
    #[error("{extension}: the response does not grant the requested {param}")]
    NotGranted {
        /// The extension's name.
        extension: &'static str,
        /// The parameter.
        param: String,
    },
    /// The server accepted an extension the client never offered.
    #[error("the server accepted extension {0}, which was not offered")]
    UnofferedExtension(String),
    /// The server accepted the same extension twice, or two extensions that
    /// claim the same RSV bit.
    #[error("extension {0} accepted twice or conflicts with another on RSV bits")]
    Conflict(String),
}

/// Negotiates one extension during the handshake. Lives in the shared
/// [`Config`](crate::Config), so it must be `Send + Sync`; it creates a fresh
/// [`Extension`] for every connection.
pub trait ExtensionFactory: Send + Sync + fmt::Debug {
    /// The extension token, e.g. `permessage-deflate`.
    fn name(&self) -> &'static str;

    /// Client side: the entries to offer, in order of preference (several
    /// offers of one extension are allowed, RFC 7692 §5).
    fn client_offers(&self) -> Vec<ExtensionHeader>;

    /// Client side: the server accepted this extension with `response`.
    /// Check it against what [`client_offers`](Self::client_offers) offered and
    /// build the connection's extension.
    ///
    /// # Errors
    /// Any [`NegotiationError`]: the client then fails the connection.
    fn client_accept(
        &self,
        response: &ExtensionHeader,
    ) -> Result<Box<dyn Extension>, NegotiationError>;

    /// Server side: `offers` are the client's entries for this extension, in
    /// the client's order. Accept the first acceptable one by returning the
    /// response entry and the connection's extension, or decline with `None`.
    fn server_accept(
        &self,
        offers: &[&ExtensionHeader],
    ) -> Option<(ExtensionHeader, Box<dyn Extension>)>;
}

/// A negotiated extension on one connection. It transforms whole outgoing
/// messages and incoming data frames of messages that carry its RSV bits.
///
/// The connection calls it only in default mode, never for control frames.
pub trait Extension: Send + fmt::Debug {
    /// The extension token.
    fn name(&self) -> &'static str;

    /// The RSV bits this extension sets on the first frame of a transformed
    /// message.
    fn rsv(&self) -> Rsv;

    /// Outgoing: may transform a whole message (`opcode` is `Text` or
    /// `Binary`). Return `Ok(true)` after appending the transformed payload
    /// to `out` (it is sent with this extension's RSV bits set on the first
    /// frame), or `Ok(false)` to send the message unchanged (e.g. below a
    /// compression threshold) without touching `out`.
    ///
    /// # Errors
    /// An [`ExtensionError`]: the send fails and nothing is queued.
    fn encode_message(
        &mut self,
        opcode: OpCode,
        payload: &[u8],
        out: &mut BytesMut,
    ) -> Result<bool, ExtensionError>;

    /// Incoming: one data frame of a message whose first frame carried this
    /// extension's RSV bits. Append the decoded bytes to `out`; `out.len()`
    /// must never exceed `max_len` (fail with
    /// [`ExtensionError::TooLarge`] instead, before allocating beyond it).
    /// `fin` is set on the message's last frame.
    ///
    /// # Errors
    /// An [`ExtensionError`]: the connection fails with its close code.
    fn decode_frame(
        &mut self,
        payload: &[u8],
        fin: bool,
        out: &mut BytesMut,
        max_len: usize,
    ) -> Result<(), ExtensionError>;

    /// Whether [`encode_message`](Self::encode_message)'s output depends
    /// on nothing but the message and the returned key (no state carried
    /// from one message to the next, e.g. permessage-deflate without
    /// context takeover on our side). Connections whose only extension
    /// returns equal keys then share one encoding of a
    /// [`PreparedMessage`](crate::PreparedMessage). The default, `None`,
    /// makes every connection encode prepared messages itself.
    fn shared_encoding(&self) -> Option<crate::prepared::EncodingKey> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_offers_with_quoted_values_and_several_entries() {
        let list = ExtensionHeader::parse_list(
            "permessage-deflate; client_max_window_bits; server_max_window_bits=\"10\", permessage-deflate, x-foo",
        )
        .unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list[0].name, "permessage-deflate");
        assert_eq!(
            list[0].params,
            vec![
                ("client_max_window_bits".to_owned(), None),
                ("server_max_window_bits".to_owned(), Some("10".to_owned()))
            ]
        );
        assert_eq!(list[2].name, "x-foo");
        assert_eq!(
            list[0].to_string(),
            "permessage-deflate; client_max_window_bits; server_max_window_bits=10"
        );
    }

    #[test]
    fn rejects_malformed_lists() {
        for bad in [
            "a b",
            "a; =1",
            "a; b=\"unterminated",
            "a; b=c d",
            "; x",
            "a; b=\"c d\"",
        ] {
            assert_eq!(
                ExtensionHeader::parse_list(bad),
                Err(NegotiationError::Malformed),
                "{bad}"
            );
        }
        assert_eq!(ExtensionHeader::parse_list(" , a ,").unwrap().len(), 1);
    }
}
