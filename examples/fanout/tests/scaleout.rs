//! Scale-out: a real `nats-server` and three `broadcast_server` processes
//! sharing the topic `room`. Two clients per node, one of which publishes:
//! every client gets every message once, in order per publisher. Then the
//! broker is killed: every node says so, and messages sent meanwhile are
//! reported lost by the node that took them (never delivered late); the
//! broker is restarted on the same port, every node says it is back, and
//! messages flow again.

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use test_support::nats::NatsServer;
use ws_tokio::{Message, WebSocket};

const WAIT: Duration = Duration::from_secs(30);

/// The example's binary (built if missing).
fn server_binary() -> PathBuf {
    test_support::process::example_binary(
        env!("CARGO"),
        env!("CARGO_MANIFEST_DIR"),
        "broadcast_server",
    )
}

/// A `broadcast_server` process: its stdout lines, killed by PID on drop.
struct Node {
    child: Child,
    lines: Receiver<String>,
    url: String,
}

impl Node {
    fn start(nats: &str, name: &str) -> Node {
        let mut child = Command::new(server_binary())
            .args(["--addr", "127.0.0.1:0", "--nats", nats, "--name", name])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("broadcast_server starts");
        let (tx, lines) = mpsc::channel();
        let out = child.stdout.take().expect("piped");
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut node = Node {
            child,
            lines,
            url: String::new(),
        };
        let line = node.wait_line(|l| l.contains("listening on ws://"));
        let addr = line.rsplit("ws://").next().expect("address");
        node.url = format!("ws://{addr}/topic/room");
        node
    }

    /// The next line for which `pred` holds (earlier lines are skipped).
    fn wait_line(&mut self, pred: impl Fn(&str) -> bool) -> String {
        loop {
            let line = self
                .lines
                .recv_timeout(WAIT)
                .expect("broadcast_server printed the line in time");
            if pred(&line) {
                return line;
            }
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `count` messages `p{n}:{tag}:{i}` from each node's publisher.
async fn publish(publishers: &mut [WebSocket], tag: &str, count: usize) {
    for i in 0..count {
        for (n, ws) in publishers.iter_mut().enumerate() {
            ws.send_text(format!("p{n}:{tag}:{i}")).await.unwrap();
        }
    }
    for ws in publishers {
        ws.flush().await.unwrap();
    }
}

/// The text of the next message, within [`WAIT`].
async fn next_text(ws: &mut WebSocket, context: impl FnOnce() -> String) -> String {
    let message = tokio::time::timeout(WAIT, ws.recv())
        .await
        .unwrap_or_else(|_| panic!("{}", context()))
        .unwrap();
    let Message::Text(text) = message else {
        panic!("binary")
    };
    text.as_str().to_owned()
}

/// Connects the clients one after the other: the publishers first (index
/// n on node n), then a listener per node. Each sends `c{k}:sync:0` and
/// waits until it comes back: its node reads what it sends only after
/// subscribing it, so from then on it gets every message of the topic.
/// (The nodes had the broker's confirmation of their own subscription
/// before printing their address.) The others may get these syncs too;
/// [`expect`] skips them.
async fn connect_clients(nodes: &[Node]) -> Vec<WebSocket> {
    let mut clients = Vec::new();
    for _ in 0..2 {
        for node in nodes {
            let (mut ws, _) = ws_tokio::connect(node.url.as_str()).await.unwrap();
            let me = format!("c{}:sync:0", clients.len());
            ws.send_text(me.clone()).await.unwrap();
            ws.flush().await.unwrap();
            while next_text(&mut ws, || format!("{me} did not come back")).await != me {}
            clients.push(ws);
        }
    }
    clients
}

/// Every client gets `count` messages of `tag` from each publisher, once
/// each, in order, and nothing else first (but syncs of
/// [`connect_clients`], which all precede the first phase's messages of
/// their node).
async fn expect(clients: &mut [WebSocket], tag: &str, count: usize) {
    for (c, ws) in clients.iter_mut().enumerate() {
        let mut next = [0usize; 3];
        for _ in 0..3 * count {
            let mut text = String::new();
            while text.is_empty() || text.contains(":sync:") {
                text =
                    next_text(ws, || format!("client {c}: only {next:?} of {tag} in time")).await;
            }
            let mut parts = text.split(':');
            let from: usize = parts.next().unwrap()[1..].parse().unwrap();
            assert_eq!(parts.next(), Some(tag), "client {c}: {text}");
            let i: usize = parts.next().unwrap().parse().unwrap();
            assert_eq!(
                i, next[from],
                "client {c}: once each, in order per publisher"
            );
            next[from] += 1;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_share_a_topic_through_nats_and_survive_a_broker_restart() {
    let tmp = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let mut broker = NatsServer::start(tmp).expect("nats-server");
    let mut nodes: Vec<Node> = (0..3)
        .map(|n| Node::start(&broker.url(), &format!("node{n}")))
        .collect();
    let mut clients = connect_clients(&nodes).await;
    publish(&mut clients[..3], "a", 100).await;
    expect(&mut clients, "a", 100).await;

    broker.stop();
    for node in &mut nodes {
        node.wait_line(|l| l == "backplane: disconnected");
    }
    publish(&mut clients[..3], "during", 5).await;
    for node in &mut nodes {
        for _ in 0..5 {
            node.wait_line(|l| l.starts_with("lost: topic=room"));
        }
    }
    broker.restart().expect("nats-server again, same port");
    for node in &mut nodes {
        node.wait_line(|l| l == "backplane: connected");
    }
    publish(&mut clients[..3], "after", 50).await;
    // The next messages are the ones after the outage: the lost ones were
    // reported, not delivered late.
    expect(&mut clients, "after", 50).await;
}
