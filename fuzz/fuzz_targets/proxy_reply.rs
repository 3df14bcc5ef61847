//! A proxy's answer in arbitrary pieces, then EOF. The `CONNECT` answer
//! parser finds the same head however the input is cut; the SOCKS5 client
//! (credentials or not, a name or an address) takes no byte after its last
//! reply, reports `Closed` only at EOF, and is done once it fails.
#![no_main]
use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use ws_session::proxy::{Credentials, Socks5Client, SocksError, SocksTarget};

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let (Ok(password), Ok(by_name)) = (bool::arbitrary(&mut u), bool::arbitrary(&mut u)) else {
        return;
    };
    let Ok(pieces) = wsproto_fuzz::split(&mut u) else {
        return;
    };
    wsproto_fuzz::proxy::connect_reply(&pieces);
    let targets = [
        SocksTarget::Addr(([192, 0, 2, 1], 443).into()),
        SocksTarget::Name("a.test".into(), 443),
    ];
    let credentials = password.then(|| Credentials::new("user", "password"));
    let mut client =
        Socks5Client::new(&targets[usize::from(by_name)], credentials.as_ref()).unwrap();
    for piece in pieces {
        let _ = client.poll_transmit();
        match client.handle_data(piece) {
            Ok(n) => assert!(n == piece.len() || client.is_established()),
            Err(SocksError::Closed(_)) => panic!("Closed before EOF"),
            Err(_) => return assert_eq!(client.wants(), 0),
        }
        if client.is_established() {
            return assert!(client.bound().is_some() && client.wants() == 0);
        }
    }
    assert!(matches!(client.handle_eof(), SocksError::Closed(_)));
});
