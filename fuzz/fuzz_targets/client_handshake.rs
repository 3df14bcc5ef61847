//! A `ClientHandshake` (the RFC 6455 §1.3 key, two subprotocols,
//! permessage-deflate, a head limit from the input) fed an arbitrary response
//! in arbitrary pieces, then EOF: only documented errors, limits reported as
//! configured, and the leftover is what followed the head.
#![no_main]
use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use wsproto_core::handshake::{ClientBuilder, ClientError::Response, Progress, ResponseError as E};
use wsproto_fuzz::{handshake, seeds::RFC_KEY};

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let config = handshake::config(u.arbitrary().unwrap_or(0));
    let builder = ClientBuilder::new("ws://server.example.com/chat").unwrap();
    let mut hs = builder
        .subprotocol("chat")
        .subprotocol("superchat")
        .build(RFC_KEY, &config)
        .unwrap();
    let Ok(pieces) = wsproto_fuzz::split(&mut u) else {
        return;
    };
    let mut fed = Vec::new();
    for piece in pieces {
        fed.extend_from_slice(piece);
        match hs.handle_data(piece) {
            Ok(Progress::Partial) => continue,
            Ok(Progress::Complete(upgrade)) => return assert!(fed.ends_with(&upgrade.leftover)),
            Err(Response(e)) => return handshake::check_response_error(&e, &config),
            Err(e) => panic!("undocumented error {e:?}"),
        }
    }
    match hs.handle_eof() {
        Response(E::UnexpectedEof { received }) => assert_eq!(received, fed.len()),
        Response(e @ E::UnexpectedStatus(_)) => handshake::check_response_error(&e, &config),
        e => panic!("undocumented EOF error {e:?}"),
    }
    assert!(hs.is_finished());
});
