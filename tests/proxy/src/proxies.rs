//! Through real proxies (pproxy): each case starts its proxy and servers,
//! connects with the adapter's `Connector` and its proxy option, sends a
//! message there and back, and checks in pproxy's log that the tunnel
//! went through it (and to which target: a name, or the address a
//! `socks5://` client resolved). The failures are the typed errors a
//! person acts on.

use std::path::{Path, PathBuf};

use ws_session::proxy::{AuthAnswer, ClosedAt, Proxy, ProxyConfig, ProxyEnv, ProxyError};
use ws_session::wsproto_core::handshake::ResponseError;
use ws_session::{ConnectError, HandshakeError};

use crate::{
    ClientOptions, Pproxy, PythonEcho, Rt, ServerOptions, TestCert, connect_with, echo_server,
    refused, run,
};

const HELLO: &str = "through the proxy";

/// `options` with `proxy` as the explicit proxy.
fn via(proxy: &str, options: ClientOptions) -> ClientOptions {
    ClientOptions {
        proxy: Some(ProxyConfig::explicit(Proxy::parse(proxy).unwrap())),
        ..options
    }
}

/// The port of a `ws://127.0.0.1:PORT` base URL.
fn port_of(url: &str) -> u16 {
    url.rsplit(':').next().unwrap().parse().unwrap()
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A certificate with its PEM files in a directory of its own.
fn cert_files(tmp: &Path, name: &str) -> (TestCert, (PathBuf, PathBuf)) {
    let cert = TestCert::new();
    let files = cert.write_pem(&tmp.join("proxy-certs").join(name)).unwrap();
    (cert, files)
}

/// Our echo server serving TLS with `cert`: its port.
async fn tls_echo<R: Rt>(cert: &TestCert) -> u16 {
    let tls = ServerOptions {
        tls: Some(cert.server_config()),
        ..ServerOptions::default()
    };
    port_of(&echo_server::<R>(tls).await)
}

/// Connects to `url` with `options`, sends a message there and back and
/// closes cleanly.
async fn echo<R: Rt>(url: &str, options: ClientOptions) {
    let (mut ws, response) = connect_with::<R>(url, options)
        .await
        .unwrap_or_else(|e| panic!("{}: {url}: {e}", R::NAME));
    assert_eq!(response.status(), 101);
    ws.send_text(HELLO).await.unwrap();
    assert_eq!(ws.recv().await.unwrap().to_text().unwrap(), HELLO);
    ws.close(None).await.unwrap();
}

/// The proxy error of a connection that must fail.
async fn proxy_error<R: Rt>(url: &str, options: ClientOptions) -> ProxyError {
    match refused::<R>(url, options).await {
        ConnectError::Proxy { source, .. } => source,
        other => panic!("{}: {url}: not a proxy error: {other:?}", R::NAME),
    }
}

/// `ws://` through an HTTP `CONNECT` proxy to our server.
pub fn http_proxy_ws_to_ours<R: Rt>(tmp: &Path) {
    let pproxy = Pproxy::start(tmp, "http", None, &[]);
    run::<R, _>(|| async {
        let base = echo_server::<R>(ServerOptions::default()).await;
        let options = via(&pproxy.url("http", None), ClientOptions::default());
        echo::<R>(&format!("{base}/"), options).await;
        let _ = pproxy.saw(&format!("127.0.0.1:{}", port_of(&base)));
    });
}

/// `wss://` through an HTTP proxy that checks Basic credentials, to
/// Python websockets: TLS to the origin inside the tunnel, SNI and
/// certificate for `localhost` (the proxy is asked for the name).
pub fn http_proxy_with_auth_wss_to_python<R: Rt>(tmp: &Path) {
    let (cert, files) = cert_files(tmp, &format!("python-{}", R::NAME));
    let pproxy = Pproxy::start(tmp, "http", Some("ann:s3cret"), &[]);
    let server = PythonEcho::start(tmp, Some(&files));
    let url = format!("wss://localhost:{}/", server.port);
    let options = ClientOptions {
        tls: Some(cert.client_config()),
        ..ClientOptions::default()
    };
    let options = via(&pproxy.url("http", Some("ann:s3cret")), options);
    run::<R, _>(|| echo::<R>(&url, options));
    let _ = pproxy.saw(&format!("localhost:{}", server.port));
}

/// An `https://` proxy (TLS to pproxy, its certificate checked against
/// `localhost`), `ws://` and then `wss://` (TLS to our server inside TLS
/// to the proxy, each with its own certificate).
pub fn https_proxy_ws_and_wss_to_ours<R: Rt>(tmp: &Path) {
    let (proxy_cert, (cert, key)) = cert_files(tmp, &format!("https-proxy-{}", R::NAME));
    let ssl = format!("{},{}", cert.display(), key.display());
    let pproxy = Pproxy::start(tmp, "http+ssl", None, &["--ssl", &ssl]);
    let origin_cert = TestCert::new();
    let mut roots = proxy_cert.roots();
    roots.add(origin_cert.cert()).unwrap();
    let options = via(
        &format!("https://localhost:{}", pproxy.port),
        ClientOptions {
            tls: Some(ws_session::tls::client_config_with_roots(roots)),
            ..ClientOptions::default()
        },
    );
    run::<R, _>(|| async {
        let plain = echo_server::<R>(ServerOptions::default()).await;
        echo::<R>(&format!("{plain}/"), options.clone()).await;
        let _ = pproxy.saw(&format!("127.0.0.1:{}", port_of(&plain)));
        let port = tls_echo::<R>(&origin_cert).await;
        echo::<R>(&format!("wss://localhost:{port}/"), options).await;
        let _ = pproxy.saw(&format!("localhost:{port}"));
    });
}

/// An `https://` proxy whose certificate the client does not trust: a
/// TLS error naming the proxy, before anything is asked of it.
pub fn https_proxy_with_an_untrusted_certificate<R: Rt>(tmp: &Path) {
    let (_, (cert, key)) = cert_files(tmp, &format!("untrusted-proxy-{}", R::NAME));
    let ssl = format!("{},{}", cert.display(), key.display());
    let pproxy = Pproxy::start(tmp, "http+ssl", None, &["--ssl", &ssl]);
    let options = via(
        &format!("https://localhost:{}", pproxy.port),
        ClientOptions {
            tls: Some(TestCert::new().client_config()),
            ..ClientOptions::default()
        },
    );
    let error = run_for::<R, _>(|| proxy_error::<R>("ws://127.0.0.1:9/", options));
    let ProxyError::Tls { proxy, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(
        proxy.to_string(),
        format!("https://localhost:{}", pproxy.port)
    );
    assert!(pproxy.tunnels().is_empty(), "{:?}", pproxy.tunnels());
}

/// `socks5://`: the client resolves the name itself and sends the
/// proxy the address (pproxy logs the address, not the name).
pub fn socks5_resolves_locally_ws_to_python<R: Rt>(tmp: &Path) {
    let pproxy = Pproxy::start(tmp, "socks5", None, &[]);
    let server = PythonEcho::start(tmp, None);
    let options = ClientOptions {
        resolve: vec![("localhost".to_owned(), vec!["127.0.0.1".parse().unwrap()])],
        ..via(&pproxy.url("socks5", None), ClientOptions::default())
    };
    let url = format!("ws://localhost:{}/", server.port);
    run::<R, _>(|| echo::<R>(&url, options));
    let _ = pproxy.saw(&format!("127.0.0.1:{}", server.port));
}

/// `socks5h://` with RFC 1929 credentials: the proxy is sent the name
/// and resolves it; `wss://` to our server inside the tunnel.
pub fn socks5h_with_auth_wss_to_ours<R: Rt>(tmp: &Path) {
    let pproxy = Pproxy::start(tmp, "socks5", Some("ann:s3cret"), &[]);
    let cert = TestCert::new();
    let options = via(
        &pproxy.url("socks5h", Some("ann:s3cret")),
        ClientOptions {
            tls: Some(cert.client_config()),
            ..ClientOptions::default()
        },
    );
    run::<R, _>(|| async {
        let port = tls_echo::<R>(&cert).await;
        echo::<R>(&format!("wss://localhost:{port}/"), options).await;
        let _ = pproxy.saw(&format!("localhost:{port}"));
    });
}

/// The error of a connection through a `scheme` pproxy that wants the
/// credentials `ann:right`, given `userinfo`.
fn with_auth<R: Rt>(tmp: &Path, scheme: &str, userinfo: Option<&str>) -> (Pproxy, ProxyError) {
    let pproxy = Pproxy::start(tmp, scheme, Some("ann:right"), &[]);
    let options = via(&pproxy.url(scheme, userinfo), ClientOptions::default());
    let error = run_for::<R, _>(|| proxy_error::<R>("ws://127.0.0.1:9/", options));
    (pproxy, error)
}

/// Wrong Basic credentials: `AuthFailed` with the user name (never the
/// password) and the proxy's 407 answer.
pub fn http_proxy_wrong_credentials<R: Rt>(tmp: &Path) {
    let (pproxy, error) = with_auth::<R>(tmp, "http", Some("ann:wrong"));
    let message = error.to_string();
    let ProxyError::AuthFailed {
        username,
        answer: AuthAnswer::Http(reply),
        proxy,
    } = error
    else {
        panic!("{error:?}")
    };
    assert_eq!(username, "ann");
    assert_eq!(reply.status.as_u16(), 407);
    assert_eq!(proxy.to_string(), pproxy.url("http", None));
    assert!(
        message.contains("407") && message.contains(&pproxy.url("http", None)),
        "{message}"
    );
    assert!(
        !message.contains("wrong"),
        "the password is never shown: {message}"
    );
}

/// No credentials for a proxy that wants them: `AuthRequired`, with the
/// 407 answer (and its `Proxy-Authenticate`, if the proxy sends one).
pub fn http_proxy_missing_credentials<R: Rt>(tmp: &Path) {
    let (_pproxy, error) = with_auth::<R>(tmp, "http", None);
    let ProxyError::AuthRequired {
        answer: AuthAnswer::Http(reply),
        ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(reply.status.as_u16(), 407);
    assert!(
        error.to_string().contains("requires credentials"),
        "{error}"
    );
}

/// Wrong RFC 1929 credentials: `AuthFailed` (pproxy closes the connection
/// after the user name and password).
pub fn socks5_wrong_credentials<R: Rt>(tmp: &Path) {
    let (_pproxy, error) = with_auth::<R>(tmp, "socks5", Some("ann:wrong"));
    let ProxyError::AuthFailed { username, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(username, "ann");
}

/// A target port nothing listens on, through an HTTP proxy: pproxy
/// closes without answering `CONNECT`; the error says so, naming the
/// target.
pub fn http_proxy_refuses_a_closed_port<R: Rt>(tmp: &Path) {
    let pproxy = Pproxy::start(tmp, "http", None, &[]);
    let closed = closed_port();
    let options = via(&pproxy.url("http", None), ClientOptions::default());
    let url = format!("ws://127.0.0.1:{closed}/");
    let error = run_for::<R, _>(|| proxy_error::<R>(&url, options));
    let ProxyError::Closed {
        stage: ClosedAt::ConnectReply { target },
        ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(*target, format!("127.0.0.1:{closed}"));
}

/// The same through SOCKS5. pproxy answers the SOCKS5 connect request
/// with success before it tries the target, then closes (or resets): the
/// client sees the connection end before any byte of the upgrade answer (a
/// proxy that reports the failure gets `SocksRefused` with the reply code
/// by name, see the unit tests of `tunnel`).
pub fn socks5_proxy_to_a_closed_port_ends_before_the_answer<R: Rt>(tmp: &Path) {
    let pproxy = Pproxy::start(tmp, "socks5", None, &[]);
    let closed = closed_port();
    let options = via(&pproxy.url("socks5", None), ClientOptions::default());
    let url = format!("ws://127.0.0.1:{closed}/");
    let error = run_for::<R, _>(|| refused::<R>(&url, options));
    let target = format!("127.0.0.1:{closed}");
    match &error {
        ConnectError::Proxy {
            source: ProxyError::SocksRefused { target: t, .. },
            ..
        } => assert_eq!(*t, target),
        ConnectError::Handshake(HandshakeError::Response(ResponseError::UnexpectedEof {
            received: 0,
        })) => {}
        // It closes with a reset as often as not.
        ConnectError::Handshake(HandshakeError::Io(e))
            if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("{other:?}"),
    }
    let _ = pproxy.saw(&target);
}

/// The variables as curl reads them, from a table of their own
/// ([`ProxyConfig::Env`]: no process-wide variable is touched):
/// `https_proxy` (pproxy) carries `wss://`, `http_proxy` (a dead port)
/// `ws://` (so the error names that proxy), and `no_proxy=localhost`
/// sends `ws://localhost` straight to the server.
pub fn variables_select_the_proxy_and_no_proxy_bypasses<R: Rt>(tmp: &Path) {
    let pproxy = Pproxy::start(tmp, "http", None, &[]);
    let dead = format!("http://127.0.0.1:{}", closed_port());
    let https_proxy = pproxy.url("http", None);
    let env = ProxyEnv::from_lookup(|name| match name {
        "https_proxy" => Some(https_proxy.clone()),
        "HTTP_PROXY" => Some(dead.clone()),
        "NO_PROXY" => Some("localhost".to_owned()),
        _ => None,
    });
    let cert = TestCert::new();
    let options = ClientOptions {
        proxy: Some(ProxyConfig::Env(env)),
        tls: Some(cert.client_config()),
        resolve: vec![("localhost".to_owned(), vec!["127.0.0.1".parse().unwrap()])],
        ..ClientOptions::default()
    };
    run::<R, _>(|| async {
        let secure = tls_echo::<R>(&cert).await;
        echo::<R>(&format!("wss://127.0.0.1:{secure}/"), options.clone()).await;
        let _ = pproxy.saw(&format!("127.0.0.1:{secure}"));

        let plain = port_of(&echo_server::<R>(ServerOptions::default()).await);
        let error = proxy_error::<R>(&format!("ws://127.0.0.1:{plain}/"), options.clone()).await;
        let ProxyError::Connect { proxy, .. } = &error else {
            panic!("{error:?}")
        };
        assert_eq!(proxy.to_string(), dead);

        echo::<R>(&format!("ws://localhost:{plain}/"), options).await;
    });
}

/// Runs `body` on `R` (bounded like every case) and returns its output.
fn run_for<R: Rt, F: Future>(body: impl FnOnce() -> F) -> F::Output {
    R::block_on(crate::within(60, body()))
}
