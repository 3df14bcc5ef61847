//! The read storage of the receive path and what is parsed out of it so
//! far: full-length, always-initialised chunks that reads land in directly
//! (no zero fill, no copy into a second buffer), unmasked as they arrive,
//! out of which messages are handed on as `Bytes` slices; how a chunk is
//! reused once every slice of it is dropped, how it grows (never trusting
//! an announced length), what a payload handed on may pin of it, when it
//! is released, and the two marks the connection's limits need (the
//! memory budget's charge, the message timeout's start).

use std::cell::RefCell;
use std::time::Instant;

use bytes::{Bytes, BytesMut};

use super::message::InMessage;
use crate::budget::Charge;
use crate::config::Config;
use crate::frame::{FrameHeader, MAX_HEADER_LEN, OpCode, Rsv, apply_mask, copy_masked};

/// Smallest room offered to a read, and the size of a connection's first
/// chunk: a connection that only ever receives small messages holds
/// 8 KiB, not a chunk sized for bursts.
pub(super) const MIN_READ: usize = 8 * 1024;
/// Most capacity reserved ahead of the bytes that have arrived, for a
/// frame whose header announces more: a frame up to 64 KiB (and its
/// header) is reserved whole at its first byte, so it neither regrows
/// nor moves as it arrives (the zero-allocations test); a larger one gets
/// this much, then [`GROWTH`] times as much as has arrived, so a header
/// announcing a megabyte that never comes pins 64 KiB, not a megabyte.
pub(super) const RESERVE_AHEAD: usize = (64 << 10) + MAX_HEADER_LEN;
/// How much more room than has arrived a growing frame gets: the storage
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
/// A chunk is released once it holds no input when it is larger than
/// this: what frames up to 64 KiB and a read after them need, so that
/// those are received without an allocation, and no more. A chunk up to
/// this size is kept and reused.
pub(super) const KEEP_CAPACITY: usize = RESERVE_AHEAD + MIN_READ;
/// A payload is copied out of the chunk instead of sliced out of it when
/// the chunk is over `KEEP_CAPACITY` and more than this many times the
/// payload's size: a message the application keeps then pins its own
/// bytes, not a chunk grown for a large frame or a long read (a chunk is
/// sized to what it must hold, so a 200 KiB message behind a 900 KiB frame
/// shares a chunk of 1.1 MB with it: copied). So a message of `n` bytes
/// pins at most `max(KEEP_CAPACITY, PIN_RATIO * n)` bytes of read storage.
const PIN_RATIO: usize = 2;

/// The frame being received.
#[derive(Debug, Clone, Copy)]
pub(super) struct InFrame {
    pub(super) fin: bool,
    pub(super) rsv: Rsv,
    pub(super) opcode: OpCode,
    pub(super) len: usize,
    /// Payload bytes already handed on (streaming) and no longer in the
    /// buffer.
    pub(super) taken: usize,
    /// Payload bytes at the front of the input already validated.
    pub(super) done: usize,
    /// Hand the payload on as it arrives.
    pub(super) stream: bool,
}

/// Where the unmasking of the input has got to: input is unmasked as it
/// is written into a chunk (masked frames come from clients only), so that
/// the chunk can be frozen and sliced before it is parsed. Packed: it is
/// part of every connection (the footprint test).
#[derive(Debug, Clone, Copy, Default)]
struct Scan {
    /// The payload bytes still to come of the frame being scanned; 0: a
    /// header comes next.
    left: usize,
    /// That frame's mask (zeros, which change nothing, for a frame without
    /// one: the parser refuses it), and how far into its payload the scan
    /// is, modulo 4 (all the mask needs).
    key: [u8; 4],
    phase: u8,
    /// Bytes at the end of the input not scanned yet: the start of a
    /// header (shorter than `MAX_HEADER_LEN`).
    pending: u8,
    /// A header did not parse: nothing after it is unmasked (the parser
    /// fails the connection when it gets there).
    stuck: bool,
    /// Whether input is masked and must be unmasked as it arrives (a
    /// server's).
    masked: bool,
}

const _: () = assert!(std::mem::size_of::<Scan>() <= 16);

