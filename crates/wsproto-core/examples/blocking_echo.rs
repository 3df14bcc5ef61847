//! An echo server on plain `std::net` with one thread per connection and no
//! async runtime: the sans-IO core driven by hand. The socket's read timeout
//! is set from `poll_timeout()`, so the heartbeat and the close timeout work
//! without any timer machinery.
//!
//! Run: `cargo run -p wsproto-core --example blocking_echo -- 127.0.0.1:9002`

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use wsproto_core::handshake::{AcceptOptions, Progress, ServerError, ServerHandshake};
use wsproto_core::{Config, DeflateConfig, Event, Message};

#[allow(clippy::disallowed_methods)] // the driver owns the clock; the core is told the time
fn now() -> Instant {
    Instant::now()
}

fn config() -> Config {
    Config::default()
        .with_compression(DeflateConfig::default())
        .with_max_message_size(64 << 20)
        .with_ping_interval(Some(Duration::from_secs(30)))
}

fn serve(mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?; // handshake timeout
    let config = config();
    let mut handshake = ServerHandshake::new(&config);
    let mut buf = vec![0u8; 64 * 1024];
    let request = loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        match handshake.handle_data(&buf[..n]) {
            Ok(Progress::Partial) => {}
            Ok(Progress::Complete(request)) => break request,
            Err(ServerError::Request(err)) => {
                stream.write_all(&err.response_bytes())?;
                return Ok(());
            }
            Err(err) => return Err(std::io::Error::other(err)),
        }
    };
    let mut upgrade = request
        .accept(&AcceptOptions::new())
        .map_err(std::io::Error::other)?;
    stream.write_all(&upgrade.response_bytes())?;
    let mut conn = upgrade.into_connection(config, now());
    loop {
        while let Some(event) = conn.poll_event() {
            match event {
                Event::Message(Message::Text(text)) => drop(conn.send_text(text)),
                Event::Message(Message::Binary(data)) => drop(conn.send_binary(data)),
                Event::Closed(reason) => eprintln!("connection ended: {reason}"),
                _ => {}
            }
        }
        loop {
            let out = conn.poll_transmit();
            if out.is_empty() {
                break;
            }
            let n = stream.write(out)?;
            conn.advance_transmit(n);
        }
        if conn.should_close_transport() {
            stream.shutdown(Shutdown::Both).ok();
            return Ok(());
        }
        let timeout = conn.poll_timeout().map(|deadline| {
            deadline
                .saturating_duration_since(now())
                .max(Duration::from_millis(1))
        });
        stream.set_read_timeout(timeout)?;
        match stream.read(&mut buf) {
            Ok(0) => conn.handle_eof(now()),
            Ok(n) => conn.handle_data(now(), &buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                conn.handle_timeout(now());
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => conn.handle_eof(now()),
        }
    }
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let listener = TcpListener::bind(addr)?;
    println!("listening on ws://{}", listener.local_addr()?);
    for stream in listener.incoming() {
        let stream = stream?;
        std::thread::spawn(move || {
            if let Err(err) = serve(stream) {
                eprintln!("connection error: {err}");
            }
        });
    }
    Ok(())
}
