//! Hand-built wire bytes for the attackers: frames (RFC 6455 §5.2) and
//! HTTP upgrade heads, written here byte by byte rather than with the
//! codec under test, plus the deflate bomb (RFC 7692 §7.2.1) made with
//! flate2 directly.

use flate2::{Compress, Compression, FlushCompress};

/// Opcodes (RFC 6455 §5.2).
pub mod opcode {
    /// Continuation frame.
    pub const CONTINUATION: u8 = 0x0;
    /// Text frame.
    pub const TEXT: u8 = 0x1;
    /// Binary frame.
    pub const BINARY: u8 = 0x2;
    /// Close frame.
    pub const CLOSE: u8 = 0x8;
    /// Ping frame.
    pub const PING: u8 = 0x9;
    /// Pong frame.
    pub const PONG: u8 = 0xA;
}

/// RSV1: permessage-deflate's "compressed" bit (RFC 7692 §6).
pub const RSV1: u8 = 0x40;
/// FIN bit.
pub const FIN: u8 = 0x80;

/// The fixed mask key the attacking client uses (any key is valid).
pub const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// Appends a frame header: `first` is FIN | RSV | opcode, `len` the declared
/// payload length in whatever encoding RFC 6455 §5.2 picks for it (7, 16
/// or 64 bits), `mask` the masking key if any.
pub fn push_header(out: &mut Vec<u8>, first: u8, len: u64, mask: Option<[u8; 4]>) {
    out.push(first);
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    match len {
        0..=125 => out.push(mask_bit | len as u8),
        126..=0xFFFF => {
            out.push(mask_bit | 0x7e);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(mask_bit | 0x7f);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    if let Some(key) = mask {
        out.extend_from_slice(&key);
    }
}

/// Appends a whole frame; the payload is masked with `mask` if given.
pub fn push_frame(out: &mut Vec<u8>, first: u8, payload: &[u8], mask: Option<[u8; 4]>) {
    push_header(out, first, payload.len() as u64, mask);
    match mask {
        Some(key) => out.extend(payload.iter().zip(key.iter().cycle()).map(|(b, k)| b ^ k)),
        None => out.extend_from_slice(payload),
    }
}

/// A masked frame, as a client sends it.
#[must_use]
pub fn client_frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 14);
    push_frame(&mut out, first, payload, Some(MASK));
    out
}

/// An unmasked frame, as a server sends it.
#[must_use]
pub fn server_frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 10);
    push_frame(&mut out, first, payload, None);
    out
}

/// A frame as read off the wire (unmasked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFrame {
    /// FIN.
    pub fin: bool,
    /// RSV1-3 as in the first byte (`0x70` mask).
    pub rsv: u8,
    /// The opcode.
    pub opcode: u8,
    /// Whether the frame was masked.
    pub masked: bool,
    /// The payload, unmasked.
    pub payload: Vec<u8>,
}

impl RawFrame {
    /// A Close frame's code and reason (`None` for an empty Close or another
    /// opcode).
    #[must_use]
    pub fn close(&self) -> Option<(u16, String)> {
        if self.opcode != opcode::CLOSE || self.payload.len() < 2 {
            return None;
        }
        let code = u16::from_be_bytes([self.payload[0], self.payload[1]]);
        Some((
            code,
            String::from_utf8_lossy(&self.payload[2..]).into_owned(),
        ))
    }
}

/// Parses one frame from the front of `buf`: the frame and its length on
/// the wire, or `None` when more bytes are needed. Lengths over `usize`
/// are a test failure (our endpoints never send them).
#[must_use]
pub fn parse_frame(buf: &[u8]) -> Option<(RawFrame, usize)> {
    let [b0, b1, ..] = *buf else { return None };
    let masked = b1 & 0x80 != 0;
    let (len, mut at) = match b1 & 0x7f {
        126 => (
            u64::from(u16::from_be_bytes(buf.get(2..4)?.try_into().ok()?)),
            4,
        ),
        127 => (u64::from_be_bytes(buf.get(2..10)?.try_into().ok()?), 10),
        n => (u64::from(n), 2),
    };
    let key: Option<[u8; 4]> = if masked {
        let key = buf.get(at..at + 4)?.try_into().ok()?;
        at += 4;
        Some(key)
    } else {
        None
    };
    let len = usize::try_from(len).expect("frame length fits in memory");
    let mut payload = buf.get(at..at + len)?.to_vec();
    if let Some(key) = key {
        for (b, k) in payload.iter_mut().zip(key.iter().cycle()) {
            *b ^= k;
        }
    }
    Some((
        RawFrame {
            fin: b0 & FIN != 0,
            rsv: b0 & 0x70,
            opcode: b0 & 0x0f,
            masked,
            payload,
        },
        at + len,
    ))
}

