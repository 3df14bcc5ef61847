//! The session API over loopback TCP: messages, frames, Stream/Sink,
//! close, terminate, drop, conversion, the in-memory pair, raw mode,
//! cancellation.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt as _};
use ws_session::{
    CloseCode, CloseFrame, CloseReason, Config, DeflateConfig, Error, Event, Frame, Message, Mode,
    OpCode,
};

use crate::{Rt, ServerOptions, accept, connect, connect_config, echo_server};

/// Scenario (see the module docs).
pub async fn echo_text_and_binary_then_clean_close<R: Rt>() {
    let url = echo_server::<R>(ServerOptions::default()).await;
    let (mut ws, response) = connect::<R>(&format!("{url}/echo")).await.unwrap();
    assert_eq!(response.status(), 101);
    ws.send_text("hello").await.unwrap();
    ws.send_binary(vec![1u8, 2, 3]).await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), Message::Text("hello".into()));
    assert_eq!(
        ws.recv().await.unwrap(),
        Message::Binary(vec![1u8, 2, 3].into())
    );
    ws.close(CloseFrame::new(CloseCode::NORMAL, "bye"))
        .await
        .unwrap();
    let reason = ws.close_reason().unwrap();
    assert!(reason.is_clean(), "{}: {reason}", R::NAME);
    // Every later call reports the end.
    assert!(ws.recv().await.unwrap_err().is_clean_close());
    assert!(matches!(ws.send_text("late").await, Err(Error::Closed(_))));
}

/// Scenario (see the module docs).
pub async fn deflate_is_negotiated_and_large_messages_round_trip<R: Rt>() {
    // 4 MB: over the 1 MiB default limits, raised as a deployment that
    // expects such messages would (both of them: compressed messages are
    // also bounded by the inflation cap).
    let config = Config::default()
        .with_compression(DeflateConfig::default())
        .with_max_message_size(8 << 20)
        .with_max_inflated_size(8 << 20);
    let url = echo_server::<R>(ServerOptions::with_config(config.clone())).await;
    let (mut ws, response) = connect_config::<R>(&url, config).await.unwrap();
    assert_eq!(response.extensions(), ["permessage-deflate"]);
    let big: String = "all work and no play ".repeat(200_000);
    ws.send_text(big.clone()).await.unwrap();
    let echoed = ws.recv().await.unwrap();
    assert_eq!(echoed.as_payload(), big.as_bytes());
    ws.close(None).await.unwrap();
}

/// Scenario (see the module docs).
pub async fn message_sent_before_close_is_delivered_first<R: Rt>() {
    let (listener, url) = R::listen().await;
    let server = R::spawn(async move {
        let tcp = R::accept_tcp(&listener).await;
        let mut ws = accept::<R>(tcp, Config::default()).await.unwrap();
        let mut got = Vec::new();
        let end = loop {
            match ws.recv().await {
                Ok(m) => got.push(m),
                Err(e) => break e,
            }
        };
        (got, end)
    });
    let (mut ws, _) = connect::<R>(&url).await.unwrap();
    for i in 0..100 {
        ws.send_text(format!("m{i}")).await.unwrap();
    }
    ws.close(CloseFrame::new(CloseCode::NORMAL, "done"))
        .await
        .unwrap();
    let (got, end) = server.await;
    let expected: Vec<Message> = (0..100)
        .map(|i| Message::Text(format!("m{i}").into()))
        .collect();
    assert_eq!(got, expected);
    match end {
        Error::Closed(CloseReason::Normal { frame, .. }) => {
            let frame = frame.unwrap();
            assert_eq!(frame.code, CloseCode::NORMAL);
            assert_eq!(frame.reason, "done");
        }
        other => panic!("unexpected end {other:?}"),
    }
}

/// Scenario (see the module docs).
pub async fn stream_and_sink<R: Rt>() {
    let url = echo_server::<R>(ServerOptions::default()).await;
    let (mut ws, _) = connect::<R>(&url).await.unwrap();
    let messages: Vec<Message> = (0..50)
        .map(|i| Message::Text(format!("{i}").into()))
        .collect();
    let mut outgoing = futures_util::stream::iter(messages.clone().into_iter().map(Ok));
    ws.send_all(&mut outgoing).await.unwrap();
    let mut received = Vec::new();
    while received.len() < 50 {
        received.push(ws.next().await.unwrap().unwrap());
    }
    assert_eq!(received, messages);
    // Sink::close runs the close handshake; the Stream then shows the
    // peer's answering Close, and ends.
    SinkExt::close(&mut ws).await.unwrap();
    assert_eq!(
        ws.next().await.unwrap().unwrap(),
        Message::Close(Some(CloseFrame::new(CloseCode::NORMAL, "")))
    );
    assert!(ws.next().await.is_none());
    assert!(ws.close_reason().unwrap().is_clean());
}

