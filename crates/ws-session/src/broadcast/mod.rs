//! Broadcast and topics: a [`Hub`] of members (split sessions' writers)
//! subscribed to named topics, publishing one [`PreparedMessage`] to all
//! subscribers of a topic, or to every member, without awaiting any of
//! them.
//!
//! ```text
//!  publish(topic, msg) ──► PreparedMessage (framed / compressed once per parameter set)
//!        │  for each subscriber of topic: try_send_prepared (a queue push + a wakeup)
//!        ├──► member 1 ──► its driver task ──► Connection::send_prepared ──► socket
//!        ├──► member 2 ──► …
//!        └──► member N: queue full ──► SlowPolicy: Drop (counted) or Close(1008 / 1013)
//! ```
//!
//! Runtime-neutral: publishing is a plain function call (no task, no
//! await); each member's own driver task (spawned by its adapter) writes.
//! One slow reader never holds up the others and never grows memory past
//! its session's bounds: its command channel (`split_with_capacity`) and
//! the core's `send_queue_limit`. Once both are full, the hub applies the
//! [`SlowPolicy`] to it for that message.
//!
//! A [`Member`] leaves the hub (and all its topics) when dropped; a member
//! whose session has closed is removed at the next delivery to it.
//!
//! ```
//! use ws_session::broadcast::{Hub, SlowPolicy, Subscriber, TrySendError};
//! use ws_session::{CloseCode, wsproto_core::PreparedMessage};
//!
//! // Any `Subscriber` works; sessions use `SessionWriter`.
//! #[derive(Default)]
//! struct Inbox(Vec<String>);
//! impl Subscriber for Inbox {
//!     fn try_send_prepared(&mut self, m: &PreparedMessage) -> Result<(), TrySendError> {
//!         self.0.push(String::from_utf8_lossy(m.message().as_bytes()).into_owned());
//!         Ok(())
//!     }
//!     fn close_soon(&mut self, _: CloseCode, _: &str) {}
//! }
//!
//! let hub = Hub::new(SlowPolicy::Drop);
//! let alice = hub.join(Inbox::default());
//! let bob = hub.join(Inbox::default());
//! alice.subscribe("rust");
//! let delivery = hub.publish("rust", PreparedMessage::text("hello"));
//! assert_eq!(delivery.delivered, 1);
//! assert_eq!(hub.publish_all(PreparedMessage::text("to all")).delivered, 2);
//! drop(alice); // leaves every topic
//! assert_eq!(hub.subscribers("rust"), 0);
//! # drop(bob);
//! ```

mod backplane;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use wsproto_core::{CloseCode, PreparedMessage};

pub use backplane::{Backplane, BackplaneError, BackplaneStatus, PublishFuture};

/// Why a subscriber did not take a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrySendError {
    /// Its buffers are full: the message was not queued.
    #[error("the session's send buffers are full")]
    Full,
    /// It is closing or has ended.
    #[error("the session is closing or closed")]
    Closed,
}

/// What a hub delivers to: a session's write half, in practice
/// ([`SessionWriter`](crate::SessionWriter) implements it).
pub trait Subscriber: Send + 'static {
    /// Queues `message` without waiting.
    ///
    /// # Errors
    /// [`TrySendError::Full`] (nothing queued) or [`TrySendError::Closed`].
    fn try_send_prepared(&mut self, message: &PreparedMessage) -> Result<(), TrySendError>;

    /// Starts closing with `code` without waiting.
    fn close_soon(&mut self, code: CloseCode, reason: &str);
}

impl Subscriber for crate::SessionWriter {
    fn try_send_prepared(&mut self, message: &PreparedMessage) -> Result<(), TrySendError> {
        crate::SessionWriter::try_send_prepared(self, message)
    }

    fn close_soon(&mut self, code: CloseCode, reason: &str) {
        crate::SessionWriter::close_soon(self, code, reason);
    }
}

/// What to do with a subscriber whose buffers are full when a message
/// comes for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SlowPolicy {
    /// Skip this message for it and count the loss
    /// ([`Member::dropped`], [`HubStats::dropped`]); it stays subscribed
    /// and gets later messages once it has caught up. For feeds where the
    /// newest message matters most (prices, positions).
    #[default]
    Drop,
    /// Close it with this code (usually [`CloseCode::POLICY_VIOLATION`],
    /// 1008, or [`CloseCode::TRY_AGAIN_LATER`], 1013) and remove it from
    /// the hub: a subscriber never misses a message without knowing. The
    /// Close is queued after what its session already holds; its
    /// `close_timeout` bounds the wait for a peer that reads nothing.
    Close(CloseCode),
}

/// What one publish did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Delivery {
    /// Subscribers that took the message.
    pub delivered: usize,
    /// Subscribers whose buffers were full and that skipped it
    /// ([`SlowPolicy::Drop`]).
    pub dropped: usize,
    /// Subscribers closed or found closed (and removed).
    pub closed: usize,
}

