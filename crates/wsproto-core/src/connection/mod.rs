//! The WebSocket connection state machine (RFC 6455 §5-§7), after the
//! handshake.
//!
//! Inputs are `handle_*` calls (bytes that arrived, EOF, the passage of time)
//! and commands (`send_*`, [`close`](Connection::close),
//! [`terminate`](Connection::terminate)); outputs are `poll_*` calls (bytes
//! to write, events, the next deadline). Nothing here blocks, reads a clock,
//! or touches a socket.

mod recv;
mod send;
mod timers;
mod transmit;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::Role;
use crate::close::CloseFrame;
use crate::config::Config;
use crate::event::{CloseReason, Event};
use crate::extension::Extension;
use crate::frame::Rsv;
use crate::rng::MaskRng;

use recv::Receiver;
pub use send::MAX_TRANSMIT_SLICES;
use send::Sender;
use timers::Timers;

/// Replaces an empty queue that has room for more than `entries` with a
/// new one (no allocation until used).
fn release_queue<T>(queue: &mut VecDeque<T>, entries: usize) {
    if queue.is_empty() && queue.capacity() > entries {
        *queue = VecDeque::new();
    }
}

/// Where the connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Messages flow both ways.
    Open,
    /// A Close frame was sent or received; the close handshake is under way.
    Closing,
    /// The connection has ended; [`Connection::close_reason`] says how.
    Closed,
}

/// One WebSocket connection, client or server, in default or raw mode.
///
/// # Call contract
///
/// - Feed every byte read from the transport to
///   [`handle_data`](Self::handle_data) (or read straight into
///   [`recv_buffer`](Self::recv_buffer) and call
///   [`handle_received`](Self::handle_received) with the count read);
///   report the end of the stream with [`handle_eof`](Self::handle_eof).
/// - After every input or command, drain [`poll_event`](Self::poll_event)
///   and write out [`poll_transmit`](Self::poll_transmit), calling
///   [`advance_transmit`](Self::advance_transmit) with the number of bytes
///   written; when the transport takes none, say so with
///   [`handle_write_blocked`](Self::handle_write_blocked) (the send
///   timeout runs from there).
/// - When input runs dry and nothing is left to write, call
///   [`trim_buffers`](Self::trim_buffers): buffers a burst grew are
///   released.
/// - Arrange to call [`handle_timeout`](Self::handle_timeout) at
///   [`poll_timeout`](Self::poll_timeout); ask again after every call, the
///   deadline moves.
/// - When [`should_close_transport`](Self::should_close_transport) turns
///   true, close the transport.
///
/// `now` is any monotonic clock reading; the connection only compares and
/// adds durations to it.
pub struct Connection {
    role: Role,
    /// Shared with every connection made from the same `Arc` (an acceptor's
    /// or connector's): an idle connection does not carry its own copy.
    /// Run-time heartbeat changes copy it first (`Arc::make_mut`).
    config: Arc<Config>,
    extensions: Vec<Box<dyn Extension>>,
    claimed_rsv: Rsv,
    /// Clients only. Boxed: a server never uses it, and every idle server
    /// connection would otherwise carry its ~100 bytes.
    rng: Option<Box<MaskRng>>,
    recv: Receiver,
    send: Sender,
    timers: Timers,
    events: VecDeque<Event>,
    /// The peer's Close frame, once received (inner `None`: no status code).
    #[allow(clippy::option_option)] // received? × had a status code?
    close_received: Option<Option<CloseFrame>>,
    /// We queued a Close (by `close`, as a reply, or to fail the connection).
    close_queued: bool,
    /// Our Close has been written into the transmit buffer.
    close_sent: bool,
    /// We queued our Close before receiving the peer's.
    close_initiated_locally: bool,
    ended: Option<CloseReason>,
    /// The transport may be closed once the transmit buffer is drained.
    transport_done: bool,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("role", &self.role)
            .field("state", &self.state())
            .field("queued_bytes", &self.queued_bytes())
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// A client connection. Its frames are masked with keys drawn from `rng`
    /// (seed it from a CSPRNG, RFC 6455 §5.3).
    ///
    /// `config` is a [`Config`] or an `Arc<Config>`; many connections made
    /// from one `Arc` share it.
    #[must_use]
    pub fn client(config: impl Into<Arc<Config>>, rng: MaskRng, now: Instant) -> Self {
        Self::new(Role::Client, config.into(), Some(rng), now)
    }

    /// A server connection. `config` is a [`Config`] or an `Arc<Config>`;
    /// many connections made from one `Arc` share it.
    #[must_use]
    pub fn server(config: impl Into<Arc<Config>>, now: Instant) -> Self {
        Self::new(Role::Server, config.into(), None, now)
    }

    fn new(role: Role, config: Arc<Config>, rng: Option<MaskRng>, now: Instant) -> Self {
        let timers = Timers::new(&config, now);
        Connection {
            role,
            recv: Receiver::new(&config, role == Role::Server),
            send: Sender::new(),
            timers,
            config,
            extensions: Vec::new(),
            claimed_rsv: Rsv::NONE,
            rng: rng.map(Box::new),
            events: VecDeque::new(),
            close_received: None,
            close_queued: false,
            close_sent: false,
            close_initiated_locally: false,
            ended: None,
            transport_done: false,
        }
    }