/// Scenario (see the module docs).
pub async fn frames_pings_and_pongs_in_default_mode<R: Rt>() {
    let url = echo_server::<R>(ServerOptions::default()).await;
    let (mut ws, _) = connect::<R>(&url).await.unwrap();
    ws.send_frame(Frame::new(OpCode::Ping, &b"are you there"[..]))
        .await
        .unwrap();
    ws.send_frame(Frame::new(OpCode::Text, &b"framed"[..]))
        .await
        .unwrap();
    assert_eq!(
        ws.recv_event().await.unwrap(),
        Event::Pong((&b"are you there"[..]).into())
    );
    assert_eq!(
        ws.recv_event().await.unwrap(),
        Event::Message(Message::Text("framed".into()))
    );
    // A fragment cannot be sent as a message in default mode.
    let fragment = Frame::new(OpCode::Text, &b"x"[..]).with_fin(false);
    assert!(matches!(ws.send_frame(fragment).await, Err(Error::Send(_))));
    ws.close(CloseFrame::new(CloseCode::GOING_AWAY, ""))
        .await
        .unwrap();
    assert_eq!(
        ws.close_reason().unwrap().code(),
        CloseCode::GOING_AWAY,
        "{}",
        R::NAME
    );
}

/// Scenario (see the module docs).
pub async fn terminate_ends_without_handshake_and_peer_sees_1006<R: Rt>() {
    let (listener, url) = R::listen().await;
    let server = R::spawn(async move {
        let tcp = R::accept_tcp(&listener).await;
        let mut ws = accept::<R>(tcp, Config::default()).await.unwrap();
        let end = ws.recv().await.unwrap_err();
        (end, ws.close_reason().cloned())
    });
    let (mut ws, _) = connect::<R>(&url).await.unwrap();
    ws.terminate().await;
    assert_eq!(ws.close_reason(), Some(&CloseReason::Terminated));
    let (end, reason) = server.await;
    assert!(
        matches!(end, Error::Closed(CloseReason::Abnormal) | Error::Io(_)),
        "{end:?}"
    );
    assert_eq!(reason, Some(CloseReason::Abnormal));
}

/// Scenario (see the module docs).
pub async fn peer_vanishing_is_abnormal_not_a_hang<R: Rt>() {
    let (listener, url) = R::listen().await;
    R::spawn_detached(async move {
        let tcp = R::accept_tcp(&listener).await;
        let mut ws = accept::<R>(tcp, Config::default()).await.unwrap();
        // Closes the TCP connection without a Close frame.
        ws.terminate().await;
    });
    let (mut ws, _) = connect::<R>(&url).await.unwrap();
    let end = ws.recv().await.unwrap_err();
    assert!(
        matches!(end, Error::Closed(CloseReason::Abnormal) | Error::Io(_)),
        "{end:?}"
    );
    assert_eq!(ws.close_reason().unwrap().code(), CloseCode::ABNORMAL);
    assert!(matches!(
        ws.recv().await,
        Err(Error::Closed(CloseReason::Abnormal))
    ));
}

/// Scenario (see the module docs).
pub async fn dropping_a_session_says_going_away<R: Rt>() {
    let (listener, url) = R::listen().await;
    R::spawn_detached(async move {
        let tcp = R::accept_tcp(&listener).await;
        let ws = accept::<R>(tcp, Config::default()).await.unwrap();
        drop(ws);
    });
    let (mut ws, _) = connect::<R>(&url).await.unwrap();
    let end = ws.recv().await.unwrap_err();
    match end {
        Error::Closed(CloseReason::Normal { frame, .. }) => {
            assert_eq!(frame.unwrap().code, CloseCode::GOING_AWAY);
        }
        other => panic!("{}: expected a Close 1001, got {other:?}", R::NAME),
    }
}

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Point {
    x: i32,
    y: i32,
}

