//! Chromium against the axum app over TLS with ALPN `h2`: the page comes
//! from the server over HTTP/2 and opens `wss://` to the same server, which
//! Chromium sends as an RFC 8441 extended CONNECT on the page's connection.
//! The server must see `CONNECT` over HTTP/2 (with the subprotocol and
//! permessage-deflate negotiated), the page's message, and the page's
//! answer to the echo.
//!
//! Chromium is `/usr/bin/chromium` (Debian's package). When it is missing,
//! the test installs it with apt-get when it runs as root (CI does), and
//! otherwise skips with a loud message.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use http::{Method, Version};
use http_servers_tests::servers::{Seen, axum_app, serve_axum_tls};
use ws_axum::{Config, DeflateConfig, Message};

const CHROMIUM: &str = "/usr/bin/chromium";

/// Chromium's path, installing it with apt-get if it is missing and we may.
fn chromium() -> Option<PathBuf> {
    let path = Path::new(CHROMIUM);
    if path.exists() {
        return Some(path.to_owned());
    }
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    if !is_root {
        return None;
    }
    eprintln!("chromium test: installing Debian's chromium with apt-get");
    let apt = |args: &[&str]| {
        std::process::Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let installed = apt(&["update", "-q"])
        && apt(&["install", "-y", "-q", "--no-install-recommends", "chromium"]);
    (installed && path.exists()).then(|| path.to_owned())
}

fn tls_config() -> rustls::ServerConfig {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
        .expect("rcgen");
    let key = rustls_pki_types::PrivateKeyDer::Pkcs8(cert.key_pair.serialize_der().into());
    let config = ws_tokio::server_config(vec![cert.cert.der().clone()], key).expect("rustls");
    std::sync::Arc::unwrap_or_clone(config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_opens_wss_as_an_extended_connect_on_the_pages_http2_connection() {
    let Some(chromium) = chromium() else {
        eprintln!(
            "\n*** SKIPPED: {CHROMIUM} is not installed and cannot be installed here \
             (not root). Install Debian's `chromium` to run this test. ***\n"
        );
        return;
    };
    let config = Config::default().with_compression(DeflateConfig::default());
    let (router, mut seen) = axum_app(config);
    let addr = serve_axum_tls(router, tls_config()).await;
    let profile = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("chromium-profile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&profile);
    let mut browser = tokio::process::Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--ignore-certificate-errors",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("https://{addr}/"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("chromium starts");

    let mut events = Vec::new();
    let outcome = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(event) = seen.recv().await {
            events.push(event);
            if events.len() == 3 {
                break;
            }
        }
    })
    .await;
    // Stop the browser we started (by its PID, through the handle).
    let _ = browser.start_kill();
    let stderr =
        match tokio::time::timeout(Duration::from_secs(10), browser.wait_with_output()).await {
            Ok(Ok(output)) => String::from_utf8_lossy(&output.stderr).into_owned(),
            _ => String::new(),
        };
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        outcome.is_ok(),
        "the page's WebSocket did not finish within 60 s; the server saw {events:?}\n\
         chromium's stderr:\n{stderr}"
    );
    assert_eq!(
        events,
        [
            Seen::Upgrade {
                method: Method::CONNECT,
                version: Version::HTTP_2,
                path: "/ws".to_owned(),
                protocol: Some("echo.v1".to_owned()),
                extensions: vec!["permessage-deflate".to_owned()],
            },
            Seen::Message(Message::Text("hello from the page".into())),
            Seen::Message(Message::Text("echoed: hello from the page".into())),
        ],
        "chromium's stderr:\n{stderr}"
    );
}
