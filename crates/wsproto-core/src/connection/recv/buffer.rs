//! The read buffer of the receive path and what is parsed out of it so
//! far: how it grows (never trusting an announced length), what a payload
//! handed on may pin of it, when it is released, and the two marks the
//! connection's limits need (the memory budget's charge, the message
//! timeout's start).

use std::time::Instant;

use bytes::{Buf, Bytes, BytesMut};

use super::message::InMessage;
use crate::budget::Charge;
use crate::config::Config;
use crate::frame::{MAX_HEADER_LEN, OpCode, Rsv};

/// Smallest spare capacity offered to a read.
pub(super) const MIN_READ: usize = 8 * 1024;
/// Most capacity reserved ahead of the bytes that have arrived, for a
/// frame whose header announces more: a frame up to 64 KiB (and its
/// header) is reserved whole at its first byte, so it neither regrows
/// nor moves as it arrives (the zero-allocations test); a larger one gets
/// this much, then [`GROWTH`] times as much as has arrived, so a header
/// announcing a megabyte that never comes pins 64 KiB, not a megabyte.
pub(super) const RESERVE_AHEAD: usize = (64 << 10) + MAX_HEADER_LEN;
/// How much more room than has arrived a growing frame gets: the buffer
/// holds at most `GROWTH + 1` times what the peer has sent (and
/// `RESERVE_AHEAD`). 3 takes a 1 MiB frame in 16 KiB reads through 3
/// allocations (64 KiB, 256 KiB, 1 MiB) instead of 5 when doubling:
/// every new large allocation is fresh pages to fault in.
const GROWTH: usize = 3;

/// Room to reserve for the `rest` bytes still to come of a frame of which
/// `have` are buffered: all of them up to [`RESERVE_AHEAD`], else
/// [`GROWTH`] times as many as have arrived.
pub(super) fn reserve_ahead(rest: usize, have: usize) -> usize {
    rest.min(RESERVE_AHEAD.max(GROWTH.saturating_mul(have)))
}
/// An empty read buffer is released when it holds more capacity than this,
/// or when a frame larger than this was sliced out of it (the buffer still
/// shares that allocation and would grow back into it): what a buffer
/// sized for frames up to 64 KiB and a read after them needs, so that
/// those are received without an allocation, and no more.
pub(super) const KEEP_CAPACITY: usize = RESERVE_AHEAD + MIN_READ;
/// A payload is copied out of the read buffer instead of sliced out of it
/// when the buffer's allocation is over `KEEP_CAPACITY` and more than this
/// many times the payload's size: a small message the application keeps
/// then pins its own bytes, not a buffer grown for a large frame or a long
/// read. So a message of `n` bytes pins at most
/// `max(KEEP_CAPACITY, PIN_RATIO * n)` bytes of read buffer.
const PIN_RATIO: usize = 8;

/// The frame being received.
#[derive(Debug, Clone, Copy)]
pub(super) struct InFrame {
    pub(super) fin: bool,
    pub(super) rsv: Rsv,
    pub(super) opcode: OpCode,
    pub(super) mask: Option<[u8; 4]>,
    pub(super) len: usize,
    /// Payload bytes already handed on (streaming) and no longer in the
    /// buffer.
    pub(super) taken: usize,
    /// Payload bytes at the front of the buffer already unmasked and
    /// validated.
    pub(super) done: usize,
    /// Payload bytes at the front of the buffer already unmasked (at least
    /// `done`): `handle_data` unmasks while it copies when it can.
    pub(super) unmasked: usize,
    /// Hand the payload on as it arrives.
    pub(super) stream: bool,
}

#[derive(Debug)]
pub(in crate::connection) struct Receiver {
    pub(super) buf: BytesMut,
    pub(super) frame: Option<InFrame>,
    pub(super) msg: Option<InMessage>,
    pub(super) stopped: bool,
    /// The transport reached EOF: once the buffer is exhausted, the
    /// connection ends.
    pub(super) eof: bool,
    /// The time of the latest input, used while parsing it lazily.
    pub(super) now: Option<Instant>,
    /// Since when the input has held an unfinished message or frame
    /// (the message timeout runs from here).
    pub(super) partial_since: Option<Instant>,
    /// What the buffered input is charged against the memory budget.
    pub(super) charge: Charge,
    /// The largest capacity `buf` has shown since it was last replaced: at
    /// least what a payload sliced out of it would keep allocated (a
    /// frame sliced out whole counts: its bytes were in that capacity).
    pub(super) alloc: usize,
}

impl Receiver {
    pub(in crate::connection) fn new(config: &Config) -> Self {
        Receiver {
            buf: BytesMut::new(),
            frame: None,
            msg: None,
            stopped: false,
            eof: false,
            now: None,
            partial_since: None,
            charge: Charge::new(config.memory_budget.clone()),
            alloc: 0,
        }
    }

