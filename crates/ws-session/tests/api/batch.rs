//! `recv_batch` and `feed_batch`: the messages of one read handed over in
//! one call, their answers queued for one write, over the in-memory pipe.
#![allow(clippy::disallowed_methods)] // the test's peers are cores told the time

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Waker};
use std::time::Instant;

use futures_executor::block_on;
use futures_io::AsyncWrite;
use ws_session::wsproto_core::{Connection, Event};
use ws_session::{Config, Error, MemoryStream, Message, Session, duplex};

use crate::neutral::{CountingWrites, client_bytes, runtime, server_frames};

fn server(io: MemoryStream, config: Config, writes: &Arc<AtomicUsize>) -> Session<CountingWrites> {
    let conn = Connection::server(config, Instant::now());
    Session::from_connection(
        conn,
        CountingWrites {
            inner: io,
            writes: writes.clone(),
        },
        runtime(),
    )
}

/// Writes `wire` into the pipe in one write (the server then reads it in
/// one read).
async fn put(peer: &mut MemoryStream, wire: &[u8]) {
    let n = futures_util::future::poll_fn(|cx| Pin::new(&mut *peer).poll_write(cx, wire))
        .await
        .unwrap();
    assert_eq!(n, wire.len());
}

fn binary(i: u8) -> Message {
    Message::Binary(vec![i; 10].into())
}

fn core_binary(i: u8) -> Event {
    Event::Message(ws_session::wsproto_core::Message::Binary(
        vec![i; 10].into(),
    ))
}

#[test]
fn one_call_takes_every_message_of_a_read_and_one_write_answers_them() {
    block_on(async {
        let (mut peer, io) = duplex(1 << 20);
        let writes = Arc::new(AtomicUsize::new(0));
        let mut server = server(io, Config::default(), &writes);
        let wire = client_bytes(|client| {
            for i in 0..20u8 {
                client.send_binary(vec![i; 10]).unwrap();
            }
        });
        put(&mut peer, &wire).await;
        let mut batch = VecDeque::new();
        assert_eq!(server.recv_batch(&mut batch, 64).await.unwrap(), 20);
        assert_eq!(batch, (0..20).map(binary).collect::<VecDeque<_>>());
        server.feed_batch(&mut batch).await.unwrap();
        assert!(batch.is_empty());
        // Fed, not written yet.
        assert_eq!(writes.load(Ordering::Relaxed), 0);
        server.flush().await.unwrap();
        assert_eq!(
            server_frames(&mut peer),
            (0..20).map(core_binary).collect::<Vec<_>>()
        );
        assert_eq!(writes.load(Ordering::Relaxed), 1);
    });
}

#[test]
fn a_batch_stops_at_max_and_the_rest_waits_for_the_next_call() {
    block_on(async {
        let (mut peer, io) = duplex(1 << 20);
        let mut server = server(io, Config::default(), &Arc::default());
        let wire = client_bytes(|client| {
            for i in 0..20u8 {
                client.send_binary(vec![i; 10]).unwrap();
            }
        });
        put(&mut peer, &wire).await;
        let mut batch = VecDeque::new();
        let mut sizes = Vec::new();
        while batch.len() < 20 {
            sizes.push(server.recv_batch(&mut batch, 8).await.unwrap());
        }
        assert_eq!(sizes, [8, 8, 4]);
        assert_eq!(batch, (0..20).map(binary).collect::<VecDeque<_>>());
        // A max of 0 still waits for and takes one (as `recv` would).
        put(
            &mut peer,
            &client_bytes(|c| c.send_binary(vec![7u8; 10]).unwrap()),
        )
        .await;
        batch.clear();
        assert_eq!(server.recv_batch(&mut batch, 0).await.unwrap(), 1);
        assert_eq!(batch, [binary(7)]);
    });
}

#[test]
fn pings_in_a_batch_are_answered_and_skipped() {
    block_on(async {
        let (mut peer, io) = duplex(1 << 20);
        let mut server = server(io, Config::default(), &Arc::default());
        let wire = client_bytes(|client| {
            client.send_binary(vec![1u8; 10]).unwrap();
            client.send_ping(&b"are you there"[..]).unwrap();
            client.send_binary(vec![2u8; 10]).unwrap();
        });
        put(&mut peer, &wire).await;
        let mut batch = VecDeque::new();
        assert_eq!(server.recv_batch(&mut batch, 64).await.unwrap(), 2);
        assert_eq!(batch, [binary(1), binary(2)]);
        // The input is used up: the pong went out before the call returned.
        assert_eq!(
            server_frames(&mut peer),
            [Event::Pong((&b"are you there"[..]).into())]
        );
    });
}

