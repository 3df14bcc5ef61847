//! A topic server: a client connecting to `/topic/NAME` subscribes to NAME,
//! and every text message it sends is published to NAME and delivered,
//! unchanged, to every subscriber of NAME (the sender included) on every
//! node sharing the NATS broker given by `--nats` (or on this one alone).
//!
//! ```text
//! cargo run -p examples --example broadcast_server -- --addr 127.0.0.1:9002 [--nats nats://127.0.0.1:4222]
//! ```
//!
//! Prints `broadcast_server listening on ws://ADDR` once bound, then a
//! line for each change of the broker connection (`backplane:
//! disconnected`, `backplane: connected`) and for each message that could
//! not be published (`lost: topic=NAME …`): while the broker is down,
//! messages are refused and reported, not queued. At most
//! `--max-connections` sessions at once (beyond: 503 with `Retry-After`).
//! Ctrl-C stops accepting, sends every session what was queued for it
//! then Close 1001, drops those that have not answered within 5 s, and
//! prints the report.
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use futures_util::StreamExt as _;
use ws_nats::{NatsBackplane, NatsOptions};
use ws_session::broadcast::{Backplane, Hub, SlowPolicy};
use ws_session::wsproto_core::Message as CoreMessage;
use ws_tokio::{CloseCode, Config, Decision, DeflateConfig, Message};

/// Messages waiting for one subscriber's driver task, at most.
const SUBSCRIBER_QUEUE: usize = 1024;

/// How long the close handshakes may take at shutdown.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(5);

/// A WebSocket topic server: connect to /topic/NAME; what you send there
/// reaches every subscriber of NAME on every node.
#[derive(Debug, Parser)]
#[command(name = "broadcast_server", version)]
struct Cli {
    /// Address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:9002")]
    addr: String,
    /// A NATS URL: share topics with the other nodes on this broker.
    #[arg(long)]
    nats: Option<String>,
    /// permessage-deflate: `on` without context takeover on our side, so
    /// a message is compressed once for all subscribers with the same
    /// parameters; `takeover` keeps each connection's context (every
    /// connection compresses for itself: the benchmark's comparison).
    #[arg(long, default_value = "on", value_parser = ["on", "off", "takeover"])]
    compress: String,
    /// Close a subscriber that cannot keep up with 1013 instead of
    /// skipping messages for it.
    #[arg(long)]
    close_slow: bool,
    /// tokio worker threads (1: the current-thread runtime).
    #[arg(long)]
    threads: Option<usize>,
    /// This node's name (in the broker's logs).
    #[arg(long, default_value = "broadcast_server")]
    name: String,
    /// Sessions served at once; beyond, upgrades are answered 503.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    max_connections: usize,
}

fn main() {
    let cli = Cli::parse();
    let runtime = examples::tokio_runtime(cli.threads)
        .unwrap_or_else(|e| examples::fail(&format!("cannot start tokio: {e}")));
    if let Err(e) = runtime.block_on(serve(cli)) {
        examples::fail(&e);
    }
}

async fn serve(cli: Cli) -> Result<(), String> {
    let policy = if cli.close_slow {
        SlowPolicy::Close(CloseCode::TRY_AGAIN_LATER)
    } else {
        SlowPolicy::Drop
    };
    let hub: Hub = Hub::new(policy);
    let backplane: Arc<dyn Backplane> = match &cli.nats {
        Some(url) => {
            let options = NatsOptions::default()
                .with_name(cli.name.clone())
                .with_max_reconnect_delay(Duration::from_millis(250));
            let nats = NatsBackplane::connect(url, hub.clone(), options)
                .await
                .map_err(|e| e.to_string())?;
            let nats = Arc::new(nats);
            report_broker(nats.clone());
            nats
        }
        None => Arc::new(hub.clone()),
    };
    let mut config = Config::default();
    match cli.compress.as_str() {
        "on" => {
            config = config
                .with_compression(DeflateConfig::default().with_server_no_context_takeover(true));
        }
        "takeover" => config = config.with_compression(DeflateConfig::default()),
        _ => {}
    }
    let shutdown = ws_tokio::shutdown_handle();
    let acceptor = ws_tokio::Acceptor::new()
        .config(config)
        .max_connections(cli.max_connections)
        .shutdown(shutdown.clone());
    let listener = tokio::net::TcpListener::bind(&cli.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", cli.addr))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    println!("broadcast_server listening on ws://{local}");
    let closing = tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            let _ = tokio::signal::ctrl_c().await;
            println!(
                "shutting down: closing {} sessions with 1001",
                shutdown.live()
            );
            shutdown.shutdown(SHUTDOWN_DEADLINE).await
        }
    });
    // Out of descriptors, the loop pauses instead of spinning or ending;
    // it ends when the shutdown begins.
    let mut incoming = ws_tokio::incoming(listener).until_shutdown(&shutdown);
    while let Some(accepted) = incoming.next().await {
        let Ok(tcp) = accepted else { break };
        let (acceptor, hub, backplane) = (acceptor.clone(), hub.clone(), backplane.clone());
        tokio::spawn(async move {
            // Over the cap the client gets 503 here; the session holds its
            // place (and its shutdown registration) until it ends.
            let Ok((ws, request)) = acceptor.accept_with(tcp, decide).await else {
                return;
            };
            let Some(topic) = topic_of(request.uri().path()) else {
                return;
            };
            let topic = topic.to_owned();
            // Room for bursts: a subscriber counts as full (and the
            // policy applies) only once this many messages wait for its
            // driver task. They share their payload with every other
            // subscriber until the core takes them.
            let (writer, mut reader) = ws.spawn_split_with_capacity(SUBSCRIBER_QUEUE);
            let member = hub.join(writer);
            member.subscribe(&topic);
            while let Ok(message) = reader.recv().await {
                if let Message::Text(text) = message
                    && let Err(e) = backplane
                        .publish(&topic, CoreMessage::Text(text.into()))
                        .await
                {
                    println!("lost: topic={topic} {e}");
                }
            }
        });
    }
    let report = closing.await.map_err(|e| e.to_string())?;
    println!(
        "shut down: {} sessions, {} closed cleanly, {} ended otherwise, {} dropped at the deadline",
        report.sessions, report.closed, report.ended, report.forced
    );
    Ok(())
}

/// Accepts `/topic/NAME` for a NAME the broker can carry; 404 otherwise.
fn decide(request: &ws_tokio::UpgradeRequest) -> Decision {
    match topic_of(request.request().uri().path()) {
        Some(_) => Decision::accept(),
        None => Decision::reject(
            http::StatusCode::NOT_FOUND,
            "connect to /topic/NAME (NAME without '.', '*', '>' or spaces)\n",
        ),
    }
}

fn topic_of(path: &str) -> Option<&str> {
    let name = path.strip_prefix("/topic/")?;
    let valid = !name.is_empty()
        && !name
            .bytes()
            .any(|b| b.is_ascii_whitespace() || matches!(b, b'.' | b'*' | b'>' | b'/'));
    valid.then_some(name)
}

/// Prints every change of the broker connection; `connected` once this
/// node's subscription is back in place after a reconnect.
fn report_broker(nats: Arc<NatsBackplane>) {
    tokio::spawn(async move {
        loop {
            nats.wait_disconnected().await;
            println!("backplane: disconnected");
            nats.wait_connected().await;
            println!("backplane: connected");
        }
    });
}
