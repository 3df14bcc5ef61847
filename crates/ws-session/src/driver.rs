//! The one loop that moves bytes between a transport and the protocol core:
//! write what the core produced (coalesced), read through a per-thread
//! buffer into the core, and wake the core at its deadline. Used inline by
//! [`Session`](crate::Session) and from the spawned task behind
//! [`spawn_split`](crate::Session::spawn_split). It holds no protocol logic: heartbeat,
//! close timeout and the client's wait for the server's EOF are the core's.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use futures_io::{AsyncRead, AsyncWrite};
use wsproto_core::{
    CloseCode, CloseFrame, Connection, Frame, MAX_TRANSMIT_SLICES, Mode, OpCode, State,
};

use crate::lifecycle::{SessionGuard, ShutdownPhase};
use crate::runtime::{Runtime, Timer};

/// The most bytes read into the per-thread buffer in one call (see
/// `READ_BUF`): the first read of a connection that has no receive storage.
/// Later reads go straight into the core's storage, as much as it offers
/// (at least 8 KiB; growing to 72 KiB while reads fill it, more for a
/// frame that is larger).
const READ_CHUNK: usize = 64 * 1024;

/// Reads land this far past a 4 KiB boundary of the per-thread buffer (see
/// `read_window`).
const READ_PAGE_OFFSET: usize = 2048;

/// The kernel's page size, as far as copy alignment is concerned.
const PAGE: usize = 4096;

/// Rounds of transport progress one poll may make before it yields (wakes
/// itself and returns `Pending`) so that other tasks on the same thread
/// run. tokio's sockets have a cooperative budget of their own; async-io's
/// (async-std, smol) do not, and a peer that keeps the socket full (a ping
/// flood) would otherwise keep the thread. 32 rounds read up to 2.3 MiB
/// (72 KiB a read) while frames are small.
pub(crate) const ROUNDS_PER_POLL: u32 = 32;

thread_local! {
    /// A session that has not had input yet reads into this one
    /// per-thread buffer and hands the bytes to the core with
    /// `handle_data`: reading into the core's storage would allocate it
    /// for every new connection that polls its socket. Once there is
    /// input, reads go straight into the core's storage
    /// (`Connection::recv_buffer`): always-initialised chunks that
    /// messages are sliced out of, no copy; a small one goes back to the
    /// thread's spares whenever input runs dry.
    static READ_BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// How close to its deadline an armed timer is polled on every call,
/// whatever the waker (see `Driver::poll_timer`).
const TIMER_SLACK: std::time::Duration = std::time::Duration::from_millis(5);

pub(crate) struct Driver<S: AsyncWrite + Unpin> {
    pub(crate) conn: Connection,
    io: S,
    pub(crate) runtime: Arc<dyn Runtime>,
    timer: Option<Pin<Box<dyn Timer>>>,
    /// When `timer` fires; `None` once it has fired (or before the first).
    /// It may be earlier than the core's deadline: see `poll_timer`.
    timer_deadline: Option<Instant>,
    /// The waker the armed timer was last polled with: while the task's
    /// waker `will_wake` the same task, the timer need not be polled again
    /// before its deadline.
    timer_waker: Option<Waker>,
    /// `timer_deadline` less [`TIMER_SLACK`]: until then the timer is left
    /// alone (computed once per arming; `Instant` arithmetic is not free).
    timer_quiet_until: Option<Instant>,
    /// The first transport error, reported once to the application.
    pub(crate) io_error: Option<io::Error>,
    /// The transport failed: nothing more is read or written.
    pub(crate) broken: bool,
    /// The peer closed its side.
    read_closed: bool,
    /// Input has arrived: reads go straight into the core's storage from
    /// now on (taking a spare chunk of the thread's when the connection
    /// gave its own back between messages; see `poll_read`).
    had_input: bool,
    /// Written bytes may sit in a buffering layer (TLS) until flushed.
    needs_flush: bool,
    /// The transport has been closed.
    pub(crate) transport_closed: bool,
    /// The session's place under the server's connection cap and its
    /// shutdown registration (let go when the transport is closed).
    pub(crate) guard: SessionGuard,
    /// A shutdown's Close 1001 is queued by the owner (a split session's
    /// driver task, which first takes the writer's queued commands), not
    /// here.
    pub(crate) defer_shutdown_close: bool,
}

impl<S: AsyncWrite + Unpin> std::fmt::Debug for Driver<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("conn", &self.conn)
            .field("broken", &self.broken)
            .field("transport_closed", &self.transport_closed)
            .finish_non_exhaustive()
    }
}

