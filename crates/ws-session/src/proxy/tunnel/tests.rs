//! `tunnel` against scripted proxies over the in-memory pipe: the proxy's
//! whole answer is written (and, for `eof`, its side closed) before the
//! client runs; what the client sent is read back afterwards.

use futures_util::{AsyncReadExt as _, AsyncWriteExt as _, FutureExt as _};

use super::*;
use crate::memory::{MemoryStream, duplex};
use crate::proxy::{Credentials, SocksReply};

struct Run {
    result: Result<Tunnel<MemoryStream>, ProxyError>,
    sent: Vec<u8>,
    resolved: Vec<String>,
}

fn scripted(proxy: &Proxy, host: &str, port: u16, answer: &[u8], eof: bool) -> Run {
    let (ours, mut theirs) = duplex(64 * 1024);
    futures_executor::block_on(async {
        theirs.write_all(answer).await.unwrap();
        if eof {
            theirs.close().await.unwrap();
        }
        let resolved = std::sync::Mutex::new(Vec::new());
        let resolve = |name: String, port: u16| {
            resolved.lock().unwrap().push(name.clone());
            async move {
                match name.as_str() {
                    "db.test" => Ok(vec![SocketAddr::from(([192, 0, 2, 7], port))]),
                    "empty.test" => Ok(Vec::new()),
                    _ => Err(io::Error::new(io::ErrorKind::NotFound, "no such host")),
                }
            }
        };
        let result = tunnel(ours, proxy, host, port, resolve).await;
        let mut sent = Vec::new();
        let mut buf = [0; 1024];
        while let Some(Ok(n)) = theirs.read(&mut buf).now_or_never() {
            if n == 0 {
                break;
            }
            sent.extend_from_slice(&buf[..n]);
        }
        let resolved = resolved.into_inner().unwrap();
        Run {
            result,
            sent,
            resolved,
        }
    })
}

fn proxy(url: &str) -> Proxy {
    Proxy::parse(url).unwrap()
}

#[test]
fn connect_200_keeps_the_bytes_behind_the_answer() {
    let answer = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 Connection established\r\n\r\nearly origin bytes";
    let run = scripted(&proxy("http://p.test:3128"), "[::1]", 443, answer, false);
    assert_eq!(
        run.sent,
        b"CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n"
    );
    let mut tunnel = run.result.unwrap();
    futures_executor::block_on(async {
        let mut first = [0; 5];
        tunnel.read_exact(&mut first).await.unwrap();
        assert_eq!(&first, b"early");
        let (_, rest) = tunnel.into_parts();
        assert_eq!(rest, b" origin bytes");
    });
}

