//! `UpgradeRequest::from_request` on an arbitrary parsed request (HTTP/1.1
//! or RFC 8441 extended CONNECT, an Origin policy, permessage-deflate):
//! only the documented refusals (400, 403, 426) with well-formed replies;
//! `accept` gives a 101 with the right accept key or a 200 without one;
//! and an HTTP/1.x request serialised and fed to `ServerHandshake` gets the
//! same answer byte for byte (one negotiation for both paths). See
//! `wsproto_fuzz::negotiation` for the input layout.
#![no_main]
use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use wsproto_fuzz::negotiation::Input;

fuzz_target!(|data: &[u8]| {
    if let Ok(input) = Input::arbitrary(&mut Unstructured::new(data)) {
        input.check();
    }
});
