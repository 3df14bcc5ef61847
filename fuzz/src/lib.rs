//! Shared pieces of the fuzz targets: input decoding that seeds can be written
//! for by hand, and the connection driver with its oracle.
//!
//! Inputs are read front to back with [`arbitrary`]: integers little-endian,
//! enum variants chosen by a `u32`, and byte strings as [`Chunk`]s (a `u16`
//! length, then the bytes), so `fuzz/seeds/` can be generated from RFC byte
//! vectors (`cargo run --example gen_seeds`, see [`seeds`]).

use arbitrary::{Arbitrary, Result, Unstructured};

pub mod connection;
pub mod handshake;
pub mod proxy;
pub mod negotiation;
pub mod prepared;
pub mod seeds;
pub mod wire;

/// Bytes prefixed by a little-endian `u16` length (cut to what is left).
/// Unlike `Vec<u8>`'s encoding it reads only from the front.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chunk(pub Vec<u8>);

impl<'a> Arbitrary<'a> for Chunk {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let len = usize::from(u16::arbitrary(u)?).min(u.len());
        Ok(Chunk(u.bytes(len)?.to_vec()))
    }
}

/// Reads up to eight chunk sizes (a count in `0..=8`, then one byte each) and
/// splits the rest of the input by them, cycling; no sizes: one piece.
/// Piece lengths are `size + 1`, so no piece is empty.
pub fn split<'a>(u: &mut Unstructured<'a>) -> Result<Vec<&'a [u8]>> {
    let count = u.int_in_range(0..=8u8)?;
    let sizes: Vec<usize> = (0..count)
        .map(|_| u.arbitrary::<u8>().map(|s| usize::from(s) + 1))
        .collect::<Result<_>>()?;
    let mut rest = u.bytes(u.len())?;
    let mut pieces = Vec::new();
    for size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (piece, tail) = rest.split_at((*size).min(rest.len()));
        pieces.push(piece);
        rest = tail;
    }
    if !rest.is_empty() {
        pieces.push(rest);
    }
    Ok(pieces)
}

/// Checks that `reply` is one well-formed HTTP/1.1 response (a complete
/// head, then exactly `Content-Length` body bytes, or none for a 101) and
/// returns its status code and body length.
pub fn http_reply(reply: &[u8]) -> (u16, usize) {
    assert!(reply.starts_with(b"HTTP/1.1 "), "{reply:?}");
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut response = httparse::Response::new(&mut headers);
    let httparse::Status::Complete(head) = response.parse(reply).expect("well-formed") else {
        panic!("incomplete reply head");
    };
    let body = reply.len() - head;
    let length = response
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .map(|h| {
            std::str::from_utf8(h.value)
                .unwrap()
                .parse::<usize>()
                .unwrap()
        });
    assert_eq!(length.unwrap_or(0), body, "Content-Length");
    (response.code.unwrap(), body)
}
