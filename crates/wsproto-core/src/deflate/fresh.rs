//! One-shot DEFLATE for small messages that start with an empty window
//! (`*_no_context_takeover`): one block with the fixed Huffman codes of
//! RFC 1951 §3.2.6 (a stored block when that is smaller), then the empty
//! stored block of a sync flush without its `00 00 ff ff` (RFC 7692 §7.2.1).
//!
//! Why not zlib: zlib-rs's reset clears a 128 KiB hash table (its size is
//! fixed) before every message, which cost more than compressing 1 KiB.
//! This encoder finds matches the way zlib's level 1 (`deflate_quick`)
//! does (one candidate per position, 4-byte minimum, the same
//! multiplicative hash) in a table with at least 16 slots per input byte
//! (at most [`MAX_TABLE_BITS`]), so it collides about as rarely as zlib's
//! and its output is as small. The table is not cleared per message:
//! entries carry a base that moves past each message, so older ones read as
//! empty; it is cleared only when the base would overflow (after 4 to 256
//! messages, by size). One table serves every connection of a thread (a
//! message is compressed in one call), so connections hold none: at most
//! 128 KiB per thread that compresses. Measured against zlib-rs in
//! `benches/fresh_vs_zlib.rs`.

use std::cell::RefCell;

use bytes::BytesMut;

/// Largest message sent through this encoder; bigger ones go to zlib,
/// whose reset is then small next to the compression itself.
pub(crate) const MAX_INPUT: usize = 16 * 1024;
/// Largest hash table: 2^16 two-byte entries (zlib's size).
const MAX_TABLE_BITS: u32 = 16;
/// Smallest hash table: 2^10 entries.
const MIN_TABLE_BITS: u32 = 10;
/// Slots per input byte: 2^4.
const SPARE_TABLE_BITS: u32 = 4;
/// Shortest match searched for (zlib's level 1 hashes 4 bytes too).
const MIN_MATCH: usize = 4;
/// Longest match DEFLATE can express.
const MAX_MATCH: usize = 258;

/// Base lengths of length codes 257..=285 (RFC 1951 §3.2.5).
pub(super) const LENGTH_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
/// Extra bits of length codes 257..=285.
pub(super) const LENGTH_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
/// Base distances of distance codes 0..=29.
pub(super) const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
/// Extra bits of distance codes 0..=29.
pub(super) const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];

/// The length code (index into [`LENGTH_BASE`]) of every match length.
const LENGTH_CODE: [u8; MAX_MATCH + 1] = {
    let mut table = [0u8; MAX_MATCH + 1];
    let mut code = 0;
    while code < LENGTH_BASE.len() {
        let mut len = LENGTH_BASE[code] as usize;
        while len < LENGTH_BASE[code] as usize + (1 << LENGTH_EXTRA[code]) && len <= MAX_MATCH {
            table[len] = code as u8;
            len += 1;
        }
        code += 1;
    }
    // 258 has a code of its own (285), not 284 + 31.
    table[MAX_MATCH] = 28;
    table
};

/// The distance code of `distance - 1` for distances up to 256, then of
/// `256 + ((distance - 1) >> 7)` (zlib's `d_code`).
const DIST_CODE: [u8; 512] = {
    let mut table = [0u8; 512];
    let mut code = 0;
    while code < DIST_BASE.len() {
        let mut d = DIST_BASE[code] as usize - 1;
        let end = d + (1 << DIST_EXTRA[code]);
        while d < end {
            if d < 256 {
                table[d] = code as u8;
            } else {
                table[256 + (d >> 7)] = code as u8;
            }
            d += 1;
        }
        code += 1;
    }
    table
};

/// `code` of `len` bits, bit-reversed: Huffman codes are packed starting
/// with their most significant bit (RFC 1951 §3.1.1).
const fn reverse(code: u32, len: u32) -> u32 {
    code.reverse_bits() >> (32 - len)
}

/// The fixed literal/length code (RFC 1951 §3.2.6) of `symbol`, reversed,
/// and its length.
const fn fixed_code(symbol: u32) -> (u32, u32) {
    match symbol {
        0..=143 => (reverse(0x30 + symbol, 8), 8),
        144..=255 => (reverse(0x190 + symbol - 144, 9), 9),
        256..=279 => (reverse(symbol - 256, 7), 7),
        _ => (reverse(0xc0 + symbol - 280, 8), 8),
    }
}

