//! [`Session::spawn_split`](crate::Session::spawn_split): a write half and
//! a read half for two tasks, with no lock on the hot path.
//!
//! The connection and the transport move into a driver task (spawned
//! through the [`Runtime`](crate::Runtime)), which runs the same
//! driver loop as an unsplit session. The halves talk to it over two
//! bounded lock-free channels:
//!
//! ```text
//!  SessionWriter ──commands (bounded)──►  driver task  ──events (bounded)──► SessionReader
//!                                        Connection + IO
//!                                        + timer
//! ```
//!
//! - The driver takes a command only while the core's send queue has room,
//!   so a full queue fills the command channel and the writer's `send`
//!   waits: backpressure reaches the application.
//! - It reads from the transport only while it can hand the reader an
//!   event and the reader has less than 1 MiB of payload not yet taken,
//!   so a reader that stops reading stops the socket reads (TCP
//!   backpressure) instead of buffering without bound.
//! - Pongs, the heartbeat and the close reply are the driver's business:
//!   they go out whether or not either half is being polled.
//! - The close reason is published once, in a `OnceLock`, before the
//!   channels close. Once the session is closing, the command channel is
//!   closed: a later `send` fails instead of being dropped.
//! - Dropping the reader discards incoming messages (the driver keeps
//!   reading, so control frames are still answered); dropping both halves
//!   starts the close handshake (1000), which the driver completes.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use futures_channel::{mpsc, oneshot};
use futures_io::{AsyncRead, AsyncWrite};
use futures_util::StreamExt as _;
use futures_util::task::AtomicWaker;
use wsproto_core::{CloseCode, CloseReason, Event, State};

mod reader;
mod writer;

pub use reader::SessionReader;
pub use writer::SessionWriter;

use crate::driver::{Driver, ROUNDS_PER_POLL};
use crate::error::Error;
use crate::events::{READ_AHEAD_BYTES, event_bytes};
use crate::outgoing::Outgoing;

/// Messages buffered in each direction between a half and the driver task.
pub(crate) const DEFAULT_CAPACITY: usize = 64;

enum Command {
    Send(Outgoing),
    Flush(oneshot::Sender<()>),
    PingInterval(Option<Duration>),
    PingTimeout(Duration),
}

#[derive(Default)]
struct Shared {
    reason: OnceLock<CloseReason>,
    /// The transport error, if one ended the session (taken once by the
    /// first half to report it; touched only at the end).
    io_error: Mutex<Option<std::io::Error>>,
    terminate: AtomicBool,
    /// A close asked for without waiting (`SessionWriter::close_soon`);
    /// the flag spares the driver a lock on every poll.
    close_soon: Mutex<Option<(CloseCode, String)>>,
    close_soon_set: AtomicBool,
    /// Payload bytes in the event channel (see `READ_AHEAD_BYTES`).
    in_flight: AtomicUsize,
    /// Waiters for the end of the session (`close`).
    closed_waiters: Mutex<Vec<oneshot::Sender<()>>>,
    driver_waker: AtomicWaker,
}

impl Shared {
    fn end_error(&self) -> Error {
        if let Some(e) = self.io_error.lock().ok().and_then(|mut e| e.take()) {
            return Error::Io(e);
        }
        Error::Closed(self.reason.get().cloned().unwrap_or(CloseReason::Abnormal))
    }
}

pub(crate) fn split<S>(
    mut driver: Driver<S>,
    kept: VecDeque<Event>,
    capacity: usize,
) -> (SessionWriter, SessionReader)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let capacity = capacity.max(1);
    // A shutdown closes after the writer's queued commands (see `poll`).
    driver.defer_shutdown_close = true;
    let (event_tx, event_rx) = mpsc::channel(capacity);
    let (command_tx, command_rx) = mpsc::channel(capacity);
    let shared = Arc::new(Shared::default());
    let runtime = driver.runtime.clone();
    let mode = driver.conn.config().mode();
    let task = DriverTask {
        driver,
        pending: kept,
        event_tx: Some(event_tx),
        command_rx: Some(command_rx),
        flush_waiters: Vec::new(),
        shared: shared.clone(),
        shutting_down: false,
    };
    runtime.spawn(Box::pin(task));
    (
        SessionWriter::new(command_tx, shared.clone(), mode),
        SessionReader::new(event_rx, shared),
    )
}

