//! The `event_loop` example's logic: one thread, non-blocking sockets, a
//! readiness poll (mio: epoll/kqueue), and the sans-IO
//! [`wsproto_core::Connection`] driven by hand. No async runtime, no
//! futures: the showcase for the core's design.
//!
//! ```text
//!   mio::Poll::poll(timeout = earliest poll_timeout()) ──► readable/writable sockets
//!        │                                                     │
//!        │  deadline passed: handle_timeout(now)               ▼
//!        └──────────────► Connection ◄── handle_data(now, bytes read until WouldBlock)
//!                             │
//!                             ├─► poll_event()    → echo messages, count pongs
//!                             ├─► poll_transmit() → write until WouldBlock, advance_transmit(n)
//!                             └─► poll_timeout()  → the connection's entry in the timer set
//! ```
//!
//! [`serve`] is the server; [`run_clients`] plays blocking clients (one
//! thread, the core in the client role) against it for the demo and the
//! tests.

use std::collections::{BTreeSet, HashMap};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use ws_session::AcceptErrorKind;
use wsproto_core::handshake::{
    AcceptOptions, ClientBuilder, Progress, ServerError, ServerHandshake, response_bytes,
};
use wsproto_core::{CloseCode, CloseReason, Config, Connection, Event, MaskRng, Message};

const LISTENER: Token = Token(0);
/// How long a client may take to send its upgrade request.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes read from a socket per call.
const READ_CHUNK: usize = 16 * 1024;

/// The loop owns the clock: the core is told the time.
#[allow(clippy::disallowed_methods)]
fn now() -> Instant {
    Instant::now()
}

/// What the server did, for the demo's summary and the tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// TCP connections accepted.
    pub accepted: usize,
    /// The most WebSocket connections open at the same time.
    pub max_open: usize,
    /// Messages echoed.
    pub echoed: usize,
    /// Pongs received (answers to the heartbeat).
    pub pongs: usize,
    /// Connections that ended with a completed close handshake.
    pub clean: usize,
    /// Connections that ended any other way (or failed the handshake).
    pub unclean: usize,
}

enum Phase {
    /// Reading the upgrade request.
    Handshake(ServerHandshake, Instant),
    /// A WebSocket connection.
    Open(Box<Connection>),
    /// Writing a refusal (400/426/431), then closing.
    Refused,
}

struct Conn {
    stream: TcpStream,
    phase: Phase,
    /// Bytes to write before anything the core produces (the 101 response
    /// or a refusal).
    pending: Vec<u8>,
    /// The connection's entry in the timer set.
    deadline: Option<Instant>,
    /// The socket has nothing more to read (EOF or error).
    read_done: bool,
}

impl Conn {
    fn next_deadline(&self) -> Option<Instant> {
        match &self.phase {
            Phase::Handshake(_, deadline) => Some(*deadline),
            Phase::Open(conn) => conn.poll_timeout(),
            Phase::Refused => None,
        }
    }
}

