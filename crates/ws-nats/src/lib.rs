//! A NATS [`Backplane`] for [`ws_session::broadcast::Hub`]: several
//! WebSocket server processes share their topics through a `nats-server`.
//!
//! ```text
//!  node A ── publish("room", msg) ──► NATS subject  PREFIX.t.room ──┬──► node A's subscription ──► Hub::publish("room")
//!                                     (.b. for binary)              ├──► node B's subscription ──► Hub::publish("room")
//!                                                                   └──► node C's …
//! ```
//!
//! - **Exactly once per node, in order per publisher.** Each node holds one
//!   NATS subscription to `PREFIX.>`, so the broker hands it every message
//!   once; NATS keeps the order of one connection's messages on a
//!   subject, and a node delivers them to its hub in the order received.
//!   Local subscribers are reached the same way as remote ones (through
//!   the broker), so a message is either delivered on every node or on
//!   none.
//! - **Losing the broker.** The client reconnects by itself (a delay
//!   growing to [`NatsOptions::max_reconnect_delay`]); each loss and each
//!   recovery is logged through `tracing` (warn / info) and counted in
//!   [`NatsBackplane::status`]. While the broker is unreachable,
//!   [`Backplane::publish`] fails at once with
//!   [`BackplaneError::Disconnected`] and counts the message in
//!   [`BackplaneStatus::lost`]: it is not buffered, not sent later, and
//!   reaches no node. A message accepted in the moment before the
//!   connection is found broken can still be lost without an error
//!   (NATS core is at-most-once); use `JetStream` if that matters.
//! - **Ready means subscribed.** [`NatsBackplane::connect`] returns once
//!   the broker has confirmed this node's subscription (a round trip
//!   through it), and so does [`NatsBackplane::wait_connected`] after a
//!   reconnect: a message published after that reaches this node.
//! - Topics are one NATS subject token: non-empty, without whitespace,
//!   `.`, `*` or `>` ([`BackplaneError::InvalidTopic`] otherwise).
//!
//! Needs a tokio runtime (async-nats runs on tokio).
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use ws_nats::{NatsBackplane, NatsOptions};
//! use ws_session::broadcast::{Backplane, Hub, SlowPolicy};
//! use ws_session::wsproto_core::Message; // a data message: text or binary
//!
//! let hub: Hub = Hub::new(SlowPolicy::Drop);
//! let backplane = NatsBackplane::connect("nats://127.0.0.1:4222", hub.clone(), NatsOptions::default()).await?;
//! // Every node's hub gets it, this one's included.
//! backplane.publish("room", Message::Text("hello".into())).await?;
//! println!("{:?}", backplane.status());
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use async_nats::connection::State;
use futures_util::StreamExt as _;
use ws_session::broadcast::{
    Backplane, BackplaneError, BackplaneStatus, Hub, PublishFuture, Subscriber,
};
use ws_session::wsproto_core::PreparedMessage;
use ws_session::wsproto_core::{ByteString, Message};

/// Settings of a [`NatsBackplane`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct NatsOptions {
    /// The first token of every subject (default `ws`): nodes with the same
    /// prefix share topics, other prefixes on the same broker do not.
    pub prefix: String,
    /// The longest wait between reconnect attempts (default 1 s; the
    /// first attempts come sooner).
    pub max_reconnect_delay: Duration,
    /// A name for this node in the broker's and our logs.
    pub name: Option<String>,
}

impl Default for NatsOptions {
    fn default() -> Self {
        NatsOptions {
            prefix: "ws".to_owned(),
            max_reconnect_delay: Duration::from_secs(1),
            name: None,
        }
    }
}

impl NatsOptions {
    /// Sets [`prefix`](Self::prefix).
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Sets [`max_reconnect_delay`](Self::max_reconnect_delay).
    #[must_use]
    pub fn with_max_reconnect_delay(mut self, delay: Duration) -> Self {
        self.max_reconnect_delay = delay;
        self
    }