impl Scan {
    /// `n` payload bytes of the current frame were unmasked.
    fn passed(&mut self, n: usize) {
        self.left -= n;
        // Only the offset modulo 4 matters: `n % 4` is below 4.
        #[allow(clippy::cast_possible_truncation)]
        let n = (n % 4) as u8;
        self.phase = (self.phase + n) % 4;
    }
}

/// The chunk the input is in: written while `Open` (one owner), sliced
/// while `Frozen`. Frozen whole (all of its length, whatever part holds
/// input), so that once every slice of it is dropped it opens again
/// without an allocation or a zero fill.
#[derive(Debug)]
enum Chunk {
    Open(BytesMut),
    Frozen(Bytes),
}

impl Chunk {
    fn len(&self) -> usize {
        match self {
            Chunk::Open(open) => open.len(),
            Chunk::Frozen(frozen) => frozen.len(),
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Chunk::Open(open) => open,
            Chunk::Frozen(frozen) => frozen,
        }
    }
}

/// How many chunks of [`MIN_READ`] bytes a thread keeps for its
/// connections (at most 128 KiB): chunks that connections gave back when
/// their input ran dry ([`Store::shrink`]), taken again by the next
/// connection that receives something. A connection that waits between
/// messages so holds no receive storage, and one that echoes a message
/// at a time takes the same chunk back without an allocation.
const SPARE_CHUNKS: usize = 16;

thread_local! {
    static SPARE: RefCell<Vec<BytesMut>> = const { RefCell::new(Vec::new()) };
}

/// A new chunk of `size` zeroed bytes, already shared (so freezing it and
/// opening it again never allocates: `bytes` keeps the shared state of a
/// `BytesMut` that was split, and drops that of a `Vec`'s); of
/// [`MIN_READ`] bytes, a spare one of this thread's if it has one (its
/// bytes are initialised, stale: only what is written over them is ever
/// read).
fn new_chunk(size: usize) -> BytesMut {
    if size == MIN_READ
        && let Some(spare) = SPARE.with(|spare| spare.try_borrow_mut().ok()?.pop())
    {
        return spare;
    }
    let mut chunk = BytesMut::zeroed(size);
    drop(chunk.split_off(size));
    chunk
}

/// Gives a chunk of [`MIN_READ`] bytes back to this thread's spares (or
/// frees it when there are enough).
fn give_back(chunk: BytesMut) {
    debug_assert_eq!(chunk.len(), MIN_READ);
    SPARE.with(|spare| {
        if let Ok(mut spare) = spare.try_borrow_mut()
            && spare.len() < SPARE_CHUNKS
        {
            if spare.capacity() == 0 {
                spare.reserve_exact(SPARE_CHUNKS);
            }
            spare.push(chunk);
        }
    });
}

/// Opens a frozen chunk if no slice of it is alive any more.
fn reopen(frozen: Bytes) -> Result<BytesMut, Bytes> {
    frozen.try_into_mut()
}

/// The input: the chunk it is in, and how far it is unmasked.
#[derive(Debug)]
pub(super) struct Store {
    /// `None` until input arrives and after the storage is released.
    chunk: Option<Chunk>,
    /// The input not parsed yet: `chunk[start..end]`.
    start: usize,
    end: usize,
    scan: Scan,
}

impl Store {
    fn new(masked: bool) -> Self {
        Store {
            chunk: None,
            start: 0,
            end: 0,
            scan: Scan {
                masked,
                ..Scan::default()
            },
        }
    }

    /// The input not parsed yet.
    #[inline]
    pub(super) fn input(&self) -> &[u8] {
        match &self.chunk {
            Some(chunk) => &chunk.bytes()[self.start..self.end],
            None => &[],
        }
    }

    /// Bytes of input not parsed yet.
    #[inline]
    pub(super) fn len(&self) -> usize {
        self.end - self.start
    }

    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Drops the first `n` bytes of the input (a parsed header).
    #[inline]
    pub(super) fn advance(&mut self, n: usize) {
        debug_assert!(n <= self.len());
        self.start += n;
    }

    /// The size of the chunk's allocation (0 without one).
    fn alloc(&self) -> usize {
        self.chunk.as_ref().map_or(0, Chunk::len)
    }

