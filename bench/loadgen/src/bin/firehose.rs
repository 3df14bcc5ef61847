//! The client firehose: a raw sender that writes WebSocket frames as fast
//! as the socket takes them, and the floor of the receiving side, a raw
//! reader that only parses frame headers.
//!
//! ```text
//! firehose send [--addr 127.0.0.1:0] --size BYTES     # prints `listening on ws://ADDR`
//! firehose raw --addr HOST:PORT --size BYTES --messages N
//! ```
//!
//! `send` answers each connection's handshake, then writes unmasked binary
//! frames of `--size` bytes (64 pre-built ones, in one buffer, written
//! again and again) until the peer goes away. A client reads `--messages`
//! of them and prints `RESULT msgs=… secs=… client_cpu_us_per_msg=…
//! msgs_per_s=…`: its own CPU (user + system, from `/proc/self`) from the
//! first message to the last, divided by the messages. `raw` is that
//! client with no WebSocket library: headers parsed, payloads skipped.
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wsbench::{
    ByteStream, OP_BINARY, accept_key, arg, header, num_arg, own_cpu, parse_header, push_header,
    read_head, report_firehose,
};

/// 64 frames of `size` bytes, each payload a little different.
fn frames(size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 * (size + 14));
    for i in 0..64usize {
        let payload: Vec<u8> = (0..size).map(|j| ((i * 7 + j) % 251) as u8).collect();
        push_header(&mut out, OP_BINARY, false, size, None);
        out.extend_from_slice(&payload);
    }
    out
}

async fn send_to(mut stream: TcpStream, wire: std::sync::Arc<Vec<u8>>) {
    let Ok((head, _)) = read_head(&mut stream).await else {
        return;
    };
    let Some(key) = header(&head, "sec-websocket-key") else {
        return;
    };
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        accept_key(key)
    );
    if stream.write_every(response.as_bytes()).await.is_err() {
        return;
    }
    while stream.write_all(&wire).await.is_ok() {}
}

async fn raw(addr: &str, messages: usize) -> Result<(), String> {
    let (mut stream, up) = wsbench::connect_to(addr, "/", "").await?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut filled = up.leftover.len();
    buf[..filled].copy_from_slice(&up.leftover);
    let (mut seen, mut skip) = (0usize, 0usize);
    let mut start: Option<(Instant, f64)> = None;
    loop {
        let mut at = skip.min(filled);
        skip -= at;
        while skip == 0 {
            let Some(h) = parse_header(&buf[at..filled]) else {
                break;
            };
            if h.opcode != OP_BINARY {
                return Err(format!("unexpected frame {h:?}"));
            }
            at += h.len;
            let take = h.payload.min(filled - at);
            at += take;
            skip = h.payload - take;
            if start.is_none() {
                start = Some((Instant::now(), own_cpu()));
            } else {
                seen += 1;
            }
            if seen == messages {
                let (t, c) = start.expect("started");
                report_firehose(seen, t, c);
                return Ok(());
            }
        }
        buf.copy_within(at..filled, 0);
        filled -= at;
        let n = stream
            .read(&mut buf[filled..])
            .await
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the sender closed the connection".to_owned());
        }
        filled += n;
    }
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let size: usize = num_arg("size", 1024);
    match mode.as_str() {
        "send" => {
            let wire = std::sync::Arc::new(frames(size));
            wsbench::serve(move |stream| send_to(stream, wire.clone())).expect("serve");
        }
        "raw" => {
            let addr = arg("addr").expect("--addr");
            let messages: usize = num_arg("messages", 100_000);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio");
            if let Err(e) = runtime.block_on(raw(&addr, messages)) {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        }
        _ => {
            eprintln!(
                "usage: firehose send --size BYTES | firehose raw --addr HOST:PORT --size BYTES --messages N"
            );
            std::process::exit(2);
        }
    }
}