    /// Sets [`name`](Self::name).
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// Why [`NatsBackplane::connect`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The prefix is not a NATS subject token.
    #[error("prefix {0:?} is not a NATS subject token")]
    InvalidPrefix(String),
    /// The first connection to the broker failed.
    #[error("connecting to NATS at {url}: {source}")]
    Connect {
        /// The URL given.
        url: String,
        /// The client's error.
        #[source]
        source: async_nats::ConnectError,
    },
    /// Subscribing to the prefix's subjects failed.
    #[error("subscribing to {subject}: {source}")]
    Subscribe {
        /// `PREFIX.>`.
        subject: String,
        /// The client's error.
        #[source]
        source: async_nats::SubscribeError,
    },
    /// The broker was lost before it confirmed the subscription.
    #[error("lost the NATS broker at {url} before it confirmed the subscription")]
    Unconfirmed {
        /// The URL given.
        url: String,
    },
}

#[derive(Debug)]
struct Counters {
    /// Connected, as the client's events tell; watchable.
    connected: tokio::sync::watch::Sender<bool>,
    ever_lost: AtomicBool,
    disconnects: AtomicU64,
    reconnects: AtomicU64,
    published: AtomicU64,
    lost: AtomicU64,
    received: AtomicU64,
    /// Messages from the broker that were not ours to deliver (a text
    /// message that is not UTF-8, an unknown subject shape).
    malformed: AtomicU64,
}

/// The NATS backplane of one node; see the [crate docs](crate).
#[derive(Debug)]
pub struct NatsBackplane {
    client: async_nats::Client,
    prefix: String,
    counters: Arc<Counters>,
    receiver: tokio::task::JoinHandle<()>,
}

impl NatsBackplane {
    /// Connects to the broker at `url` and starts delivering every message
    /// published under the prefix (by any node) to `hub`.
    ///
    /// Returns once the broker has registered this node's subscription (a
    /// round trip through the broker, not only the subscription written
    /// to the socket): every message any node publishes after this
    /// returns reaches this node. NATS core delivers nothing to a
    /// subscription the broker has not registered yet, so a node must not
    /// be told "ready" earlier. After a reconnect, the same holds once
    /// [`wait_connected`](Self::wait_connected) returns.
    ///
    /// # Errors
    /// [`ConnectError`]: the broker is unreachable now, refused the
    /// subscription, or was lost before confirming it.
    pub async fn connect<S: Subscriber>(
        url: &str,
        hub: Hub<S>,
        options: NatsOptions,
    ) -> Result<Self, ConnectError> {
        if !is_token(&options.prefix) {
            return Err(ConnectError::InvalidPrefix(options.prefix));
        }
        let counters = Arc::new(Counters {
            connected: tokio::sync::watch::Sender::new(false),
            ever_lost: AtomicBool::new(false),
            disconnects: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
            published: AtomicU64::new(0),
            lost: AtomicU64::new(0),
            received: AtomicU64::new(0),
            malformed: AtomicU64::new(0),
        });
        let events = counters.clone();
        let node = options.name.clone().unwrap_or_default();
        let max_delay = options.max_reconnect_delay;
        let mut connect = async_nats::ConnectOptions::new()
            .max_reconnects(None)
            .reconnect_delay_callback(move |attempts| {
                let exponent = u32::try_from(attempts.min(10)).unwrap_or(10);
                (Duration::from_millis(25) * 2u32.pow(exponent)).min(max_delay)
            })
            .event_callback(move |event| {
                on_event(&events, &node, &event);
                std::future::ready(())
            });
        if let Some(name) = &options.name {
            connect = connect.name(name);
        }
        let client = connect
            .connect(url)
            .await
            .map_err(|source| ConnectError::Connect {
                url: url.to_owned(),
                source,
            })?;
        counters.connected.send_replace(true);
        let subject = format!("{}.>", options.prefix);
        let subscription =
            client
                .subscribe(subject.clone())
                .await
                .map_err(|source| ConnectError::Subscribe {
                    subject: subject.clone(),
                    source,
                })?;
        let receiver = tokio::spawn(deliver(
            subscription,
            options.prefix.len() + 1,
            hub,
            counters.clone(),
        ));
        let backplane = NatsBackplane {
            client,
            prefix: options.prefix,
            counters,
            receiver,
        };
        // Flushing is not enough: it only means the SUB left this
        // process; another node's message can reach the broker first.
        if !backplane.round_trip().await {
            return Err(ConnectError::Unconfirmed {
                url: url.to_owned(),
            });
        }
        Ok(backplane)
    }

