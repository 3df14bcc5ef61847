//! HTTP/1.1 serialisation of the structured responses the negotiation
//! builds (the `send_response` step of Python `websockets`' server): the
//! byte-level accept path writes these bytes; hyper and axum write the same
//! `http::Response` themselves.

use http::StatusCode;
use http::header::{self, HeaderMap};

use super::headers::{write_header, write_headers};

/// The bytes of `response` as HTTP/1.1, for a server that speaks HTTP/1
/// itself (the byte-level accept path): the status line, the headers in map
/// order, then the body as it is (the response's own `Content-Length` must
/// match it, as those built by this module's callers do).
///
/// Anything but a `101` ends the connection here (the byte-level path
/// serves one request per connection): `Connection: close` is written
/// first unless the response has a `Connection` field.
///
/// ```
/// use wsproto_core::handshake::response_bytes;
///
/// let response = http::Response::builder()
///     .status(403)
///     .header("content-length", "2")
///     .body(&b"no"[..])?;
/// assert_eq!(
///     response_bytes(&response),
///     b"HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 2\r\n\r\nno"
/// );
/// # Ok::<(), http::Error>(())
/// ```
#[must_use]
pub fn response_bytes<B: AsRef<[u8]>>(response: &http::Response<B>) -> Vec<u8> {
    encode(
        response.status(),
        response.headers(),
        response.body().as_ref(),
    )
}

/// [`response_bytes`] from the pieces.
pub(crate) fn encode(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(160 + body.len());
    write_status_line(&mut out, status);
    if status != StatusCode::SWITCHING_PROTOCOLS && !headers.contains_key(header::CONNECTION) {
        write_header(&mut out, "Connection", b"close");
    }
    write_headers(&mut out, headers);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// Writes `HTTP/1.1 <code> <reason>\r\n`.
fn write_status_line(out: &mut Vec<u8>, status: StatusCode) {
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn a_101_keeps_the_connection_and_others_close_it() {
        let mut headers = HeaderMap::new();
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        assert_eq!(
            encode(StatusCode::SWITCHING_PROTOCOLS, &headers, b""),
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"
        );
        assert_eq!(
            encode(StatusCode::NOT_FOUND, &HeaderMap::new(), b""),
            b"HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n"
        );
        let mut headers = HeaderMap::new();
        headers.insert(header::CONNECTION, HeaderValue::from_static("keep-alive"));
        headers.insert("x-custom", HeaderValue::from_static("1"));
        assert_eq!(
            encode(StatusCode::OK, &headers, b"hi"),
            b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nx-custom: 1\r\n\r\nhi"
        );
        // A code without a reason phrase keeps the separating space.
        assert_eq!(
            encode(StatusCode::from_u16(599).unwrap(), &HeaderMap::new(), b""),
            b"HTTP/1.1 599 \r\nConnection: close\r\n\r\n"
        );
    }
}
