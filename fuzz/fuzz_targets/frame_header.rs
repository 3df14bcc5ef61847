//! `FrameHeader::parse` on arbitrary bytes: only the documented errors, every
//! shorter prefix of a header asks for more bytes, and what parses encodes
//! (shortest length form) and parses back to the same header.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wsproto_core::ProtocolError;
use wsproto_core::frame::{FrameHeader, MAX_HEADER_LEN};

fuzz_target!(|data: &[u8]| {
    let (header, len) = match FrameHeader::parse(data) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => return assert!(data.len() < MAX_HEADER_LEN),
        Err(
            ProtocolError::ReservedOpcode(_)
            | ProtocolError::FragmentedControl
            | ProtocolError::ControlTooLong
            | ProtocolError::InvalidLength,
        ) => return,
        Err(e) => panic!("undocumented error {e:?}"),
    };
    assert!(len <= data.len() && len <= MAX_HEADER_LEN);
    for cut in 0..len {
        assert_eq!(FrameHeader::parse(&data[..cut]), Ok(None), "prefix {cut}");
    }
    let mut out = [0u8; MAX_HEADER_LEN];
    let n = header.encode(&mut out);
    assert_eq!(n, header.encoded_len());
    assert!(n <= len, "the encoder picks the shortest length form");
    assert_eq!(FrameHeader::parse(&out[..n]), Ok(Some((header, n))));
    if n == len {
        assert_eq!(&out[..n], &data[..n]);
    }
});
