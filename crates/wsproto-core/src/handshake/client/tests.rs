use super::*;
use crate::config::HandshakeLimits;
use crate::extension::NegotiationError;
use crate::frame::Rsv;
use crate::handshake::test_util::{TestFactory, config_with, feed_split};

const NONCE: [u8; 16] = *b"the sample nonce";
/// RFC 6455 §1.3's answer to `NONCE`.
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

fn client(config: &Config, subprotocols: &[&str]) -> ClientHandshake {
    subprotocols
        .iter()
        .fold(
            ClientBuilder::new("ws://server.example.com/chat").unwrap(),
            |b, p| b.subprotocol(*p),
        )
        .build(NONCE, config)
        .unwrap()
}

fn response(extra: &str) -> String {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Accept: {ACCEPT}\r\n{extra}\r\n"
    )
}

fn complete(hs: &mut ClientHandshake, input: &[u8]) -> ClientUpgrade {
    match hs.handle_data(input) {
        Ok(Progress::Complete(up)) => up,
        other => panic!("expected success, got {other:?}"),
    }
}

fn fail(hs: &mut ClientHandshake, input: &[u8]) -> ResponseError {
    match hs.handle_data(input) {
        Err(ClientError::Response(e)) => e,
        other => panic!("expected a response error, got {other:?}"),
    }
}

#[test]
fn rfc6455_section_1_3_example_response() {
    let mut hs = client(&Config::default(), &["chat", "superchat"]);
    let up = complete(
        &mut hs,
        response("Sec-WebSocket-Protocol: chat\r\n").as_bytes(),
    );
    assert_eq!(up.response.status(), StatusCode::SWITCHING_PROTOCOLS);
    assert_eq!(up.response.headers()["sec-websocket-accept"], ACCEPT);
    assert_eq!(up.subprotocol.as_deref(), Some("chat"));
    assert!(up.extensions.is_empty());
    assert!(up.leftover.is_empty());
    assert!(hs.is_finished());
    assert!(matches!(hs.handle_data(b"x"), Err(ClientError::Finished)));
    assert!(matches!(hs.handle_eof(), ClientError::Finished));
}

#[test]
fn lenient_where_the_rfc_is() {
    let mut hs = client(&Config::default(), &[]);
    let input = format!(
        "HTTP/1.1 101 OK\nupgrade: WebSocket\nconnection: keep-alive, UPGRADE\n\
         sec-websocket-accept:  {ACCEPT} \n\n"
    );
    let up = complete(&mut hs, input.as_bytes());
    assert_eq!(up.subprotocol, None);
}

/// Name, response, subprotocols offered, expected error.
type Case = (
    &'static str,
    String,
    &'static [&'static str],
    fn(&ResponseError) -> bool,
);

