//! Prepared messages with random deflate parameters, levels, thresholds and
//! fragment sizes: each server connection's bytes equal a normal send's,
//! and a client with the same parameters inflates every message back.
#![no_main]
use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use wsproto_core::{Event, Message, PreparedMessage};
use wsproto_fuzz::{Chunk, prepared};

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let now = std::time::Instant::now();
    let Ok([mut normal, mut shared, mut client]) = prepared::connections(&mut u, now) else {
        return;
    };
    while let Ok(Chunk(bytes)) = Chunk::arbitrary(&mut u) {
        let message = Message::Binary(bytes.into());
        normal.send_message(message.clone()).unwrap();
        let prepared = PreparedMessage::new(message.clone());
        shared.send_prepared(&prepared).unwrap();
        let want = normal.poll_transmit().to_vec();
        let got = shared.poll_transmit().to_vec();
        assert_eq!(want, got, "prepared frames differ from a normal send");
        normal.advance_transmit(want.len());
        shared.advance_transmit(got.len());
        client.handle_data(now, &got);
        assert_eq!(client.poll_event(), Some(Event::Message(message)));
        if u.is_empty() {
            return;
        }
    }
});
