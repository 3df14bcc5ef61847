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
