use super::*;

const V4_OK: [u8; 10] = [5, 0, 0, 1, 10, 0, 0, 7, 0x1f, 0x90];

fn name(host: &str, port: u16) -> SocksTarget {
    SocksTarget::Name(host.into(), port)
}

/// Feeds `input` in pieces cut at `cuts`, answering every transmit; returns
/// what was sent, what was consumed in total, and the end state.
fn run(
    client: &mut Socks5Client,
    input: &[u8],
    cut: usize,
) -> (Vec<u8>, usize, Result<(), SocksError>) {
    let mut sent = client.poll_transmit().unwrap_or_default();
    let mut consumed = 0;
    for piece in [&input[..cut], &input[cut..]] {
        let mut piece = piece;
        while !piece.is_empty() && !client.is_established() {
            match client.handle_data(piece) {
                Ok(n) => {
                    consumed += n;
                    piece = &piece[n..];
                }
                Err(e) => return (sent, consumed, Err(e)),
            }
            sent.extend(client.poll_transmit().unwrap_or_default());
        }
    }
    (sent, consumed, Ok(()))
}

#[test]
fn no_auth_connect_by_name_at_every_split() {
    let mut input = vec![5, 0];
    input.extend_from_slice(&V4_OK);
    input.extend_from_slice(b"tunnel bytes");
    for cut in 0..=input.len() {
        let mut client = Socks5Client::new(&name("example.com", 443), None).unwrap();
        let (sent, consumed, end) = run(&mut client, &input, cut);
        assert_eq!(end, Ok(()));
        assert_eq!(consumed, 12, "cut {cut}: the tunnel's bytes are left");
        let mut expected = vec![5, 1, 0, 5, 1, 0, 3, 11];
        expected.extend_from_slice(b"example.com");
        expected.extend_from_slice(&443u16.to_be_bytes());
        assert_eq!(sent, expected);
        assert!(client.is_established());
        assert_eq!(client.wants(), 0);
        assert_eq!(
            client.bound(),
            Some(&SocksTarget::Addr("10.0.0.7:8080".parse().unwrap()))
        );
    }
}

#[test]
fn username_password_then_connect_to_an_address() {
    let target = SocksTarget::Addr("[2001:db8::1]:80".parse().unwrap());
    let mut client = Socks5Client::new(&target, Some(&Credentials::new("ann", "pw"))).unwrap();
    let mut input = vec![5, 2, 1, 0, 5, 0, 0, 3, 4];
    input.extend_from_slice(b"host");
    input.extend_from_slice(&[0, 7]);
    let (sent, consumed, end) = run(&mut client, &input, 3);
    assert_eq!((end, consumed), (Ok(()), input.len()));
    let mut expected = vec![
        5, 2, 0, 2, 1, 3, b'a', b'n', b'n', 2, b'p', b'w', 5, 1, 0, 4,
    ];
    expected.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
    expected.extend_from_slice(&[0, 80]);
    assert_eq!(sent, expected);
    assert_eq!(client.bound(), Some(&name("host", 7)));
}

#[test]
fn a_proxy_may_skip_authentication_and_may_answer_with_ipv6() {
    let mut client = Socks5Client::new(&name("h", 1), Some(&Credentials::new("u", ""))).unwrap();
    let mut input = vec![5, 0, 5, 0, 0, 4];
    input.extend_from_slice(&[0; 16]);
    input.extend_from_slice(&[0, 1]);
    let (sent, _, end) = run(&mut client, &input, 0);
    assert_eq!(end, Ok(()));
    assert_eq!(&sent[..4], &[5, 2, 0, 2]);
    assert_eq!(&sent[4..7], &[5, 1, 0], "no username/password step");
    assert_eq!(
        client.bound(),
        Some(&SocksTarget::Addr("[::]:1".parse().unwrap()))
    );
}

