//! Incremental UTF-8 validation that fails on the first invalid byte, even
//! when a character is split across frames or reads (RFC 6455 §8.1).

/// Validates a byte stream fed in pieces.
#[derive(Debug, Clone, Default)]
pub struct Utf8Validator {
    /// Bytes of a character begun in an earlier piece.
    partial: [u8; 4],
    partial_len: u8,
}

/// The stream holds a byte sequence that is not UTF-8 and can never become
/// UTF-8 whatever follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidUtf8;

impl Utf8Validator {
    /// A validator at the start of a stream.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Validates the next piece.
    ///
    /// # Errors
    /// [`InvalidUtf8`] as soon as the bytes seen so far cannot be the start
    /// of valid UTF-8.
    pub fn feed(&mut self, mut data: &[u8]) -> Result<(), InvalidUtf8> {
        if self.partial_len > 0 {
            let have = usize::from(self.partial_len);
            let need = char_width(self.partial[0]).saturating_sub(have);
            let take = need.min(data.len());
            self.partial[have..have + take].copy_from_slice(&data[..take]);
            let filled = have + take;
            data = &data[take..];
            match std::str::from_utf8(&self.partial[..filled]) {
                Ok(_) => self.partial_len = 0,
                Err(e) if e.error_len().is_some() => return Err(InvalidUtf8),
                Err(_) => {
                    // Still a valid prefix; `data` is exhausted.
                    self.partial_len = filled as u8;
                    return Ok(());
                }
            }
        }
        match std::str::from_utf8(data) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_some() => Err(InvalidUtf8),
            Err(e) => {
                let tail = &data[e.valid_up_to()..];
                self.partial[..tail.len()].copy_from_slice(tail);
                self.partial_len = tail.len() as u8;
                Ok(())
            }
        }
    }

    /// How many bytes at the end of what was fed belong to an unfinished
    /// character (0 to 3).
    #[must_use]
    pub fn pending(&self) -> usize {
        usize::from(self.partial_len)
    }

    /// Ends the stream.
    ///
    /// # Errors
    /// [`InvalidUtf8`] if the stream stopped inside a character.
    pub fn finish(&mut self) -> Result<(), InvalidUtf8> {
        let complete = self.partial_len == 0;
        self.partial_len = 0;
        if complete { Ok(()) } else { Err(InvalidUtf8) }
    }
}

/// The encoded width announced by a UTF-8 leading byte (4 for anything that
/// is not a valid lead: `from_utf8` rejects it anyway).
fn char_width(lead: u8) -> usize {
    match lead {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn validate_split(data: &[u8], cuts: &[usize]) -> Result<(), InvalidUtf8> {
        let mut v = Utf8Validator::new();
        let mut start = 0;
        for &cut in cuts {
            let cut = cut.clamp(start, data.len());
            v.feed(&data[start..cut])?;
            start = cut;
        }
        v.feed(&data[start..])?;
        v.finish()
    }

    #[test]
    fn fails_on_first_invalid_byte_inside_a_split_character() {
        // U+FFFF is fine, 0xF4 0x90 starts a code point above U+10FFFF.
        let mut v = Utf8Validator::new();
        assert!(v.feed(&[0xEF, 0xBF]).is_ok());
        assert!(v.feed(&[0xBF]).is_ok());
        assert!(v.feed(&[0xF4]).is_ok());
        assert_eq!(v.feed(&[0x90]), Err(InvalidUtf8));
    }

    #[test]
    fn surrogates_and_overlongs_are_rejected_early() {
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(&[0xED, 0xA0]), Err(InvalidUtf8));
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(&[0xC0]), Err(InvalidUtf8));
    }

    #[test]
    fn unfinished_character_fails_at_finish() {
        let mut v = Utf8Validator::new();
        v.feed("κ".as_bytes().get(..1).unwrap()).unwrap();
        assert_eq!(v.pending(), 1);
        assert_eq!(v.finish(), Err(InvalidUtf8));
    }

    proptest! {
        #[test]
        fn agrees_with_std_at_every_split(data in proptest::collection::vec(any::<u8>(), 0..40),
                                          cuts in proptest::collection::vec(0usize..40, 0..6)) {
            let mut cuts = cuts;
            cuts.sort_unstable();
            let expected = std::str::from_utf8(&data).is_ok();
            prop_assert_eq!(validate_split(&data, &cuts).is_ok(), expected);
        }

        #[test]
        fn valid_strings_pass_split_anywhere(s in "\\PC{0,20}", cut in 0usize..80) {
            let bytes = s.as_bytes();
            prop_assert!(validate_split(bytes, &[cut]).is_ok());
        }
    }
}
