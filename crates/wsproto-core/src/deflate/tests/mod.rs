//! Codec tests: RFC 7692 §7.2.3 vectors, fragmentation, round trips over
//! every parameter combination, window limits, limits and bombs.

mod audit;

use bytes::BytesMut;

use super::{DeflateConfig, DeflateExtension, DeflateParams, TAIL};
use crate::Role;
use crate::error::ExtensionError;
use crate::extension::Extension;
use crate::frame::OpCode;

const HELLO: [u8; 7] = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];

fn params(snct: bool, cnct: bool, sbits: u8, cbits: u8) -> DeflateParams {
    DeflateParams {
        server_no_context_takeover: snct,
        client_no_context_takeover: cnct,
        server_max_window_bits: sbits,
        client_max_window_bits: cbits,
    }
}

fn pair(p: DeflateParams, config: &DeflateConfig) -> (DeflateExtension, DeflateExtension) {
    (
        DeflateExtension::new(Role::Client, p, config),
        DeflateExtension::new(Role::Server, p, config),
    )
}

/// Deterministic JSON-like text with repeats at many distances.
fn text(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut out = Vec::with_capacity(len + 128);
    let mut id = 0u64;
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(
            format!(
                "{{\"id\":{id},\"user\":\"u{}\",\"ok\":{},\"score\":{}.{},\"tags\":[\"t{}\"]}},",
                x >> 52,
                x & 1 == 1,
                (x >> 20) % 1000,
                (x >> 33) % 100,
                (x >> 40) % 17
            )
            .as_bytes(),
        );
        id += 1;
    }
    out.truncate(len);
    out
}

/// Deterministic incompressible bytes.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn encode(ext: &mut DeflateExtension, message: &[u8]) -> Vec<u8> {
    let mut out = BytesMut::new();
    assert!(
        ext.encode_message(OpCode::Binary, message, &mut out)
            .unwrap()
    );
    out.to_vec()
}

fn decode_frames(
    ext: &mut DeflateExtension,
    frames: &[&[u8]],
    max_len: usize,
) -> Result<Vec<u8>, ExtensionError> {
    let mut out = BytesMut::new();
    for (i, frame) in frames.iter().enumerate() {
        ext.decode_frame(frame, i + 1 == frames.len(), &mut out, max_len)?;
        assert!(out.len() <= max_len);
    }
    Ok(out.to_vec())
}

fn decode(ext: &mut DeflateExtension, payload: &[u8]) -> Vec<u8> {
    decode_frames(ext, &[payload], usize::MAX).unwrap()
}

fn client(p: DeflateParams) -> DeflateExtension {
    DeflateExtension::new(Role::Client, p, &DeflateConfig::default())
}

#[test]
fn rfc7692_7_2_3_1_hello() {
    for level in [1, 6, 9] {
        let config = DeflateConfig::default().with_level(level);
        let mut ext = DeflateExtension::new(Role::Client, DeflateParams::default(), &config);
        assert_eq!(encode(&mut ext, b"Hello"), HELLO, "level {level}");
    }
    assert_eq!(
        decode(&mut client(DeflateParams::default()), &HELLO),
        b"Hello"
    );
    // §7.2.3.1, fragmented: the compressed data split over two frames.
    let mut ext = client(DeflateParams::default());
    assert_eq!(
        decode_frames(&mut ext, &[&HELLO[..3], &HELLO[3..]], 100).unwrap(),
        b"Hello"
    );
}

#[test]
fn rfc7692_7_2_3_2_shared_window() {
    let second = [0xf2, 0x00, 0x11, 0x00, 0x00];
    let (mut c, mut s) = pair(DeflateParams::default(), &DeflateConfig::default());
    assert_eq!(encode(&mut c, b"Hello"), HELLO);
    // zlib-rs codes the repeat as one fixed-Huffman match, a byte shorter
    // than the RFC's bytes (which another zlib produced); both are valid.
    let ours = encode(&mut c, b"Hello");
    assert_eq!(ours, [0x02, 0x13, 0x00, 0x00]);
    assert_eq!(decode(&mut s, &HELLO), b"Hello");
    assert_eq!(decode(&mut s, &ours), b"Hello");
    assert_eq!(decode(&mut s, &second), b"Hello");
    let mut s = client(DeflateParams::default());
    assert_eq!(decode(&mut s, &HELLO), b"Hello");
    assert_eq!(decode(&mut s, &second), b"Hello");
    // Without context takeover both messages compress alike.
    let (mut c, _) = pair(params(true, true, 15, 15), &DeflateConfig::default());
    assert_eq!(encode(&mut c, b"Hello"), HELLO);
    assert_eq!(encode(&mut c, b"Hello"), HELLO);
}

