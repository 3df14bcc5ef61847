//! permessage-deflate (RFC 7692), the core's built-in extension.
//!
//! Add it to a [`Config`] with [`Config::with_compression`]; the handshake
//! then offers it (client) or accepts the first valid offer (server), and the
//! connection compresses outgoing messages and inflates incoming ones through
//! the [`Extension`](crate::Extension) trait.
//!
//! ```text
//!   DeflateConfig ──(ExtensionFactory)──► client_offers / client_accept / server_accept
//!                                                       │ agreed DeflateParams
//!                                                       ▼
//!   message ──► encode_message: DEFLATE, sync flush, drop 00 00 ff ff ──► RSV1 frames
//!   RSV1 frames ──► decode_frame: inflate step by step (≤ max_len), + 00 00 ff ff on FIN ──► message
//! ```
//!
//! Each direction follows its own parameters: `*_no_context_takeover` resets
//! the compressor after every message (at level 1, messages up to 16 KiB
//! then skip zlib for a one-shot encoder, `fresh.rs`), `*_max_window_bits` limits its LZ77
//! window (every size from 8 to 15 is honoured; a negotiated 8 is compressed
//! with zlib's 9-bit window, whose matches never reach further than 250
//! bytes). Inflation always uses a 32 KiB window, which decodes any of them.
//!
//! ```
//! use bytes::BytesMut;
//! use wsproto_core::{Config, DeflateConfig, Extension, ExtensionFactory, OpCode};
//!
//! let deflate = DeflateConfig::default().with_client_max_window_bits(Some(10));
//! let config = Config::default().with_compression(deflate.clone());
//! assert_eq!(config.extensions().len(), 1);
//!
//! // Handshake: the client offers, the server answers, the client checks.
//! let offers = deflate.client_offers();
//! assert_eq!(offers[0].to_string(), "permessage-deflate; client_max_window_bits=10");
//! let (response, mut server) = deflate.server_accept(&[&offers[0]]).unwrap();
//! let mut client = deflate.client_accept(&response).unwrap();
//!
//! // Data: the client compresses a message, the server inflates it.
//! let mut wire = BytesMut::new();
//! assert!(client.encode_message(OpCode::Text, b"Hello, Hello, Hello", &mut wire).unwrap());
//! let mut message = BytesMut::new();
//! server.decode_frame(&wire, true, &mut message, 1 << 20).unwrap();
//! assert_eq!(&message[..], b"Hello, Hello, Hello");
//! ```

mod codec;
mod compress;
mod config;
mod fresh;
mod inflate;
mod negotiate;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use crate::config::Config;

pub use codec::DeflateExtension;
pub use config::{DeflateConfig, DeflateParams, MAX_WINDOW_BITS, MIN_WINDOW_BITS};

/// The extension token, `permessage-deflate` (RFC 7692 §7).
pub const EXTENSION_NAME: &str = "permessage-deflate";

/// What a sync flush ends with and RFC 7692 §7.2.1 removes: the LEN/NLEN of
/// an empty stored block. The receiver puts it back (§7.2.2).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

impl Config {
    /// Adds permessage-deflate (RFC 7692) with `deflate`'s settings to the
    /// extensions offered (client) or accepted (server).
    #[must_use]
    pub fn with_compression(self, deflate: DeflateConfig) -> Self {
        self.with_extension(Arc::new(deflate))
    }
}