    /// One round trip through the broker on this connection: a message to
    /// a fresh inbox of ours, subscribed just before, comes back. The
    /// broker handles one connection's operations in order, so once it is
    /// back the broker has registered every subscription sent before it
    /// (the one to `PREFIX.>` too, which the client re-sends first after a
    /// reconnect). `false` if the connection was lost meanwhile (the
    /// message may be lost with it) or the client is closed.
    async fn round_trip(&self) -> bool {
        let mut connected = self.counters.connected.subscribe();
        if !*connected.borrow_and_update() {
            return false;
        }
        let probe = async {
            let inbox = self.client.new_inbox();
            let mut echo = self.client.subscribe(inbox.clone()).await.ok()?;
            self.client.publish(inbox, bytes::Bytes::new()).await.ok()?;
            echo.next().await
        };
        tokio::select! {
            echoed = probe => echoed.is_some(),
            // Lost (and maybe back) meanwhile: the probe may be lost.
            _ = connected.changed() => false,
        }
    }

    /// The connection state and counters (also through [`Backplane::status`]).
    #[must_use]
    pub fn status(&self) -> BackplaneStatus {
        let c = &self.counters;
        let mut status = BackplaneStatus::default();
        // Both: the client's state and its events are not updated at the
        // same instant, and the waits below follow the events.
        status.connected =
            *c.connected.borrow() && self.client.connection_state() == State::Connected;
        status.disconnects = c.disconnects.load(Ordering::Relaxed);
        status.reconnects = c.reconnects.load(Ordering::Relaxed);
        status.published = c.published.load(Ordering::Relaxed);
        status.lost = c.lost.load(Ordering::Relaxed);
        status.received = c.received.load(Ordering::Relaxed);
        status
    }

    /// Watches the connection: `true` while connected to the broker.
    /// Changes when the client reports a loss or a recovery.
    #[must_use]
    pub fn watch_connected(&self) -> tokio::sync::watch::Receiver<bool> {
        self.counters.connected.subscribe()
    }

    /// Waits until the backplane is connected and the broker has this
    /// node's subscription (after a reconnect too): from then on, messages
    /// any connected node publishes reach this node.
    ///
    /// The broker's confirmation is a round trip through it, after the
    /// subscription the client re-sends on reconnecting; the `connected`
    /// flag of [`watch_connected`](Self::watch_connected) turns `true`
    /// before that and does not promise it.
    pub async fn wait_connected(&self) {
        let mut connected = self.watch_connected();
        loop {
            if *connected.borrow_and_update() && self.round_trip().await {
                return;
            }
            // Not connected, or lost during the round trip: try again on
            // the next change (never busy-looping on a closed client).
            if connected.changed().await.is_err() {
                return;
            }
        }
    }

    /// Waits until the backplane has noticed the loss of the broker.
    pub async fn wait_disconnected(&self) {
        let _ = self.watch_connected().wait_for(|up| !*up).await;
    }

    /// Messages from the broker that could not be delivered (a text
    /// message that is not UTF-8, a subject of another shape under the
    /// prefix).
    #[must_use]
    pub fn malformed(&self) -> u64 {
        self.counters.malformed.load(Ordering::Relaxed)
    }

