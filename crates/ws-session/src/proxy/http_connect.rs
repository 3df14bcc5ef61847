//! HTTP `CONNECT` (RFC 9110 §9.3.6), sans-IO: the request bytes, and the
//! incremental parse of the proxy's answer head (httparse). Bytes after
//! the head belong to the tunnel: the parser reports where the head ends.

use std::fmt;

use base64::Engine as _;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

use super::url::{Credentials, HostPort};

/// The most bytes an answer head may take; a longer one is refused
/// ([`HttpReplyError::TooLarge`]). Proxies answer `CONNECT` in well under
/// a kilobyte.
pub const MAX_REPLY_HEAD: usize = 16 * 1024;

/// The most header lines an answer may have.
const MAX_HEADERS: usize = 64;

/// The request asking the proxy for a tunnel to `host:port` (IPv6 without
/// brackets), with `Proxy-Authorization: Basic` when `credentials` are
/// given (RFC 7617). `host` must already be a valid host (the caller
/// checks it: it goes into the request line).
#[must_use]
pub fn connect_request(host: &str, port: u16, credentials: Option<&Credentials>) -> Vec<u8> {
    let target = HostPort(host, port);
    let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some(credentials) = credentials {
        let token = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            credentials.username(),
            credentials.password()
        ));
        request.push_str("Proxy-Authorization: Basic ");
        request.push_str(&token);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    request.into_bytes()
}

/// The head of a proxy's answer to `CONNECT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectReply {
    /// The minor HTTP version (`HTTP/1.x`).
    pub minor_version: u8,
    /// The status.
    pub status: StatusCode,
    /// The reason phrase as sent (lossily decoded).
    pub reason: String,
    /// The headers.
    pub headers: HeaderMap,
}

impl ConnectReply {
    /// The `Proxy-Authenticate` challenges (which schemes a 407 accepts).
    pub fn proxy_authenticate(&self) -> impl Iterator<Item = &HeaderValue> {
        self.headers
            .get_all(http::header::PROXY_AUTHENTICATE)
            .iter()
    }
}

impl fmt::Display for ConnectReply {
    /// `"HTTP/1.1 407 Proxy Authentication Required"`, then each
    /// `Proxy-Authenticate` challenge.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "\"HTTP/1.{} {} {}\"",
            self.minor_version,
            self.status.as_u16(),
            self.reason
        )?;
        for challenge in self.proxy_authenticate() {
            write!(
                f,
                ", Proxy-Authenticate: {}",
                String::from_utf8_lossy(challenge.as_bytes())
            )?;
        }
        Ok(())
    }
}

/// An answer head that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpReplyError {
    /// No end of the head within the limit.
    #[error("its answer head is over {limit} bytes")]
    TooLarge {
        /// The limit ([`MAX_REPLY_HEAD`]).
        limit: usize,
    },
    /// Not an HTTP/1.x response head.
    #[error("its answer to CONNECT is not an HTTP/1.x response: {0}")]
    Parse(#[from] httparse::Error),
    /// A header httparse accepted that `http` does not.
    #[error("its answer to CONNECT has an invalid header")]
    Header,
}

/// Parses the answer head at the start of `buf`: `Ok(None)` while it is
/// incomplete, `Ok(Some((reply, len)))` once the `len` bytes of the head
/// have arrived (whatever follows them is the tunnel's). Call again with
/// the whole buffer as more arrives.
pub fn parse_reply(buf: &[u8]) -> Result<Option<(ConnectReply, usize)>, HttpReplyError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let len = match response.parse(buf)? {
        httparse::Status::Complete(len) => len,
        httparse::Status::Partial if buf.len() >= MAX_REPLY_HEAD => {
            return Err(HttpReplyError::TooLarge {
                limit: MAX_REPLY_HEAD,
            });
        }
        httparse::Status::Partial => return Ok(None),
    };
    if len > MAX_REPLY_HEAD {
        return Err(HttpReplyError::TooLarge {
            limit: MAX_REPLY_HEAD,
        });
    }
    let status = response
        .code
        .and_then(|code| StatusCode::from_u16(code).ok())
        .ok_or(HttpReplyError::Parse(httparse::Error::Status))?;
    let mut map = HeaderMap::with_capacity(response.headers.len());
    for header in response.headers.iter() {
        let name =
            HeaderName::from_bytes(header.name.as_bytes()).map_err(|_| HttpReplyError::Header)?;
        let value = HeaderValue::from_bytes(header.value).map_err(|_| HttpReplyError::Header)?;
        map.append(name, value);
    }
    let reply = ConnectReply {
        minor_version: response.version.unwrap_or(1),
        status,
        reason: response.reason.unwrap_or_default().to_owned(),
        headers: map,
    };
    Ok(Some((reply, len)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_bytes() {
        assert_eq!(
            connect_request("example.com", 443, None),
            b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
        );
        // RFC 7617 §2's example credentials.
        assert_eq!(
            connect_request("::1", 80, Some(&Credentials::new("Aladdin", "open sesame"))),
            b"CONNECT [::1]:80 HTTP/1.1\r\nHost: [::1]:80\r\nProxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n"
        );
    }

    #[test]
    fn the_head_ends_where_the_tunnel_begins_at_every_split() {
        let bytes = b"HTTP/1.0 200 Connection established\r\nVia: 1.1 proxy\r\n\r\n\x81\x05hello";
        let head = bytes.len() - 7;
        for split in 0..bytes.len() {
            assert_eq!(
                parse_reply(&bytes[..split]).unwrap().map(|(_, n)| n),
                (split >= head).then_some(head),
                "{split}"
            );
        }
        let (reply, len) = parse_reply(bytes).unwrap().unwrap();
        assert_eq!(
            (reply.status, reply.minor_version, len),
            (StatusCode::OK, 0, head)
        );
        assert_eq!(reply.reason, "Connection established");
        assert_eq!(reply.headers["via"], "1.1 proxy");
    }

    #[test]
    fn a_407_shows_its_challenges() {
        let bytes = b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\nProxy-Authenticate: Negotiate\r\n\r\n";
        let (reply, _) = parse_reply(bytes).unwrap().unwrap();
        assert_eq!(reply.status, StatusCode::PROXY_AUTHENTICATION_REQUIRED);
        assert_eq!(
            reply.to_string(),
            "\"HTTP/1.1 407 Proxy Authentication Required\", Proxy-Authenticate: Basic realm=\"corp\", Proxy-Authenticate: Negotiate"
        );
    }

    #[test]
    fn bad_heads_are_typed_errors() {
        assert!(matches!(
            parse_reply(b"SSH-2.0-OpenSSH\r\n\r\n"),
            Err(HttpReplyError::Parse(_))
        ));
        assert!(matches!(
            parse_reply(b"HTTP/1.1 999x\r\n\r\n"),
            Err(HttpReplyError::Parse(_))
        ));
        let mut long = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
        long.resize(MAX_REPLY_HEAD, b'a');
        assert_eq!(
            parse_reply(&long),
            Err(HttpReplyError::TooLarge {
                limit: MAX_REPLY_HEAD
            })
        );
        let mut many = b"HTTP/1.1 200 OK\r\n".to_vec();
        for _ in 0..=MAX_HEADERS {
            many.extend_from_slice(b"X: y\r\n");
        }
        many.extend_from_slice(b"\r\n");
        assert_eq!(
            parse_reply(&many),
            Err(HttpReplyError::Parse(httparse::Error::TooManyHeaders))
        );
    }
}
