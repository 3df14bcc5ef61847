//! The attacker's side: a blocking std `TcpStream` on loopback that writes
//! hand-built bytes and reads back what our endpoint answered. Every wait
//! is a socket read with a deadline; nothing sleeps to synchronise.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use crate::wire::{self, RawFrame};

/// How the byte stream from our endpoint ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// An orderly end of stream (FIN).
    Eof,
    /// The connection was reset (or otherwise failed) while reading.
    Reset(io::ErrorKind),
    /// Nothing more arrived before the deadline.
    TimedOut,
}

impl End {
    /// Whether our endpoint closed the connection (FIN or RST).
    #[must_use]
    pub fn is_closed(self) -> bool {
        self != End::TimedOut
    }
}

/// One read's worth, small on purpose: the attacker's own allocations count
/// in the same heap figure as the server's.
const READ: usize = 16 * 1024;

/// The longest a single write of the attacker may block.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(3);

/// A raw connection to (or from) an endpoint under test.
#[derive(Debug)]
pub struct RawPeer {
    /// The socket.
    pub tcp: TcpStream,
    /// Bytes read; those before `pos` are parsed already.
    buf: Vec<u8>,
    pos: usize,
}

/// What a raw peer read until the end of the stream, summarised so that a
/// flood of answers does not fill the attacker's memory.
#[derive(Debug, Clone, Default)]
pub struct Transcript {
    /// Frames seen, per opcode.
    pub counts: [usize; 16],
    /// The first Close frame's code and reason (`(0, "")` for an empty one).
    pub close: Option<(u16, String)>,
    /// Frames that came after a Close (RFC 6455 §5.5.1: there must be none).
    pub after_close: usize,
    /// The last pong's payload.
    pub last_pong: Option<Vec<u8>>,
    /// Masked frames seen.
    pub masked: usize,
    /// How the stream ended (`None` while reading).
    pub end: Option<End>,
}

impl Transcript {
    fn record(&mut self, frame: &RawFrame) {
        self.counts[usize::from(frame.opcode & 0x0f)] += 1;
        self.masked += usize::from(frame.masked);
        if self.close.is_some() {
            self.after_close += 1;
        } else if frame.opcode == wire::opcode::CLOSE {
            self.close = Some(frame.close().unwrap_or_default());
        }
        if frame.opcode == wire::opcode::PONG {
            self.last_pong = Some(frame.payload.clone());
        }
    }

    /// The Close code received.
    ///
    /// # Panics
    /// If no Close frame arrived.
    #[must_use]
    pub fn close_code(&self) -> u16 {
        self.close.as_ref().expect("a Close frame").0
    }
}

impl RawPeer {
    /// Wraps an established socket.
    #[must_use]
    pub fn new(tcp: TcpStream) -> Self {
        // A flood stops at the first failed write; a peer that stopped
        // reading without closing must not block the attacker for ever.
        tcp.set_write_timeout(Some(WRITE_TIMEOUT))
            .expect("write timeout");
        RawPeer {
            tcp,
            buf: Vec::new(),
            pos: 0,
        }
    }

    /// Connects to `addr` without any handshake.
    ///
    /// # Panics
    /// If loopback refuses the connection.
    #[must_use]
    pub fn connect(addr: SocketAddr) -> Self {
        let tcp = TcpStream::connect(addr).expect("connect to the server under test");
        tcp.set_nodelay(true).expect("nodelay");
        Self::new(tcp)
    }

    /// Connects and completes a WebSocket handshake with `extra` request
    /// header lines; asserts the 101.
    ///
    /// # Panics
    /// If the server does not answer 101 within `within`.
    #[must_use]
    pub fn upgrade(addr: SocketAddr, extra: &str, within: Duration) -> (Self, String) {
        let mut peer = Self::connect(addr);
        peer.write(&wire::upgrade_request(&addr.to_string(), extra))
            .expect("send the upgrade request");
        let head = peer
            .read_head(Instant::now() + within)
            .expect("the server's answer to the upgrade request");
        assert!(head.starts_with("HTTP/1.1 101"), "not upgraded: {head}");
        (peer, head)
    }

