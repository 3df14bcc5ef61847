//! The session without tokio: a runtime made of std threads and
//! `futures-executor`, over the in-memory pipe. This is what an adapter
//! provides; everything else is `ws-session`'s.
#![allow(clippy::disallowed_methods)] // a test runtime reads the clock and sleeps

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures_executor::{ThreadPool, block_on};
use ws_session::{
    CloseCode, CloseReason, Config, DeflateConfig, Error, Message, Runtime, Timer, duplex, pair,
};

#[derive(Debug)]
struct ThreadRuntime(ThreadPool);

#[derive(Debug)]
struct ThreadTimer {
    deadline: Instant,
    /// The deadline a sleeper thread is armed for, and the waker to call.
    armed: Arc<Mutex<(Option<Instant>, Option<Waker>)>>,
}

impl Timer for ThreadTimer {
    fn reset(mut self: Pin<&mut Self>, deadline: Instant) {
        self.deadline = deadline;
    }

    fn poll_expired(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        let mut armed = self.armed.lock().unwrap();
        armed.1 = Some(cx.waker().clone());
        if armed.0 != Some(self.deadline) {
            armed.0 = Some(self.deadline);
            let deadline = self.deadline;
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
            armed: Arc::default(),
        })
    }

    fn spawn(&self, future: Pin<Box<dyn Future<Output = ()> + Send>>) {
        self.0.spawn_ok(future);
    }
}

fn runtime() -> Arc<dyn Runtime> {
    Arc::new(ThreadRuntime(ThreadPool::new().unwrap()))
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
        let (closed, end) =
            futures_util::future::join(client.close(CloseCode::NORMAL, "bye"), server.recv()).await;
        closed.unwrap();
        assert!(end.unwrap_err().is_clean_close());
        assert!(client.close_reason().unwrap().is_clean());
    });
}

#[test]
fn split_and_heartbeat_without_tokio() {
    block_on(async {
        let (a, b) = duplex(8 * 1024);
        let (client, server) = pair(runtime(), a, b, Config::default()).await.unwrap();
        let (mut reader, mut writer) = client.split();
        writer
            .set_timeout(Duration::from_millis(100))
            .await
            .unwrap();
        writer
            .set_ping_interval(Some(Duration::from_millis(50)))
            .await
            .unwrap();
        // The server never polls its session: no pong ever comes.
        let started = Instant::now();
        let end = reader.recv().await.unwrap_err();
        assert!(
            matches!(end, Error::Closed(CloseReason::PingTimeout { .. })),
            "{end:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        drop(server);
    });
}
