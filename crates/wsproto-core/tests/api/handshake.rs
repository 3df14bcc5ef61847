//! SPEC §3 rows for the handshake, through the public API: malformed or
//! oversize requests get 400/426/431 replies; a client refuses a bad accept
//! key, an unoffered subprotocol or extension, and reports a refused upgrade
//! with its status, headers and body.

use crate::util;

use wsproto_core::handshake::{
    ClientBuilder, ClientError, ClientHandshake, Progress, ResponseError, ServerError,
    ServerHandshake, accept_key,
};
use wsproto_core::{Config, DeflateConfig, HandshakeLimits};

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

fn request(extra: &str) -> String {
    format!(
        "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\n{extra}\r\n"
    )
}

fn server_reply(config: &Config, req: &str) -> (u16, String) {
    match ServerHandshake::new(config).handle_data(req.as_bytes()) {
        Err(ServerError::Request(err)) => (
            err.status().as_u16(),
            String::from_utf8(err.response_bytes()).unwrap(),
        ),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn malformed_or_oversize_handshake_gets_400_426_or_431() {
    let config = Config::default();
    let ok = "Sec-WebSocket-Version: 13\r\n";
    let cases = [
        (request(ok).replace("GET", "POST"), 400),
        (request(ok).replace("HTTP/1.1", "HTTP/1.0"), 400),
        (request(ok).replace("Host: server.example.com\r\n", ""), 400),
        (
            request(ok).replace("Upgrade: websocket", "Upgrade: h2c"),
            400,
        ),
        (
            request(ok).replace("Connection: Upgrade", "Connection: keep-alive"),
            400,
        ),
        (request(ok).replace(KEY, "c2hvcnQ="), 400),
        (request(ok).replace(KEY, "not base64!"), 400),
        (request("Sec-WebSocket-Version: 8\r\n"), 426),
        (request(""), 426),
        ("GARBAGE\r\n\r\n".to_owned(), 400),
    ];
    for (req, status) in cases {
        let (got, reply) = server_reply(&config, &req);
        assert_eq!(got, status, "{req:?}");
        assert!(reply.starts_with(&format!("HTTP/1.1 {status} ")), "{reply}");
        if status == 426 {
            assert!(reply.contains("Sec-WebSocket-Version: 13\r\n"), "{reply}");
        }
    }
    let small = Config::default().with_handshake_limits(HandshakeLimits {
        max_head_bytes: 256,
        max_headers: 8,
    });
    let big = request(&format!(
        "Sec-WebSocket-Version: 13\r\nX-Pad: {}\r\n",
        "a".repeat(300)
    ));
    assert_eq!(server_reply(&small, &big).0, 431);
    let many = request(&format!(
        "Sec-WebSocket-Version: 13\r\n{}",
        "X-A: 1\r\n".repeat(10)
    ));
    assert_eq!(server_reply(&small, &many).0, 431);
}

#[test]
fn a_valid_request_split_anywhere_is_accepted() {
    let req = request("Sec-WebSocket-Version: 13\r\nConnection: keep-alive\r\n");
    let req = req.replace(
        "Connection: Upgrade\r\n",
        "connection: keep-alive, UPGRADE\r\n",
    );
    for cut in 0..req.len() {
        let mut server = ServerHandshake::new(&Config::default());
        let first = server.handle_data(&req.as_bytes()[..cut]).unwrap();
        assert!(matches!(first, Progress::Partial), "cut {cut}");
        assert!(matches!(
            server.handle_data(&req.as_bytes()[cut..]).unwrap(),
            Progress::Complete(_)
        ));
    }
}

fn client(config: &Config, subprotocol: Option<&str>) -> ClientHandshake {
    let mut builder = ClientBuilder::new("ws://server.example.com/chat").unwrap();
    if let Some(p) = subprotocol {
        builder = builder.subprotocol(p);
    }
    builder.build(*b"the sample nonce", config).unwrap()
}

fn response(extra: &str) -> String {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n{extra}\r\n",
        accept_key(KEY)
    )
}

fn client_error(config: &Config, subprotocol: Option<&str>, resp: &str) -> ResponseError {
    match client(config, subprotocol).handle_data(resp.as_bytes()) {
        Err(ClientError::Response(err)) => err,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn bad_accept_key_unoffered_subprotocol_or_extension_is_refused() {
    let config = Config::default();
    // The sample nonce of RFC 6455 §1.3 is the key, so this response is right.
    assert!(matches!(
        client(&config, None).handle_data(response("").as_bytes()),
        Ok(Progress::Complete(_))
    ));
    let bad_accept = response("").replace(&accept_key(KEY), "s3pPLMBiTxaQ9kYGzzhZRbK+xOX=");
    assert!(matches!(
        client_error(&config, None, &bad_accept),
        ResponseError::InvalidAccept { .. }
    ));
    assert!(matches!(
        client_error(
            &config,
            Some("chat"),
            &response("Sec-WebSocket-Protocol: superchat\r\n")
        ),
        ResponseError::UnofferedSubprotocol(_)
    ));
    assert!(matches!(
        client_error(&config, None, &response("Sec-WebSocket-Protocol: chat\r\n")),
        ResponseError::SubprotocolNotRequested(_)
    ));
    let err = client_error(
        &config,
        None,
        &response("Sec-WebSocket-Extensions: permessage-deflate\r\n"),
    );
    assert!(err.to_string().contains("permessage-deflate"), "{err}");
    let deflate = Config::default().with_compression(DeflateConfig::default());
    let err = client_error(
        &deflate,
        None,
        &response("Sec-WebSocket-Extensions: x-unknown\r\n"),
    );
    assert!(err.to_string().contains("x-unknown"), "{err}");
    assert!(matches!(
        client_error(
            &config,
            None,
            &response("").replace("Upgrade: websocket", "Upgrade: h2c")
        ),
        ResponseError::InvalidUpgrade(_)
    ));
}

#[test]
fn refused_upgrade_carries_status_headers_and_body() {
    let resp =
        "HTTP/1.1 403 Forbidden\r\nContent-Length: 12\r\nX-Reason: token\r\n\r\nno entry :-(";
    match client_error(&Config::default(), None, resp) {
        ResponseError::UnexpectedStatus(response) => {
            assert_eq!(response.status().as_u16(), 403);
            assert_eq!(response.headers()["x-reason"], "token");
            assert_eq!(&response.body()[..], b"no entry :-(");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn bytes_after_the_response_head_are_not_lost() {
    let mut wire = response("").into_bytes();
    wire.extend_from_slice(&[0x81, 0x02, b'h', b'i']);
    let Ok(Progress::Complete(upgrade)) = client(&Config::default(), None).handle_data(&wire)
    else {
        panic!()
    };
    assert_eq!(&upgrade.leftover[..], &[0x81, 0x02, b'h', b'i']);
    let mut conn = upgrade.into_connection(
        Config::default(),
        wsproto_core::MaskRng::from_seed([0; 32]),
        util::epoch(),
    );
    assert_eq!(
        conn.poll_event(),
        Some(wsproto_core::Event::Message(wsproto_core::Message::Text(
            "hi".into()
        )))
    );
}
