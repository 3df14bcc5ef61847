//! The machine's practical ceiling for an echo server: raw TCP on one tokio
//! thread, just enough WebSocket to echo (the handshake, then unmask each
//! complete frame straight into the reply buffer), and every reply to one
//! read sent in a single `write()`. No validation, no limits, no UTF-8
//! checks, no fragmentation: not a WebSocket implementation.
//!
//! `echo-raw [--addr 127.0.0.1:0]` prints `listening on ws://ADDR`.
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wsbench::{
    OP_CLOSE, RecvBuf, accept_key, header, parse_header, push_header, push_masked, read_head,
};

fn main() -> std::io::Result<()> {
    wsbench::serve(|stream| async move {
        let _ = echo(stream).await;
    })
}

async fn echo(mut stream: TcpStream) -> std::io::Result<()> {
    let (head, leftover) = read_head(&mut stream).await?;
    let key = header(&head, "sec-websocket-key").unwrap_or_default();
    let reply = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        accept_key(key)
    );
    stream.write_all(reply.as_bytes()).await?;
    let mut filled = leftover.len();
    let mut buf = RecvBuf::new(&leftover, 64 * 1024);
    let mut out = Vec::new();
    loop {
        // Echo every complete frame in the buffer into one reply.
        let mut consumed = 0;
        let mut closing = false;
        while let Some(h) = parse_header(&buf[consumed..filled]) {
            let end = consumed + h.len + h.payload;
            if end > filled {
                if end > buf.len() {
                    buf.grow(end);
                }
                break;
            }
            let mask = h.mask.unwrap_or_default();
            push_header(&mut out, h.opcode, h.rsv1, h.payload, None);
            push_masked(&mut out, &buf[consumed + h.len..end], mask);
            consumed = end;
            closing |= h.opcode == OP_CLOSE;
        }
        if !out.is_empty() {
            stream.write_all(&out).await?;
            out.clear();
        }
        if closing {
            return Ok(());
        }
        if consumed > 0 {
            buf.copy_within(consumed..filled, 0);
            filled -= consumed;
        }
        if buf.len() - filled < 16 * 1024 {
            buf.grow(filled + 64 * 1024);
        }
        let n = stream.read(&mut buf[filled..]).await?;
        if n == 0 {
            return Ok(());
        }
        filled += n;
    }
}
