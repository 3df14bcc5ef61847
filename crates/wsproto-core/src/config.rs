//! Connection and handshake configuration, shared by client and server.

use std::sync::Arc;
use std::time::Duration;

use crate::budget::MemoryBudget;
use crate::extension::ExtensionFactory;
use crate::handshake::OriginPolicy;

/// How much the connection does on the application's behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Automatic pongs, heartbeat pings,
    /// the close handshake, message reassembly, UTF-8 validation and
    /// extensions.
    #[default]
    Default,
    /// Every frame (control frames and non-final
    /// fragments included) is delivered as it is, nothing is answered or sent
    /// automatically, and the application may send any frame. Frame-level
    /// rules (masking, opcodes, control-frame size, RSV bits, fragment order,
    /// close codes) are still enforced.
    ///
    /// What raw mode leaves to the caller: there is no heartbeat
    /// (`ping_interval` is ignored: send pings and watch for pongs
    /// yourself), no automatic pong, no reply to the peer's Close, no
    /// reassembly and therefore no `max_message_size` or
    /// `max_inflated_size` (each frame is still held whole until it has
    /// all arrived, bounded by `max_frame_size`; add up the fragments of a
    /// message yourself), no UTF-8 check of text, and no decompression
    /// (RSV bits are passed on as they are). What it keeps: the frame
    /// limit, `message_timeout` for a frame whose payload has not all
    /// arrived, `send_timeout`, `close_timeout`, the memory budget and the
    /// send queue limit.
    Raw,
}

/// Limits applied while reading an HTTP/1.1 upgrade request or response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandshakeLimits {
    /// Largest request or response head (start line and headers), in bytes.
    /// Default 16 KiB.
    pub max_head_bytes: usize,
    /// Most header fields. Default 64.
    pub max_headers: usize,
}

impl Default for HandshakeLimits {
    fn default() -> Self {
        HandshakeLimits {
            max_head_bytes: 16 * 1024,
            max_headers: 64,
        }
    }
}

