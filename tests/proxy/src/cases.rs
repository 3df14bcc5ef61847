//! The scenarios, each a function over the runtime ([`Rt`]) taking the
//! test crate's temporary directory (the venv lives under it). A scenario
//! fails by panicking, with what went wrong.
#![allow(clippy::missing_panics_doc)]

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};
use ws_session::proxy::{
    AuthAnswer, ClosedAt, DialOptions, Proxy, ProxyConfig, ProxyEnv, ProxyError, dial,
};
use ws_session::{ClientBuilder, CloseCode, Session};

use crate::peers::{OurEcho, Pproxy, PythonEcho, TestCert, hello};
use crate::{Failure, Rt, connect_via, run};

/// A resolver's answer, boxed.
type Resolving = std::pin::Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>>>>;

/// The names the client resolved, and a resolver that records them. It
/// keeps IPv4 addresses only: the servers listen on 127.0.0.1, and a
/// `socks5://` proxy is sent the first address.
#[derive(Clone, Default)]
struct Resolved(Arc<Mutex<Vec<String>>>);

impl Resolved {
    fn resolver<R: Rt>(&self) -> impl Fn(String, u16) -> Resolving {
        let names = self.0.clone();
        move |host, port| {
            names.lock().unwrap().push(host.clone());
            Box::pin(async move {
                let addrs = R::resolve(host, port).await?;
                Ok(addrs.into_iter().filter(SocketAddr::is_ipv4).collect())
            })
        }
    }

    fn names(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

fn no_tls() -> Arc<rustls::ClientConfig> {
    ws_session::tls::client_config_with_roots(rustls::RootCertStore::empty())
}

fn cert(tmp: &Path, name: &str) -> TestCert {
    TestCert::generate(&tmp.join("proxy-certs").join(name))
}

/// One message there and back, then a clean close.
async fn echo<S: AsyncRead + AsyncWrite + Unpin>(mut ws: Session<S>) {
    ws.send_message(hello()).await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), hello());
    ws.close(CloseCode::NORMAL, "done").await.unwrap();
}

/// Connects through `proxy` and echoes, or fails the test with the error.
fn echo_through<R: Rt>(
    proxy: &str,
    url: &str,
    tls: Arc<rustls::ClientConfig>,
    resolved: &Resolved,
) {
    let proxy = Proxy::parse(proxy).unwrap();
    run::<R, _>(60, async {
        match connect_via::<R, _, _>(&proxy, url, tls, resolved.resolver::<R>()).await {
            Ok(ws) => echo(ws).await,
            Err(e) => panic!("{}: {url} through {proxy}: {e:?}", R::NAME),
        }
    });
}

/// The error of a connection through `proxy` that must fail.
fn failure<R: Rt>(proxy: &str, url: &str) -> Failure {
    let proxy = Proxy::parse(proxy).unwrap();
    let resolved = Resolved::default();
    run::<R, _>(60, async {
        match connect_via::<R, _, _>(&proxy, url, no_tls(), resolved.resolver::<R>()).await {
            Ok(_) => panic!("{}: {url} through {proxy} should have failed", R::NAME),
            Err(e) => e,
        }
    })
}

/// `ws://` through an HTTP `CONNECT` proxy to our server.
pub fn http_proxy_ws_to_ours<R: Rt>(tmp: &Path) {
    let pproxy = Pproxy::start(tmp, "http", None, &[]);
    let server = OurEcho::start(None);
    let url = format!("ws://127.0.0.1:{}/", server.port);
    echo_through::<R>(
        &format!("http://127.0.0.1:{}", pproxy.port),
        &url,
        no_tls(),
        &Resolved::default(),
    );
    let _ = pproxy.saw(&format!("127.0.0.1:{}", server.port));
}

/// `wss://` (TLS to the origin inside the tunnel, SNI `localhost`) through
/// an HTTP proxy that checks Basic credentials, to Python websockets.
pub fn http_proxy_with_auth_wss_to_python<R: Rt>(tmp: &Path) {
    let cert = cert(tmp, &format!("python-{}", R::NAME));
    let pproxy = Pproxy::start(tmp, "http", Some("ann:s3cret"), &[]);
    let server = PythonEcho::start(tmp, Some(&cert));
    let url = format!("wss://localhost:{}/", server.port);
    let proxy_url = format!("http://ann:s3cret@127.0.0.1:{}", pproxy.port);
    echo_through::<R>(&proxy_url, &url, cert.client_config(), &Resolved::default());
    let _ = pproxy.saw(&format!("localhost:{}", server.port));
}

/// `https://` proxy (TLS to pproxy, checked against 127.0.0.1), then TLS to
/// our server inside the tunnel.
pub fn https_proxy_wss_to_ours<R: Rt>(tmp: &Path) {
    let cert = cert(tmp, &format!("https-proxy-{}", R::NAME));
    let pair = format!("{},{}", cert.cert_path.display(), cert.key_path.display());
    let pproxy = Pproxy::start(tmp, "http+ssl", None, &["--ssl", &pair]);
    let server = OurEcho::start(Some(&cert));
    let url = format!("wss://localhost:{}/", server.port);
    echo_through::<R>(
        &format!("https://127.0.0.1:{}", pproxy.port),
        &url,
        cert.client_config(),
        &Resolved::default(),
    );
    let _ = pproxy.saw(&format!("localhost:{}", server.port));
}

/// `socks5://`: the client resolves `localhost` and sends the address.
pub fn socks5_resolves_locally_ws_to_python<R: Rt>(tmp: &Path) {
    let pproxy = Pproxy::start(tmp, "socks5", None, &[]);
    let server = PythonEcho::start(tmp, None);
    let resolved = Resolved::default();
    let url = format!("ws://localhost:{}/", server.port);
    echo_through::<R>(
        &format!("socks5://127.0.0.1:{}", pproxy.port),
        &url,
        no_tls(),
        &resolved,
    );
    assert_eq!(resolved.names(), ["localhost"]);
    let _ = pproxy.saw(&format!("127.0.0.1:{}", server.port));
}