/// [`fixed_code`] of every literal/length symbol, as `code | len << 16`.
const LITERALS: [u32; 288] = {
    let mut table = [0u32; 288];
    let mut symbol = 0;
    while symbol < 288 {
        let (code, len) = fixed_code(symbol as u32);
        table[symbol] = code | len << 16;
        symbol += 1;
    }
    table
};

/// Writes bits least significant first (RFC 1951 §3.1.1).
struct BitWriter<'a> {
    out: &'a mut BytesMut,
    bits: u64,
    count: u32,
}

impl BitWriter<'_> {
    fn put(&mut self, value: u32, len: u32) {
        self.bits |= u64::from(value) << self.count;
        self.count += len;
        if self.count >= 32 {
            self.out
                .extend_from_slice(&(self.bits as u32).to_le_bytes());
            self.bits >>= 32;
            self.count -= 32;
        }
    }

    fn symbol(&mut self, symbol: usize) {
        let entry = LITERALS[symbol];
        self.put(entry & 0xffff, entry >> 16);
    }

    /// Pads to a byte boundary and writes what is left.
    fn finish(mut self) {
        while self.count > 0 {
            self.out.extend_from_slice(&[self.bits as u8]);
            self.bits >>= 8;
            self.count = self.count.saturating_sub(8);
        }
    }
}

thread_local! {
    /// The table of this thread's messages.
    static ENCODER: RefCell<FreshEncoder> = RefCell::default();
}

/// [`FreshEncoder::encode`] with this thread's table.
pub(crate) fn encode(input: &[u8], max_distance: usize, out: &mut BytesMut) {
    ENCODER.with_borrow_mut(|encoder| encoder.encode(input, max_distance, out));
}

/// The reusable part of the encoder: its hash table.
#[derive(Debug, Default)]
pub(crate) struct FreshEncoder {
    /// `base` + position + 1 of the last 4-byte sequence with each hash;
    /// entries not above `base` belong to earlier messages (or none).
    /// Grows to the largest size a message needed; never shrinks.
    table: Vec<u16>,
    /// Where this message's entries start; moves past each message.
    base: u16,
}

impl FreshEncoder {
    /// Appends `input` (`1..=MAX_INPUT` bytes) compressed as a message of
    /// its own to `out`, with back-references of at most `max_distance`.
    pub(crate) fn encode(&mut self, input: &[u8], max_distance: usize, out: &mut BytesMut) {
        debug_assert!(!input.is_empty() && input.len() <= MAX_INPUT);
        let start = out.len();
        out.reserve(input.len() + input.len() / 8 + 16);
        let table_bits = (input.len().next_power_of_two().trailing_zeros() + SPARE_TABLE_BITS)
            .clamp(MIN_TABLE_BITS, MAX_TABLE_BITS);
        if self.table.len() < 1 << table_bits {
            self.table.resize(1 << table_bits, 0);
        }
        // Entries of this message are base + 1 ..= base + len (< 2^16).
        let base = if self.base.checked_add(input.len() as u16).is_some() {
            usize::from(self.base)
        } else {
            self.table.fill(0);
            0
        };
        // Positions stay below MAX_INPUT (2^14), so this cannot wrap.
        self.base = (base + input.len()) as u16;
        let mut w = BitWriter {
            out,
            bits: 0,
            count: 0,
        };
        // BFINAL = 0, BTYPE = 01 (fixed codes).
        w.put(0b010, 3);
        let mut i = 0;
        while i + MIN_MATCH <= input.len() {
            let key = u32::from_le_bytes(word(input, i));
            let slot = (key.wrapping_mul(0x9e37_79b1) >> (32 - table_bits)) as usize;
            let entry = usize::from(self.table[slot]);
            // base + i + 1 <= base + len, checked above to fit in a u16.
            self.table[slot] = (base + i + 1) as u16;
            if entry > base && i - (entry - base - 1) <= max_distance {
                let from = entry - base - 1;
                let len = match_len(input, from, i);
                if len >= MIN_MATCH {
                    put_match(&mut w, len, i - from);
                    i += len;
                    continue;
                }
            }
            w.symbol(usize::from(input[i]));
            i += 1;
        }
        for &byte in &input[i..] {
            w.symbol(usize::from(byte));
        }
        // End of block, then the header of the sync flush's empty stored
        // block (BFINAL = 0, BTYPE = 00), padded; its LEN/NLEN
        // `00 00 ff ff` is what RFC 7692 leaves out.
        w.symbol(256);
        w.put(0, 3);
        w.finish();
        // A stored block instead, when the codes did not pay: 3 header bits
        // padded to a byte, LEN, NLEN, the bytes, then the same empty block.
        if out.len() - start > input.len() + 6 {
            out.truncate(start);
            let len = input.len() as u16;
            out.extend_from_slice(&[0x00]);
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&(!len).to_le_bytes());
            out.extend_from_slice(input);
            out.extend_from_slice(&[0x00]);
        }
    }
}