    /// The NATS client, for anything else the application wants to do
    /// with the broker.
    #[must_use]
    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    async fn publish_message(&self, topic: &str, message: Message) -> Result<(), BackplaneError> {
        let lost = || self.counters.lost.fetch_add(1, Ordering::Relaxed);
        if !is_token(topic) {
            lost();
            return Err(BackplaneError::InvalidTopic(topic.to_owned()));
        }
        if !*self.counters.connected.borrow() || self.client.connection_state() != State::Connected
        {
            lost();
            tracing::debug!(topic, "NATS unreachable: message not published");
            return Err(BackplaneError::Disconnected);
        }
        let (kind, payload) = match message {
            Message::Text(text) => ("t", text.into_bytes()),
            Message::Binary(data) => ("b", data),
        };
        let subject = format!("{}.{kind}.{topic}", self.prefix);
        match self.client.publish(subject, payload).await {
            Ok(()) => {
                self.counters.published.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(error) => {
                lost();
                Err(BackplaneError::Broker(Box::new(error)))
            }
        }
    }
}

impl Backplane for NatsBackplane {
    fn publish<'a>(&'a self, topic: &'a str, message: Message) -> PublishFuture<'a> {
        Box::pin(self.publish_message(topic, message))
    }

    fn status(&self) -> BackplaneStatus {
        NatsBackplane::status(self)
    }
}

impl Drop for NatsBackplane {
    fn drop(&mut self) {
        self.receiver.abort();
    }
}

fn on_event(counters: &Counters, node: &str, event: &async_nats::Event) {
    match event {
        // The counters first: whoever sees the flag change (the waits)
        // then reads them up to date.
        async_nats::Event::Connected => {
            if counters.ever_lost.load(Ordering::Acquire) {
                counters.reconnects.fetch_add(1, Ordering::Relaxed);
                tracing::info!(node, "NATS backplane reconnected");
            }
            set_connected(counters, true);
        }
        async_nats::Event::Disconnected => {
            counters.ever_lost.store(true, Ordering::Release);
            counters.disconnects.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(node, "NATS backplane disconnected; reconnecting");
            set_connected(counters, false);
        }
        other => tracing::debug!(node, event = %other, "NATS event"),
    }
}

/// Records a change of the connection; watchers wake on changes only, so
/// a repeated event does not look like a loss to a pending round trip.
fn set_connected(counters: &Counters, up: bool) {
    counters.connected.send_if_modified(|now| {
        let changed = *now != up;
        *now = up;
        changed
    });
}

/// Hands every message of the subscription to the hub, in order.
async fn deliver<S: Subscriber>(
    mut subscription: async_nats::Subscriber,
    skip: usize,
    hub: Hub<S>,
    counters: Arc<Counters>,
) {
    while let Some(message) = subscription.next().await {
        let subject = message.subject.as_str();
        let rest = subject.get(skip..).unwrap_or_default();
        let decoded = match rest.split_once('.') {
            Some(("t", topic)) => ByteString::try_from(message.payload)
                .ok()
                .map(|text| (topic, Message::Text(text))),
            Some(("b", topic)) => Some((topic, Message::Binary(message.payload))),
            _ => None,
        };
        let Some((topic, message)) = decoded else {
            counters.malformed.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(subject, "NATS message of an unknown shape, not delivered");
            continue;
        };
        counters.received.fetch_add(1, Ordering::Relaxed);
        hub.publish(topic, PreparedMessage::new(message));
    }
}

/// One NATS subject token.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && !s
            .bytes()
            .any(|b| b.is_ascii_whitespace() || matches!(b, b'.' | b'*' | b'>'))
}

#[cfg(test)]
mod tests {
    use super::is_token;

    #[test]
    fn topics_are_single_subject_tokens() {
        for good in ["room", "room-1", "a_b", "ünï"] {
            assert!(is_token(good), "{good}");
        }
        for bad in ["", "a.b", "a b", "*", ">", "a\tb"] {
            assert!(!is_token(bad), "{bad:?}");
        }
    }
}
