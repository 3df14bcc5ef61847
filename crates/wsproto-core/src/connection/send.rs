//! The send path: the bounded send queue, control frames jumping ahead of
//! data (at frame boundaries only), and encoding into one transmit buffer so
//! that everything pending leaves in a single write (a vectored one when
//! large payloads are referenced rather than copied).

use std::collections::VecDeque;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use bytestring::ByteString;

use super::transmit::Transmit;
use super::{Connection, State};
use crate::close::{CloseCode, CloseFrame};
use crate::config::Mode;
use crate::error::SendError;
use crate::event::Message;
use crate::frame::{Frame, FrameHeader, MAX_HEADER_LEN, OpCode, Rsv, apply_mask, extend_masked};
use crate::rng::MaskRng;

/// The transmit buffer is refilled while it holds less than this. Large
/// enough that a large message leaves in few big writes (the kernel's cost
/// per write dominates on loopback): 1 MiB echoes took ~10 % less server
/// CPU than with 128 KiB batches.
const TRANSMIT_BATCH: usize = 256 * 1024;
/// Most pongs waiting to be sent. Every ping is answered while fewer are
/// pending; beyond that the oldest pending pong is dropped, so the latest ping
/// is always answered (RFC 6455 §5.5.3) and a ping flood cannot grow memory.
const MAX_PENDING_PONGS: usize = 16;
/// A drained transmit buffer larger than this is released. One batch plus a
/// header is all it ever holds, so a buffer that size is kept: releasing it
/// after every large message costs an allocation and fresh pages per
/// message (measured: 2.4x the server CPU of 1 MiB echoes)
/// ([`Connection::shrink_buffers`] releases it when the connection is idle).
const KEEP_CAPACITY: usize = TRANSMIT_BATCH + MAX_HEADER_LEN;
/// Payloads at least this large (a server's, or a client's that it may mask
/// in place) are referenced by [`Connection::poll_transmit_vectored`]
/// instead of copied into the transmit buffer. Below it the copy costs less
/// than an extra slice in the write, and keeps small messages coalesced in
/// one slice.
pub(super) const ZERO_COPY_MIN: usize = 16 * 1024;
/// Most payloads one transmit references: with the copied bytes between
/// them, a vectored write of at most `2 * MAX_BODIES + 1` slices.
const MAX_BODIES: usize = 16;
/// Slices [`Connection::poll_transmit_vectored`] can fill at most: pass a
/// `bufs` this long to take everything pending in one write.
pub const MAX_TRANSMIT_SLICES: usize = 2 * MAX_BODIES + 1;

/// Bytes a queued message counts against the send queue limit besides its
/// payload: what its entry in the queue costs.
const ENTRY_COST: usize = std::mem::size_of::<Outgoing>();

/// Something waiting to be framed: a message (split into frames of at most
/// `max_frame` bytes) or, in raw mode, a single frame as given.
#[derive(Debug)]
struct Outgoing {
    opcode: OpCode,
    rsv: Rsv,
    payload: Bytes,
    /// Payload bytes already framed.
    pos: usize,
    max_frame: usize,
    /// FIN on the last frame (raw frames may be non-final fragments).
    fin: bool,
    started: bool,
    /// `payload` is already framed: a [`PreparedMessage`](crate::PreparedMessage)'s
    /// wire bytes, taken a frame at a time (`prepared.rs`).
    framed: bool,
}

/// A frame whose header is in the transmit buffer but whose payload is not
/// all there yet (large frames are copied in batches).
#[derive(Debug)]
struct PartialFrame {
    payload: Bytes,
    pos: usize,
    mask: Option<[u8; 4]>,
}

#[derive(Debug, Default)]
pub(super) struct Sender {
    out: Transmit,
    /// Pongs answering received pings, oldest first (at most
    /// `MAX_PENDING_PONGS`).
    pongs: VecDeque<Bytes>,
    control: VecDeque<(OpCode, Bytes)>,
    data: VecDeque<Outgoing>,
    /// Payload bytes in `control` and `data` not yet in `out`.
    queued: usize,
    partial: Option<PartialFrame>,
    /// Our Close has been encoded; nothing more may be.
    closed: bool,
}

impl Sender {
    pub(super) fn new() -> Self {
        Self::default()
    }

    pub(super) fn has_pending(&self) -> bool {
        !self.out.is_empty()
    }

