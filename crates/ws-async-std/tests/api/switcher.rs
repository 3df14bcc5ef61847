//! Code written the way async-tungstenite users write it on async-std
//! (and, the same, on smol), compiled and run against ws-async-std. Only
//! the `use` lines differ from an async-tungstenite program:
//! `connect_async` and `accept_async` are imported under those names,
//! `Message` from `ws_async_std`.

use async_std::net::{TcpListener, TcpStream};
use futures_util::{SinkExt, StreamExt, TryStreamExt, future};
use ws_async_std::{Message, accept as accept_async, connect as connect_async};

use crate::within;

/// The echo server of async-tungstenite's examples.
async fn accept_connection(stream: TcpStream) {
    let ws_stream = accept_async(stream)
        .await
        .expect("Error during the websocket handshake occurred");
    let (write, read) = ws_stream.split();
    read.try_filter(|msg| future::ready(msg.is_text() || msg.is_binary()))
        .forward(write)
        .await
        .expect("Failed to forward messages");
}

async fn echo_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("Failed to bind");
    let addr = listener.local_addr().unwrap();
    async_std::task::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            async_std::task::spawn(accept_connection(stream));
        }
    });
    format!("ws://{addr}/")
}

/// The client side: split, send, next, a ping, a close.
async fn client(url: &str) {
    let (ws_stream, response) = connect_async(url).await.expect("Failed to connect");
    assert_eq!(response.status(), 101);
    let (mut write, mut read) = ws_stream.split();
    write.send(Message::Text("hello".into())).await.unwrap();
    write
        .send(Message::Binary(vec![1, 2].into()))
        .await
        .unwrap();
    write.send(Message::Ping(vec![9].into())).await.unwrap();
    let mut echoes = Vec::new();
    let mut pong = None;
    while echoes.len() < 2 || pong.is_none() {
        match read.next().await.unwrap().unwrap() {
            Message::Pong(payload) => pong = Some(payload),
            other => echoes.push(other),
        }
    }
    assert_eq!(
        echoes,
        [Message::text("hello"), Message::binary(vec![1, 2])]
    );
    assert_eq!(pong.unwrap(), vec![9]);
    write.send(Message::Close(None)).await.unwrap();
    let mut saw_close = false;
    while let Some(message) = read.next().await {
        saw_close |= message.unwrap().is_close();
    }
    assert!(saw_close, "the server's Close is in the stream");
}

#[test]
fn split_send_and_next_on_async_std() {
    async_std::task::block_on(within(20, async {
        let url = echo_server().await;
        client(&url).await;
    }));
}

#[test]
fn split_send_and_next_on_smol() {
    smol::block_on(within(20, async {
        let listener = smol::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/", listener.local_addr().unwrap());
        smol::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                smol::spawn(async move {
                    let mut ws = accept_async(stream).await.unwrap();
                    while let Some(Ok(msg)) = ws.next().await {
                        if msg.is_text() || msg.is_binary() {
                            ws.send(msg).await.unwrap();
                        }
                    }
                })
                .detach();
            }
        })
        .detach();
        client(&url).await;
    }));
}
