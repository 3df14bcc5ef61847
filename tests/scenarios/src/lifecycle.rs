//! A server's lifecycle through the adapter's own accept loop (`serve`),
//! over loopback: the connection cap (503 with `Retry-After` over it, the
//! place given back when a session ends or its handler panics) and the
//! graceful shutdown (queued messages delivered before Close 1001, a peer
//! that never answers forced at the deadline, the loop stopped).

use std::time::Duration;

use futures_util::StreamExt as _;
use http::StatusCode;
use ws_session::{
    AcceptedRequest, CloseCode, Config, ConnectError, ConnectionLimit, Message, Mode, Session,
    Shutdown, ShutdownReport,
};

use crate::{Rt, ServeLoop, ServerOptions, connect, connect_config};

/// Echoes data messages until the session ends; panics for `/panic`.
async fn echo<S>(mut ws: Session<S>, request: AcceptedRequest)
where
    S: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin,
{
    assert_ne!(request.uri().path(), "/panic", "the handler fails");
    while let Ok(message) = ws.recv().await {
        if ws.send_message(message).await.is_err() {
            break;
        }
    }
}

/// An echo `serve` with `options`, running in the background.
async fn echo_serve<R: Rt>(options: ServerOptions) -> (String, ServeLoop) {
    R::serve(options, echo).await
}

/// One echo round trip on `ws`.
async fn round_trip<S>(ws: &mut Session<S>, text: &str)
where
    S: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin,
{
    ws.send_text(text.to_owned()).await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), Message::text(text));
}

/// Connects and expects the 503 of a full server.
async fn expect_503<R: Rt>(url: &str) {
    let err = connect::<R>(url).await.unwrap_err();
    let Some(response) = err.rejection() else {
        panic!("a refusal, not {err}");
    };
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "5");
    assert_eq!(response.headers()["connection"], "close");
}

/// Scenario (see the module docs).
pub async fn the_cap_answers_503_with_retry_after_and_frees_a_place_when_a_session_ends<R: Rt>() {
    let limit = ConnectionLimit::new(2);
    let options = ServerOptions {
        limit: Some(limit.clone()),
        ..ServerOptions::default()
    };
    let (url, serve) = echo_serve::<R>(options).await;
    let _serving = R::spawn(serve);
    let (mut first, _) = connect::<R>(&url).await.unwrap();
    let (mut second, _) = connect::<R>(&url).await.unwrap();
    round_trip(&mut first, "one").await;
    round_trip(&mut second, "two").await;
    assert_eq!(limit.active(), 2);

    expect_503::<R>(&url).await;
    // The loop goes on, and the two sessions with it.
    round_trip(&mut first, "still one").await;
    round_trip(&mut second, "still two").await;
    expect_503::<R>(&url).await;
    assert_eq!(limit.refused(), 2);

    // A session that ends gives its place back before the client sees
    // the end of the stream.
    first.close(None).await.unwrap();
    assert_eq!(limit.active(), 1);
    let (mut third, _) = connect::<R>(&url).await.unwrap();
    round_trip(&mut third, "three").await;
    round_trip(&mut second, "two again").await;
}

/// Scenario (see the module docs).
pub async fn a_panicking_handler_gives_its_place_back<R: Rt>() {
    let limit = ConnectionLimit::new(1);
    let options = ServerOptions {
        limit: Some(limit.clone()),
        ..ServerOptions::default()
    };
    let (url, serve) = echo_serve::<R>(options).await;
    let _serving = R::spawn(serve);
    let (mut ws, _) = connect::<R>(&format!("{url}/panic")).await.unwrap();
    // The handler panicked: its task dropped the session (1001 or a bare
    // end of stream), and with it the place.
    while ws.recv().await.is_ok() {}
    assert_eq!(limit.active(), 0);
    let (mut ws, _) = connect::<R>(&url).await.unwrap();
    round_trip(&mut ws, "after the panic").await;
}

/// A server that queues `count` messages of `size` bytes for each client
/// (the client is not reading yet), tells the test, then reads until the
/// end; with `split`, through a split session's writer.
async fn queueing_serve<R: Rt>(
    shutdown: &Shutdown,
    count: usize,
    size: usize,
    split: bool,
) -> (String, smol::channel::Receiver<()>) {
    let (queued, on_queued) = smol::channel::unbounded::<()>();
    let options = ServerOptions {
        shutdown: Some(shutdown.clone()),
        ..ServerOptions::default()
    };
    let (url, serve) = R::serve(options, move |mut ws, _| {
        let queued = queued.clone();
        async move {
            if split {
                let (mut writer, mut reader) = ws.spawn_split();
                for i in 0..count {
                    writer.send_binary(payload(i, size)).await.unwrap();
                }
                queued.send(()).await.unwrap();
                while reader.recv().await.is_ok() {}
            } else {
                for i in 0..count {
                    ws.feed_message(Message::Binary(payload(i, size)))
                        .await
                        .unwrap();
                }
                queued.send(()).await.unwrap();
                while ws.recv().await.is_ok() {}
            }
        }
    })
    .await;
    R::spawn_detached(async move {
        let _ = serve.await;
    });
    (url, on_queued)
}

/// Message `i`: `size` bytes of `i`.
fn payload(i: usize, size: usize) -> ws_session::Bytes {
    ws_session::Bytes::from(vec![u8::try_from(i % 251).unwrap(); size])
}

