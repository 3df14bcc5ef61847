//! An echo server on plain `std::net` with one thread per connection and no
//! async runtime: the sans-IO core driven by hand. The socket's read timeout
//! is set from `poll_timeout()`, so the heartbeat and the close timeout work
//! without any timer machinery.
//!
//! A server facing the internet cannot let peers choose its resources: the
//! threads are bounded (at the limit the accept loop waits for one to
//! finish, and new connections queue in the kernel's backlog), the whole
//! handshake has one deadline (a peer that sends a byte a second gets no
//! more time than one that sends nothing), and running out of file
//! descriptors pauses the accepts instead of ending the server.
//!
//! Run: `cargo run -p wsproto-core --example blocking_echo -- 127.0.0.1:9002`

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
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

/// Connections served at once, one thread each.
const MAX_CONNECTIONS: usize = 256;

/// The whole opening handshake must arrive within this.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

fn serve(mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let config = config();
    let mut handshake = ServerHandshake::new(&config);
    let mut buf = vec![0u8; 64 * 1024];
    let deadline = now() + HANDSHAKE_TIMEOUT;
    let request = loop {
        // What is left of the handshake's time; none left ends it.
        let left = deadline.saturating_duration_since(now());
        if left.is_zero() {
            return Err(ErrorKind::TimedOut.into());
        }
        stream.set_read_timeout(Some(left))?;
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

/// Counts the connection threads, so that the accept loop can wait for a
/// free one.
#[derive(Default)]
struct Slots {
    busy: Mutex<usize>,
    freed: Condvar,
}

impl Slots {
    /// Waits until fewer than [`MAX_CONNECTIONS`] are busy, then takes one.
    fn take(&self) {
        let mut busy = self.busy.lock().unwrap_or_else(PoisonError::into_inner);
        while *busy >= MAX_CONNECTIONS {
            busy = self
                .freed
                .wait(busy)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *busy += 1;
    }

    fn give_back(&self) {
        *self.busy.lock().unwrap_or_else(PoisonError::into_inner) -= 1;
        self.freed.notify_one();
    }
}

/// Sleeps for `pause` (the accept loop's backoff).
#[allow(clippy::disallowed_methods)] // the driver owns the clock and its waits
fn pause_for(pause: Duration) {
    std::thread::sleep(pause);
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_owned());
    if addr == "--help" || addr == "-h" {
        println!(
            "An echo server on std::net, one thread per connection (at most {MAX_CONNECTIONS}).\n\n\
             Usage: blocking_echo [ADDR]    (default 127.0.0.1:0; the address bound is printed)"
        );
        return Ok(());
    }
    let listener = TcpListener::bind(addr)?;
    println!("listening on ws://{}", listener.local_addr()?);
    let slots = Arc::new(Slots::default());
    let mut pause = None::<Duration>;
    loop {
        slots.take();
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(e) => {
                slots.give_back();
                match e.kind() {
                    // The connection went away before it was accepted.
                    ErrorKind::ConnectionAborted
                    | ErrorKind::ConnectionReset
                    | ErrorKind::Interrupted => {}
                    // Out of descriptors or memory (EMFILE, ENFILE,
                    // ENOBUFS, ENOMEM) or anything else: retrying at once
                    // would fail again and spin, so wait, a little longer
                    // each time (up to 1 s), and say so once.
                    _ => {
                        let wait = pause.unwrap_or_else(|| {
                            eprintln!("accept failed: {e}; pausing until resources free up");
                            Duration::from_millis(10)
                        });
                        pause_for(wait);
                        pause = Some((wait * 2).min(Duration::from_secs(1)));
                    }
                }
                continue;
            }
        };
        pause = None;
        let worker = slots.clone();
        let spawned = std::thread::Builder::new().spawn(move || {
            if let Err(err) = serve(stream) {
                eprintln!("connection error: {err}");
            }
            worker.give_back();
        });
        if let Err(e) = spawned {
            // The connection (moved into the closure) is dropped with it.
            eprintln!("cannot start a thread: {e}");
            slots.give_back();
        }
    }
}
