//! The transmit buffer: encoded frames waiting to be written, in order, as
//! bytes copied into one buffer with large payloads (unmasked, or masked
//! in place) referenced between them instead of copied (they leave in a
//! vectored write).

use std::collections::VecDeque;

use bytes::{Buf, Bytes};

/// A payload referenced by the transmit buffer: it is written after the
/// copied bytes before `at`, and before those from `at` on.
#[derive(Debug)]
struct Body {
    at: usize,
    data: Bytes,
}

/// Bytes to write: `out[pos..]` with the `bodies` spliced in at their
/// offsets. Every body's `at` lies in `pos..=out.len()`, in order.
#[derive(Debug, Default)]
pub(super) struct Transmit {
    out: Vec<u8>,
    pos: usize,
    bodies: VecDeque<Body>,
    /// Bytes of `bodies` not yet written.
    body_bytes: usize,
}

impl Transmit {
    /// Copied bytes not yet written.
    pub(super) fn copied(&self) -> usize {
        self.out.len() - self.pos
    }

    /// All bytes not yet written, copied or referenced.
    pub(super) fn pending(&self) -> usize {
        self.copied() + self.body_bytes
    }

    pub(super) fn is_empty(&self) -> bool {
        self.pos == self.out.len() && self.bodies.is_empty()
    }

    /// Payloads referenced and not yet written.
    pub(super) fn bodies(&self) -> usize {
        self.bodies.len()
    }