#[test]
fn rfc7692_7_2_3_3_to_6_decoding() {
    let mut ext = client(DeflateParams::default());
    // §7.2.3.3: a block with no compression.
    let stored = [
        0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
    ];
    assert_eq!(decode(&mut ext, &stored), b"Hello");
    // §7.2.3.5: two DEFLATE blocks in one message.
    let two = [
        0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
    ];
    assert_eq!(decode(&mut ext, &two), b"Hello");
    // §7.2.3.6: the empty message.
    assert_eq!(decode(&mut ext, &[0x00]), b"");
    // §7.2.3.4: a block with BFINAL set, then a message that refers back
    // into it (§7.2.3.2's second message): the window survives.
    let bfinal = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
    assert_eq!(decode(&mut ext, &bfinal), b"Hello");
    assert_eq!(decode(&mut ext, &[0xf2, 0x00, 0x11, 0x00, 0x00]), b"Hello");
    assert_eq!(decode(&mut ext, &HELLO), b"Hello");
}

#[test]
fn rfc7692_7_2_3_6_empty_message_is_one_zero_byte() {
    let (mut c, mut s) = pair(DeflateParams::default(), &DeflateConfig::default());
    assert_eq!(encode(&mut c, b""), [0x00]);
    assert_eq!(decode(&mut s, &[0x00]), b"");
    // Mid-stream too, the empty message round-trips.
    let m = encode(&mut c, b"abc");
    assert_eq!(decode(&mut s, &m), b"abc");
    let m = encode(&mut c, b"");
    assert_eq!(decode(&mut s, &m), b"");
}

#[test]
fn fragmented_message_split_at_every_offset() {
    let message = text(3000, 7);
    let mut c = client(DeflateParams::default());
    // A first message so the second uses the shared window as well.
    let first = encode(&mut c, &message[..1000]);
    let wire = encode(&mut c, &message);
    for split in 0..=wire.len() {
        let mut s = DeflateExtension::new(
            Role::Server,
            DeflateParams::default(),
            &DeflateConfig::default(),
        );
        assert_eq!(decode(&mut s, &first), &message[..1000]);
        let got = decode_frames(&mut s, &[&wire[..split], &wire[split..]], usize::MAX).unwrap();
        assert_eq!(got, message, "split at {split}");
    }
    let mut s = DeflateExtension::new(
        Role::Server,
        DeflateParams::default(),
        &DeflateConfig::default(),
    );
    decode(&mut s, &first);
    let bytes: Vec<&[u8]> = wire.chunks(1).collect();
    assert_eq!(decode_frames(&mut s, &bytes, usize::MAX).unwrap(), message);
}

#[test]
fn round_trips_for_every_parameter_combination() {
    let sizes = [0, 1, 200, 5_000, 70_000];
    let messages: Vec<Vec<u8>> = sizes.iter().map(|&n| text(n, n as u64)).collect();
    let config = DeflateConfig::default();
    for flags in 0..4u8 {
        for sbits in 8..=15 {
            for cbits in 8..=15 {
                let p = params(flags & 1 != 0, flags & 2 != 0, sbits, cbits);
                let (mut c, mut s) = pair(p, &config);
                for (i, m) in messages.iter().chain(&messages).enumerate() {
                    let up = encode(&mut c, m);
                    assert_eq!(&decode(&mut s, &up), m, "{p:?} message {i} up");
                    let down = encode(&mut s, m);
                    assert_eq!(&decode(&mut c, &down), m, "{p:?} message {i} down");
                }
            }
        }
    }
}

#[test]
fn big_messages_round_trip() {
    for (p, len) in [
        (DeflateParams::default(), 16 << 20),
        (params(true, true, 8, 8), 1 << 20),
    ] {
        let mut m = text(len, 3);
        m[len / 2..len / 2 + 4096].copy_from_slice(&noise(4096, 5));
        let (mut c, mut s) = pair(p, &DeflateConfig::default());
        let wire = encode(&mut c, &m);
        assert!(wire.len() < len / 2);
        assert_eq!(decode_frames(&mut s, &[&wire], len).unwrap(), m);
    }
}