#[test]
fn a_streamed_message_ends_the_batch_and_is_reported_as_recv_reports_it() {
    block_on(async {
        let (mut peer, io) = duplex(1 << 20);
        let config = Config::default().with_stream_threshold(Some(100));
        let mut server = server(io, config, &Arc::default());
        let wire = client_bytes(|client| {
            client.send_binary(vec![1u8; 10]).unwrap();
            client.send_binary(vec![2u8; 300]).unwrap();
            client.send_binary(vec![3u8; 10]).unwrap();
        });
        put(&mut peer, &wire).await;
        let mut batch = VecDeque::new();
        assert_eq!(server.recv_batch(&mut batch, 64).await.unwrap(), 1);
        assert_eq!(batch, [binary(1)]);
        assert!(matches!(
            server.recv_batch(&mut batch, 64).await,
            Err(Error::Streaming)
        ));
        assert_eq!(batch.len(), 1);
        // The chunk is still there for `recv_event`.
        match server.recv_event().await.unwrap() {
            ws_session::Event::Chunk(chunk) => {
                assert!(chunk.first && chunk.fin);
                assert_eq!(chunk.data, vec![2u8; 300]);
            }
            other => panic!("expected the streamed chunk, got {other:?}"),
        }
        batch.clear();
        assert_eq!(server.recv_batch(&mut batch, 64).await.unwrap(), 1);
        assert_eq!(batch, [binary(3)]);
    });
}

#[test]
fn messages_before_the_peers_close_are_delivered_then_the_end() {
    block_on(async {
        let (mut peer, io) = duplex(1 << 20);
        let mut server = server(io, Config::default(), &Arc::default());
        let wire = client_bytes(|client| {
            client.send_binary(vec![1u8; 10]).unwrap();
            client.send_binary(vec![2u8; 10]).unwrap();
            client
                .close(Instant::now(), ws_session::CloseCode::NORMAL, "bye")
                .unwrap();
        });
        put(&mut peer, &wire).await;
        let mut batch = VecDeque::new();
        assert_eq!(server.recv_batch(&mut batch, 64).await.unwrap(), 2);
        // Answers to messages the peer sent before its Close are refused:
        // our Close (the echo of the peer's) is queued already.
        assert!(server.feed_batch(&mut batch).await.is_err());
        drop(peer);
        let end = server.recv_batch(&mut batch, 64).await.unwrap_err();
        assert!(end.is_clean_close(), "{end:?}");
    });
}

#[test]
fn a_dropped_feed_batch_leaves_exactly_the_messages_not_queued() {
    block_on(async {
        // A pipe that takes 64 bytes and a send queue of 100: the batch
        // cannot be queued at once.
        let (mut peer, io) = duplex(64);
        let config = Config::default().with_send_queue_limit(100);
        let mut server = server(io, config, &Arc::default());
        let mut batch: VecDeque<Message> = (0..10)
            .map(|i| Message::Binary(vec![i; 50].into()))
            .collect();
        {
            let future = server.feed_batch(&mut batch);
            let mut future = std::pin::pin!(future);
            let mut cx = Context::from_waker(Waker::noop());
            assert!(future.as_mut().poll(&mut cx).is_pending());
        }
        let left = batch.len();
        assert!(left > 0 && left < 10, "{left} left");
        // The rest, then everything read back: each message exactly once,
        // in order.
        let reader = async {
            let mut seen = Vec::new();
            let mut client = Connection::client(
                Config::default(),
                ws_session::wsproto_core::MaskRng::from_seed([5; 32]),
                Instant::now(),
            );
            let mut buf = [0u8; 256];
            while seen.len() < 10 {
                let n = futures_util::AsyncReadExt::read(&mut peer, &mut buf)
                    .await
                    .unwrap();
                client.handle_data(Instant::now(), &buf[..n]);
                seen.extend(std::iter::from_fn(|| client.poll_event()));
            }
            seen
        };
        let sender = async {
            server.feed_batch(&mut batch).await.unwrap();
            server.flush().await.unwrap();
        };
        let (seen, ()) = futures_util::future::join(reader, sender).await;
        let expected: Vec<_> = (0..10u8)
            .map(|i| {
                Event::Message(ws_session::wsproto_core::Message::Binary(
                    vec![i; 50].into(),
                ))
            })
            .collect();
        assert_eq!(seen, expected);
        assert!(batch.is_empty());
    });
}