/// Reads `count` messages in order, then the server's Close 1001 (which
/// the client's session answers), then the end.
async fn receive_all_then_1001<S>(ws: &mut Session<S>, count: usize, size: usize)
where
    S: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin,
{
    for i in 0..count {
        match ws.next().await {
            Some(Ok(Message::Binary(data))) => assert_eq!(data, payload(i, size), "message {i}"),
            other => panic!("message {i} of {count} is {other:?}"),
        }
    }
    match ws.next().await {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::GOING_AWAY),
        other => panic!("expected Close 1001, got {other:?}"),
    }
    assert!(ws.next().await.is_none(), "a clean end after the close");
}

/// Shuts down while a client that is not reading has `count` messages
/// queued for it, then lets it read.
async fn shutdown_after_queued<R: Rt>(split: bool) {
    // Unsplit, `feed_message` queues in the core without writing, up to
    // its send queue limit (1 MiB): all of it waits there when the shutdown
    // comes. Split, the writer's channel holds 64 messages: 6 MiB, more
    // than the loopback socket buffers usually take, so part of it waits
    // in the channel and the core.
    let (count, size) = if split {
        (48, 128 * 1024)
    } else {
        (7, 128 * 1024)
    };
    let shutdown = R::shutdown_handle();
    let (url, on_queued) = queueing_serve::<R>(&shutdown, count, size, split).await;
    let (mut ws, _) = connect::<R>(&url).await.unwrap();
    on_queued.recv().await.unwrap();
    assert_eq!(shutdown.live(), 1);
    let shutting = R::spawn({
        let shutdown = shutdown.clone();
        async move { shutdown.shutdown(Duration::from_secs(20)).await }
    });
    receive_all_then_1001(&mut ws, count, size).await;
    let report = shutting.await;
    assert_eq!(
        (report.sessions, report.closed, report.ended, report.forced),
        (1, 1, 0, 0),
        "{report:?}"
    );
    assert!(shutdown.is_shutting_down());
}

/// Scenario (see the module docs).
pub async fn shutdown_delivers_what_was_queued_then_1001<R: Rt>() {
    shutdown_after_queued::<R>(false).await;
}

/// Scenario (see the module docs).
pub async fn shutdown_delivers_a_split_writers_queue_then_1001<R: Rt>() {
    shutdown_after_queued::<R>(true).await;
}

/// Scenario (see the module docs).
pub async fn a_peer_that_never_answers_the_close_is_forced_at_the_deadline<R: Rt>() {
    let shutdown = R::shutdown_handle();
    let options = ServerOptions {
        shutdown: Some(shutdown.clone()),
        ..ServerOptions::default()
    };
    let (url, serve) = echo_serve::<R>(options).await;
    let serving = R::spawn(serve);
    // A raw client answers nothing by itself, and is not polled until the
    // deadline has passed.
    let (mut silent, _) = connect_config::<R>(&url, Config::default().with_mode(Mode::Raw))
        .await
        .unwrap();
    let (mut polite, _) = connect::<R>(&url).await.unwrap();
    round_trip(&mut polite, "hello").await;
    assert_eq!(shutdown.live(), 2);

    let deadline = Duration::from_millis(300);
    let shutting = R::spawn({
        let shutdown = shutdown.clone();
        async move { shutdown.shutdown(deadline).await }
    });
    // The polite client answers the Close at once.
    match polite.next().await {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::GOING_AWAY),
        other => panic!("expected Close 1001, got {other:?}"),
    }
    assert!(polite.next().await.is_none());
    let report: ShutdownReport = shutting.await;
    assert_eq!(
        (report.sessions, report.closed, report.ended, report.forced),
        (2, 1, 0, 1),
        "{report:?}"
    );
    assert!(report.elapsed >= deadline, "{report:?}");
    // The loop stopped when the shutdown began: nothing listens any more.
    serving.await.unwrap();
    assert!(matches!(
        connect::<R>(&url).await.unwrap_err(),
        ConnectError::Dial(_)
    ));
    // The silent client got the Close, then the connection was dropped.
    let frame = silent.recv_frame().await.unwrap();
    assert_eq!(frame.opcode, ws_session::OpCode::Close);
    assert_eq!(frame.payload[..2], 1001u16.to_be_bytes());
    assert!(silent.recv_frame().await.is_err());
}

/// Scenario (see the module docs).
pub async fn an_upgrade_during_a_shutdown_is_answered_503<R: Rt>() {
    let shutdown = R::shutdown_handle();
    let report = shutdown.shutdown(Duration::from_secs(1)).await;
    assert_eq!((report.sessions, report.forced), (0, 0), "{report:?}");
    assert!(shutdown.register().is_none());
    // An acceptor given the handle refuses with 503, on any accept path.
    let (listener, url) = R::listen().await;
    let server = R::spawn(async move {
        let tcp = R::accept_tcp(&listener).await;
        let options = ServerOptions {
            shutdown: Some(shutdown),
            ..ServerOptions::default()
        };
        R::accept(tcp, options, |_| ws_session::Decision::accept())
            .await
            .unwrap_err()
    });
    let err = connect::<R>(&url).await.unwrap_err();
    assert_eq!(
        err.rejection().unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert!(matches!(
        server.await,
        ws_session::HandshakeError::Rejected(StatusCode::SERVICE_UNAVAILABLE)
    ));
}
