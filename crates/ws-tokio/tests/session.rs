//! The session API over loopback TCP: messages, frames, Stream/Sink, close,
//! terminate, conversion, the in-memory pair, raw mode.

mod common;

use std::time::Duration;

use common::{echo_server, listen, within};
use futures_util::{SinkExt, StreamExt as _};
use ws_tokio::{
    Acceptor, CloseCode, CloseReason, Config, Connector, DeflateConfig, Error, Event, Frame,
    Message, Mode, OpCode,
};

#[tokio::test]
async fn echo_text_and_binary_then_clean_close() {
    within(10, async {
        let url = echo_server(Acceptor::new()).await;
        let (mut ws, response) = ws_tokio::connect(&format!("{url}/echo")).await.unwrap();
        assert_eq!(response.response.status(), 101);
        ws.send_text("hello").await.unwrap();
        ws.send_binary(vec![1u8, 2, 3]).await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), Message::Text("hello".into()));
        assert_eq!(
            ws.recv().await.unwrap(),
            Message::Binary(vec![1u8, 2, 3].into())
        );
        ws.close(CloseCode::NORMAL, "bye").await.unwrap();
        let reason = ws.close_reason().unwrap();
        assert!(reason.is_clean(), "{reason}");
        // Every later call reports the end.
        assert!(ws.recv().await.unwrap_err().is_clean_close());
        assert!(matches!(ws.send_text("late").await, Err(Error::Closed(_))));
    })
    .await;
}

#[tokio::test]
async fn deflate_is_negotiated_and_large_messages_round_trip() {
    within(20, async {
        let config = Config::default().with_compression(DeflateConfig::default());
        let url = echo_server(Acceptor::new().config(config.clone())).await;
        let (mut ws, response) = Connector::new().config(config).connect(&url).await.unwrap();
        assert_eq!(response.extensions, ["permessage-deflate"]);
        let big: String = "all work and no play ".repeat(200_000);
        ws.send_text(big.clone()).await.unwrap();
        let echoed = ws.recv().await.unwrap();
        assert_eq!(echoed.as_bytes(), big.as_bytes());
        ws.close(CloseCode::NORMAL, "").await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn message_sent_before_close_is_delivered_first() {
    within(10, async {
        let (listener, url) = listen().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let (mut ws, _) = Acceptor::new().accept(tcp).await.unwrap();
            let mut got = Vec::new();
            let end = loop {
                match ws.recv().await {
                    Ok(m) => got.push(m),
                    Err(e) => break e,
                }
            };
            (got, end)
        });
        let (mut ws, _) = ws_tokio::connect(&url).await.unwrap();
        for i in 0..100 {
            ws.send_text(format!("m{i}")).await.unwrap();
        }
        ws.close(CloseCode::NORMAL, "done").await.unwrap();
        let (got, end) = server.await.unwrap();
        assert_eq!(got.len(), 100);
        assert_eq!(got[99], Message::Text("m99".into()));
        match end {
            Error::Closed(CloseReason::Normal { frame, .. }) => {
                let frame = frame.unwrap();
                assert_eq!(frame.code, CloseCode::NORMAL);
                assert_eq!(frame.reason, "done");
            }
            other => panic!("unexpected end {other:?}"),
        }
    })
    .await;
}

#[tokio::test]
async fn stream_and_sink() {
    within(10, async {
        let url = echo_server(Acceptor::new()).await;
        let (mut ws, _) = ws_tokio::connect(&url).await.unwrap();
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
        // Sink::close runs the close handshake; the Stream then ends.
        SinkExt::close(&mut ws).await.unwrap();
        assert!(ws.next().await.is_none());
        assert!(ws.close_reason().unwrap().is_clean());
    })
    .await;
}

#[tokio::test]
async fn frames_pings_and_pongs_in_default_mode() {
    within(10, async {
        let url = echo_server(Acceptor::new()).await;
        let (mut ws, _) = ws_tokio::connect(&url).await.unwrap();
        ws.send(Frame::new(OpCode::Ping, &b"are you there"[..]))
            .await
            .unwrap();
        ws.send(Frame::new(OpCode::Text, &b"framed"[..]))
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
        assert!(matches!(ws.send(fragment).await, Err(Error::Send(_))));
        ws.send(Frame::new(
            OpCode::Close,
            wsproto_core::CloseFrame::encode_payload(CloseCode::GOING_AWAY, ""),
        ))
        .await
        .unwrap();
        assert!(ws.recv().await.unwrap_err().is_clean_close());
    })
    .await;
}

#[tokio::test]
async fn terminate_ends_without_handshake_and_peer_sees_1006() {
    within(10, async {
        let (listener, url) = listen().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let (mut ws, _) = Acceptor::new().accept(tcp).await.unwrap();
            let end = ws.recv().await.unwrap_err();
            (end, ws.close_reason().cloned())
        });
        let (mut ws, _) = ws_tokio::connect(&url).await.unwrap();
        ws.terminate().await;
        assert_eq!(ws.close_reason(), Some(&CloseReason::Terminated));
        let (end, reason) = server.await.unwrap();
        assert!(
            matches!(end, Error::Closed(CloseReason::Abnormal) | Error::Io(_)),
            "{end:?}"
        );
        assert_eq!(reason, Some(CloseReason::Abnormal));
    })
    .await;
}