#[test]
fn refusals_show_the_status_line_and_challenge() {
    let answer = b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\n\r\n";
    let run = scripted(
        &proxy("http://p.test:3128"),
        "example.com",
        443,
        answer,
        true,
    );
    let error = run.result.unwrap_err();
    assert!(
        matches!(
            error,
            ProxyError::AuthRequired {
                answer: AuthAnswer::Http(_),
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "proxy http://p.test:3128 requires credentials (\"HTTP/1.1 407 Proxy Authentication Required\", \
         Proxy-Authenticate: Basic realm=\"corp\"): give them in the proxy URL (scheme://user:password@host:port) or explicitly"
    );

    let run = scripted(
        &proxy("https://ann:hunter2@p.test"),
        "example.com",
        443,
        answer,
        true,
    );
    assert!(
        String::from_utf8_lossy(&run.sent)
            .contains("Proxy-Authorization: Basic YW5uOmh1bnRlcjI=\r\n")
    );
    let error = run.result.unwrap_err();
    assert!(matches!(error, ProxyError::AuthFailed { ref username, .. } if username == "ann"));
    assert!(
        error
            .to_string()
            .starts_with("proxy https://p.test:443 rejected the credentials of user \"ann\"")
    );
    assert!(!error.to_string().contains("hunter2"));

    let run = scripted(
        &proxy("http://p.test:1"),
        "example.com",
        9,
        b"HTTP/1.0 502 Bad Gateway\r\nX: y\r\n\r\n",
        true,
    );
    let error = run.result.unwrap_err();
    assert_eq!(
        error.to_string(),
        "proxy http://p.test:1 refused CONNECT example.com:9: \"HTTP/1.0 502 Bad Gateway\""
    );
    let ProxyError::Refused { reply, .. } = error else {
        panic!()
    };
    assert_eq!(reply.headers["x"], "y");
}

#[test]
fn http_faults() {
    let p = proxy("http://p.test:1");
    let error = scripted(&p, "example.com", 9, b"HTTP/1.1 200", true)
        .result
        .unwrap_err();
    assert!(
        matches!(
            error,
            ProxyError::Closed {
                stage: ClosedAt::ConnectReply { .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "proxy http://p.test:1 closed the connection without answering CONNECT example.com:9 \
         (some proxies do this when they cannot reach the target)"
    );
    let error = scripted(&p, "example.com", 9, b"\x05\x00", true)
        .result
        .unwrap_err();
    assert!(
        matches!(
            error,
            ProxyError::Malformed {
                fault: ReplyFault::Http(_),
                ..
            }
        ),
        "{error:?}"
    );
    let with_colon = p.clone().with_credentials(Credentials::new("a:b", "c"));
    let error = scripted(&with_colon, "example.com", 9, b"", true)
        .result
        .unwrap_err();
    assert!(matches!(
        error,
        ProxyError::Credentials {
            reason: CredentialsError::ColonInUsername,
            ..
        }
    ));
    for bad in ["exa mple.com", "a\r\nInjected: 1", ""] {
        let run = scripted(&p, bad, 9, b"", true);
        assert!(
            matches!(run.result, Err(ProxyError::InvalidTarget { .. })),
            "{bad:?}"
        );
        assert!(run.sent.is_empty(), "nothing is sent for {bad:?}");
    }
}

#[test]
fn socks5_resolves_locally_and_socks5h_remotely() {
    let ok = [5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    let run = scripted(&proxy("socks5://p.test"), "db.test", 5432, &ok, false);
    assert!(run.result.is_ok());
    assert_eq!(run.resolved, ["db.test"]);
    assert_eq!(run.sent, [5, 1, 0, 5, 1, 0, 1, 192, 0, 2, 7, 0x15, 0x38]);

    let run = scripted(&proxy("socks5h://p.test"), "db.test", 5432, &ok, false);
    assert!(run.result.is_ok());
    assert!(run.resolved.is_empty(), "socks5h sends the name");
    assert_eq!(&run.sent[3..], b"\x05\x01\x00\x03\x07db.test\x15\x38");

    // An address literal is sent as it is by both.
    let run = scripted(&proxy("socks5://p.test"), "[2001:db8::1]", 80, &ok, false);
    assert!(run.result.is_ok() && run.resolved.is_empty());
    assert_eq!(run.sent[6], 4, "IPv6 address type");

    let error = scripted(&proxy("socks5://p.test"), "nowhere.test", 1, &ok, false)
        .result
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "resolving nowhere.test for SOCKS5 proxy socks5://p.test:1080 failed: no such host (socks5h:// lets the proxy resolve it)"
    );
    let error = scripted(&proxy("socks5://p.test"), "empty.test", 1, &ok, false)
        .result
        .unwrap_err();
    assert!(matches!(error, ProxyError::Resolve { .. }), "{error:?}");
}

#[test]
fn socks5_errors_by_name() {
    let p = proxy("socks5h://p.test:1080");
    let error = scripted(
        &p,
        "db.test",
        1,
        &[5, 0, 5, 5, 0, 1, 0, 0, 0, 0, 0, 0],
        false,
    )
    .result
    .unwrap_err();
    assert!(matches!(
        error,
        ProxyError::SocksRefused {
            reply: SocksReply::ConnectionRefused,
            ..
        }
    ));
    assert_eq!(
        error.to_string(),
        "SOCKS5 proxy socks5h://p.test:1080 could not connect to db.test:1: connection refused (SOCKS5 reply 0x05)"
    );
    let error = scripted(&p, "db.test", 1, &[5, 2], true)
        .result
        .unwrap_err();
    assert!(matches!(
        error,
        ProxyError::AuthRequired {
            answer: AuthAnswer::SocksPasswordWanted,
            ..
        }
    ));
    let error = scripted(&p, "db.test", 1, &[5, 0xFF], true)
        .result
        .unwrap_err();
    assert!(matches!(
        error,
        ProxyError::AuthRequired {
            answer: AuthAnswer::SocksNoAcceptableMethod,
            ..
        }
    ));
    let error = scripted(&p, "db.test", 1, &[], true).result.unwrap_err();
    assert!(matches!(
        error,
        ProxyError::Closed {
            stage: ClosedAt::SocksMethod,
            ..
        }
    ));
    let error = scripted(&p, "db.test", 1, &[5, 0, 5, 0], true)
        .result
        .unwrap_err();
    assert!(matches!(
        error,
        ProxyError::Closed {
            stage: ClosedAt::SocksReply { .. },
            ..
        }
    ));
    let error = scripted(&p, "db.test", 1, b"HTTP/1.1 400 Bad Request\r\n\r\n", true)
        .result
        .unwrap_err();
    assert!(matches!(
        error,
        ProxyError::Malformed {
            fault: ReplyFault::Socks(SocksError::Version(b'H')),
            ..
        }
    ));
}

#[test]
fn socks5_authentication_failures() {
    let p = proxy("socks5h://p.test:1080");
    let with_password = proxy("socks5h://ann:pw@p.test:1080");
    let run = scripted(&with_password, "db.test", 1, &[5, 2, 1, 1], true);
    assert_eq!(&run.sent[..4], &[5, 2, 0, 2]);
    assert_eq!(&run.sent[4..], b"\x01\x03ann\x02pw");
    let error = run.result.unwrap_err();
    assert!(
        matches!(
            error,
            ProxyError::AuthFailed {
                answer: AuthAnswer::SocksStatus(1),
                ..
            }
        ),
        "{error:?}"
    );
    // pproxy closes instead of answering wrong credentials.
    let error = scripted(&with_password, "db.test", 1, &[5, 2], true)
        .result
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "proxy socks5h://p.test:1080 rejected the credentials of user \"ann\" \
         (it closed the connection after the user name and password were sent)"
    );
    let long = p
        .clone()
        .with_credentials(Credentials::new("u", "p".repeat(256)));
    let error = scripted(&long, "db.test", 1, &[], true).result.unwrap_err();
    assert!(matches!(
        error,
        ProxyError::Credentials {
            reason: CredentialsError::PasswordLength(256),
            ..
        }
    ));
    let error = scripted(&p, &"a".repeat(256), 1, &[], true)
        .result
        .unwrap_err();
    assert!(matches!(error, ProxyError::InvalidTarget { .. }));
}