    /// Whether another frame may be encoded: the copied bytes are below a
    /// batch and the referenced payloads below their count.
    fn has_room(&self) -> bool {
        self.out.copied() < TRANSMIT_BATCH && self.out.bodies() < MAX_BODIES
    }

    pub(super) fn queued_bytes(&self) -> usize {
        self.queued + self.out.pending()
    }

    /// What the send queue limit is checked against: the queued bytes plus
    /// the memory of each queued entry, so that empty and tiny messages
    /// cannot pile up without bound under a limit counted in payload bytes.
    pub(super) fn queue_cost(&self) -> usize {
        let entries = self.data.len() + self.control.len();
        self.queued_bytes() + entries * ENTRY_COST
    }

    #[cfg(fuzzing)]
    pub(super) fn check_invariants(&self) {
        let pong: usize = self.pongs.iter().map(Bytes::len).sum();
        assert!(self.pongs.len() <= MAX_PENDING_PONGS);
        let control: usize = self.control.iter().map(|(_, p)| p.len()).sum();
        let data: usize = self.data.iter().map(|o| o.payload.len() - o.pos).sum();
        assert_eq!(self.queued, pong + control + data, "send queue byte count");
        self.out.check_invariants();
        if self.closed {
            assert!(
                pong + control + data == 0
                    && self.data.is_empty()
                    && self.control.is_empty()
                    && self.pongs.is_empty()
            );
        }
    }

    pub(super) fn push_control(&mut self, opcode: OpCode, payload: Bytes) {
        if self.closed {
            return;
        }
        self.queued += payload.len();
        self.control.push_back((opcode, payload));
    }

    pub(super) fn push_pong(&mut self, payload: Bytes) {
        if self.closed {
            return;
        }
        if self.pongs.len() == MAX_PENDING_PONGS
            && let Some(old) = self.pongs.pop_front()
        {
            self.queued -= old.len();
        }
        self.queued += payload.len();
        self.pongs.push_back(payload);
    }

    /// Encodes a message straight into the transmit buffer, as `fill`
    /// would take it next, when nothing waits to be encoded before it and
    /// it is one frame that `fill` would copy (below [`ZERO_COPY_MIN`]) and
    /// that fits in the batch: a loop that answers a burst of small
    /// messages then encodes each as it is sent instead of queueing it
    /// first. Otherwise the message is given back, to be queued. An empty
    /// message is queued too: there the queue's cost per entry is what
    /// bounds a flood of them (`empty_messages_cannot_queue_without_bound`).
    fn encode_at_once(
        &mut self,
        item: Outgoing,
        rng: Option<&mut MaskRng>,
    ) -> Result<(), Outgoing> {
        let len = item.payload.len();
        let nothing_ahead = self.partial.is_none()
            && self.data.is_empty()
            && self.control.is_empty()
            && self.pongs.is_empty()
            && !self.closed;
        if !nothing_ahead
            || len == 0
            || len > item.max_frame
            || len >= ZERO_COPY_MIN
            || self.out.bodies() >= MAX_BODIES
            || self.out.copied() + MAX_HEADER_LEN + len > TRANSMIT_BATCH
        {
            return Err(item);
        }
        self.encode_frame(item.fin, item.rsv, item.opcode, item.payload, rng, false);
        Ok(())
    }

    fn push_data(&mut self, item: Outgoing) {
        self.queued += item.payload.len();
        self.data.push_back(item);
    }

    fn push_close(&mut self, code: CloseCode, reason: &str) {
        self.push_close_payload(CloseFrame::encode_payload(code, reason));
    }

    /// Queues the answer to the peer's Close: its code echoed, or an empty
    /// Close when it sent none.
    pub(super) fn push_close_reply(&mut self, code: Option<CloseCode>) {
        match code {
            Some(code) => self.push_close(code, ""),
            None => self.push_close_payload(Bytes::new()),
        }
    }

    fn push_close_payload(&mut self, payload: Bytes) {
        self.push_data(Outgoing {
            opcode: OpCode::Close,
            rsv: Rsv::NONE,
            max_frame: payload.len().max(1),
            payload,
            pos: 0,
            fin: true,
            started: false,
            framed: false,
        });
    }

    /// Used to fail the connection: queues Close after what is already
    /// queued (accepted data is not lost; a flush deadline bounds the wait).
    pub(super) fn push_failure_close(&mut self, code: CloseCode, reason: &str) {
        if !self.closed {
            self.push_close(code, reason);
        }
    }