impl<S: AsyncWrite + Unpin> Driver<S> {
    /// The core's next event; a Close from the peer is traced.
    pub(crate) fn poll_event(&mut self) -> Option<wsproto_core::Event> {
        let event = self.conn.poll_event();
        if let Some(wsproto_core::Event::CloseReceived(frame)) = &event {
            crate::trace::close_received(frame.as_ref());
        }
        event
    }

    /// The core's `poll_event_ahead`: further events of a read, taken
    /// before the ones already taken are answered (a batch).
    pub(crate) fn poll_event_ahead(&mut self) -> Option<wsproto_core::Event> {
        let event = self.conn.poll_event_ahead();
        if let Some(wsproto_core::Event::CloseReceived(frame)) = &event {
            crate::trace::close_received(frame.as_ref());
        }
        event
    }

    pub(crate) fn now(&self) -> Instant {
        self.runtime.now()
    }

    /// The transport.
    pub(crate) fn io(&self) -> &S {
        &self.io
    }

    /// The transport, mutably.
    pub(crate) fn io_mut(&mut self) -> &mut S {
        &mut self.io
    }

    /// The transport failed: the connection ends abnormally (1006).
    fn fail(&mut self, error: io::Error) {
        crate::trace::trace_debug!(error = %error, "WebSocket transport error");
        if self.io_error.is_none() {
            self.io_error = Some(error);
        }
        self.broken = true;
        let now = self.now();
        self.conn.handle_eof(now);
    }

    /// Writes everything the core has to send, in as few writes as the
    /// transport allows: large payloads (a server's, and a client's the
    /// core could mask in place) are not copied but written with their
    /// headers in one vectored write (a transport without vectored writes
    /// takes the slices one at a time).
    /// `Ready` when drained (or the transport failed), `Pending` when the
    /// transport is full (the waker is registered).
    pub(crate) fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.broken || self.transport_closed {
            return Poll::Ready(());
        }
        loop {
            let mut bufs = [&[][..]; MAX_TRANSMIT_SLICES];
            let result = match self.conn.poll_transmit_vectored(&mut bufs) {
                0 => break,
                1 => Pin::new(&mut self.io).poll_write(cx, bufs[0]),
                n => {
                    let slices: [IoSlice<'_>; MAX_TRANSMIT_SLICES] =
                        std::array::from_fn(|i| IoSlice::new(bufs[i]));
                    Pin::new(&mut self.io).poll_write_vectored(cx, &slices[..n])
                }
            };
            match result {
                Poll::Ready(Ok(0)) => {
                    self.fail(io::ErrorKind::WriteZero.into());
                    return Poll::Ready(());
                }
                Poll::Ready(Ok(n)) => {
                    self.conn.advance_transmit(n);
                    self.needs_flush = true;
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => {
                    self.fail(e);
                    return Poll::Ready(());
                }
                Poll::Pending => return self.write_blocked(),
            }
        }
        if self.needs_flush {
            match Pin::new(&mut self.io).poll_flush(cx) {
                Poll::Ready(Ok(())) => self.needs_flush = false,
                Poll::Ready(Err(e)) => {
                    self.fail(e);
                    return Poll::Ready(());
                }
                Poll::Pending => return self.write_blocked(),
            }
        }
        Poll::Ready(())
    }
}

impl<S: AsyncWrite + Unpin> Driver<S> {
    /// Queues Close 1001 (going away) after what is queued; in raw mode as
    /// a frame.
    pub(crate) fn queue_going_away(&mut self) {
        let now = self.now();
        let _ = if self.conn.config().mode() == Mode::Raw {
            self.conn.send_frame(
                now,
                Frame::new(
                    OpCode::Close,
                    CloseFrame::encode_payload(CloseCode::GOING_AWAY, ""),
                ),
            )
        } else {
            self.conn.close(now, CloseCode::GOING_AWAY, "")
        };
    }

