//! Redirects of the upgrade request, served by a real HTTP server: axum
//! routes that answer 301/302/303/307/308 in front of a ws-axum endpoint
//! (on a thread and tokio runtime of its own), and, for `wss://`, our TLS
//! server answering the upgrade with a redirect. The client runs on each
//! runtime with the connector's `redirects` option.

use std::net::IpAddr;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use http::{HeaderValue, Uri};
use ws_session::proxy::{ProxyConfig, RedirectError};
use ws_session::{ClientRequestBuilder, ConnectError, Decision};

use crate::{ClientOptions, Rt, ServerOptions, TestCert, connect_with, refused, run};

/// The axum server: its port on 127.0.0.1 (reached as `127.0.0.1` and as
/// `localhost`, two origins), serving until the test process ends.
///
/// | path | answer |
/// | --- | --- |
/// | `/ws` | the upgrade; its first message says which `Authorization`, `Cookie` and `Host` arrived, then it echoes |
/// | `/to-ws` | 301, `Location: /ws` (relative) |
/// | `/see-other` | 303, `Location: ws://…/ws` |
/// | `/hop` | 302, `Location: http://localhost:PORT/to-ws` (another origin) |
/// | `/loop-a`, `/loop-b` | 307 and 308 to each other |
fn axum_server() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let redirect = |status: StatusCode, location: String| {
        move || {
            let location = location.clone();
            async move { (status, [(header::LOCATION, location)]).into_response() }
        }
    };
    let router = Router::new()
        .route("/ws", get(upgrade))
        .route(
            "/to-ws",
            get(redirect(StatusCode::MOVED_PERMANENTLY, "/ws".into())),
        )
        .route(
            "/see-other",
            get(redirect(
                StatusCode::SEE_OTHER,
                format!("ws://127.0.0.1:{port}/ws"),
            )),
        )
        .route(
            "/hop",
            get(redirect(
                StatusCode::FOUND,
                format!("http://localhost:{port}/to-ws"),
            )),
        )
        .route(
            "/loop-a",
            get(redirect(StatusCode::TEMPORARY_REDIRECT, "/loop-b".into())),
        )
        .route(
            "/loop-b",
            get(redirect(StatusCode::PERMANENT_REDIRECT, "/loop-a".into())),
        );
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, router).await.unwrap();
        });
    });
    port
}

/// The endpoint: tells what credentials arrived, then echoes.
async fn upgrade(headers: HeaderMap, ws: ws_axum::WebSocketUpgrade) -> impl IntoResponse {
    let seen = |name| {
        headers
            .get(name)
            .map_or("-".to_owned(), |v| v.to_str().unwrap_or("?").to_owned())
    };
    let report = format!(
        "authorization={} cookie={} host={}",
        seen(header::AUTHORIZATION),
        seen(header::COOKIE),
        seen(header::HOST)
    );
    ws.on_upgrade(move |mut socket| async move {
        if socket.send_text(report).await.is_err() {
            return;
        }
        while let Ok(message) = socket.recv().await {
            if socket.send_message(message).await.is_err() {
                break;
            }
        }
    })
}

/// Follows up to `max` redirects, `localhost` reached at 127.0.0.1, no
/// proxy whatever the environment says.
fn following(max: usize) -> ClientOptions {
    let localhost: IpAddr = "127.0.0.1".parse().unwrap();
    ClientOptions {
        redirects: max,
        resolve: vec![("localhost".to_owned(), vec![localhost])],
        proxy: Some(ProxyConfig::Direct),
        ..ClientOptions::default()
    }
}

/// A request for `url` carrying credentials.
fn with_credentials(url: &str) -> ClientRequestBuilder {
    ClientRequestBuilder::new(url.parse::<Uri>().unwrap())
        .with_header("Authorization", "Bearer token")
        .with_header("Cookie", "session=1")
}

fn uri(s: &str) -> Uri {
    s.parse().unwrap()
}

/// `/hop` (302 to `http://localhost/to-ws`, another origin: `http` read
/// as `ws`), then 301 to the relative `/ws`: the session opens, the
/// final URL and the chain are reported, and the credentials did not
/// cross to the other origin.
pub fn a_chain_is_followed_and_credentials_stop_at_another_origin<R: Rt>(_: &std::path::Path) {
    let port = axum_server();
    run::<R, _>(|| async move {
        let request = with_credentials(&format!("ws://127.0.0.1:{port}/hop"));
        let (mut ws, response) = connect_with::<R>(request, following(5)).await.unwrap();
        assert_eq!(response.status(), 101);
        assert_eq!(
            response.url(),
            Some(&uri(&format!("ws://localhost:{port}/ws")))
        );
        assert_eq!(
            response.redirected_from(),
            [
                uri(&format!("ws://127.0.0.1:{port}/hop")),
                uri(&format!("ws://localhost:{port}/to-ws"))
            ]
        );
        let report = ws.recv().await.unwrap();
        assert_eq!(
            report.to_text().unwrap(),
            format!("authorization=- cookie=- host=localhost:{port}")
        );
        ws.send_text("after the hops").await.unwrap();
        assert_eq!(
            ws.recv().await.unwrap().to_text().unwrap(),
            "after the hops"
        );
    });
}

