//! [`Shutdown`]: a graceful-shutdown handle for a server's sessions.
//!
//! ```text
//!  Shutdown ──register()──► ShutdownWatch (in each session's driver)
//!     │ shutdown(deadline)
//!     ├─► accept loops stop (signalled())
//!     ├─► every watch: Closing ─► the session writes what it had queued, then Close 1001
//!     ├─► waits for the watches to finish (close handshakes done) or the deadline
//!     └─► the rest: Forced ─► terminated, their tasks aborted ─► ShutdownReport
//! ```

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_util::future::AbortHandle;
use futures_util::task::AtomicWaker;
use wsproto_core::CloseReason;

use crate::runtime::Runtime;

/// Where a server (or one session) is in its shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShutdownPhase {
    /// Serving.
    Running,
    /// Closing: no new sessions; each live one sends what it had queued,
    /// then Close 1001, and waits for the peer's answer.
    Closing,
    /// The deadline passed: what is left is dropped.
    Forced,
}

impl ShutdownPhase {
    fn from_u8(value: u8) -> Self {
        match value {
            0 => ShutdownPhase::Running,
            1 => ShutdownPhase::Closing,
            _ => ShutdownPhase::Forced,
        }
    }
}

/// What a [`Shutdown::shutdown`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// Sessions live when the shutdown began.
    pub sessions: usize,
    /// Of those, the ones whose close handshake completed before the
    /// deadline.
    pub closed: usize,
    /// The ones that ended otherwise before the deadline (the transport
    /// failed, the close timeout expired, the handler dropped the session).
    pub ended: usize,
    /// The ones still open at the deadline: terminated without a close
    /// handshake, their handler tasks (where `serve` runs them) aborted.
    pub forced: usize,
    /// How long the shutdown took.
    pub elapsed: Duration,
}

/// A graceful-shutdown handle for a server's sessions. Clones share it.
///
/// Give a clone to every accept path (`Acceptor::shutdown` for the
/// adapters' `serve` and `accept`, an axum `Extension` for `ws_axum`);
/// each session accepted there registers with it. Then
/// [`shutdown(deadline)`](Self::shutdown):
///
/// 1. stops new sessions: `serve` returns (the listener is dropped),
///    [`signalled`](Self::signalled) resolves for loops of your own, and
///    an upgrade that still arrives is answered 503;
/// 2. has every live session write what was queued for it before the call
///    (messages given to `send_*`, or to a split session's writer), then
///    send Close 1001 (going away);
/// 3. waits for the close handshakes, up to `deadline`;
/// 4. terminates the sessions still open then (and aborts their handler
///    tasks where `serve` spawned them), and reports what happened.
///
/// A session notices the shutdown while it is being driven: while its
/// handler awaits any of its methods (`recv`, a `send_*`), or always for a
/// split session. Its handler then sees the end as usual (`recv` returns
/// `Err(Error::Closed)`, clean after the handshake).
#[derive(Debug, Clone)]
pub struct Shutdown {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    runtime: Arc<dyn Runtime>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    phase: u8,
    next_id: u64,
    sessions: HashMap<u64, Arc<Slot>>,
    /// Waiting for the shutdown to begin (accept loops).
    begun: Vec<Waker>,
    /// Waiting for the last session to finish (`shutdown`).
    idle: Vec<Waker>,
    /// Sessions that finished during the shutdown, by how.
    closed: usize,
    ended: usize,
}

/// One session's link to the handle.
#[derive(Debug, Default)]
struct Slot {
    phase: AtomicU8,
    waker: AtomicWaker,
    abort: Mutex<Option<AbortHandle>>,
}

