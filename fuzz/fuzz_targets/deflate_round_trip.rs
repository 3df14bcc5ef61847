//! permessage-deflate `encode_message` then `decode_frame`, for arbitrary
//! messages, window bits and levels, with and without context takeover
//! (level 1 without it runs the one-shot encoder): every message comes
//! back unchanged.
#![no_main]
use arbitrary::{Arbitrary, Unstructured};
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use wsproto_core::{DeflateConfig, DeflateExtension, DeflateParams, Extension, OpCode, Role};
use wsproto_fuzz::Chunk;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let (Ok(nct), Ok(bits), Ok(level)) =
        (bool::arbitrary(&mut u), u8::arbitrary(&mut u), u8::arbitrary(&mut u))
    else {
        return;
    };
    let params = DeflateParams {
        server_no_context_takeover: nct,
        server_max_window_bits: 8 + bits % 8,
        ..DeflateParams::default()
    };
    let config = DeflateConfig::default().with_level(u32::from(level % 3 * 3).max(1));
    let mut server = DeflateExtension::new(Role::Server, params, &config);
    let mut client = DeflateExtension::new(Role::Client, params, &config);
    while let Ok(Chunk(message)) = Chunk::arbitrary(&mut u) {
        let mut wire = BytesMut::new();
        assert!(server.encode_message(OpCode::Binary, &message, &mut wire).unwrap());
        let mut out = BytesMut::new();
        client.decode_frame(&wire, true, &mut out, 1 << 20).unwrap();
        assert_eq!(&out[..], &message[..]);
        if u.is_empty() {
            return;
        }
    }
});
