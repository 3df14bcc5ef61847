//! Sessions over a fault-injecting transport (`adversarial_tests::faults`):
//! one byte per read and per write, errors mid-frame, a reset, the end of
//! the stream in the middle of the handshake, and a peer that stops
//! reading. Over the in-memory pipe on smol's reactor (its timers are
//! real: the stalled peer is ended by the send timeout, shortened here).
#![allow(clippy::disallowed_methods)] // a test: it reads the clock

use std::io::ErrorKind;
use std::sync::Arc;
use std::time::{Duration, Instant};

use adversarial_tests::faults::{FaultHandle, Faults, FaultyStream};
use ws_session::{
    CloseCode, CloseFrame, CloseReason, Config, Error, HandshakeError, Message, Runtime, Session,
};

type Stream = FaultyStream<ws_session::MemoryStream>;

fn runtime() -> Arc<dyn Runtime> {
    Arc::new(ws_async_std::AsyncIoRuntime::new())
}

/// A client and a server session joined by an in-memory pipe, each end
/// behind its own faulty transport (no faults until the test sets some).
async fn faulty_pair(
    config: Config,
) -> (Session<Stream>, FaultHandle, Session<Stream>, FaultHandle) {
    let (a, b) = ws_session::duplex(64 << 10);
    let (a, client_faults) = FaultyStream::new(a);
    let (b, server_faults) = FaultyStream::new(b);
    let (client, server) = ws_session::pair(runtime(), a, b, config)
        .await
        .expect("the handshake");
    (client, client_faults, server, server_faults)
}

/// Expects the session's next `recv` to report the transport error
/// `kind`, and the one after it the end with 1006 semantics.
async fn expect_transport_error(ws: &mut Session<Stream>, kind: ErrorKind) {
    match ws.recv().await {
        Err(Error::Io(e)) => assert_eq!(e.kind(), kind, "{e}"),
        other => panic!("expected the transport error {kind:?}, got {other:?}"),
    }
    match ws.recv().await {
        Err(Error::Closed(CloseReason::Abnormal)) => {}
        other => panic!("expected the abnormal end, got {other:?}"),
    }
    assert_eq!(ws.close_reason(), Some(&CloseReason::Abnormal));
}

#[test]
fn one_byte_reads_and_writes_carry_every_message_and_the_close() {
    smol::block_on(async {
        let (mut client, cf, mut server, sf) = faulty_pair(Config::default()).await;
        let byte_at_a_time = Faults {
            read_chunk: Some(1),
            write_chunk: Some(1),
            ..Faults::default()
        };
        cf.set(byte_at_a_time.clone());
        sf.set(byte_at_a_time);
        let big = "é".repeat(20_000);
        let sent = [
            Message::Text("hello".into()),
            Message::Binary(vec![7u8; 70_000].into()),
            Message::Text(big.into()),
            Message::Binary(Vec::new().into()),
        ];
        let echo = async {
            for _ in 0..sent.len() {
                let message = server.recv().await.expect("server recv");
                server.send_message(message).await.expect("server send");
            }
            let end = server.recv().await;
            assert!(matches!(&end, Err(e) if e.is_clean_close()), "{end:?}");
        };
        let talk = async {
            for message in &sent {
                client.send_message(message.clone()).await.expect("send");
                assert_eq!(&client.recv().await.expect("echo"), message);
            }
            client
                .close(CloseFrame::new(CloseCode::NORMAL, "done"))
                .await
                .expect("close");
        };
        futures_util::future::join(echo, talk).await;
        assert!(client.close_reason().is_some_and(CloseReason::is_clean));
        let (read, written) = cf.counts();
        // 5 + 70 000 + 40 000 payload bytes each way, a byte at a time.
        assert!(read > 110_000 && written > 110_000, "{read} {written}");
    });
}

