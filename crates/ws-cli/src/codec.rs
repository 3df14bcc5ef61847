//! Lines to messages and messages to output: text as it is, binary from
//! and to hex or base64 (or raw bytes out), JSON re-indented.

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use clap::ValueEnum;

use crate::link::Payload;

/// How `--binary` reads input lines as binary messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BinaryIn {
    /// Hex digits, two per byte; spaces between bytes are allowed.
    Hex,
    /// Standard base64 (RFC 4648 §4), with padding.
    Base64,
}

/// How binary messages received are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BinaryOut {
    /// Lowercase hex, one message per line.
    Hex,
    /// Standard base64, one message per line.
    Base64,
    /// The bytes as they are, with nothing between messages.
    Raw,
}

/// Why a line is not a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    /// A character that is not a hex digit.
    #[error("not hex: {found:?} at column {column}")]
    NotHex {
        /// The character.
        found: char,
        /// Where it is (1-based).
        column: usize,
    },
    /// An odd number of hex digits.
    #[error("hex needs two digits per byte, the line has {0} digits")]
    OddHex(usize),
    /// Not base64.
    #[error("not base64: {0}")]
    Base64(#[from] base64::DecodeError),
}

/// The message one input line stands for.
pub fn message_of(line: &str, binary: Option<BinaryIn>) -> Result<Payload, LineError> {
    match binary {
        None => Ok(Payload::Text(line.to_owned())),
        Some(BinaryIn::Hex) => parse_hex(line).map(Payload::Binary),
        Some(BinaryIn::Base64) => Ok(Payload::Binary(BASE64.decode(line.trim())?)),
    }
}

fn parse_hex(line: &str) -> Result<Vec<u8>, LineError> {
    let mut digits = Vec::with_capacity(line.len());
    for (column, c) in line.chars().enumerate() {
        if c.is_whitespace() {
            continue;
        }
        let digit = c.to_digit(16).ok_or(LineError::NotHex {
            found: c,
            column: column + 1,
        })?;
        digits.push(digit as u8);
    }
    if digits.len() % 2 != 0 {
        return Err(LineError::OddHex(digits.len()));
    }
    Ok(digits
        .chunks(2)
        .map(|pair| pair[0] << 4 | pair[1])
        .collect())
}

/// Lowercase hex without separators.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// How received messages are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Render {
    /// Binary messages.
    pub binary: BinaryOut,
    /// Re-indent text messages that are JSON.
    pub json: bool,
}

impl Render {
    /// The bytes to write for `payload`: a line (newline included), or the
    /// raw bytes.
    #[must_use]
    pub fn bytes(&self, payload: &Payload) -> Vec<u8> {
        let mut line = match payload {
            Payload::Text(text) if self.json => pretty_json(text).unwrap_or_else(|| text.clone()),
            Payload::Text(text) => text.clone(),
            Payload::Binary(data) => match self.binary {
                BinaryOut::Raw => return data.clone(),
                BinaryOut::Hex => hex(data),
                BinaryOut::Base64 => BASE64.encode(data),
            },
        };
        line.push('\n');
        line.into_bytes()
    }
}

/// `text` re-indented with two spaces, if it is one JSON value. Keys keep
/// their order and numbers their spelling: the text is only re-spaced.
#[must_use]
pub fn pretty_json(text: &str) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(text).ok()?;
    let mut out = String::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = text.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.extend(std::iter::repeat_n("  ", depth));
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                // An empty object or array stays on one line.
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                if matches!(chars.peek(), Some('}' | ']')) {
                    out.extend(chars.next());
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_become_messages() {
        assert_eq!(message_of("hi", None), Ok(Payload::Text("hi".into())));
        assert_eq!(
            message_of("00 ff A0", Some(BinaryIn::Hex)),
            Ok(Payload::Binary(vec![0, 0xff, 0xa0]))
        );
        assert_eq!(
            message_of("AP8=", Some(BinaryIn::Base64)),
            Ok(Payload::Binary(vec![0, 0xff]))
        );
        assert_eq!(
            message_of("0g", Some(BinaryIn::Hex)),
            Err(LineError::NotHex {
                found: 'g',
                column: 2
            })
        );
        assert_eq!(
            message_of("abc", Some(BinaryIn::Hex)),
            Err(LineError::OddHex(3))
        );
        assert!(matches!(
            message_of("%%", Some(BinaryIn::Base64)),
            Err(LineError::Base64(_))
        ));
    }

    #[test]
    fn binary_is_written_as_asked() {
        let data = Payload::Binary(vec![0, 0xff, b'\n']);
        let render = |binary| Render {
            binary,
            json: false,
        };
        assert_eq!(render(BinaryOut::Hex).bytes(&data), b"00ff0a\n");
        assert_eq!(render(BinaryOut::Base64).bytes(&data), b"AP8K\n");
        assert_eq!(render(BinaryOut::Raw).bytes(&data), [0, 0xff, b'\n']);
        assert_eq!(
            render(BinaryOut::Hex).bytes(&Payload::Text("a b".into())),
            b"a b\n"
        );
    }

    #[test]
    fn json_is_reindented_in_order_and_other_text_left_alone() {
        let text = r#"{"z":1.50,"a":[1, {}, [], "x,\"y:{"],"e":{"k":null}}"#;
        assert_eq!(
            pretty_json(text).unwrap(),
            "{\n  \"z\": 1.50,\n  \"a\": [\n    1,\n    {},\n    [],\n    \"x,\\\"y:{\"\n  ],\n  \"e\": {\n    \"k\": null\n  }\n}"
        );
        assert_eq!(pretty_json("not json"), None);
        assert_eq!(pretty_json("{\"a\":1} trailing"), None);
        let render = Render {
            binary: BinaryOut::Hex,
            json: true,
        };
        assert_eq!(render.bytes(&Payload::Text("[ ]".into())), b"[]\n");
        assert_eq!(render.bytes(&Payload::Text("plain".into())), b"plain\n");
    }
}
