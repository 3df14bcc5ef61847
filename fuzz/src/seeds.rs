//! The seed corpus (`fuzz/seeds/<target>/`), built from RFC byte vectors:
//! RFC 6455 §5.7 example frames, the §1.3 opening handshake, and the
//! RFC 7692 §7.2.3 permessage-deflate examples. Regenerate with
//! `cargo run --example gen_seeds` (from `fuzz/`); a test checks that the
//! committed files are up to date.
//!
//! Inputs are written in the encoding the targets read (see the crate docs).

use bytes::BytesMut;
use wsproto_core::frame::{FrameHeader, MAX_HEADER_LEN, apply_mask};
use wsproto_core::{DeflateConfig, DeflateExtension, DeflateParams, Extension, OpCode, Role, Rsv};

/// RFC 6455 §5.7: the masking key of the masked examples.
const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
/// RFC 7692 §7.2.3.1: "Hello" compressed.
const HELLO_DEFLATE: [u8; 7] = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
/// RFC 7692 §7.2.3.2 (second message), .3, .4, .5 and .6.
const DEFLATE_VECTORS: [&[u8]; 5] = [
    &[0xf2, 0x00, 0x11, 0x00, 0x00],
    &[
        0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
    ],
    &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00],
    &[
        0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
    ],
    &[0x00],
];
/// RFC 6455 §1.3: the client's key is base64 of these bytes.
pub const RFC_KEY: [u8; 16] = *b"the sample nonce";
const RFC_REQUEST: &str = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n";
const RFC_RESPONSE: &str = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n";

/// A frame as `role`'s peer sends it: masked with the RFC key when the
/// peer is a client.
pub fn frame(to: Role, fin: bool, rsv: Rsv, opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    let mask = (to == Role::Server).then_some(KEY);
    let header = FrameHeader {
        fin,
        rsv,
        opcode,
        mask,
        payload_len: payload.len() as u64,
    };
    let mut head = [0u8; MAX_HEADER_LEN];
    let n = header.encode(&mut head);
    let mut out = head[..n].to_vec();
    let start = out.len();
    out.extend_from_slice(payload);
    if let Some(key) = mask {
        apply_mask(&mut out[start..], key, 0);
    }
    out
}

/// Input bytes in the targets' encoding.
#[derive(Default)]
struct Enc(Vec<u8>);

impl Enc {
    fn u8(mut self, v: u8) -> Self {
        self.0.push(v);
        self
    }
    fn u16(mut self, v: u16) -> Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn opt16(self, v: Option<u16>) -> Self {
        match v {
            Some(v) => self.u8(1).u16(v),
            None => self.u8(0),
        }
    }
    fn bytes(mut self, v: &[u8]) -> Self {
        self.0.extend_from_slice(v);
        self
    }
    /// A `Chunk`.
    fn chunk(self, v: &[u8]) -> Self {
        self.u16(v.len() as u16).bytes(v)
    }
    /// The `u32` that `#[derive(Arbitrary)]` maps to variant `i` of `n`.
    fn variant(self, i: u64, n: u64) -> Self {
        let x = (i << 32).div_ceil(n);
        self.bytes(&(x as u32).to_le_bytes())
    }
    /// A `connection::Command` (12 variants, in declaration order).
    fn cmd(self, i: u64) -> Self {
        self.variant(i, 12)
    }
}

const DATA: u64 = 0;
const EOF: u64 = 1;
const ADVANCE: u64 = 2;
const SEND_TEXT: u64 = 3;
const PING: u64 = 5;
const CLOSE: u64 = 6;
const SEND_FRAME: u64 = 9;
const POLL: u64 = 10;
const DRAIN: u64 = 11;

/// A `connection::Setup`: deflate on, limits large enough for the vectors.
fn setup(raw: bool, stream_threshold: Option<u16>) -> Enc {
    Enc::default()
        .u8(u8::from(raw))
        .bytes(&[1, 0, 0]) // permessage-deflate, context takeover
        .u16(4096) // max_frame_size
        .u16(8192) // max_message_size
        .u8(16) // max_fragments
        .opt16(stream_threshold)
        .u16(1024) // send_queue_limit
        .opt16(Some(1000)) // ping_interval_ms
        .u16(500) // ping_timeout_ms
        .u16(1000) // close_timeout_ms
}