/// Configuration of a WebSocket connection, client or server.
///
/// Build it from [`Config::default`] with the `with_*` methods; read it back
/// with the getters. The defaults are chosen for a server facing hostile
/// peers on the internet (as Python `websockets` chooses its own): every
/// buffer a peer can make us fill is bounded, every wait has a deadline,
/// and a trusted deployment raises what it needs. Each default is set once,
/// in [`Config::default`], next to the reason for it.
///
/// | option | default |
/// | --- | --- |
/// | [`mode`](Self::with_mode) | [`Mode::Default`] |
/// | [`ping_interval`](Self::with_ping_interval) | 20 s |
/// | [`ping_timeout`](Self::with_ping_timeout) | 20 s |
/// | [`close_timeout`](Self::with_close_timeout) | 10 s |
/// | [`message_timeout`](Self::with_message_timeout) | 30 s |
/// | [`send_timeout`](Self::with_send_timeout) | 30 s |
/// | [`max_frame_size`](Self::with_max_frame_size) | 1 MiB |
/// | [`max_message_size`](Self::with_max_message_size) | 1 MiB |
/// | [`max_inflated_size`](Self::with_max_inflated_size) | 1 MiB |
/// | [`max_fragments`](Self::with_max_fragments) | 131 072 |
/// | [`stream_threshold`](Self::with_stream_threshold) | none (always reassemble) |
/// | [`send_queue_limit`](Self::with_send_queue_limit) | 1 MiB |
/// | [`memory_budget`](Self::with_memory_budget) | none (no shared limit) |
/// | [`auto_fragment_size`](Self::with_auto_fragment_size) | none (one frame per message) |
/// | [`handshake_limits`](Self::with_handshake_limits) | 16 KiB head, 64 headers |
/// | [`extensions`](Self::with_extension) | none |
/// | [`origin_policy`](Self::with_origin_policy) (server) | [`OriginPolicy::any`] (no check) |
///
/// Raw mode ([`Mode::Raw`]) applies the frame-level limits and timeouts
/// only: see [`Mode::Raw`] for what it leaves to the caller.
#[derive(Debug, Clone)]
pub struct Config {
    pub(crate) mode: Mode,
    pub(crate) ping_interval: Option<Duration>,
    pub(crate) ping_timeout: Duration,
    pub(crate) close_timeout: Duration,
    pub(crate) message_timeout: Option<Duration>,
    pub(crate) send_timeout: Option<Duration>,
    pub(crate) max_frame_size: usize,
    pub(crate) max_message_size: usize,
    pub(crate) max_inflated_size: usize,
    pub(crate) max_fragments: usize,
    pub(crate) stream_threshold: Option<usize>,
    pub(crate) send_queue_limit: usize,
    pub(crate) memory_budget: Option<MemoryBudget>,
    pub(crate) auto_fragment_size: Option<usize>,
    pub(crate) handshake_limits: HandshakeLimits,
    pub(crate) extensions: Vec<Arc<dyn ExtensionFactory>>,
    pub(crate) origin_policy: OriginPolicy,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mode: Mode::Default,
            // Python `websockets`' keepalive: a ping every 20 s and 20 s
            // for its pong. Without a heartbeat a half-open connection (a
            // peer that vanished without a FIN) lives until TCP gives up,
            // hours later, holding its buffers; with it, at most 40 s.
            ping_interval: Some(Duration::from_secs(20)),
            ping_timeout: Duration::from_secs(20),
            // Python `websockets`' close_timeout: long enough for a peer
            // across the world to answer, short enough that closing
            // sessions do not pile up.
            close_timeout: Duration::from_secs(10),
            // A message (or frame) begun must be finished within 30 s: a
            // peer cannot pin the memory of a partial message for ever by
            // sending it a byte at a time while answering pings. 1 MiB (the
            // message limit) in 30 s is 35 KB/s, slower than any link a
            // WebSocket client is used on; raise it with the message limit.
            message_timeout: Some(Duration::from_secs(30)),
            // A peer that stops reading holds our send queue (and its
            // socket) for as long as we wait. 30 s without the transport
            // taking a byte outlasts TCP's retransmission of a lost
            // segment on a bad mobile link, and ends such a session before
            // the heartbeat would (40 s).
            send_timeout: Some(Duration::from_secs(30)),
            // Python `websockets`' max_size: 1 MiB per message, as
            // delivered (after decompression). A frame can be no larger
            // than the message it belongs to, so the frame limit is the
            // same.
            max_frame_size: 1 << 20,
            max_message_size: 1 << 20,
            // What a compressed message may inflate to, kept apart from
            // the message limit so that raising that one (for large
            // uncompressed uploads) does not raise the amplification a
            // compression bomb gets: ~1 KB of deflate inflates to 1 MiB.
            max_inflated_size: 1 << 20,
            // Bounds the per-frame work of a flood of empty or tiny
            // fragments (a header parse each): 131 072 of them is about
            // 1 MB on the wire, far more than any real sender splits one
            // message into.
            max_fragments: 1 << 17,
            stream_threshold: None,
            // Backpressure: `send` waits (the core refuses) beyond 1 MiB
            // queued, so a slow reader costs at most this much of ours.
            send_queue_limit: 1 << 20,
            // Off: a budget only means something when it is shared by all
            // the connections of a server, which the server sets up.
            memory_budget: None,
            auto_fragment_size: None,
            handshake_limits: HandshakeLimits::default(),
            extensions: Vec::new(),
            origin_policy: OriginPolicy::any(),
        }
    }
}

impl Config {
    /// Default or raw mode (see [`Mode`]).
    #[must_use]
    pub fn with_mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Send a ping every `interval` and end the connection when no pong
    /// arrives within [`ping_timeout`](Self::with_ping_timeout).
    /// `None` turns the heartbeat off. Ignored in raw mode.
    #[must_use]
    pub fn with_ping_interval(mut self, interval: Option<Duration>) -> Self {
        self.ping_interval = interval;
        self
    }