    /// Drops everything not yet written (termination, EOF).
    pub(super) fn discard(&mut self) {
        *self = Sender {
            closed: true,
            ..Sender::default()
        };
    }

    /// Releases the transmit buffer if it holds nothing to send and more
    /// than `keep` bytes, and the queues that are empty and have room for
    /// more than `entries`.
    pub(super) fn shrink(&mut self, keep: usize, entries: usize) {
        self.out.shrink(keep);
        super::release_queue(&mut self.pongs, entries);
        super::release_queue(&mut self.control, entries);
        super::release_queue(&mut self.data, entries);
    }

    pub(super) fn advance(&mut self, n: usize) {
        self.out.advance(n, KEEP_CAPACITY);
    }

    /// Encodes queued frames into the transmit buffer until it holds a
    /// batch (or [`MAX_BODIES`] referenced payloads). With `zero_copy`,
    /// payloads of [`ZERO_COPY_MIN`] bytes or more are referenced instead of
    /// copied: a server's always, a client's when it holds the only
    /// reference (see [`sendable_in_place`]). Returns true when our Close
    /// frame was encoded by this call.
    fn fill(&mut self, rng: Option<&mut MaskRng>, zero_copy: bool) -> bool {
        let mut rng = rng;
        let mut close_sent = false;
        while self.has_room() {
            let room = TRANSMIT_BATCH - self.out.copied();
            if let Some(partial) = &mut self.partial {
                let take = room.min(partial.payload.len() - partial.pos);
                let piece = &partial.payload[partial.pos..partial.pos + take];
                let out = self.out.buffer();
                match partial.mask {
                    Some(mask) => {
                        out.reserve(take);
                        extend_masked(out, piece, mask, partial.pos);
                    }
                    None => out.extend_from_slice(piece),
                }
                partial.pos += take;
                if partial.pos == partial.payload.len() {
                    self.partial = None;
                }
                continue;
            }
            if self.closed {
                break;
            }
            if let Some(payload) = self.pongs.pop_front() {
                self.queued -= payload.len();
                self.encode_frame(
                    true,
                    Rsv::NONE,
                    OpCode::Pong,
                    payload,
                    rng.as_deref_mut(),
                    false,
                );
                continue;
            }
            if let Some((opcode, payload)) = self.control.pop_front() {
                self.queued -= payload.len();
                self.encode_frame(true, Rsv::NONE, opcode, payload, rng.as_deref_mut(), false);
                continue;
            }
            let Some(item) = self.data.front_mut() else {
                break;
            };
            if item.framed {
                self.take_prepared_frame(zero_copy);
                continue;
            }
            let remaining = item.payload.len() - item.pos;
            let take = remaining.min(item.max_frame);
            let last = take == remaining;
            let opcode = if item.started {
                OpCode::Continuation
            } else {
                item.opcode
            };
            let rsv = if item.started { Rsv::NONE } else { item.rsv };
            let chunk = if item.pos == 0 && last {
                // The whole payload as one frame: moved, not sliced (a
                // slice of a `Bytes` made from a `Vec` allocates to share
                // it, and would leave it shared where it could be masked
                // in place).
                std::mem::take(&mut item.payload)
            } else {
                item.payload.slice(item.pos..item.pos + take)
            };
            let fin = last && item.fin;
            item.pos += take;
            item.started = true;
            self.queued -= take;
            if last {
                let done = self.data.pop_front().map(|item| item.opcode);
                if done == Some(OpCode::Close) {
                    self.closed = true;
                    close_sent = true;
                    self.pongs.clear();
                    self.control.clear();
                    self.data.clear();
                    self.queued = 0;
                }
            }
            self.encode_frame(fin, rsv, opcode, chunk, rng.as_deref_mut(), zero_copy);
        }
        close_sent
    }

