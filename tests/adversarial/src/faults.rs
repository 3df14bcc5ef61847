//! A fault-injecting transport for sessions: wraps any `futures-io`
//! stream and, on the test's command, reads or writes a few bytes at a
//! time, fails a read or a write after so many more bytes, ends the
//! stream early, or stops taking writes altogether (a peer that stopped
//! reading). Self-contained (it needs only `futures-io`), so that it can
//! move into a shared test-support crate as it is.
//!
//! ```text
//!  Session ──► FaultyStream ──► inner stream (ws_session::duplex, TCP, …)
//!                  ▲
//!            FaultHandle::set(Faults { … })   (from the test, at any time)
//! ```

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

/// What a [`FaultyStream`] does to the bytes passing through it, counted
/// from the moment the faults are set.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Reads hand over at most this many bytes (1: a byte at a time).
    pub read_chunk: Option<usize>,
    /// Writes take at most this many bytes.
    pub write_chunk: Option<usize>,
    /// After this many more bytes read, every read fails with this error.
    pub read_error_after: Option<(usize, io::ErrorKind)>,
    /// After this many more bytes read, the stream ends (EOF).
    pub eof_after: Option<usize>,
    /// After this many more bytes written, every write fails.
    pub write_error_after: Option<(usize, io::ErrorKind)>,
    /// After this many more bytes written, writes take nothing and never
    /// wake the writer: a peer that stopped reading, whose socket buffer
    /// is full.
    pub stall_writes_after: Option<usize>,
}

#[derive(Debug, Default)]
struct State {
    faults: Faults,
    read: usize,
    written: usize,
}

/// Changes the faults of a [`FaultyStream`] while it is in use.
#[derive(Debug, Clone)]
pub struct FaultHandle(Arc<Mutex<State>>);

impl FaultHandle {
    /// Replaces the faults; byte counts start again from zero.
    pub fn set(&self, faults: Faults) {
        let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *state = State {
            faults,
            read: 0,
            written: 0,
        };
    }

    /// Bytes read and written since the faults were last set.
    #[must_use]
    pub fn counts(&self) -> (usize, usize) {
        let state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        (state.read, state.written)
    }
}

/// A stream with faults injected; see the module docs.
#[derive(Debug)]
pub struct FaultyStream<S> {
    inner: S,
    state: Arc<Mutex<State>>,
}

impl<S> FaultyStream<S> {
    /// Wraps `inner` with no faults yet, and the handle that sets them.
    pub fn new(inner: S) -> (Self, FaultHandle) {
        let state = Arc::new(Mutex::new(State::default()));
        let handle = FaultHandle(state.clone());
        (FaultyStream { inner, state }, handle)
    }

    /// Wraps `inner` with `faults` from the start (a handshake included).
    pub fn with_faults(inner: S, faults: Faults) -> (Self, FaultHandle) {
        let (stream, handle) = Self::new(inner);
        handle.set(faults);
        (stream, handle)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// How many of `want` bytes may pass, given `done` so far and a fault at
/// `at` (`Err` once there).
fn allowance(
    want: usize,
    chunk: Option<usize>,
    done: usize,
    at: Option<usize>,
) -> Result<usize, ()> {
    let mut n = want.min(chunk.unwrap_or(usize::MAX).max(1));
    if let Some(at) = at {
        if done >= at {
            return Err(());
        }
        n = n.min(at - done);
    }
    Ok(n)
}

impl<S: AsyncRead + Unpin> AsyncRead for FaultyStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let (limit, error_kind) = {
            let state = this.state();
            let f = &state.faults;
            if f.eof_after.is_some_and(|at| state.read >= at) {
                return Poll::Ready(Ok(0));
            }
            let error = f.read_error_after;
            let end = [error.map(|(at, _)| at), f.eof_after]
                .into_iter()
                .flatten()
                .min();
            match allowance(buf.len(), f.read_chunk, state.read, end) {
                Ok(n) => (n, None),
                Err(()) => (0, error.map(|(_, kind)| kind)),
            }
        };
        if let Some(kind) = error_kind {
            return Poll::Ready(Err(kind.into()));
        }
        let result = Pin::new(&mut this.inner).poll_read(cx, &mut buf[..limit]);
        if let Poll::Ready(Ok(n)) = result {
            this.state().read += n;
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for FaultyStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let limit = {
            let state = this.state();
            let f = &state.faults;
            if f.stall_writes_after.is_some_and(|at| state.written >= at) {
                // Never woken: only the session's own timers end the wait.
                return Poll::Pending;
            }
            let error = f.write_error_after;
            let end = [error.map(|(at, _)| at), f.stall_writes_after]
                .into_iter()
                .flatten()
                .min();
            let Ok(n) = allowance(buf.len(), f.write_chunk, state.written, end) else {
                let kind = error.map_or(io::ErrorKind::Other, |(_, kind)| kind);
                return Poll::Ready(Err(kind.into()));
            };
            n
        };
        let result = Pin::new(&mut this.inner).poll_write(cx, &buf[..limit]);
        if let Poll::Ready(Ok(n)) = result {
            this.state().written += n;
        }
        result
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_close(cx)
    }
}