    /// The chunk, which `room` opened.
    fn open(&mut self) -> &mut BytesMut {
        match &mut self.chunk {
            Some(Chunk::Open(open)) => open,
            _ => unreachable!("`room` opens the chunk before it is written"),
        }
    }

    /// Makes the chunk writable with room for at least `need` more bytes
    /// after the input, and when that takes a new chunk, for `ahead` (at
    /// least `need`). In the chunk it has if no slice of it is alive (the
    /// input moved to its front at most), else in a new one.
    /// Returns the room.
    pub(super) fn room(&mut self, need: usize, ahead: usize) -> &mut [u8] {
        self.chunk = self.chunk.take().map(|chunk| match chunk {
            Chunk::Frozen(frozen) => match reopen(frozen) {
                Ok(open) => Chunk::Open(open),
                Err(frozen) => Chunk::Frozen(frozen),
            },
            open @ Chunk::Open(_) => open,
        });
        let have = self.len();
        if have == 0 {
            // Nothing to keep: the room starts at the chunk's start again.
            self.start = 0;
            self.end = 0;
            // A chunk grown for a large frame is kept for the next one
            // (input that starts one asks for more than a read's worth):
            // a read's worth gets a small chunk.
            if self.alloc() > KEEP_CAPACITY && ahead.max(need) <= MIN_READ {
                self.chunk = None;
            }
        }
        match &mut self.chunk {
            Some(Chunk::Open(open)) if open.len() - self.end >= need => {}
            Some(Chunk::Open(open)) if open.len() - have >= need => {
                // Room enough once the input is moved to the front.
                open.copy_within(self.start..self.end, 0);
                self.rebase();
            }
            _ => self.replace(have.saturating_add(ahead.max(need))),
        }
        self.room_after()
    }

    /// The room after the input in the open chunk.
    fn room_after(&mut self) -> &mut [u8] {
        let end = self.end;
        &mut self.open()[end..]
    }

    /// Positions after the input moved to the front of a chunk.
    fn rebase(&mut self) {
        self.end -= self.start;
        self.start = 0;
    }

    /// Moves the input into a new chunk of at least `size` bytes (the old
    /// one is freed when the last slice of it is dropped). A chunk
    /// replaced because it filled is followed by one twice its size
    /// (up to `KEEP_CAPACITY`): a busy stream gets large reads, a quiet
    /// connection keeps a small chunk.
    fn replace(&mut self, size: usize) {
        let size = size.max(match &self.chunk {
            None => MIN_READ,
            Some(Chunk::Open(open)) => (2 * open.len()).min(KEEP_CAPACITY),
            // Replaced because the application still holds slices of it.
            Some(Chunk::Frozen(frozen)) => frozen.len().min(KEEP_CAPACITY),
        });
        let mut fresh = new_chunk(size);
        if let Some(old) = &self.chunk {
            let input = &old.bytes()[self.start..self.end];
            fresh[..input.len()].copy_from_slice(input);
        }
        self.rebase();
        self.chunk = Some(Chunk::Open(fresh));
    }

