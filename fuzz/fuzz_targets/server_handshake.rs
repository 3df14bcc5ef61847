//! A `ServerHandshake` (permessage-deflate, a head limit from the input) fed
//! an arbitrary request in arbitrary pieces: on `Complete`, `accept` (with an
//! offered subprotocol) or `reject` write well-formed HTTP; on an error,
//! `response_bytes()` is a well-formed 400, 426 or 431.
#![no_main]
use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use wsproto_core::handshake::{Progress, ServerError, ServerHandshake};
use wsproto_fuzz::{handshake, http_reply};

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let (Ok(limit), Ok(accept)) = (u.arbitrary(), u.arbitrary()) else {
        return;
    };
    let Ok(status) = u.int_in_range(100..=999u16) else {
        return;
    };
    let mut hs = ServerHandshake::new(&handshake::config(limit));
    let Ok(pieces) = wsproto_fuzz::split(&mut u) else {
        return;
    };
    for piece in pieces {
        match hs.handle_data(piece) {
            Ok(Progress::Partial) => {}
            Ok(Progress::Complete(request)) => return handshake::answer(request, accept, status),
            Err(ServerError::Request(e)) => {
                assert!(matches!(e.status().as_u16(), 400 | 426 | 431));
                return assert_eq!(http_reply(&e.response_bytes()).0, e.status().as_u16());
            }
            Err(e) => panic!("undocumented error {e:?}"),
        }
    }
});
