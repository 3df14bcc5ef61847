//! The session without tokio: a runtime made of std threads and
//! `futures-executor`, over the in-memory pipe. This is what an adapter
//! provides; everything else is `ws-session`'s.
#![allow(clippy::disallowed_methods)] // a test runtime reads the clock and sleeps

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures_executor::{ThreadPool, block_on};
use futures_io::{AsyncRead, AsyncWrite};
use ws_session::{
    CloseCode, CloseFrame, CloseReason, Config, DeflateConfig, Error, Message, Runtime, Timer,
    duplex, pair,
};

/// Threads as the executor; timers that fire `early` before their
/// deadline by the runtime's clock (a timer whose clock rounds otherwise).
#[derive(Debug)]
struct ThreadRuntime(ThreadPool, Duration);

#[derive(Debug)]
struct ThreadTimer {
    deadline: Instant,
    early: Duration,
    /// The deadline a sleeper thread is armed for, and the waker to call.
    armed: Arc<Mutex<(Option<Instant>, Option<Waker>)>>,
}

impl Timer for ThreadTimer {
    fn reset(mut self: Pin<&mut Self>, deadline: Instant) {
        self.deadline = deadline;
    }

    fn poll_expired(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let fires_at = self
            .deadline
            .checked_sub(self.early)
            .unwrap_or(self.deadline);
        if Instant::now() >= fires_at {
            return Poll::Ready(());
        }
        let mut armed = self.armed.lock().unwrap();
        armed.1 = Some(cx.waker().clone());
        if armed.0 != Some(self.deadline) {
            armed.0 = Some(self.deadline);
            let deadline = fires_at;
            let shared = self.armed.clone();
            std::thread::spawn(move || {
                std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
                if let Some(waker) = shared.lock().unwrap().1.take() {
                    waker.wake();
                }
            });
        }
        Poll::Pending
    }
}

impl Runtime for ThreadRuntime {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn new_timer(&self, deadline: Instant) -> Pin<Box<dyn Timer>> {
        Box::pin(ThreadTimer {
            deadline,
            early: self.1,
            armed: Arc::default(),
        })
    }

    fn spawn(&self, future: Pin<Box<dyn Future<Output = ()> + Send>>) {
        self.0.spawn_ok(future);
    }
}

pub(crate) fn runtime() -> Arc<dyn Runtime> {
    runtime_with_early_timers(Duration::ZERO)
}

fn runtime_with_early_timers(early: Duration) -> Arc<dyn Runtime> {
    Arc::new(ThreadRuntime(ThreadPool::new().unwrap(), early))
}

#[test]
fn conversation_over_the_memory_pipe_without_tokio() {
    block_on(async {
        let config = Config::default().with_compression(DeflateConfig::default());
        let (a, b) = duplex(8 * 1024);
        let (mut client, mut server) = pair(runtime(), a, b, config).await.unwrap();
        client.send_text("hello hello hello").await.unwrap();
        assert_eq!(
            server.recv().await.unwrap(),
            Message::Text("hello hello hello".into())
        );
        // Larger than the pipe: both sides must make progress together.
        let big = vec![42u8; 100_000];
        let (sent, received) =
            futures_util::future::join(client.send_binary(big.clone()), server.recv()).await;
        sent.unwrap();
        assert_eq!(received.unwrap(), Message::Binary(big.into()));
        let (closed, end) = futures_util::future::join(
            client.close(CloseFrame::new(CloseCode::NORMAL, "bye")),
            server.recv(),
        )
        .await;
        closed.unwrap();
        assert!(end.unwrap_err().is_clean_close());
        assert!(client.close_reason().unwrap().is_clean());
    });
}

/// A split client whose server never polls its session (no pong ever
/// comes), with a 100 ms ping timeout and the heartbeat interval set to
/// each of `intervals_ms` in turn: how long until `recv` reports the ping
/// timeout.
fn heartbeat_ends_after(intervals_ms: &[u64]) -> Duration {
    heartbeat_ends_after_on(runtime(), intervals_ms)
}

fn heartbeat_ends_after_on(runtime: Arc<dyn Runtime>, intervals_ms: &[u64]) -> Duration {
    block_on(async {
        let (a, b) = duplex(8 * 1024);
        let (client, server) = pair(runtime, a, b, Config::default()).await.unwrap();
        let (mut writer, mut reader) = client.spawn_split();
        writer
            .set_timeout(Duration::from_millis(100))
            .await
            .unwrap();
        let started = Instant::now();
        for &ms in intervals_ms {
            writer
                .set_ping_interval(Some(Duration::from_millis(ms)))
                .await
                .unwrap();
        }
        let end = reader.recv().await.unwrap_err();
        assert!(
            matches!(end, Error::Closed(CloseReason::PingTimeout { .. })),
            "{end:?}"
        );
        drop(server);
        started.elapsed()
    })
}

#[test]
fn split_and_heartbeat_without_tokio() {
    assert!(heartbeat_ends_after(&[50]) < Duration::from_secs(5));
}

#[test]
fn a_deadline_moved_later_is_honoured_not_the_earlier_one() {
    // The driver keeps a timer armed for an earlier deadline when the
    // core's moves later (it fires early and is armed again): the heartbeat
    // must follow the later deadline, not the one the timer was armed for.
    // The ping goes out at 600 ms, its pong is due 100 ms later.
    let elapsed = heartbeat_ends_after(&[200, 600]);
    assert!(
        elapsed >= Duration::from_millis(690),
        "ended after {elapsed:?}: the first interval's deadline was taken"
    );
}

