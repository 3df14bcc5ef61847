//! Deadlines: the heartbeat (Ktor's pinger), the close handshake, and the
//! client's wait for the server to close the transport.

use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::config::{Config, Mode};

#[derive(Debug)]
pub(super) struct Timers {
    ping_interval: Option<Duration>,
    ping_timeout: Duration,
    close_timeout: Duration,
    next_ping: Option<Instant>,
    /// The heartbeat ping awaiting its pong: when it was sent and its payload.
    in_flight: Option<(Instant, u64)>,
    ping_counter: u64,
    close_deadline: Option<Instant>,
    transport_deadline: Option<Instant>,
}

impl Timers {
    pub(super) fn new(config: &Config, now: Instant) -> Self {
        let ping_interval = if config.mode == Mode::Default {
            config.ping_interval
        } else {
            None
        };
        Timers {
            ping_interval,
            ping_timeout: config.ping_timeout,
            close_timeout: config.close_timeout,
            next_ping: ping_interval.and_then(|i| now.checked_add(i)),
            in_flight: None,
            ping_counter: 0,
            close_deadline: None,
            transport_deadline: None,
        }
    }

    /// The earliest deadline. The client's wait for the server's EOF counts
    /// only once the connection has `ended`: before that `handle_timeout`
    /// does not act on it, so reporting it could hand the caller a deadline
    /// in the past that no call clears (a raw-mode client that received a
    /// Close it has not answered yet).
    pub(super) fn next_deadline(&self, ended: bool) -> Option<Instant> {
        let pong_deadline = self
            .in_flight
            .and_then(|(sent, _)| sent.checked_add(self.ping_timeout));
        [
            self.next_ping,
            pong_deadline,
            self.close_deadline,
            self.transport_deadline.filter(|_| ended),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// A heartbeat ping is due: returns its payload and starts the pong wait.
    pub(super) fn ping_due(&mut self, now: Instant) -> Option<Bytes> {
        let due = self.next_ping.is_some_and(|at| at <= now) && self.in_flight.is_none();
        if !due {
            return None;
        }
        self.ping_counter = self.ping_counter.wrapping_add(1);
        self.in_flight = Some((now, self.ping_counter));
        self.next_ping = None;
        Some(Bytes::copy_from_slice(&self.ping_counter.to_be_bytes()))
    }

    /// A pong arrived; if it answers the heartbeat ping, the next ping is
    /// scheduled one interval after the previous one was sent.
    pub(super) fn on_pong(&mut self, now: Instant, payload: &[u8]) {
        let Some((sent, counter)) = self.in_flight else {
            return;
        };
        if payload == counter.to_be_bytes() {
            self.in_flight = None;
            self.next_ping = self
                .ping_interval
                .and_then(|i| sent.checked_add(i))
                .map(|at| at.max(now));
        }
    }

    pub(super) fn pong_expired(&self, now: Instant) -> bool {
        self.in_flight
            .and_then(|(sent, _)| sent.checked_add(self.ping_timeout))
            .is_some_and(|deadline| deadline <= now)
    }

    pub(super) fn set_ping_interval(&mut self, now: Instant, interval: Option<Duration>) {
        self.ping_interval = interval;
        if self.in_flight.is_none() {
            self.next_ping = interval.and_then(|i| now.checked_add(i));
        }
    }

    pub(super) fn set_ping_timeout(&mut self, _now: Instant, timeout: Duration) {
        self.ping_timeout = timeout;
    }

    /// We sent (queued) our Close: the peer has `close_timeout` to answer.
    /// The heartbeat stops: the close timeout takes over.
    pub(super) fn start_close(&mut self, now: Instant) {
        self.next_ping = None;
        self.in_flight = None;
        if self.close_deadline.is_none() {
            self.close_deadline = now.checked_add(self.close_timeout);
        }
    }

    pub(super) fn close_expired(&self, now: Instant) -> bool {
        self.close_deadline.is_some_and(|d| d <= now)
    }

    /// The close handshake completed on a client: wait for the server's EOF.
    pub(super) fn start_transport_wait(&mut self, now: Instant) {
        self.transport_deadline = now.checked_add(self.close_timeout);
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
    }
}
