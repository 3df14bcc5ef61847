//! Header helpers shared by both sides: HTTP token lists, conversion of
//! `httparse` headers into an owned [`HeaderMap`], and writing header lines.

use http::header::{HeaderMap, HeaderName, HeaderValue};

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

/// Writes every field of `headers` in map order: the fields the handshake
/// itself writes in their conventional capitalisation
/// (`Sec-WebSocket-Accept`), any other name as the map holds it (lower
/// case). HTTP/1 field names are case-insensitive; this only keeps the
/// bytes familiar to people reading a capture.
pub(crate) fn write_headers(out: &mut Vec<u8>, headers: &HeaderMap) {
    for (name, value) in headers {
        write_header(out, canonical(name), value.as_bytes());
    }
}

/// The conventional spelling of the handshake's own field names.
fn canonical(name: &HeaderName) -> &str {
    match name.as_str() {
        "host" => "Host",
        "upgrade" => "Upgrade",
        "connection" => "Connection",
        "sec-websocket-key" => "Sec-WebSocket-Key",
        "sec-websocket-version" => "Sec-WebSocket-Version",
        "sec-websocket-protocol" => "Sec-WebSocket-Protocol",
        "sec-websocket-extensions" => "Sec-WebSocket-Extensions",
        "sec-websocket-accept" => "Sec-WebSocket-Accept",
        "content-type" => "Content-Type",
        "content-length" => "Content-Length",
        "retry-after" => "Retry-After",
        other => other,
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