#[test]
fn a_read_error_mid_frame_ends_the_session_with_that_error() {
    smol::block_on(async {
        let (mut client, _cf, mut server, sf) = faulty_pair(Config::default()).await;
        // Five bytes into the next frame: its header and one payload byte.
        sf.set(Faults {
            read_error_after: Some((5, ErrorKind::ConnectionAborted)),
            ..Faults::default()
        });
        client.send_binary(vec![1u8; 100]).await.expect("send");
        expect_transport_error(&mut server, ErrorKind::ConnectionAborted).await;
    });
}

#[test]
fn a_reset_ends_the_session_as_abnormal() {
    smol::block_on(async {
        let (_client, _cf, mut server, sf) = faulty_pair(Config::default()).await;
        sf.set(Faults {
            read_error_after: Some((0, ErrorKind::ConnectionReset)),
            ..Faults::default()
        });
        expect_transport_error(&mut server, ErrorKind::ConnectionReset).await;
    });
}

#[test]
fn a_write_error_mid_frame_ends_the_session() {
    smol::block_on(async {
        let (_client, _cf, mut server, sf) = faulty_pair(Config::default()).await;
        sf.set(Faults {
            write_error_after: Some((3, ErrorKind::BrokenPipe)),
            ..Faults::default()
        });
        // Accepted into the queue; the write fails three bytes in.
        server.send_binary(vec![2u8; 1000]).await.expect("queued");
        let flushed = server.flush().await;
        assert!(
            matches!(&flushed, Err(Error::Io(e)) if e.kind() == ErrorKind::BrokenPipe),
            "{flushed:?}"
        );
        let end = server.recv().await;
        assert!(
            matches!(&end, Err(Error::Closed(CloseReason::Abnormal))),
            "{end:?}"
        );
    });
}

#[test]
fn the_end_of_the_stream_in_the_handshake_is_a_handshake_error() {
    use futures_util::AsyncWriteExt as _;
    smol::block_on(async {
        let (mut a, b) = ws_session::duplex(64 << 10);
        // The server sees 20 bytes of the request, then the end.
        let (b, _) = FaultyStream::with_faults(
            b,
            Faults {
                eof_after: Some(20),
                ..Faults::default()
            },
        );
        a.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n")
            .await
            .expect("the request's start");
        let result = ws_session::server(
            runtime(),
            b,
            Config::default(),
            ws_session::HandshakeOptions::default(),
            async |_: &_| ws_session::Decision::accept(),
        )
        .await;
        match result {
            Err(HandshakeError::UnexpectedEof(n)) => assert_eq!(n, 20),
            other => panic!("expected UnexpectedEof(20), got {:?}", other.map(|_| ())),
        }
    });
}

/// A peer that stopped reading: the server's transport takes nothing
/// more. The send queue fills, `send` waits, and the send timeout ends
/// the session with `CloseReason::SendTimeout` (shortened to 300 ms; the
/// default is 30 s, checked with a virtual clock in the core's tests).
#[test]
fn a_stalled_peer_is_ended_by_the_send_timeout() {
    const TIMEOUT: Duration = Duration::from_millis(300);
    smol::block_on(async {
        let config = Config::default()
            .with_ping_interval(None)
            .with_send_timeout(Some(TIMEOUT));
        let (_client, _cf, mut server, sf) = faulty_pair(config).await;
        sf.set(Faults {
            stall_writes_after: Some(10_000),
            ..Faults::default()
        });
        let start = Instant::now();
        let mut sent = 0usize;
        let err = loop {
            match server.send_binary(vec![3u8; 64 << 10]).await {
                Ok(()) => sent += 64 << 10,
                Err(e) => break e,
            }
            assert!(sent < 64 << 20, "send never waited");
        };
        let took = start.elapsed();
        assert!(
            matches!(&err, Error::Closed(CloseReason::SendTimeout { timeout }) if *timeout == TIMEOUT),
            "{err:?}"
        );
        assert!(took >= TIMEOUT, "{took:?}");
        assert!(took < TIMEOUT + Duration::from_secs(5), "{took:?}");
        assert!(
            sent <= 2 << 20,
            "{sent} bytes accepted: the queue is bounded"
        );
        assert_eq!(sf.counts().1, 10_000);
    });
}
