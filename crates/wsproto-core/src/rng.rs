//! Mask-key generation from a caller-provided seed.
//!
//! RFC 6455 §5.3 asks for masking keys that the application cannot predict,
//! "derived from a strong source of entropy". The core never draws entropy
//! itself: the caller seeds a [`MaskRng`] (the adapters from the operating
//! system, tests and fuzzers with fixed bytes), and the keys come from a
//! ChaCha20 keystream (RFC 8439) over that seed.

/// A ChaCha20 keystream used as a source of 4-byte masking keys.
///
/// Deliberately not `Clone`: a clone would hand out the same keys as the
/// original, and repeated mask keys are predictable ones (RFC 6455 §10.3).
/// Seed each connection's generator separately.
pub struct MaskRng {
    key: [u32; 8],
    counter: u64,
    block: [u8; 64],
    used: usize,
}

impl std::fmt::Debug for MaskRng {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MaskRng").finish_non_exhaustive()
    }
}

impl MaskRng {
    /// A generator whose keys are fully determined by `seed`. Give it 32
    /// bytes from a CSPRNG (or fixed bytes in tests).
    #[must_use]
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let mut key = [0u32; 8];
        for (word, chunk) in key.iter_mut().zip(seed.chunks_exact(4)) {
            *word = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }
        MaskRng {
            key,
            counter: 0,
            block: [0; 64],
            used: 64,
        }
    }

    /// A generator seeded from the operating system's CSPRNG.
    ///
    /// # Errors
    /// The operating system could not provide entropy.
    #[cfg(feature = "getrandom")]
    pub fn from_os() -> Result<Self, getrandom::Error> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed)?;
        Ok(Self::from_seed(seed))
    }

    /// Fills `out` from the keystream.
    pub fn fill(&mut self, out: &mut [u8]) {
        for byte in out {
            if self.used == 64 {
                self.refill();
            }
            *byte = self.block[self.used];
            self.used += 1;
        }
    }

    /// The next masking key.
    pub fn next_mask(&mut self) -> [u8; 4] {
        let mut mask = [0u8; 4];
        self.fill(&mut mask);
        mask
    }

    fn refill(&mut self) {
        let counter = self.counter;
        self.counter = self.counter.wrapping_add(1);
        // 32-bit block counter plus the high half as the first nonce word.
        self.block = chacha20_block(&self.key, counter as u32, [(counter >> 32) as u32, 0, 0]);
        self.used = 0;
    }
}

#[allow(clippy::many_single_char_names)] // the names of RFC 8439 §2.1
fn quarter_round(s: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
    s[a] = s[a].wrapping_add(s[b]);
    s[d] = (s[d] ^ s[a]).rotate_left(16);
    s[c] = s[c].wrapping_add(s[d]);
    s[b] = (s[b] ^ s[c]).rotate_left(12);
    s[a] = s[a].wrapping_add(s[b]);
    s[d] = (s[d] ^ s[a]).rotate_left(8);
    s[c] = s[c].wrapping_add(s[d]);
    s[b] = (s[b] ^ s[c]).rotate_left(7);
}

/// The ChaCha20 block function of RFC 8439 §2.3.
fn chacha20_block(key: &[u32; 8], counter: u32, nonce: [u32; 3]) -> [u8; 64] {
    let mut init = [0u32; 16];
    init[..4].copy_from_slice(&[0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574]);
    init[4..12].copy_from_slice(key);
    init[12] = counter;
    init[13..].copy_from_slice(&nonce);
    let mut s = init;
    for _ in 0..10 {
        quarter_round(&mut s, 0, 4, 8, 12);
        quarter_round(&mut s, 1, 5, 9, 13);
        quarter_round(&mut s, 2, 6, 10, 14);
        quarter_round(&mut s, 3, 7, 11, 15);
        quarter_round(&mut s, 0, 5, 10, 15);
        quarter_round(&mut s, 1, 6, 11, 12);
        quarter_round(&mut s, 2, 7, 8, 13);
        quarter_round(&mut s, 3, 4, 9, 14);
    }
    let mut out = [0u8; 64];
    for (i, chunk) in out.chunks_exact_mut(4).enumerate() {
        chunk.copy_from_slice(&s[i].wrapping_add(init[i]).to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8439_section_2_3_2_block_vector() {
        let key_bytes: Vec<u8> = (0u8..32).collect();
        let mut key = [0u32; 8];
        for (w, c) in key.iter_mut().zip(key_bytes.chunks_exact(4)) {
            *w = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        }
        let nonce = [0x0900_0000, 0x4a00_0000, 0];
        let block = chacha20_block(&key, 1, nonce);
        assert_eq!(
            &block[..16],
            &[
                0x10, 0xf1, 0xe7, 0xe4, 0xd1, 0x3b, 0x59, 0x15, 0x50, 0x0f, 0xdd, 0x1f, 0xa3, 0x20,
                0x71, 0xc4
            ]
        );
        assert_eq!(&block[60..], &[0xa2, 0x50, 0x3c, 0x4e]);
    }

    #[test]
    fn same_seed_same_keys_and_keys_vary() {
        let mut a = MaskRng::from_seed([7; 32]);
        let mut b = MaskRng::from_seed([7; 32]);
        let keys: Vec<[u8; 4]> = (0..40).map(|_| a.next_mask()).collect();
        let again: Vec<[u8; 4]> = (0..40).map(|_| b.next_mask()).collect();
        assert_eq!(keys, again);
        let distinct: std::collections::HashSet<_> = keys.iter().collect();
        assert!(distinct.len() > 35, "keys repeat: {keys:?}");
    }
}
