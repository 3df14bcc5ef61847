//! `Utf8Validator` fed arbitrary pieces agrees with `std::str::from_utf8` of
//! the whole, and fails fast: the first failing `feed` is the one whose piece
//! holds the byte that makes the input invalid whatever follows.
#![no_main]
use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use wsproto_core::utf8::Utf8Validator;

fuzz_target!(|data: &[u8]| {
    let Ok(pieces) = wsproto_fuzz::split(&mut Unstructured::new(data)) else {
        return;
    };
    let whole: Vec<u8> = pieces.concat();
    let hopeless =
        |i: usize| std::str::from_utf8(&whole[..=i]).is_err_and(|e| e.error_len().is_some());
    // `from_utf8` reports the bad sequence at `valid_up_to`, `error_len` long;
    // its last byte decides, or the byte after it (a bad continuation).
    let bad = std::str::from_utf8(&whole).err().and_then(|e| {
        let last = e.valid_up_to() + e.error_len()? - 1;
        Some(if hopeless(last) { last } else { last + 1 })
    });
    let (mut validator, mut start) = (Utf8Validator::new(), 0);
    for piece in pieces {
        let end = start + piece.len();
        let result = validator.feed(piece);
        if bad.is_some_and(|b| b < end) {
            return assert!(
                result.is_err(),
                "missed the bad byte {bad:?} in {start}..{end}"
            );
        }
        assert!(result.is_ok(), "failed early in {start}..{end}");
        start = end;
    }
    assert_eq!(
        validator.finish().is_ok(),
        std::str::from_utf8(&whole).is_ok()
    );
});