/// The hub's counters since it was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HubStats {
    /// Calls to `publish` and `publish_all`.
    pub published: u64,
    /// Messages taken by subscribers.
    pub delivered: u64,
    /// Messages skipped by full subscribers ([`SlowPolicy::Drop`]).
    pub dropped: u64,
    /// Subscribers closed by the policy or found closed.
    pub closed: u64,
    /// Members now in the hub.
    pub members: usize,
}

struct Cell<S> {
    id: u64,
    sink: Mutex<S>,
    delivered: AtomicU64,
    dropped: AtomicU64,
    /// Closed (by the policy) or found closed: skipped, then removed.
    gone: AtomicBool,
    topics: Mutex<Vec<Arc<str>>>,
}

/// Each topic's subscribers.
type TopicMap<S> = HashMap<Arc<str>, Vec<Arc<Cell<S>>>>;

struct Inner<S> {
    policy: SlowPolicy,
    next_id: AtomicU64,
    members: RwLock<HashMap<u64, Arc<Cell<S>>>>,
    topics: RwLock<TopicMap<S>>,
    published: AtomicU64,
    delivered: AtomicU64,
    dropped: AtomicU64,
    closed: AtomicU64,
}

/// A set of members and the topics they subscribe to; see the
/// [module docs](self). Cloning gives another handle to the same hub.
pub struct Hub<S: Subscriber = crate::SessionWriter> {
    inner: Arc<Inner<S>>,
}

impl<S: Subscriber> Clone for Hub<S> {
    fn clone(&self) -> Self {
        Hub {
            inner: self.inner.clone(),
        }
    }
}

impl<S: Subscriber> std::fmt::Debug for Hub<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("policy", &self.inner.policy)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl<S: Subscriber> Default for Hub<S> {
    fn default() -> Self {
        Self::new(SlowPolicy::default())
    }
}

impl<S: Subscriber> Hub<S> {
    /// An empty hub that treats full subscribers by `policy`.
    #[must_use]
    pub fn new(policy: SlowPolicy) -> Self {
        Hub {
            inner: Arc::new(Inner {
                policy,
                next_id: AtomicU64::new(0),
                members: RwLock::default(),
                topics: RwLock::default(),
                published: AtomicU64::new(0),
                delivered: AtomicU64::new(0),
                dropped: AtomicU64::new(0),
                closed: AtomicU64::new(0),
            }),
        }
    }

    /// Adds `subscriber` as a member (it gets [`publish_all`](Self::publish_all)
    /// messages; [`Member::subscribe`] adds topics). It leaves when the
    /// returned [`Member`] is dropped.
    pub fn join(&self, subscriber: S) -> Member<S> {
        let cell = Arc::new(Cell {
            id: self.inner.next_id.fetch_add(1, Ordering::Relaxed),
            sink: Mutex::new(subscriber),
            delivered: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            gone: AtomicBool::new(false),
            topics: Mutex::default(),
        });
        write(&self.inner.members).insert(cell.id, cell.clone());
        Member {
            hub: self.clone(),
            cell,
        }
    }

    /// Delivers `message` to every subscriber of `topic` on this node,
    /// without waiting for any. Full subscribers are handled by the
    /// [`SlowPolicy`]; closed ones are removed.
    pub fn publish(&self, topic: &str, message: impl Into<PreparedMessage>) -> Delivery {
        let message = message.into();
        let mut delivery = Delivery::default();
        {
            let topics = read(&self.inner.topics);
            for cell in topics.get(topic).into_iter().flatten() {
                self.deliver(cell, &message, &mut delivery);
            }
        }
        self.finish(delivery)
    }

    /// Delivers `message` to every member once, whatever its topics.
    pub fn publish_all(&self, message: impl Into<PreparedMessage>) -> Delivery {
        let message = message.into();
        let mut delivery = Delivery::default();
        {
            let members = read(&self.inner.members);
            for cell in members.values() {
                self.deliver(cell, &message, &mut delivery);
            }
        }
        self.finish(delivery)
    }

    /// Starts closing every member's session with `code` (e.g.
    /// [`CloseCode::GOING_AWAY`] at shutdown), without waiting. Messages
    /// they already took go out first.
    pub fn close_all(&self, code: CloseCode, reason: &str) {
        let members = read(&self.inner.members);
        for cell in members.values() {
            lock(&cell.sink).close_soon(code, reason);
        }
    }

    /// How many members subscribe to `topic`.
    #[must_use]
    pub fn subscribers(&self, topic: &str) -> usize {
        read(&self.inner.topics).get(topic).map_or(0, Vec::len)
    }

    /// The topics with at least one subscriber.
    #[must_use]
    pub fn topics(&self) -> Vec<String> {
        read(&self.inner.topics)
            .keys()
            .map(ToString::to_string)
            .collect()
    }

    /// The counters.
    #[must_use]
    pub fn stats(&self) -> HubStats {
        let inner = &self.inner;
        HubStats {
            published: inner.published.load(Ordering::Relaxed),
            delivered: inner.delivered.load(Ordering::Relaxed),
            dropped: inner.dropped.load(Ordering::Relaxed),
            closed: inner.closed.load(Ordering::Relaxed),
            members: read(&inner.members).len(),
        }
    }

