//! The prepared-message target's setup: two server connections (one sends
//! normally, one prepared) and a client, all with the same random
//! permessage-deflate parameters, level, threshold and fragment size.

use std::time::Instant;

use arbitrary::{Arbitrary, Result, Unstructured};
use wsproto_core::{Config, Connection, DeflateConfig, DeflateExtension, DeflateParams};
use wsproto_core::{MaskRng, Role};

/// (normal server, prepared server, client).
pub fn connections(u: &mut Unstructured<'_>, now: Instant) -> Result<[Connection; 3]> {
    let (nct, bits, level, threshold, fragment) =
        <(bool, u8, u8, Option<u8>, Option<u16>)>::arbitrary(u)?;
    let params = DeflateParams {
        server_no_context_takeover: nct,
        server_max_window_bits: 8 + bits % 8,
        ..DeflateParams::default()
    };
    let deflate = DeflateConfig::default()
        .with_level(u32::from(level % 3 * 3).max(1))
        .with_compress_if_bigger_than(threshold.map(usize::from));
    let config = Config::default()
        .with_auto_fragment_size(fragment.map(|f| usize::from(f) + 1))
        .with_max_fragments(1 << 20);
    let ext = |role| -> Vec<Box<dyn wsproto_core::Extension>> {
        vec![Box::new(DeflateExtension::new(role, params, &deflate))]
    };
    let server = || Connection::server(config.clone(), now).with_extensions(ext(Role::Server));
    let client = Connection::client(config.clone(), MaskRng::from_seed([1; 32]), now);
    Ok([
        server(),
        server(),
        client.with_extensions(ext(Role::Client)),
    ])
}