fn connection_seeds(to: Role) -> Vec<(&'static str, Vec<u8>)> {
    let f = |fin, op, p: &[u8]| frame(to, fin, Rsv::NONE, op, p);
    let deflated = |fin, p: &[u8]| frame(to, fin, Rsv::RSV1, OpCode::Text, p);
    let close = f(true, OpCode::Close, &[0x03, 0xe8, b'b', b'y', b'e']);
    // RFC 6455 §5.7: a text message, a fragmented one with a ping between
    // the fragments, a pong, a 256-byte binary message, then Close.
    let mut rfc = setup(false, None)
        .cmd(DATA)
        .chunk(&f(true, OpCode::Text, b"Hello"))
        .cmd(DATA)
        .chunk(&f(false, OpCode::Text, b"Hel"))
        .cmd(DATA)
        .chunk(&f(true, OpCode::Ping, b"Hello"))
        .cmd(DATA)
        .chunk(&f(true, OpCode::Continuation, b"lo"))
        .cmd(DRAIN)
        .cmd(POLL)
        .u16(u16::MAX)
        .cmd(SEND_TEXT)
        .chunk(b"Hello")
        .cmd(PING)
        .chunk(b"Hello")
        .cmd(DATA)
        .chunk(&f(true, OpCode::Pong, b"Hello"))
        .cmd(DATA)
        .chunk(&f(true, OpCode::Binary, &[0xAB; 256]));
    rfc = rfc
        .cmd(DATA)
        .chunk(&close)
        .cmd(DRAIN)
        .cmd(POLL)
        .u16(u16::MAX)
        .cmd(EOF)
        .cmd(DRAIN);
    // RFC 7692 §7.2.3: every example message, one fragmented.
    let mut deflate = setup(false, None)
        .cmd(DATA)
        .chunk(&deflated(true, &HELLO_DEFLATE))
        .cmd(DATA)
        .chunk(&deflated(false, &HELLO_DEFLATE[..3]))
        .cmd(DATA)
        .chunk(&f(true, OpCode::Continuation, &HELLO_DEFLATE[3..]));
    for vector in DEFLATE_VECTORS {
        deflate = deflate.cmd(DATA).chunk(&deflated(true, vector));
    }
    deflate = deflate
        .cmd(SEND_TEXT)
        .chunk(b"Hello, Hello, Hello")
        .cmd(DRAIN)
        .cmd(POLL)
        .u16(100);
    // Streaming, heartbeat and a locally started close.
    let streamed = setup(false, Some(2))
        .cmd(DATA)
        .chunk(&f(false, OpCode::Text, "κό".as_bytes()))
        .cmd(DATA)
        .chunk(&f(true, OpCode::Continuation, "σμε".as_bytes()))
        .cmd(ADVANCE)
        .u16(1000)
        .cmd(POLL)
        .u16(u16::MAX)
        .cmd(ADVANCE)
        .u16(600)
        .cmd(DRAIN)
        .cmd(POLL)
        .u16(u16::MAX);
    let closing = setup(false, None)
        .cmd(CLOSE)
        .u16(1000)
        .chunk(b"bye")
        .cmd(POLL)
        .u16(3)
        .cmd(DATA)
        .chunk(&close)
        .cmd(POLL)
        .u16(u16::MAX)
        .cmd(ADVANCE)
        .u16(2000)
        .cmd(DRAIN);
    // Raw mode: frames delivered and sent as they are.
    let raw = setup(true, None)
        .cmd(DATA)
        .chunk(&f(false, OpCode::Text, b"Hel"))
        .cmd(DATA)
        .chunk(&f(true, OpCode::Ping, b"Hello"))
        .cmd(DATA)
        .chunk(&f(true, OpCode::Continuation, b"lo"))
        .cmd(SEND_FRAME)
        .bytes(&[1, 0, 0xA])
        .chunk(b"Hello")
        .cmd(DATA)
        .chunk(&close)
        .cmd(SEND_FRAME)
        .bytes(&[1, 0, 8])
        .chunk(&[0x03, 0xe8])
        .cmd(DRAIN)
        .cmd(POLL)
        .u16(u16::MAX);
    vec![
        ("rfc6455-5.7", rfc.0),
        ("rfc7692-7.2.3", deflate.0),
        ("streamed-heartbeat", streamed.0),
        ("local-close", closing.0),
        ("raw", raw.0),
    ]
}