/// `socks5h://` with RFC 1929 credentials: the proxy is sent the name.
pub fn socks5h_with_auth_resolves_remotely_wss_to_ours<R: Rt>(tmp: &Path) {
    let cert = cert(tmp, &format!("socks5h-{}", R::NAME));
    let pproxy = Pproxy::start(tmp, "socks5", Some("ann:s3cret"), &[]);
    let server = OurEcho::start(Some(&cert));
    let resolved = Resolved::default();
    let url = format!("wss://localhost:{}/", server.port);
    let proxy_url = format!("socks5h://ann:s3cret@127.0.0.1:{}", pproxy.port);
    echo_through::<R>(&proxy_url, &url, cert.client_config(), &resolved);
    assert!(
        resolved.names().is_empty(),
        "the client resolved {:?}",
        resolved.names()
    );
    let _ = pproxy.saw(&format!("localhost:{}", server.port));
}

/// A wrong password: pproxy answers 407 again; the error shows it, not the
/// password.
pub fn http_proxy_wrong_credentials<R: Rt>(tmp: &Path) {
    let pproxy = Pproxy::start(tmp, "http", Some("ann:right"), &[]);
    let proxy_url = format!("http://ann:wrong@127.0.0.1:{}", pproxy.port);
    let Failure::Proxy(error) = failure::<R>(&proxy_url, "ws://127.0.0.1:9/") else {
        panic!()
    };
    let ProxyError::AuthFailed {
        username,
        answer: AuthAnswer::Http(reply),
        ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!((username.as_str(), reply.status.as_u16()), ("ann", 407));
    let message = error.to_string();
    assert!(
        message.contains("Proxy-Authenticate: Basic realm=\"simple\""),
        "{message}"
    );
    assert!(!message.contains("wrong"), "{message}");
}

/// No credentials for a proxy that wants some.
pub fn http_proxy_missing_credentials<R: Rt>(tmp: &Path) {
    let pproxy = Pproxy::start(tmp, "http", Some("ann:right"), &[]);
    let proxy_url = format!("http://127.0.0.1:{}", pproxy.port);
    let Failure::Proxy(error) = failure::<R>(&proxy_url, "ws://127.0.0.1:9/") else {
        panic!()
    };
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
}

/// A wrong SOCKS5 password: pproxy closes after the credentials.
pub fn socks5_wrong_credentials<R: Rt>(tmp: &Path) {
    let pproxy = Pproxy::start(tmp, "socks5", Some("ann:right"), &[]);
    let proxy_url = format!("socks5h://ann:wrong@127.0.0.1:{}", pproxy.port);
    let Failure::Proxy(error) = failure::<R>(&proxy_url, "ws://127.0.0.1:9/") else {
        panic!()
    };
    assert!(
        matches!(
            error,
            ProxyError::AuthFailed {
                answer: AuthAnswer::SocksClosed,
                ..
            }
        ),
        "{error:?}"
    );
}

/// A target port nothing listens on: pproxy closes without answering.
pub fn http_proxy_refuses_a_closed_port<R: Rt>(tmp: &Path) {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let pproxy = Pproxy::start(tmp, "http", None, &[]);
    let url = format!("ws://127.0.0.1:{closed}/");
    let Failure::Proxy(error) = failure::<R>(&format!("http://127.0.0.1:{}", pproxy.port), &url)
    else {
        panic!()
    };
    let ProxyError::Closed {
        stage: ClosedAt::ConnectReply { target },
        ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(*target, format!("127.0.0.1:{closed}"));
}

/// `ALL_PROXY` sends `ws://127.0.0.1` through pproxy; `NO_PROXY=localhost`
/// sends `ws://localhost` straight to the server (dialled over every
/// address `localhost` has).
pub fn environment_selects_and_no_proxy_bypasses<R: Rt>(tmp: &Path) {
    let pproxy = Pproxy::start(tmp, "http", None, &[]);
    let server = OurEcho::start(None);
    let all_proxy = format!("http://127.0.0.1:{}", pproxy.port);
    let env = ProxyEnv::from_lookup(|name| match name {
        "ALL_PROXY" => Some(all_proxy.clone()),
        "NO_PROXY" => Some("localhost".to_owned()),
        _ => None,
    });
    let config = ProxyConfig::default();
    let proxied = config
        .select(&env, false, "127.0.0.1", server.port)
        .unwrap()
        .expect("ALL_PROXY");
    let url = format!("ws://127.0.0.1:{}/", server.port);
    echo_through::<R>(&proxied.to_string(), &url, no_tls(), &Resolved::default());
    let _ = pproxy.saw(&format!("127.0.0.1:{}", server.port));

    assert_eq!(
        config
            .select(&env, false, "localhost", server.port)
            .unwrap(),
        None
    );
    run::<R, _>(60, async {
        let runtime = R::runtime();
        let options = DialOptions::default().timeout(Some(Duration::from_secs(10)));
        let (tcp, _) = dial(
            &*runtime,
            "localhost",
            server.port,
            &options,
            R::resolve,
            R::connect,
        )
        .await
        .unwrap();
        let url = format!("ws://localhost:{}/", server.port);
        let (ws, _) = R::handshake(tcp, ClientBuilder::new(&url).unwrap())
            .await
            .unwrap();
        echo(ws).await;
    });
    assert_eq!(
        pproxy.tunnels().len(),
        1,
        "only the proxied one: {:?}",
        pproxy.tunnels()
    );
}