#[test]
#[allow(clippy::too_many_lines)] // one table row per rule
fn response_validation_table() {
    let ext = || {
        config_with(&[
            TestFactory::arc("x-a", Rsv::RSV1),
            TestFactory::arc("x-b", Rsv::RSV1),
        ])
    };
    let cases: Vec<Case> = vec![
        (
            "missing Upgrade",
            response("").replace("Upgrade: websocket\r\n", ""),
            &[],
            |e| matches!(e, ResponseError::InvalidUpgrade(None)),
        ),
        (
            "wrong Upgrade",
            response("").replace("Upgrade: websocket", "Upgrade: h2c"),
            &[],
            |e| matches!(e, ResponseError::InvalidUpgrade(Some(v)) if v == "h2c"),
        ),
        (
            "Upgrade twice",
            response("Upgrade: websocket\r\n"),
            &[],
            |e| matches!(e, ResponseError::InvalidUpgrade(Some(_))),
        ),
        (
            "Connection without upgrade",
            response("").replace("Connection: Upgrade", "Connection: keep-alive"),
            &[],
            |e| matches!(e, ResponseError::MissingConnectionUpgrade),
        ),
        (
            "missing Connection",
            response("").replace("Connection: Upgrade\r\n", ""),
            &[],
            |e| matches!(e, ResponseError::MissingConnectionUpgrade),
        ),
        (
            "bad accept",
            response("").replace(ACCEPT, "dGhlIHNhbXBsZSBub25jZQ=="),
            &[],
            |e| matches!(e, ResponseError::InvalidAccept { expected, found: Some(f) } if expected == ACCEPT && f == "dGhlIHNhbXBsZSBub25jZQ=="),
        ),
        (
            "missing accept",
            response("").replace(&format!("Sec-WebSocket-Accept: {ACCEPT}\r\n"), ""),
            &[],
            |e| matches!(e, ResponseError::InvalidAccept { found: None, .. }),
        ),
        (
            "unoffered subprotocol",
            response("Sec-WebSocket-Protocol: other\r\n"),
            &["chat"],
            |e| matches!(e, ResponseError::UnofferedSubprotocol(p) if p == "other"),
        ),
        (
            "subprotocol when none offered",
            response("Sec-WebSocket-Protocol: chat\r\n"),
            &[],
            |e| matches!(e, ResponseError::SubprotocolNotRequested(p) if p == "chat"),
        ),
        (
            "two subprotocols",
            response("Sec-WebSocket-Protocol: chat, superchat\r\n"),
            &["chat", "superchat"],
            |e| matches!(e, ResponseError::SeveralSubprotocols),
        ),
        (
            "unoffered extension",
            response("Sec-WebSocket-Extensions: x-z\r\n"),
            &[],
            |e| matches!(e, ResponseError::Extension(NegotiationError::UnofferedExtension(n)) if n == "x-z"),
        ),
        (
            "duplicate extension",
            response("Sec-WebSocket-Extensions: x-a\r\nSec-WebSocket-Extensions: x-a\r\n"),
            &[],
            |e| matches!(e, ResponseError::Extension(NegotiationError::Conflict(n)) if n == "x-a"),
        ),
        (
            "RSV conflict",
            response("Sec-WebSocket-Extensions: x-a, x-b\r\n"),
            &[],
            |e| matches!(e, ResponseError::Extension(NegotiationError::Conflict(n)) if n == "x-b"),
        ),
        (
            "extension rejects parameters",
            response("Sec-WebSocket-Extensions: x-a; bogus=1\r\n"),
            &[],
            |e| {
                matches!(
                    e,
                    ResponseError::Extension(NegotiationError::UnknownParameter {
                        extension: "x-a",
                        ..
                    })
                )
            },
        ),
        (
            "malformed extensions",
            response("Sec-WebSocket-Extensions: x-a;;\r\n"),
            &[],
            |e| matches!(e, ResponseError::Extension(NegotiationError::Malformed)),
        ),
        (
            "HTTP/1.0",
            response("").replace("HTTP/1.1", "HTTP/1.0"),
            &[],
            |e| matches!(e, ResponseError::NotHttp11),
        ),
        (
            "garbage",
            "HTTP/1.1 1O1 Switching\r\n\r\n".to_owned(),
            &[],
            |e| matches!(e, ResponseError::Malformed(httparse::Error::Status)),
        ),
    ];
    for (name, input, offered, check) in cases {
        let mut hs = client(&ext(), offered);
        let err = fail(&mut hs, input.as_bytes());
        assert!(check(&err), "{name}: {err:?}");
        assert!(!err.to_string().is_empty());
        assert!(hs.is_finished(), "{name}");
    }
}

#[test]
fn accepted_extensions_come_in_response_order() {
    let config = config_with(&[
        TestFactory::arc("x-a", Rsv::RSV1),
        TestFactory::arc("x-b", Rsv::RSV2),
    ]);
    let mut hs = client(&config, &[]);
    let up = complete(
        &mut hs,
        response("Sec-WebSocket-Extensions: x-b\r\nSec-WebSocket-Extensions: X-A\r\n").as_bytes(),
    );
    let names: Vec<_> = up.extensions.iter().map(|e| e.name()).collect();
    assert_eq!(names, ["x-b", "x-a"]);
}

#[test]
fn error_statuses_carry_headers_and_body_start() {
    // Content-Length body, split at every offset.
    let input = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\nX-Why: token\r\n\r\nforbidden";
    for at in 0..=input.len() {
        let mut hs = client(&Config::default(), &[]);
        let (a, b) = input.split_at(at);
        let err = match hs.handle_data(a) {
            Ok(Progress::Partial) => fail(&mut hs, b),
            Err(ClientError::Response(e)) if b.is_empty() => e,
            other => panic!("at {at}: {other:?}"),
        };
        let ResponseError::UnexpectedStatus(resp) = err else {
            panic!("{err:?}")
        };
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        assert_eq!(resp.headers()["x-why"], "token");
        assert_eq!(&resp.body()[..], b"forbidden", "at {at}");
    }

    // No length: the body runs to EOF.
    let mut hs = client(&Config::default(), &[]);
    assert!(matches!(
        hs.handle_data(b"HTTP/1.1 200 OK\r\n\r\nhello "),
        Ok(Progress::Partial)
    ));
    assert!(matches!(hs.handle_data(b"world"), Ok(Progress::Partial)));
    let ClientError::Response(ResponseError::UnexpectedStatus(resp)) = hs.handle_eof() else {
        panic!()
    };
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(&resp.body()[..], b"hello world");

    // A long body is cut at the cap, and no more is buffered.
    let mut hs = client(&Config::default(), &[]);
    let mut input =
        b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 100000\r\n\r\n".to_vec();
    input.extend(std::iter::repeat_n(b'x', 3000));
    assert!(matches!(hs.handle_data(&input), Ok(Progress::Partial)));
    let ResponseError::UnexpectedStatus(resp) = fail(&mut hs, &[b'y'; 5000]) else {
        panic!()
    };
    assert_eq!(resp.body().len(), MAX_ERROR_BODY);

    // Chunked: what has arrived; 204: nothing.
    let mut hs = client(&Config::default(), &[]);
    let ResponseError::UnexpectedStatus(resp) = fail(
        &mut hs,
        b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc",
    ) else {
        panic!()
    };
    assert_eq!(&resp.body()[..], b"3\r\nabc");
    let mut hs = client(&Config::default(), &[]);
    let ResponseError::UnexpectedStatus(resp) = fail(&mut hs, b"HTTP/1.1 204 No Content\r\n\r\n")
    else {
        panic!()
    };
    assert!(resp.body().is_empty());
    assert!(resp.status() == StatusCode::NO_CONTENT);
}