/// Scenario (see the module docs).
pub async fn content_conversion_and_bad_values_keep_the_session<R: Rt>() {
    let (mut client, mut server) = R::pair(Config::default()).await.unwrap();
    client
        .send_serialized(&Point { x: 1, y: -2 })
        .await
        .unwrap();
    client.send_text("not json").await.unwrap();
    client.send_serialized(&Point { x: 3, y: 4 }).await.unwrap();
    let p: Point = server.receive_deserialized().await.unwrap();
    assert_eq!(p, Point { x: 1, y: -2 });
    match server.receive_deserialized::<Point>().await {
        Err(Error::Convert { message, .. }) => {
            assert_eq!(message, Message::Text("not json".into()));
        }
        other => panic!("expected a conversion error, got {other:?}"),
    }
    let p: Point = server.receive_deserialized().await.unwrap();
    assert_eq!(p, Point { x: 3, y: 4 });
    let (closed, end) = futures_util::future::join(client.close(None), server.recv()).await;
    closed.unwrap();
    assert!(end.unwrap_err().is_clean_close());
}

/// Scenario (see the module docs).
pub async fn in_memory_pair_with_compression<R: Rt>() {
    let config = Config::default().with_compression(DeflateConfig::default());
    let (mut client, mut server) = R::pair(config).await.unwrap();
    assert_eq!(
        client.connection().extension_names().collect::<Vec<_>>(),
        ["permessage-deflate"]
    );
    client.send_text("ping ping ping ping").await.unwrap();
    assert_eq!(
        server.recv().await.unwrap(),
        Message::Text("ping ping ping ping".into())
    );
    server.send_binary(vec![9u8; 1000]).await.unwrap();
    assert_eq!(
        client.recv().await.unwrap(),
        Message::Binary(vec![9u8; 1000].into())
    );
    let (closed, received) = futures_util::future::join(
        client.close(CloseFrame::new(CloseCode::NORMAL, "end")),
        server.recv(),
    )
    .await;
    closed.unwrap();
    assert!(received.unwrap_err().is_clean_close());
    assert!(client.close_reason().unwrap().is_clean());
}

/// Scenario (see the module docs).
pub async fn raw_session_sees_frames_as_they_are<R: Rt>() {
    let raw = Config::default().with_mode(Mode::Raw);
    // A raw client against a default server.
    let (listener, url) = R::listen().await;
    let server = R::spawn(async move {
        let tcp = R::accept_tcp(&listener).await;
        let mut ws = accept::<R>(tcp, Config::default()).await.unwrap();
        ws.send_ping(&b"p1"[..]).await.unwrap();
        let mut events = Vec::new();
        loop {
            match ws.recv_event().await {
                Ok(event) => events.push(event),
                Err(e) => return (events, e),
            }
        }
    });
    let (mut ws, _) = connect_config::<R>(&url, raw).await.unwrap();
    let ping = ws.recv_frame().await.unwrap();
    assert_eq!((ping.opcode, &ping.payload[..]), (OpCode::Ping, &b"p1"[..]));
    // Nothing automatic: we answer ourselves, and send a fragmented message.
    ws.send_frame(Frame::new(OpCode::Pong, &b"p1"[..]))
        .await
        .unwrap();
    ws.send_frame(Frame::new(OpCode::Text, &b"frag"[..]).with_fin(false))
        .await
        .unwrap();
    ws.send_frame(Frame::new(OpCode::Continuation, &b"ment"[..]))
        .await
        .unwrap();
    ws.close(CloseFrame::new(CloseCode::NORMAL, "raw bye"))
        .await
        .unwrap();
    let (events, end) = server.await;
    assert_eq!(events[0], Event::Pong((&b"p1"[..]).into()));
    assert_eq!(events[1], Event::Message(Message::Text("fragment".into())));
    assert!(end.is_clean_close(), "{end:?}");
}

/// Scenario (see the module docs): a raw session answers the peer's Close
/// itself, with `send(Frame)` or with `close()`, although the Close has
/// already arrived (the session used to refuse both).
pub async fn raw_session_answers_the_peers_close_itself<R: Rt>() {
    let raw = Config::default().with_mode(Mode::Raw);
    for answer_with_frame in [true, false] {
        let (mut client, mut server) = R::pair(raw.clone()).await.unwrap();
        let server_side = R::spawn(async move {
            server
                .close(CloseFrame::new(CloseCode(4000), "done"))
                .await
                .unwrap();
            server.close_reason().cloned()
        });
        let close = client.recv_frame().await.unwrap();
        assert_eq!(close.opcode, OpCode::Close);
        if answer_with_frame {
            client.send_frame(close).await.unwrap();
            // Nothing may follow our Close.
            assert!(matches!(
                client.send_frame(Frame::new(OpCode::Text, "late")).await,
                Err(Error::Send(_) | Error::Closed(_))
            ));
            assert!(client.recv_frame().await.unwrap_err().is_clean_close());
        } else {
            client
                .close(CloseFrame::new(CloseCode(4000), ""))
                .await
                .unwrap();
        }
        assert!(client.close_reason().unwrap().is_clean());
        let server_end = server_side.await.unwrap();
        assert!(server_end.is_clean(), "{server_end:?}");
    }
}

