//! The permessage-deflate decoder (`Extension::decode_frame`) with a small
//! `max_len`, fed arbitrary frames: the message never grows past `max_len`,
//! and the only errors are `TooLarge` (with that limit) and `InvalidData`.
#![no_main]
use arbitrary::{Arbitrary, Unstructured};
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use wsproto_core::{
    DeflateConfig, DeflateExtension, DeflateParams, Extension, ExtensionError, Role,
};
use wsproto_fuzz::Chunk;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let (Ok(no_context_takeover), Ok(max_len)) = (bool::arbitrary(&mut u), u16::arbitrary(&mut u))
    else {
        return;
    };
    let (max_len, mut out) = (usize::from(max_len) % 8192, BytesMut::new());
    let params = DeflateParams {
        client_no_context_takeover: no_context_takeover,
        ..DeflateParams::default()
    };
    let mut ext = DeflateExtension::new(Role::Server, params, &DeflateConfig::default());
    while let (Ok(fin), Ok(Chunk(frame))) = (bool::arbitrary(&mut u), Chunk::arbitrary(&mut u)) {
        let result = ext.decode_frame(&frame, fin, &mut out, max_len);
        assert!(out.len() <= max_len, "inflated {} > {max_len}", out.len());
        match result {
            Ok(()) if fin => out.clear(), // the message is complete
            Ok(()) => {}
            Err(ExtensionError::TooLarge { limit }) => return assert_eq!(limit, max_len),
            Err(ExtensionError::InvalidData(_)) => return,
            Err(e) => panic!("undocumented error {e:?}"),
        }
        if u.is_empty() {
            return;
        }
    }
});