#[test]
fn every_split_gives_the_same_result_and_keeps_leftover() {
    let config = config_with(&[TestFactory::arc("x-a", Rsv::RSV1)]);
    let frames = b"\x81\x05hello\x89\x00";
    let mut input =
        response("Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Extensions: x-a\r\n").into_bytes();
    input.extend_from_slice(frames);
    for at in 0..=input.len() {
        let mut hs = client(&config, &["chat"]);
        let (up, rest) = feed_split(&input, at, |d| match hs.handle_data(d).unwrap() {
            Progress::Partial => None,
            Progress::Complete(up) => Some(up),
        });
        let up = up.unwrap_or_else(|| panic!("incomplete at {at}"));
        assert_eq!(up.subprotocol.as_deref(), Some("chat"));
        assert_eq!(up.extensions.len(), 1);
        let mut stream = up.leftover.to_vec();
        stream.extend_from_slice(&rest);
        assert_eq!(stream, frames, "at {at}");
    }
    // Byte by byte.
    let mut hs = client(&config, &["chat"]);
    let mut result = None;
    for (i, b) in input.iter().enumerate() {
        if let Progress::Complete(up) = hs.handle_data(std::slice::from_ref(b)).unwrap() {
            result = Some((up, i));
            break;
        }
    }
    let (up, i) = result.unwrap();
    assert!(up.leftover.is_empty());
    assert_eq!(&input[i + 1..], frames);
}

#[test]
fn head_size_and_header_count_limits() {
    let limits = HandshakeLimits {
        max_head_bytes: 200,
        max_headers: 6,
    };
    let config = Config::default().with_handshake_limits(limits);
    // Exactly at the limits: fine.
    let base = response("");
    let fill = 200 - base.len() - "X-Pad: \r\n".len();
    let at_limit = response(&format!(
        "X-Pad: {}\r\nA: 1\r\nB: 2\r\n",
        "p".repeat(fill - 12)
    ));
    assert_eq!(at_limit.len(), 200);
    complete(&mut client(&config, &[]), at_limit.as_bytes());
    // One byte more.
    let over = at_limit.replacen("X-Pad: ", "X-Pad: p", 1);
    assert!(matches!(
        fail(&mut client(&config, &[]), over.as_bytes()),
        ResponseError::HeadTooLarge { limit: 200 }
    ));
    // A head that never ends, fed in pieces, stops at the limit.
    let mut hs = client(&config, &[]);
    assert!(matches!(
        hs.handle_data(b"HTTP/1.1 101 Switching Protocols\r\nX: "),
        Ok(Progress::Partial)
    ));
    for _ in 0..20 {
        match hs.handle_data(&[b'a'; 10]) {
            Ok(Progress::Partial) => {}
            Err(ClientError::Response(ResponseError::HeadTooLarge { limit: 200 })) => break,
            other => panic!("{other:?}"),
        }
    }
    assert!(hs.is_finished());
    // Seven fields where six are allowed.
    let many = response("A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n");
    assert!(matches!(
        fail(&mut client(&config, &[]), many.as_bytes()),
        ResponseError::TooManyHeaders { limit: 6 }
    ));
}

#[test]
fn eof_before_the_head_is_complete() {
    let mut hs = client(&Config::default(), &[]);
    assert!(matches!(
        hs.handle_data(b"HTTP/1.1 101 Swi"),
        Ok(Progress::Partial)
    ));
    assert!(matches!(
        hs.handle_eof(),
        ClientError::Response(ResponseError::UnexpectedEof { received: 16 })
    ));
    assert!(matches!(hs.handle_data(b"x"), Err(ClientError::Finished)));
}

#[cfg(feature = "getrandom")]
#[test]
fn random_keys_differ() {
    assert_ne!(
        ClientHandshake::random_key().unwrap(),
        ClientHandshake::random_key().unwrap()
    );
}
