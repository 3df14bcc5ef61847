//! A topic with 1,000 in-memory subscribers, one of which never reads:
//! every other subscriber gets every message in order, the stalled one
//! takes a bounded number of messages (its buffers' worth) and is handled
//! by the hub's policy: skipped and counted (`Drop`), or closed with 1013
//! (`Close`). No tokio: a thread-pool runtime without timers.
#![allow(clippy::disallowed_methods)] // a test runtime reads the clock

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use futures_executor::{ThreadPool, block_on};
use ws_session::broadcast::{Hub, Member, SlowPolicy};
use ws_session::wsproto_core::PreparedMessage;
use ws_session::{CloseCode, Config, Error, Message, Runtime, Timer, duplex, pair};

/// Spawns on a thread pool; nothing here needs a timer to fire.
#[derive(Debug)]
struct PoolRuntime(ThreadPool);

#[derive(Debug)]
struct Never;

impl Timer for Never {
    fn reset(self: Pin<&mut Self>, _: Instant) {}
    fn poll_expired(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

impl Runtime for PoolRuntime {
    fn now(&self) -> Instant {
        Instant::now()
    }
    fn new_timer(&self, _: Instant) -> Pin<Box<dyn Timer>> {
        Box::pin(Never)
    }
    fn spawn(&self, task: Pin<Box<dyn Future<Output = ()> + Send>>) {
        self.0.spawn_ok(task);
    }
}

const SUBSCRIBERS: usize = 1000;
/// Messages published between two waits for the live subscribers: fewer
/// than a session's command channel holds, so a live subscriber is never
/// full however far its driver task lags.
const PER_ROUND: usize = 16;
const ROUNDS: usize = 12;
const SIZE: usize = 512;

/// Messages received by all live subscribers together.
#[derive(Default)]
struct Progress {
    count: Mutex<usize>,
    changed: Condvar,
}

impl Progress {
    fn add(&self) {
        *self.count.lock().unwrap() += 1;
        self.changed.notify_all();
    }

    fn wait_for(&self, target: usize) {
        let mut count = self.count.lock().unwrap();
        while *count < target {
            count = self.changed.wait(count).unwrap();
        }
    }
}

fn message(n: usize) -> PreparedMessage {
    let mut text = format!("{n:06}:");
    text.extend(std::iter::repeat_n('x', SIZE - text.len()));
    PreparedMessage::text(text)
}

fn number(message: &Message) -> usize {
    let Message::Text(text) = message else {
        panic!("binary message")
    };
    text[..6].parse().unwrap()
}

fn run(policy: SlowPolicy) {
    let pool = ThreadPool::builder().pool_size(2).create().unwrap();
    let runtime: Arc<dyn Runtime> = Arc::new(PoolRuntime(pool.clone()));
    // Small bounds, so the stalled subscriber fills them quickly. The
    // timers of this runtime never fire but its clock is real: a run
    // slower than the send timeout (a debug build on a loaded machine)
    // would end the stalled session at its next poll and drop what it
    // took, which this test reads at the end. Timeouts are not what it
    // tests (the core's own tests do), so they are off.
    let config = Arc::new(
        Config::default()
            .with_send_queue_limit(4096)
            .with_send_timeout(None)
            .with_ping_interval(None)
            .with_message_timeout(None),
    );
    let hub = Hub::new(policy);
    let progress = Arc::new(Progress::default());
    let total = PER_ROUND * ROUNDS;
    let mut members: Vec<Member> = Vec::new();
    let mut stalled = None;
    let mut readers = Vec::new();
    for index in 0..SUBSCRIBERS {
        let (a, b) = duplex(4096);
        let (client, server) =
            block_on(pair(runtime.clone(), a, b, config.clone())).expect("handshake");
        let (writer, reader) = server.spawn_split_with_capacity(64);
        readers.push(reader); // kept, so incoming data is not discarded
        let member = hub.join(writer);
        assert!(member.subscribe("prices"));
        members.push(member);
        if index == 0 {
            stalled = Some(client);
            continue;
        }
        let progress = progress.clone();
        let mut client = client;
        pool.spawn_ok(async move {
            for want in 0..total {
                let got = client.recv().await.expect("a live subscriber's message");
                assert_eq!(number(&got), want, "in order, none missing");
                progress.add();
            }
        });
    }
    assert_eq!(hub.subscribers("prices"), SUBSCRIBERS);
    for round in 0..ROUNDS {
        for i in 0..PER_ROUND {
            hub.publish("prices", message(round * PER_ROUND + i));
        }
        // The live subscribers keep up; the publisher never waits for the
        // stalled one.
        progress.wait_for((SUBSCRIBERS - 1) * (round + 1) * PER_ROUND);
    }
    let stats = hub.stats();
    let slow = &members[0];
    // What the stalled one took is bounded by its buffers (channel of 64,
    // 4 KiB send queue, 4 KiB pipe), not by what was published.
    let bound = 64 + 2 + 2 * 4096 / SIZE + 2;
    assert!(
        slow.delivered() as usize <= bound,
        "stalled subscriber took {} messages (bound {bound})",
        slow.delivered()
    );
    assert!(members[1..].iter().all(|m| m.delivered() as usize == total));
    let mut stalled = stalled.unwrap();
    match policy {
        SlowPolicy::Drop => {
            assert_eq!(slow.delivered() + slow.dropped(), total as u64);
            assert!(slow.dropped() > 0);
            assert_eq!(stats.dropped, slow.dropped());
            assert_eq!(hub.subscribers("prices"), SUBSCRIBERS);
            // What it took is all there, in order, when it reads at last.
            let taken = slow.delivered() as usize;
            let mut last = None;
            for _ in 0..taken {
                let n = number(&block_on(stalled.recv()).unwrap());
                assert!(last < Some(n));
                last = Some(n);
            }
        }
        SlowPolicy::Close(code) => {
            assert_eq!(slow.dropped(), 0);
            assert!(slow.is_gone());
            assert_eq!(stats.closed, 1);
            assert_eq!(hub.subscribers("prices"), SUBSCRIBERS - 1);
            // Reading at last: the messages it took, then the Close.
            let taken = slow.delivered() as usize;
            let end = loop {
                match block_on(stalled.recv()) {
                    Ok(message) => assert!(number(&message) < taken),
                    Err(end) => break end,
                }
            };
            let Error::Closed(reason) = end else {
                panic!("{end:?}")
            };
            assert_eq!(reason.code(), code, "{reason:?}");
        }
        _ => unreachable!(),
    }
    drop(members);
    assert_eq!(hub.stats().members, 0, "every member left");
    drop(readers);
}

#[test]
fn a_stalled_subscriber_is_dropped_from_and_the_others_get_everything() {
    run(SlowPolicy::Drop);
}

#[test]
fn a_stalled_subscriber_is_closed_with_1013_and_the_others_get_everything() {
    run(SlowPolicy::Close(CloseCode::TRY_AGAIN_LATER));
}

#[test]
fn prepared_messages_go_through_a_session_and_a_write_half() {
    let pool = ThreadPool::builder().pool_size(1).create().unwrap();
    let runtime: Arc<dyn Runtime> = Arc::new(PoolRuntime(pool));
    let config = Config::default().with_compression(ws_session::DeflateConfig::default());
    block_on(async {
        let (a, b) = duplex(4096);
        let (mut client, mut server) = pair(runtime, a, b, config).await.unwrap();
        let hello = PreparedMessage::text("hello, prepared");
        server.send_prepared(&hello).await.unwrap();
        assert_eq!(client.recv().await.unwrap(), hello.message().clone().into());
        let (mut writer, _reader) = server.spawn_split();
        writer.send_prepared(&hello).await.unwrap();
        writer.try_send_prepared(&hello).unwrap();
        assert_eq!(client.recv().await.unwrap(), hello.message().clone().into());
        assert_eq!(client.recv().await.unwrap(), hello.message().clone().into());
        writer.close_soon(CloseCode::POLICY_VIOLATION, "bye");
        let Err(Error::Closed(reason)) = client.recv().await else {
            panic!("closed")
        };
        assert_eq!(reason.code(), CloseCode::POLICY_VIOLATION);
        assert!(writer.try_send_prepared(&hello).is_err());
    });
}