/// Scenario (see the module docs).
pub async fn heartbeat_pings_are_answered_while_the_peer_only_receives<R: Rt>() {
    let (mut client, mut server) = R::pair(Config::default()).await.unwrap();
    client.set_ping_interval(Some(Duration::from_millis(20)));
    client.set_timeout(Duration::from_secs(5));
    // The server answers the heartbeat pings while it waits for a message.
    let server_side = R::spawn(async move {
        let message = server.recv().await.unwrap();
        (server, message)
    });
    let mut pongs = 0;
    while pongs < 3 {
        if let Event::Pong(_) = client.recv_event().await.unwrap() {
            pongs += 1;
        }
    }
    client.set_ping_interval(None);
    client.send_text("done").await.unwrap();
    let (_server, message) = server_side.await;
    assert_eq!(message, Message::Text("done".into()));
}

/// A message of the cancellation scenarios: large enough to span several
/// reads.
pub(crate) fn payload(i: usize) -> Vec<u8> {
    // Large enough that a message spans several reads.
    (0..100_000).map(|j| ((i * 31 + j) % 251) as u8).collect()
}

/// Scenario (see the module docs).
pub async fn dropping_recv_in_a_race_loses_nothing<R: Rt>() {
    const COUNT: usize = 40;
    let config = Config::default().with_compression(DeflateConfig::default());
    let (mut client, mut server) = R::pair(config).await.unwrap();
    let sender = R::spawn(async move {
        for i in 0..COUNT {
            server.send_binary(payload(i)).await.unwrap();
        }
        let _ = server.recv().await;
    });
    let mut received = Vec::new();
    let mut cancelled = 0usize;
    while received.len() < COUNT {
        // `or` polls the yield first: from its second poll on it wins, so
        // recv is dropped whenever it had to wait.
        let raced = futures_lite::future::or(
            async {
                futures_lite::future::yield_now().await;
                None
            },
            async { Some(client.recv().await) },
        )
        .await;
        match raced {
            Some(message) => received.push(message.unwrap()),
            None => cancelled += 1,
        }
    }
    assert!(cancelled > 0);
    for (i, message) in received.into_iter().enumerate() {
        assert_eq!(message, Message::Binary(payload(i).into()), "message {i}");
    }
    client.close(None).await.unwrap();
    sender.await;
}

/// Scenario (see the module docs).
pub async fn close_takes_what_arrives_before_the_peers_close<R: Rt>() {
    // The server sends a message and a pong the client never asked for,
    // then answers the client's Close. The core parses input only as its
    // events are taken: close() must take them (keeping the message for
    // recv) to reach the peer's Close, not wait for the close timeout.
    let (listener, url) = R::listen().await;
    let server = R::spawn(async move {
        let tcp = R::accept_tcp(&listener).await;
        let mut ws = accept::<R>(tcp, Config::default()).await.unwrap();
        ws.send_text("late news").await.unwrap();
        ws.send_pong(&b"unasked"[..]).await.unwrap();
        ws.recv().await.unwrap_err()
    });
    let config = Config::default().with_close_timeout(Duration::from_secs(5));
    let (mut ws, _) = connect_config::<R>(&url, config).await.unwrap();
    ws.close(CloseFrame::new(CloseCode::NORMAL, "bye"))
        .await
        .unwrap();
    let reason = ws.close_reason().unwrap();
    assert!(reason.is_clean(), "{}: {reason:?}", R::NAME);
    assert_eq!(
        ws.recv().await.unwrap(),
        Message::Text("late news".into()),
        "{}",
        R::NAME
    );
    assert!(ws.recv().await.unwrap_err().is_clean_close());
    assert!(server.await.is_clean_close());
}

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Pair {
    a: u8,
    b: u8,
}

