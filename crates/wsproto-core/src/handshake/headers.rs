//! Shared helpers: incremental head buffering with limits, HTTP token lists,
//! and conversion of `httparse` headers into an owned [`HeaderMap`].

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};

use crate::config::HandshakeLimits;

/// How much of the start of a head is parsed on every read (bounded, so
/// that byte-at-a-time input stays cheap). `httparse` answers `Partial` for
/// any valid prefix, so only bytes that cannot start an HTTP head fail.
pub(crate) const EARLY_CHECK_BYTES: usize = 512;

/// Bytes of an HTTP head as they arrive, with the limits that bound them.
///
/// Parsing is attempted only when a blank line (`\n\n` or `\n\r\n`, the
/// end of a head as `httparse` sees it) has arrived or the buffer has reached
/// `max_head_bytes`, so feeding one byte at a time costs one parse per blank
/// line rather than one per byte. The exception is the first
/// [`EARLY_CHECK_BYTES`]: they are parsed as they arrive, so that something
/// that is not HTTP at all (a TLS `ClientHello` on a plain port, an SSH
/// banner) fails at once instead of when the handshake times out.
#[derive(Debug)]
pub(crate) struct HeadBuffer {
    buf: Vec<u8>,
    /// How far the blank-line scan has looked.
    scanned: usize,
    limits: HandshakeLimits,
}

/// What [`HeadBuffer`] found.
pub(crate) enum HeadOutcome<T> {
    /// More bytes are needed.
    Partial,
    /// A complete head of `len` bytes, parsed into `T`.
    Complete(T, usize),
}

/// Why a head could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeadFault {
    /// The head is longer than `max_head_bytes`.
    TooLarge,
    /// More than `max_headers` header fields.
    TooManyHeaders,
    /// Not HTTP/1.x syntax.
    Malformed(httparse::Error),
}

impl HeadBuffer {
    pub(crate) fn new(limits: HandshakeLimits) -> Self {
        HeadBuffer {
            buf: Vec::new(),
            scanned: 0,
            limits,
        }
    }

    /// The limits in force.
    pub(crate) fn limits(&self) -> HandshakeLimits {
        self.limits
    }

