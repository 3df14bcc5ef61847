//! The connection targets' driver: a [`Setup`] from the input, then a series
//! of [`Command`]s, with the oracle checked after every step.

use std::time::{Duration, Instant};

use arbitrary::{Arbitrary, Unstructured};
use wsproto_core::frame::MAX_HEADER_LEN;
use wsproto_core::{
    CloseCode, Config, Connection, DeflateConfig, DeflateExtension, DeflateParams, Event, Frame,
    MaskRng, MemoryBudget, Mode, OpCode, Role, Rsv, SendError, State,
};

use crate::Chunk;

/// Connection options, with small limits.
#[derive(Arbitrary, Debug)]
pub struct Setup {
    pub raw: bool,
    /// permessage-deflate with (`server_no_context_takeover`,
    /// `client_no_context_takeover`).
    pub deflate: Option<(bool, bool)>,
    pub max_frame_size: u16,
    pub max_message_size: u16,
    pub max_fragments: u8,
    pub stream_threshold: Option<u16>,
    pub send_queue_limit: u16,
    pub ping_interval_ms: Option<u16>,
    pub ping_timeout_ms: u16,
    pub close_timeout_ms: u16,
}

/// One step: input from the peer, the passage of time, a command from the
/// application, or draining output.
#[derive(Arbitrary, Debug)]
pub enum Command {
    /// Input from the peer: odd-length chunks are read in place
    /// (`recv_buffer` + `handle_received`), even ones go to `handle_data`.
    Data(Chunk),
    Eof,
    /// Move the clock by this many milliseconds and handle timeouts.
    Advance(u16),
    SendText(Chunk),
    SendBinary(Chunk),
    Ping(Chunk),
    Close(u16, Chunk),
    Terminate,
    SetPingInterval(Option<u16>),
    /// Raw mode: (fin, rsv bits, opcode, payload).
    SendFrame(bool, u8, u8, Chunk),
    /// Take the transmit buffer and advance by at most this many bytes;
    /// 0 reports the transport blocked (`handle_write_blocked`).
    PollTransmit(u16),
    /// Take every event, then `trim_buffers` (as the session driver does
    /// when input runs dry).
    DrainEvents,
}

impl Setup {
    /// The memory budget: derived from the fields above (not read from the
    /// input) so that committed seeds and crash inputs keep their meaning.
    fn budget(&self) -> Option<MemoryBudget> {
        (self.max_fragments % 2 == 1).then(|| {
            MemoryBudget::new(usize::from(self.max_frame_size) + usize::from(self.max_message_size))
        })
    }

    fn config(&self) -> Config {
        let ms = |ms: u16| Duration::from_millis(ms.into());
        // The message and send timeouts, derived likewise (0: off).
        let derived = |ms: u16, times: u16| {
            (ms > 0).then(|| Duration::from_millis(u64::from(ms) * u64::from(times)))
        };
        let config = Config::default()
            .with_message_timeout(derived(self.close_timeout_ms, 3))
            .with_send_timeout(derived(self.ping_timeout_ms, 2));
        let config = match self.budget() {
            Some(budget) => config.with_memory_budget(budget),
            None => config,
        };
        config
            .with_mode(if self.raw { Mode::Raw } else { Mode::Default })
            .with_max_frame_size(self.max_frame_size.into())
            .with_max_message_size(self.max_message_size.into())
            .with_max_fragments(self.max_fragments.into())
            .with_stream_threshold(self.stream_threshold.map(usize::from))
            .with_send_queue_limit(self.send_queue_limit.into())
            .with_ping_interval(self.ping_interval_ms.map(ms))
            .with_ping_timeout(ms(self.ping_timeout_ms))
            .with_close_timeout(ms(self.close_timeout_ms))
    }

    fn connection(&self, role: Role, now: Instant) -> Connection {
        let conn = match role {
            Role::Client => Connection::client(self.config(), MaskRng::from_seed([7; 32]), now),
            Role::Server => Connection::server(self.config(), now),
        };
        let Some((server_nct, client_nct)) = self.deflate else {
            return conn;
        };
        let params = DeflateParams {
            server_no_context_takeover: server_nct,
            client_no_context_takeover: client_nct,
            ..DeflateParams::default()
        };
        let ext = DeflateExtension::new(role, params, &DeflateConfig::default());
        conn.with_extensions(vec![Box::new(ext)])
    }
}

