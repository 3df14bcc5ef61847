//! The one-shot DEFLATE encoder (`deflate/fresh.rs`: level 1 without
//! context takeover, messages up to 16 KiB) against zlib-rs's inflater
//! directly, not our decoder: a series of messages through one extension
//! (so its reused hash table and its periodic clearing are exercised),
//! each payload inflated by a fresh raw zlib-rs inflater with the
//! negotiated window (8–15 bits) must give the message back, consume
//! every byte, and cost at most a stored block's 6 bytes over the input.
#![no_main]
use arbitrary::{Arbitrary, Unstructured};
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use wsproto_core::{DeflateConfig, DeflateExtension, DeflateParams, Extension, OpCode, Role};
use wsproto_fuzz::Chunk;
use zlib_rs::{Inflate, InflateFlush};

/// The biggest message the one-shot encoder takes.
const MAX_FRESH: usize = 16 * 1024;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(bits) = u8::arbitrary(&mut u) else {
        return;
    };
    let bits = 8 + bits % 8;
    let params = DeflateParams {
        server_no_context_takeover: true,
        server_max_window_bits: bits,
        ..DeflateParams::default()
    };
    let config = DeflateConfig::default().with_level(1);
    let mut server = DeflateExtension::new(Role::Server, params, &config);
    // `arbitrary` reads zeros once the input is used up: stop there.
    while !u.is_empty() {
        let Ok(Chunk(mut message)) = Chunk::arbitrary(&mut u) else {
            return;
        };
        // Short inputs repeat themselves to reach the bigger sizes.
        if let Ok(times) = u8::arbitrary(&mut u) {
            let unit = message.clone();
            for _ in 0..times {
                message.extend_from_slice(&unit);
            }
        }
        message.truncate(MAX_FRESH);
        if message.is_empty() {
            continue;
        }
        let mut wire = BytesMut::new();
        assert!(
            server
                .encode_message(OpCode::Binary, &message, &mut wire)
                .unwrap()
        );
        assert!(
            wire.len() <= message.len() + 6,
            "{} for {}",
            wire.len(),
            message.len()
        );
        let mut input = wire.to_vec();
        input.extend_from_slice(&[0x00, 0x00, 0xff, 0xff]);
        let mut inflate = Inflate::new(false, bits);
        let mut out = vec![0; message.len() + 1];
        inflate
            .decompress(&input, &mut out, InflateFlush::SyncFlush)
            .unwrap();
        assert_eq!(
            inflate.total_in() as usize,
            input.len(),
            "all input consumed"
        );
        assert_eq!(&out[..inflate.total_out() as usize], &message[..]);
    }
});
