//! The endpoints under test: an echo server built with the adapter on
//! loopback port 0 that reports how each connection ended, a well-behaved
//! bystander client that keeps echoing through the same server while an
//! attack runs, and a way to run our client against a malicious server.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

use futures_io::{AsyncRead, AsyncWrite};
use ws_session::{
    CloseCode, CloseFrame, CloseReason, Config, DeflateConfig, Error, HandshakeError, Message,
    Session,
};

use crate::adapter::Adapter;

/// Every timeout of the endpoints under test is its default divided by
/// this, so that an attack that ends by a timeout takes a second or two
/// instead of half a minute. The limits (sizes, counts, queues) are the
/// defaults themselves, and so are the timeouts' ratios, which decide
/// which fires first; the core's scenario tests
/// (`crates/wsproto-core/tests/api/safe_defaults.rs`) check the unscaled
/// values with a virtual clock.
pub const TIME_SCALE: u32 = 20;

/// The handshake timeout: the adapters' default (30 s), scaled.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_millis(30_000 / TIME_SCALE as u64);
/// The heartbeat interval: the default (20 s), scaled.
pub const PING_INTERVAL: Duration = Duration::from_millis(20_000 / TIME_SCALE as u64);
/// The pong timeout: the default (20 s), scaled.
pub const PING_TIMEOUT: Duration = Duration::from_millis(20_000 / TIME_SCALE as u64);
/// The close timeout: the default (10 s), scaled.
pub const CLOSE_TIMEOUT: Duration = Duration::from_millis(10_000 / TIME_SCALE as u64);
/// The message timeout: the default (30 s), scaled.
pub const MESSAGE_TIMEOUT: Duration = Duration::from_millis(30_000 / TIME_SCALE as u64);
/// The send timeout: the default (30 s), scaled.
pub const SEND_TIMEOUT: Duration = Duration::from_millis(30_000 / TIME_SCALE as u64);
/// Slack on every expected deadline: scheduling on a loaded 2-core machine.
pub const SLACK: Duration = Duration::from_millis(1500);
/// How much earlier than the test's clock an endpoint's timer may have
/// started: the endpoint starts it when its side of the handshake is
/// done, a little before the test takes its own starting instant.
pub const EARLY: Duration = Duration::from_millis(50);

/// The configuration of the endpoints under test: [`Config::default`]
/// with permessage-deflate turned on (it is opt-in; the compression
/// attacks need it) and its timeouts scaled by [`TIME_SCALE`]. Every
/// limit is the default: what a server that only turned compression on
/// meets.
#[must_use]
pub fn config() -> Config {
    let defaults = Config::default();
    let scale = |d: Duration| d / TIME_SCALE;
    Config::default()
        .with_compression(DeflateConfig::default())
        .with_ping_interval(defaults.ping_interval().map(scale))
        .with_ping_timeout(scale(defaults.ping_timeout()))
        .with_close_timeout(scale(defaults.close_timeout()))
        .with_message_timeout(defaults.message_timeout().map(scale))
        .with_send_timeout(defaults.send_timeout().map(scale))
}

/// How a connection to the server under test ended.
#[derive(Debug)]
pub enum ServerOutcome {
    /// The opening handshake failed.
    Handshake(HandshakeError),
    /// The session ended (the reason the core recorded).
    Session(Option<CloseReason>),
}

/// Our echo server, running on the adapter's runtime.
#[derive(Debug)]
pub struct ServerUnderTest {
    /// Its address.
    pub addr: SocketAddr,
    /// Its configuration.
    pub config: Config,
    outcomes: Receiver<(SocketAddr, ServerOutcome)>,
    early: HashMap<SocketAddr, ServerOutcome>,
}

impl ServerUnderTest {
    /// Starts an echo server with `config` on `adapter`'s runtime.
    ///
    /// # Panics
    /// If loopback cannot be bound.
    #[must_use]
    pub fn start<A: Adapter>(adapter: &A, config: Config) -> Self {
        let (tx, outcomes) = channel();
        let session_config = config.clone();
        let addr = adapter.block_on(async move {
            let (listener, addr) = A::bind().expect("bind loopback");
            A::spawn(serve::<A>(listener, session_config, tx));
            addr
        });
        ServerUnderTest {
            addr,
            config,
            outcomes,
            early: HashMap::new(),
        }
    }