    /// Appends bytes without looking for a head (a body being collected).
    pub(crate) fn extend(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Drops everything after the first `len` bytes.
    pub(crate) fn truncate(&mut self, len: usize) {
        self.buf.truncate(len);
    }

    /// Bytes buffered so far.
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    /// Appends `data` and, when a head may be complete, runs `parse` over at
    /// most `max_head_bytes` of the buffer with header storage for
    /// `max_headers` fields. `parse` returns `httparse`'s result together
    /// with the owned value it built.
    pub(crate) fn push<T>(
        &mut self,
        data: &[u8],
        parse: impl for<'b> FnOnce(
            &'b [u8],
            &mut [httparse::Header<'b>],
        ) -> Result<Option<(T, usize)>, httparse::Error>,
    ) -> Result<HeadOutcome<T>, HeadFault> {
        self.buf.extend_from_slice(data);
        let limit = self.limits.max_head_bytes;
        let start = self.scanned.saturating_sub(2);
        let blank_line = self.buf[start..].windows(2).enumerate().any(|(i, w)| {
            w == b"\n\n" || (w == b"\n\r" && self.buf.get(start + i + 2) == Some(&b'\n'))
        });
        self.scanned = self.buf.len();
        let at_limit = self.buf.len() >= limit;
        if !blank_line && !at_limit && self.buf.len() > EARLY_CHECK_BYTES {
            return Ok(HeadOutcome::Partial);
        }
        let window = &self.buf[..self.buf.len().min(limit)];
        let mut storage = vec![httparse::EMPTY_HEADER; self.limits.max_headers];
        match parse(window, &mut storage) {
            Ok(Some((value, len))) => Ok(HeadOutcome::Complete(value, len)),
            Ok(None) if at_limit => Err(HeadFault::TooLarge),
            Ok(None) => Ok(HeadOutcome::Partial),
            Err(httparse::Error::TooManyHeaders) => Err(HeadFault::TooManyHeaders),
            Err(e) => Err(HeadFault::Malformed(e)),
        }
    }

    /// The bytes after the first `head_len` bytes, without copying.
    pub(crate) fn take_after(&mut self, head_len: usize) -> Bytes {
        let mut all = Bytes::from(std::mem::take(&mut self.buf));
        all.split_off(head_len.min(all.len()))
    }
}

/// Converts `httparse` headers to an owned map, keeping repeated fields.
/// `None` when a field cannot be represented (`http` is stricter than
/// `httparse` about some bytes in values).
pub(crate) fn to_header_map(headers: &[httparse::Header<'_>]) -> Option<HeaderMap> {
    let mut map = HeaderMap::with_capacity(headers.len());
    for h in headers {
        let name = HeaderName::from_bytes(h.name.as_bytes()).ok()?;
        let value = HeaderValue::from_bytes(h.value).ok()?;
        map.append(name, value);
    }
    Some(map)
}

/// The elements of a comma-separated list (RFC 9110 §5.6.1), trimmed of
/// optional whitespace, empty elements skipped.
pub(crate) fn list_elements(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim_ows)
        .filter(|e| !e.is_empty())
}

fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// Whether any `name` field's list contains `token`, ASCII
/// case-insensitively (e.g. `Connection: keep-alive, Upgrade`).
pub(crate) fn has_token(headers: &HeaderMap, name: &HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .flat_map(|v| list_elements(v.as_bytes()))
        .any(|e| e.eq_ignore_ascii_case(token.as_bytes()))
}

/// All values of `name` joined with `, ` (a list header may be split over
/// several fields, RFC 9110 §5.3). `None` when absent; `Some(Err(()))` when
/// a value is not visible ASCII.
pub(crate) fn joined(headers: &HeaderMap, name: &HeaderName) -> Option<Result<String, ()>> {
    let mut values = headers.get_all(name).iter().peekable();
    values.peek()?;
    let mut out = String::new();
    for v in values {
        let Ok(s) = v.to_str() else {
            return Some(Err(()));
        };
        if !out.is_empty() {
            out.push_str(", ");
        }
        out.push_str(s);
    }
    Some(Ok(out))
}

/// Whether `s` is an HTTP token (RFC 9110 §5.6.2), the grammar of
/// subprotocol names (RFC 6455 §4.1).
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Writes `name: value\r\n`.
pub(crate) fn write_header(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Writes every field of `headers` in map order.
pub(crate) fn write_headers(out: &mut Vec<u8>, headers: &HeaderMap) {
    for (name, value) in headers {
        write_header(out, name.as_str(), value.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_lists_ignore_case_spaces_and_empty_elements() {
        let mut h = HeaderMap::new();
        h.append(
            "connection",
            HeaderValue::from_static("keep-alive ,\t UpGrade"),
        );
        assert!(has_token(&h, &http::header::CONNECTION, "upgrade"));
        assert!(!has_token(&h, &http::header::CONNECTION, "close"));
        h.append("upgrade", HeaderValue::from_static(", ,websocket,"));
        assert!(has_token(&h, &http::header::UPGRADE, "WebSocket"));
        h.append("upgrade", HeaderValue::from_static("websocketx"));
        assert!(!has_token(&h, &HeaderName::from_static("x"), "websocket"));
    }

    #[test]
    fn joined_values_and_tokens() {
        let mut h = HeaderMap::new();
        assert_eq!(joined(&h, &http::header::SEC_WEBSOCKET_PROTOCOL), None);
        h.append("sec-websocket-protocol", HeaderValue::from_static("a, b"));
        h.append("sec-websocket-protocol", HeaderValue::from_static("c"));
        assert_eq!(
            joined(&h, &http::header::SEC_WEBSOCKET_PROTOCOL),
            Some(Ok("a, b, c".to_owned()))
        );
        assert!(is_token("chat.v2"));
        assert!(!is_token("a b"));
        assert!(!is_token(""));
    }
}
