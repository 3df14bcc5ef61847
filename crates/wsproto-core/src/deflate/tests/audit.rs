//! A small, slow DEFLATE decoder (RFC 1951) for tests: it checks every
//! back-reference against a window size, which zlib's inflate does not do
//! strictly, and is independent of zlib. It reads RFC 1951's length and
//! distance tables from the one-shot encoder (`fresh.rs`), whose own tests
//! check its output against zlib's inflate.

use crate::deflate::fresh::{DIST_BASE, DIST_EXTRA, LENGTH_BASE, LENGTH_EXTRA};

struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    fn bit(&mut self) -> Result<u32, String> {
        let byte = *self.data.get(self.pos / 8).ok_or("unexpected end")?;
        let bit = (byte >> (self.pos % 8)) & 1;
        self.pos += 1;
        Ok(u32::from(bit))
    }

    fn bits(&mut self, n: u32) -> Result<u32, String> {
        let mut value = 0;
        for i in 0..n {
            value |= self.bit()? << i;
        }
        Ok(value)
    }
}

/// A canonical Huffman code: how many codes of each length, and the
/// symbols in code order.
struct Huffman {
    counts: [u32; 16],
    symbols: Vec<u32>,
}

impl Huffman {
    fn new(lengths: &[u8]) -> Self {
        let mut counts = [0; 16];
        for &l in lengths {
            counts[usize::from(l)] += 1;
        }
        counts[0] = 0;
        let mut symbols = Vec::new();
        for len in 1..16u8 {
            for (symbol, _) in lengths.iter().enumerate().filter(|(_, l)| **l == len) {
                symbols.push(symbol as u32);
            }
        }
        Huffman { counts, symbols }
    }

    fn decode(&self, bits: &mut Bits<'_>) -> Result<u32, String> {
        let (mut code, mut first, mut index) = (0u32, 0u32, 0u32);
        for len in 1..16 {
            code |= bits.bit()?;
            let count = self.counts[len];
            if code < first + count {
                return Ok(self.symbols[(index + code - first) as usize]);
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        Err("bad Huffman code".into())
    }
}

const CL_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// Decodes a raw DEFLATE stream that ends on a block boundary (as every
/// sync-flushed message with its tail does), failing on any distance
/// larger than `window`. Returns the output and the largest distance used.
pub(super) fn inflate_checked(data: &[u8], window: usize) -> Result<(Vec<u8>, usize), String> {
    let mut bits = Bits { data, pos: 0 };
    let mut out: Vec<u8> = Vec::new();
    let mut max_dist = 0;
    while bits.pos < data.len() * 8 {
        let last = bits.bit()? == 1;
        match bits.bits(2)? {
            0 => {
                bits.pos = bits.pos.div_ceil(8) * 8;
                let len = bits.bits(16)? as usize;
                let nlen = bits.bits(16)? as usize;
                if len != !nlen & 0xffff {
                    return Err("bad stored length".into());
                }
                let start = bits.pos / 8;
                out.extend_from_slice(data.get(start..start + len).ok_or("short stored")?);
                bits.pos += len * 8;
            }
            kind @ (1 | 2) => {
                let (lit, dist) = if kind == 1 {
                    let mut l = [8u8; 288];
                    l[144..256].fill(9);
                    l[256..280].fill(7);
                    (Huffman::new(&l), Huffman::new(&[5; 30]))
                } else {
                    dynamic_codes(&mut bits)?
                };
                loop {
                    let sym = lit.decode(&mut bits)?;
                    match sym {
                        0..=255 => out.push(sym as u8),
                        256 => break,
                        _ => {
                            let i = (sym - 257) as usize;
                            let base = LENGTH_BASE.get(i).ok_or("bad length")?;
                            let len = usize::from(*base)
                                + bits.bits(u32::from(LENGTH_EXTRA[i]))? as usize;
                            let d = dist.decode(&mut bits)? as usize;
                            let base = DIST_BASE.get(d).ok_or("bad distance")?;
                            let distance =
                                usize::from(*base) + bits.bits(u32::from(DIST_EXTRA[d]))? as usize;
                            if distance > window || distance > out.len() {
                                return Err(format!("distance {distance} beyond window {window}"));
                            }
                            max_dist = max_dist.max(distance);
                            for _ in 0..len {
                                out.push(out[out.len() - distance]);
                            }
                        }
                    }
                }
            }
            _ => return Err("reserved block type".into()),
        }
        if last {
            break;
        }
    }
    Ok((out, max_dist))
}

fn dynamic_codes(bits: &mut Bits<'_>) -> Result<(Huffman, Huffman), String> {
    let hlit = bits.bits(5)? as usize + 257;
    let hdist = bits.bits(5)? as usize + 1;
    let hclen = bits.bits(4)? as usize + 4;
    let mut cl = [0u8; 19];
    for &i in &CL_ORDER[..hclen] {
        cl[i] = bits.bits(3)? as u8;
    }
    let cl = Huffman::new(&cl);
    let mut lengths = Vec::with_capacity(hlit + hdist);
    while lengths.len() < hlit + hdist {
        match cl.decode(bits)? {
            sym @ 0..=15 => lengths.push(sym as u8),
            16 => {
                let prev = *lengths.last().ok_or("repeat without previous")?;
                let n = 3 + bits.bits(2)?;
                lengths.extend((0..n).map(|_| prev));
            }
            17 => lengths.extend((0..3 + bits.bits(3)?).map(|_| 0)),
            _ => lengths.extend((0..11 + bits.bits(7)?).map(|_| 0)),
        }
    }
    Ok((
        Huffman::new(&lengths[..hlit]),
        Huffman::new(&lengths[hlit..]),
    ))
}
