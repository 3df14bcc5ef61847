use http::HeaderValue;

use super::*;

fn location(value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(LOCATION, HeaderValue::from_str(value).unwrap());
    headers
}

#[allow(clippy::result_large_err)]
fn hop(from: &str, status: u16, to: &str) -> Result<Redirect, RedirectError> {
    Redirects::new(from.parse().unwrap(), 10)
        .follow(StatusCode::from_u16(status).unwrap(), &location(to))
}

#[test]
fn schemes_map_and_relative_references_resolve() {
    let cases = [
        ("ws://a.test/x", "http://b.test/y", "ws://b.test/y"),
        ("ws://a.test/x", "https://b.test/y", "wss://b.test/y"),
        ("ws://a.test/x", "WSS://b.test:8443", "wss://b.test:8443/"),
        (
            "wss://a.test/x",
            "wss://b.test/y?k=v#frag",
            "wss://b.test/y?k=v",
        ),
        ("wss://a.test/chat/v1", "/chat/v2", "wss://a.test/chat/v2"),
        ("wss://a.test/chat/v1", "v2", "wss://a.test/chat/v2"),
        (
            "wss://a.test/chat/v1/",
            "../v2/./room",
            "wss://a.test/chat/v2/room",
        ),
        ("wss://a.test/a/b?q=1", "?q=2", "wss://a.test/a/b?q=2"),
        ("ws://a.test:8080/x", "//b.test/y", "ws://b.test/y"),
        ("ws://a.test/x", "http://user:pw@b.test/y", "ws://b.test/y"),
        ("ws://a.test/x", "/../../up", "ws://a.test/up"),
    ];
    for (from, to, expected) in cases {
        assert_eq!(hop(from, 301, to).unwrap().url, expected, "{from} + {to}");
    }
}

#[test]
fn only_the_five_redirect_statuses_are_followed() {
    for status in [301, 302, 303, 307, 308] {
        assert!(hop("ws://a.test/", status, "/b").is_ok(), "{status}");
    }
    for status in [300, 304, 305, 200, 403] {
        assert!(
            matches!(
                hop("ws://a.test/", status, "/b"),
                Err(RedirectError::NotRedirect { .. })
            ),
            "{status}"
        );
    }
    let mut chain = Redirects::new("ws://a.test/".parse().unwrap(), 3);
    let error = chain
        .follow(StatusCode::FOUND, &HeaderMap::new())
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "the 302 Found redirect from ws://a.test/ has no Location header"
    );
}

#[test]
fn origins_and_credentials() {
    assert!(!hop("ws://a.test/x", 302, "/y").unwrap().cross_origin);
    assert!(
        !hop("ws://a.test/x", 302, "ws://A.TEST:80/y")
            .unwrap()
            .cross_origin
    );
    assert!(
        !hop("ws://a.test/x", 302, "http://a.test/y")
            .unwrap()
            .cross_origin
    );
    for other in ["ws://b.test/x", "ws://a.test:81/x", "wss://a.test/x"] {
        assert!(
            hop("ws://a.test/x", 302, other).unwrap().cross_origin,
            "{other}"
        );
    }
    let mut headers = HeaderMap::new();
    for name in [
        AUTHORIZATION,
        COOKIE,
        PROXY_AUTHORIZATION,
        HeaderName::from_static("x-trace"),
    ] {
        headers.insert(name, HeaderValue::from_static("v"));
    }
    let mut same = headers.clone();
    hop("ws://a.test/x", 302, "/y")
        .unwrap()
        .strip_credentials(&mut same);
    assert_eq!(same.len(), 4);
    hop("ws://a.test/x", 302, "ws://b.test/")
        .unwrap()
        .strip_credentials(&mut headers);
    assert_eq!(headers.keys().collect::<Vec<_>>(), ["x-trace"]);
}

#[test]
fn downgrade_loop_and_too_many() {
    let error = hop("wss://a.test/x", 301, "http://a.test/x").unwrap_err();
    assert_eq!(
        error.to_string(),
        "the redirect from wss://a.test/x to ws://a.test/x would downgrade wss:// to ws://: refused"
    );
    assert!(matches!(
        hop("wss://a.test/x", 301, "ws://b.test/"),
        Err(RedirectError::Downgrade { .. })
    ));

    let mut chain = Redirects::new("ws://a.test/1".parse().unwrap(), 10);
    chain.follow(StatusCode::FOUND, &location("/2")).unwrap();
    chain
        .follow(StatusCode::FOUND, &location("ws://a.test:80/3"))
        .unwrap();
    let error = chain
        .follow(StatusCode::FOUND, &location("http://A.test/1"))
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "redirect loop: ws://A.test/1 was already visited (ws://a.test/1 -> ws://a.test/2 -> ws://a.test:80/3 -> ws://A.test/1)"
    );
    assert_eq!(
        (chain.followed(), chain.current().to_string().as_str()),
        (2, "ws://a.test:80/3")
    );

    let mut chain = Redirects::new("ws://a.test/0".parse().unwrap(), 2);
    chain.follow(StatusCode::FOUND, &location("/1")).unwrap();
    chain.follow(StatusCode::FOUND, &location("/2")).unwrap();
    let error = chain
        .follow(StatusCode::FOUND, &location("/3"))
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "too many redirects: more than 2 (the last from ws://a.test/2 to ws://a.test/3)"
    );
    // Zero: redirects reported, never followed.
    let error = Redirects::new("ws://a.test/".parse().unwrap(), 0)
        .follow(StatusCode::FOUND, &location("/b"));
    assert!(matches!(error, Err(RedirectError::TooMany { max: 0, .. })));
}

#[test]
fn bad_locations() {
    for bad in ["ftp://a.test/", "mailto:x@y", "javascript:alert(1)"] {
        assert!(
            matches!(
                hop("ws://a.test/", 302, bad),
                Err(RedirectError::Scheme { .. })
            ),
            "{bad}"
        );
    }
    for bad in ["ws:relative", "http://", "ws://a b/"] {
        assert!(
            matches!(
                hop("ws://a.test/", 302, bad),
                Err(RedirectError::InvalidLocation { .. })
            ),
            "{bad}"
        );
    }
    let mut headers = HeaderMap::new();
    headers.insert(LOCATION, HeaderValue::from_bytes(b"/\xff").unwrap());
    let mut chain = Redirects::new("ws://a.test/".parse().unwrap(), 1);
    assert!(matches!(
        chain.follow(StatusCode::FOUND, &headers),
        Err(RedirectError::MissingLocation { .. })
    ));
}