/// The client's `Sec-WebSocket-Key` (any 16 bytes, base64).
pub const CLIENT_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// A valid upgrade request for `/` with `extra` header lines (each ending in
/// `\r\n`) before the blank line.
#[must_use]
pub fn upgrade_request(host: &str, extra: &str) -> Vec<u8> {
    format!(
        "GET / HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {CLIENT_KEY}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
    .into_bytes()
}

/// A 101 answer to a request carrying `key`, with `extra` header lines.
#[must_use]
pub fn upgrade_response(key: &str, extra: &str) -> Vec<u8> {
    let accept = wsproto_core::handshake::accept_key(key);
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n{extra}\r\n"
    )
    .into_bytes()
}

/// The `permessage-deflate` offer / agreement header line.
pub const DEFLATE_HEADER: &str = "Sec-WebSocket-Extensions: permessage-deflate\r\n";

/// A permessage-deflate payload (RFC 7692 §7.2.1: DEFLATE, sync flush, the
/// `00 00 ff ff` tail removed) that inflates to `inflated` zero bytes. Made
/// from a 64 KiB zero block fed repeatedly, so the attacker itself never
/// holds the inflated size; the result is about `inflated / 1000` bytes.
///
/// # Panics
/// If flate2 fails (it does not on this input).
#[must_use]
pub fn deflate_bomb(inflated: usize) -> Vec<u8> {
    static BLOCK: [u8; 64 * 1024] = [0; 64 * 1024];
    let mut compress = Compress::new(Compression::best(), false);
    let mut out = Vec::with_capacity(inflated / 512 + 64);
    let mut left = inflated;
    while left > 0 {
        let take = left.min(BLOCK.len());
        let before = compress.total_in();
        out.reserve(take / 256 + 64);
        compress
            .compress_vec(&BLOCK[..take], &mut out, FlushCompress::None)
            .expect("deflate");
        left -= (compress.total_in() - before) as usize;
    }
    loop {
        out.reserve(1024);
        let before = out.len();
        compress
            .compress_vec(&[], &mut out, FlushCompress::Sync)
            .expect("deflate");
        if out.len() == before || out.ends_with(&[0, 0, 0xff, 0xff]) {
            break;
        }
    }
    assert!(out.ends_with(&[0, 0, 0xff, 0xff]), "sync flush tail");
    out.truncate(out.len() - 4);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_with_every_length_encoding() {
        for len in [0, 125, 126, 0xFFFF, 0x1_0000] {
            let payload: Vec<u8> = (0..len).map(|i: u32| i.to_le_bytes()[0]).collect();
            for bytes in [
                client_frame(FIN | opcode::BINARY, &payload),
                server_frame(FIN | opcode::BINARY, &payload),
            ] {
                let (frame, used) = parse_frame(&bytes).unwrap();
                assert_eq!(used, bytes.len());
                assert_eq!(frame.payload, payload);
                assert!(parse_frame(&bytes[..bytes.len() - 1]).is_none());
            }
        }
    }

    #[test]
    fn rfc6455_5_7_masked_hello() {
        // RFC 6455 §5.7: a single-frame masked text message "Hello".
        let mut out = Vec::new();
        push_frame(
            &mut out,
            FIN | opcode::TEXT,
            b"Hello",
            Some([0x37, 0xfa, 0x21, 0x3d]),
        );
        assert_eq!(
            out,
            [
                0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58
            ]
        );
    }

    #[test]
    fn the_bomb_inflates_to_the_size_asked_for() {
        let inflated = 3 << 20;
        let mut bomb = deflate_bomb(inflated);
        assert!(bomb.len() < inflated / 500, "{} bytes", bomb.len());
        bomb.extend_from_slice(&[0, 0, 0xff, 0xff]);
        let mut inflate = flate2::Decompress::new(false);
        let mut out = Vec::with_capacity(inflated + 1);
        inflate
            .decompress_vec(&bomb, &mut out, flate2::FlushDecompress::Sync)
            .unwrap();
        assert_eq!(out.len(), inflated);
        assert!(out.iter().all(|&b| b == 0));
    }
}
