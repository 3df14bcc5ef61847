//! The receive path: frame headers checked before any payload is buffered,
//! payloads unmasked as they are copied into the read buffer (or in place
//! there) and sliced out of it without another copy, UTF-8 validated as
//! bytes arrive, messages reassembled or streamed, control frames answered.

use std::collections::VecDeque;
use std::time::Instant;

use bytes::{Buf, Bytes, BytesMut};
use bytestring::ByteString;

use super::Connection;
use crate::Role;
use crate::budget::Charge;
use crate::close::CloseFrame;
use crate::config::{Config, Mode};
use crate::error::{ExtensionError, ProtocolError};
use crate::event::{CloseReason, Event, Message, MessageChunk, MessageKind};
use crate::frame::{Frame, FrameHeader, MAX_HEADER_LEN, OpCode, Rsv, apply_mask, extend_masked};
use crate::utf8::Utf8Validator;

/// Smallest spare capacity offered to a read.
const MIN_READ: usize = 8 * 1024;
/// Most capacity reserved ahead of the bytes that have arrived, for a
/// frame whose header announces more: a frame up to 64 KiB (and its
/// header) is reserved whole at its first byte, so it neither regrows
/// nor moves as it arrives (the zero-allocations test); a larger one gets
/// this much, then as much again as has arrived (doubling), so a header
/// announcing a megabyte that never comes pins 64 KiB, not a megabyte.
const RESERVE_AHEAD: usize = (64 << 10) + MAX_HEADER_LEN;

/// Room to reserve for the `rest` bytes still to come of a frame of which
/// `have` are buffered: all of them up to [`RESERVE_AHEAD`], else as many
/// as have arrived.
fn reserve_ahead(rest: usize, have: usize) -> usize {
    rest.min(RESERVE_AHEAD.max(have))
}
/// An empty read buffer is released when it holds more capacity than this,
/// or when a frame larger than this was sliced out of it (the buffer still
/// shares that allocation and would grow back into it).
const KEEP_CAPACITY: usize = 256 * 1024;

/// The frame being received.
#[derive(Debug, Clone, Copy)]
struct InFrame {
    fin: bool,
    rsv: Rsv,
    opcode: OpCode,
    mask: Option<[u8; 4]>,
    len: usize,
    /// Payload bytes already handed on (streaming) and no longer in the
    /// buffer.
    taken: usize,
    /// Payload bytes at the front of the buffer already unmasked and
    /// validated.
    done: usize,
    /// Payload bytes at the front of the buffer already unmasked (at least
    /// `done`): `handle_data` unmasks while it copies when it can.
    unmasked: usize,
    /// Hand the payload on as it arrives.
    stream: bool,
}

/// What the end of a frame needs to know of it, once all its payload is
/// here. Read field by field out of [`InFrame`] rather than moving that out
/// whole: a profile of pipelined small messages showed the move (wide loads
/// over fields just written narrowly) stalling as long as the rest of the
/// frame's bookkeeping.
#[derive(Debug, Clone, Copy)]
struct FrameEnd {
    fin: bool,
    rsv: Rsv,
    opcode: OpCode,
    stream: bool,
}

/// The data message being received.
#[derive(Debug)]
struct InMessage {
    kind: MessageKind,
    /// The RSV bits of its first frame: which extensions decode it.
    rsv: Rsv,
    fragments: usize,
    /// Wire payload bytes so far (checked against the limit for messages no
    /// extension transforms).
    size: usize,
    /// Reassembled bytes, or in streaming mode the few bytes of a character
    /// split across chunks.
    data: BytesMut,
    utf8: Option<Utf8Validator>,
    streaming: bool,
    /// Bytes already delivered as chunks.
    emitted: usize,
    chunk_started: bool,
}

#[derive(Debug)]
pub(super) struct Receiver {
    buf: BytesMut,
    frame: Option<InFrame>,
    msg: Option<InMessage>,
    stopped: bool,
    /// The transport reached EOF: once the buffer is exhausted, the
    /// connection ends.
    eof: bool,
    /// The time of the latest input, used while parsing it lazily.
    now: Option<Instant>,
    /// A frame larger than `KEEP_CAPACITY` was sliced out of `buf`.
    large_split: bool,
    /// Since when the input has held an unfinished message or frame
    /// (the message timeout runs from here).
    partial_since: Option<Instant>,
    /// What the buffered input is charged against the memory budget.
    charge: Charge,
}