    fn encode_frame(
        &mut self,
        fin: bool,
        rsv: Rsv,
        opcode: OpCode,
        payload: Bytes,
        rng: Option<&mut MaskRng>,
        zero_copy: bool,
    ) {
        let mask = rng.map(MaskRng::next_mask);
        let header = FrameHeader {
            fin,
            rsv,
            opcode,
            mask,
            payload_len: payload.len() as u64,
        };
        let mut head = [0u8; MAX_HEADER_LEN];
        let n = header.encode(&mut head);
        let payload = if zero_copy && payload.len() >= ZERO_COPY_MIN {
            match sendable_in_place(payload, mask) {
                Ok(body) => {
                    // The payload follows its header in the same (vectored)
                    // write, without a copy.
                    self.out.buffer().extend_from_slice(&head[..n]);
                    self.out.push_body(body);
                    return;
                }
                Err(payload) => payload,
            }
        } else {
            payload
        };
        let room = TRANSMIT_BATCH.saturating_sub(self.out.copied() + n);
        let take = payload.len().min(room);
        let out = self.out.buffer();
        // One allocation for header and payload, not one for each.
        out.reserve(n + take);
        out.extend_from_slice(&head[..n]);
        match mask {
            Some(mask) => extend_masked(out, &payload[..take], mask, 0),
            None => out.extend_from_slice(&payload[..take]),
        }
        if take < payload.len() {
            self.partial = Some(PartialFrame {
                payload,
                pos: take,
                mask,
            });
        }
    }
}

/// A payload that can be sent as it is: a server's (unmasked), or a
/// client's that nobody else holds (a message handed over by value, sent
/// as one frame), masked in place in one pass instead of copied and masked.
/// A payload still shared is given back, to be copied.
fn sendable_in_place(payload: Bytes, mask: Option<[u8; 4]>) -> Result<Bytes, Bytes> {
    let Some(mask) = mask else {
        return Ok(payload);
    };
    let mut owned = payload.try_into_mut()?;
    apply_mask(&mut owned, mask, 0);
    Ok(owned.freeze())
}

impl Connection {
    /// Whether a `send_*` call would be accepted now: the connection is open
    /// and the send queue is below `send_queue_limit`.
    #[must_use]
    pub fn can_send(&self) -> bool {
        self.state() == State::Open && self.send.queue_cost() < self.config.send_queue_limit
    }

    /// Bytes waiting to be written: queued payloads plus the untaken part of
    /// the transmit buffer.
    #[must_use]
    pub fn queued_bytes(&self) -> usize {
        self.send.queued_bytes()
    }

    /// Whether our Close frame has been queued (or sent), or the
    /// connection has ended: no frame may be sent any more (RFC 6455
    /// §5.5.1). In raw mode the peer's Close alone does not set this: the
    /// application answers it with a Close of its own.
    #[must_use]
    pub fn is_close_queued(&self) -> bool {
        self.close_queued || self.ended.is_some()
    }

    fn check_open(&self) -> Result<(), SendError> {
        if self.close_queued || self.ended.is_some() {
            return Err(SendError::Closed);
        }
        Ok(())
    }

    fn check_capacity(&self) -> Result<(), SendError> {
        self.check_open()?;
        if self.send.queue_cost() >= self.config.send_queue_limit {
            return Err(SendError::QueueFull);
        }
        Ok(())
    }

    /// Queues a text message.
    ///
    /// # Errors
    /// [`SendError::Closed`] after Close, [`SendError::QueueFull`] when the
    /// send queue is at its limit (nothing is queued then), or an extension
    /// failure.
    pub fn send_text(&mut self, text: impl Into<ByteString>) -> Result<(), SendError> {
        self.send_message(Message::Text(text.into()))
    }

    /// Queues a binary message. Errors as for [`send_text`](Self::send_text).
    pub fn send_binary(&mut self, data: impl Into<Bytes>) -> Result<(), SendError> {
        self.send_message(Message::Binary(data.into()))
    }

    /// Queues a message, split into frames of `auto_fragment_size` if set.
    /// Errors as for [`send_text`](Self::send_text).
    pub fn send_message(&mut self, message: Message) -> Result<(), SendError> {
        let size = self.config.auto_fragment_size.unwrap_or(usize::MAX);
        self.send_fragmented(message, size)
    }

    /// Queues a message as frames carrying at most `fragment_size` payload
    /// bytes each (after compression, if an extension compresses it).
    /// Errors as for [`send_text`](Self::send_text).
    pub fn send_fragmented(
        &mut self,
        message: Message,
        fragment_size: usize,
    ) -> Result<(), SendError> {
        self.check_capacity()?;
        if self.config.mode == Mode::Raw {
            return Err(SendError::MessageInRawMode);
        }
        let (opcode, mut payload) = match message {
            Message::Text(text) => (OpCode::Text, text.into_bytes()),
            Message::Binary(data) => (OpCode::Binary, data),
        };
        let mut rsv = Rsv::NONE;
        for ext in &mut self.extensions {
            let mut out = BytesMut::new();
            let encoded = ext
                .encode_message(opcode, &payload, &mut out)
                .map_err(|error| SendError::Extension {
                    extension: ext.name(),
                    error,
                })?;
            if encoded {
                payload = out.freeze();
                rsv = rsv.union(ext.rsv());
            }
        }
        let item = Outgoing {
            opcode,
            rsv,
            payload,
            pos: 0,
            max_frame: fragment_size.max(1),
            fin: true,
            started: false,
            framed: false,
        };
        if let Err(item) = self.send.encode_at_once(item, self.rng.as_deref_mut()) {
            self.send.push_data(item);
        }
        Ok(())
    }

