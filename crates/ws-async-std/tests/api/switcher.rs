//! Code written the way async-tungstenite users write it on async-std
//! and smol, compiled and run against ws-async-std. Only the `use` lines
//! differ from an async-tungstenite program: `connect_async` and
//! `accept_async` are imported under those names, `Message` from
//! `ws_async_std`.

use futures_util::{AsyncRead, AsyncWrite, SinkExt, StreamExt, stream};
use ws_async_std::{Message, accept as accept_async, connect as connect_async};

use crate::within;

/// An echo handler: text and binary back, everything else dropped.
async fn echo<S: AsyncRead + AsyncWrite + Unpin>(stream: S) {
    let mut ws = accept_async(stream).await.expect("handshake");
    while let Some(Ok(msg)) = ws.next().await {
        if msg.is_text() || msg.is_binary() {
            ws.send(msg).await.expect("echo");
        }
    }
}

/// The client: `send_all` of a stream of messages, the replies read with
/// `next`, `close(None)`, and the Close seen before the end.
async fn client(url: &str) {
    let (mut ws, response) = connect_async(url).await.expect("Failed to connect");
    assert_eq!(response.status(), 101);
    let mut outgoing = stream::iter([
        Ok(Message::text("one")),
        Ok(Message::binary(vec![2, 2])),
        Ok(Message::Ping(b"three".to_vec().into())),
    ]);
    ws.send_all(&mut outgoing).await.unwrap();
    let mut replies = Vec::new();
    while replies.len() < 3 {
        replies.push(ws.next().await.unwrap().unwrap());
    }
    assert!(replies.contains(&Message::text("one")));
    assert!(replies.contains(&Message::binary(vec![2, 2])));
    assert!(replies.contains(&Message::Pong(b"three".to_vec().into())));
    ws.close(None).await.unwrap();
    assert!(ws.next().await.unwrap().unwrap().is_close());
    assert!(ws.next().await.is_none());
}

#[test]
fn stream_and_sink_on_async_std() {
    async_std::task::block_on(within(20, async {
        let listener = async_std::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        let url = format!("ws://{}/", listener.local_addr().unwrap());
        async_std::task::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                async_std::task::spawn(echo(stream));
            }
        });
        client(&url).await;
    }));
}

#[test]
fn stream_and_sink_on_smol() {
    smol::block_on(within(20, async {
        let listener = smol::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/", listener.local_addr().unwrap());
        smol::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                smol::spawn(echo(stream)).detach();
            }
        })
        .detach();
        client(&url).await;
    }));
}
