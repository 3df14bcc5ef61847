//! The chat demo scaled out: one chat node of several sharing rooms
//! through NATS, and a member client. `scripts/chat-scaleout.sh` starts a
//! `nats-server`, three nodes and three members, one per node, and shows
//! a line said on one node reaching the members on the others.
//!
//! ```text
//! cargo run -p examples --example chat_node -- serve --addr 127.0.0.1:0 --nats nats://127.0.0.1:4222 --node 0
//! cargo run -p examples --example chat_node -- member ws://127.0.0.1:PORT/room/lobby --name ann --say hello --until "ann@node0: hello"
//! ```
//!
//! A member connects to `/room/ROOM?name=NICK`; the node announces
//! `* NICK joined (node N)` to the room on every node, relays each line as
//! `NICK@nodeN: line`, and `* NICK left` when it goes.
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use futures_util::StreamExt as _;
use ws_nats::{NatsBackplane, NatsOptions};
use ws_session::broadcast::{Backplane, Hub, SlowPolicy};
use ws_session::wsproto_core::Message as CoreMessage;
use ws_tokio::{CloseCode, CloseFrame, Decision, Message};

/// A chat node sharing rooms through NATS, or a member of a room.
#[derive(Debug, Parser)]
#[command(name = "chat_node")]
struct Cli {
    #[command(subcommand)]
    command: Mode,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// Run a node: rooms at /room/NAME?name=NICK.
    Serve {
        /// Address to listen on (port 0: any free port).
        #[arg(long, default_value = "127.0.0.1:9010")]
        addr: String,
        /// The NATS broker the nodes share.
        #[arg(long)]
        nats: String,
        /// This node's number, shown in the lines it relays.
        #[arg(long, default_value_t = 0)]
        node: u32,
    },
    /// Join a room: print every line, say `--say` lines, leave once a line
    /// containing `--until` has arrived (or after `--timeout` seconds).
    Member {
        /// `ws://HOST:PORT/room/ROOM`.
        url: String,
        /// Nickname.
        #[arg(long)]
        name: String,
        /// Lines to say once joined.
        #[arg(long)]
        say: Vec<String>,
        /// Leave after a line containing this.
        #[arg(long)]
        until: Option<String>,
        /// Give up after this many seconds (exit status 1).
        #[arg(long, default_value_t = 20)]
        timeout: u64,
    },
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let result = match Cli::parse().command {
        Mode::Serve { addr, nats, node } => serve(&addr, &nats, node).await,
        Mode::Member {
            url,
            name,
            say,
            until,
            timeout,
        } => member(&url, &name, &say, until.as_deref(), timeout).await,
    };
    if let Err(e) = result {
        examples::fail(&e);
    }
}

async fn serve(addr: &str, nats: &str, node: u32) -> Result<(), String> {
    let hub: Hub = Hub::new(SlowPolicy::Drop);
    let options = NatsOptions::default()
        .with_prefix("chat")
        .with_name(format!("chat-node{node}"));
    let backplane = NatsBackplane::connect(nats, hub.clone(), options)
        .await
        .map_err(|e| e.to_string())?;
    let backplane: Arc<dyn Backplane> = Arc::new(backplane);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    println!("chat node {node} listening on ws://{local}");
    let acceptor = ws_tokio::Acceptor::new();
    // Out of descriptors, the loop pauses instead of spinning or ending.
    let mut incoming = ws_tokio::incoming(listener);
    while let Some(tcp) = incoming.next().await {
        let Ok(tcp) = tcp else { continue };
        let (acceptor, hub, backplane) = (acceptor.clone(), hub.clone(), backplane.clone());
        tokio::spawn(async move {
            let mut who = None;
            let Ok((ws, _)) = acceptor
                .accept_with(tcp, |request| {
                    who = room_and_name(request.request().uri());
                    if who.is_some() {
                        Decision::accept()
                    } else {
                        Decision::reject(http::StatusCode::NOT_FOUND, "use /room/ROOM?name=NICK\n")
                    }
                })
                .await
            else {
                return;
            };
            let Some((room, name)) = who else { return };
            let (writer, mut reader) = ws.spawn_split_with_capacity(1024);
            let member = hub.join(writer);
            member.subscribe(&room);
            let say = |line: String| backplane.publish(&room, CoreMessage::Text(line.into()));
            let _ = say(format!("* {name} joined (node {node})")).await;
            while let Ok(message) = reader.recv().await {
                if let Message::Text(text) = message
                    && let Err(e) = say(format!("{name}@node{node}: {text}")).await
                {
                    println!("lost a line of {name} in {room}: {e}");
                }
            }
            drop(member);
            let _ = say(format!("* {name} left")).await;
        });
    }
    Err(format!("the listener on {local} failed"))
}

/// `/room/ROOM?name=NICK`, both single words.
fn room_and_name(uri: &http::Uri) -> Option<(String, String)> {
    let room = uri.path().strip_prefix("/room/")?;
    let name = uri.query()?.strip_prefix("name=")?;
    let word = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    (word(room) && word(name)).then(|| (room.to_owned(), name.to_owned()))
}

async fn member(
    url: &str,
    name: &str,
    say: &[String],
    until: Option<&str>,
    timeout: u64,
) -> Result<(), String> {
    let url = format!("{url}?name={name}");
    let (mut ws, _) = ws_tokio::connect(url.as_str())
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    // Our own join announcement coming back means the room has us.
    let joined = format!("* {name} joined");
    let run = async {
        let mut said = false;
        loop {
            let Message::Text(line) = ws.recv().await.map_err(|e| e.to_string())? else {
                continue;
            };
            println!("[{name}] {line}");
            if !said && line.starts_with(&joined) {
                said = true;
                for text in say {
                    ws.send_text(text.as_str())
                        .await
                        .map_err(|e| e.to_string())?;
                }
                ws.flush().await.map_err(|e| e.to_string())?;
            }
            if until.is_some_and(|until| line.contains(until)) {
                return Ok::<(), String>(());
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(timeout), run)
        .await
        .map_err(|_| format!("[{name}] no line containing {until:?} within {timeout} s"))??;
    ws.close(CloseFrame::new(CloseCode::NORMAL, "bye"))
        .await
        .map_err(|e| e.to_string())
}