impl Shutdown {
    /// A handle whose deadline timer runs on `runtime` (each adapter has
    /// a `shutdown_handle()` that passes its own).
    #[must_use]
    pub fn new(runtime: Arc<dyn Runtime>) -> Self {
        Shutdown {
            inner: Arc::new(Inner {
                runtime,
                state: Mutex::default(),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.inner.state)
    }

    /// Where the shutdown is.
    #[must_use]
    pub fn phase(&self) -> ShutdownPhase {
        ShutdownPhase::from_u8(self.state().phase)
    }

    /// Whether [`shutdown`](Self::shutdown) has been called.
    #[must_use]
    pub fn is_shutting_down(&self) -> bool {
        self.phase() != ShutdownPhase::Running
    }

    /// The sessions registered now.
    #[must_use]
    pub fn live(&self) -> usize {
        self.state().sessions.len()
    }

    /// Registers a new session: `None` once the shutdown has begun (the
    /// session should then be refused with 503).
    #[must_use]
    pub fn register(&self) -> Option<ShutdownWatch> {
        let mut state = self.state();
        if state.phase != 0 {
            return None;
        }
        let id = state.next_id;
        state.next_id += 1;
        let slot = Arc::new(Slot::default());
        state.sessions.insert(id, slot.clone());
        Some(ShutdownWatch {
            handle: self.clone(),
            id,
            slot,
        })
    }

    /// Resolves once the shutdown has begun: for an accept loop of your
    /// own (`select` it against the next accept), or for an HTTP server's
    /// own graceful shutdown (axum's `with_graceful_shutdown`), so that it
    /// stops taking requests when the sessions are told to close.
    pub fn signalled(&self) -> impl Future<Output = ()> + Send + 'static {
        let handle = self.clone();
        std::future::poll_fn(move |cx| {
            let mut state = handle.state();
            if state.phase != 0 {
                return Poll::Ready(());
            }
            if !state.begun.iter().any(|w| w.will_wake(cx.waker())) {
                state.begun.push(cx.waker().clone());
            }
            Poll::Pending
        })
    }

    /// Shuts the sessions down (see the type's docs): stops new ones,
    /// closes every live one with 1001 after what was queued for it, waits
    /// for the close handshakes up to `deadline` from now, then terminates
    /// the rest. Calling it again (or from a clone) waits again with the
    /// new deadline and reports on the sessions still live then.
    pub async fn shutdown(&self, deadline: Duration) -> ShutdownReport {
        let runtime = self.inner.runtime.clone();
        let started = runtime.now();
        let sessions = self.begin();
        let mut timer = runtime.new_timer(started + deadline);
        std::future::poll_fn(|cx| {
            {
                let mut state = self.state();
                if state.sessions.is_empty() {
                    return Poll::Ready(());
                }
                if !state.idle.iter().any(|w| w.will_wake(cx.waker())) {
                    state.idle.push(cx.waker().clone());
                }
            }
            timer.as_mut().poll_expired(cx)
        })
        .await;
        let mut state = self.state();
        let forced: Vec<Arc<Slot>> = state.sessions.drain().map(|(_, slot)| slot).collect();
        state.phase = 2;
        let report = ShutdownReport {
            sessions,
            closed: state.closed,
            ended: state.ended,
            forced: forced.len(),
            elapsed: runtime.now().saturating_duration_since(started),
        };
        drop(state);
        for slot in forced {
            slot.set(ShutdownPhase::Forced);
            if let Some(abort) = lock(&slot.abort).take() {
                abort.abort();
            }
        }
        crate::trace::trace_debug!(?report, "shutdown done");
        report
    }

    /// Enters the Closing phase and tells every session: the number live.
    fn begin(&self) -> usize {
        let mut state = self.state();
        if state.phase == 0 {
            state.phase = 1;
        }
        state.closed = 0;
        state.ended = 0;
        let begun = std::mem::take(&mut state.begun);
        let slots: Vec<Arc<Slot>> = state.sessions.values().cloned().collect();
        drop(state);
        for waker in begun {
            waker.wake();
        }
        for slot in &slots {
            slot.set(ShutdownPhase::Closing);
        }
        slots.len()
    }

    /// A session finished: counted if the shutdown is under way.
    fn finish(&self, id: u64, clean: bool) {
        let mut state = self.state();
        if state.sessions.remove(&id).is_none() {
            return;
        }
        if state.phase != 0 {
            if clean {
                state.closed += 1;
            } else {
                state.ended += 1;
            }
        }
        if state.sessions.is_empty() {
            for waker in state.idle.drain(..) {
                waker.wake();
            }
        }
    }
}

impl Slot {
    fn set(&self, phase: ShutdownPhase) {
        let value = match phase {
            ShutdownPhase::Running => 0,
            ShutdownPhase::Closing => 1,
            ShutdownPhase::Forced => 2,
        };
        self.phase.fetch_max(value, Ordering::AcqRel);
        self.waker.wake();
    }
}

/// A poisoned lock still holds consistent counts (no code panics while
/// holding one): go on with it.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One session's registration with a [`Shutdown`]: the session's driver
/// holds it, looks at its phase while it is driven, and reports how the
/// session ended when it is dropped or finished.
#[derive(Debug)]
pub struct ShutdownWatch {
    handle: Shutdown,
    id: u64,
    slot: Arc<Slot>,
}

impl ShutdownWatch {
    /// The phase for this session; `cx` is woken when it changes.
    pub fn poll_phase(&self, cx: &mut Context<'_>) -> ShutdownPhase {
        let phase = ShutdownPhase::from_u8(self.slot.phase.load(Ordering::Acquire));
        if phase != ShutdownPhase::Forced {
            self.slot.waker.register(cx.waker());
        }
        // Read again: a change between the load and the registration
        // would otherwise wake nobody.
        ShutdownPhase::from_u8(self.slot.phase.load(Ordering::Acquire))
    }

    /// Aborts `task` (the session's handler) if the session is still
    /// open at the deadline.
    pub fn abort_on_force(&self, task: AbortHandle) {
        if self.slot.phase.load(Ordering::Acquire) >= 2 {
            task.abort();
        } else {
            *lock(&self.slot.abort) = Some(task);
        }
    }

    /// The session ended with `reason` (`None`: without one, e.g. dropped).
    pub fn finish(self, reason: Option<&CloseReason>) {
        let clean = matches!(reason, Some(CloseReason::Normal { .. }));
        self.handle.finish(self.id, clean);
        // `Drop` finds the slot gone and does nothing more.
    }
}

impl Drop for ShutdownWatch {
    fn drop(&mut self) {
        self.handle.finish(self.id, false);
    }
}