    /// Appends `data` to the input (room for it was made), unmasking it
    /// on the way when input is masked: one pass over the data.
    pub(super) fn write(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let scanning = self.scan.masked && !self.scan.stuck;
            let header = scanning && self.scan.left == 0;
            let n = if !scanning {
                data.len()
            } else if header {
                // Copied as it is, then parsed in place (with whatever
                // follows it in the same few bytes).
                data.len().min(MAX_HEADER_LEN)
            } else {
                self.scan.left.min(data.len())
            };
            let (end, scan) = (self.end, self.scan);
            let out = &mut self.open()[end..end + n];
            if scanning && !header {
                copy_masked(out, &data[..n], scan.key, scan.phase.into());
                self.scan.passed(n);
            } else {
                out.copy_from_slice(&data[..n]);
            }
            self.end += n;
            data = &data[n..];
            if header {
                self.unmask_in_place(end - usize::from(scan.pending));
            }
        }
    }

    /// `n` bytes were read into the room [`room`](Self::room) returned:
    /// they are input now, unmasked in place.
    pub(super) fn wrote(&mut self, n: usize) {
        let Some(Chunk::Open(open)) = &self.chunk else {
            return;
        };
        let from = self.end - usize::from(self.scan.pending);
        self.end = (self.end + n).min(open.len());
        if self.scan.masked {
            self.unmask_in_place(from);
        }
    }

    /// Unmasks the input from `at` (written but not scanned yet) in place,
    /// following the frame headers in it.
    fn unmask_in_place(&mut self, mut at: usize) {
        let Some(Chunk::Open(open)) = &mut self.chunk else {
            return;
        };
        let scan = &mut self.scan;
        scan.pending = 0;
        while at < self.end {
            if scan.left == 0 {
                if scan.stuck {
                    return;
                }
                match FrameHeader::parse(&open[at..self.end]) {
                    Ok(Some((header, len))) => {
                        at += len;
                        scan.key = header.mask.unwrap_or_default();
                        scan.phase = 0;
                        scan.left = usize::try_from(header.payload_len).unwrap_or(usize::MAX);
                    }
                    Ok(None) => {
                        // Shorter than a header.
                        #[allow(clippy::cast_possible_truncation)]
                        let pending = (self.end - at) as u8;
                        scan.pending = pending;
                        return;
                    }
                    Err(_) => scan.stuck = true,
                }
                continue;
            }
            let n = scan.left.min(self.end - at);
            apply_mask(&mut open[at..at + n], scan.key, scan.phase.into());
            at += n;
            scan.passed(n);
        }
    }

    /// Freezes the chunk for parsing (slicing out of it).
    #[inline]
    pub(super) fn freeze(&mut self) {
        if let Some(Chunk::Open(_)) = &self.chunk
            && let Some(Chunk::Open(open)) = self.chunk.take()
        {
            self.chunk = Some(Chunk::Frozen(open.freeze()));
        }
    }

    /// Releases the chunk (the input must be empty, or is dropped, with
    /// the start of a header the scan was waiting on).
    pub(super) fn release(&mut self) {
        self.chunk = None;
        self.start = 0;
        self.end = 0;
        self.scan.pending = 0;
    }

    /// The first `n` bytes of the input, handed on: sliced out of the
    /// chunk without a copy, unless the chunk is large and `n` is small
    /// beside it (see [`PIN_RATIO`]): then copied, so that what the
    /// application keeps pins only itself.
    // Measured (callgrind, 16 B messages): left out of line by `#[inline]`,
    // the call cost 28 instructions a message.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub(super) fn take(&mut self, n: usize) -> Bytes {
        let from = self.start;
        self.start += n;
        match &self.chunk {
            Some(Chunk::Frozen(frozen)) => {
                if frozen.len() > KEEP_CAPACITY && n.saturating_mul(PIN_RATIO) < frozen.len() {
                    return Bytes::copy_from_slice(&frozen[from..from + n]);
                }
                frozen.slice(from..from + n)
            }
            // Parsing freezes the chunk first.
            Some(Chunk::Open(open)) => Bytes::copy_from_slice(&open[from..from + n]),
            None => Bytes::new(),
        }
    }

    /// The size of the storage's allocation.
    pub(super) fn capacity(&self) -> usize {
        self.alloc()
    }

    /// Releases the chunks that hold no input and more than `keep` bytes
    /// (all of them for 0).
    /// Releases the chunk if it holds no input and is larger than `keep`;
    /// a chunk of [`MIN_READ`] bytes that no message shares any more goes
    /// back to the thread's spares whatever `keep` is, so that a
    /// connection between messages holds no receive storage.
    fn shrink(&mut self, keep: usize) {
        if !self.is_empty() {
            return;
        }
        if self.alloc() == MIN_READ {
            let open = match self.chunk.take() {
                Some(Chunk::Frozen(frozen)) => reopen(frozen).map_err(Chunk::Frozen),
                Some(Chunk::Open(open)) => Ok(open),
                None => return,
            };
            match open {
                Ok(open) => {
                    give_back(open);
                    self.release();
                    return;
                }
                // A message the application holds still shares it.
                Err(shared) => self.chunk = Some(shared),
            }
        }
        if self.alloc() > keep {
            self.release();
        }
    }

    #[cfg(fuzzing)]
    fn check_invariants(&self) {
        assert!(self.start <= self.end && self.end <= self.alloc());
        assert!(usize::from(self.scan.pending) <= self.len());
    }
}