    /// The session has ended (or is dropped): its place under the cap is
    /// given back and the shutdown handle told how it ended.
    fn release_guard(&mut self) {
        self.guard.permit = None;
        if let Some(watch) = self.guard.watch.take() {
            watch.finish(self.conn.close_reason());
        }
    }

    /// The transport took nothing: the core's send timeout runs (a peer
    /// that stopped reading ends the session instead of holding it).
    fn write_blocked(&mut self) -> Poll<()> {
        let now = self.now();
        self.conn.handle_write_blocked(now);
        Poll::Pending
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Driver<S> {
    pub(crate) fn new(conn: Connection, io: S, runtime: Arc<dyn Runtime>) -> Self {
        Driver {
            conn,
            io,
            runtime,
            timer: None,
            timer_deadline: None,
            timer_waker: None,
            timer_quiet_until: None,
            io_error: None,
            broken: false,
            read_closed: false,
            had_input: false,
            needs_flush: false,
            transport_closed: false,
            guard: SessionGuard::default(),
            defer_shutdown_close: false,
        }
    }

    /// The shutdown phase for this session (`Running` without a shutdown
    /// handle); `cx` is woken when it changes.
    pub(crate) fn shutdown_phase(&self, cx: &mut Context<'_>) -> ShutdownPhase {
        match &self.guard.watch {
            Some(watch) => watch.poll_phase(cx),
            None => ShutdownPhase::Running,
        }
    }

    /// Acts on a shutdown: Close 1001 after what is queued while closing
    /// (unless the owner does that), termination once forced. `true` when
    /// the core changed.
    fn apply_shutdown(&mut self, cx: &mut Context<'_>) -> bool {
        match self.shutdown_phase(cx) {
            ShutdownPhase::Closing
                if !self.defer_shutdown_close && !self.conn.is_close_queued() =>
            {
                self.queue_going_away();
                true
            }
            ShutdownPhase::Forced if self.conn.state() != State::Closed => {
                self.conn.terminate();
                true
            }
            _ => false,
        }
    }

    /// Wakes the core at its deadline. `Ready` when a deadline was handled.
    ///
    /// The timer is moved only when the core's deadline comes earlier than
    /// the one it is armed for (or it has fired): a later deadline (the
    /// message timeout starting over, a heartbeat rescheduled) keeps it, it
    /// fires early, the core finds nothing due, and it is armed again for
    /// the deadline of that moment. Resetting a runtime's timer goes
    /// through its timer wheel, and polling one registers the waker again;
    /// so an armed timer that was polled with a waker for this same task
    /// is left alone until the clock is within [`TIMER_SLACK`] of its
    /// deadline.
    ///
    /// A shutdown's phase change counts as a deadline.
    pub(crate) fn poll_timer(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.apply_shutdown(cx) {
            return Poll::Ready(());
        }
        let Some(deadline) = self.conn.poll_timeout() else {
            return Poll::Pending;
        };
        let now = self.runtime.now();
        let armed = match (&mut self.timer, self.timer_deadline) {
            (Some(timer), Some(armed)) if armed <= deadline => {
                if armed <= now {
                    // Due by our clock (perhaps before the timer's wheel
                    // has turned): the core sees to what is due.
                    self.timer_deadline = None;
                    self.conn.handle_timeout(now);
                    return Poll::Ready(());
                }
                // Not within TIMER_SLACK of the deadline: a timer whose
                // clock rounds differently from ours may fire a little
                // early, and then only polling it tells.
                if self.timer_quiet_until.is_some_and(|quiet| now < quiet)
                    && self
                        .timer_waker
                        .as_ref()
                        .is_some_and(|w| w.will_wake(cx.waker()))
                {
                    return Poll::Pending;
                }
                (timer, armed)
            }
            (timer, _) => {
                if deadline <= now {
                    self.timer_deadline = None;
                    self.conn.handle_timeout(now);
                    return Poll::Ready(());
                }
                let timer = match timer {
                    Some(timer) => {
                        timer.as_mut().reset(deadline);
                        timer
                    }
                    None => timer.insert(self.runtime.new_timer(deadline)),
                };
                self.timer_deadline = Some(deadline);
                self.timer_quiet_until = deadline.checked_sub(TIMER_SLACK);
                (timer, deadline)
            }
        };
        let (timer, armed) = armed;
        if timer.as_mut().poll_expired(cx).is_ready() {
            // The timer's clock and ours may round differently: its
            // deadline has passed by the timer's account, so say so. That
            // is the armed deadline, which may be before the core's.
            self.timer_deadline = None;
            let now = self.runtime.now().max(armed);
            self.conn.handle_timeout(now);
            return Poll::Ready(());
        }
        if !self
            .timer_waker
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            self.timer_waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }

    /// Reads once and lets the core parse what arrived. `Ready` when
    /// something was read (or the stream ended or failed).
    pub(crate) fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.broken || self.read_closed || self.transport_closed {
            return Poll::Pending;
        }
        let result = if self.had_input || self.conn.recv_capacity() > 0 {
            // The connection has had input: read straight into its
            // storage (messages are then slices of it). Between messages
            // it holds none: a small chunk goes back to the thread's
            // spares when input runs dry and is taken again here.
            let mut room = self.conn.recv_buffer();
            let result = Pin::new(&mut self.io).poll_read(cx, &mut room);
            if let Poll::Ready(Ok(n)) = result
                && n > 0
            {
                let now = self.runtime.now();
                self.conn.handle_received(now, n);
            }
            result
        } else {
            self.read_first(cx)
        };
        match result {
            Poll::Pending => {
                // Input ran dry: buffers a burst grew are released (the
                // core keeps those that small messages reuse).
                if !self.conn.wants_write() {
                    self.conn.trim_buffers();
                }
                Poll::Pending
            }
            Poll::Ready(Ok(0)) => {
                self.read_closed = true;
                let now = self.now();
                self.conn.handle_eof(now);
                Poll::Ready(())
            }
            Poll::Ready(Ok(_)) => Poll::Ready(()),
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => Poll::Ready(()),
            Poll::Ready(Err(e)) => {
                self.fail(e);
                Poll::Ready(())
            }
        }
    }

    /// A read while the connection holds no receive storage (before its
    /// first input, after it released its storage): into the thread's
    /// buffer, at most `READ_CHUNK` bytes, handed to the core with
    /// `handle_data`, so that an idle connection allocates nothing for a
    /// read that finds nothing, and the storage the core then makes is
    /// sized to what came.
    fn read_first(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        READ_BUF.with(|buf| {
            // Not borrowed across an await: `poll_read` returns at once. A
            // transport that reads through another session on the same
            // thread (nested) gets a buffer of its own.
            let mut own = Vec::new();
            let mut shared = buf.try_borrow_mut();
            let buf = match &mut shared {
                Ok(shared) => &mut **shared,
                Err(_) => &mut own,
            };
            let buf = read_window(buf);
            let result = Pin::new(&mut self.io).poll_read(cx, buf);
            if let Poll::Ready(Ok(n)) = result
                && n > 0
            {
                let now = self.runtime.now();
                self.conn.handle_data(now, &buf[..n.min(buf.len())]);
                self.had_input = true;
            }
            result
        })
    }

    /// Closes the transport (once), after reading and discarding the input
    /// that has already arrived. Closing a socket that still holds unread
    /// input makes the kernel reset the connection, and a reset can make the
    /// peer's kernel discard what we sent last, our Close among it, before
    /// its application has read it (seen with Autobahn 4.1.5: a Ping sent
    /// right after a bad frame). It does not wait for more: a transport's
    /// `poll_close` need not half-close (async-io's does not), so a peer
    /// could be waiting for us as we would be waiting for it.
    pub(crate) fn poll_close_transport(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.transport_closed {
            return Poll::Ready(());
        }
        // The session has ended: its place under the cap is free before the
        // peer sees the transport close (a client that reconnects then
        // finds it free).
        self.release_guard();
        if !self.broken {
            if !self.read_closed {
                self.discard_input(cx);
            }
            // A failing close changes nothing: the session has ended.
            if Pin::new(&mut self.io).poll_close(cx).is_pending() {
                return Poll::Pending;
            }
        }
        self.transport_closed = true;
        self.timer = None;
        if let Some(reason) = self.conn.close_reason() {
            crate::trace::session_ended(reason);
        }
        Poll::Ready(())
    }

    /// Reads and discards until the transport has nothing more to give
    /// right now (or ends or fails), at most [`ROUNDS_PER_POLL`] reads of
    /// 4 KiB: a peer that keeps sending cannot hold the close back.
    fn discard_input(&mut self, cx: &mut Context<'_>) {
        let mut scratch = [0u8; 4096];
        for _ in 0..ROUNDS_PER_POLL {
            match Pin::new(&mut self.io).poll_read(cx, &mut scratch) {
                Poll::Ready(Ok(0) | Err(_)) => {
                    self.read_closed = true;
                    return;
                }
                Poll::Ready(Ok(_)) => {}
                Poll::Pending => return,
            }
        }
    }

    /// Whether the connection has ended and the transport may be closed.
    pub(crate) fn may_close_transport(&self) -> bool {
        self.conn.close_reason().is_some() && (self.broken || self.conn.should_close_transport())
    }

    /// One round of progress: write, then close the transport when the core
    /// says so, else fire timers and (if `read`) read. `Ready` when
    /// anything changed, so the caller should look at the core again.
    pub(crate) fn poll_drive(&mut self, cx: &mut Context<'_>, read: bool) -> Poll<()> {
        let _ = self.poll_write_out(cx);
        if self.may_close_transport() {
            return self.poll_close_transport(cx);
        }
        let mut progressed = self.poll_timer(cx).is_ready();
        if progressed {
            // What the deadline queued (a heartbeat ping, a Close) goes out
            // now: the session writes at a data event only what it must.
            let _ = self.poll_write_out(cx);
        }
        if read && self.poll_read(cx).is_ready() {
            progressed = true;
        }
        if progressed {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// The `READ_CHUNK` bytes of `buf` (grown and zeroed once) that reads go
/// into: starting `READ_PAGE_OFFSET` bytes past a 4 KiB boundary.
///
/// The kernel copies received data out of its page-aligned packet memory
/// with `rep movsb`, which on the AMD EPYC machine the benchmarks run on
/// slows to a fraction of its speed when the destination sits a few bytes
/// above the source modulo 4 KiB (glibc's `memcpy` steers clear of that
/// case; the kernel's copy does not). A large `Vec` starts 16 bytes past a
/// page boundary, so every read hit it: in a profile of 64 KiB echoes the
/// copy into this buffer was 27 % of the server's CPU, and 5 % once reads
/// started half a page further on (server CPU per message 104 -> 81 us).
fn read_window(buf: &mut Vec<u8>) -> &mut [u8] {
    if buf.len() < READ_CHUNK + PAGE {
        buf.resize(READ_CHUNK + PAGE, 0);
    }
    let skew = (READ_PAGE_OFFSET + PAGE - buf.as_ptr().addr() % PAGE) % PAGE;
    &mut buf[skew..skew + READ_CHUNK]
}

impl<S: AsyncWrite + Unpin> Drop for Driver<S> {
    /// The application let go of a session it had not closed (or the
    /// runtime dropped a split session's driver task): say goodbye with a
    /// Close 1001 ("going away", as a browser leaving a page does) and
    /// write what the transport takes at once, so the peer sees a closing
    /// endpoint rather than 1006. Nothing waits: a full or slow transport
    /// loses the goodbye, and the transport is closed by being dropped.
    fn drop(&mut self) {
        self.release_guard();
        if self.broken || self.transport_closed {
            return;
        }
        if self.conn.state() == State::Open {
            self.queue_going_away();
        }
        let _ = self.poll_write_out(&mut Context::from_waker(Waker::noop()));
    }
}

#[cfg(test)]
mod tests {
    use super::{PAGE, READ_CHUNK, READ_PAGE_OFFSET, read_window};

    #[test]
    fn reads_land_half_a_page_past_a_boundary_whatever_the_allocation() {
        for len in [0, 1, 100, READ_CHUNK + PAGE] {
            let mut buf = vec![7u8; len];
            let (start, window_len) = {
                let window = read_window(&mut buf);
                (window.as_ptr().addr(), window.len())
            };
            assert_eq!(window_len, READ_CHUNK);
            assert_eq!(start % PAGE, READ_PAGE_OFFSET);
            // The buffer is grown once, then reused where it is.
            let again = read_window(&mut buf).as_ptr().addr();
            assert_eq!(again, start);
        }
    }
}
