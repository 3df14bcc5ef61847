//! [`Backplane`]: fan-out across server processes.
//!
//! ```text
//!  node A: publish(topic, msg) ──► broker ──┬──► node A: Hub::publish(topic) ──► its subscribers
//!                                           ├──► node B: Hub::publish(topic) ──► its subscribers
//!                                           └──► node C: …
//! ```
//!
//! A backplane carries a message published on any node to the [`Hub`] of
//! every node, the publishing node included, exactly once per node and in
//! order per publisher. A [`Hub`] is itself the backplane of a single
//! node (it publishes locally). `ws-nats` implements it over NATS.

use std::future::Future;
use std::pin::Pin;

use wsproto_core::Message;

use super::{Hub, Subscriber};

/// The future [`Backplane::publish`] returns.
pub type PublishFuture<'a> = Pin<Box<dyn Future<Output = Result<(), BackplaneError>> + Send + 'a>>;

/// Why a message was not published. The message is lost: it reaches no
/// node (nothing was sent, so it is not half-delivered).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackplaneError {
    /// The broker is unreachable (the backplane is reconnecting).
    #[error("the broker is unreachable: message not published (counted as lost)")]
    Disconnected,
    /// A topic name the broker cannot carry.
    #[error("topic {0:?} cannot be carried by the broker (empty, or a reserved character)")]
    InvalidTopic(String),
    /// The broker client refused the message.
    #[error("the broker refused the message: {0}")]
    Broker(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A backplane's state and counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackplaneStatus {
    /// Connected to the broker now.
    pub connected: bool,
    /// Times the connection was lost.
    pub disconnects: u64,
    /// Times it was regained after a loss.
    pub reconnects: u64,
    /// Messages handed to the broker.
    pub published: u64,
    /// Messages refused because the broker was unreachable, or that failed.
    pub lost: u64,
    /// Messages received from the broker and published to the local hub.
    pub received: u64,
}

/// Cross-process fan-out: a message published on any node reaches the
/// [`Hub`] of every node (this one included) once, in order per publisher.
pub trait Backplane: Send + Sync {
    /// Publishes `message` on `topic` on every node.
    ///
    /// # Errors
    /// A [`BackplaneError`]: the message was not published anywhere and is
    /// counted in [`BackplaneStatus::lost`].
    fn publish<'a>(&'a self, topic: &'a str, message: Message) -> PublishFuture<'a>;

    /// The connection state and counters.
    fn status(&self) -> BackplaneStatus;
}

/// One node alone: publishing is delivering to the local hub.
impl<S: Subscriber> Backplane for Hub<S> {
    fn publish<'a>(&'a self, topic: &'a str, message: Message) -> PublishFuture<'a> {
        Hub::publish(self, topic, message);
        Box::pin(std::future::ready(Ok(())))
    }

    fn status(&self) -> BackplaneStatus {
        let published = self.stats().published;
        BackplaneStatus {
            connected: true,
            published,
            received: published,
            ..BackplaneStatus::default()
        }
    }
}
