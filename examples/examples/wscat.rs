//! An interactive WebSocket client (and, with `--listen`, server) in the
//! spirit of wscat and websocat: lines typed on stdin are sent, everything
//! received is printed (binary as hex), `--raw` shows every frame with its
//! opcode and flags.
//!
//! Run: `cargo run -p examples --example wscat -- ws://127.0.0.1:9002`
//! or, to serve one connection at a time:
//! `cargo run -p examples --example wscat -- --listen 127.0.0.1:9002`
//!
//! Options: `--header 'Name: value'`, `--subprotocol NAME`,
//! `--ping-interval SECS`, `--compress`, `--raw`; `/ping`, `/close`,
//! `/binary HEX` and `/frame` on stdin (see `examples::wscat::USAGE`).
//! The logic is in `examples::wscat`; this file only picks tokio.
use futures_channel::mpsc;
use futures_util::StreamExt as _;
use futures_util::stream::FusedStream as _;
use tokio::io::AsyncBufReadExt as _;
use ws_tokio::{AcceptOptions, Acceptor, ClientRequestBuilder, Connector, Decision};

use examples::fail;
use examples::wscat::{Options, interact};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let options = Options::parse(std::env::args().skip(1)).unwrap_or_else(|e| fail(&e));
    // stdin, one line at a time; the channel closes at end of input.
    let (tx, mut lines) = mpsc::unbounded();
    tokio::spawn(async move {
        let mut stdin = tokio::io::BufReader::new(tokio::io::stdin()).lines();
        while let Ok(Some(line)) = stdin.next_line().await {
            if tx.unbounded_send(line).is_err() {
                break;
            }
        }
    });
    let mut out = |line: &str| println!("{line}");
    if let Some(url) = &options.url {
        let mut request = ClientRequestBuilder::new(url.as_str());
        for (name, value) in &options.headers {
            request = request.header(name.clone(), value.clone());
        }
        for protocol in &options.subprotocols {
            request = request.subprotocol(protocol);
        }
        let (ws, response) = Connector::new()
            .config(options.config())
            .connect(request)
            .await
            .unwrap_or_else(|e| fail(&e.to_string()));
        let extensions = response
            .headers()
            .get(http::header::SEC_WEBSOCKET_EXTENSIONS)
            .and_then(|v| v.to_str().ok());
        eprintln!(
            "connected to {url} ({}; subprotocol: {}; extensions: {})",
            response.status(),
            response.subprotocol().unwrap_or("none"),
            extensions.unwrap_or("none"),
        );
        let mut ws = ws.into_session();
        interact(&mut ws, &mut lines, &mut out).await;
    } else if let Some(addr) = &options.listen {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .unwrap_or_else(|e| fail(&format!("cannot listen on {addr}: {e}")));
        let local = listener
            .local_addr()
            .map_or(addr.clone(), |a| a.to_string());
        eprintln!("listening on ws://{local} (one connection at a time)");
        let acceptor = Acceptor::new().config(options.config());
        // Out of descriptors, the loop pauses instead of failing or spinning.
        let mut incoming = ws_tokio::incoming(listener);
        while let Some(tcp) = incoming.next().await {
            let tcp = tcp.unwrap_or_else(|e| fail(&format!("the listener failed: {e}")));
            let peer = tcp
                .peer_addr()
                .map_or_else(|e| e.to_string(), |a| a.to_string());
            let accepted = acceptor
                .accept_with(tcp, |request| {
                    let mut accept = AcceptOptions::new();
                    if let Some(chosen) = options
                        .subprotocols
                        .iter()
                        .find(|p| request.subprotocols().contains(p))
                    {
                        accept = accept.subprotocol(chosen);
                    }
                    for (name, value) in &options.headers {
                        accept = accept.header(name.clone(), value.clone());
                    }
                    Decision::accept_with(accept)
                })
                .await;
            let (ws, request) = match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    eprintln!("{peer}: {e}");
                    continue;
                }
            };
            eprintln!(
                "{peer} connected: GET {} (subprotocol: {}; extensions: {})",
                request.uri(),
                request.subprotocol().unwrap_or("none"),
                if request.extensions().is_empty() {
                    "none".to_owned()
                } else {
                    request.extensions().join(", ")
                },
            );
            let mut ws = ws.into_session();
            interact(&mut ws, &mut lines, &mut out).await;
            if lines.is_terminated() {
                break;
            }
        }
    }
}
