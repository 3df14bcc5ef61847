//! Split sessions: halves in two tasks, automatic replies while only the
//! read half is polled, heartbeat, close and terminate through the halves.

mod common;

use std::time::Duration;

use common::{echo_server, listen, within};
use tokio::sync::oneshot;
use ws_tokio::{
    Acceptor, CloseCode, CloseReason, Config, Error, Event, Frame, Message, Mode, OpCode,
};

#[tokio::test]
async fn halves_in_two_tasks() {
    within(10, async {
        let url = echo_server(Acceptor::new()).await;
        let (ws, _) = ws_tokio::connect(&url).await.unwrap();
        let (mut reader, mut writer) = ws.split();
        let writing = tokio::spawn(async move {
            for i in 0..500 {
                writer.send_text(format!("message {i}")).await.unwrap();
            }
            writer.flush().await.unwrap();
            writer
        });
        let reading = tokio::spawn(async move {
            for i in 0..500 {
                assert_eq!(
                    reader.recv().await.unwrap(),
                    Message::Text(format!("message {i}").into())
                );
            }
            reader
        });
        let mut writer = writing.await.unwrap();
        let mut reader = reading.await.unwrap();
        let (closed, end) = tokio::join!(writer.close(CloseCode::NORMAL, "done"), reader.recv());
        closed.unwrap();
        assert!(end.unwrap_err().is_clean_close());
        assert!(writer.close_reason().unwrap().is_clean());
        assert!(reader.close_reason().unwrap().is_clean());
    })
    .await;
}

#[tokio::test]
async fn pong_and_close_reply_go_out_while_only_the_reader_is_polled() {
    within(10, async {
        let (listener, url) = listen().await;
        // A raw server: it sends a Ping and a Close itself and checks the
        // client's automatic answers.
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let (mut ws, _) = Acceptor::new()
                .config(Config::default().with_mode(Mode::Raw))
                .accept(tcp)
                .await
                .unwrap();
            ws.send(Frame::new(OpCode::Ping, &b"hb"[..])).await.unwrap();
            let pong = ws.recv_frame().await.unwrap();
            ws.close(CloseCode::GOING_AWAY, "restart").await.unwrap();
            (pong, ws.close_reason().cloned())
        });
        let (ws, _) = ws_tokio::connect(&url).await.unwrap();
        let (mut reader, _writer) = ws.split();
        let mut events = Vec::new();
        let end = loop {
            match reader.recv_event().await {
                Ok(event) => events.push(event),
                Err(e) => break e,
            }
        };
        assert_eq!(events[0], Event::Ping((&b"hb"[..]).into()));
        assert!(matches!(events[1], Event::CloseReceived(Some(_))));
        assert!(end.is_clean_close(), "{end:?}");
        let (pong, server_reason) = server.await.unwrap();
        assert_eq!((pong.opcode, &pong.payload[..]), (OpCode::Pong, &b"hb"[..]));
        assert!(server_reason.unwrap().is_clean());
    })
    .await;
}

#[tokio::test]
async fn heartbeat_runs_in_the_driver_of_a_split_session() {
    within(10, async {
        let (listener, url) = listen().await;
        let (_release, released) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let (ws, _) = Acceptor::new()
                .config(Config::default().with_mode(Mode::Raw))
                .accept(tcp)
                .await
                .unwrap();
            let _ = released.await;
            drop(ws);
        });
        let (ws, _) = ws_tokio::connect(&url).await.unwrap();
        let (mut reader, mut writer) = ws.split();
        writer
            .set_timeout(Duration::from_millis(200))
            .await
            .unwrap();
        writer
            .set_ping_interval(Some(Duration::from_millis(100)))
            .await
            .unwrap();
        let end = reader.recv().await.unwrap_err();
        assert!(
            matches!(end, Error::Closed(CloseReason::PingTimeout { .. })),
            "{end:?}"
        );
        assert!(matches!(
            writer.send_text("late").await,
            Err(Error::Closed(CloseReason::PingTimeout { .. }))
        ));
    })
    .await;
}

#[tokio::test]
async fn terminate_through_the_writer() {
    within(10, async {
        let url = echo_server(Acceptor::new()).await;
        let (ws, _) = ws_tokio::connect(&url).await.unwrap();
        let (mut reader, writer) = ws.split();
        writer.terminate();
        let end = reader.recv().await.unwrap_err();
        assert!(
            matches!(end, Error::Closed(CloseReason::Terminated)),
            "{end:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn split_stream_and_sink() {
    use futures_util::{SinkExt, StreamExt as _};
    within(10, async {
        let url = echo_server(Acceptor::new()).await;
        let (ws, _) = ws_tokio::connect(&url).await.unwrap();
        let (mut reader, mut writer) = ws.split();
        SinkExt::send(&mut writer, Message::Text("via sink".into()))
            .await
            .unwrap();
        assert_eq!(
            reader.next().await.unwrap().unwrap(),
            Message::Text("via sink".into())
        );
        let (closed, end) = tokio::join!(writer.close(CloseCode::NORMAL, ""), reader.next());
        closed.unwrap();
        assert!(end.is_none(), "a clean close ends the stream");
    })
    .await;
}

#[tokio::test]
async fn a_reader_that_does_not_read_stops_the_socket_reads() {
    within(30, async {
        let (listener, url) = listen().await;
        let count: u8 = 64;
        let sender = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let (mut ws, _) = Acceptor::new().accept(tcp).await.unwrap();
            for i in 0..count {
                ws.send_binary(vec![i; 1 << 20]).await.unwrap();
            }
            ws.flush().await.unwrap();
            let _ = ws.recv().await;
        });
        let (ws, _) = ws_tokio::connect(&url).await.unwrap();
        let (mut reader, mut writer) = ws.split();
        // 64 MiB cannot all be in flight: the driver stops reading after
        // about 1 MiB the reader has not taken, so the sender waits.
        let mut sender = sender;
        assert!(
            tokio::time::timeout(Duration::from_millis(500), &mut sender)
                .await
                .is_err(),
            "the sender was never held back"
        );
        for i in 0..count {
            let message = reader.recv().await.unwrap();
            assert_eq!(message, Message::Binary(vec![i; 1 << 20].into()));
        }
        writer.close(CloseCode::NORMAL, "").await.unwrap();
        sender.await.unwrap();
    })
    .await;
}
