//! `serve` on async-std's and smol's executors: sessions handed to the
//! handler, with `TCP_NODELAY` and keepalive on the accepted sockets and
//! on the connected ones.

use futures_util::StreamExt as _;
use ws_async_std::{Acceptor, AsyncIoRuntime, Message, TcpListener, TcpStream};

use crate::within;

fn options_of(ws: &ws_async_std::WebSocket<TcpStream>) -> (bool, bool) {
    let socket = socket2::SockRef::from(ws.get_ref().get_ref());
    (socket.tcp_nodelay().unwrap(), socket.keepalive().unwrap())
}

async fn echo_and_check(runtime: AsyncIoRuntime) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let (seen_tx, seen_rx) = smol::channel::bounded(1);
    let serving = ws_async_std::serve(
        listener,
        Acceptor::new().runtime(runtime),
        move |mut ws, _| {
            let _ = seen_tx.try_send(options_of(&ws));
            async move {
                while let Some(Ok(message)) = ws.next().await {
                    if message.is_text() && ws.send_message(message).await.is_err() {
                        break;
                    }
                }
            }
        },
    );
    let client = async {
        let (mut ws, _) = ws_async_std::connect(&url).await.unwrap();
        assert_eq!(options_of(&ws), (true, true), "the connected socket");
        ws.send_text("served").await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), Message::text("served"));
        ws.close(None).await.unwrap();
        assert_eq!(
            seen_rx.recv().await.unwrap(),
            (true, true),
            "the accepted socket"
        );
    };
    futures_lite::future::or(async { serving.await.unwrap() }, client).await;
}

#[test]
fn serve_on_async_std() {
    async_std::task::block_on(within(
        20,
        echo_and_check(AsyncIoRuntime::with_spawner(|task| {
            async_std::task::spawn(task);
        })),
    ));
}

#[test]
fn serve_on_smol() {
    smol::block_on(within(20, echo_and_check(AsyncIoRuntime::new())));
}

/// A server session that closes while its handler still holds it: the
/// client sees the end of the stream at once (async-net's `poll_close`
/// shuts the write side down), not when the server lets go of the session
/// or the client's close timeout expires.
#[test]
fn a_closed_session_ends_the_clients_stream_while_the_server_holds_it() {
    async_std::task::block_on(within(20, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/", listener.local_addr().unwrap());
        let runtime = AsyncIoRuntime::with_spawner(|task| {
            async_std::task::spawn(task);
        });
        let serving = ws_async_std::serve(
            listener,
            Acceptor::new().runtime(runtime),
            |mut ws, _| async move {
                ws.close(None).await.unwrap();
                // Held, not dropped: only the half-close can end the client's
                // stream now.
                std::future::pending::<()>().await;
                drop(ws);
            },
        );
        let client = async {
            let config = ws_async_std::Config::default()
                .with_close_timeout(std::time::Duration::from_secs(60));
            let (mut ws, _) = ws_async_std::Connector::new()
                .config(config)
                .connect(&url)
                .await
                .unwrap();
            let end = ws.recv().await.unwrap_err();
            assert!(end.is_clean_close(), "{end:?}");
        };
        futures_lite::future::or(async { serving.await.unwrap() }, client).await;
    }));
}