/// 301 and 303 on the same origin keep the credentials.
pub fn credentials_stay_on_the_same_origin<R: Rt>(_: &std::path::Path) {
    let port = axum_server();
    run::<R, _>(|| async move {
        for path in ["to-ws", "see-other"] {
            let request = with_credentials(&format!("ws://127.0.0.1:{port}/{path}"));
            let (mut ws, response) = connect_with::<R>(request, following(1)).await.unwrap();
            assert_eq!(response.redirected_from().len(), 1);
            assert_eq!(
                ws.recv().await.unwrap().to_text().unwrap(),
                format!("authorization=Bearer token cookie=session=1 host=127.0.0.1:{port}")
            );
        }
    });
}

/// `/loop-a` → `/loop-b` → `/loop-a`: a loop, listed, before the maximum.
pub fn a_loop_is_refused<R: Rt>(_: &std::path::Path) {
    let port = axum_server();
    run::<R, _>(|| async move {
        let url = format!("ws://127.0.0.1:{port}/loop-a");
        let error = refused::<R>(&url, following(10)).await;
        let message = error.to_string();
        let ConnectError::Redirect(RedirectError::Loop { to, chain }) = error else {
            panic!("{error:?}")
        };
        assert_eq!(to, uri(&url));
        assert_eq!(chain.len(), 3, "{chain:?}");
        assert!(message.contains("redirect loop"), "{message}");
    });
}

/// Two hops with a maximum of one: too many, naming the last hop.
pub fn too_many_redirects_are_refused<R: Rt>(_: &std::path::Path) {
    let port = axum_server();
    run::<R, _>(|| async move {
        let error = refused::<R>(&format!("ws://127.0.0.1:{port}/hop"), following(1)).await;
        let ConnectError::Redirect(RedirectError::TooMany { max, to, .. }) = &error else {
            panic!("{error:?}")
        };
        assert_eq!(*max, 1);
        assert_eq!(*to, uri(&format!("ws://localhost:{port}/ws")));
    });
}

/// Without the option a redirect is the server's refusal, with its
/// status and `Location`.
pub fn redirects_are_off_by_default<R: Rt>(_: &std::path::Path) {
    let port = axum_server();
    run::<R, _>(|| async move {
        let error = refused::<R>(&format!("ws://127.0.0.1:{port}/to-ws"), following(0)).await;
        let refusal = error.rejection().expect("the server's answer");
        assert_eq!(refusal.status(), StatusCode::MOVED_PERMANENTLY);
        assert_eq!(refusal.headers()[header::LOCATION], "/ws");
    });
}

/// Our TLS server answers `/old` with 302 to `https://localhost/new`
/// (read as `wss://`, followed) and `/down` with 301 to `ws://…` (a
/// downgrade: refused, typed, nothing sent in clear).
pub fn https_maps_to_wss_and_wss_to_ws_is_refused<R: Rt>(_: &std::path::Path) {
    let cert = TestCert::new();
    run::<R, _>(|| async move {
        let (listener, base) = R::listen().await;
        let port: u16 = base.rsplit(':').next().unwrap().parse().unwrap();
        let server = ServerOptions {
            tls: Some(cert.server_config()),
            ..ServerOptions::default()
        };
        R::spawn_detached(async move {
            loop {
                let tcp = R::accept_tcp(&listener).await;
                let decide = move |request: &ws_session::UpgradeRequest| {
                    let location = match request.request().uri().path() {
                        "/old" => format!("https://localhost:{port}/new"),
                        "/down" => format!("ws://localhost:{port}/new"),
                        _ => return Decision::accept(),
                    };
                    let mut headers = http::HeaderMap::new();
                    headers.insert(header::LOCATION, HeaderValue::from_str(&location).unwrap());
                    Decision::Reject {
                        status: StatusCode::FOUND,
                        headers,
                        body: Vec::new(),
                    }
                };
                let server = server.clone();
                R::spawn_detached(async move {
                    if let Ok((mut ws, _)) = R::accept(tcp, server, decide).await {
                        let _ = ws.send_text("secure").await;
                        let _ = ws.recv().await;
                    }
                });
            }
        });
        let options = ClientOptions {
            tls: Some(cert.client_config()),
            ..following(3)
        };
        let (mut ws, response) =
            connect_with::<R>(format!("wss://localhost:{port}/old"), options.clone())
                .await
                .unwrap();
        assert_eq!(
            response.url(),
            Some(&uri(&format!("wss://localhost:{port}/new")))
        );
        assert_eq!(ws.recv().await.unwrap().to_text().unwrap(), "secure");

        let error = refused::<R>(&format!("wss://localhost:{port}/down"), options).await;
        let ConnectError::Redirect(RedirectError::Downgrade { from, to }) = &error else {
            panic!("{error:?}")
        };
        assert_eq!(*from, uri(&format!("wss://localhost:{port}/down")));
        assert_eq!(to.scheme_str(), Some("ws"));
        assert!(error.to_string().contains("downgrade"), "{error}");
    });
}