impl Receiver {
    pub(super) fn new(config: &Config) -> Self {
        Receiver {
            buf: BytesMut::new(),
            frame: None,
            msg: None,
            stopped: false,
            eof: false,
            now: None,
            large_split: false,
            partial_since: None,
            charge: Charge::new(config.memory_budget.clone()),
        }
    }

    /// Payload bytes of the peer's held here: the read buffer and the
    /// message being reassembled or inflated.
    fn held(&self) -> usize {
        self.buf.len() + self.msg.as_ref().map_or(0, |msg| msg.data.len())
    }

    /// When the message timeout expires, if a message or frame is
    /// unfinished.
    pub(super) fn message_deadline(&self, config: &Config) -> Option<Instant> {
        self.partial_since?.checked_add(config.message_timeout?)
    }

    /// Input ran out: starts the message timeout if what is buffered is
    /// unfinished (in raw mode a message's fragments are handed on one by
    /// one, so only a frame counts), stops it if nothing is.
    fn input_ran_out(&mut self, raw: bool) {
        let partial = !self.buf.is_empty() || self.frame.is_some() || (!raw && self.msg.is_some());
        if !partial {
            self.partial_since = None;
        } else if self.partial_since.is_none() {
            self.partial_since = self.now;
        }
    }

    /// No more input is read: after the peer's Close, or after the
    /// connection failed or ended.
    pub(super) fn stop(&mut self) {
        self.stopped = true;
        self.buf = BytesMut::new();
        self.frame = None;
        self.msg = None;
        self.partial_since = None;
        self.charge.set(0);
    }

    pub(super) fn is_stopped(&self) -> bool {
        self.stopped
    }

    pub(super) fn set_eof(&mut self, now: Instant) {
        self.eof = true;
        self.now = Some(now);
    }

    #[cfg(fuzzing)]
    pub(super) fn check_invariants(&self) {
        match &self.frame {
            _ if self.stopped => assert!(self.frame.is_none() && self.msg.is_none()),
            // Input is parsed as events are taken, so whole frames may wait
            // here until the application polls; the driver bounds that.
            None => {}
            // More than the rest of the frame may be here when input arrived
            // while events were waiting to be taken.
            Some(f) => assert!(
                f.done <= f.unmasked.max(f.done)
                    && f.unmasked.max(f.done) <= self.buf.len()
                    && f.done <= f.len - f.taken
            ),
        }
    }

    pub(super) fn buffered(&self) -> usize {
        self.buf.len()
    }

    pub(super) fn buffer_for_read(&mut self) -> &mut BytesMut {
        // The rest of the frame plus a read's worth after it: asking for
        // at least MIN_READ alone near the end of a frame that fills the
        // buffer made the buffer double (and copy the frame) once per
        // large frame.
        let want = match &self.frame {
            // A streamed payload leaves the buffer as it arrives: one read
            // at a time keeps the memory bound streaming promises.
            Some(frame) if frame.stream => MIN_READ,
            Some(frame) => reserve_ahead(
                (frame.len - frame.taken)
                    .saturating_sub(self.buf.len())
                    .saturating_add(MIN_READ),
                self.buf.len(),
            ),
            None => MIN_READ,
        };
        if self.buf.capacity() - self.buf.len() < want.min(MIN_READ) || self.frame.is_some() {
            self.buf.reserve(want);
        }
        &mut self.buf
    }

    fn release_if_idle(&mut self) {
        if self.buf.is_empty() && (self.large_split || self.buf.capacity() > KEEP_CAPACITY) {
            self.buf = BytesMut::new();
            self.large_split = false;
        }
    }

    pub(super) fn shrink(&mut self) {
        if self.buf.is_empty() {
            self.buf = BytesMut::new();
        }
        if let Some(msg) = &mut self.msg
            && msg.data.is_empty()
        {
            msg.data = BytesMut::new();
        }
    }
}

