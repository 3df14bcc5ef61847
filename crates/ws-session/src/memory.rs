//! An in-memory, runtime-neutral byte pipe for tests ([`duplex`]): two
//! connected `futures-io` streams with a bounded buffer each way.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use futures_io::{AsyncRead, AsyncWrite};

#[derive(Debug, Default)]
struct Buffer {
    data: VecDeque<u8>,
    capacity: usize,
    /// The writing end closed (EOF for the reader once drained).
    closed: bool,
    /// The reading end was dropped (writes fail).
    reader_gone: bool,
    read_waker: Option<Waker>,
    write_waker: Option<Waker>,
}

type Shared = Arc<Mutex<Buffer>>;

/// One end of an in-memory pipe; see [`duplex`].
#[derive(Debug)]
pub struct MemoryStream {
    incoming: Shared,
    outgoing: Shared,
}

/// Two connected in-memory streams; each direction buffers at most
/// `capacity` bytes (writes wait beyond that). Works under any executor.
#[must_use]
pub fn duplex(capacity: usize) -> (MemoryStream, MemoryStream) {
    let new = || {
        Arc::new(Mutex::new(Buffer {
            capacity: capacity.max(1),
            ..Buffer::default()
        }))
    };
    let (a_to_b, b_to_a) = (new(), new());
    (
        MemoryStream {
            incoming: b_to_a.clone(),
            outgoing: a_to_b.clone(),
        },
        MemoryStream {
            incoming: a_to_b,
            outgoing: b_to_a,
        },
    )
}

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Buffer> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

impl AsyncRead for MemoryStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut pipe = lock(&self.incoming);
        if pipe.data.is_empty() {
            if pipe.closed {
                return Poll::Ready(Ok(0));
            }
            pipe.read_waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = buf.len().min(pipe.data.len());
        for (dst, src) in buf.iter_mut().zip(pipe.data.drain(..n)) {
            *dst = src;
        }
        if let Some(waker) = pipe.write_waker.take() {
            waker.wake();
        }
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for MemoryStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut pipe = lock(&self.outgoing);
        if pipe.closed || pipe.reader_gone {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let room = pipe.capacity - pipe.data.len();
        if room == 0 {
            pipe.write_waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = room.min(buf.len());
        pipe.data.extend(&buf[..n]);
        if let Some(waker) = pipe.read_waker.take() {
            waker.wake();
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut pipe = lock(&self.outgoing);
        pipe.closed = true;
        if let Some(waker) = pipe.read_waker.take() {
            waker.wake();
        }
        Poll::Ready(Ok(()))
    }
}

impl Drop for MemoryStream {
    fn drop(&mut self) {
        let mut out = lock(&self.outgoing);
        out.closed = true;
        if let Some(waker) = out.read_waker.take() {
            waker.wake();
        }
        drop(out);
        let mut inc = lock(&self.incoming);
        inc.reader_gone = true;
        if let Some(waker) = inc.write_waker.take() {
            waker.wake();
        }
    }
}