    /// How long to wait for the pong to a heartbeat ping.
    #[must_use]
    pub fn with_ping_timeout(mut self, timeout: Duration) -> Self {
        self.ping_timeout = timeout;
        self
    }

    /// How long to wait for the peer's Close after sending ours, and (client)
    /// for the server to close the transport after the close handshake.
    #[must_use]
    pub fn with_close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// How long a peer has to finish a message it has begun (a fragmented
    /// message, or a frame whose payload has not all arrived), counted from
    /// the read that began it; control frames in between do not restart
    /// it. Past it the connection fails with close 1008 (policy violation)
    /// and [`CloseReason::MessageTimeout`](crate::CloseReason::MessageTimeout).
    /// A streamed message (see [`with_stream_threshold`](Self::with_stream_threshold))
    /// restarts it at each chunk delivered. `None` waits for ever.
    #[must_use]
    pub fn with_message_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.message_timeout = timeout;
        self
    }

    /// How long the transport may take none of our pending bytes (the
    /// peer stopped reading) before the session ends with
    /// [`CloseReason::SendTimeout`](crate::CloseReason::SendTimeout); the
    /// pending output is dropped (a Close could not be written either).
    /// The driver reports a transport that takes nothing with
    /// [`Connection::handle_write_blocked`](crate::Connection::handle_write_blocked).
    /// `None` waits for ever.
    #[must_use]
    pub fn with_send_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.send_timeout = timeout;
        self
    }

    /// Largest accepted frame payload; a larger frame
    /// ends the connection with 1009 before any of it is buffered.
    #[must_use]
    pub fn with_max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// Largest accepted message, counted after decompression; a larger one
    /// ends the connection with 1009 before it is buffered.
    #[must_use]
    pub fn with_max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Largest size a compressed message may inflate to; past it the
    /// connection ends with 1009 and inflation stops (the inflated bytes
    /// never exceed it). A compressed message is bounded by the smaller
    /// of this and [`max_message_size`](Self::with_max_message_size):
    /// `max_message_size` bounds every message the application receives,
    /// this one additionally bounds how much a small compressed upload
    /// can make us hold (deflate reaches ~1000:1), so raising the message
    /// limit for large plain uploads leaves that amplification where it
    /// was.
    #[must_use]
    pub fn with_max_inflated_size(mut self, bytes: usize) -> Self {
        self.max_inflated_size = bytes;
        self
    }

    /// A memory budget shared with other connections (see
    /// [`MemoryBudget`]): input that would take it over its limit ends the
    /// connection with 1013 (try again later) instead of being buffered.
    #[must_use]
    pub fn with_memory_budget(mut self, budget: MemoryBudget) -> Self {
        self.memory_budget = Some(budget);
        self
    }

    /// Most frames in one fragmented message; more ends the connection with
    /// 1009. Bounds the work a flood of tiny or empty fragments can cause.
    #[must_use]
    pub fn with_max_fragments(mut self, frames: usize) -> Self {
        self.max_fragments = frames.max(1);
        self
    }

    /// Deliver a message as [`Event::Chunk`](crate::Event::Chunk)s as soon as
    /// it grows beyond `threshold` bytes, instead of buffering all of it.
    /// Smaller messages still arrive whole. `None` always reassembles.
    #[must_use]
    pub fn with_stream_threshold(mut self, threshold: Option<usize>) -> Self {
        self.stream_threshold = threshold;
        self
    }

    /// Bytes of outgoing data that may wait in the connection before `send_*`
    /// returns [`SendError::QueueFull`](crate::SendError::QueueFull). A message
    /// is accepted while the queue holds less than this, so one message larger
    /// than the limit can still be sent. Each message waiting to be framed
    /// also counts the memory of its queue entry (some tens of bytes), so
    /// empty messages cannot queue without bound.
    #[must_use]
    pub fn with_send_queue_limit(mut self, bytes: usize) -> Self {
        self.send_queue_limit = bytes;
        self
    }

    /// Split outgoing messages into frames of at most this many payload bytes.
    #[must_use]
    pub fn with_auto_fragment_size(mut self, bytes: Option<usize>) -> Self {
        self.auto_fragment_size = bytes.map(|b| b.max(1));
        self
    }

    /// Limits on the HTTP upgrade request/response.
    #[must_use]
    pub fn with_handshake_limits(mut self, limits: HandshakeLimits) -> Self {
        self.handshake_limits = limits;
        self
    }

    /// Adds an extension to offer (client) or accept (server), in order of
    /// preference.
    #[must_use]
    pub fn with_extension(mut self, factory: Arc<dyn ExtensionFactory>) -> Self {
        self.extensions.push(factory);
        self
    }

    /// The mode.
    #[must_use]
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The heartbeat interval.
    #[must_use]
    pub fn ping_interval(&self) -> Option<Duration> {
        self.ping_interval
    }

    /// The pong timeout.
    #[must_use]
    pub fn ping_timeout(&self) -> Duration {
        self.ping_timeout
    }

    /// The close timeout.
    #[must_use]
    pub fn close_timeout(&self) -> Duration {
        self.close_timeout
    }

    /// The incomplete-message timeout.
    #[must_use]
    pub fn message_timeout(&self) -> Option<Duration> {
        self.message_timeout
    }

    /// The send-stall timeout.
    #[must_use]
    pub fn send_timeout(&self) -> Option<Duration> {
        self.send_timeout
    }

    /// The limit on a compressed message's inflated size.
    #[must_use]
    pub fn max_inflated_size(&self) -> usize {
        self.max_inflated_size
    }

    /// The limit in force on a compressed message's inflated size: the
    /// smaller of `max_inflated_size` and `max_message_size`.
    #[must_use]
    pub fn inflate_limit(&self) -> usize {
        self.max_inflated_size.min(self.max_message_size)
    }

    /// The shared memory budget, if any.
    #[must_use]
    pub fn memory_budget(&self) -> Option<&MemoryBudget> {
        self.memory_budget.as_ref()
    }

    /// The frame size limit.
    #[must_use]
    pub fn max_frame_size(&self) -> usize {
        self.max_frame_size
    }

    /// The message size limit.
    #[must_use]
    pub fn max_message_size(&self) -> usize {
        self.max_message_size
    }

    /// The fragment count limit.
    #[must_use]
    pub fn max_fragments(&self) -> usize {
        self.max_fragments
    }

    /// The streaming threshold.
    #[must_use]
    pub fn stream_threshold(&self) -> Option<usize> {
        self.stream_threshold
    }

    /// The send queue limit.
    #[must_use]
    pub fn send_queue_limit(&self) -> usize {
        self.send_queue_limit
    }

    /// The automatic fragment size.
    #[must_use]
    pub fn auto_fragment_size(&self) -> Option<usize> {
        self.auto_fragment_size
    }

    /// The handshake limits.
    #[must_use]
    pub fn handshake_limits(&self) -> HandshakeLimits {
        self.handshake_limits
    }

    /// The extension factories, in order of preference.
    #[must_use]
    pub fn extensions(&self) -> &[Arc<dyn ExtensionFactory>] {
        &self.extensions
    }
}

/// The server's accept settings (read by every accept path: the byte-level
/// `ServerHandshake` and the parsed-request negotiation that the hyper and
/// axum glue call).
impl Config {
    /// Which `Origin`s may open a WebSocket on a server with this config
    /// (cross-site WebSocket hijacking: see [`OriginPolicy`]); refused
    /// requests get 403. Clients ignore it.
    #[must_use]
    pub fn with_origin_policy(mut self, policy: OriginPolicy) -> Self {
        self.origin_policy = policy;
        self
    }

    /// The Origin policy.
    #[must_use]
    pub fn origin_policy(&self) -> &OriginPolicy {
        &self.origin_policy
    }
}
