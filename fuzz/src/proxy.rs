//! The oracle of the `proxy_reply` target's HTTP half.

use ws_session::proxy::http_connect::{MAX_REPLY_HEAD, parse_reply};

/// Feeds `pieces` to the `CONNECT` answer parser as they would arrive: once
/// a head is found its length never changes, and an incomplete head never
/// reaches `MAX_REPLY_HEAD` (an error comes first).
pub fn connect_reply(pieces: &[&[u8]]) {
    let (mut fed, mut head) = (Vec::new(), None);
    for piece in pieces {
        fed.extend_from_slice(piece);
        match parse_reply(&fed) {
            Ok(Some((_, len))) => assert_eq!(*head.get_or_insert(len), len),
            Ok(None) => assert!(head.is_none() && fed.len() < MAX_REPLY_HEAD),
            Err(_) => return,
        }
    }
}
