//! Configuration and error checks shared by the handshake targets.

use wsproto_core::handshake::{MAX_ERROR_BODY, ResponseError as E};
use wsproto_core::{Config, DeflateConfig, HandshakeLimits};

/// permessage-deflate and small head limits: `64 + 64 * limit` bytes and
/// 8 header fields.
pub fn config(limit: u8) -> Config {
    let limits = HandshakeLimits {
        max_head_bytes: 64 + 64 * usize::from(limit),
        max_headers: 8,
    };
    Config::default()
        .with_compression(DeflateConfig::default())
        .with_handshake_limits(limits)
}

/// Checks that a client's error is one `handle_data` documents, with the
/// configured limits and a body cut to [`MAX_ERROR_BODY`].
pub fn check_response_error(error: &E, config: &Config) {
    let limits = config.handshake_limits();
    match error {
        E::HeadTooLarge { limit } => assert_eq!(*limit, limits.max_head_bytes),
        E::TooManyHeaders { limit } => assert_eq!(*limit, limits.max_headers),
        E::UnexpectedStatus(r) => assert!(r.body().len() <= MAX_ERROR_BODY && r.status() != 101),
        E::Malformed(_)
        | E::InvalidHeaderField
        | E::NotHttp11
        | E::InvalidUpgrade(_)
        | E::MissingConnectionUpgrade
        | E::InvalidAccept { .. }
        | E::SeveralSubprotocols
        | E::UnofferedSubprotocol(_)
        | E::SubprotocolNotRequested(_)
        | E::Extension(_) => {}
        e => panic!("undocumented response error {e:?}"),
    }
}

/// Answers a complete request: `accept` (choosing the first offered
/// subprotocol) must give a well-formed 101, `reject` with `status` a
/// well-formed reply with that status (500 for a 1xx) and the body.
pub fn answer(request: wsproto_core::handshake::UpgradeRequest, accept: bool, status: u16) {
    use wsproto_core::handshake::AcceptOptions;
    if accept {
        let chosen = request.subprotocols().first().cloned();
        let options = chosen.map_or(AcceptOptions::new(), |p| {
            AcceptOptions::new().subprotocol(p)
        });
        let accepted = request
            .accept(&options)
            .expect("offered subprotocol, no extra headers");
        assert_eq!(crate::http_reply(&accepted.response_bytes()), (101, 0));
    } else {
        let status = http::StatusCode::from_u16(status).expect("100..=999");
        let reply = wsproto_core::handshake::response_bytes(&request.reject(
            status,
            &http::HeaderMap::new(),
            b"no",
        ));
        let expected = if status.is_informational() {
            500
        } else {
            status.as_u16()
        };
        assert_eq!(crate::http_reply(&reply), (expected, 2));
    }
}