#[test]
fn every_reply_code_by_name() {
    let names = [
        (
            1,
            SocksReply::GeneralFailure,
            "general SOCKS server failure (SOCKS5 reply 0x01)",
        ),
        (
            2,
            SocksReply::NotAllowed,
            "connection not allowed by ruleset (SOCKS5 reply 0x02)",
        ),
        (
            3,
            SocksReply::NetworkUnreachable,
            "network unreachable (SOCKS5 reply 0x03)",
        ),
        (
            4,
            SocksReply::HostUnreachable,
            "host unreachable (SOCKS5 reply 0x04)",
        ),
        (
            5,
            SocksReply::ConnectionRefused,
            "connection refused (SOCKS5 reply 0x05)",
        ),
        (6, SocksReply::TtlExpired, "TTL expired (SOCKS5 reply 0x06)"),
        (
            7,
            SocksReply::CommandNotSupported,
            "command not supported (SOCKS5 reply 0x07)",
        ),
        (
            8,
            SocksReply::AddressTypeNotSupported,
            "address type not supported (SOCKS5 reply 0x08)",
        ),
        (
            0x42,
            SocksReply::Unassigned(0x42),
            "unassigned reply code (SOCKS5 reply 0x42)",
        ),
    ];
    for (code, reply, text) in names {
        let mut client = Socks5Client::new(&name("h", 1), None).unwrap();
        // The code alone decides: the rest of the reply need not arrive.
        let (_, _, end) = run(&mut client, &[5, 0, 5, code], 0);
        assert_eq!(end, Err(SocksError::Refused(reply)));
        assert_eq!((reply.code(), reply.to_string().as_str()), (code, text));
        assert_eq!(SocksReply::from_code(code), Some(reply));
        assert_eq!(client.wants(), 0);
    }
    assert_eq!(SocksReply::from_code(0), None);
}

#[test]
fn protocol_faults() {
    let with_password = Some(Credentials::new("u", "p"));
    let cases: [(&[u8], Option<&Credentials>, SocksError); 7] = [
        (b"HTTP/1.1 400", None, SocksError::Version(b'H')),
        (&[5, 2], None, SocksError::PasswordWanted),
        (&[5, 0xFF], None, SocksError::NoAcceptableMethod),
        (
            &[5, 1],
            with_password.as_ref(),
            SocksError::UnofferedMethod(1),
        ),
        (
            &[5, 2, 1, 1],
            with_password.as_ref(),
            SocksError::AuthStatus(1),
        ),
        (&[5, 0, 4, 0], None, SocksError::Version(4)),
        (&[5, 0, 5, 0, 0, 9], None, SocksError::AddressType(9)),
    ];
    for (input, credentials, error) in cases {
        let mut client = Socks5Client::new(&name("h", 1), credentials).unwrap();
        assert_eq!(
            run(&mut client, input, 1).2,
            Err(error.clone()),
            "{input:?}"
        );
        assert!(!client.is_established());
    }
}

#[test]
fn eof_says_where() {
    let credentials = Credentials::new("u", "p");
    for (input, stage) in [
        (&[][..], SocksStage::Method),
        (&[5][..], SocksStage::Method),
        (&[5, 2][..], SocksStage::Auth),
        (&[5, 2, 1, 0][..], SocksStage::Reply),
        (&[5, 2, 1, 0, 5, 0, 0, 1, 1][..], SocksStage::Reply),
    ] {
        let mut client = Socks5Client::new(&name("h", 1), Some(&credentials)).unwrap();
        assert_eq!(run(&mut client, input, 0).2, Ok(()));
        assert_eq!(client.handle_eof(), SocksError::Closed(stage), "{input:?}");
    }
}

#[test]
fn setup_limits() {
    let long = "x".repeat(256);
    assert_eq!(
        Socks5Client::new(&name("", 1), None).unwrap_err(),
        SocksSetupError::NameLength(0)
    );
    assert_eq!(
        Socks5Client::new(&name(&long, 1), None).unwrap_err(),
        SocksSetupError::NameLength(256)
    );
    assert!(Socks5Client::new(&name(&long[1..], 1), None).is_ok());
    let err = |u: &str, p: &str| {
        Socks5Client::new(&name("h", 1), Some(&Credentials::new(u, p))).unwrap_err()
    };
    assert_eq!(err("", "p"), CredentialsError::UsernameLength(0).into());
    assert_eq!(
        err(&long, "p"),
        CredentialsError::UsernameLength(256).into()
    );
    assert_eq!(
        err("u", &long),
        CredentialsError::PasswordLength(256).into()
    );
}