#[tokio::test]
async fn peer_dropping_tcp_is_abnormal_not_a_hang() {
    within(10, async {
        let (listener, url) = listen().await;
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let (ws, _) = Acceptor::new().accept(tcp).await.unwrap();
            drop(ws);
        });
        let (mut ws, _) = ws_tokio::connect(&url).await.unwrap();
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
    })
    .await;
}

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Point {
    x: i32,
    y: i32,
}

#[tokio::test]
async fn content_conversion_and_bad_values_keep_the_session() {
    within(10, async {
        let (mut client, mut server) = ws_tokio::pair(Config::default()).await.unwrap();
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
        let (closed, end) = tokio::join!(client.close(CloseCode::NORMAL, ""), server.recv());
        closed.unwrap();
        assert!(end.unwrap_err().is_clean_close());
    })
    .await;
}

#[tokio::test]
async fn in_memory_pair_with_compression() {
    within(10, async {
        let config = Config::default().with_compression(DeflateConfig::default());
        let (mut client, mut server) = ws_tokio::pair(config).await.unwrap();
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
        let (closed, received) =
            tokio::join!(client.close(CloseCode::NORMAL, "end"), server.recv());
        closed.unwrap();
        assert!(received.unwrap_err().is_clean_close());
        assert!(client.close_reason().unwrap().is_clean());
    })
    .await;
}

#[tokio::test]
async fn raw_session_sees_frames_as_they_are() {
    within(10, async {
        let raw = Config::default().with_mode(Mode::Raw);
        // A raw client against a default server.
        let (listener, url) = listen().await;
        let server_task = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let (mut ws, _) = Acceptor::new().accept(tcp).await.unwrap();
            ws.send_ping(&b"p1"[..]).await.unwrap();
            let mut events = Vec::new();
            loop {
                match ws.recv_event().await {
                    Ok(event) => events.push(event),
                    Err(e) => return (events, e),
                }
            }
        });
        let (mut ws, _) = Connector::new().config(raw).connect(&url).await.unwrap();
        let ping = ws.recv_frame().await.unwrap();
        assert_eq!((ping.opcode, &ping.payload[..]), (OpCode::Ping, &b"p1"[..]));
        // Nothing automatic: we answer ourselves, and send a fragmented message.
        ws.send(Frame::new(OpCode::Pong, &b"p1"[..])).await.unwrap();
        ws.send(Frame::new(OpCode::Text, &b"frag"[..]).with_fin(false))
            .await
            .unwrap();
        ws.send(Frame::new(OpCode::Continuation, &b"ment"[..]))
            .await
            .unwrap();
        ws.close(CloseCode::NORMAL, "raw bye").await.unwrap();
        let (events, end) = server_task.await.unwrap();
        assert_eq!(events[0], Event::Pong((&b"p1"[..]).into()));
        assert_eq!(events[1], Event::Message(Message::Text("fragment".into())));
        assert!(end.is_clean_close(), "{end:?}");
    })
    .await;
}

