//! Incremental buffering of an HTTP/1 head, bounded by the handshake
//! limits; shared by the client (response) and the server (request).

use bytes::Bytes;

use crate::config::HandshakeLimits;

/// How much of the start of a head is parsed on every read (bounded, so
/// that byte-at-a-time input stays cheap). `httparse` answers `Partial` for
/// any valid prefix, so only bytes that cannot start an HTTP head fail.
pub(crate) const EARLY_CHECK_BYTES: usize = 512;

/// Bytes of an HTTP head as they arrive, with the limits that bound them.
///
/// Parsing is attempted only when a blank line (`\n\n` or `\n\r\n`, the
/// end of a head as `httparse` sees it) has arrived or the buffer has reached
/// `max_head_bytes`, so feeding one byte at a time costs one parse per blank
/// line rather than one per byte. The exception is the first
/// [`EARLY_CHECK_BYTES`]: they are parsed as they arrive, so that something
/// that is not HTTP at all (a TLS `ClientHello` on a plain port, an SSH
/// banner) fails at once instead of when the handshake times out.
#[derive(Debug)]
pub(crate) struct HeadBuffer {
    buf: Vec<u8>,
    /// How far the blank-line scan has looked.
    scanned: usize,
    limits: HandshakeLimits,
}

/// What [`HeadBuffer`] found.
pub(crate) enum HeadOutcome<T> {
    /// More bytes are needed.
    Partial,
    /// A complete head of `len` bytes, parsed into `T`.
    Complete(T, usize),
}

/// Why a head could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeadFault {
    /// The head is longer than `max_head_bytes`.
    TooLarge,
    /// More than `max_headers` header fields.
    TooManyHeaders,
    /// Not HTTP/1.x syntax.
    Malformed(httparse::Error),
}

impl HeadBuffer {
    pub(crate) fn new(limits: HandshakeLimits) -> Self {
        HeadBuffer {
            buf: Vec::new(),
            scanned: 0,
            limits,
        }
    }

    /// The limits in force.
    pub(crate) fn limits(&self) -> HandshakeLimits {
        self.limits
    }

    /// Appends bytes without looking for a head (a body being collected).
    pub(crate) fn extend(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Drops everything after the first `len` bytes.
    pub(crate) fn truncate(&mut self, len: usize) {
        self.buf.truncate(len);
    }

    /// Bytes buffered so far.
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    /// Appends `data` and, when a head may be complete, runs `parse` over at
    /// most `max_head_bytes` of the buffer with header storage for
    /// `max_headers` fields. `parse` returns `httparse`'s result together
    /// with the owned value it built.
    pub(crate) fn push<T>(
        &mut self,
        data: &[u8],
        parse: impl for<'b> FnOnce(
            &'b [u8],
            &mut [httparse::Header<'b>],
        ) -> Result<Option<(T, usize)>, httparse::Error>,
    ) -> Result<HeadOutcome<T>, HeadFault> {
        self.buf.extend_from_slice(data);
        let limit = self.limits.max_head_bytes;
        let start = self.scanned.saturating_sub(2);
        let blank_line = self.buf[start..].windows(2).enumerate().any(|(i, w)| {
            w == b"\n\n" || (w == b"\n\r" && self.buf.get(start + i + 2) == Some(&b'\n'))
        });
        self.scanned = self.buf.len();
        let at_limit = self.buf.len() >= limit;
        if !blank_line && !at_limit && self.buf.len() > EARLY_CHECK_BYTES {
            return Ok(HeadOutcome::Partial);
        }
        let window = &self.buf[..self.buf.len().min(limit)];
        let mut storage = vec![httparse::EMPTY_HEADER; self.limits.max_headers];
        match parse(window, &mut storage) {
            Ok(Some((value, len))) => Ok(HeadOutcome::Complete(value, len)),
            Ok(None) if at_limit => Err(HeadFault::TooLarge),
            Ok(None) => Ok(HeadOutcome::Partial),
            Err(httparse::Error::TooManyHeaders) => Err(HeadFault::TooManyHeaders),
            Err(e) => Err(HeadFault::Malformed(e)),
        }
    }

    /// The bytes after the first `head_len` bytes, without copying.
    pub(crate) fn take_after(&mut self, head_len: usize) -> Bytes {
        let mut all = Bytes::from(std::mem::take(&mut self.buf));
        all.split_off(head_len.min(all.len()))
    }
}