impl Connection {
    /// Feeds bytes read from the transport. They are parsed as events are
    /// taken with [`poll_event`](Self::poll_event) (replies such as pongs then
    /// appear in [`poll_transmit`](Self::poll_transmit)). Input after the
    /// peer's Close frame, after EOF, or after the connection failed, is
    /// ignored.
    pub fn handle_data(&mut self, now: Instant, data: &[u8]) {
        if self.recv.stopped || self.recv.eof {
            return;
        }
        self.recv.now = Some(now);
        // Charged before it is buffered: a read that would take the shared
        // budget over its limit is refused, not held.
        if !self.recv.charge.set(self.recv.held() + data.len()) {
            self.over_budget(now);
            return;
        }
        // Begun first, so that `reserve_frame` sizes from the frame under
        // way instead of parsing the header a second time.
        let data = self.begin_frame_in_place(now, data);
        self.reserve_frame(data);
        let data = self.append_unmasking(data);
        self.recv.buf.extend_from_slice(data);
        self.process();
    }

    /// When `data` starts with the next frame's header (nothing buffered,
    /// no frame under way, no event waiting to be taken), begins that frame
    /// here, as `process` would next, so that its payload takes
    /// `append_unmasking`'s one pass instead of a copy and then an unmasking
    /// pass over the buffer (the codec bench: a whole 64 KiB frame decoded
    /// at 40 % of `memcpy` speed that way). Returns what follows the
    /// header; `data` itself when the header is incomplete or malformed
    /// (`process` reports it in order). A frame `begin_frame` refuses fails
    /// the connection here, as it would in `process`.
    fn begin_frame_in_place<'d>(&mut self, now: Instant, data: &'d [u8]) -> &'d [u8] {
        if self.recv.frame.is_some() || !self.recv.buf.is_empty() || !self.events.is_empty() {
            return data;
        }
        let Ok(Some((header, len))) = FrameHeader::parse(data) else {
            return data;
        };
        if let Err(err) = self.begin_frame(&header) {
            self.protocol_error(now, err);
            return &[];
        }
        &data[len..]
    }

    /// Copies the payload of the frame being received out of `data` and
    /// unmasks it in the same pass (instead of a copy and then a second
    /// pass over the buffer), as far as it can: while the frame's payload
    /// is the last thing buffered, i.e. for every read after the first of a
    /// frame that spans reads. Returns the rest of `data`, to be buffered
    /// as it is. A frame that starts a read takes this path too
    /// (`begin_frame_in_place`); frames after it in the same read are
    /// copied and unmasked in place as their turn comes.
    fn append_unmasking<'d>(&mut self, data: &'d [u8]) -> &'d [u8] {
        let recv = &mut self.recv;
        if recv.stopped {
            return data;
        }
        let Some(frame) = &mut recv.frame else {
            return data;
        };
        let have = recv.buf.len();
        let Some(mask) = frame.mask else {
            return data;
        };
        if frame.unmasked.max(frame.done) != have {
            return data;
        }
        let take = (frame.len - frame.taken)
            .saturating_sub(have)
            .min(data.len());
        recv.buf.reserve(take);
        extend_masked(&mut recv.buf, &data[..take], mask, frame.taken + have);
        frame.unmasked = have + take;
        &data[take..]
    }

    /// When `data` carries only part of a frame, reserves room for more of
    /// it at once (as [`recv_buffer`](Self::recv_buffer) does), so the
    /// buffer neither grows step by step nor shifts the partial payload to
    /// its front once per frame: the whole frame up to `RESERVE_AHEAD`,
    /// beyond that as much as has arrived (what the peer announced is not
    /// trusted). Bounded by the frame size limit, and never more than the
    /// stream threshold: streamed payloads leave the buffer as they arrive.
    fn reserve_frame(&mut self, data: &[u8]) {
        let recv = &mut self.recv;
        let have = recv.buf.len() + data.len();
        let rest = match &recv.frame {
            Some(frame) if frame.stream => return,
            Some(frame) => (frame.len - frame.taken).saturating_sub(recv.buf.len()),
            None if recv.buf.is_empty() => match FrameHeader::parse(data) {
                Ok(Some((header, len)))
                    if header.payload_len <= self.config.max_frame_size as u64 =>
                {
                    len + header.payload_len as usize
                }
                _ => return,
            },
            None => return,
        };
        let limit = self.config.stream_threshold.unwrap_or(usize::MAX);
        if rest > data.len() {
            recv.buf.reserve(reserve_ahead(rest, have).min(limit));
        }
    }

    /// Parses bytes the caller appended to [`recv_buffer`](Self::recv_buffer);
    /// otherwise as [`handle_data`](Self::handle_data).
    pub fn handle_received(&mut self, now: Instant) {
        if self.recv.stopped || self.recv.eof {
            self.recv.buf.clear();
            return;
        }
        self.recv.now = Some(now);
        // The caller has appended the bytes already: charge them now.
        if !self.recv.charge.set(self.recv.held()) {
            self.over_budget(now);
            return;
        }
        self.process();
    }

    /// Fails the connection: its input would take the shared memory
    /// budget over its limit.
    fn over_budget(&mut self, now: Instant) {
        let budget = self.recv.charge.limit();
        self.protocol_error(now, ProtocolError::MemoryBudgetExceeded { budget });
    }

    /// Releases buffer memory that holds no data: call it on a connection
    /// that has gone idle, so it costs little more than its own struct. The
    /// buffers grow back on demand.
    pub fn shrink_buffers(&mut self) {
        self.recv.shrink();
        self.send.shrink();
        if self.events.is_empty() {
            self.events = std::collections::VecDeque::new();
        }
    }

    /// Parses input until an event is ready or more input is needed.
    pub(super) fn process(&mut self) {
        let Some(now) = self.recv.now else {
            return;
        };
        let raw = self.config.mode == Mode::Raw;
        while !self.recv.stopped && self.events.is_empty() {
            if self.recv.frame.is_none() {
                match FrameHeader::parse(&self.recv.buf) {
                    Ok(None) => {
                        self.recv.input_ran_out(raw);
                        self.input_exhausted();
                        break;
                    }
                    Ok(Some((header, len))) => {
                        if let Err(err) = self.begin_frame(&header) {
                            self.protocol_error(now, err);
                            break;
                        }
                        self.recv.buf.advance(len);
                    }
                    Err(err) => {
                        self.protocol_error(now, err);
                        break;
                    }
                }
            }
            let result = match self.advance_payload() {
                Ok(Some((frame, payload))) => self.finish_frame(now, frame, payload),
                Ok(None) => {
                    self.recv.input_ran_out(raw);
                    self.input_exhausted();
                    break;
                }
                Err(err) => Err(err),
            };
            if let Err(err) = result {
                self.protocol_error(now, err);
                break;
            }
            if raw || self.recv.msg.is_none() {
                // A message ended: the next one's time starts when it does.
                self.recv.partial_since = None;
            }
        }
        if self.recv.stopped && self.recv.eof {
            self.input_exhausted();
        }
        self.recv.release_if_idle();
        // What was handed over is no longer charged.
        if !self.recv.stopped && !self.recv.charge.set(self.recv.held()) {
            self.over_budget(now);
        }
    }

    fn input_exhausted(&mut self) {
        if self.recv.eof && self.events.is_empty() {
            self.on_eof();
        }
    }

    fn protocol_error(&mut self, now: Instant, err: ProtocolError) {
        let code = err.close_code();
        let text = err.to_string();
        self.fail_with(now, CloseReason::Error(err), code, &text);
    }

    /// Checks a header against the rules that depend on the connection, and
    /// against the limits, before any of its payload is buffered.
    fn begin_frame(&mut self, header: &FrameHeader) -> Result<(), ProtocolError> {
        // RFC 6455 §5.1: clients MUST mask, servers MUST NOT.
        match (self.role, header.mask.is_some()) {
            (Role::Server, false) => return Err(ProtocolError::UnmaskedFrame),
            (Role::Client, true) => return Err(ProtocolError::MaskedFrame),
            _ => {}
        }
        let raw = self.config.mode == Mode::Raw;
        let mut stream = false;
        if header.opcode.is_control() {
            // RFC 6455 §5.2 / RFC 7692 §6: no extension defines RSV on
            // control frames.
            if !header.rsv.is_empty() {
                return Err(ProtocolError::UnexpectedRsv(header.rsv.bits()));
            }
        } else {
            if header.payload_len > self.config.max_frame_size as u64 {
                return Err(ProtocolError::FrameTooLarge {
                    size: header.payload_len,
                    limit: self.config.max_frame_size,
                });
            }
            let len = header.payload_len as usize;
            let msg = match (header.opcode, &mut self.recv.msg) {
                (OpCode::Continuation, None) => return Err(ProtocolError::UnexpectedContinuation),
                (OpCode::Continuation, Some(msg)) => {
                    // RFC 7692 §6.1: RSV1 is set on the first frame only.
                    if !header.rsv.is_empty() {
                        return Err(ProtocolError::UnexpectedRsv(header.rsv.bits()));
                    }
                    msg.fragments += 1;
                    if msg.fragments > self.config.max_fragments {
                        return Err(ProtocolError::TooManyFragments {
                            limit: self.config.max_fragments,
                        });
                    }
                    msg
                }
                (_, Some(_)) => return Err(ProtocolError::ExpectedContinuation),
                (opcode, msg @ None) => {
                    if !self.claimed_rsv.contains(header.rsv) {
                        return Err(ProtocolError::UnexpectedRsv(
                            header.rsv.difference(self.claimed_rsv).bits(),
                        ));
                    }
                    let kind = if opcode == OpCode::Text {
                        MessageKind::Text
                    } else {
                        MessageKind::Binary
                    };
                    msg.insert(InMessage {
                        kind,
                        rsv: header.rsv,
                        fragments: 1,
                        size: 0,
                        data: BytesMut::new(),
                        utf8: (kind == MessageKind::Text && !raw).then(Utf8Validator::new),
                        streaming: false,
                        emitted: 0,
                        chunk_started: false,
                    })
                }
            };
            if !raw && msg.rsv.is_empty() {
                msg.size += len;
                if msg.size > self.config.max_message_size {
                    return Err(ProtocolError::MessageTooLarge {
                        limit: self.config.max_message_size,
                    });
                }
                if self.config.stream_threshold.is_some_and(|t| msg.size > t) {
                    msg.streaming = true;
                }
                stream = msg.streaming;
            }
        }
        self.recv.frame = Some(InFrame {
            fin: header.fin,
            rsv: header.rsv,
            opcode: header.opcode,
            mask: header.mask,
            len: header.payload_len as usize,
            taken: 0,
            done: 0,
            unmasked: 0,
            stream,
        });
        Ok(())
    }

    /// Unmasks and validates what has arrived of the current frame's
    /// payload; streams it on if the message is streamed. Returns the frame
    /// and the rest of its payload once all of it is here.
    fn advance_payload(&mut self) -> Result<Option<(FrameEnd, Bytes)>, ProtocolError> {
        let recv = &mut self.recv;
        let Some(frame) = recv.frame.as_mut() else {
            return Ok(None);
        };
        let remaining = frame.len - frame.taken;
        let avail = recv.buf.len().min(remaining);
        if avail > frame.done {
            let unmasked = frame.unmasked.max(frame.done);
            if let Some(mask) = frame.mask
                && avail > unmasked
            {
                apply_mask(&mut recv.buf[unmasked..avail], mask, frame.taken + unmasked);
            }
            frame.unmasked = avail;
            let new = &recv.buf[frame.done..avail];
            if frame.opcode.is_data()
                && let Some(msg) = &mut recv.msg
                && msg.rsv.is_empty()
                && let Some(utf8) = &mut msg.utf8
            {
                // RFC 6455 §8.1 + Autobahn 6.4.*: fail on the first invalid
                // byte, before the rest of the frame arrives.
                utf8.feed(new).map_err(|_| ProtocolError::InvalidUtf8)?;
            }
            frame.done = avail;
        }
        if avail < remaining {
            if frame.stream && avail > 0 {
                let chunk = recv.buf.split_to(avail).freeze();
                frame.taken += avail;
                frame.done = 0;
                frame.unmasked = 0;
                if let Some(msg) = &mut recv.msg {
                    emit_chunk(&mut self.events, msg, chunk, false);
                }
                // Streamed bytes are not held: the message timeout bounds
                // the wait for the next chunk, not the whole message.
                recv.partial_since = recv.now;
            }
            return Ok(None);
        }
        let end = FrameEnd {
            fin: frame.fin,
            rsv: frame.rsv,
            opcode: frame.opcode,
            stream: frame.stream,
        };
        recv.frame = None;
        let payload = recv.buf.split_to(remaining).freeze();
        recv.large_split |= remaining > KEEP_CAPACITY;
        Ok(Some((end, payload)))
    }

    fn finish_frame(
        &mut self,
        now: Instant,
        frame: FrameEnd,
        payload: Bytes,
    ) -> Result<(), ProtocolError> {
        if self.config.mode == Mode::Raw {
            return self.finish_raw_frame(now, frame, payload);
        }
        match frame.opcode {
            OpCode::Ping => {
                // RFC 6455 §5.5.2: answer with a pong carrying the same data
                // (a bounded number pending; the latest always, §5.5.3).
                if !self.close_queued {
                    self.send.push_pong(payload.clone());
                }
                self.events.push_back(Event::Ping(payload));
                Ok(())
            }
            OpCode::Pong => {
                self.timers.on_pong(&self.config, now, &payload);
                self.events.push_back(Event::Pong(payload));
                Ok(())
            }
            OpCode::Close => self.on_close_frame(now, &payload),
            OpCode::Text | OpCode::Binary | OpCode::Continuation => {
                self.finish_data_frame(frame, payload)
            }
        }
    }

    fn finish_raw_frame(
        &mut self,
        now: Instant,
        frame: FrameEnd,
        payload: Bytes,
    ) -> Result<(), ProtocolError> {
        if frame.opcode == OpCode::Close {
            // Validate before delivering: a bad Close fails the connection.
            CloseFrame::parse(&payload)?;
        }
        if frame.opcode.is_data() && frame.fin {
            self.recv.msg = None;
        }
        let close = (frame.opcode == OpCode::Close).then(|| payload.clone());
        self.events.push_back(Event::Frame(Frame {
            fin: frame.fin,
            rsv: frame.rsv,
            opcode: frame.opcode,
            payload,
        }));
        match close {
            Some(payload) => self.on_close_frame(now, &payload),
            None => Ok(()),
        }
    }

    fn on_close_frame(&mut self, now: Instant, payload: &[u8]) -> Result<(), ProtocolError> {
        let frame = CloseFrame::parse(payload)?;
        self.close_received = Some(frame.clone());
        // RFC 6455 §5.5.1: nothing follows a Close frame.
        self.recv.stop();
        if self.role == Role::Client {
            self.timers.start_transport_wait(&self.config, now);
        }
        if self.close_sent {
            self.end_normally(frame);
            return Ok(());
        }
        if self.config.mode == Mode::Raw || self.close_queued {
            // Raw mode: the application answers. Otherwise our Close is
            // already queued; the handshake completes when it is sent.
            return Ok(());
        }
        self.events.push_back(Event::CloseReceived(frame.clone()));
        // Echo the peer's status code (RFC 6455 §5.5.1); an empty Close is
        // answered with an empty one.
        self.close_queued = true;
        self.send.push_close_reply(frame.as_ref().map(|f| f.code));
        self.timers.start_close(&self.config, now);
        Ok(())
    }

    fn finish_data_frame(&mut self, frame: FrameEnd, payload: Bytes) -> Result<(), ProtocolError> {
        let msg = self
            .recv
            .msg
            .as_mut()
            .expect("a data frame always belongs to a message");
        let mut whole = None;
        if !msg.rsv.is_empty() {
            let before = msg.data.len();
            let limit = self.config.inflate_limit().saturating_sub(msg.emitted);
            // Inflated bytes are charged as they are made: the budget's
            // room bounds the inflation like the limit does.
            let room = before.saturating_add(self.recv.charge.room());
            let over_budget = ProtocolError::MemoryBudgetExceeded {
                budget: self.recv.charge.limit(),
            };
            match decode_frame(
                &mut self.extensions,
                msg,
                &payload,
                frame.fin,
                limit.min(room),
            ) {
                Err(ProtocolError::Extension {
                    error: ExtensionError::TooLarge { .. },
                    ..
                }) if room < limit => return Err(over_budget),
                result => result?,
            }
            let held = self.recv.buf.len() + msg.data.len();
            if !self.recv.charge.set(self.recv.charge.held().max(held)) {
                return Err(over_budget);
            }
            if let Some(utf8) = &mut msg.utf8 {
                utf8.feed(&msg.data[before..])
                    .map_err(|_| ProtocolError::InvalidUtf8)?;
            }
            if self
                .config
                .stream_threshold
                .is_some_and(|t| msg.emitted + msg.data.len() > t)
            {
                msg.streaming = true;
            }
        } else if frame.stream {
            if frame.fin {
                finish_utf8(msg)?;
            }
            emit_chunk(&mut self.events, msg, payload, frame.fin);
            self.recv.partial_since = self.recv.now;
        } else if frame.fin && msg.fragments == 1 {
            // The common case: a whole message in one frame, sliced out of
            // the read buffer without a copy.
            whole = Some(payload);
        } else {
            msg.data.extend_from_slice(&payload);
        }
        if !msg.rsv.is_empty() && msg.streaming {
            if frame.fin {
                finish_utf8(msg)?;
            }
            let data = msg.data.split().freeze();
            emit_chunk(&mut self.events, msg, data, frame.fin);
            self.recv.partial_since = self.recv.now;
        }
        if frame.fin {
            // Finished in place, not moved out of its `Option` first (the
            // same stall as the frame's, see `FrameEnd`).
            let done = if msg.streaming {
                Ok(None)
            } else {
                finish_utf8(msg)
                    .map(|()| {
                        let data = whole.unwrap_or_else(|| std::mem::take(&mut msg.data).freeze());
                        (msg.kind, data)
                    })
                    .map(Some)
            };
            self.recv.msg = None;
            if let Some((kind, data)) = done? {
                let message = match kind {
                    MessageKind::Binary => Message::Binary(data),
                    MessageKind::Text => Message::Text(
                        ByteString::try_from(data).map_err(|_| ProtocolError::InvalidUtf8)?,
                    ),
                };
                self.events.push_back(Event::Message(message));
            }
        }
        Ok(())
    }
}