/// Scenario (see the module docs).
pub async fn fragmented_send_flush_and_split_conversion<R: Rt>() {
    let (mut client, server) = R::pair(Config::default()).await.unwrap();
    client
        .send_fragmented(Message::Text("one two three four".into()), 4)
        .await
        .unwrap();
    client.flush().await.unwrap();
    assert_eq!(client.connection().queued_bytes(), 0);
    let (mut writer, mut reader) = server.spawn_split();
    assert_eq!(
        reader.recv().await.unwrap(),
        Message::Text("one two three four".into())
    );
    writer.send_serialized(&Pair { a: 5, b: 6 }).await.unwrap();
    writer.send_ping(&b"x"[..]).await.unwrap();
    writer.flush().await.unwrap();
    let p: Pair = client.receive_deserialized().await.unwrap();
    assert_eq!(p, Pair { a: 5, b: 6 });
    client.send_text("{\"a\": 1}").await.unwrap();
    client.send_serialized(&Pair { a: 7, b: 8 }).await.unwrap();
    assert!(matches!(
        reader.receive_deserialized::<Pair>().await,
        Err(Error::Convert { .. })
    ));
    let p: Pair = reader.receive_deserialized().await.unwrap();
    assert_eq!(p, Pair { a: 7, b: 8 });
    let (closed, end) = futures_util::future::join(client.close(None), reader.recv()).await;
    closed.unwrap();
    assert!(end.unwrap_err().is_clean_close());
}

/// Scenario (see the module docs).
pub async fn raw_recv_returns_whole_frames_as_messages_and_keeps_fragments<R: Rt>() {
    let raw = Config::default().with_mode(Mode::Raw);
    let (client, mut server) = R::pair(raw).await.unwrap();
    for frame in [
        Frame::new(OpCode::Binary, &b"whole"[..]),
        Frame::new(OpCode::Ping, &b"p"[..]),
        Frame::new(OpCode::Text, &b"par"[..]).with_fin(false),
        Frame::new(OpCode::Continuation, &b"t"[..]),
    ] {
        server.send_frame(frame).await.unwrap();
    }
    let (_writer, mut reader) = client.spawn_split();
    assert_eq!(
        reader.recv().await.unwrap(),
        Message::Binary((&b"whole"[..]).into())
    );
    // The ping is skipped by recv(); the fragment is kept for recv_frame.
    assert!(matches!(reader.recv().await, Err(Error::Streaming)));
    let first = reader.recv_frame().await.unwrap();
    assert_eq!((first.opcode, first.fin), (OpCode::Text, false));
    let last = reader.recv_frame().await.unwrap();
    assert_eq!(
        (last.opcode, last.fin, &last.payload[..]),
        (OpCode::Continuation, true, &b"t"[..])
    );
}

/// Scenario (see the module docs).
pub async fn pipelined_messages_echoed_in_batches_arrive_in_order<R: Rt>() {
    let (listener, url) = R::listen().await;
    let server = R::spawn(async move {
        let tcp = R::accept_tcp(&listener).await;
        let mut ws = accept::<R>(tcp, Config::default()).await.unwrap();
        let mut batch = std::collections::VecDeque::new();
        let mut echoed = 0;
        let end = loop {
            match ws.recv_batch(&mut batch, 16).await {
                Ok(n) => {
                    assert!(
                        (1..=16).contains(&n),
                        "{n} messages in a batch of at most 16"
                    );
                    assert_eq!(batch.len(), n);
                    echoed += n;
                    ws.feed_batch(&mut batch).await.unwrap();
                    assert!(batch.is_empty());
                }
                Err(e) => break e,
            }
        };
        (echoed, end)
    });
    let (mut ws, _) = connect::<R>(&url).await.unwrap();
    // Pipelined: everything fed, then written at once; a ping among them
    // is answered and not echoed.
    for i in 0..200 {
        ws.feed_message(Message::Binary(vec![i as u8; 1 + i % 40].into()))
            .await
            .unwrap();
        if i == 100 {
            ws.feed_message(Message::Ping(vec![9u8; 4].into()))
                .await
                .unwrap();
        }
    }
    ws.flush().await.unwrap();
    let mut pong = false;
    let mut got = Vec::new();
    while got.len() < 200 {
        match ws.recv_event().await.unwrap() {
            Event::Message(message) => got.push(message),
            Event::Pong(payload) => pong = payload == vec![9u8; 4],
            other => panic!("{}: unexpected {other:?}", R::NAME),
        }
    }
    let expected: Vec<Message> = (0..200)
        .map(|i| Message::Binary(vec![i as u8; 1 + i % 40].into()))
        .collect();
    assert_eq!(got, expected, "{}", R::NAME);
    assert!(pong, "{}: the ping was answered", R::NAME);
    ws.close(None).await.unwrap();
    let (echoed, end) = server.await;
    assert_eq!(echoed, 200);
    assert!(end.is_clean_close(), "{}: {end:?}", R::NAME);
}