    /// The buffer that copied bytes are appended to (after everything
    /// pending, bodies included).
    pub(super) fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.out
    }

    /// Appends `data` without copying it.
    pub(super) fn push_body(&mut self, data: Bytes) {
        if data.is_empty() {
            return;
        }
        self.body_bytes += data.len();
        self.bodies.push_back(Body {
            at: self.out.len(),
            data,
        });
    }

    /// Everything pending as one slice: referenced payloads are copied in
    /// first (for callers that cannot write vectored).
    pub(super) fn contiguous(&mut self) -> &[u8] {
        if !self.bodies.is_empty() {
            let mut flat = Vec::with_capacity(self.pending());
            let mut from = self.pos;
            for body in self.bodies.drain(..) {
                flat.extend_from_slice(&self.out[from..body.at]);
                flat.extend_from_slice(&body.data);
                from = body.at;
            }
            flat.extend_from_slice(&self.out[from..]);
            self.out = flat;
            self.pos = 0;
            self.body_bytes = 0;
        }
        &self.out[self.pos..]
    }

    /// Fills `bufs` with the pending bytes in order, as many non-empty
    /// slices as fit; returns how many were filled.
    pub(super) fn slices<'a>(&'a self, bufs: &mut [&'a [u8]]) -> usize {
        let mut n = 0;
        let mut from = self.pos;
        let mut put = |slice: &'a [u8], n: &mut usize| {
            if !slice.is_empty() && *n < bufs.len() {
                bufs[*n] = slice;
                *n += 1;
            }
        };
        for body in &self.bodies {
            put(&self.out[from..body.at], &mut n);
            put(&body.data, &mut n);
            from = body.at;
        }
        put(&self.out[from..], &mut n);
        n
    }

    /// Marks `n` pending bytes as written (more than are pending counts as
    /// all of them). Returns whether everything is written. A drained
    /// buffer larger than `keep` bytes is released.
    pub(super) fn advance(&mut self, mut n: usize, keep: usize) -> bool {
        loop {
            let end = self.bodies.front().map_or(self.out.len(), |b| b.at);
            let take = n.min(end - self.pos);
            self.pos += take;
            n -= take;
            if self.pos < end {
                break;
            }
            let Some(body) = self.bodies.front_mut() else {
                break;
            };
            let take = n.min(body.data.len());
            body.data.advance(take);
            self.body_bytes -= take;
            n -= take;
            if !body.data.is_empty() {
                break;
            }
            self.bodies.pop_front();
        }
        if self.pos == self.out.len() {
            // Bodies still pending all sit at the end; they move with it.
            for body in &mut self.bodies {
                body.at = 0;
            }
            self.out.clear();
            self.pos = 0;
            if self.out.capacity() > keep {
                self.out = Vec::new();
            }
        }
        self.is_empty()
    }

    /// Releases the memory of a drained buffer larger than `keep` bytes.
    pub(super) fn shrink(&mut self, keep: usize) {
        if self.is_empty() && (self.out.capacity() > keep || self.bodies.capacity() > keep / 32) {
            *self = Transmit::default();
        }
    }

    #[cfg(any(fuzzing, test))]
    pub(super) fn check_invariants(&self) {
        assert!(self.pos <= self.out.len());
        let mut at = self.pos;
        for body in &self.bodies {
            assert!(body.at >= at && body.at <= self.out.len() && !body.data.is_empty());
            at = body.at;
        }
        let total: usize = self.bodies.iter().map(|b| b.data.len()).sum();
        assert_eq!(total, self.body_bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pending bytes as the slices give them.
    fn gather(t: &Transmit) -> Vec<u8> {
        let mut bufs = [&[][..]; 16];
        let n = t.slices(&mut bufs);
        bufs[..n].concat()
    }

    fn sample() -> Transmit {
        let mut t = Transmit::default();
        t.buffer().extend_from_slice(b"ab");
        t.push_body(Bytes::from_static(b"CDE"));
        t.push_body(Bytes::from_static(b"FG"));
        t.buffer().extend_from_slice(b"hi");
        t.push_body(Bytes::from_static(b"JK"));
        t
    }

    #[test]
    fn slices_interleave_copied_and_referenced_bytes() {
        let t = sample();
        t.check_invariants();
        let mut bufs = [&[][..]; 8];
        let n = t.slices(&mut bufs);
        assert_eq!(
            &bufs[..n],
            &[&b"ab"[..], b"CDE", b"FG", b"hi", b"JK"],
            "empty slices are left out"
        );
        assert_eq!(t.pending(), 11);
        assert_eq!(t.copied(), 4);
        assert_eq!(t.bodies(), 3);
    }

    #[test]
    fn slices_stop_when_bufs_are_full() {
        let t = sample();
        let mut bufs = [&[][..]; 2];
        assert_eq!(t.slices(&mut bufs), 2);
        assert_eq!(bufs, [&b"ab"[..], b"CDE"]);
        assert_eq!(t.slices(&mut []), 0);
    }

    #[test]
    fn advance_at_every_offset_keeps_the_rest_in_order() {
        let all = gather(&sample());
        for first in 0..=all.len() {
            for second in 0..=all.len() - first {
                let mut t = sample();
                assert_eq!(t.advance(first, usize::MAX), first == all.len());
                t.check_invariants();
                assert_eq!(gather(&t), &all[first..]);
                t.advance(second, usize::MAX);
                t.check_invariants();
                assert_eq!(gather(&t), &all[first + second..]);
                assert_eq!(t.pending(), all.len() - first - second);
                // Appending after a partial write goes after what is left.
                t.buffer().extend_from_slice(b"z");
                t.push_body(Bytes::from_static(b"Y"));
                t.check_invariants();
                let mut want = all[first + second..].to_vec();
                want.extend_from_slice(b"zY");
                assert_eq!(gather(&t), want);
            }
        }
    }

    #[test]
    fn advance_past_the_end_drains_and_releases_large_buffers() {
        let mut t = sample();
        t.buffer().reserve(1000);
        assert!(t.advance(usize::MAX, 100));
        assert!(t.is_empty());
        assert_eq!(t.pending(), 0);
        assert_eq!(t.buffer().capacity(), 0);
        let mut t = sample();
        assert!(t.advance(100, 4096));
        assert!(t.buffer().capacity() > 0, "a small buffer is kept");
    }

    #[test]
    fn contiguous_copies_bodies_in() {
        let mut t = sample();
        t.advance(3, usize::MAX);
        assert_eq!(t.contiguous(), b"DEFGhiJK");
        t.check_invariants();
        assert_eq!(t.bodies(), 0);
        assert_eq!(t.pending(), 8);
        assert!(t.advance(8, usize::MAX));
    }

    #[test]
    fn empty_bodies_are_ignored_and_shrink_releases() {
        let mut t = Transmit::default();
        t.push_body(Bytes::new());
        assert!(t.is_empty());
        t.buffer().extend_from_slice(b"x");
        t.shrink(0);
        assert_eq!(t.pending(), 1, "pending bytes are kept");
        t.advance(1, usize::MAX);
        t.shrink(4096);
        assert!(t.buffer().capacity() > 0, "a small buffer is kept");
        t.shrink(0);
        assert_eq!(t.buffer().capacity(), 0);
    }
}