/// Every window size a peer can negotiate is honoured by our compressor:
/// no back-reference reaches beyond 2^bits, checked by an independent
/// decoder, with and without context takeover.
#[test]
fn compressor_respects_negotiated_window() {
    for bits in 8..=15u8 {
        let window = 1usize << bits;
        // Periods just beyond the window tempt the compressor to reach too far.
        let mut tempting = noise(window + 7, u64::from(bits)).repeat(6);
        tempting.extend(text(20_000, 11));
        let messages = [
            tempting,
            text(3_000, 12),
            noise(1_000, 13),
            text(40_000, 14),
        ];
        for level in [1, 6, 9] {
            for no_takeover in [false, true] {
                let p = params(false, no_takeover, 15, bits);
                let config = DeflateConfig::default().with_level(level);
                let mut c = DeflateExtension::new(Role::Client, p, &config);
                let mut stream = Vec::new();
                let mut expected = Vec::new();
                let mut max_dist = 0;
                for m in &messages {
                    let mut wire = encode(&mut c, m);
                    wire.extend_from_slice(&TAIL);
                    if no_takeover {
                        let (out, d) = audit::inflate_checked(&wire, window).unwrap();
                        assert_eq!(&out, m);
                        max_dist = max_dist.max(d);
                    } else {
                        stream.extend_from_slice(&wire);
                        expected.extend_from_slice(m);
                    }
                }
                if !no_takeover {
                    let (out, d) = audit::inflate_checked(&stream, window)
                        .unwrap_or_else(|e| panic!("bits {bits} level {level}: {e}"));
                    assert_eq!(out, expected);
                    max_dist = max_dist.max(d);
                }
                assert!(max_dist <= window, "bits {bits}: distance {max_dist}");
                assert!(
                    max_dist > window / 4,
                    "bits {bits}: the window was barely used"
                );
            }
        }
    }
}

#[test]
fn no_context_takeover_resets_the_receiver_per_message() {
    // The peer resets, so a message that (wrongly) refers back fails.
    let mut s = DeflateExtension::new(
        Role::Server,
        params(false, true, 15, 15),
        &DeflateConfig::default(),
    );
    assert_eq!(decode(&mut s, &HELLO), b"Hello");
    assert_eq!(
        decode_frames(&mut s, &[&[0xf2, 0x00, 0x11, 0x00, 0x00]], 100),
        Err(ExtensionError::InvalidData("corrupt deflate data"))
    );
}

#[test]
fn mem_level_is_clamped_and_changes_nothing_at_level_1() {
    assert_eq!(DeflateConfig::default().mem_level(), 5);
    assert_eq!(DeflateConfig::default().with_mem_level(0).mem_level(), 1);
    assert_eq!(DeflateConfig::default().with_mem_level(12).mem_level(), 9);
    // Level 1 writes static-code blocks that the buffer size never ends:
    // the same bytes at every memLevel. Higher levels round-trip at every
    // memLevel, with or without context takeover.
    let messages: Vec<Vec<u8>> = (0..4).map(|i| text(40_000, i)).collect();
    for nct in [false, true] {
        let p = params(nct, nct, 15, 15);
        for level in [1, 6] {
            let mut reference = None;
            for mem_level in 1..=9 {
                let config = DeflateConfig::default()
                    .with_level(level)
                    .with_mem_level(mem_level);
                let (mut client, mut server) = pair(p, &config);
                let wire: Vec<Vec<u8>> = messages.iter().map(|m| encode(&mut server, m)).collect();
                for (m, w) in messages.iter().zip(&wire) {
                    assert_eq!(&decode(&mut client, w), m, "level {level} mem {mem_level}");
                }
                if level == 1 {
                    assert_eq!(reference.get_or_insert_with(|| wire.clone()), &wire);
                }
            }
        }
    }
}

#[test]
fn threshold_leaves_small_messages_alone() {
    let config = DeflateConfig::default().with_compress_if_bigger_than(Some(10));
    let (mut c, mut s) = pair(DeflateParams::default(), &config);
    let mut out = BytesMut::from(&b"keep"[..]);
    assert!(
        !c.encode_message(OpCode::Text, b"0123456789", &mut out)
            .unwrap()
    );
    assert_eq!(&out[..], b"keep");
    assert!(
        c.encode_message(OpCode::Text, b"0123456789a", &mut out)
            .unwrap()
    );
    assert_eq!(decode(&mut s, &out[4..]), b"0123456789a");
}

#[test]
fn encode_appends_after_existing_bytes() {
    let mut c = client(DeflateParams::default());
    let mut out = BytesMut::from(&b"head"[..]);
    assert!(c.encode_message(OpCode::Text, b"Hello", &mut out).unwrap());
    assert_eq!(&out[..4], b"head");
    assert_eq!(&out[4..], HELLO);
}