/// Every seed: (target, file name, bytes).
pub fn all() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let mut seeds = Vec::new();
    let mut add = |target, name, bytes| seeds.push((target, name, bytes));
    // frame_header and mask_differential: the RFC 6455 §5.7 frames.
    let hello = b"Hello";
    let masked_hello = frame(Role::Server, true, Rsv::NONE, OpCode::Text, hello);
    assert_eq!(
        masked_hello,
        [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58
        ]
    );
    add(
        "frame_header",
        "unmasked-text",
        frame(Role::Client, true, Rsv::NONE, OpCode::Text, hello),
    );
    add("frame_header", "masked-text", masked_hello.clone());
    add(
        "frame_header",
        "fragment",
        vec![0x01, 0x03, 0x48, 0x65, 0x6c],
    );
    add(
        "frame_header",
        "masked-pong",
        frame(Role::Server, true, Rsv::NONE, OpCode::Pong, hello),
    );
    add("frame_header", "len-256", vec![0x82, 0x7E, 0x01, 0x00]);
    add(
        "frame_header",
        "len-65536-masked",
        vec![0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 0x37, 0xfa, 0x21, 0x3d],
    );
    add(
        "mask_differential",
        "rfc6455-5.7",
        Enc::default()
            .bytes(&KEY)
            .u16(0)
            .u16(2)
            .bytes(&masked_hello[6..])
            .0,
    );
    add(
        "mask_differential",
        "offset",
        Enc::default()
            .bytes(&KEY)
            .u16(3)
            .u16(9)
            .bytes(&[0x5a; 40])
            .0,
    );
    // utf8_differential: no split, and split inside characters.
    let greek = "κόσμε Hello-µ@ßöäüàá-UTF-8!!".as_bytes();
    add(
        "utf8_differential",
        "whole",
        Enc::default().u8(0).bytes(greek).0,
    );
    add(
        "utf8_differential",
        "split",
        Enc::default().u8(3).bytes(&[0, 1, 2]).bytes(greek).0,
    );
    let bad = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited";
    add(
        "utf8_differential",
        "surrogate",
        Enc::default().u8(2).bytes(&[0, 4]).bytes(bad).0,
    );
    add(
        "utf8_differential",
        "truncated",
        Enc::default().u8(1).u8(1).bytes(&greek[..3]).0,
    );
    // inflate: the RFC 7692 §7.2.3 messages, one fragmented, and a bomb.
    let mut rfc = Enc::default().u8(0).u16(1000).u8(1).chunk(&HELLO_DEFLATE);
    rfc = rfc
        .u8(0)
        .chunk(&HELLO_DEFLATE[..3])
        .u8(1)
        .chunk(&HELLO_DEFLATE[3..]);
    for vector in DEFLATE_VECTORS {
        rfc = rfc.u8(1).chunk(vector);
    }
    add("inflate", "rfc7692-7.2.3", rfc.0);
    let mut ext = DeflateExtension::new(
        Role::Client,
        DeflateParams::default(),
        &DeflateConfig::default(),
    );
    let mut bomb = BytesMut::new();
    ext.encode_message(OpCode::Binary, &[0; 1 << 16], &mut bomb)
        .unwrap();
    add(
        "inflate",
        "bomb",
        Enc::default().u8(1).u16(1000).u8(1).chunk(&bomb).0,
    );
    // deflate_round_trip: no context takeover, window 2^8, level 1 (the
    // one-shot encoder) with text, repeats and an empty message; then
    // context takeover, window 2^15, level 6.
    let text = b"Hello, Hello! {\"id\":1,\"name\":\"alpha beta gamma\"}".repeat(8);
    add(
        "deflate_round_trip",
        "one-shot",
        Enc::default()
            .u8(1)
            .u8(0)
            .u8(0)
            .chunk(b"Hello")
            .chunk(&text)
            .chunk(&[0; 600])
            .chunk(b"")
            .0,
    );
    add(
        "deflate_round_trip",
        "takeover",
        Enc::default().u8(0).u8(7).u8(2).chunk(&text).chunk(&text).0,
    );
    // fresh_zlib_inflate: the one-shot encoder's output through zlib-rs,
    // window 2^15 then 2^8: text, a short word repeated past 1 KiB, zeros
    // repeated to 16 KiB (the encoder's limit), an empty message.
    add(
        "fresh_zlib_inflate",
        "window-15",
        Enc::default()
            .u8(7)
            .chunk(&text)
            .u8(0)
            .chunk(b"Hello")
            .u8(250)
            .chunk(&[0; 600])
            .u8(30)
            .chunk(b"")
            .u8(0)
            .0,
    );
    add(
        "fresh_zlib_inflate",
        "window-8",
        Enc::default().u8(0).chunk(&text).u8(3).chunk(&text).u8(0).0,
    );
    // Handshakes: RFC 6455 §1.3, whole and in pieces, with extensions and
    // the start of the WebSocket stream, and a refusal.
    let response = |extra: &str, tail: &[u8]| head(RFC_RESPONSE, extra, tail);
    add(
        "client_handshake",
        "rfc6455-1.3",
        Enc::default().u8(255).u8(0).bytes(&response("", b"")).0,
    );
    let deflate_response = response(
        "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n",
        &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f],
    );
    add(
        "client_handshake",
        "deflate-leftover-split",
        Enc::default()
            .u8(255)
            .u8(3)
            .bytes(&[0, 6, 40])
            .bytes(&deflate_response)
            .0,
    );
    add(
        "client_handshake",
        "404",
        Enc::default()
            .u8(255)
            .u8(0)
            .bytes(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found")
            .0,
    );
    let request = |extra: &str, tail: &[u8]| head(RFC_REQUEST, extra, tail);
    add(
        "server_handshake",
        "rfc6455-1.3-accept",
        Enc::default()
            .u8(255)
            .u8(1)
            .bytes(&[0, 0])
            .u8(0)
            .bytes(&request("", b""))
            .0,
    );
    let offer = request(
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x-foo\r\n",
        &masked_hello,
    );
    add(
        "server_handshake",
        "deflate-leftover-split",
        Enc::default()
            .u8(255)
            .u8(1)
            .bytes(&[0, 0])
            .u8(2)
            .bytes(&[0, 17])
            .bytes(&offer)
            .0,
    );
    add(
        "server_handshake",
        "reject-403",
        Enc::default()
            .u8(255)
            .u8(0)
            .bytes(&[0x01, 0x2F])
            .u8(0)
            .bytes(&request("", b""))
            .0,
    );
    add(
        "server_handshake",
        "version-426",
        Enc::default()
            .u8(255)
            .u8(0)
            .bytes(&[0, 0])
            .u8(0)
            .bytes(RFC_REQUEST.replace("13", "8").as_bytes())
            .bytes(b"\r\n")
            .0,
    );
    // parsed_negotiation: method, version, target, base fields, extra
    // fields, via, protocol, policy, accept, status (see `negotiation`).
    let negotiation =
        |method: u8, version: u8, base: u8, via: u8, policy: u8, extra: &[(&[u8], &[u8])]| {
            let mut enc = Enc::default()
                .u8(method)
                .u8(version)
                .chunk(b"chat")
                .u8(base)
                .u8(extra.len() as u8);
            for (name, value) in extra {
                enc = enc.chunk(name).chunk(value);
            }
            enc.u8(via).chunk(b"").u8(policy).u8(1).bytes(&[0, 100]).0
        };
    let deflate: (&[u8], &[u8]) = (
        b"sec-websocket-extensions",
        b"permessage-deflate; client_max_window_bits",
    );
    let protocols: (&[u8], &[u8]) = (b"sec-websocket-protocol", b"chat, superchat");
    let origin: (&[u8], &[u8]) = (b"origin", b"http://example.com");
    add(
        "parsed_negotiation",
        "rfc6455-1.3-http11",
        negotiation(0, 0, 1, 0, 0, &[origin, protocols, deflate]),
    );
    add(
        "parsed_negotiation",
        "rfc8441-extended-connect",
        negotiation(1, 2, 2, 2, 1, &[protocols, deflate]),
    );
    add(
        "parsed_negotiation",
        "foreign-origin-403",
        negotiation(0, 0, 1, 0, 1, &[origin]),
    );
    add(
        "parsed_negotiation",
        "get-with-body-400",
        negotiation(0, 0, 1, 0, 0, &[(b"content-length", b"5")]),
    );
    for (name, bytes) in connection_seeds(Role::Server) {
        add("connection_server", name, bytes);
    }
    for (name, bytes) in connection_seeds(Role::Client) {
        add("connection_client", name, bytes);
    }
    seeds
}

#[cfg(test)]
mod tests {
    /// The committed seeds are what `all()` builds (run `cargo run --example
    /// gen_seeds` after changing the encoding or the vectors).
    #[test]
    fn committed_seeds_are_current() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
        for (target, name, bytes) in super::all() {
            let path = dir.join(target).join(name);
            let committed = std::fs::read(&path).unwrap_or_default();
            assert!(
                committed == bytes,
                "{} is stale: run `cargo run --example gen_seeds`",
                path.display()
            );
        }
    }
}

/// An HTTP head (`start`, then `extra` header lines, then the blank line)
/// followed by `tail`, the bytes that come after it on the wire.
fn head(start: &str, extra: &str, tail: &[u8]) -> Vec<u8> {
    let mut bytes = format!("{start}{extra}\r\n").into_bytes();
    bytes.extend_from_slice(tail);
    bytes
}