    /// Makes room for at least `need` more bytes, and when that takes
    /// growing, for `ahead` (at least `need`): in the allocation the
    /// buffer has if it can (its bytes moved to its front at most), else
    /// in a new one of exactly that size. (`BytesMut::reserve` would at
    /// least double the old size, and on top of growth that already
    /// doubles with what has arrived, quadruple it.)
    pub(super) fn reserve(&mut self, need: usize, ahead: usize) {
        if self.buf.capacity() - self.buf.len() >= need {
            return;
        }
        let ahead = ahead.max(need);
        if !self.buf.try_reclaim(ahead) {
            let mut grown = BytesMut::with_capacity(self.buf.len() + ahead);
            grown.extend_from_slice(&self.buf);
            self.buf = grown;
        }
        self.note_alloc();
    }

    /// Records the buffer's capacity after it may have grown.
    pub(super) fn note_alloc(&mut self) {
        self.alloc = self.alloc.max(self.buf.capacity());
    }

    /// Replaces the buffer with an empty one, releasing its memory.
    pub(super) fn release(&mut self) {
        self.buf = BytesMut::new();
        self.alloc = 0;
    }

    /// The first `n` bytes of the buffer, handed on: sliced out of it
    /// without a copy, unless the buffer's allocation is large and `n` is
    /// small beside it (see [`PIN_RATIO`]): then copied, so that what the
    /// application keeps pins only itself.
    // Measured (callgrind, 16 B messages): left out of line by `#[inline]`,
    // the call cost 28 instructions a message.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub(super) fn take(&mut self, n: usize) -> Bytes {
        if self.alloc.max(self.buf.capacity()) > KEEP_CAPACITY {
            return self.take_from_large(n);
        }
        self.buf.split_to(n).freeze()
    }

    /// [`take`](Self::take) from a buffer whose allocation grew large.
    #[cold]
    fn take_from_large(&mut self, n: usize) -> Bytes {
        let alloc = self.alloc.max(self.buf.capacity());
        if n.saturating_mul(PIN_RATIO) < alloc {
            let copy = Bytes::copy_from_slice(&self.buf[..n]);
            self.buf.advance(n);
            return copy;
        }
        self.buf.split_to(n).freeze()
    }

    /// Payload bytes of the peer's held here: the read buffer and the
    /// message being reassembled or inflated.
    pub(super) fn held(&self) -> usize {
        self.buf.len() + self.msg.as_ref().map_or(0, |msg| msg.data.len())
    }

    /// When the message timeout expires, if a message or frame is
    /// unfinished.
    pub(in crate::connection) fn message_deadline(&self, config: &Config) -> Option<Instant> {
        self.partial_since?.checked_add(config.message_timeout?)
    }

    /// Input ran out: starts the message timeout if what is buffered is
    /// unfinished (in raw mode a message's fragments are handed on one by
    /// one, so only a frame counts), stops it if nothing is.
    pub(super) fn input_ran_out(&mut self, raw: bool) {
        let partial = !self.buf.is_empty() || self.frame.is_some() || (!raw && self.msg.is_some());
        if !partial {
            self.partial_since = None;
        } else if self.partial_since.is_none() {
            self.partial_since = self.now;
        }
    }

    /// No more input is read: after the peer's Close, or after the
    /// connection failed or ended.
    pub(in crate::connection) fn stop(&mut self) {
        self.stopped = true;
        self.release();
        self.frame = None;
        self.msg = None;
        self.partial_since = None;
        self.charge.set(0);
    }

    pub(in crate::connection) fn is_stopped(&self) -> bool {
        self.stopped
    }

    pub(in crate::connection) fn set_eof(&mut self, now: Instant) {
        self.eof = true;
        self.now = Some(now);
    }

    #[cfg(fuzzing)]
    pub(in crate::connection) fn check_invariants(&self) {
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

    pub(in crate::connection) fn buffered(&self) -> usize {
        self.buf.len()
    }

    pub(in crate::connection) fn buffer_for_read(&mut self) -> &mut BytesMut {
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
        self.reserve(want.min(MIN_READ), want);
        &mut self.buf
    }

    /// Releases an empty buffer whose allocation grew past
    /// `KEEP_CAPACITY` (for a large frame: the buffer may still share that
    /// allocation with the message sliced out of it, and would grow back
    /// into it).
    #[inline]
    pub(super) fn release_if_idle(&mut self) {
        if self.buf.is_empty() && self.alloc.max(self.buf.capacity()) > KEEP_CAPACITY {
            self.release();
        }
    }

    /// Releases the buffers that hold nothing and more than `keep` bytes
    /// of capacity (all of them for 0).
    pub(in crate::connection) fn shrink(&mut self, keep: usize) {
        if self.buf.is_empty() && self.alloc.max(self.buf.capacity()) > keep {
            self.release();
        }
        if let Some(msg) = &mut self.msg
            && msg.data.is_empty()
            && msg.data.capacity() > keep
        {
            msg.data = BytesMut::new();
        }
    }
}