#[tokio::test]
async fn heartbeat_can_be_changed_at_run_time() {
    within(10, async {
        let (mut client, mut server) = ws_tokio::pair(Config::default()).await.unwrap();
        client.set_ping_interval(Some(Duration::from_millis(20)));
        client.set_timeout(Duration::from_secs(5));
        // The server answers the heartbeat pings while it waits for a message.
        let server_side = tokio::spawn(async move {
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
        let (_server, message) = server_side.await.unwrap();
        assert_eq!(message, Message::Text("done".into()));
    })
    .await;
}

#[tokio::test]
async fn fragmented_send_flush_and_split_conversion() {
    within(10, async {
        let (mut client, server) = ws_tokio::pair(Config::default()).await.unwrap();
        client
            .send_fragmented(Message::Text("one two three four".into()), 4)
            .await
            .unwrap();
        client.flush().await.unwrap();
        assert_eq!(client.connection().queued_bytes(), 0);
        let (mut reader, mut writer) = server.split();
        assert_eq!(
            reader.recv().await.unwrap(),
            Message::Text("one two three four".into())
        );
        writer.send_serialized(&Point { x: 5, y: 6 }).await.unwrap();
        writer.send_ping(&b"x"[..]).await.unwrap();
        writer.flush().await.unwrap();
        let p: Point = client.receive_deserialized().await.unwrap();
        assert_eq!(p, Point { x: 5, y: 6 });
        client.send_text("{\"x\": 1}").await.unwrap();
        client.send_serialized(&Point { x: 7, y: 8 }).await.unwrap();
        assert!(matches!(
            reader.receive_deserialized::<Point>().await,
            Err(Error::Convert { .. })
        ));
        let p: Point = reader.receive_deserialized().await.unwrap();
        assert_eq!(p, Point { x: 7, y: 8 });
        let (closed, end) = tokio::join!(client.close(CloseCode::NORMAL, ""), reader.recv());
        closed.unwrap();
        assert!(end.unwrap_err().is_clean_close());
    })
    .await;
}

#[tokio::test]
async fn raw_recv_returns_whole_frames_as_messages_and_keeps_fragments() {
    within(10, async {
        let raw = Config::default().with_mode(Mode::Raw);
        let (client, mut server) = ws_tokio::pair(raw).await.unwrap();
        server
            .send(Frame::new(OpCode::Binary, &b"whole"[..]))
            .await
            .unwrap();
        server
            .send(Frame::new(OpCode::Ping, &b"p"[..]))
            .await
            .unwrap();
        server
            .send(Frame::new(OpCode::Text, &b"par"[..]).with_fin(false))
            .await
            .unwrap();
        server
            .send(Frame::new(OpCode::Continuation, &b"t"[..]))
            .await
            .unwrap();
        let (mut reader, _writer) = client.split();
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
    })
    .await;
}

#[tokio::test]
async fn raw_session_answers_the_peers_close_itself() {
    within(10, async {
        let raw = Config::default().with_mode(Mode::Raw);
        // Answered with send(Frame), then with close(): both must go out
        // although the peer's Close has already arrived.
        for answer_with_frame in [true, false] {
            let (mut client, mut server) = ws_tokio::pair(raw.clone()).await.unwrap();
            let server_side = tokio::spawn(async move {
                server.close(CloseCode(4000), "done").await.unwrap();
                server.close_reason().cloned()
            });
            let close = client.recv_frame().await.unwrap();
            assert_eq!(close.opcode, OpCode::Close);
            if answer_with_frame {
                client.send(close).await.unwrap();
                // Nothing may follow our Close.
                assert!(matches!(
                    client.send(Frame::new(OpCode::Text, "late")).await,
                    Err(Error::Send(_) | Error::Closed(_))
                ));
                assert!(client.recv_frame().await.unwrap_err().is_clean_close());
            } else {
                client.close(CloseCode(4000), "").await.unwrap();
            }
            assert!(client.close_reason().unwrap().is_clean());
            let server_end = server_side.await.unwrap().unwrap();
            assert!(server_end.is_clean(), "{server_end:?}");
        }
    })
    .await;
}