    /// The server's `ws://` URL.
    #[must_use]
    pub fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }

    /// Waits (at most `within`) for the report on the connection from
    /// `peer`.
    ///
    /// # Panics
    /// If none arrives in time.
    pub fn outcome_of(&mut self, peer: SocketAddr, within: Duration) -> ServerOutcome {
        if let Some(outcome) = self.early.remove(&peer) {
            return outcome;
        }
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.outcomes.recv_timeout(left) {
                Ok((from, outcome)) if from == peer => return outcome,
                Ok((from, outcome)) => {
                    self.early.insert(from, outcome);
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!("the server reported nothing on {peer} within {within:?}")
                }
                Err(RecvTimeoutError::Disconnected) => panic!("the server stopped"),
            }
        }
    }

    /// The close reason of the session with `peer`.
    ///
    /// # Panics
    /// If the handshake failed, or no report arrives within `within`.
    pub fn close_reason_of(&mut self, peer: SocketAddr, within: Duration) -> CloseReason {
        match self.outcome_of(peer, within) {
            ServerOutcome::Session(Some(reason)) => reason,
            other => panic!("expected an ended session from {peer}, got {other:?}"),
        }
    }
}

async fn serve<A: Adapter>(
    listener: A::Listener,
    config: Config,
    outcomes: Sender<(SocketAddr, ServerOutcome)>,
) {
    while let Ok((tcp, peer)) = A::accept(&listener).await {
        let (config, outcomes) = (config.clone(), outcomes.clone());
        A::spawn(async move {
            let outcome = match A::upgrade(tcp, config, HANDSHAKE_TIMEOUT).await {
                Ok(ws) => ServerOutcome::Session(echo(ws).await),
                Err(e) => ServerOutcome::Handshake(e),
            };
            let _ = outcomes.send((peer, outcome));
        });
    }
}

/// Echoes every message until the session ends; returns how it ended. A
/// failed send shows up as the end of the session at the next `recv`.
async fn echo<S: AsyncRead + AsyncWrite + Unpin>(mut ws: Session<S>) -> Option<CloseReason> {
    loop {
        match ws.recv().await {
            Ok(message) => {
                let _ = ws.send_message(message).await;
            }
            Err(Error::Io(_)) => {}
            Err(_) => break,
        }
    }
    ws.close_reason().cloned()
}

/// A well-behaved client of the server under test, echoing one short
/// message at a time (paced every few milliseconds) from its own task
/// while an attack runs on another connection.
#[derive(Debug)]
pub struct Bystander {
    rounds: Receiver<Instant>,
    report: Receiver<Result<u64, String>>,
    stop: Arc<AtomicBool>,
    last: Instant,
}

/// What the bystander saw during an attack.
#[derive(Debug, Clone, Copy)]
pub struct BystanderReport {
    /// Echo round trips completed from the start of the attack until the
    /// check.
    pub rounds: usize,
    /// The longest wait between two completed round trips (or from the
    /// start of the attack to the first one).
    pub max_gap: Duration,
}

/// The longest pause in the bystander's echoes that still counts as
/// unaffected: well under the heartbeat's ping interval + timeout, the
/// point at which a stalled connection would be dropped.
pub const MAX_GAP: Duration = Duration::from_millis(450);
/// Pace of the bystander's echoes.
const BYSTANDER_PACE: Duration = Duration::from_millis(5);

impl Bystander {
    /// Connects to `server` with our client and starts echoing.
    ///
    /// # Panics
    /// If the first echo does not come back within the handshake timeout
    /// plus slack.
    #[must_use]
    pub fn start<A: Adapter>(adapter: &A, server: &ServerUnderTest) -> Self {
        let (round_tx, rounds) = channel();
        let (report_tx, report) = channel();
        let stop = Arc::new(AtomicBool::new(false));
        let url = server.url();
        let config = config();
        let flag = stop.clone();
        adapter.block_on(async move {
            A::spawn(async move {
                let result = match A::connect(url, config, HANDSHAKE_TIMEOUT).await {
                    Ok(ws) => echo_rounds(ws, &round_tx, &flag, A::sleep).await,
                    Err(e) => Err(format!("bystander connect: {e}")),
                };
                let _ = report_tx.send(result);
            });
        });
        let last = Instant::now();
        let mut bystander = Bystander {
            rounds,
            report,
            stop,
            last,
        };
        let first = bystander.rounds.recv_timeout(HANDSHAKE_TIMEOUT + SLACK);
        bystander.last = first.expect("the bystander's first echo");
        bystander
    }

    /// Marks the start of an attack: later gaps count against it.
    pub fn attack_starts(&mut self) {
        while let Ok(at) = self.rounds.try_recv() {
            self.last = at;
        }
        self.last = Instant::now();
    }

