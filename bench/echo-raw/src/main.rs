//! The machine's practical ceiling for an echo server: raw TCP on one
//! thread, just enough WebSocket to echo (the handshake, then unmask each
//! complete frame straight into the reply buffer), and every reply to one
//! read sent in a single `write()`. No validation, no limits, no UTF-8
//! checks, no fragmentation: not a WebSocket implementation.
//!
//! `echo-raw [--addr 127.0.0.1:0] [--runtime tokio|smol] [--tls-cert
//! FILE --tls-key FILE]` prints `listening on ws://ADDR` (with TLS on
//! tokio: the wss rows' ceiling). With `--runtime smol` the same echo runs on
//! smol, set up as `examples/echo_server --runtime smol` is (the accept
//! loop in `smol::block_on`, each connection on smol's global executor):
//! the ceiling for the async-std and smol rows, async-io's own costs
//! included.
use wsbench::{
    ByteStream, OP_CLOSE, RecvBuf, accept_key, header, parse_header, push_header, push_masked,
    read_head,
};

fn main() -> std::io::Result<()> {
    match wsbench::arg("runtime").as_deref() {
        None | Some("tokio") => match wsbench::tls::acceptor_from_args() {
            // --tls-cert/--tls-key: the wss rows' ceiling.
            Some(acceptor) => wsbench::tls::serve(acceptor, |stream| async move {
                let _ = echo(stream).await;
            }),
            None => wsbench::serve(|stream| async move {
                let _ = echo(stream).await;
            }),
        },
        Some("smol") => smol::block_on(serve_smol()),
        Some(other) => Err(std::io::Error::other(format!(
            "--runtime {other}: expected tokio or smol"
        ))),
    }
}

/// smol's TCP stream, for the generic echo.
struct SmolStream(smol::net::TcpStream);

impl ByteStream for SmolStream {
    async fn read_some(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        smol::io::AsyncReadExt::read(&mut self.0, buf).await
    }
    async fn write_every(&mut self, buf: &[u8]) -> std::io::Result<()> {
        smol::io::AsyncWriteExt::write_all(&mut self.0, buf).await
    }
}

async fn echo<S: ByteStream>(mut stream: S) -> std::io::Result<()> {
    let (head, leftover) = read_head(&mut stream).await?;
    let key = header(&head, "sec-websocket-key").unwrap_or_default();
    let reply = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        accept_key(key)
    );
    stream.write_every(reply.as_bytes()).await?;
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
            stream.write_every(&out).await?;
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
        let n = stream.read_some(&mut buf[filled..]).await?;
        if n == 0 {
            return Ok(());
        }
        filled += n;
    }
}

async fn serve_smol() -> std::io::Result<()> {
    let listener = smol::net::TcpListener::bind(wsbench::addr_arg()).await?;
    println!("listening on ws://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        smol::spawn(async move {
            let _ = echo(SmolStream(stream)).await;
        })
        .detach();
    }
}