    /// Queues a ping. It goes out ahead of queued data, at the next frame
    /// boundary. It counts against the send queue limit like a message.
    ///
    /// # Errors
    /// [`SendError::ControlTooLong`] over 125 bytes; [`SendError::Closed`]
    /// after Close; [`SendError::QueueFull`] when the send queue is at its
    /// limit.
    pub fn send_ping(&mut self, payload: impl Into<Bytes>) -> Result<(), SendError> {
        self.send_control(OpCode::Ping, payload.into())
    }

    /// Queues an unsolicited pong (a one-way heartbeat). Errors as for
    /// [`send_ping`](Self::send_ping).
    pub fn send_pong(&mut self, payload: impl Into<Bytes>) -> Result<(), SendError> {
        self.send_control(OpCode::Pong, payload.into())
    }

    fn send_control(&mut self, opcode: OpCode, payload: Bytes) -> Result<(), SendError> {
        // The application's pings and pongs queue like its messages: a
        // loop of `send_ping` cannot grow the queue past its limit.
        self.check_capacity()?;
        if payload.len() > 125 {
            return Err(SendError::ControlTooLong(payload.len()));
        }
        self.send.push_control(opcode, payload);
        Ok(())
    }

    /// Starts the close handshake: queues a Close frame after everything
    /// already queued (so those messages are delivered first), then waits up
    /// to `close_timeout` for the peer's Close. The reason is cut to 123
    /// bytes on a character boundary.
    ///
    /// # Errors
    /// [`SendError::InvalidCloseCode`] for a code that may not be sent;
    /// [`SendError::Closed`] if a Close was already queued.
    pub fn close(&mut self, now: Instant, code: CloseCode, reason: &str) -> Result<(), SendError> {
        self.check_open()?;
        if !code.is_sendable() {
            return Err(SendError::InvalidCloseCode(code.0));
        }
        self.queue_close(now, code, reason);
        Ok(())
    }

    pub(super) fn queue_close(&mut self, now: Instant, code: CloseCode, reason: &str) {
        if self.close_received.is_none() {
            self.close_initiated_locally = true;
        }
        self.close_queued = true;
        self.send.push_close(code, reason);
        self.timers.start_close(&self.config, now);
    }

    /// Raw mode: queues `frame` exactly as given (FIN, RSV bits, opcode),
    /// in order with the other frames. A Close frame starts or answers the
    /// close handshake.
    ///
    /// # Errors
    /// [`SendError::NotRawMode`] in default mode; [`SendError::InvalidFrame`]
    /// for a fragmented control frame or a malformed Close payload, and
    /// [`SendError::InvalidCloseCode`] for a Close code that may not be sent
    /// (the checks of [`CloseFrame::parse_outgoing`]);
    /// [`SendError::ControlTooLong`]; [`SendError::Closed`] after our Close;
    /// [`SendError::QueueFull`].
    pub fn send_frame(&mut self, now: Instant, frame: Frame) -> Result<(), SendError> {
        if self.config.mode != Mode::Raw {
            return Err(SendError::NotRawMode);
        }
        self.check_capacity()?;
        if frame.opcode.is_control() {
            if !frame.fin {
                return Err(SendError::InvalidFrame(
                    "control frames cannot be fragmented",
                ));
            }
            if frame.payload.len() > 125 {
                return Err(SendError::ControlTooLong(frame.payload.len()));
            }
        }
        if frame.opcode == OpCode::Close {
            CloseFrame::parse_outgoing(&frame.payload)?;
            if self.close_received.is_none() {
                self.close_initiated_locally = true;
            }
            self.close_queued = true;
            self.timers.start_close(&self.config, now);
        }
        self.send.push_data(Outgoing {
            opcode: frame.opcode,
            rsv: frame.rsv,
            max_frame: frame.payload.len().max(1),
            payload: frame.payload,
            pos: 0,
            fin: frame.fin,
            started: false,
            framed: false,
        });
        Ok(())
    }

