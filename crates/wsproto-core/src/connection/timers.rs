//! Deadlines: the heartbeat, the close handshake, a peer
//! that stopped reading (the send timeout), and the client's wait for the
//! server to close the transport. (The message timeout runs from the
//! receive path's own mark.)

use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::config::{Config, Mode};

/// The deadlines only: the durations they are computed from are read from
/// the connection's [`Config`] when needed, not copied here (every idle
/// connection carries this struct).
#[derive(Debug)]
pub(super) struct Timers {
    next_ping: Option<Instant>,
    /// When the heartbeat ping awaiting its pong was sent; its payload is
    /// `ping_counter`.
    in_flight: Option<Instant>,
    ping_counter: u64,
    close_deadline: Option<Instant>,
    transport_deadline: Option<Instant>,
    /// Since when the transport has taken none of our pending bytes.
    write_blocked_since: Option<Instant>,
}

impl Timers {
    pub(super) fn new(config: &Config, now: Instant) -> Self {
        Timers {
            next_ping: heartbeat(config).and_then(|i| now.checked_add(i)),
            in_flight: None,
            ping_counter: 0,
            close_deadline: None,
            transport_deadline: None,
            write_blocked_since: None,
        }
    }

    /// The transport took none of our pending bytes at `now`: the send
    /// timeout runs from the first such report since the last progress.
    pub(super) fn on_write_blocked(&mut self, now: Instant) {
        self.write_blocked_since.get_or_insert(now);
    }

    /// The transport took bytes (or nothing is pending any more).
    pub(super) fn on_write_progress(&mut self) {
        self.write_blocked_since = None;
    }

    /// When the send timeout expires, if writing is blocked.
    pub(super) fn send_deadline(&self, config: &Config) -> Option<Instant> {
        self.write_blocked_since?.checked_add(config.send_timeout?)
    }

    /// The earliest deadline. The client's wait for the server's EOF counts
    /// only once the connection has `ended`: before that `handle_timeout`
    /// does not act on it, so reporting it could hand the caller a deadline
    /// in the past that no call clears (a raw-mode client that received a
    /// Close it has not answered yet).
    pub(super) fn next_deadline(&self, config: &Config, ended: bool) -> Option<Instant> {
        // Asked after every event: plain comparisons, no iterator.
        let pong_deadline = self
            .in_flight
            .and_then(|sent| sent.checked_add(config.ping_timeout));
        let mut earliest = earlier(self.next_ping, pong_deadline);
        earliest = earlier(earliest, self.close_deadline);
        if ended {
            earliest = earlier(earliest, self.transport_deadline);
        }
        earliest
    }

    /// A heartbeat ping is due: returns its payload and starts the pong wait.
    pub(super) fn ping_due(&mut self, now: Instant) -> Option<Bytes> {
        let due = self.next_ping.is_some_and(|at| at <= now) && self.in_flight.is_none();
        if !due {
            return None;
        }
        self.ping_counter = self.ping_counter.wrapping_add(1);
        self.in_flight = Some(now);
        self.next_ping = None;
        Some(Bytes::copy_from_slice(&self.ping_counter.to_be_bytes()))
    }

    /// A pong arrived; if it answers the heartbeat ping, the next ping is
    /// scheduled one interval after the previous one was sent.
    pub(super) fn on_pong(&mut self, config: &Config, now: Instant, payload: &[u8]) {
        let Some(sent) = self.in_flight else {
            return;
        };
        if payload == self.ping_counter.to_be_bytes() {
            self.in_flight = None;
            self.next_ping = heartbeat(config)
                .and_then(|i| sent.checked_add(i))
                .map(|at| at.max(now));
        }
    }

    pub(super) fn pong_expired(&self, config: &Config, now: Instant) -> bool {
        self.in_flight
            .and_then(|sent| sent.checked_add(config.ping_timeout))
            .is_some_and(|deadline| deadline <= now)
    }

    /// The heartbeat interval changed (already stored in the config): a
    /// ping awaiting its pong keeps its deadline, otherwise the next ping
    /// is one new interval from now.
    pub(super) fn heartbeat_changed(&mut self, config: &Config, now: Instant) {
        if self.in_flight.is_none() {
            self.next_ping = heartbeat(config).and_then(|i| now.checked_add(i));
        }
    }

    /// We sent (queued) our Close: the peer has `close_timeout` to answer.
    /// The heartbeat stops: the close timeout takes over.
    pub(super) fn start_close(&mut self, config: &Config, now: Instant) {
        self.next_ping = None;
        self.in_flight = None;
        if self.close_deadline.is_none() {
            self.close_deadline = now.checked_add(config.close_timeout);
        }
    }

    pub(super) fn close_expired(&self, now: Instant) -> bool {
        self.close_deadline.is_some_and(|d| d <= now)
    }

    /// The close handshake completed on a client: wait for the server's EOF.
    pub(super) fn start_transport_wait(&mut self, config: &Config, now: Instant) {
        self.transport_deadline = now.checked_add(config.close_timeout);
    }

    /// Whether the wait for the server's EOF has run out (reported once).
    pub(super) fn transport_wait_expired(&mut self, now: Instant) -> bool {
        let expired = self.transport_deadline.is_some_and(|d| d <= now);
        if expired {
            self.transport_deadline = None;
        }
        expired
    }

    /// The connection ended: only the transport wait may remain.
    pub(super) fn stop(&mut self) {
        self.next_ping = None;
        self.in_flight = None;
        self.close_deadline = None;
        self.write_blocked_since = None;
    }
}

/// The earlier of two optional deadlines (`None`: no deadline).
pub(super) fn earlier(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// The heartbeat interval in force: raw mode has no heartbeat.
fn heartbeat(config: &Config) -> Option<Duration> {
    if config.mode == Mode::Default {
        config.ping_interval
    } else {
        None
    }
}
