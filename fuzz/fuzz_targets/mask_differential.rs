//! `apply_mask` (8 bytes at a time) against a byte-by-byte loop, for any key
//! and starting offset, and masking in two pieces equals masking at once.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wsproto_core::frame::apply_mask;

fuzz_target!(|input: ([u8; 4], u16, u16, &[u8])| {
    let (key, offset, split, data) = input;
    let offset = usize::from(offset);
    let mut fast = data.to_vec();
    apply_mask(&mut fast, key, offset);
    let naive: Vec<u8> = data
        .iter()
        .enumerate()
        .map(|(i, b)| b ^ key[(i + offset) % 4])
        .collect();
    assert_eq!(fast, naive);
    let mut pieces = data.to_vec();
    let (a, b) = pieces.split_at_mut(usize::from(split).min(data.len()));
    let a_len = a.len();
    apply_mask(a, key, offset);
    apply_mask(b, key, offset + a_len);
    assert_eq!(pieces, naive);
});