    /// The bytes to write next: everything pending, coalesced (control
    /// frames first at frame boundaries). Write some or all of them, then
    /// call [`advance_transmit`](Self::advance_transmit) with the count.
    /// Empty when there is nothing to send.
    #[must_use]
    pub fn poll_transmit(&mut self) -> &[u8] {
        self.fill_transmit(false);
        self.send.out.contiguous()
    }

    /// The bytes to write next, as [`poll_transmit`](Self::poll_transmit)
    /// gives them but without copying large payloads: payloads of 16 KiB
    /// or more are referenced where they are, between the header and the
    /// frames that follow, and the caller writes the slices in one vectored
    /// write (`writev`). A server's are sent as they are. A client's must be
    /// masked: when the connection holds the only reference to the payload
    /// (a message handed over by value and sent as one frame) it is masked
    /// in place; one the application still shares is copied and masked.
    ///
    /// Fills `bufs` with the pending bytes, in order, as many non-empty
    /// slices as fit, and returns how many it filled (0 when there is
    /// nothing to send). A `bufs` of [`MAX_TRANSMIT_SLICES`] takes
    /// everything pending. Write a prefix of their concatenation (any
    /// number of bytes), then call
    /// [`advance_transmit`](Self::advance_transmit) with that count before
    /// calling this again. Mixing with `poll_transmit` is allowed: it
    /// copies referenced payloads in.
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use wsproto_core::{Config, Connection, MAX_TRANSMIT_SLICES};
    /// let mut conn = Connection::server(Config::default(), Instant::now());
    /// conn.send_binary(vec![7u8; 100_000]).unwrap();
    /// let mut bufs = [&[][..]; MAX_TRANSMIT_SLICES];
    /// let n = conn.poll_transmit_vectored(&mut bufs);
    /// assert_eq!(n, 2); // the header, then the payload itself
    /// assert_eq!(bufs[0], [0x82, 127, 0, 0, 0, 0, 0, 1, 0x86, 0xa0]);
    /// assert_eq!(bufs[1].len(), 100_000);
    /// let written = bufs[0].len() + 1000; // what the transport took
    /// conn.advance_transmit(written);
    /// assert_eq!(conn.queued_bytes(), 99_000);
    /// ```
    #[must_use]
    pub fn poll_transmit_vectored<'a>(&'a mut self, bufs: &mut [&'a [u8]]) -> usize {
        self.fill_transmit(true);
        self.send.out.slices(bufs)
    }

    fn fill_transmit(&mut self, zero_copy: bool) {
        if self.send.has_room() && self.send.fill(self.rng.as_deref_mut(), zero_copy) {
            self.on_close_sent();
        }
    }

    /// Marks `n` bytes of [`poll_transmit`](Self::poll_transmit) (or of
    /// the slices of [`poll_transmit_vectored`](Self::poll_transmit_vectored),
    /// in order) as written.
    pub fn advance_transmit(&mut self, n: usize) {
        if n > 0 {
            self.timers.on_write_progress();
        }
        self.send.advance(n);
    }

    /// The transport took none of the pending bytes (a write returned
    /// `WouldBlock`/`Pending`, or a flush did) at `now`. If it takes none
    /// for [`send_timeout`](crate::Config::with_send_timeout) (no
    /// [`advance_transmit`](Self::advance_transmit) with bytes in between),
    /// [`poll_timeout`](Self::poll_timeout) reports the deadline and
    /// [`handle_timeout`](Self::handle_timeout) ends the connection with
    /// [`CloseReason::SendTimeout`](crate::CloseReason::SendTimeout). A
    /// driver that never reports this gets no send timeout.
    pub fn handle_write_blocked(&mut self, now: Instant) {
        if self.wants_write() && self.ended.is_none() {
            self.timers.on_write_blocked(now);
        }
    }

    /// Whether there is anything to write (queued frames or untaken bytes).
    #[must_use]
    pub fn wants_write(&self) -> bool {
        let send = &self.send;
        send.has_pending()
            || send.partial.is_some()
            || !send.pongs.is_empty()
            || !send.control.is_empty()
            || !send.data.is_empty()
    }
}

mod prepared;
#[cfg(test)]
mod tests;