#[test]
fn a_timer_that_fires_a_little_early_is_still_heard() {
    // The driver leaves an armed timer unpolled while its deadline is far;
    // close to it, it polls again: a timer firing 2 ms before the deadline
    // by the runtime's clock still ends the wait (run in a thread, bounded:
    // a missed wake-up would hang).
    let (done, ended) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = runtime_with_early_timers(Duration::from_millis(2));
        let _ = done.send(heartbeat_ends_after_on(runtime, &[50]));
    });
    let elapsed = ended
        .recv_timeout(Duration::from_secs(20))
        .expect("the heartbeat's deadlines were missed");
    assert!(elapsed >= Duration::from_millis(140), "{elapsed:?}");
}

/// A transport that counts the writes that moved bytes.
pub(crate) struct CountingWrites {
    pub(crate) inner: ws_session::MemoryStream,
    pub(crate) writes: Arc<AtomicUsize>,
}

impl AsyncRead for CountingWrites {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for CountingWrites {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.writes.fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

/// The wire bytes of what `send` makes a client send (masked, as a client
/// must).
pub(crate) fn client_bytes(
    send: impl FnOnce(&mut ws_session::wsproto_core::Connection),
) -> Vec<u8> {
    let mut client = ws_session::wsproto_core::Connection::client(
        Config::default(),
        ws_session::wsproto_core::MaskRng::from_seed([3; 32]),
        Instant::now(),
    );
    send(&mut client);
    let mut wire = Vec::new();
    loop {
        let out = client.poll_transmit();
        if out.is_empty() {
            return wire;
        }
        let n = out.len();
        wire.extend_from_slice(out);
        client.advance_transmit(n);
    }
}

/// Everything readable from `stream` right now, parsed by a client.
pub(crate) fn server_frames(
    stream: &mut ws_session::MemoryStream,
) -> Vec<ws_session::wsproto_core::Event> {
    let mut cx = Context::from_waker(Waker::noop());
    let mut wire = vec![0u8; 64 * 1024];
    let n = match Pin::new(stream).poll_read(&mut cx, &mut wire) {
        Poll::Ready(Ok(n)) => n,
        other => panic!("nothing written: {other:?}"),
    };
    let now = Instant::now();
    let mut client = ws_session::wsproto_core::Connection::client(
        Config::default(),
        ws_session::wsproto_core::MaskRng::from_seed([4; 32]),
        now,
    );
    client.handle_data(now, &wire[..n]);
    std::iter::from_fn(|| client.poll_event()).collect()
}

fn server_session(
    io: ws_session::MemoryStream,
    writes: &Arc<AtomicUsize>,
) -> ws_session::Session<CountingWrites> {
    let conn = ws_session::wsproto_core::Connection::server(Config::default(), Instant::now());
    ws_session::Session::from_connection(
        conn,
        CountingWrites {
            inner: io,
            writes: writes.clone(),
        },
        runtime(),
    )
}

#[test]
fn pipelined_messages_answered_with_feed_message_go_out_in_one_write() {
    use ws_session::wsproto_core::Event;
    block_on(async {
        let (mut peer, io) = duplex(1 << 20);
        let writes = Arc::new(AtomicUsize::new(0));
        let mut server = server_session(io, &writes);
        let wire = client_bytes(|client| {
            for i in 0..20u8 {
                client.send_binary(vec![i; 10]).unwrap();
            }
        });
        futures_util::future::poll_fn(|cx| Pin::new(&mut peer).poll_write(cx, &wire))
            .await
            .unwrap();
        for i in 0..20u8 {
            let message = server.recv().await.unwrap();
            assert_eq!(message, Message::Binary(vec![i; 10].into()));
            server.feed_message(message).await.unwrap();
        }
        server.flush().await.unwrap();
        let echoed: Vec<_> = server_frames(&mut peer);
        let expected: Vec<_> = (0..20u8)
            .map(|i| {
                Event::Message(ws_session::wsproto_core::Message::Binary(
                    vec![i; 10].into(),
                ))
            })
            .collect();
        assert_eq!(echoed, expected);
        // One read brought the burst; its twenty answers share one write
        // (the answer to the last message used to go in a second one).
        assert_eq!(server.connection().queued_bytes(), 0);
        assert_eq!(writes.load(Ordering::Relaxed), 1);
    });
}

#[test]
fn a_pong_goes_out_with_the_message_after_its_ping() {
    use ws_session::wsproto_core::Event;
    block_on(async {
        let (mut peer, io) = duplex(1 << 20);
        let mut server = server_session(io, &Arc::default());
        let wire = client_bytes(|client| {
            client.send_ping(&b"are you there"[..]).unwrap();
            client.send_binary(&b"data"[..]).unwrap();
        });
        futures_util::future::poll_fn(|cx| Pin::new(&mut peer).poll_write(cx, &wire))
            .await
            .unwrap();
        assert_eq!(
            server.recv().await.unwrap(),
            Message::Binary((&b"data"[..]).into())
        );
        // The application has not called the session again: the pong was
        // written when the message that followed the ping was handed out.
        assert_eq!(
            server_frames(&mut peer),
            [Event::Pong((&b"are you there"[..]).into())]
        );
    });
}