/// Serves WebSocket echo on `listener` with `config` until `stop_after`
/// connections have ended (`None`: forever). Single-threaded: every
/// socket is non-blocking and the only wait is `mio::Poll::poll`, whose
/// timeout is the earliest deadline any connection's `poll_timeout()`
/// asked for.
///
/// # Errors
/// Registering with the poller or polling failed.
pub fn serve(
    listener: std::net::TcpListener,
    config: &Config,
    stop_after: Option<usize>,
) -> io::Result<Stats> {
    listener.set_nonblocking(true)?;
    let mut listener = TcpListener::from_std(listener);
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut events = Events::with_capacity(1024);
    let mut conns: HashMap<Token, Conn> = HashMap::new();
    // (deadline, token): the earliest first. One entry per connection.
    let mut timers: BTreeSet<(Instant, Token)> = BTreeSet::new();
    let mut next_token = 1;
    let mut stats = Stats::default();
    let mut buf = vec![0u8; READ_CHUNK];
    let mut backoff = AcceptBackoff::default();

    loop {
        let timeout = timers
            .first()
            .map(|(deadline, _)| deadline.saturating_duration_since(now()));
        match poll.poll(&mut events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        let mut ready: Vec<Token> = Vec::with_capacity(events.iter().count());
        let mut accept_now = false;
        for event in &events {
            if event.token() == LISTENER {
                accept_now = true;
            } else {
                ready.push(event.token());
            }
        }
        // Deadlines that have passed: tell the core (or end a handshake
        // that took too long, or end a pause of the accepts).
        let now = now();
        while let Some(&(deadline, token)) = timers.first() {
            if deadline > now {
                break;
            }
            timers.pop_first();
            if token == LISTENER {
                backoff.paused = false;
                accept_now = true;
                continue;
            }
            if let Some(conn) = conns.get_mut(&token) {
                conn.deadline = None;
                match &mut conn.phase {
                    Phase::Open(ws) => ws.handle_timeout(now),
                    Phase::Handshake(..) => conn.read_done = true,
                    Phase::Refused => {}
                }
            }
            ready.push(token);
        }
        if accept_now && !backoff.paused {
            let accepting = accept_all(
                &listener,
                &poll,
                config,
                &mut conns,
                &mut next_token,
                &mut ready,
            )?;
            stats.accepted = next_token - 1;
            if let Some(pause_until) = backoff.after(accepting, now) {
                timers.insert((pause_until, LISTENER));
            }
        }
        for token in ready {
            let Some(conn) = conns.get_mut(&token) else {
                continue;
            };
            let finished = drive(conn, config, &mut buf, &mut stats, now);
            if let Some(old) = conn.deadline.take() {
                timers.remove(&(old, token));
            }
            if finished {
                let Some(mut conn) = conns.remove(&token) else {
                    continue;
                };
                let _ = poll.registry().deregister(&mut conn.stream);
                let _ = conn.stream.shutdown(Shutdown::Both);
                match &conn.phase {
                    Phase::Open(ws) if ws.close_reason().is_some_and(CloseReason::is_clean) => {
                        stats.clean += 1;
                    }
                    _ => stats.unclean += 1,
                }
            } else if let Some(deadline) = conn.next_deadline() {
                conn.deadline = Some(deadline);
                timers.insert((deadline, token));
            }
        }
        let open = conns
            .values()
            .filter(|c| matches!(c.phase, Phase::Open(_)))
            .count();
        stats.max_open = stats.max_open.max(open);
        if stop_after.is_some_and(|n| stats.clean + stats.unclean >= n) {
            return Ok(stats);
        }
    }
}

/// How a round of accepts ended.
enum Accepting {
    /// No connection is waiting any more.
    Drained,
    /// Out of a resource (descriptors, buffers, memory): the connections
    /// wait in the backlog until the pause ends.
    Paused(io::Error),
}

/// The pauses of the accepts while the process is out of a resource: 10 ms,
/// doubling up to 1 s, reported once per episode; the listener is left
/// alone meanwhile (retrying at once would fail again and spin).
#[derive(Debug, Default)]
struct AcceptBackoff {
    next: Option<Duration>,
    paused: bool,
}

impl AcceptBackoff {
    /// The end of the pause `accepting` calls for, if any.
    fn after(&mut self, accepting: Accepting, now: Instant) -> Option<Instant> {
        match accepting {
            Accepting::Drained => {
                self.next = None;
                None
            }
            Accepting::Paused(error) => {
                let pause = self.next.unwrap_or_else(|| {
                    eprintln!(
                        "event_loop: accepting failed: {error}; pausing until resources free up"
                    );
                    Duration::from_millis(10)
                });
                self.next = Some((pause * 2).min(Duration::from_secs(1)));
                self.paused = true;
                Some(now + pause)
            }
        }
    }
}

fn accept_all(
    listener: &TcpListener,
    poll: &Poll,
    config: &Config,
    conns: &mut HashMap<Token, Conn>,
    next_token: &mut usize,
    ready: &mut Vec<Token>,
) -> io::Result<Accepting> {
    loop {
        match listener.accept() {
            Ok((mut stream, _)) => {
                let _ = stream.set_nodelay(true);
                let token = Token(*next_token);
                *next_token += 1;
                poll.registry().register(
                    &mut stream,
                    token,
                    Interest::READABLE | Interest::WRITABLE,
                )?;
                conns.insert(
                    token,
                    Conn {
                        stream,
                        phase: Phase::Handshake(
                            ServerHandshake::new(config),
                            now() + HANDSHAKE_TIMEOUT,
                        ),
                        pending: Vec::new(),
                        deadline: None,
                        read_done: false,
                    },
                );
                // Data may already be there: look at it now.
                ready.push(token);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(Accepting::Drained),
            Err(e) => match AcceptErrorKind::of(&e) {
                // A connection that failed before it was accepted: skip it.
                AcceptErrorKind::Connection => {}
                AcceptErrorKind::Resource => return Ok(Accepting::Paused(e)),
                AcceptErrorKind::Listener => return Err(e),
            },
        }
    }
}

/// Everything one readiness (or deadline) event allows: read until the
/// socket is empty, act on the events, write until the socket is full.
/// `true` when the connection is finished and its socket should close.
fn drive(
    conn: &mut Conn,
    config: &Config,
    buf: &mut [u8],
    stats: &mut Stats,
    now: Instant,
) -> bool {
    loop {
        // Write what is owed first: the handshake reply, then the core's
        // output, until the socket is full (a writable event follows).
        if !write_out(conn) {
            return true;
        }
        match &mut conn.phase {
            Phase::Refused => return conn.pending.is_empty(),
            Phase::Handshake(..) => {
                if conn.read_done {
                    return true;
                }
            }
            Phase::Open(ws) => {
                // Backpressure: take events (and so read) only while the
                // core can queue their replies.
                let mut took = false;
                while ws.can_send() {
                    match ws.poll_event() {
                        Some(Event::Message(message)) => {
                            let _ = ws.send_message(message);
                            stats.echoed += 1;
                        }
                        Some(Event::Pong(_)) => stats.pongs += 1,
                        Some(_) => {}
                        None => break,
                    }
                    took = true;
                }
                if took {
                    continue; // write the replies
                }
                if ws.should_close_transport() {
                    return true;
                }
                if conn.read_done || !ws.can_send() {
                    // Wait for the socket to drain, or for a deadline.
                    return false;
                }
            }
        }
        match conn.stream.read(buf) {
            Ok(n) if n > 0 => on_data(conn, config, &buf[..n], now),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // EOF or a failed socket: the end of the input.
            _ => {
                conn.read_done = true;
                if let Phase::Open(ws) = &mut conn.phase {
                    ws.handle_eof(now);
                }
            }
        }
    }
}

/// Feeds bytes read to the handshake or the connection.
fn on_data(conn: &mut Conn, config: &Config, data: &[u8], now: Instant) {
    match &mut conn.phase {
        Phase::Open(ws) => ws.handle_data(now, data),
        Phase::Refused => {}
        Phase::Handshake(handshake, _) => match handshake.handle_data(data) {
            Ok(Progress::Partial) => {}
            Ok(Progress::Complete(request)) => match request.accept(&AcceptOptions::new()) {
                Ok(mut upgrade) => {
                    conn.pending = upgrade.response_bytes();
                    // Bytes that followed the request are fed here.
                    conn.phase =
                        Phase::Open(Box::new(upgrade.into_connection(config.clone(), now)));
                }
                Err(e) => {
                    conn.pending = response_bytes(&e.into_request().reject(
                        ws_session::http::StatusCode::INTERNAL_SERVER_ERROR,
                        &ws_session::http::HeaderMap::new(),
                        b"cannot accept\n",
                    ));
                    conn.phase = Phase::Refused;
                }
            },
            Err(ServerError::Request(e)) => {
                conn.pending = e.response_bytes();
                conn.phase = Phase::Refused;
            }
            Err(_) => conn.read_done = true,
        },
    }
}

/// Writes the pending reply, then the core's output, until done or the
/// socket is full. `false` when the socket failed.
fn write_out(conn: &mut Conn) -> bool {
    while !conn.pending.is_empty() {
        match conn.stream.write(&conn.pending) {
            Ok(0) => return false,
            Ok(n) => {
                conn.pending.drain(..n);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    let Phase::Open(ws) = &mut conn.phase else {
        return true;
    };
    loop {
        let out = ws.poll_transmit();
        if out.is_empty() {
            return true;
        }
        match conn.stream.write(out) {
            Ok(0) => return false,
            Ok(n) => ws.advance_transmit(n),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => {
                ws.handle_eof(now());
                return !ws.should_close_transport();
            }
        }
    }
}

/// What the demo clients saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientReport {
    /// Connections whose echo matched what they sent.
    pub echoes_matched: usize,
    /// Heartbeat pings received (and answered by the core).
    pub pings: usize,
    /// Connections that ended with a completed close handshake.
    pub clean: usize,
}

/// A blocking client connection: the core in the client role over a
/// `std::net::TcpStream` with a read timeout as a safety net.
struct Client {
    stream: std::net::TcpStream,
    conn: Connection,
    buf: Vec<u8>,
}

impl Client {
    fn connect(addr: SocketAddr, config: &Config) -> io::Result<Client> {
        let mut stream = std::net::TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let key = wsproto_core::handshake::ClientHandshake::random_key()
            .map_err(|e| io::Error::other(e.to_string()))?;
        let mut handshake = ClientBuilder::new(&format!("ws://{addr}/"))
            .and_then(|b| b.build(key, config))
            .map_err(io::Error::other)?;
        stream.write_all(handshake.request_bytes())?;
        let mut buf = vec![0u8; READ_CHUNK];
        let upgrade = loop {
            let n = stream.read(&mut buf)?;
            if n == 0 {
                return Err(io::Error::other(handshake.handle_eof()));
            }
            if let Progress::Complete(upgrade) =
                handshake.handle_data(&buf[..n]).map_err(io::Error::other)?
            {
                break upgrade;
            }
        };
        let rng = MaskRng::from_os().map_err(|e| io::Error::other(e.to_string()))?;
        let conn = upgrade.into_connection(config.clone(), rng, now());
        Ok(Client { stream, conn, buf })
    }

    /// Writes everything the core has to send.
    fn flush(&mut self) -> io::Result<()> {
        loop {
            let out = self.conn.poll_transmit();
            if out.is_empty() {
                return Ok(());
            }
            let n = self.stream.write(out)?;
            self.conn.advance_transmit(n);
        }
    }

    /// Reads until an event arrives (pongs to pings go out on the way).
    fn next_event(&mut self) -> io::Result<Event> {
        loop {
            if let Some(event) = self.conn.poll_event() {
                self.flush()?;
                return Ok(event);
            }
            self.flush()?;
            let n = self.stream.read(&mut self.buf)?;
            if n == 0 {
                self.conn.handle_eof(now());
            } else {
                self.conn.handle_data(now(), &self.buf[..n]);
            }
        }
    }
}

/// Opens `count` connections to `addr` (all open at once), sends one
/// message on each and checks its echo, waits on each for a heartbeat
/// ping, then closes each with 1000. One thread, blocking sockets.
///
/// # Errors
/// A socket error, a failed handshake, or a timeout (10 s per read).
pub fn run_clients(addr: SocketAddr, count: usize) -> io::Result<ClientReport> {
    let config = Config::default();
    let mut clients = (0..count)
        .map(|_| Client::connect(addr, &config))
        .collect::<io::Result<Vec<_>>>()?;
    let mut report = ClientReport::default();
    for (i, client) in clients.iter_mut().enumerate() {
        client
            .conn
            .send_text(format!("message {i}"))
            .map_err(io::Error::other)?;
        client.flush()?;
    }
    for (i, client) in clients.iter_mut().enumerate() {
        loop {
            match client.next_event()? {
                Event::Message(Message::Text(text)) => {
                    if text == format!("message {i}") {
                        report.echoes_matched += 1;
                    }
                    break;
                }
                Event::Ping(_) => report.pings += 1,
                Event::Closed(reason) => {
                    return Err(io::Error::other(format!("connection {i} ended: {reason}")));
                }
                _ => {}
            }
        }
    }
    for client in &mut clients {
        // The server's heartbeat: the core answers, we count.
        loop {
            if let Event::Ping(_) = client.next_event()? {
                report.pings += 1;
                break;
            }
        }
        client
            .conn
            .close(now(), CloseCode::NORMAL, "done")
            .map_err(io::Error::other)?;
        loop {
            if let Event::Closed(reason) = client.next_event()? {
                if reason.is_clean() {
                    report.clean += 1;
                }
                break;
            }
        }
    }
    Ok(report)
}