    /// The policy for full subscribers.
    #[must_use]
    pub fn policy(&self) -> SlowPolicy {
        self.inner.policy
    }

    fn deliver(&self, cell: &Cell<S>, message: &PreparedMessage, delivery: &mut Delivery) {
        if cell.gone.load(Ordering::Acquire) {
            return;
        }
        let mut sink = lock(&cell.sink);
        match sink.try_send_prepared(message) {
            Ok(()) => {
                cell.delivered.fetch_add(1, Ordering::Relaxed);
                delivery.delivered += 1;
            }
            Err(TrySendError::Full) => match self.inner.policy {
                SlowPolicy::Drop => {
                    cell.dropped.fetch_add(1, Ordering::Relaxed);
                    delivery.dropped += 1;
                }
                SlowPolicy::Close(code) => {
                    sink.close_soon(code, "too slow: send buffer full");
                    cell.gone.store(true, Ordering::Release);
                    delivery.closed += 1;
                }
            },
            Err(TrySendError::Closed) => {
                cell.gone.store(true, Ordering::Release);
                delivery.closed += 1;
            }
        }
    }

    fn finish(&self, delivery: Delivery) -> Delivery {
        let inner = &self.inner;
        inner.published.fetch_add(1, Ordering::Relaxed);
        inner
            .delivered
            .fetch_add(delivery.delivered as u64, Ordering::Relaxed);
        inner
            .dropped
            .fetch_add(delivery.dropped as u64, Ordering::Relaxed);
        if delivery.closed > 0 {
            inner
                .closed
                .fetch_add(delivery.closed as u64, Ordering::Relaxed);
            let gone: Vec<_> = read(&inner.members)
                .values()
                .filter(|cell| cell.gone.load(Ordering::Acquire))
                .cloned()
                .collect();
            for cell in gone {
                self.remove(&cell);
            }
        }
        delivery
    }

    /// Takes `cell` out of the hub and every topic it subscribed to.
    fn remove(&self, cell: &Cell<S>) {
        let topics = std::mem::take(&mut *lock(&cell.topics));
        {
            let mut map = write(&self.inner.topics);
            for topic in topics {
                if let Some(list) = map.get_mut(&topic) {
                    list.retain(|other| other.id != cell.id);
                    if list.is_empty() {
                        map.remove(&topic);
                    }
                }
            }
        }
        write(&self.inner.members).remove(&cell.id);
    }
}

/// A subscriber's place in a [`Hub`]. Dropping it leaves the hub and
/// every topic.
pub struct Member<S: Subscriber = crate::SessionWriter> {
    hub: Hub<S>,
    cell: Arc<Cell<S>>,
}

impl<S: Subscriber> std::fmt::Debug for Member<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Member")
            .field("id", &self.cell.id)
            .field("delivered", &self.delivered())
            .field("dropped", &self.dropped())
            .finish_non_exhaustive()
    }
}

impl<S: Subscriber> Member<S> {
    /// Subscribes to `topic` (once: a second call does nothing). Returns
    /// whether it was new. A member already closed by the hub is not
    /// subscribed.
    #[allow(clippy::must_use_candidate)] // called for its effect
    pub fn subscribe(&self, topic: &str) -> bool {
        let mut mine = lock(&self.cell.topics);
        if self.is_gone() || mine.iter().any(|t| &**t == topic) {
            return false;
        }
        let topic: Arc<str> = topic.into();
        write(&self.hub.inner.topics)
            .entry(topic.clone())
            .or_default()
            .push(self.cell.clone());
        mine.push(topic);
        true
    }

    /// Unsubscribes from `topic`; returns whether it was subscribed.
    #[allow(clippy::must_use_candidate)] // called for its effect
    pub fn unsubscribe(&self, topic: &str) -> bool {
        let mut mine = lock(&self.cell.topics);
        let Some(index) = mine.iter().position(|t| &**t == topic) else {
            return false;
        };
        mine.swap_remove(index);
        let mut map = write(&self.hub.inner.topics);
        if let Some(list) = map.get_mut(topic) {
            list.retain(|other| other.id != self.cell.id);
            if list.is_empty() {
                map.remove(topic);
            }
        }
        true
    }

    /// The topics it subscribes to.
    #[must_use]
    pub fn topics(&self) -> Vec<String> {
        let mine = lock(&self.cell.topics);
        mine.iter().map(ToString::to_string).collect()
    }

    /// Messages it took.
    #[must_use]
    pub fn delivered(&self) -> u64 {
        self.cell.delivered.load(Ordering::Relaxed)
    }

    /// Messages it skipped because its buffers were full
    /// ([`SlowPolicy::Drop`]).
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.cell.dropped.load(Ordering::Relaxed)
    }

    /// Whether the hub closed it (or found it closed) and removed it.
    #[must_use]
    pub fn is_gone(&self) -> bool {
        self.cell.gone.load(Ordering::Acquire)
    }
}

impl<S: Subscriber> Drop for Member<S> {
    fn drop(&mut self) {
        self.hub.remove(&self.cell);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests;
