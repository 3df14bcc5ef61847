//! Raw HTTP/1.1 for the tests: write exactly the bytes given (a request,
//! perhaps with frames after it in the same write) and read the response
//! head, its body, and whatever follows.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// A response read off the wire.
#[derive(Debug)]
pub struct RawResponse {
    /// The status code.
    pub status: u16,
    /// Header fields, names in lower case, in order.
    pub headers: Vec<(String, String)>,
    /// The body (`Content-Length` bytes; none for a 101).
    pub body: Vec<u8>,
    /// The connection, positioned after the body.
    pub stream: TcpStream,
    /// Bytes read past the body (the start of the WebSocket stream).
    pub rest: Vec<u8>,
}

impl RawResponse {
    /// The first value of `name` (lower case).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Connects to `addr`, writes `bytes` in one write, and reads the response
/// (within 10 s).
///
/// # Errors
/// IO errors, a malformed response, or the time limit.
pub async fn exchange(addr: SocketAddr, bytes: &[u8]) -> Result<RawResponse, String> {
    tokio::time::timeout(Duration::from_secs(10), async {
        let mut stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        stream.write_all(bytes).await.map_err(|e| e.to_string())?;
        read_response(stream).await
    })
    .await
    .map_err(|_| "no response within 10 s".to_owned())?
}

async fn read_response(mut stream: TcpStream) -> Result<RawResponse, String> {
    let mut buf = Vec::new();
    loop {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err(format!(
                "EOF before the response head: {:?}",
                String::from_utf8_lossy(&buf)
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut fields = [httparse::EMPTY_HEADER; 64];
        let mut response = httparse::Response::new(&mut fields);
        let httparse::Status::Complete(head) = response.parse(&buf).map_err(|e| e.to_string())?
        else {
            continue;
        };
        let status = response.code.unwrap_or_default();
        let headers: Vec<(String, String)> = response
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_ascii_lowercase(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect();
        let length = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(0);
        let mut rest = buf.split_off(head);
        while status != 101 && rest.len() < length {
            let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
            if n == 0 {
                return Err("EOF in the body".to_owned());
            }
            rest.extend_from_slice(&chunk[..n]);
        }
        let body_len = if status == 101 { 0 } else { length };
        let after = rest.split_off(body_len);
        return Ok(RawResponse {
            status,
            headers,
            body: rest,
            stream,
            rest: after,
        });
    }
}

/// An HTTP/1.1 upgrade request for `path` on `host`, with `extra` header
/// lines (each ending in `\r\n`).
#[must_use]
pub fn upgrade_request(path: &str, host: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}