    /// Checks the bystander was unaffected since [`attack_starts`]: it
    /// keeps echoing (three more round trips come back), never paused
    /// longer than [`MAX_GAP`], and its session is still open.
    ///
    /// [`attack_starts`]: Self::attack_starts
    ///
    /// # Panics
    /// If it was affected.
    pub fn assert_unaffected(&mut self, attack: &str) -> BystanderReport {
        let mut report = BystanderReport {
            rounds: 0,
            max_gap: Duration::ZERO,
        };
        let mut more = 0;
        while more < 3 {
            let at = if let Ok(at) = self.rounds.try_recv() {
                at
            } else {
                more += 1;
                self.rounds
                    .recv_timeout(MAX_GAP + SLACK)
                    .unwrap_or_else(|_| {
                        panic!(
                            "{attack}: the bystander stopped echoing ({:?})",
                            self.report.try_recv()
                        )
                    })
            };
            report.rounds += 1;
            report.max_gap = report.max_gap.max(at.saturating_duration_since(self.last));
            self.last = at;
        }
        assert!(
            report.max_gap <= MAX_GAP,
            "{attack}: the bystander's echoes paused for {:?}",
            report.max_gap
        );
        assert!(
            self.report.try_recv().is_err(),
            "{attack}: the bystander's session ended"
        );
        report
    }

    /// Stops the bystander and checks its session closed cleanly.
    ///
    /// # Panics
    /// If it failed.
    #[must_use]
    pub fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        match self.report.recv_timeout(CLOSE_TIMEOUT + SLACK) {
            Ok(Ok(rounds)) => rounds,
            other => panic!("the bystander failed: {other:?}"),
        }
    }
}

async fn echo_rounds<S, F, Fut>(
    mut ws: Session<S>,
    rounds: &Sender<Instant>,
    stop: &AtomicBool,
    sleep: F,
) -> Result<u64, String>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: Fn(Duration) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let text = format!("round {n}");
        ws.send_text(text.as_str())
            .await
            .map_err(|e| format!("bystander send: {e}"))?;
        match ws.recv().await {
            Ok(Message::Text(echoed)) if *echoed == *text => {}
            other => return Err(format!("bystander echo {n}: {other:?}")),
        }
        n += 1;
        let _ = rounds.send(Instant::now());
        sleep(BYSTANDER_PACE).await;
    }
    ws.close(CloseFrame::new(CloseCode::NORMAL, "done"))
        .await
        .map_err(|e| format!("bystander close: {e}"))?;
    match ws.close_reason() {
        Some(reason) if reason.is_clean() => Ok(n),
        other => Err(format!("bystander ended with {other:?}")),
    }
}

/// Runs `script` on our client connected to `url`, on `adapter`'s runtime;
/// its result comes back on the returned channel.
pub fn run_client<A, F, Fut, T>(adapter: &A, url: String, config: Config, script: F) -> Receiver<T>
where
    A: Adapter,
    F: FnOnce(Session<A::Stream>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = T> + Send,
    T: Send + 'static,
{
    let (tx, rx) = channel();
    adapter.block_on(async move {
        A::spawn(async move {
            let ws = A::connect(url, config, HANDSHAKE_TIMEOUT)
                .await
                .expect("our client connects to the raw server");
            let _ = tx.send(script(ws).await);
        });
    });
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scaled_timeouts_are_the_defaults_over_time_scale() {
        let d = Config::default();
        let c = config();
        assert_eq!(
            d.ping_interval().map(|t| t / TIME_SCALE),
            Some(PING_INTERVAL)
        );
        assert_eq!(c.ping_interval(), Some(PING_INTERVAL));
        assert_eq!(c.ping_timeout(), PING_TIMEOUT);
        assert_eq!(d.ping_timeout() / TIME_SCALE, PING_TIMEOUT);
        assert_eq!(d.close_timeout() / TIME_SCALE, CLOSE_TIMEOUT);
        assert_eq!(c.message_timeout(), Some(MESSAGE_TIMEOUT));
        assert_eq!(
            d.message_timeout().map(|t| t / TIME_SCALE),
            c.message_timeout()
        );
        assert_eq!(c.send_timeout(), Some(SEND_TIMEOUT));
        assert_eq!(d.send_timeout().map(|t| t / TIME_SCALE), c.send_timeout());
        let handshake = ws_session::HandshakeOptions::default().get_timeout();
        assert_eq!(handshake.map(|t| t / TIME_SCALE), Some(HANDSHAKE_TIMEOUT));
        // The limits are the defaults'.
        assert_eq!(c.max_message_size(), d.max_message_size());
        assert_eq!(c.max_frame_size(), d.max_frame_size());
        assert_eq!(c.inflate_limit(), d.inflate_limit());
        assert_eq!(c.send_queue_limit(), d.send_queue_limit());
        assert_eq!(c.handshake_limits(), d.handshake_limits());
    }
}
