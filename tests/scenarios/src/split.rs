//! Split sessions: the driver task runs on the runtime's spawner; halves
//! in two tasks, automatic replies while only the read half is polled,
//! heartbeat, terminate, Stream/Sink, the reader's backpressure on socket
//! reads, cancellation.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt as _};
use ws_session::{
    CloseCode, CloseFrame, CloseReason, Config, Error, Event, Frame, Message, Mode, OpCode,
};

use crate::{Rt, ServerOptions, accept, connect, echo_server, finishes_within, silent_server};

/// Scenario (see the module docs).
pub async fn halves_in_two_tasks<R: Rt>() {
    let url = echo_server::<R>(ServerOptions::default()).await;
    let (ws, _) = connect::<R>(&url).await.unwrap();
    let (mut writer, mut reader) = ws.spawn_split();
    let writing = R::spawn(async move {
        for i in 0..500 {
            writer.send_text(format!("message {i}")).await.unwrap();
        }
        writer.flush().await.unwrap();
        writer
    });
    let reading = R::spawn(async move {
        for i in 0..500 {
            assert_eq!(
                reader.recv().await.unwrap(),
                Message::Text(format!("message {i}").into())
            );
        }
        reader
    });
    let mut writer = writing.await;
    let mut reader = reading.await;
    let (closed, end) = futures_util::future::join(
        writer.close(CloseFrame::new(CloseCode::NORMAL, "done")),
        reader.recv(),
    )
    .await;
    closed.unwrap();
    assert!(end.unwrap_err().is_clean_close());
    assert!(writer.close_reason().unwrap().is_clean());
    assert!(reader.close_reason().unwrap().is_clean());
}

/// Scenario (see the module docs).
pub async fn pong_and_close_reply_go_out_while_only_the_reader_is_polled<R: Rt>() {
    let (listener, url) = R::listen().await;
    // A raw server: it sends a Ping and a Close itself and checks the
    // client's automatic answers.
    let server = R::spawn(async move {
        let tcp = R::accept_tcp(&listener).await;
        let mut ws = accept::<R>(tcp, Config::default().with_mode(Mode::Raw))
            .await
            .unwrap();
        ws.send_frame(Frame::new(OpCode::Ping, &b"hb"[..]))
            .await
            .unwrap();
        let pong = ws.recv_frame().await.unwrap();
        ws.close(CloseFrame::new(CloseCode::GOING_AWAY, "restart"))
            .await
            .unwrap();
        (pong, ws.close_reason().cloned())
    });
    let (ws, _) = connect::<R>(&url).await.unwrap();
    let (_writer, mut reader) = ws.spawn_split();
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
    let (pong, server_reason) = server.await;
    assert_eq!((pong.opcode, &pong.payload[..]), (OpCode::Pong, &b"hb"[..]));
    assert!(server_reason.unwrap().is_clean());
}

/// Scenario (see the module docs).
pub async fn heartbeat_runs_in_the_driver_of_a_split_session<R: Rt>() {
    let (url, _release) = silent_server::<R>().await;
    let (ws, _) = connect::<R>(&url).await.unwrap();
    let (mut writer, mut reader) = ws.spawn_split();
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
}

/// Scenario (see the module docs).
pub async fn terminate_through_the_writer<R: Rt>() {
    let url = echo_server::<R>(ServerOptions::default()).await;
    let (ws, _) = connect::<R>(&url).await.unwrap();
    let (writer, mut reader) = ws.spawn_split();
    writer.terminate();
    let end = reader.recv().await.unwrap_err();
    assert!(
        matches!(end, Error::Closed(CloseReason::Terminated)),
        "{end:?}"
    );
}

/// Scenario (see the module docs).
pub async fn split_stream_and_sink<R: Rt>() {
    let url = echo_server::<R>(ServerOptions::default()).await;
    let (ws, _) = connect::<R>(&url).await.unwrap();
    let (mut writer, mut reader) = ws.spawn_split();
    SinkExt::send(&mut writer, Message::Text("via sink".into()))
        .await
        .unwrap();
    assert_eq!(
        reader.next().await.unwrap().unwrap(),
        Message::Text("via sink".into())
    );
    let (closed, end) = futures_util::future::join(writer.close(None), reader.next()).await;
    closed.unwrap();
    assert!(
        end.unwrap().unwrap().is_close(),
        "the peer's answering Close"
    );
    assert!(
        reader.next().await.is_none(),
        "a clean close ends the stream"
    );
}

/// Scenario (see the module docs).
pub async fn a_reader_that_does_not_read_stops_the_socket_reads<R: Rt>() {
    let (listener, url) = R::listen().await;
    let count: u8 = 48;
    let mut sender = R::spawn(async move {
        let tcp = R::accept_tcp(&listener).await;
        let mut ws = accept::<R>(tcp, Config::default()).await.unwrap();
        for i in 0..count {
            ws.send_binary(vec![i; 1 << 20]).await.unwrap();
        }
        ws.flush().await.unwrap();
        let _ = ws.recv().await;
    });
    let (ws, _) = connect::<R>(&url).await.unwrap();
    let (mut writer, mut reader) = ws.spawn_split();
    // 48 MiB cannot all be in flight: the driver stops reading after about
    // 1 MiB the reader has not taken, so the sender waits.
    assert!(
        finishes_within(Duration::from_millis(500), &mut sender)
            .await
            .is_none(),
        "the sender was never held back"
    );
    for i in 0..count {
        let message = reader.recv().await.unwrap();
        assert_eq!(message, Message::Binary(vec![i; 1 << 20].into()));
    }
    writer.close(None).await.unwrap();
    sender.await;
}

/// Scenario (see the module docs).
pub async fn dropping_split_recv_in_a_race_loses_nothing<R: Rt>() {
    const COUNT: usize = 40;
    let (client, mut server) = R::pair(Config::default()).await.unwrap();
    let sender = R::spawn(async move {
        for i in 0..COUNT {
            server
                .send_binary(crate::session::payload(i))
                .await
                .unwrap();
        }
        let _ = server.recv().await;
    });
    let (mut writer, mut reader) = client.spawn_split();
    let mut received = Vec::new();
    while received.len() < COUNT {
        // `or` polls the yield first: from its second poll on it wins, so
        // recv is dropped whenever it had to wait.
        let raced = futures_lite::future::or(
            async {
                futures_lite::future::yield_now().await;
                None
            },
            async { Some(reader.recv().await) },
        )
        .await;
        if let Some(message) = raced {
            received.push(message.unwrap());
        }
    }
    for (i, message) in received.into_iter().enumerate() {
        assert_eq!(
            message,
            Message::Binary(crate::session::payload(i).into()),
            "message {i}"
        );
    }
    writer.close(None).await.unwrap();
    sender.await;
}