struct DriverTask<S: AsyncWrite + Unpin> {
    driver: Driver<S>,
    /// An event the reader has no room for yet.
    /// Events taken from the core that the reader has not had room for
    /// yet (handed over first, in order).
    pending: VecDeque<Event>,
    /// `None` once the reader is gone.
    event_tx: Option<mpsc::Sender<Event>>,
    /// `None` once the writer is gone and its commands are drained.
    command_rx: Option<mpsc::Receiver<Command>>,
    flush_waiters: Vec<oneshot::Sender<()>>,
    shared: Arc<Shared>,
    /// A shutdown began: the command channel takes no more, and once the
    /// commands queued in it are in the core, Close 1001 follows them.
    shutting_down: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> DriverTask<S> {
    fn apply(&mut self, command: Command) {
        let now = self.driver.now();
        let conn = &mut self.driver.conn;
        // Refusals (the connection is closing) drop the command: the writer
        // learns of the end from the closed channel and `close_reason`.
        let _ = match command {
            Command::Send(outgoing) => outgoing.apply(conn, now),
            Command::Flush(done) => {
                self.flush_waiters.push(done);
                Ok(())
            }
            Command::PingInterval(interval) => {
                conn.set_ping_interval(now, interval);
                Ok(())
            }
            Command::PingTimeout(timeout) => {
                conn.set_ping_timeout(now, timeout);
                Ok(())
            }
        };
    }

    /// Hands events to the reader while it has room. `true` when any moved.
    fn forward_events(&mut self, cx: &mut Context<'_>) -> bool {
        let mut moved = false;
        loop {
            let Some(event) = self
                .pending
                .pop_front()
                .or_else(|| self.driver.poll_event())
            else {
                return moved;
            };
            if let Event::Closed(reason) = event {
                let _ = self.shared.reason.set(reason);
                moved = true;
                continue;
            }
            let Some(tx) = &mut self.event_tx else {
                moved = true; // nobody reads: drop it
                continue;
            };
            match tx.poll_ready(cx) {
                Poll::Ready(Ok(())) => {
                    self.shared
                        .in_flight
                        .fetch_add(event_bytes(&event), Ordering::AcqRel);
                    let _ = tx.start_send(event);
                    moved = true;
                }
                Poll::Ready(Err(_)) => {
                    self.event_tx = None;
                    moved = true;
                }
                Poll::Pending => {
                    self.pending.push_front(event);
                    return moved;
                }
            }
        }
    }

    /// Takes commands while the core accepts data. `true` when any came.
    fn take_commands(&mut self, cx: &mut Context<'_>) -> bool {
        let mut took = false;
        loop {
            let Some(rx) = &mut self.command_rx else {
                return took;
            };
            if self.driver.conn.is_close_queued() {
                // No data may follow our Close: later sends fail at once
                // instead of being dropped here; queued ones drain below.
                // (In raw mode the peer's Close is answered through here.)
                rx.close();
            } else if !self.driver.conn.can_send() {
                return took;
            }
            match rx.poll_next_unpin(cx) {
                Poll::Ready(Some(command)) => {
                    self.apply(command);
                    took = true;
                }
                Poll::Ready(None) => {
                    self.command_rx = None;
                    took = true;
                }
                Poll::Pending => return took,
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> DriverTask<S> {
    /// A shutdown: nothing more is taken from the writer, what it had
    /// queued goes into the core as the send queue makes room
    /// (`take_commands`), then Close 1001. Forcing is the driver's.
    fn follow_shutdown(&mut self, cx: &mut Context<'_>) {
        if !self.shutting_down
            && self.driver.shutdown_phase(cx) != crate::lifecycle::ShutdownPhase::Running
        {
            self.shutting_down = true;
            if let Some(rx) = &mut self.command_rx {
                rx.close();
            }
        }
        if self.shutting_down && self.command_rx.is_none() && !self.driver.conn.is_close_queued() {
            self.driver.queue_going_away();
        }
    }
}

impl<S: AsyncWrite + Unpin> DriverTask<S> {
    fn finish(&mut self) {
        if let Some(reason) = self.driver.conn.close_reason() {
            let _ = self.shared.reason.set(reason.clone());
        }
        if let Some(e) = self.driver.io_error.take()
            && let Ok(mut slot) = self.shared.io_error.lock()
        {
            *slot = Some(e);
        }
        self.flush_waiters.clear();
        if let Ok(mut waiters) = self.shared.closed_waiters.lock() {
            for waiter in waiters.drain(..) {
                let _ = waiter.send(());
            }
        }
        self.event_tx = None;
        self.command_rx = None;
    }
}

impl<S: AsyncWrite + Unpin> Drop for DriverTask<S> {
    fn drop(&mut self) {
        // Also when the runtime drops the task unfinished: nobody waits forever.
        self.finish();
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> std::future::Future for DriverTask<S> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.shared.driver_waker.register(cx.waker());
        let mut rounds = 0;
        loop {
            if this.event_tx.as_ref().is_some_and(mpsc::Sender::is_closed) {
                this.event_tx = None;
            }
            this.follow_shutdown(cx);
            if this.event_tx.is_none()
                && this.command_rx.is_none()
                && this.driver.conn.state() == State::Open
            {
                // Both halves are gone: end politely.
                let now = this.driver.now();
                let _ = this.driver.conn.close(now, CloseCode::NORMAL, "");
            }
            if this.shared.terminate.load(Ordering::Acquire)
                && this.driver.conn.state() != State::Closed
            {
                this.driver.conn.terminate();
            }
            if this.shared.close_soon_set.swap(false, Ordering::AcqRel)
                && let Some((code, reason)) = this
                    .shared
                    .close_soon
                    .lock()
                    .ok()
                    .and_then(|mut c| c.take())
            {
                let now = this.driver.now();
                let _ = this.driver.conn.close(now, code, &reason);
            }
            let mut progressed = this.forward_events(cx);
            progressed |= this.take_commands(cx);
            let could_send = this.driver.conn.can_send();
            // `Ready`: everything the core had, so everything sent before
            // a flush, is written.
            if this.driver.poll_write_out(cx).is_ready() {
                for waiter in this.flush_waiters.drain(..) {
                    let _ = waiter.send(());
                }
            }
            // The write made room in a send queue that was full: take the
            // commands waiting in the channel now. Nothing else would wake
            // this task for them (the channel's senders are waiting for
            // room, or a broadcast's `try_send` does not wait at all, and a
            // write that finished registers no waker).
            progressed |= !could_send && this.driver.conn.can_send();
            if this.driver.may_close_transport() {
                ready!(this.driver.poll_close_transport(cx));
                // Every event is handed to the reader before the end is.
                this.forward_events(cx);
                if !this.pending.is_empty() {
                    return Poll::Pending;
                }
                this.finish();
                return Poll::Ready(());
            }
            // Read on only while the reader keeps up: no event waiting for
            // room, and the bytes it has not taken yet under the bound (it
            // wakes us when it drains below).
            let read = this.pending.is_empty()
                && this.shared.in_flight.load(Ordering::Acquire) < READ_AHEAD_BYTES;
            if this.driver.poll_drive(cx, read).is_ready() {
                progressed = true;
            }
            if !progressed {
                return Poll::Pending;
            }
            rounds += 1;
            if rounds >= ROUNDS_PER_POLL {
                // The transport never ran dry: let other tasks run.
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("reason", &self.reason.get())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Command")
    }
}
