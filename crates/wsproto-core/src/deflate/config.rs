//! [`DeflateConfig`]: what permessage-deflate offers, accepts and how it
//! compresses.

/// Smallest LZ77 window RFC 7692 allows (2^8 = 256 bytes).
pub const MIN_WINDOW_BITS: u8 = 8;
/// Largest LZ77 window RFC 7692 allows (2^15 = 32 KiB), also the default.
pub const MAX_WINDOW_BITS: u8 = 15;

/// The parameters both ends agreed on (RFC 7692 §7.1): what each direction's
/// compressor may do. The receiving side only needs the `*_no_context_takeover`
/// flags (it always inflates with a 32 KiB window, which decodes any smaller
/// one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeflateParams {
    /// The server resets its compressor after every message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after every message.
    pub client_no_context_takeover: bool,
    /// Base-2 logarithm of the server's LZ77 window, `8..=15`.
    pub server_max_window_bits: u8,
    /// Base-2 logarithm of the client's LZ77 window, `8..=15`.
    pub client_max_window_bits: u8,
}

impl Default for DeflateParams {
    /// No parameter: context takeover in both directions, 32 KiB windows.
    fn default() -> Self {
        DeflateParams {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: MAX_WINDOW_BITS,
            client_max_window_bits: MAX_WINDOW_BITS,
        }
    }
}

/// Configuration of permessage-deflate (RFC 7692), shared by client and
/// server. Add it to a [`Config`](crate::Config) with
/// [`Config::with_compression`](crate::Config::with_compression).
///
/// The four negotiation parameters read the same in both roles: they
/// describe the connection we would like.
///
/// | option | client role | server role | default |
/// | --- | --- | --- | --- |
/// | [`client_enabled`](Self::with_client_enabled) | offer the extension | — | on |
/// | [`server_enabled`](Self::with_server_enabled) | — | accept offers | on |
/// | [`server_no_context_takeover`](Self::with_server_no_context_takeover) | ask the server to reset its compressor after every message | reset ours after every message (always granted when asked) | off |
/// | [`client_no_context_takeover`](Self::with_client_no_context_takeover) | reset ours after every message, and say so | ask the client to reset its compressor | off |
/// | [`server_max_window_bits`](Self::with_server_max_window_bits) | ask the server to use at most 2^bits of window | use at most 2^bits ourselves (a smaller value offered by the client always wins) | none (15) |
/// | [`client_max_window_bits`](Self::with_client_max_window_bits) | use at most 2^bits ourselves, and say so | ask the client to use at most 2^bits, when its offer allows it | none (15) |
/// | [`level`](Self::with_level) | compression level 0–9 | same | 1 |
/// | [`mem_level`](Self::with_mem_level) | zlib's memLevel 1–9: buffer size of the compressor | same | 5 |
/// | [`compress_if_bigger_than`](Self::with_compress_if_bigger_than) | send messages up to this size uncompressed | same | none (compress all) |
///
/// A client always offers `client_max_window_bits` (with our limit as the
/// value when one is set), because it can honour any window the server asks
/// for; it never offers anything it could not honour.
///
/// The default level is 1, the fastest: on JSON-like text (zlib-rs,
/// measured on the project machine) level 1 compresses at about 600–770 MB/s
/// to 27 % of the input, level 6 (zlib's default) at about 77 MB/s to 17 %.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeflateConfig {
    pub(crate) client_enabled: bool,
    pub(crate) server_enabled: bool,
    pub(crate) server_no_context_takeover: bool,
    pub(crate) client_no_context_takeover: bool,
    pub(crate) server_max_window_bits: Option<u8>,
    pub(crate) client_max_window_bits: Option<u8>,
    pub(crate) level: u32,
    pub(crate) mem_level: u8,
    pub(crate) compress_if_bigger_than: Option<usize>,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        DeflateConfig {
            client_enabled: true,
            server_enabled: true,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: None,
            client_max_window_bits: None,
            level: 1,
            mem_level: MEM_LEVEL_DEFAULT,
            compress_if_bigger_than: None,
        }
    }
}

/// The default [`mem_level`](DeflateConfig::with_mem_level).
const MEM_LEVEL_DEFAULT: u8 = 5;

fn clamp_bits(bits: Option<u8>) -> Option<u8> {
    bits.map(|b| b.clamp(MIN_WINDOW_BITS, MAX_WINDOW_BITS))
}

impl DeflateConfig {
    /// Whether a client offers permessage-deflate.
    #[must_use]
    pub fn with_client_enabled(mut self, enabled: bool) -> Self {
        self.client_enabled = enabled;
        self
    }

    /// Whether a server accepts permessage-deflate offers.
    #[must_use]
    pub fn with_server_enabled(mut self, enabled: bool) -> Self {
        self.server_enabled = enabled;
        self
    }