/// What the oracle remembers between steps.
struct Driver {
    conn: Connection,
    now: Instant,
    max_frame_size: usize,
    max_message_size: usize,
    send_queue_limit: usize,
    /// Everything taken from `poll_transmit`.
    written: Vec<u8>,
    closed_seen: bool,
    /// Largest payload the application got accepted (compression may grow
    /// it a little).
    largest_send: usize,
    /// Steps that may add a control frame (ping, pong, Close) to the queue.
    control_steps: usize,
    accepted_sends: usize,
    /// Bytes fed since every event was last taken.
    undrained: usize,
    /// The memory budget the connection charges, if any (it is the only
    /// one charging it).
    budget: Option<MemoryBudget>,
}

/// Runs `input` against a `role` connection. Panics when the oracle fails.
pub fn run(role: Role, input: &[u8]) {
    let mut u = Unstructured::new(input);
    let Ok(setup) = Setup::arbitrary(&mut u) else {
        return;
    };
    // The driver, not the core, owns the clock: one real reading as the
    // starting point of the virtual time the commands advance.
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let conn = setup.connection(role, now);
    let mut d = Driver {
        budget: conn.config().memory_budget().cloned(),
        conn,
        now,
        max_frame_size: setup.max_frame_size.into(),
        max_message_size: setup.max_message_size.into(),
        send_queue_limit: setup.send_queue_limit.into(),
        written: Vec::new(),
        closed_seen: false,
        largest_send: 0,
        control_steps: 0,
        accepted_sends: 0,
        undrained: 0,
    };
    while let Ok(command) = Command::arbitrary(&mut u) {
        d.step(command);
        d.check();
        if u.is_empty() {
            break;
        }
    }
    d.drain_events();
    d.step(Command::PollTransmit(u16::MAX));
    crate::wire::check_written(role, &d.written);
}

impl Driver {
    fn step(&mut self, command: Command) {
        let now = self.now;
        match command {
            Command::Data(Chunk(data)) => {
                self.control_steps += 1; // a pong, a Close reply or a failure Close
                if data.len() % 2 == 1 {
                    // Read in place, as the session driver does: the same
                    // events either way.
                    let mut rest = &data[..];
                    while !rest.is_empty() {
                        let mut room = self.conn.recv_buffer();
                        let n = room.len().min(rest.len());
                        room[..n].copy_from_slice(&rest[..n]);
                        self.conn.handle_received(now, n);
                        rest = &rest[n..];
                    }
                } else {
                    self.conn.handle_data(now, &data);
                }
                self.undrained += data.len();
                // Memory: at most one frame (control frames are up to 125
                // bytes whatever the limit) plus a header plus the bytes fed
                // since the application last took every event (input is
                // parsed as events are taken).
                let frame = self.max_frame_size.max(125);
                let limit = frame + MAX_HEADER_LEN + self.undrained;
                assert!(self.conn.buffered_input() <= limit, "buffered input");
            }
            Command::Eof => self.conn.handle_eof(now),
            Command::Advance(ms) => {
                self.now += Duration::from_millis(ms.into());
                self.control_steps += 1; // a heartbeat ping or a failure Close
                self.timeout();
            }
            Command::SendText(Chunk(text)) => {
                let text = String::from_utf8_lossy(&text).into_owned();
                let len = text.len();
                let result = self.conn.send_text(text);
                self.sent(len, result);
            }
            Command::SendBinary(Chunk(data)) => {
                let len = data.len();
                let result = self.conn.send_binary(data);
                self.sent(len, result);
            }
            Command::Ping(Chunk(data)) => {
                self.control_steps += 1;
                match self.conn.send_ping(data) {
                    Ok(()) | Err(SendError::Closed | SendError::ControlTooLong(_)) => {}
                    // The application's pings count against the queue.
                    Err(SendError::QueueFull) => assert!(!self.conn.can_send()),
                    Err(e) => panic!("undocumented send_ping error {e:?}"),
                }
            }
            Command::Close(code, Chunk(reason)) => {
                self.control_steps += 1;
                let reason = String::from_utf8_lossy(&reason);
                match self.conn.close(now, CloseCode(code), &reason) {
                    Ok(()) | Err(SendError::Closed | SendError::InvalidCloseCode(_)) => {}
                    Err(e) => panic!("undocumented close error {e:?}"),
                }
            }
            Command::Terminate => self.conn.terminate(),
            Command::SetPingInterval(ms) => {
                let interval = ms.map(|ms| Duration::from_millis(ms.into()));
                self.conn.set_ping_interval(now, interval);
            }
            Command::SendFrame(fin, rsv, opcode, Chunk(payload)) => {
                let Ok(opcode) = OpCode::from_u8(opcode & 0xF) else {
                    return;
                };
                let len = payload.len();
                let frame = Frame::new(opcode, payload)
                    .with_fin(fin)
                    .with_rsv(Rsv::from_bits(rsv));
                let result = self.conn.send_frame(now, frame);
                self.control_steps += usize::from(opcode.is_control());
                match result {
                    Ok(()) if opcode.is_data() => self.sent(len, Ok(())),
                    Ok(()) => {}
                    Err(
                        SendError::NotRawMode
                        | SendError::InvalidFrame(_)
                        | SendError::ControlTooLong(_)
                        | SendError::InvalidCloseCode(_)
                        | SendError::Closed
                        | SendError::QueueFull,
                    ) => {}
                    Err(e) => panic!("undocumented send_frame error {e:?}"),
                }
            }
            Command::PollTransmit(0) => self.conn.handle_write_blocked(now),
            Command::PollTransmit(n) => {
                let out = self.conn.poll_transmit();
                let take = usize::from(n).min(out.len());
                self.written.extend_from_slice(&out[..take]);
                self.conn.advance_transmit(n.into());
            }
            Command::DrainEvents => {
                self.drain_events();
                self.conn.trim_buffers();
            }
        }
    }

