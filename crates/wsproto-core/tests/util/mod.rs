//! An in-memory client/server pair with a virtual clock (after quinn-proto's
//! test `Pair`): no sockets, no sleeps; time moves only when a test says so.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use wsproto_core::{Config, Connection, Event, MaskRng};

/// A connected client and server, and the time both are told.
pub struct Pair {
    pub client: Connection,
    pub server: Connection,
    pub now: Instant,
    /// Events each side has reported so far, in order.
    pub client_events: Vec<Event>,
    pub server_events: Vec<Event>,
    /// When false, bytes written by that side are dropped (a peer that is
    /// gone or never answers).
    pub deliver_to_server: bool,
    pub deliver_to_client: bool,
    /// Bytes written by each side that were dropped.
    pub dropped_from_server: Vec<u8>,
}

/// A fixed point in time for the virtual clock. Only ever advanced by adding
/// durations, so tests are deterministic.
#[allow(clippy::disallowed_methods)]
pub fn epoch() -> Instant {
    Instant::now()
}

impl Pair {
    pub fn new(config: Config) -> Self {
        Self::with_configs(config.clone(), config)
    }

    pub fn with_configs(client: Config, server: Config) -> Self {
        let now = epoch();
        Pair {
            client: Connection::client(client, MaskRng::from_seed([42; 32]), now),
            server: Connection::server(server, now),
            now,
            client_events: Vec::new(),
            server_events: Vec::new(),
            deliver_to_server: true,
            deliver_to_client: true,
            dropped_from_server: Vec::new(),
        }
    }

    /// Moves bytes both ways until neither side has anything to say.
    pub fn drive(&mut self) {
        for _ in 0..10_000 {
            let mut moved = false;
            let out = self.client.poll_transmit().to_vec();
            if !out.is_empty() {
                self.client.advance_transmit(out.len());
                if self.deliver_to_server {
                    self.server.handle_data(self.now, &out);
                }
                moved = true;
            }
            let out = self.server.poll_transmit().to_vec();
            if !out.is_empty() {
                self.server.advance_transmit(out.len());
                if self.deliver_to_client {
                    self.client.handle_data(self.now, &out);
                } else {
                    self.dropped_from_server.extend_from_slice(&out);
                }
                moved = true;
            }
            while let Some(e) = self.client.poll_event() {
                self.client_events.push(e);
            }
            while let Some(e) = self.server.poll_event() {
                self.server_events.push(e);
            }
            if !moved {
                return;
            }
        }
        panic!("the pair never went quiet");
    }

    /// Advances the virtual clock to each deadline in turn (up to `limit`
    /// from now), firing timers and driving after each.
    pub fn advance(&mut self, limit: Duration) {
        let end = self.now + limit;
        self.drive();
        for round in 0.. {
            assert!(
                round < 100_000,
                "timers keep firing: client {:?} server {:?} now {:?}",
                self.client.poll_timeout(),
                self.server.poll_timeout(),
                self.now
            );
            let next = [self.client.poll_timeout(), self.server.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(t) if t <= end => {
                    self.now = self.now.max(t);
                    self.client.handle_timeout(self.now);
                    self.server.handle_timeout(self.now);
                    self.drive();
                }
                _ => break,
            }
        }
        self.now = end;
        self.client.handle_timeout(self.now);
        self.server.handle_timeout(self.now);
        self.drive();
    }

    /// Takes the events reported so far.
    pub fn take_client_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.client_events)
    }

    pub fn take_server_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.server_events)
    }
}

/// Builds a masked client frame by hand (for feeding a server bytes a
/// well-behaved client would never send).
pub fn client_frame(first_byte: u8, payload: &[u8]) -> Vec<u8> {
    let key = [0x11, 0x22, 0x33, 0x44];
    let mut out = vec![first_byte];
    match payload.len() {
        n @ 0..=125 => out.push(0x80 | n as u8),
        n @ 126..=0xFFFF => {
            out.push(0x80 | 0x7E);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 0x7F);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    out
}

/// An unmasked server frame built by hand.
pub fn server_frame(first_byte: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![first_byte];
    match payload.len() {
        n @ 0..=125 => out.push(n as u8),
        n @ 126..=0xFFFF => {
            out.push(126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
    out
}

/// The last event must be `Closed`; returns its reason.
pub fn closed_reason(events: &[Event]) -> wsproto_core::CloseReason {
    match events.last() {
        Some(Event::Closed(reason)) => reason.clone(),
        other => panic!("expected Closed as the last event, got {other:?} in {events:?}"),
    }
}

/// Parses the Close frames a server wrote (unmasked) and returns the code.
pub fn close_code_in(bytes: &[u8]) -> Option<u16> {
    let mut pos = 0;
    while pos + 2 <= bytes.len() {
        let opcode = bytes[pos] & 0x0F;
        let len7 = (bytes[pos + 1] & 0x7F) as usize;
        let (len, head) = match len7 {
            126 => (
                u16::from_be_bytes([bytes[pos + 2], bytes[pos + 3]]) as usize,
                4,
            ),
            127 => (
                u64::from_be_bytes(bytes[pos + 2..pos + 10].try_into().unwrap()) as usize,
                10,
            ),
            n => (n, 2),
        };
        let body = &bytes[pos + head..pos + head + len];
        if opcode == 8 {
            return (body.len() >= 2).then(|| u16::from_be_bytes([body[0], body[1]]));
        }
        pos += head + len;
    }
    None
}
