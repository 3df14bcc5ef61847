//! JSON-like test text shared by the deflate benches.

use std::fmt::Write as _;

/// Deterministic JSON-like text: records with varying ids, names and numbers.
pub fn json(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut s = String::with_capacity(len + 200);
    s.push('[');
    let mut id = seed * 1_000_000;
    while s.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let _ = write!(
            s,
            "{{\"id\":{id},\"name\":\"user{}\",\"email\":\"u{}@example.com\",\"active\":{},\
             \"score\":{}.{},\"tags\":[\"t{}\",\"t{}\"],\"ts\":\"2024-0{}-1{}T12:{}:00Z\"}},",
            x >> 50,
            (x >> 30) % 10_000,
            x & 1 == 1,
            (x >> 20) % 1000,
            (x >> 33) % 100,
            (x >> 40) % 17,
            (x >> 45) % 23,
            1 + (x >> 10) % 9,
            (x >> 12) % 10,
            10 + (x >> 14) % 50
        );
        id += 1;
    }
    s.truncate(len);
    s.into_bytes()
}