/// The 4 bytes of `input` at `at`.
fn word(input: &[u8], at: usize) -> [u8; 4] {
    let mut bytes = [0; 4];
    bytes.copy_from_slice(&input[at..at + 4]);
    bytes
}

/// How many bytes (at most [`MAX_MATCH`]) from `at` repeat those from
/// `from` (`from < at`), compared eight at a time.
fn match_len(input: &[u8], from: usize, at: usize) -> usize {
    let limit = (input.len() - at).min(MAX_MATCH);
    let (a, b) = (&input[from..from + limit], &input[at..at + limit]);
    let mut len = 0;
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        let mut xs = [0; 8];
        let mut ys = [0; 8];
        xs.copy_from_slice(x);
        ys.copy_from_slice(y);
        let diff = u64::from_le_bytes(xs) ^ u64::from_le_bytes(ys);
        if diff != 0 {
            return len + (diff.trailing_zeros() / 8) as usize;
        }
        len += 8;
    }
    len + a[len..]
        .iter()
        .zip(&b[len..])
        .take_while(|(x, y)| x == y)
        .count()
}

/// Writes a match of `len` (`4..=258`) bytes `distance` (`1..=32768`) back.
fn put_match(w: &mut BitWriter<'_>, len: usize, distance: usize) {
    let code = usize::from(LENGTH_CODE[len]);
    w.symbol(257 + code);
    w.put(
        (len - usize::from(LENGTH_BASE[code])) as u32,
        u32::from(LENGTH_EXTRA[code]),
    );
    let d = distance - 1;
    let code = usize::from(DIST_CODE[if d < 256 { d } else { 256 + (d >> 7) }]);
    // Distance codes are fixed 5-bit codes (RFC 1951 §3.2.6).
    w.put(reverse(code as u32, 5), 5);
    w.put(
        (distance - usize::from(DIST_BASE[code])) as u32,
        u32::from(DIST_EXTRA[code]),
    );
}

#[cfg(test)]
mod tests {
    use flate2::{Decompress, FlushDecompress};
    use proptest::prelude::*;

    use super::*;

    /// Inflates an RFC 7692 payload (the tail put back) with zlib.
    fn inflate(payload: &[u8]) -> Vec<u8> {
        let mut input = payload.to_vec();
        input.extend_from_slice(&[0x00, 0x00, 0xff, 0xff]);
        let mut d = Decompress::new(false);
        let mut out = Vec::with_capacity(MAX_INPUT * 2);
        d.decompress_vec(&input, &mut out, FlushDecompress::Sync)
            .unwrap();
        assert_eq!(d.total_in() as usize, input.len(), "all input consumed");
        out
    }

    fn encode(input: &[u8], max_distance: usize) -> Vec<u8> {
        let mut out = BytesMut::new();
        FreshEncoder::default().encode(input, max_distance, &mut out);
        out.to_vec()
    }

    #[test]
    fn code_tables_agree_with_the_bases() {
        for (len, &code) in LENGTH_CODE.iter().enumerate().skip(3) {
            let code = usize::from(code);
            let base = usize::from(LENGTH_BASE[code]);
            assert!(
                base <= len && len < base + (1 << LENGTH_EXTRA[code]),
                "length {len}"
            );
        }
        assert_eq!(LENGTH_CODE[MAX_MATCH], 28);
        for distance in 1..=32_768usize {
            let d = distance - 1;
            let code = usize::from(DIST_CODE[if d < 256 { d } else { 256 + (d >> 7) }]);
            let base = usize::from(DIST_BASE[code]);
            assert!(
                base <= distance && distance < base + (1 << DIST_EXTRA[code]),
                "distance {distance}"
            );
        }
    }