    /// Handles timeouts until no deadline has passed; that must take only a
    /// few calls (a deadline left in the past would make a driver spin).
    fn timeout(&mut self) {
        for _ in 0..4 {
            self.conn.handle_timeout(self.now);
            if self.conn.poll_timeout().is_none_or(|t| t > self.now) {
                return;
            }
        }
        panic!("handle_timeout leaves a deadline in the past");
    }

    /// Records an accepted message, or checks that the error is documented
    /// for `send_text`/`send_binary`/`send_frame`.
    fn sent(&mut self, len: usize, result: Result<(), SendError>) {
        match result {
            Ok(()) => {
                self.largest_send = self.largest_send.max(len);
                self.accepted_sends += 1;
            }
            Err(SendError::QueueFull) => {
                // The limit counts queued bytes plus each queued entry's
                // memory: full is what `can_send` says, and a queue holding
                // no byte is full only by its entries.
                assert!(!self.conn.can_send());
                assert!(self.send_queue_limit == 0 || self.conn.wants_write());
            }
            // MessageInRawMode: send_text/binary in raw mode.
            Err(SendError::Closed | SendError::MessageInRawMode | SendError::Extension { .. }) => {}
            Err(e) => panic!("undocumented send error {e:?}"),
        }
    }

    fn drain_events(&mut self) {
        while let Some(event) = self.conn.poll_event() {
            assert!(!self.closed_seen, "event after Closed: {event:?}");
            // Input is parsed as events are taken: a ping (its pong), a Close
            // (the reply) or a failure (its Close) may queue a control frame.
            self.control_steps += 1;
            match event {
                Event::Closed(_) => self.closed_seen = true,
                Event::Message(m) => assert!(m.len() <= self.max_message_size),
                Event::Chunk(c) => assert!(c.data.len() <= self.max_message_size),
                _ => {}
            }
        }
        self.undrained = 0;
    }

    fn check(&mut self) {
        #[cfg(fuzzing)]
        wsproto_core::fuzzing::check_invariants(&self.conn);
        if self.closed_seen {
            assert_eq!(self.conn.poll_event(), None, "event after Closed");
        }
        // The queue holds what the application queued (plus compression
        // overhead and one header per message) and a bounded number of
        // control frames per step; peer bytes alone cannot grow it.
        let queued = self.conn.queued_bytes();
        let bound = self.send_queue_limit
            + self.largest_send * 2
            + 64
            + (MAX_HEADER_LEN + 8) * self.accepted_sends
            + (MAX_HEADER_LEN + 125) * (self.control_steps + 2);
        assert!(queued <= bound, "queued_bytes {queued} > {bound}");
        if !self.conn.wants_write() {
            assert_eq!(queued, 0, "nothing to write but queued_bytes > 0");
        }
        if let Some(budget) = &self.budget {
            assert!(
                budget.used() <= budget.limit(),
                "over the budget: {budget:?}"
            );
            // What is charged is input held, at most what the connection
            // buffers; an ended connection holds none.
            if self.conn.state() == State::Closed {
                assert_eq!(budget.used(), 0, "an ended connection keeps a charge");
            }
        }
    }
}
