//! The sending path: one message in, its RFC 7692 §7.2.1 payload out.

use bytes::BytesMut;
use zlib_rs::{Deflate, DeflateFlush, Method, Strategy};

use crate::error::ExtensionError;

use super::TAIL;
use super::fresh;

/// Compresses whole messages for one direction of a connection.
///
/// The zlib state (see [`DeflateConfig::with_mem_level`](super::DeflateConfig::with_mem_level)
/// for its size) is created on the first compressed message, so idle
/// connections do not pay for it.
pub(crate) struct Compressor {
    inner: Option<Deflate>,
    level: u32,
    window_bits: u8,
    mem_level: u8,
    no_context_takeover: bool,
    threshold: Option<usize>,
}

impl Compressor {
    /// `window_bits` is the negotiated maximum for our direction (`8..=15`).
    /// `level` (`0..=9`) and `mem_level` (`1..=9`) were validated by
    /// [`DeflateConfig`](super::DeflateConfig).
    pub(crate) fn new(
        level: u32,
        window_bits: u8,
        mem_level: u8,
        no_context_takeover: bool,
        threshold: Option<usize>,
    ) -> Self {
        Compressor {
            inner: None,
            level,
            window_bits,
            mem_level,
            no_context_takeover,
            threshold,
        }
    }

    /// The window handed to zlib. zlib (and zlib-rs) refuse 8 for raw
    /// deflate and never emit a distance beyond `2^bits - 262` (its
    /// `MAX_DIST`), so a 9-bit window yields distances of at most 250 bytes:
    /// within the 256-byte window a peer that negotiated 8 keeps
    /// (RFC 7692 §7.1.2.1). For 9..=15 the same margin applies.
    fn zlib_window_bits(&self) -> u8 {
        self.window_bits.max(9)
    }

    /// The key under which this compressor's output may be shared with
    /// other connections: everything the output depends on, when it keeps
    /// no context between messages (RFC 7692 §7.1.1); `None` otherwise.
    pub(crate) fn shared_key(&self) -> Option<crate::EncodingKey> {
        if !self.no_context_takeover {
            return None;
        }
        // Threshold (0: none, else t + 1) above level, memLevel and window.
        let threshold = self.threshold.map_or(0, |t| t as u128 + 1);
        let params = (threshold << 32)
            | u128::from(self.level) << 16
            | u128::from(self.mem_level) << 8
            | u128::from(self.window_bits);
        Some(crate::EncodingKey {
            extension: super::EXTENSION_NAME,
            params,
        })
    }

    /// Appends the compressed form of `payload` to `out`, or returns
    /// `Ok(false)` without touching `out` when `payload` is not bigger than
    /// the threshold.
    pub(crate) fn encode(
        &mut self,
        payload: &[u8],
        out: &mut BytesMut,
    ) -> Result<bool, ExtensionError> {
        if self.threshold.is_some_and(|t| payload.len() <= t) {
            return Ok(false);
        }
        if payload.is_empty() {
            // §7.2.3.6: an empty stored block's header, whatever the state.
            // zlib emits nothing for an empty flush after a flush, and the
            // block leaves both windows unchanged.
            out.extend_from_slice(&[0x00]);
            return Ok(true);
        }
        if self.no_context_takeover && self.level == 1 && payload.len() <= fresh::MAX_INPUT {
            // zlib would clear its 128 KiB hash table for this message;
            // the one-shot encoder matches like zlib's level 1 without it.
            let max_distance = (1 << self.zlib_window_bits()) - 262;
            fresh::encode(payload, max_distance, out);
            return Ok(true);
        }
        let config = zlib_rs::DeflateConfig {
            level: i32::try_from(self.level).unwrap_or(9),
            method: Method::Deflated,
            // Negative: raw deflate, no zlib header or trailer.
            window_bits: -i32::from(self.zlib_window_bits()),
            mem_level: i32::from(self.mem_level),
            strategy: Strategy::Default,
        };
        let compress = self
            .inner
            .get_or_insert_with(|| Deflate::new_with_config(config));
        let start = out.len();
        let result = deflate_sync(compress, payload, out, start);
        if result.is_err() || self.no_context_takeover {
            // After a failure nothing was sent, so the peer's window does not
            // hold this message: forget it too. Starting over is always valid.
            compress.reset();
        }
        if result.is_err() {
            out.truncate(start);
        }
        result.map(|()| true)
    }
}

impl std::fmt::Debug for Compressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compressor")
            .field("allocated", &self.inner.is_some())
            .field("level", &self.level)
            .field("window_bits", &self.window_bits)
            .field("mem_level", &self.mem_level)
            .field("no_context_takeover", &self.no_context_takeover)
            .field("threshold", &self.threshold)
            .finish_non_exhaustive()
    }
}

/// Compresses `payload` with a sync flush into `out[start..]` and removes
/// the `00 00 ff ff` tail (RFC 7692 §7.2.1).
fn deflate_sync(
    compress: &mut Deflate,
    payload: &[u8],
    out: &mut BytesMut,
    start: usize,
) -> Result<(), ExtensionError> {
    // Enough for incompressible input (stored blocks cost 5 bytes per 64 KiB
    // at worst) plus the flush; grown below if the estimate falls short.
    let estimate = payload.len() + (payload.len() >> 10) + 64;
    out.resize(start + estimate, 0);
    let mut written = start;
    let mut input = payload;
    loop {
        let (in_before, out_before) = (compress.total_in(), compress.total_out());
        let status = compress.compress(input, &mut out[written..], DeflateFlush::SyncFlush);
        let consumed = (compress.total_in() - in_before) as usize;
        written += (compress.total_out() - out_before) as usize;
        input = &input[consumed..];
        if status.is_err() {
            return Err(ExtensionError::Encode("deflate failed"));
        }
        // zlib's contract for a flush: done once it returns with output space
        // left; with the buffer full, more may be pending.
        if input.is_empty() && written < out.len() {
            break;
        }
        let grow = (input.len() + 64).max(out.len() / 4);
        out.resize(out.len() + grow, 0);
    }
    out.truncate(written);
    if !out[start..].ends_with(&TAIL) {
        return Err(ExtensionError::Encode(
            "deflate sync flush without its empty block",
        ));
    }
    out.truncate(written - TAIL.len());
    Ok(())
}