#[test]
fn limit_is_exact() {
    let m = text(10_000, 9);
    let (mut c, _) = pair(DeflateParams::default(), &DeflateConfig::default());
    let wire = encode(&mut c, &m);
    let mut s = DeflateExtension::new(
        Role::Server,
        DeflateParams::default(),
        &DeflateConfig::default(),
    );
    assert_eq!(decode_frames(&mut s, &[&wire], m.len()).unwrap(), m);
    let mut s = DeflateExtension::new(
        Role::Server,
        DeflateParams::default(),
        &DeflateConfig::default(),
    );
    assert_eq!(
        decode_frames(&mut s, &[&wire], m.len() - 1),
        Err(ExtensionError::TooLarge { limit: m.len() - 1 })
    );
}

#[test]
fn corrupt_data_is_invalid() {
    for bad in [
        &[0xff, 0xff, 0xff][..],
        &[0x02, 0xff],
        &[0x00, 0x05, 0x00, 0x00, 0x00],
    ] {
        let mut s = client(DeflateParams::default());
        assert_eq!(
            decode_frames(&mut s, &[bad], 1 << 20),
            Err(ExtensionError::InvalidData("corrupt deflate data")),
            "{bad:02x?}"
        );
    }
}

/// A DEFLATE bomb made without compressing anything: one fixed-Huffman
/// block of a zero byte followed by `matches` copies of <258, distance 1>,
/// produced lazily in chunks (13 bits per 258 output bytes).
struct Bomb {
    matches: u64,
    acc: u64,
    nbits: u32,
    started: bool,
    ended: bool,
}

impl Bomb {
    fn new(output: u64) -> Self {
        Bomb {
            matches: output / 258,
            acc: 0,
            nbits: 0,
            started: false,
            ended: false,
        }
    }

    /// Writes a Huffman code (most significant bit first).
    fn code(&mut self, code: u32, len: u32) {
        let reversed = code.reverse_bits() >> (32 - len);
        self.acc |= u64::from(reversed) << self.nbits;
        self.nbits += len;
    }

    fn next_chunk(&mut self, max: usize) -> Option<Vec<u8>> {
        if self.ended && self.nbits == 0 {
            return None;
        }
        let mut out = Vec::with_capacity(max + 8);
        while out.len() < max && !(self.ended && self.nbits == 0) {
            if !self.started {
                self.started = true;
                self.acc = 0b010; // BFINAL 0, BTYPE 01 (fixed)
                self.nbits = 3;
                self.code(0x30, 8); // literal 0
            } else if self.matches > 0 {
                self.matches -= 1;
                self.code(0b1100_0101, 8); // length symbol 285: 258
                self.code(0, 5); // distance code 0: 1
            } else if !self.ended {
                self.ended = true;
                self.code(0, 7); // end of block
                self.nbits = self.nbits.div_ceil(8) * 8;
            }
            while self.nbits >= 8 || (self.ended && self.nbits > 0) {
                out.push(self.acc as u8);
                self.acc >>= 8;
                self.nbits = self.nbits.saturating_sub(8);
            }
        }
        Some(out)
    }
}

#[test]
fn bomb_generator_is_valid_deflate() {
    let mut bomb = Bomb::new(258 * 1000);
    let mut wire = Vec::new();
    while let Some(chunk) = bomb.next_chunk(100) {
        wire.extend(chunk);
    }
    let mut s = client(DeflateParams::default());
    assert_eq!(decode(&mut s, &wire), vec![0; 258 * 1000 + 1]);
}

#[test]
fn deflate_bomb_is_rejected_within_the_limit() {
    const GIB: u64 = 1 << 30;
    let max_len = 8 << 20;
    let mut bomb = Bomb::new(GIB);
    let mut s = client(DeflateParams::default());
    let mut out = BytesMut::new();
    let mut fed = 0;
    let error = loop {
        let chunk = bomb
            .next_chunk(64 * 1024)
            .expect("the bomb was not rejected");
        fed += chunk.len();
        if let Err(e) = s.decode_frame(&chunk, false, &mut out, max_len) {
            break e;
        }
        assert!(out.len() <= max_len);
    };
    assert_eq!(error, ExtensionError::TooLarge { limit: max_len });
    assert!(out.len() <= max_len);
    // Memory stays bounded by the limit, not by the 1 GiB the bomb holds.
    assert!(
        out.capacity() <= 2 * max_len + (256 << 10),
        "{}",
        out.capacity()
    );
    // Rejected within the first frame (about 6.8 MB of compressed bomb exist).
    assert_eq!(fed, 64 * 1024);
}
