//! The receive path: frame headers checked before any payload is buffered,
//! payloads unmasked as they are copied into the read buffer (or in place
//! there) and sliced out of it without another copy, UTF-8 validated as
//! bytes arrive, messages reassembled or streamed, control frames answered.

mod buffer;
mod message;

use std::time::Instant;

use bytes::{Bytes, BytesMut};

use super::Connection;
use crate::Role;
use crate::close::CloseFrame;
use crate::config::Mode;
use crate::error::ProtocolError;
use crate::event::{CloseReason, Event, MessageKind};
use crate::frame::{Frame, FrameHeader, OpCode};
use crate::utf8::Utf8Validator;

pub(super) use buffer::Receiver;
use buffer::{InFrame, KEEP_CAPACITY, reserve_ahead};
use message::{FrameEnd, InMessage, emit_chunk};

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
        if self.recv.charge.is_active() && !self.recv.charge.set(self.recv.held() + data.len()) {
            self.over_budget(now);
            return;
        }
        if !data.is_empty() {
            let ahead = self.room_ahead(data);
            self.recv.store.room(data.len(), ahead);
            self.recv.store.write(data);
        }
        self.process();
    }

    /// The room to make for `data` when it must go into a new chunk: just
    /// itself, unless it carries only part of a frame: then more of that
    /// frame at once, so the storage neither grows step by step nor moves
    /// the partial payload once per read: the whole frame up to
    /// `RESERVE_AHEAD`, beyond that as much as has arrived (what the peer
    /// announced is not trusted). Bounded by the frame size limit, and
    /// never more than the stream threshold: streamed payloads leave the
    /// storage as they arrive.
    fn room_ahead(&self, data: &[u8]) -> usize {
        let recv = &self.recv;
        let buffered = recv.store.len();
        let have = buffered + data.len();
        let rest = match &recv.frame {
            Some(frame) if frame.stream => return data.len(),
            Some(frame) => (frame.len - frame.taken).saturating_sub(buffered),
            None if buffered == 0 => match FrameHeader::parse(data) {
                Ok(Some((header, len)))
                    if header.payload_len <= self.config.max_frame_size as u64 =>
                {
                    len + header.payload_len as usize
                }
                _ => return data.len(),
            },
            None => return data.len(),
        };
        let limit = self.config.stream_threshold.unwrap_or(usize::MAX);
        if rest > data.len() {
            reserve_ahead(rest, have).min(limit).max(data.len())
        } else {
            data.len()
        }
    }

    /// Parses the `n` bytes the caller read into
    /// [`recv_buffer`](Self::recv_buffer); otherwise as
    /// [`handle_data`](Self::handle_data).
    pub fn handle_received(&mut self, now: Instant, n: usize) {
        if self.recv.stopped || self.recv.eof {
            return;
        }
        self.recv.now = Some(now);
        self.recv.store.wrote(n);
        // The caller has written the bytes already: charge them now.
        if self.recv.charge.is_active() && !self.recv.charge.set(self.recv.held()) {
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
        self.shrink_to(0, 0);
    }

    /// Releases the buffers that hold nothing but grew large in a burst:
    /// over 72 KiB (what frames up to 64 KiB need, which are then received
    /// and sent without an allocation), and queues with room for more than
    /// 64 entries. After a burst the connection is small again. Cheap:
    /// call it whenever input runs dry and nothing is left to write (the
    /// session driver does).
    pub fn trim_buffers(&mut self) {
        self.shrink_to(KEEP_CAPACITY, 64);
    }

    fn shrink_to(&mut self, keep: usize, entries: usize) {
        self.recv.shrink(keep);
        self.send.shrink(keep, entries);
        super::release_queue(&mut self.events, entries);
    }

    /// Parses input until an event is ready or more input is needed.
    pub(super) fn process(&mut self) {
        let Some(now) = self.recv.now else {
            return;
        };
        let raw = self.config.mode == Mode::Raw;
        self.recv.store.freeze();
        while !self.recv.stopped && self.events.is_empty() && self.recv.deferred.is_none() {
            if self.recv.frame.is_none() {
                match FrameHeader::parse(self.recv.store.input()) {
                    Ok(None) => {
                        self.recv.input_ran_out(raw);
                        self.input_exhausted();
                        break;
                    }
                    Ok(Some((header, len))) => {
                        if let Err(err) = self.begin_frame(&header) {
                            self.parse_error(now, err);
                            break;
                        }
                        self.recv.store.advance(len);
                    }
                    Err(err) => {
                        self.parse_error(now, err);
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
                self.parse_error(now, err);
                break;
            }
        }
        if self.recv.stopped && self.recv.eof {
            self.input_exhausted();
        }
        // What was handed over is no longer charged.
        if self.recv.charge.is_active()
            && !self.recv.stopped
            && !self.recv.charge.set(self.recv.held())
        {
            self.over_budget(now);
        }
    }

    fn input_exhausted(&mut self) {
        if self.recv.eof && self.events.is_empty() {
            self.on_eof();
        }
    }

    /// A violation found in the input: fails the connection, or, while
    /// parsing ahead, is kept for the next [`poll_event`](Self::poll_event).
    fn parse_error(&mut self, now: Instant, err: ProtocolError) {
        if self.recv.ahead {
            self.recv.deferred = Some(Box::new(err));
        } else {
            self.protocol_error(now, err);
        }
    }

    /// Applies a violation found while parsing ahead; `true` if there was
    /// one.
    pub(super) fn apply_deferred(&mut self) -> bool {
        match (self.recv.deferred.take(), self.recv.now) {
            (Some(err), Some(now)) => {
                self.protocol_error(now, *err);
                true
            }
            _ => false,
        }
    }

    /// As [`poll_event`](Self::poll_event), for further events of input
    /// already read, taken before the events already taken are answered
    /// (a batch): a protocol violation found now does not fail the
    /// connection yet (this returns `None`); it takes effect at the next
    /// `poll_event`, so that answers sent meanwhile go out before the
    /// Close, as they would if each event had been answered in turn.
    #[must_use]
    pub fn poll_event_ahead(&mut self) -> Option<Event> {
        if self.events.is_empty() {
            self.recv.ahead = true;
            self.process();
            self.recv.ahead = false;
        }
        self.events.pop_front()
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
            len: header.payload_len as usize,
            taken: 0,
            done: 0,
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
        let avail = recv.store.len().min(remaining);
        if avail > frame.done {
            // Unmasked as it arrived (`Store::write`).
            let new = &recv.store.input()[frame.done..avail];
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
                frame.taken += avail;
                frame.done = 0;
                let chunk = recv.store.take(avail);
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
        let payload = recv.store.take(remaining);
        Ok(Some((end, payload)))
    }

    fn finish_frame(
        &mut self,
        now: Instant,
        frame: FrameEnd,
        payload: Bytes,
    ) -> Result<(), ProtocolError> {
        if self.config.mode == Mode::Raw {
            // Every frame is handed on whole: the next one's time starts
            // when it does.
            self.recv.partial_since = None;
            return self.finish_raw_frame(now, frame, payload);
        }
        if frame.opcode.is_control() && self.recv.msg.is_none() {
            // Nothing unfinished is left (a finished data message clears
            // this where it ends).
            self.recv.partial_since = None;
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
}