    #[test]
    fn hello_is_the_rfc_7692_vector() {
        // RFC 7692 §7.2.3.1: "Hello" with fixed codes.
        assert_eq!(
            encode(b"Hello", 32_768),
            [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
        );
    }

    #[test]
    fn match_len_stops_at_the_first_difference_and_at_258() {
        let mut input = b"0123456789abcdefghij".repeat(30);
        assert_eq!(match_len(&input, 0, 20), MAX_MATCH);
        for diff in [21, 27, 28, 35, 36, 40] {
            let saved = input[diff];
            input[diff] = b'#';
            assert_eq!(match_len(&input, 0, 20), diff - 20, "difference at {diff}");
            input[diff] = saved;
        }
        // Near the end: the rest of the input bounds the match.
        assert_eq!(match_len(&input, input.len() - 33, input.len() - 13), 13);
    }

    #[test]
    fn repeats_become_matches() {
        let input = b"Hello, Hello, Hello, Hello, Hello, Hello, Hello!".repeat(20);
        let out = encode(&input, 32_768);
        assert!(out.len() < 40, "{} bytes", out.len());
        assert_eq!(inflate(&out), input);
    }

    #[test]
    fn incompressible_input_is_stored() {
        let mut x = 0x1234_5678_9abc_def1_u64;
        let input: Vec<u8> = (0..1000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let out = encode(&input, 32_768);
        assert_eq!(out.len(), input.len() + 6);
        assert_eq!(inflate(&out), input);
    }

    #[test]
    fn every_length_and_distance_code_round_trips() {
        // A block of noise repeated at distances that cover every distance
        // code, with repeat lengths that cover every length code.
        let mut x = 7u64;
        let mut noise = move |n: usize| -> Vec<u8> {
            (0..n)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect()
        };
        for distance in [1usize, 2, 3, 4, 5, 8, 100, 1000, 4096, 8191, 16_000] {
            for len in [4usize, 10, 11, 18, 130, 257, 258, 300] {
                let mut input = noise(distance.max(4));
                while input.len() < distance + len {
                    input.push(input[input.len() - distance]);
                }
                input.truncate(MAX_INPUT);
                input.extend(noise(8));
                let out = encode(&input, 32_768);
                assert_eq!(inflate(&out), input, "distance {distance} len {len}");
            }
        }
    }

    #[test]
    fn a_reused_encoder_forgets_earlier_messages() {
        // Many messages through one encoder, past several clears of its
        // table (the base overflows after 65,535 bytes): each encodes as
        // it does with a new encoder, so nothing refers to an earlier one.
        let mut reused = FreshEncoder::default();
        let text = b"{\"id\":12,\"name\":\"user 12\",\"tags\":[\"a\",\"b\"]}".repeat(400);
        for (k, len) in [
            5usize, 300, 16_384, 1000, 16_384, 7, 16_384, 16_384, 16_384, 2, 900,
        ]
        .into_iter()
        .cycle()
        .take(60)
        .enumerate()
        {
            let input = &text[k % 13..k % 13 + len];
            let mut out = BytesMut::new();
            reused.encode(input, 32_768, &mut out);
            assert_eq!(out.to_vec(), encode(input, 32_768), "message {k}");
            assert_eq!(inflate(&out), input, "message {k}");
        }
    }

    proptest! {
        #[test]
        fn round_trips_within_the_window(
            words in proptest::collection::vec(0usize..12, 1..3000),
            bits in 8u32..=15,
        ) {
            // Text from a small vocabulary: many matches at all distances.
            let vocabulary = [
                "alpha ", "beta ", "gamma ", "{\"id\":", "\"x\"", "0", "1", "\u{e9}t\u{e9} ",
                "zeta ", "\n", "aaaa", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
            ];
            let mut input: Vec<u8> = words.iter().flat_map(|&w| vocabulary[w].bytes()).collect();
            input.truncate(MAX_INPUT);
            // zlib's margin: distances of at most 2^bits - 262, 2^9 - 262
            // for a window of 2^8.
            let max_distance = (1usize << bits.max(9)) - 262;
            let out = encode(&input, max_distance);
            prop_assert_eq!(inflate(&out), input.clone());
            // Every distance is within the window: a raw inflater with the
            // negotiated window decodes it.
            let mut d = Decompress::new_with_window_bits(false, bits.max(9) as u8);
            let mut payload = out.clone();
            payload.extend_from_slice(&[0x00, 0x00, 0xff, 0xff]);
            let mut inflated = Vec::with_capacity(MAX_INPUT * 2);
            d.decompress_vec(&payload, &mut inflated, FlushDecompress::Sync).unwrap();
            prop_assert_eq!(inflated, input);
        }
    }
}