fn finish_utf8(msg: &mut InMessage) -> Result<(), ProtocolError> {
    match &mut msg.utf8 {
        Some(utf8) => utf8.finish().map_err(|_| ProtocolError::InvalidUtf8),
        None => Ok(()),
    }
}

/// Runs a frame of a transformed message through the extensions that claim
/// its RSV bits, last negotiated first, appending the result to `msg.data`.
fn decode_frame(
    extensions: &mut [Box<dyn crate::Extension>],
    msg: &mut InMessage,
    payload: &[u8],
    fin: bool,
    limit: usize,
) -> Result<(), ProtocolError> {
    let mut stages = extensions
        .iter_mut()
        .rev()
        .filter(|ext| !ext.rsv().is_empty() && msg.rsv.contains(ext.rsv()))
        .peekable();
    let mut input: Option<BytesMut> = None;
    while let Some(ext) = stages.next() {
        let data = input.as_deref().unwrap_or(payload);
        let name = ext.name();
        let fail = |error| ProtocolError::Extension {
            extension: name,
            error,
        };
        if stages.peek().is_none() {
            ext.decode_frame(data, fin, &mut msg.data, limit)
                .map_err(fail)?;
            return Ok(());
        }
        let mut out = BytesMut::new();
        ext.decode_frame(data, fin, &mut out, limit).map_err(fail)?;
        input = Some(out);
    }
    // No extension claims these bits (cannot happen: begin_frame checked).
    Err(ProtocolError::UnexpectedRsv(msg.rsv.bits()))
}

/// Delivers streamed bytes: any bytes held back from the previous chunk,
/// then `new`, keeping back the start of a character that is not complete
/// yet so every text chunk is valid UTF-8 on its own.
fn emit_chunk(events: &mut VecDeque<Event>, msg: &mut InMessage, new: Bytes, fin: bool) {
    let mut data = if msg.data.is_empty() {
        new
    } else {
        msg.data.extend_from_slice(&new);
        msg.data.split().freeze()
    };
    if !fin && let Some(utf8) = &msg.utf8 {
        let keep = utf8.pending();
        if keep > 0 {
            let tail = data.split_off(data.len() - keep);
            msg.data.extend_from_slice(&tail);
        }
    }
    if data.is_empty() && !fin {
        return;
    }
    msg.emitted += data.len();
    events.push_back(Event::Chunk(MessageChunk {
        kind: msg.kind,
        data,
        first: !msg.chunk_started,
        fin,
    }));
    msg.chunk_started = true;
}