    /// This end's address (how the server's outcome report names us).
    ///
    /// # Panics
    /// If the socket has no local address.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.tcp.local_addr().expect("local address")
    }

    /// Drops the read buffer (what is unread with it): an attacker holding
    /// many connections keeps its own memory out of the heap figure.
    pub fn shrink(&mut self) {
        self.buf = Vec::new();
        self.pos = 0;
    }

    /// Writes all of `bytes`.
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.tcp.write_all(bytes)
    }

    /// Writes `frames` (from an iterator, so a flood is never held in memory
    /// whole) until they are all sent or a write fails. Returns the bytes
    /// written and the error that stopped the flood, if any: our endpoint
    /// closing the connection mid-flood is an expected way for it to end.
    pub fn flood<B: AsRef<[u8]>>(
        &mut self,
        frames: impl IntoIterator<Item = B>,
    ) -> (u64, Option<io::Error>) {
        let mut written = 0;
        for frame in frames {
            let frame = frame.as_ref();
            if let Err(e) = self.tcp.write_all(frame) {
                return (written, Some(e));
            }
            written += frame.len() as u64;
        }
        (written, None)
    }

    /// Reads once into the buffer, waiting until `deadline` at most.
    /// `Ok(true)` when bytes arrived, `Err(end)` when the stream ended or
    /// the deadline passed.
    fn fill(&mut self, deadline: Instant) -> Result<(), End> {
        let now = Instant::now();
        if now >= deadline {
            return Err(End::TimedOut);
        }
        self.tcp
            .set_read_timeout(Some(deadline - now))
            .expect("read timeout");
        // Parsed bytes are dropped once per read, not once per frame: a
        // reader that falls behind a flood lets our endpoint's output pile
        // up in the socket.
        self.buf.drain(..self.pos);
        self.pos = 0;
        let start = self.buf.len();
        self.buf.resize(start + READ, 0);
        let result = self.tcp.read(&mut self.buf[start..]);
        let n = *result.as_ref().unwrap_or(&0);
        self.buf.truncate(start + n);
        match result {
            Ok(0) => Err(End::Eof),
            Ok(_) => Ok(()),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Err(End::TimedOut)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
            Err(e) => Err(End::Reset(e.kind())),
        }
    }

    /// Reads an HTTP head (through the blank line); what follows stays
    /// buffered for [`read_frame`](Self::read_frame).
    pub fn read_head(&mut self, deadline: Instant) -> Result<String, End> {
        loop {
            let unread = &self.buf[self.pos..];
            if let Some(at) = unread.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&unread[..at + 4]).into_owned();
                self.pos += at + 4;
                return Ok(head);
            }
            self.fill(deadline)?;
        }
    }

    /// Reads the next frame.
    pub fn read_frame(&mut self, deadline: Instant) -> Result<RawFrame, End> {
        loop {
            if let Some((frame, used)) = wire::parse_frame(&self.buf[self.pos..]) {
                self.pos += used;
                return Ok(frame);
            }
            self.fill(deadline)?;
        }
    }

    /// Reads frames until the stream ends or `deadline`, summarising them.
    pub fn read_to_end(&mut self, deadline: Instant) -> Transcript {
        let mut transcript = Transcript::default();
        loop {
            match self.read_frame(deadline) {
                Ok(frame) => transcript.record(&frame),
                Err(end) => {
                    transcript.end = Some(end);
                    return transcript;
                }
            }
        }
    }

    /// Reads and discards until the stream ends or `deadline`.
    pub fn drain_to_end(&mut self, deadline: Instant) -> End {
        loop {
            self.buf.clear();
            self.pos = 0;
            if let Err(end) = self.fill(deadline) {
                return end;
            }
        }
    }
}

/// A malicious server: a std listener on loopback port 0 that accepts one
/// connection, reads the upgrade request and answers 101 by hand.
#[derive(Debug)]
pub struct RawServer {
    listener: TcpListener,
}

impl Default for RawServer {
    fn default() -> Self {
        Self::new()
    }
}

impl RawServer {
    /// Binds `127.0.0.1:0`.
    ///
    /// # Panics
    /// If loopback cannot be bound.
    #[must_use]
    pub fn new() -> Self {
        RawServer {
            listener: TcpListener::bind("127.0.0.1:0").expect("bind loopback"),
        }
    }

    /// The `ws://` URL of this server.
    ///
    /// # Panics
    /// If the listener has no address.
    #[must_use]
    pub fn url(&self) -> String {
        format!("ws://{}/", self.listener.local_addr().expect("address"))
    }

    /// Accepts one connection within `within`, reads its upgrade request and
    /// answers 101 with `extra` header lines. Returns the peer and the
    /// request head.
    ///
    /// # Panics
    /// If no client connects in time or the request has no key.
    #[must_use]
    pub fn accept_upgrade(&self, extra: &str, within: Duration) -> (RawPeer, String) {
        let deadline = Instant::now() + within;
        // std has no accept timeout: accept on a helper thread and wait for
        // it on a channel with the deadline.
        let listener = self.listener.try_clone().expect("clone the listener");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(listener.accept());
        });
        let (tcp, _) = rx
            .recv_timeout(within)
            .expect("a client connected in time")
            .expect("accept");
        tcp.set_nodelay(true).expect("nodelay");
        let mut peer = RawPeer::new(tcp);
        let head = peer.read_head(deadline).expect("the upgrade request");
        let key = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("sec-websocket-key")
                    .then(|| value.trim().to_owned())
            })
            .expect("a Sec-WebSocket-Key");
        peer.write(&wire::upgrade_response(&key, extra))
            .expect("send the 101");
        (peer, head)
    }
}
