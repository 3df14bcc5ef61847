//! A chat room in an axum app: an HTML page at `/`, a plain HTTP route at
//! `/members`, and the chat WebSocket at `/chat`, all on the same port and
//! the same router, served over
//!
//! - plain TCP (`--addr`): HTTP/1.1 (`Upgrade: websocket`) and HTTP/2 with
//!   prior knowledge (h2c, RFC 8441 extended CONNECT);
//! - TLS (`--tls-addr`, a self-signed certificate for `localhost` made at
//!   start-up): ALPN `h2` (browsers open `wss://` as an extended CONNECT on
//!   the page's HTTP/2 connection) or `http/1.1`.
//!
//! ```text
//! cargo run -p examples-axum --example axum_chat -- [--addr 127.0.0.1:8080] [--tls-addr 127.0.0.1:8443]
//! ```
//!
//! Open `http://127.0.0.1:8080/` (or `https://localhost:8443/`, accepting
//! the certificate) in two tabs. Only this server's own pages may join
//! (`OriginPolicy::same_host`). A member whose messages pile up (it stopped
//! reading) is disconnected rather than buffered without bound.
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::State;
use axum::response::{Html, Response};
use axum::routing::get;
use axum::{Extension, Router};
use clap::Parser;
use examples::fail;
use examples_axum::localhost_tls;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::sync::broadcast;
use ws_axum::{
    CloseCode, CloseFrame, Config, DeflateConfig, Message, OriginPolicy, WebSocket,
    WebSocketUpgrade,
};

/// Chat room over HTTP/1.1 and HTTP/2 (axum, ws-axum).
#[derive(Debug, Parser)]
#[command(name = "axum_chat")]
struct Cli {
    /// Plain TCP address (HTTP/1.1 and h2c).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    addr: String,
    /// TLS address (ALPN h2 and http/1.1).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8443")]
    tls_addr: String,
}

/// Lines a member may fall behind before it is disconnected.
const BACKLOG: usize = 256;

#[derive(Clone)]
struct Room {
    lines: broadcast::Sender<String>,
    members: Arc<AtomicUsize>,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let config = Config::default()
        .with_compression(DeflateConfig::default())
        .with_max_message_size(64 * 1024)
        .with_origin_policy(OriginPolicy::same_host());
    let room = Room {
        lines: broadcast::channel(BACKLOG).0,
        members: Arc::default(),
    };
    let app = Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route(
            "/members",
            get(|State(room): State<Room>| async move {
                format!("{}\n", room.members.load(Ordering::Relaxed))
            }),
        )
        .route("/chat", get(chat).connect(chat))
        .layer(Extension(Arc::new(config)))
        .with_state(room);

    let plain = tokio::net::TcpListener::bind(&cli.addr)
        .await
        .unwrap_or_else(|e| fail(&format!("cannot listen on {}: {e}", cli.addr)));
    let tls = tokio::net::TcpListener::bind(&cli.tls_addr)
        .await
        .unwrap_or_else(|e| fail(&format!("cannot listen on {}: {e}", cli.tls_addr)));
    let (plain_addr, tls_addr) = (plain.local_addr(), tls.local_addr());
    if let (Ok(p), Ok(t)) = (plain_addr, tls_addr) {
        println!(
            "axum_chat: http://{p}/ (HTTP/1.1, h2c) and https://localhost:{}/ (h2, HTTP/1.1)",
            t.port()
        );
    }
    let server_tls = localhost_tls().unwrap_or_else(|e| fail(&e));
    let mut server_tls = Arc::unwrap_or_clone(server_tls);
    server_tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    tokio::spawn(serve_tls(tls, app.clone(), Arc::new(server_tls)));
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    if let Err(e) = axum::serve(plain, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        fail(&format!("server error: {e}"));
    }
}

/// TLS connections: ALPN picks HTTP/2 or HTTP/1.1; RFC 8441 is enabled on
/// HTTP/2 and upgrades on HTTP/1.1, as `axum::serve` does for plain TCP.
async fn serve_tls(listener: tokio::net::TcpListener, app: Router, tls: Arc<rustls::ServerConfig>) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            // Out of descriptors and the like: let some connections end.
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            continue;
        };
        let acceptor = acceptor.clone();
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let Ok(stream) = acceptor.accept(tcp).await else {
                return;
            };
            let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            builder.http2().enable_connect_protocol();
            let _ = builder
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn chat(State(room): State<Room>, ws: WebSocketUpgrade) -> Response {
    let via = if ws.request().is_extended_connect() {
        "HTTP/2 extended CONNECT"
    } else {
        "HTTP/1.1 upgrade"
    };
    println!("a member joins over {via}");
    ws.on_upgrade(move |socket| member(socket, room))
}

/// One member: what it says goes to everyone, what anyone says comes to it.
async fn member(mut socket: WebSocket, room: Room) {
    let mut lines = room.lines.subscribe();
    let count = room.members.fetch_add(1, Ordering::Relaxed) + 1;
    let _ = room.lines.send(format!("* someone joined ({count} here)"));
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Ok(Message::Text(text)) => {
                    let _ = room.lines.send(format!("> {text}"));
                }
                Ok(_) => {}
                Err(_) => break,
            },
            line = lines.recv() => match line {
                Ok(line) => {
                    if socket.send_text(line).await.is_err() {
                        break;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let _ = socket.close(CloseFrame::new(CloseCode::POLICY_VIOLATION, "too far behind")).await;
                    break;
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
        }
    }
    let count = room.members.fetch_sub(1, Ordering::Relaxed) - 1;
    let _ = room.lines.send(format!("* someone left ({count} here)"));
}

const PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>axum_chat</title></head>
<body>
<p id="how"></p>
<pre id="log"></pre>
<form id="form"><input id="text" autocomplete="off" autofocus><button>send</button></form>
<script>
const log = document.getElementById("log");
const scheme = location.protocol === "https:" ? "wss://" : "ws://";
const ws = new WebSocket(scheme + location.host + "/chat");
document.getElementById("how").textContent = "connecting to " + scheme + location.host + "/chat";
ws.onopen = () => { log.textContent += "connected\n"; };
ws.onmessage = (event) => { log.textContent += event.data + "\n"; };
ws.onclose = (event) => { log.textContent += "closed (" + event.code + ")\n"; };
document.getElementById("form").onsubmit = (event) => {
  event.preventDefault();
  const text = document.getElementById("text");
  ws.send(text.value);
  text.value = "";
};
</script>
</body></html>
"#;