    /// `server_no_context_takeover` (RFC 7692 §7.1.1.1): the server starts
    /// every message with an empty window. Costs ratio, saves the peer from
    /// keeping a window between messages.
    #[must_use]
    pub fn with_server_no_context_takeover(mut self, on: bool) -> Self {
        self.server_no_context_takeover = on;
        self
    }

    /// `client_no_context_takeover` (RFC 7692 §7.1.1.2): the client starts
    /// every message with an empty window.
    #[must_use]
    pub fn with_client_no_context_takeover(mut self, on: bool) -> Self {
        self.client_no_context_takeover = on;
        self
    }

    /// `server_max_window_bits` (RFC 7692 §7.1.2.1): the server's LZ77
    /// window is at most 2^`bits` bytes. `None` means no limit (15). Values
    /// are clamped to `8..=15`.
    #[must_use]
    pub fn with_server_max_window_bits(mut self, bits: Option<u8>) -> Self {
        self.server_max_window_bits = clamp_bits(bits);
        self
    }

    /// `client_max_window_bits` (RFC 7692 §7.1.2.2): the client's LZ77
    /// window is at most 2^`bits` bytes. `None` means no limit (15). Values
    /// are clamped to `8..=15`.
    #[must_use]
    pub fn with_client_max_window_bits(mut self, bits: Option<u8>) -> Self {
        self.client_max_window_bits = clamp_bits(bits);
        self
    }

    /// The compression level, 0 (stored, no compression) to 9 (best);
    /// larger values are clamped to 9.
    ///
    /// At level 1, a direction without context takeover compresses
    /// messages of up to 16 KiB with a built-in one-shot encoder that finds
    /// matches as zlib's level 1 does (fixed Huffman codes, or a stored block
    /// when smaller) instead of resetting zlib, whose reset clears a 128 KiB
    /// table per message: the same output size for a fraction of the CPU
    /// (`bench/README.md`), and no per-connection state (its hash table,
    /// at most 128 KiB, belongs to the thread). Larger messages, other
    /// levels and context takeover use zlib.
    #[must_use]
    pub fn with_level(mut self, level: u32) -> Self {
        self.level = level.min(9);
        self
    }

    /// zlib's `memLevel`, 1 to 9 (values outside are clamped): the
    /// compressor buffers 2^(`mem_level` + 6) symbols before it ends a
    /// block, in `7 << (mem_level + 6)` bytes of buffers, part of which
    /// zlib clears again for every message under `*_no_context_takeover`.
    ///
    /// The whole compressor state (zlib-rs) is about
    /// `2^(bits+2) + 128 KiB + (7 << (mem_level + 6))` bytes for a window of
    /// 2^`bits` (a 128 KiB hash table whatever the settings); the
    /// decompressor about 40 KiB. Each is allocated on the first compressed
    /// message of its direction.
    ///
    /// Smaller values end blocks more often: at level 1 (static codes) that
    /// changes nothing, at higher levels each block repeats its Huffman
    /// tables, which costs ratio on messages much larger than the buffer.
    #[must_use]
    pub fn with_mem_level(mut self, mem_level: u8) -> Self {
        self.mem_level = mem_level.clamp(1, 9);
        self
    }

    /// Messages of at most `bytes` bytes are sent uncompressed (RSV1 clear); `None` compresses every message, the
    /// empty one included.
    #[must_use]
    pub fn with_compress_if_bigger_than(mut self, bytes: Option<usize>) -> Self {
        self.compress_if_bigger_than = bytes;
        self
    }

    /// Whether a client offers the extension.
    #[must_use]
    pub fn client_enabled(&self) -> bool {
        self.client_enabled
    }

    /// Whether a server accepts the extension.
    #[must_use]
    pub fn server_enabled(&self) -> bool {
        self.server_enabled
    }

    /// The `server_no_context_takeover` setting.
    #[must_use]
    pub fn server_no_context_takeover(&self) -> bool {
        self.server_no_context_takeover
    }

    /// The `client_no_context_takeover` setting.
    #[must_use]
    pub fn client_no_context_takeover(&self) -> bool {
        self.client_no_context_takeover
    }

    /// The `server_max_window_bits` setting.
    #[must_use]
    pub fn server_max_window_bits(&self) -> Option<u8> {
        self.server_max_window_bits
    }

    /// The `client_max_window_bits` setting.
    #[must_use]
    pub fn client_max_window_bits(&self) -> Option<u8> {
        self.client_max_window_bits
    }

    /// The compression level.
    #[must_use]
    pub fn level(&self) -> u32 {
        self.level
    }

    /// The compressor's memLevel.
    #[must_use]
    pub fn mem_level(&self) -> u8 {
        self.mem_level
    }

    /// The size up to which messages are sent uncompressed.
    #[must_use]
    pub fn compress_if_bigger_than(&self) -> Option<usize> {
        self.compress_if_bigger_than
    }
}