#[derive(Debug)]
pub(in crate::connection) struct Receiver {
    pub(super) store: Store,
    pub(super) frame: Option<InFrame>,
    pub(super) msg: Option<InMessage>,
    pub(super) stopped: bool,
    /// The transport reached EOF: once the input is exhausted, the
    /// connection ends.
    pub(super) eof: bool,
    /// The time of the latest input, used while parsing it lazily.
    pub(super) now: Option<Instant>,
    /// Parsing ahead (`Connection::poll_event_ahead`): a protocol
    /// violation is kept in `deferred` instead of failing the connection.
    pub(super) ahead: bool,
    /// A violation found while parsing ahead, applied by the next
    /// `poll_event` (nothing is parsed meanwhile). Boxed: it is rare and
    /// the connection's size counts.
    pub(super) deferred: Option<Box<crate::error::ProtocolError>>,
    /// Since when the input has held an unfinished message or frame
    /// (the message timeout runs from here).
    pub(super) partial_since: Option<Instant>,
    /// What the buffered input is charged against the memory budget.
    pub(super) charge: Charge,
}

impl Receiver {
    /// `masked`: the peer masks its frames (it is a client).
    pub(in crate::connection) fn new(config: &Config, masked: bool) -> Self {
        Receiver {
            store: Store::new(masked),
            frame: None,
            msg: None,
            stopped: false,
            eof: false,
            now: None,
            ahead: false,
            deferred: None,
            partial_since: None,
            charge: Charge::new(config.memory_budget.clone()),
        }
    }

    /// Payload bytes of the peer's held here: the input and the message
    /// being reassembled or inflated.
    pub(super) fn held(&self) -> usize {
        self.store.len() + self.msg.as_ref().map_or(0, |msg| msg.data.len())
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
        let partial =
            !self.store.is_empty() || self.frame.is_some() || (!raw && self.msg.is_some());
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
        self.store.release();
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
        self.store.check_invariants();
        match &self.frame {
            _ if self.stopped => assert!(self.frame.is_none() && self.msg.is_none()),
            // Input is parsed as events are taken, so whole frames may wait
            // here until the application polls; the driver bounds that.
            None => {}
            // More than the rest of the frame may be here when input arrived
            // while events were waiting to be taken.
            Some(f) => assert!(f.done <= self.store.len() && f.done <= f.len - f.taken),
        }
    }

    pub(in crate::connection) fn buffered(&self) -> usize {
        self.store.len()
    }

    /// The size of the read storage's allocations.
    pub(in crate::connection) fn capacity(&self) -> usize {
        self.store.capacity()
    }

    /// The room a read gets: the rest of the frame plus a read's worth
    /// after it (asking for at least `MIN_READ` alone near the end of a
    /// frame that fills the chunk made it double, and copy the frame,
    /// once per large frame).
    pub(in crate::connection) fn room_for_read(&mut self) -> (usize, &mut [u8]) {
        let have = self.store.len();
        let want = match &self.frame {
            // A streamed payload leaves the storage as it arrives: one read
            // at a time keeps the memory bound streaming promises.
            Some(frame) if frame.stream => MIN_READ,
            Some(frame) => reserve_ahead(
                (frame.len - frame.taken)
                    .saturating_sub(have)
                    .saturating_add(MIN_READ),
                have,
            ),
            None => MIN_READ,
        };
        self.store.room(want.min(MIN_READ), want);
        (self.store.capacity(), self.store.room_after())
    }

    /// Releases the storage that holds nothing and more than `keep` bytes
    /// (all of it for 0).
    pub(in crate::connection) fn shrink(&mut self, keep: usize) {
        self.store.shrink(keep);
        if let Some(msg) = &mut self.msg
            && msg.data.is_empty()
            && msg.data.capacity() > keep
        {
            msg.data = BytesMut::new();
        }
    }
}

#[cfg(test)]
mod tests;
