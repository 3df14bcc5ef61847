//! [`DeflateExtension`]: the [`Extension`] a connection owns once
//! permessage-deflate is negotiated.

use bytes::BytesMut;

use crate::Role;
use crate::error::ExtensionError;
use crate::extension::Extension;
use crate::frame::{OpCode, Rsv};

use super::EXTENSION_NAME;
use super::compress::Compressor;
use super::config::{DeflateConfig, DeflateParams};
use super::inflate::Decompressor;

/// permessage-deflate on one connection: compresses our messages and
/// inflates the peer's, each direction with its negotiated parameters.
///
/// Normally built by the handshake through [`DeflateConfig`]'s
/// [`ExtensionFactory`](crate::ExtensionFactory) implementation; it can also
/// be built directly from agreed parameters (tests, fuzzing, raw users).
#[derive(Debug)]
pub struct DeflateExtension {
    role: Role,
    params: DeflateParams,
    compressor: Compressor,
    decompressor: Decompressor,
}

impl DeflateExtension {
    /// The extension for the `role` end of a connection that agreed on
    /// `params`; the compression level and threshold come from `config`.
    ///
    /// Our direction is compressed with at most 2^`*_max_window_bits` of
    /// window and reset after each message under `*_no_context_takeover`
    /// (`client_*` for a client, `server_*` for a server).
    #[must_use]
    pub fn new(role: Role, params: DeflateParams, config: &DeflateConfig) -> Self {
        let (send_bits, send_reset, recv_reset) = match role {
            Role::Client => (
                params.client_max_window_bits,
                params.client_no_context_takeover,
                params.server_no_context_takeover,
            ),
            Role::Server => (
                params.server_max_window_bits,
                params.server_no_context_takeover,
                params.client_no_context_takeover,
            ),
        };
        DeflateExtension {
            role,
            params,
            compressor: Compressor::new(
                config.level,
                send_bits,
                config.mem_level,
                send_reset,
                config.compress_if_bigger_than,
            ),
            decompressor: Decompressor::new(recv_reset),
        }
    }

    /// Which end of the connection this is.
    #[must_use]
    pub fn role(&self) -> Role {
        self.role
    }

    /// The negotiated parameters.
    #[must_use]
    pub fn params(&self) -> DeflateParams {
        self.params
    }
}

impl Extension for DeflateExtension {
    fn name(&self) -> &'static str {
        EXTENSION_NAME
    }

    /// RSV1 (RFC 7692 §6).
    fn rsv(&self) -> Rsv {
        Rsv::RSV1
    }

    /// Compresses the whole message (RFC 7692 §7.2.1): DEFLATE with a sync
    /// flush, minus the `00 00 ff ff` tail. The empty message becomes the
    /// single byte `00` (§7.2.3.6). Messages not bigger than
    /// [`compress_if_bigger_than`](DeflateConfig::with_compress_if_bigger_than)
    /// are left alone (`Ok(false)`).
    fn encode_message(
        &mut self,
        _opcode: OpCode,
        payload: &[u8],
        out: &mut BytesMut,
    ) -> Result<bool, ExtensionError> {
        self.compressor.encode(payload, out)
    }

    /// Inflates the frame as it arrives (RFC 7692 §7.2.2); on `fin`,
    /// appends `00 00 ff ff` and ends the message. Works in steps, so `out`
    /// never grows past `max_len`: a deflate bomb fails with
    /// [`ExtensionError::TooLarge`] after producing at most `max_len` bytes.
    /// Corrupt data fails with [`ExtensionError::InvalidData`].
    fn decode_frame(
        &mut self,
        payload: &[u8],
        fin: bool,
        out: &mut BytesMut,
        max_len: usize,
    ) -> Result<(), ExtensionError> {
        self.decompressor.decode(payload, fin, out, max_len)
    }

    /// Our direction without context takeover: the compression settings
    /// and window bits (see [`PreparedMessage`](crate::PreparedMessage)).
    fn shared_encoding(&self) -> Option<crate::EncodingKey> {
        self.compressor.shared_key()
    }
}