    /// Installs the extensions negotiated by the handshake, in the order the
    /// server listed them. Call before feeding any data.
    #[must_use]
    pub fn with_extensions(mut self, extensions: Vec<Box<dyn Extension>>) -> Self {
        self.claimed_rsv = extensions
            .iter()
            .fold(Rsv::NONE, |acc, ext| acc.union(ext.rsv()));
        self.extensions = extensions;
        self
    }

    /// Which end this is.
    #[must_use]
    pub fn role(&self) -> Role {
        self.role
    }

    /// The configuration in force (with run-time changes to the heartbeat).
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The names of the negotiated extensions.
    pub fn extension_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.extensions.iter().map(|ext| ext.name())
    }

    /// Where the connection is in its life.
    #[must_use]
    pub fn state(&self) -> State {
        if self.ended.is_some() {
            State::Closed
        } else if self.close_queued || self.close_received.is_some() {
            State::Closing
        } else {
            State::Open
        }
    }

    /// How the connection ended, once it has.
    #[must_use]
    pub fn close_reason(&self) -> Option<&CloseReason> {
        self.ended.as_ref()
    }

    /// Whether the transport should now be closed: the connection has ended,
    /// everything to send (such as the Close frame that reports an error) has
    /// been taken by [`advance_transmit`](Self::advance_transmit), and (RFC 6455 §7.1.1)
    /// either we are the server, the ending was not a clean close, the peer
    /// closed its side, or the client's wait for it timed out.
    #[must_use]
    pub fn should_close_transport(&self) -> bool {
        self.ended.is_some() && self.transport_done && !self.wants_write()
    }

    /// The next time [`handle_timeout`](Self::handle_timeout) must be called,
    /// if any.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let ended = self.ended.is_some();
        let timers = self.timers.next_deadline(&self.config, ended);
        if ended {
            return timers;
        }
        let earliest = timers::earlier(timers, self.recv.message_deadline(&self.config));
        timers::earlier(earliest, self.timers.send_deadline(&self.config))
    }

    /// The next event, if any. After [`Event::Closed`] there are none.
    ///
    /// Input is parsed as events are taken, one at a time: a message is
    /// handed over (and can be answered) before a protocol violation that
    /// follows it in the same read ends the connection. Call this until it
    /// returns `None` after every `handle_*` call.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        if self.events.is_empty() && !self.apply_deferred() {
            self.process();
        }
        self.events.pop_front()
    }

    /// Changes the heartbeat interval at run time (`None` stops it). A ping
    /// already awaiting its pong keeps its deadline.
    pub fn set_ping_interval(&mut self, now: Instant, interval: Option<Duration>) {
        Arc::make_mut(&mut self.config).ping_interval = interval;
        if self.state() == State::Open {
            self.timers.heartbeat_changed(&self.config, now);
        }
    }

    /// Changes how long to wait for a heartbeat pong, also for a ping already
    /// in flight.
    pub fn set_ping_timeout(&mut self, _now: Instant, timeout: Duration) {
        // A ping in flight reads its deadline from the config.
        Arc::make_mut(&mut self.config).ping_timeout = timeout;
    }

    /// Handles the passage of time: heartbeat pings, pong timeout, close
    /// timeout, message timeout, send timeout, and the client's wait for
    /// the server to close the transport.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.ended.is_some() {
            if self.timers.transport_wait_expired(now) {
                // Whatever the peer did not take in time is dropped.
                self.send.discard();
                self.transport_done = true;
            }
            return;
        }
        if self.timers.close_expired(now) {
            // The peer took neither our Close nor what was queued before
            // it in time: drop it, or the transport could never be closed.
            self.send.discard();
            let timeout = self.config.close_timeout;
            self.end(CloseReason::CloseTimeout { timeout });
            self.transport_done = true;
            return;
        }
        if self
            .timers
            .send_deadline(&self.config)
            .is_some_and(|deadline| deadline <= now)
        {
            // The peer stopped reading: nothing more can be written, our
            // Close included. Drop it all and let the transport go.
            self.send.discard();
            let timeout = self.config.send_timeout.unwrap_or_default();
            self.end(CloseReason::SendTimeout { timeout });
            self.transport_done = true;
            return;
        }
        if self
            .recv
            .message_deadline(&self.config)
            .is_some_and(|deadline| deadline <= now)
        {
            let timeout = self.config.message_timeout.unwrap_or_default();
            self.fail_with(
                now,
                CloseReason::MessageTimeout { timeout },
                crate::CloseCode::POLICY_VIOLATION,
                "message timeout",
            );
            return;
        }
        if self.timers.pong_expired(&self.config, now) {
            let timeout = self.config.ping_timeout;
            self.fail_with(
                now,
                CloseReason::PingTimeout { timeout },
                crate::CloseCode::INTERNAL_ERROR,
                "ping timeout",
            );
            return;
        }
        if let Some(payload) = self.timers.ping_due(now) {
            self.send.push_control(crate::frame::OpCode::Ping, payload);
        }
    }

    /// Records how the connection ended and reports it, once.
    fn end(&mut self, reason: CloseReason) {
        if self.ended.is_some() {
            return;
        }
        self.timers.stop();
        self.recv.stop();
        self.events.push_back(Event::Closed(reason.clone()));
        self.ended = Some(reason);
    }

    /// Fails the connection (RFC 6455 §7.1.7): queues Close with `code`
    /// after the data already queued (accepted data is not lost) and ends now
    /// with `reason`. The transport closes once the Close is written, or
    /// after `close_timeout` if the peer does not read it.
    fn fail_with(&mut self, now: Instant, reason: CloseReason, code: crate::CloseCode, text: &str) {
        if self.ended.is_some() {
            return;
        }
        if !self.close_queued {
            self.send.push_failure_close(code, text);
            self.close_queued = true;
        }
        self.end(reason);
        self.transport_done = true;
        self.timers.start_transport_wait(&self.config, now);
    }

    /// Called by the send path when our Close frame has been encoded.
    fn on_close_sent(&mut self) {
        self.close_sent = true;
        if let Some(frame) = self.close_received.clone() {
            self.end_normally(frame);
        }
    }

    /// Both Close frames have crossed: a clean end.
    fn end_normally(&mut self, frame: Option<CloseFrame>) {
        let initiated_locally = self.close_initiated_locally;
        self.end(CloseReason::Normal {
            frame,
            initiated_locally,
        });
        // RFC 6455 §7.1.1: the server closes the TCP connection first; the
        // client waits for it, but not forever.
        if self.role == Role::Server {
            self.transport_done = true;
        }
    }

    /// Ends the connection at once, without a close handshake. Pending
    /// output is discarded; close the transport.
    pub fn terminate(&mut self) {
        self.send.discard();
        self.end(CloseReason::Terminated);
        self.transport_done = true;
    }

    /// The transport reached end of stream (or failed).
    ///
    /// Complete frames still buffered are delivered first. Then, before the
    /// close handshake, the connection ends with [`CloseReason::Abnormal`]
    /// (1006 semantics); after a Close from the peer it ends normally.
    pub fn handle_eof(&mut self, now: Instant) {
        self.recv.set_eof(now);
        if self.recv.is_stopped() {
            // No input is pending delivery (after the peer's Close, or once
            // ended): the end of the stream counts at once.
            self.on_eof();
        } else {
            self.process();
        }
    }

    /// No more input will come and the buffered input is exhausted.
    fn on_eof(&mut self) {
        self.transport_done = true;
        if self.ended.is_some() {
            return;
        }
        self.send.discard();
        match self.close_received.clone() {
            Some(frame) => self.end_normally(frame),
            None => self.end(CloseReason::Abnormal),
        }
    }

    #[cfg(fuzzing)]
    pub(crate) fn check_invariants(&self) {
        self.send.check_invariants();
        self.recv.check_invariants();
    }

    /// Bytes of the peer's that are buffered but not yet a whole frame.
    #[must_use]
    pub fn buffered_input(&self) -> usize {
        self.recv.buffered()
    }

    /// Room for a zero-copy read: read into it, then call
    /// [`handle_received`](Self::handle_received) with the number of bytes
    /// read. The room is initialised memory of the connection's receive
    /// storage (at least 8 KiB; more while a large frame is arriving), so
    /// safe code reads into it directly; the messages are then handed out
    /// as slices of it, without a copy. It is released again when the
    /// connection goes idle ([`shrink_buffers`](Self::shrink_buffers)).
    pub fn recv_buffer(&mut self) -> RecvBuffer<'_> {
        let (capacity, room) = self.recv.room_for_read();
        RecvBuffer { room, capacity }
    }

    /// Bytes the receive storage holds allocated (0 before any input
    /// arrived and after [`shrink_buffers`](Self::shrink_buffers)): a
    /// driver can read into [`recv_buffer`](Self::recv_buffer) while this
    /// is not 0, and into a buffer of its own (then
    /// [`handle_data`](Self::handle_data)) while it is, so that idle
    /// connections hold no receive storage.
    #[must_use]
    pub fn recv_capacity(&self) -> usize {
        self.recv.capacity()
    }
}

/// Room to read into, from [`Connection::recv_buffer`]: the bytes are
/// initialised (write over them), and the count written goes to
/// [`Connection::handle_received`].
#[derive(Debug)]
pub struct RecvBuffer<'a> {
    room: &'a mut [u8],
    capacity: usize,
}

impl RecvBuffer<'_> {
    /// Bytes the receive storage holds allocated, this room included (and
    /// any input already buffered before it).
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

impl std::ops::Deref for RecvBuffer<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.room
    }
}

impl std::ops::DerefMut for RecvBuffer<'_> {
    fn deref_mut(&mut self) -> &mut [u8] {
        self.room
    }
}
