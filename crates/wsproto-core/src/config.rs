//! Connection and handshake configuration, shared by client and server.

use std::sync::Arc;
use std::time::Duration;

use crate::extension::ExtensionFactory;
use crate::handshake::OriginPolicy;

/// How much the connection does on the application's behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Ktor's `DefaultWebSocketSession`: automatic pongs, heartbeat pings,
    /// the close handshake, message reassembly, UTF-8 validation and
    /// extensions.
    #[default]
    Default,
    /// Ktor's `webSocketRaw`: every frame (control frames and non-final
    /// fragments included) is delivered as it is, nothing is answered or sent
    /// automatically, and the application may send any frame. Frame-level
    /// rules (masking, opcodes, control-frame size, RSV bits, fragment order,
    /// close codes) are still enforced.
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
/// with the getters. Defaults are safe for a server facing the internet.
///
/// | option | default |
/// | --- | --- |
/// | [`mode`](Self::with_mode) | [`Mode::Default`] |
/// | [`ping_interval`](Self::with_ping_interval) | none (no heartbeat) |
/// | [`ping_timeout`](Self::with_ping_timeout) | 15 s |
/// | [`close_timeout`](Self::with_close_timeout) | 10 s |
/// | [`max_frame_size`](Self::with_max_frame_size) | 16 MiB |
/// | [`max_message_size`](Self::with_max_message_size) | 64 MiB |
/// | [`max_fragments`](Self::with_max_fragments) | 131 072 |
/// | [`stream_threshold`](Self::with_stream_threshold) | none (always reassemble) |
/// | [`send_queue_limit`](Self::with_send_queue_limit) | 1 MiB |
/// | [`auto_fragment_size`](Self::with_auto_fragment_size) | none (one frame per message) |
/// | [`handshake_limits`](Self::with_handshake_limits) | 16 KiB head, 64 headers |
/// | [`extensions`](Self::with_extension) | none |
/// | [`origin_policy`](Self::with_origin_policy) (server) | [`OriginPolicy::any`] (no check) |
#[derive(Debug, Clone)]
pub struct Config {
    pub(crate) mode: Mode,
    pub(crate) ping_interval: Option<Duration>,
    pub(crate) ping_timeout: Duration,
    pub(crate) close_timeout: Duration,
    pub(crate) max_frame_size: usize,
    pub(crate) max_message_size: usize,
    pub(crate) max_fragments: usize,
    pub(crate) stream_threshold: Option<usize>,
    pub(crate) send_queue_limit: usize,
    pub(crate) auto_fragment_size: Option<usize>,
    pub(crate) handshake_limits: HandshakeLimits,
    pub(crate) extensions: Vec<Arc<dyn ExtensionFactory>>,
    pub(crate) origin_policy: OriginPolicy,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mode: Mode::Default,
            ping_interval: None,
            ping_timeout: Duration::from_secs(15),
            close_timeout: Duration::from_secs(10),
            max_frame_size: 16 << 20,
            max_message_size: 64 << 20,
            max_fragments: 1 << 17,
            stream_threshold: None,
            send_queue_limit: 1 << 20,
            auto_fragment_size: None,
            handshake_limits: HandshakeLimits::default(),
            extensions: Vec::new(),
            origin_policy: OriginPolicy::any(),
        }
    }
}

impl Config {
    /// Default or raw mode (Ktor's `webSocketRaw`).
    #[must_use]
    pub fn with_mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Send a ping every `interval` and end the connection when no pong
    /// arrives within [`ping_timeout`](Self::with_ping_timeout) (Ktor's
    /// `pingInterval`). `None` turns the heartbeat off. Ignored in raw mode.
    #[must_use]
    pub fn with_ping_interval(mut self, interval: Option<Duration>) -> Self {
        self.ping_interval = interval;
        self
    }

    /// How long to wait for the pong to a heartbeat ping (Ktor's `timeout`).
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

    /// Largest accepted frame payload (Ktor's `maxFrameSize`); a larger frame
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
