//! The receiving path: compressed frames in, bounded inflated bytes out
//! (RFC 7692 §7.2.2).

use bytes::BytesMut;
use flate2::{Decompress, FlushDecompress, Status};

use crate::error::ExtensionError;

use super::TAIL;

/// First inflate step for a frame, as a multiple of its compressed size;
/// each further step doubles, up to [`MAX_STEP`]. Text often inflates 4 to
/// 5 times, and zlib decodes the last 258 bytes of every output buffer on
/// its slow path, so 8 lets one call take most messages (1 KiB of the
/// bench's text: 17 % fewer instructions in inflate than with 4).
const STEP_FACTOR: usize = 8;
/// Smallest inflate step.
const MIN_STEP: usize = 256;
/// Largest inflate step: bounds how far `out` grows ahead of the data.
const MAX_STEP: usize = 256 * 1024;
/// The LZ77 window a new stream inherits after a `BFINAL` block.
const WINDOW: usize = 1 << 15;

/// Inflates the messages of one direction of a connection.
///
/// It always inflates with a 32 KiB window, which decodes data compressed
/// with any smaller one. The zlib state is created on the first compressed
/// frame.
#[derive(Debug)]
pub(crate) struct Decompressor {
    inner: Option<Decompress>,
    /// The peer resets its compressor after every message, so we may too.
    no_context_takeover: bool,
}

impl Decompressor {
    pub(crate) fn new(no_context_takeover: bool) -> Self {
        Decompressor {
            inner: None,
            no_context_takeover,
        }
    }

    /// Inflates one frame's payload onto `out`; on `fin`, appends the
    /// `00 00 ff ff` tail first and ends the message.
    pub(crate) fn decode(
        &mut self,
        payload: &[u8],
        fin: bool,
        out: &mut BytesMut,
        max_len: usize,
    ) -> Result<(), ExtensionError> {
        let inflate = self.inner.get_or_insert_with(|| Decompress::new(false));
        let mut result = inflate_bounded(inflate, payload, out, max_len);
        if fin && result.is_ok() {
            result = inflate_bounded(inflate, &TAIL, out, max_len);
        }
        if result.is_err() || (fin && self.no_context_takeover) {
            // After an error the connection fails; leave a clean state anyway.
            inflate.reset(false);
        }
        result
    }
}

/// Makes room in `out` for `additional` more bytes, growing it by half
/// its size at least (not doubling it, as `BytesMut` would): a message
/// inflated to `n` bytes holds at most about `1.5 n` plus a step, which
/// is what a peer's compressed upload can make us allocate.
fn grow(out: &mut BytesMut, additional: usize) {
    if out.try_reclaim(additional) {
        return;
    }
    let len = out.len();
    let mut grown = BytesMut::with_capacity(len + additional.max(len / 2));
    grown.extend_from_slice(out);
    *out = grown;
}

/// Inflates all of `input` onto `out` without letting `out.len()` exceed
/// `max_len`: each step resizes `out` by at most the room left, and once
/// there is no room, a one-byte probe tells whether more output follows.
fn inflate_bounded(
    inflate: &mut Decompress,
    mut input: &[u8],
    out: &mut BytesMut,
    max_len: usize,
) -> Result<(), ExtensionError> {
    let mut step = (input.len() * STEP_FACTOR).clamp(MIN_STEP, MAX_STEP);
    // Output since the call started or the last `BFINAL` block: the
    // dictionary of the next stream. Never reaching further back keeps the
    // copying linear in the output, whatever the number of final blocks.
    let mut history_start = out.len();
    loop {
        let start = out.len();
        let room = max_len.saturating_sub(start);
        let mut probe = [0u8; 1];
        let (in_before, out_before) = (inflate.total_in(), inflate.total_out());
        let status = if room == 0 {
            inflate.decompress(input, &mut probe, FlushDecompress::None)
        } else {
            grow(out, step.min(room));
            out.resize(start + step.min(room), 0);
            let status = inflate.decompress(input, &mut out[start..], FlushDecompress::None);
            out.truncate(start + (inflate.total_out() - out_before) as usize);
            status
        };
        let consumed = (inflate.total_in() - in_before) as usize;
        let produced = (inflate.total_out() - out_before) as usize;
        input = &input[consumed..];
        let status = status.map_err(|_| ExtensionError::InvalidData("corrupt deflate data"))?;
        if room == 0 && produced > 0 {
            return Err(ExtensionError::TooLarge { limit: max_len });
        }
        if status == Status::StreamEnd {
            // A block with BFINAL set ends the DEFLATE stream, but RFC 7692
            // §7.2.3.4 lets a sender flush that way and keep going: start a
            // new stream that still sees the window so far. What follows in
            // this message (e.g. the tail we append) is decoded as part of it.
            // Back-references into output older than `history_start` fail
            // as corrupt data rather than decode wrongly.
            let history = &out[history_start.max(out.len().saturating_sub(WINDOW))..];
            history_start = out.len();
            inflate.reset(false);
            if !history.is_empty() {
                inflate
                    .set_dictionary(history)
                    .map_err(|_| ExtensionError::InvalidData("corrupt deflate data"))?;
            }
            if input.is_empty() {
                return Ok(());
            }
            continue;
        }
        // Done when all input is in and the output space was not filled:
        // zlib then holds no pending output.
        let filled = room > 0 && produced == step.min(room);
        if input.is_empty() && !filled {
            return Ok(());
        }
        if consumed == 0 && produced == 0 {
            // No progress with input left: cannot happen with valid data.
            return Err(ExtensionError::InvalidData("corrupt deflate data"));
        }
        step = (step * 2).min(MAX_STEP);
    }
}
